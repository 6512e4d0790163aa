/*
 * token: comparing a presented bearer token with the configured one
 * without telling, through timing, how much of it was right.
 */
#ifndef VIGIL_TOKEN_H
#define VIGIL_TOKEN_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Whether given (glen bytes, from the client) equals want (wlen bytes, the
 * secret). The work depends on glen only: no branch and no memory address
 * depends on want's bytes (tests/unit/check_token.c checks that under
 * valgrind). An empty want never matches.
 */
bool token_equal(const char *given, size_t glen, const char *want,
    size_t wlen);

#endif
