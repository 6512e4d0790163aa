#include "notify/decide.h"

#include <string.h>

int64_t
notify_flap_bound_ms(int64_t flap_window_ms, unsigned flips)
{
	/*
	 * The mean time between flips at the flapping threshold: quiet for
	 * that long, the rule is more likely settled than between flips.
	 */
	int64_t b = flips > 0 ? flap_window_ms / flips : flap_window_ms;

	return b < 1000 ? 1000 : b;
}

static void
told(struct notify_decision *d, enum notice_kind kind, bool firing,
    enum rule_sev sev, int64_t since)
{
	memset(d, 0, sizeof(*d));
	d->kind = kind;
	d->firing = firing;
	d->sev = sev;
	d->since = since;
}

/* Told firing, the rule out of it: the resolution, as told. */
static bool
resolve(struct notify_told *t, int64_t now, struct notify_decision *d)
{
	told(d, NOTICE_RESOLVED, false, t->sev, t->since);
	t->sev = SEV_NONE;
	t->last_sent = now;
	t->owed_since = 0;
	return true;
}

bool
notify_decide(const struct notify_policy *p, const struct notify_rule *r,
    struct notify_told *t, int64_t now, struct notify_decision *d)
{
	enum rule_sev want = SEV_NONE, had = t->sev;
	bool may_resolve;

	if (r->state == RULE_FIRING && !r->suppressed &&
	    ((r->sev == SEV_CRITICAL && p->critical) ||
	    (r->sev == SEV_WARNING && p->warning)))
		want = r->sev;
	/*
	 * A resolution is due when the rule resolved or fell below this
	 * notifier's severities; not while it cannot be judged (unknown) or
	 * a dependency holds it (suppressed).
	 */
	may_resolve = r->state == RULE_RESOLVED || r->state == RULE_OK ||
	    (r->state == RULE_FIRING && !r->suppressed);
	if (r->flapping) {
		t->flapping = true;
		if (r->silenced || had == SEV_NONE || want != SEV_NONE ||
		    !may_resolve) {
			t->owed_since = 0;
			return false;
		}
		/* Damped, but an owed resolution waits only so long. */
		if (t->owed_since == 0)
			t->owed_since = now;
		if (now - t->owed_since < p->flap_bound_ms)
			return false;
		return resolve(t, now, d);
	}
	if (r->silenced)
		return false;	/* a silenced alert sends nothing at all */
	if (t->flapping) {
		t->flapping = false;
		t->owed_since = 0;
		/* Settled: say so only when it is not what was told. */
		if (want != SEV_NONE && want != had) {
			told(d, NOTICE_FLAP_ENDED, true, want, r->since);
			t->sev = want;
			t->since = r->since;
			t->last_sent = now;
			return true;
		}
		if (want == SEV_NONE && had != SEV_NONE && may_resolve) {
			told(d, NOTICE_FLAP_ENDED, false, had, t->since);
			t->sev = SEV_NONE;
			t->last_sent = now;
			return true;
		}
		if (want == SEV_NONE)
			return false;
		/* Still firing as told: repeats go on as usual. */
	}
	if (want != SEV_NONE) {
		if (had == want && (p->repeat_ms == 0 ||
		    now - t->last_sent < p->repeat_ms))
			return false;
		if (had == SEV_NONE)
			t->since = r->since;
		told(d, had == SEV_NONE ? NOTICE_FIRING : had == want ?
		    NOTICE_REPEAT : want == SEV_CRITICAL ? NOTICE_ESCALATED :
		    NOTICE_DEESCALATED, true, want, t->since);
		t->sev = want;
		t->last_sent = now;
		return true;
	}
	if (had == SEV_NONE || !may_resolve)
		return false;
	return resolve(t, now, d);
}
