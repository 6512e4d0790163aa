/*
 * jsonw: a JSON writer that streams a document straight into an sbuf.
 * For the large answers (/status at thousands of probes), where building a
 * cJSON tree and printing it cost a malloc per node and a printf and an
 * sscanf per number. Keys and values are written in call order; the writer
 * tracks commas, escapes strings and prints numbers as cJSON does
 * (integers plainly, others in %.15g unless that reads back further than
 * an epsilon, then %.17g; NaN and infinities as null), so that a value
 * reads the same here as in the answers cJSON prints.
 * Nesting past JSONW_DEPTH, or the sbuf's ceiling, fails the sbuf.
 */
#ifndef VIGIL_JSONW_H
#define VIGIL_JSONW_H

#include <stdbool.h>
#include <stdint.h>

#include "base/sbuf.h"

#define JSONW_DEPTH 32

struct cJSON;

struct jsonw {
	struct sbuf *b;
	unsigned depth;
	bool more[JSONW_DEPTH + 1];	/* an item already written at depth */
	char close[JSONW_DEPTH + 1];	/* what ends the container at depth */
};

void jsonw_init(struct jsonw *w, struct sbuf *b);
/* key is NULL inside arrays and at the top level. */
void jsonw_obj(struct jsonw *w, const char *key);
void jsonw_arr(struct jsonw *w, const char *key);
void jsonw_end(struct jsonw *w);	/* closes the innermost object/array */
void jsonw_str(struct jsonw *w, const char *key, const char *s);
void jsonw_num(struct jsonw *w, const char *key, double v);
void jsonw_int(struct jsonw *w, const char *key, int64_t v);
void jsonw_bool(struct jsonw *w, const char *key, bool v);
void jsonw_null(struct jsonw *w, const char *key);
/* A time in milliseconds since the epoch, as clock_iso() writes it. */
void jsonw_time(struct jsonw *w, const char *key, int64_t ms);
/* A subtree built elsewhere with cJSON (NULL writes null). */
void jsonw_tree(struct jsonw *w, const char *key, const struct cJSON *t);

/*
 * o printed compactly (malloc'd) and freed: the one way a cJSON document
 * becomes the text of an answer or a body. NULL for NULL or out of memory.
 */
char *jsonw_take(struct cJSON *o);

#endif
