/*
 * assert: VIGIL_ASSERT(cond) states an invariant the code relies on (a
 * heap index in range, a legal state, a buffer's length within its
 * capacity), where it would otherwise be trusted silently.
 *
 * In developer, sanitizer and fuzzing builds (the Makefile defines
 * VIGIL_CHECKED for DEVELOPER=1, SANITIZE=... and FUZZ=1) a false one
 * prints the condition and where it failed, then aborts, so a test that
 * breaks it fails at the cause. In the package build it compiles to
 * nothing: a monitor that keeps watching after a bookkeeping slip serves
 * its users better than one that dies at 3 a.m. The condition is still
 * compiled, so it cannot rot, but never evaluated: it must have no side
 * effects.
 */
#ifndef VIGIL_ASSERT_H
#define VIGIL_ASSERT_H

#ifdef VIGIL_CHECKED
_Noreturn void vigil_assert_fail(const char *cond, const char *file,
    int line, const char *func);
#define VIGIL_ASSERT(c) \
	((c) ? (void)0 : vigil_assert_fail(#c, __FILE__, __LINE__, __func__))
#else
#define VIGIL_ASSERT(c) ((void)sizeof(!(c)))
#endif

#endif
