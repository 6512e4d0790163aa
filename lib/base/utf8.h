/*
 * utf8: making text from the outside safe to carry in vigild's answers.
 *
 * A probe's reason quotes what a target sent ("/status" is "..."), and
 * truncating a formatted message can cut a character in two. cJSON prints
 * bytes as they are, so one stray byte would make /status, /health and
 * the state file invalid JSON for every reader.
 */
#ifndef VIGIL_UTF8_H
#define VIGIL_UTF8_H

#include <stddef.h>

/*
 * Replaces, in place, every byte of s that does not belong to a
 * well-formed UTF-8 sequence (RFC 3629: no overlong forms, no surrogates,
 * nothing past U+10FFFF) with '?'. The length never changes. Returns the
 * number of bytes replaced.
 */
size_t utf8_scrub(char *s);

#endif
