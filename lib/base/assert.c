#include "base/assert.h"

#include <stdio.h>
#include <stdlib.h>

/*
 * Defined in every build, checked or not: a build directory may hold
 * objects of both kinds (make demo, then make check), and they must link.
 */
_Noreturn void vigil_assert_fail(const char *cond, const char *file,
    int line, const char *func);

_Noreturn void
vigil_assert_fail(const char *cond, const char *file, int line,
    const char *func)
{
	/* stderr is vigild's log; one line, as the log's format wants. */
	fprintf(stderr, "vigil: invariant broken: %s (%s:%d, %s)\n", cond,
	    file, line, func);
	fflush(stderr);
	abort();
}
