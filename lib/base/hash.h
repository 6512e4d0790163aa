/*
 * hash: FNV-1a 64, vigil's one hash: hash tables (the metric store, the
 * JSON reader's key index), noticing that a secret changed without
 * keeping it, and a rule's identity in the state file.
 *
 * PERSISTED: the state file saves hash64_str() of each rule's canonical
 * form, and a restart compares it with the live config's. These values
 * may therefore never change: a different hash makes every rule of every
 * upgraded host forget its state. tests/unit/check_hash.c pins them.
 */
#ifndef VIGIL_HASH_H
#define VIGIL_HASH_H

#include <stddef.h>
#include <stdint.h>

/* FNV-1a 64's offset basis: hash64 starts here. */
#define HASH64_BASIS 0xcbf29ce484222325ULL

/* FNV-1a 64 of n bytes at p ("" -> 0xcbf29ce484222325). */
uint64_t hash64(const void *p, size_t n);
/* The same of a C string; NULL hashes as "". */
uint64_t hash64_str(const char *s);
/*
 * FNV-1a from another starting value: to mix something in first (the
 * JSON index's parent node), or to reproduce a value saved with another
 * basis. hash64(p, n) == hash64_seeded(HASH64_BASIS, p, n).
 */
uint64_t hash64_seeded(uint64_t seed, const void *p, size_t n);

#endif
