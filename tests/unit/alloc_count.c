/*
 * The linker's --wrap=malloc makes every call to malloc in check-unit's
 * objects a call to __wrap_malloc, and __real_malloc the libc (or ASan)
 * one. A realloc counts as a block, as it may move the old one; a
 * realloc that frees (size 0) or a free does not.
 */
#include "alloc_count.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
char *__real_strdup(const char *s);
char *__real_strndup(const char *s, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t n);
char *__wrap_strdup(const char *s);
char *__wrap_strndup(const char *s, size_t n);

static _Thread_local bool counting;
static _Thread_local size_t blocks;

static void
note(void)
{
	if (counting)
		blocks++;
}

void *
__wrap_malloc(size_t n)
{
	note();
	return __real_malloc(n);
}

void *
__wrap_calloc(size_t n, size_t size)
{
	note();
	return __real_calloc(n, size);
}

void *
__wrap_realloc(void *p, size_t n)
{
	if (n > 0)
		note();
	return __real_realloc(p, n);
}

char *
__wrap_strdup(const char *s)
{
	note();
	return __real_strdup(s);
}

char *
__wrap_strndup(const char *s, size_t n)
{
	note();
	return __real_strndup(s, n);
}

void
alloc_count_begin(void)
{
	blocks = 0;
	counting = true;
}

size_t
alloc_count_now(void)
{
	return blocks;
}

size_t
alloc_count_end(void)
{
	counting = false;
	return blocks;
}

static void *
json_malloc(size_t n)
{
	return malloc(n);
}

static void
json_free(void *p)
{
	free(p);
}

void
alloc_count_cjson(bool on)
{
	cJSON_Hooks hooks = { json_malloc, json_free };

	cJSON_InitHooks(on ? &hooks : NULL);
}
