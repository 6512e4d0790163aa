#include "engine/rules.h"

#include <stdio.h>
#include <string.h>

#include "base/assert.h"

const char *
rule_state_name(enum rule_state s)
{
	switch (s) {
	case RULE_OK:
		return "ok";
	case RULE_PENDING:
		return "pending";
	case RULE_FIRING:
		return "firing";
	case RULE_RESOLVED:
		return "resolved";
	case RULE_UNKNOWN:
		return "unknown";
	}
	return "?";
}

void
rule_status_init(struct rule_status *st)
{
	memset(st, 0, sizeof(*st));
	/* Nothing is known before the first evaluation: never a silent ok. */
	st->state = RULE_UNKNOWN;
	snprintf(st->why, sizeof(st->why), "not evaluated yet");
}

bool
rule_crosses(enum rule_op op, double v, double t)
{
	switch (op) {
	case RULE_GT:
		return v > t;
	case RULE_GE:
		return v >= t;
	case RULE_LT:
		return v < t;
	case RULE_LE:
		return v <= t;
	}
	return false;
}

/* Strictly past the clear threshold, on the good side. */
static bool
past_clear(enum rule_op op, double v, double clear)
{
	return (op == RULE_GT || op == RULE_GE) ? v < clear : v > clear;
}

/*
 * Whether a level holds for value v. active says the rule is firing at
 * this level already: then it holds until the value passes the clear
 * threshold (hysteresis). *thr gets the threshold that decided.
 */
static bool
level_holds(enum rule_op op, const struct rule_level *l,
    const struct rule_input *in, bool active, double *thr)
{
	bool holds = false;

	if (l->set) {
		if (active && l->has_clear)
			holds = !past_clear(op, in->value, l->clear);
		else
			holds = rule_crosses(op, in->value, l->threshold);
		if (holds)
			*thr = l->threshold;
	}
	if (!holds && l->base_factor > 0 && in->has_baseline) {
		double t = l->base_factor * in->baseline;

		holds = rule_crosses(op, in->value, t);
		if (holds)
			*thr = t;
	}
	return holds;
}

/* The threshold shown when nothing is crossed: the warning one first. */
static double
nearest_threshold(const struct rule_def *d, const struct rule_input *in)
{
	const struct rule_level *l = d->warn.set || d->warn.base_factor > 0 ?
	    &d->warn : &d->crit;

	if (l->set)
		return l->threshold;
	if (l->base_factor > 0 && in->has_baseline)
		return l->base_factor * in->baseline;
	return 0;
}

static void
add_history(struct rule_status *st, int64_t now, enum rule_state from)
{
	struct rule_transition *tr;

	VIGIL_ASSERT(st->hist_head < RULE_HISTORY && st->nhist <= RULE_HISTORY);
	tr = &st->hist[st->hist_head];

	tr->t = now;
	tr->from = from;
	tr->to = st->state;
	tr->sev = st->sev;
	st->hist_head = (st->hist_head + 1) % RULE_HISTORY;
	if (st->nhist < RULE_HISTORY)
		st->nhist++;
}

bool
rule_history(const struct rule_status *st, unsigned i,
    struct rule_transition *out)
{
	if (i >= st->nhist)
		return false;
	*out = st->hist[(st->hist_head + RULE_HISTORY - 1 - i) % RULE_HISTORY];
	return true;
}

/* Flips (into firing, out of firing) within the window. */
static unsigned
count_flips(const struct rule_status *st, int64_t now, int64_t window)
{
	unsigned n = 0;

	for (unsigned i = 0; i < st->nflips; i++)
		if (now - st->flips[i] < window)
			n++;
	return n;
}

static void
add_flip(struct rule_status *st, int64_t now)
{
	VIGIL_ASSERT(st->flip_head < RULE_FLAP_SLOTS &&
	    st->nflips <= RULE_FLAP_SLOTS);
	st->flips[st->flip_head] = now;
	st->flip_head = (st->flip_head + 1) % RULE_FLAP_SLOTS;
	if (st->nflips < RULE_FLAP_SLOTS)
		st->nflips++;
}

static void
set_state(struct rule_status *st, enum rule_state to, enum rule_sev sev,
    int64_t now)
{
	enum rule_state from = st->state;

	/* Firing and pending always say how bad; nothing else does. */
	VIGIL_ASSERT(to >= RULE_OK && to <= RULE_UNKNOWN);
	VIGIL_ASSERT((to == RULE_FIRING || to == RULE_PENDING) ==
	    (sev != SEV_NONE) || to == RULE_UNKNOWN || to == RULE_RESOLVED);
	if (from == to && st->sev == sev)
		return;
	if (from != to)
		st->since = now;
	st->state = to;
	st->sev = sev;
	add_history(st, now, from);
	if ((to == RULE_FIRING) != (from == RULE_FIRING))
		add_flip(st, now);
}

int
rules_eval(const struct rule_def *d, struct rule_status *st,
    const struct rule_input *in, int64_t now, struct rule_event *ev)
{
	enum rule_state from = st->state;
	enum rule_sev sev_from = st->sev, cond = SEV_NONE;
	bool was_flapping = st->flapping, initial = st->evaluated == 0;
	int nev = 0;

	if (st->evaluated == 0)
		st->since = now;
	st->evaluated = now;
	st->known = in->known;
	st->quiet = !in->known && in->quiet;
	st->suppressed = in->suppressed_by != NULL;
	snprintf(st->suppressed_by, sizeof(st->suppressed_by), "%s",
	    in->suppressed_by != NULL ? in->suppressed_by : "");
	if (!in->known) {
		snprintf(st->why, sizeof(st->why), "%s",
		    in->why != NULL ? in->why : "no value");
		if (st->state == RULE_FIRING)
			st->fired_sev = st->sev;
		/* The condition cannot be said to hold without a value. */
		st->cond_since = 0;
		st->clear_since = 0;
		set_state(st, RULE_UNKNOWN, SEV_NONE, now);
	} else {
		bool firing = st->state == RULE_FIRING;
		enum rule_sev held = firing ? st->sev :
		    st->state == RULE_UNKNOWN ? st->fired_sev : SEV_NONE;
		double thr = 0;

		st->why[0] = '\0';
		st->value = in->value;
		if (level_holds(d->op, &d->crit, in, held == SEV_CRITICAL, &thr))
			cond = SEV_CRITICAL;
		else if (level_holds(d->op, &d->warn, in,
		    held >= SEV_WARNING, &thr))
			cond = SEV_WARNING;
		st->threshold = cond != SEV_NONE ? thr :
		    nearest_threshold(d, in);
		if (cond != SEV_NONE) {
			st->clear_since = 0;
			if (st->cond_since == 0)
				st->cond_since = now;
			if (firing) {
				set_state(st, RULE_FIRING, cond, now);
			} else if (st->state == RULE_UNKNOWN &&
			    st->fired_sev != SEV_NONE) {
				/* Was firing before the gap: resume. */
				set_state(st, RULE_FIRING, cond, now);
			} else if (now - st->cond_since >= d->for_ms) {
				set_state(st, RULE_FIRING, cond, now);
			} else {
				set_state(st, RULE_PENDING, cond, now);
			}
		} else {
			st->cond_since = 0;
			if (firing && d->keep_firing_ms > 0) {
				if (st->clear_since == 0)
					st->clear_since = now;
				if (now - st->clear_since >= d->keep_firing_ms)
					set_state(st, RULE_RESOLVED, SEV_NONE,
					    now);
			} else if (firing) {
				set_state(st, RULE_RESOLVED, SEV_NONE, now);
			} else if (st->state == RULE_UNKNOWN) {
				set_state(st, st->fired_sev != SEV_NONE ?
				    RULE_RESOLVED : RULE_OK, SEV_NONE, now);
			} else if (st->state == RULE_PENDING) {
				set_state(st, RULE_OK, SEV_NONE, now);
			} else if (st->state == RULE_RESOLVED &&
			    now - st->since >= d->resolved_ms) {
				set_state(st, RULE_OK, SEV_NONE, now);
			}
		}
		if (st->state != RULE_UNKNOWN)
			st->fired_sev = SEV_NONE;
	}
	if (st->state != from || st->sev != sev_from) {
		ev[nev++] = (struct rule_event){
			.kind = RULE_EV_TRANSITION, .from = from,
			.to = st->state, .sev_from = sev_from,
			.sev_to = st->sev, .initial = initial,
		};
	}
	if (d->flap_max > 0) {
		unsigned flips = count_flips(st, now, d->flap_window_ms);

		/* Ends at half the count, so it does not flap itself. */
		if (!st->flapping && flips >= d->flap_max)
			st->flapping = true;
		else if (st->flapping && flips <= d->flap_max / 2)
			st->flapping = false;
	}
	if (st->flapping != was_flapping) {
		ev[nev++] = (struct rule_event){
			.kind = st->flapping ? RULE_EV_FLAP_START :
			    RULE_EV_FLAP_END,
			.from = from, .to = st->state, .sev_from = sev_from,
			.sev_to = st->sev,
		};
	}
	for (int i = 0; i < nev; i++) {
		ev[i].suppressed = st->suppressed;
		ev[i].flapping = st->flapping || was_flapping;
	}
	/* The flap-end event itself is the announcement: never damped. */
	for (int i = 0; i < nev; i++)
		if (ev[i].kind == RULE_EV_FLAP_END)
			ev[i].flapping = false;
	return nev;
}

void
rules_set_suppressed(struct rule_status *st, const char *by,
    struct rule_event *ev, int nev)
{
	st->suppressed = by != NULL;
	snprintf(st->suppressed_by, sizeof(st->suppressed_by), "%s",
	    by != NULL ? by : "");
	for (int i = 0; i < nev; i++)
		ev[i].suppressed = st->suppressed;
}
