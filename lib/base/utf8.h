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

/*
 * Length of the well-formed UTF-8 sequence at s, with avail bytes left
 * (SIZE_MAX for a NUL-terminated string), or 0 if none starts there.
 */
size_t utf8_seq_len(const char *s, size_t avail);

/*
 * Copies inlen bytes of in to out (outlen bytes, NUL-terminated) with
 * every byte that could steer a terminal or split a log line shown as
 * "\xNN": C0 controls (newline, ESC, BEL...), DEL, C1 controls (U+0080
 * to U+009F, CSI among them) and bytes outside well-formed UTF-8. Text a
 * stranger wrote reaches a terminal or the journal only through here.
 * Truncates at a whole character or escape. Returns the length written.
 */
size_t utf8_escape_controls(const char *in, size_t inlen, char *out,
    size_t outlen);

/*
 * Whether s is text a client may hand vigild to be shown to people (a
 * silence's comment, a deploy's version): at most max bytes, well-formed
 * UTF-8, and no C0 or C1 control or DEL, so it stays one line and steers
 * no terminal. The API refuses what fails, naming the field.
 */
enum utf8_line {
	UTF8_LINE_OK,
	UTF8_LINE_LONG,		/* over max bytes */
	UTF8_LINE_INVALID,	/* not well-formed UTF-8 */
	UTF8_LINE_CONTROL,	/* a control character */
};
enum utf8_line utf8_check_line(const char *s, size_t max);

#endif
