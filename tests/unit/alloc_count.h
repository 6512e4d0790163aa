/*
 * Counting the heap blocks vigil's own code asks for, in the unit build:
 * check-unit is linked with -Wl,--wrap for malloc, calloc, realloc,
 * strdup and strndup (Makefile), so every such call compiled into
 * check-unit -- libvigil and the tests -- passes here first. Calls made
 * inside shared libraries (libcurl, libevent, libc itself) are not
 * rewritten by the linker and are not counted: the count is vigil's.
 *
 * Only the thread that began counting counts, so a helper thread (the
 * history writer, curl's resolver) cannot make a test flaky. The wrappers
 * pass every call on unchanged, so ASan and UBSan still see them all.
 */
#ifndef VIGIL_ALLOC_COUNT_H
#define VIGIL_ALLOC_COUNT_H

#include <stdbool.h>
#include <stddef.h>

/* Starts counting on this thread, from 0. */
void alloc_count_begin(void);
/* Blocks allocated on this thread since alloc_count_begin (not stopped). */
size_t alloc_count_now(void);
/* Stops counting; returns the blocks allocated since alloc_count_begin. */
size_t alloc_count_end(void);
/*
 * cJSON, a shared library, allocates with libc's own malloc, not counted;
 * on: its blocks go through malloc here and are counted too; off: back
 * to its default.
 */
void alloc_count_cjson(bool on);

#endif
