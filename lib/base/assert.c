#include "base/assert.h"

#include <stdio.h>
#include <stdlib.h>

#ifdef VIGIL_CHECKED
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
#else
/* ISO C wants a translation unit to declare something. */
typedef int vigil_assert_unused;
#endif
