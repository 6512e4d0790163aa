#include "engine/silence.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/hash.h"
#include "config/config.h"
#include "base/utf8.h"

/* A silence by rule name: its rule's hash and its place in v. */
struct named {
	uint64_t h;
	size_t i;
};

struct silences {
	struct silence *v;
	size_t n, alloc;
	uint64_t next_id;
	/*
	 * An index for matching, rebuilt at every change: the silences of a
	 * rule name sorted by (hash, place), and the places of those that
	 * match by labels. A rule then looks at its own silences and the
	 * label ones, not at all S of them: R x S was a million checks per
	 * rendering of /alerts, /silences, /status and /metrics at a
	 * thousand of each. indexed false (out of memory): the plain scan.
	 */
	struct named *named;
	size_t nnamed;
	size_t *bylabel;
	size_t nbylabel;
	bool indexed;
};

struct silences *
silences_new(void)
{
	struct silences *s = calloc(1, sizeof(*s));

	if (s != NULL)
		s->next_id = 1;
	return s;
}

void
silences_free(struct silences *s)
{
	if (s == NULL)
		return;
	free(s->v);
	free(s->named);
	free(s->bylabel);
	free(s);
}

static int
named_cmp(const void *a, const void *b)
{
	const struct named *x = a, *y = b;

	if (x->h != y->h)
		return x->h < y->h ? -1 : 1;
	return x->i < y->i ? -1 : x->i > y->i;
}

static void
reindex(struct silences *s)
{
	free(s->named);
	free(s->bylabel);
	s->named = calloc(s->n > 0 ? s->n : 1, sizeof(*s->named));
	s->bylabel = calloc(s->n > 0 ? s->n : 1, sizeof(*s->bylabel));
	s->nnamed = s->nbylabel = 0;
	s->indexed = s->named != NULL && s->bylabel != NULL;
	if (!s->indexed)
		return;
	for (size_t i = 0; i < s->n; i++) {
		if (s->v[i].rule[0] != '\0') {
			s->named[s->nnamed].h = s->v[i].rule_hash;
			s->named[s->nnamed++].i = i;
		} else {
			s->bylabel[s->nbylabel++] = i;
		}
	}
	qsort(s->named, s->nnamed, sizeof(*s->named), named_cmp);
}

static int
push(struct silences *s, const struct silence *in)
{
	if (s->n == s->alloc) {
		size_t n = s->alloc == 0 ? 8 : s->alloc * 2;
		struct silence *v = realloc(s->v, n * sizeof(*v));

		if (v == NULL)
			return -1;
		s->v = v;
		s->alloc = n;
	}
	s->v[s->n] = *in;
	s->v[s->n++].rule_hash = hash64_str(in->rule);
	reindex(s);
	return 0;
}

/* One line of UTF-8 a person may be shown (base/utf8.h). */
static bool
good_text(const char *s, size_t max)
{
	return utf8_check_line(s, max) == UTF8_LINE_OK;
}

/*
 * What every silence must be, made here or read back from the state
 * file (which anyone who can write state_dir could have edited): a target,
 * who and why, an end within SILENCE_MAX_MS of now, text that is one line.
 */
static int
check(const struct silence *x, int64_t now, const char **why)
{
	if (x->rule[0] == '\0' && x->nmatchers == 0) {
		*why = "a silence needs a rule name or label matchers";
		return -1;
	}
	if (x->nmatchers > SILENCE_MAX_MATCHERS) {
		*why = "too many matchers (at most 8)";
		return -1;
	}
	if (x->author[0] == '\0' || x->comment[0] == '\0') {
		*why = "a silence needs an author and a comment: whoever "
		    "finds it later must know who and why";
		return -1;
	}
	if (x->expires <= now) {
		*why = "the expiry must be in the future";
		return -1;
	}
	if (x->expires - now > SILENCE_MAX_MS) {
		*why = "a silence may last at most 30 days";
		return -1;
	}
	if (!good_text(x->rule, sizeof(x->rule) - 1) ||
	    !good_text(x->author, sizeof(x->author) - 1) ||
	    !good_text(x->comment, sizeof(x->comment) - 1)) {
		*why = "a text field is not one line of UTF-8";
		return -1;
	}
	for (size_t m = 0; m < x->nmatchers; m++) {
		if (!good_text(x->matchers[m].key,
		    sizeof(x->matchers[m].key) - 1) ||
		    !good_text(x->matchers[m].value,
		    sizeof(x->matchers[m].value) - 1)) {
			*why = "a matcher is not one line of UTF-8";
			return -1;
		}
	}
	return 0;
}

int
silences_add(struct silences *s, const struct silence *in, int64_t now,
    uint64_t *id, const char **why)
{
	struct silence x = *in;

	if (check(&x, now, why) != 0)
		return -1;
	silences_prune(s, now);
	if (s->n >= SILENCE_MAX_COUNT) {
		*why = "too many active silences (at most 1000)";
		return -1;
	}
	x.id = s->next_id;
	x.created = now;
	if (push(s, &x) != 0) {
		*why = "out of memory";
		return -1;
	}
	s->next_id++;
	*id = x.id;
	return 0;
}

int
silences_restore(struct silences *s, const struct silence *in, int64_t now,
    const char **why)
{
	if (check(in, now, why) != 0)
		return -1;
	if (s->n >= SILENCE_MAX_COUNT) {
		*why = "too many active silences (at most 1000)";
		return -1;
	}
	for (size_t i = 0; i < s->n; i++) {
		if (s->v[i].id == in->id) {
			*why = "an id already restored";
			return -1;
		}
	}
	if (push(s, in) != 0) {
		*why = "out of memory";
		return -1;
	}
	if (in->id >= s->next_id)
		s->next_id = in->id + 1;
	return 0;
}

bool
silences_expire(struct silences *s, uint64_t id)
{
	for (size_t i = 0; i < s->n; i++) {
		if (s->v[i].id == id) {
			memmove(&s->v[i], &s->v[i + 1],
			    (s->n - i - 1) * sizeof(*s->v));
			s->n--;
			reindex(s);
			return true;
		}
	}
	return false;
}

size_t
silences_prune(struct silences *s, int64_t now)
{
	size_t kept = 0, n = s->n;

	for (size_t i = 0; i < s->n; i++)
		if (s->v[i].expires > now)
			s->v[kept++] = s->v[i];
	s->n = kept;
	if (kept != n)
		reindex(s);
	return n - kept;
}

static bool
matches(const struct silence *x, const struct rule_cfg *rc, uint64_t h)
{
	if (x->rule[0] != '\0' && (x->rule_hash != h ||
	    strcmp(x->rule, rc->name) != 0))
		return false;
	for (size_t m = 0; m < x->nmatchers; m++) {
		bool found = false;

		for (size_t l = 0; l < rc->nlabels && !found; l++)
			found = strcmp(rc->labels[l].key,
			    x->matchers[m].key) == 0 &&
			    strcmp(rc->labels[l].value,
			    x->matchers[m].value) == 0;
		if (!found)
			return false;
	}
	return true;
}

const struct silence *
silences_match(const struct silences *s, const struct rule_cfg *rc,
    int64_t now)
{
	uint64_t h = hash64_str(rc->name);
	size_t lo = 0, hi, best = SIZE_MAX;

	if (!s->indexed) {
		for (size_t i = 0; i < s->n; i++)
			if (s->v[i].expires > now && matches(&s->v[i], rc, h))
				return &s->v[i];
		return NULL;
	}
	/* The first of this name's silences (by place) that holds... */
	hi = s->nnamed;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->named[mid].h < h)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < s->nnamed && s->named[lo].h == h; lo++) {
		const struct silence *x = &s->v[s->named[lo].i];

		if (x->expires > now && matches(x, rc, h)) {
			best = s->named[lo].i;
			break;
		}
	}
	/* ...or an earlier one by labels: the first in place wins. */
	for (size_t k = 0; k < s->nbylabel && s->bylabel[k] < best; k++) {
		const struct silence *x = &s->v[s->bylabel[k]];

		if (x->expires > now && matches(x, rc, h)) {
			best = s->bylabel[k];
			break;
		}
	}
	return best != SIZE_MAX ? &s->v[best] : NULL;
}

size_t
silences_count(const struct silences *s)
{
	return s->n;
}

const struct silence *
silences_at(const struct silences *s, size_t i)
{
	return i < s->n ? &s->v[i] : NULL;
}
