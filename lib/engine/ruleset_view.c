/*
 * ruleset_view: a rule's state in words, for /status, the page and
 * vigilctl -- the filled summary template and the one sentence on why the
 * rule is where it is. Renders what evaluation decided; decides nothing.
 */
#include "engine/ruleset.h"
#include "engine/ruleset_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/duration.h"
#include "base/humanize.h"
#include "base/numfmt.h"
#include "engine/suppress.h"

void
ruleset_fmt_num(double v, char *buf, size_t len)
{
	if (!isfinite(v)) {
		snprintf(buf, len, "%g", v);
		return;
	}
	if (fabs(v) >= 1e9 || (v != 0 && fabs(v) < 1e-4)) {
		snprintf(buf, len, "%.4g", v);
		return;
	}
	snprintf(buf, len, "%.4f", v);
	numfmt_trim(buf);
}

/* Appends src to dst (size len, used *n), truncating safely. */
static void
put(char *dst, size_t len, size_t *n, const char *src)
{
	size_t l = strlen(src);

	if (*n + 1 >= len)
		return;
	if (l > len - *n - 1)
		l = len - *n - 1;
	memcpy(dst + *n, src, l);
	*n += l;
	dst[*n] = '\0';
}

void
ruleset_window_text(const struct rule_cfg *rc, char *buf, size_t len)
{
	if (rc->window_ms == 0)
		snprintf(buf, len, "the latest sample");
	else
		duration_format(rc->window_ms, buf, len);
}

/*
 * How many characters after a {value} or {threshold} placeholder (at
 * rest) spell the rule's unit -- " ms", "%", " {unit}" -- so the number
 * can be humanized with it ("1.2 s", not "1234.5 ms"); 0 if none.
 */
static size_t
unit_after(const char *rest, const char *unit)
{
	size_t sp = rest[0] == ' ' ? 1 : 0, ul;
	char c;

	if (unit == NULL || unit[0] == '\0')
		return 0;
	if (strncmp(rest + sp, "{unit}", 6) == 0)
		return sp + 6;
	ul = strlen(unit);
	if (strncmp(rest + sp, unit, ul) != 0)
		return 0;
	/* The whole unit, not the start of a word: "%" yes, "ms" in "msg" no. */
	c = rest[sp + ul];
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '_')
		return 0;
	return sp + ul;
}

/* Fills the rule's summary template: {value}, {threshold}, ... */
static void
render_summary(const struct rule_rt *r, const char *probe, char *out,
    size_t len)
{
	const struct rule_cfg *rc = r->cfg;
	const char *t = rc->summary;
	char num[160];
	size_t n = 0;

	out[0] = '\0';
	/*
	 * No value, no template: "threshold 0 %" and "value unknown" say
	 * nothing. Why it cannot be judged is the news.
	 */
	if (r->st.state == RULE_UNKNOWN) {
		snprintf(out, len, "cannot judge %s: %s", rc->name,
		    r->st.why);
		return;
	}
	/* A probe's own down rule says what recovered, not "down: none". */
	if (rc->implicit && (r->st.state == RULE_OK ||
	    r->st.state == RULE_RESOLVED)) {
		snprintf(out, len, "probe %s is up%s", probe,
		    r->st.state == RULE_RESOLVED ? " again" : "");
		return;
	}
	if (t == NULL) {
		char w[32];

		ruleset_window_text(rc, w, sizeof(w));
		snprintf(out, len, "%s of %s over %s", agg_name(rc->agg),
		    rc->metric != NULL ? rc->metric : rc->numerator, w);
		return;
	}
	while (*t != '\0' && n + 1 < len) {
		const char *close;
		char key[32];
		size_t kl;

		if (*t != '{' || (close = strchr(t, '}')) == NULL ||
		    (kl = (size_t)(close - t - 1)) >= sizeof(key)) {
			out[n++] = *t++;
			out[n] = '\0';
			continue;
		}
		memcpy(key, t + 1, kl);
		key[kl] = '\0';
		num[0] = '\0';
		if (strcmp(key, "value") == 0 || strcmp(key, "threshold") ==
		    0) {
			size_t u = unit_after(close + 1, rc->unit);
			double x = key[0] == 'v' ? r->st.value :
			    r->st.threshold;

			if (key[0] == 'v' && !r->st.known) {
				snprintf(num, sizeof(num), "unknown");
			} else if (u > 0) {
				/* "{value} ms" -> "1.2 s": the unit is ours. */
				human_value(x, rc->unit, num, sizeof(num));
				close += u;
			} else {
				human_num(x, num, sizeof(num));
			}
		} else if (strcmp(key, "baseline") == 0) {
			if (r->has_baseline)
				ruleset_fmt_num(r->baseline, num, sizeof(num));
			else
				snprintf(num, sizeof(num), "none");
		} else if (strcmp(key, "window") == 0) {
			ruleset_window_text(rc, num, sizeof(num));
		} else if (strcmp(key, "rule") == 0) {
			snprintf(num, sizeof(num), "%s", rc->name);
		} else if (strcmp(key, "metric") == 0) {
			snprintf(num, sizeof(num), "%s", rc->metric != NULL ?
			    rc->metric : rc->numerator);
		} else if (strcmp(key, "severity") == 0) {
			snprintf(num, sizeof(num), "%s",
			    rule_sev_name(r->st.sev));
		} else if (strcmp(key, "state") == 0) {
			snprintf(num, sizeof(num), "%s",
			    rule_state_name(r->st.state));
		} else if (strcmp(key, "unit") == 0) {
			snprintf(num, sizeof(num), "%s", rc->unit != NULL ?
			    rc->unit : "");
		} else if (strcmp(key, "probe") == 0) {
			snprintf(num, sizeof(num), "%s", probe);
		} else if (strncmp(key, "note:", 5) == 0) {
			put(out, len, &n, r->note[0] != '\0' ? r->note :
			    "none");
			t = close + 1;
			continue;
		} else if (strcmp(key, "reason") == 0) {
			put(out, len, &n, r->probe_error != NULL ?
			    r->probe_error : r->st.why[0] != '\0' ?
			    r->st.why : "none");
			t = close + 1;
			continue;
		} else {
			/* Not a placeholder: keep it as written. */
			out[n++] = *t++;
			out[n] = '\0';
			continue;
		}
		put(out, len, &n, num);
		t = close + 1;
	}
}

/* One sentence on why the rule is in its state, for the engineer. */
static void
explain(const struct rule_rt *r, int64_t now, char *out, size_t len)
{
	const struct rule_cfg *rc = r->cfg;
	const struct rule_status *st = &r->st;
	const char *unit = rc->unit != NULL ? rc->unit : "";
	char v[32], t[32], held[32], need[32], w[32];
	size_t n = 0;

	out[0] = '\0';
	if (st->suppressed) {
		put(out, len, &n, "suppressed by ");
		put(out, len, &n, st->suppressed_by);
		put(out, len, &n, " (");
		put(out, len, &n, suppress_hold_text(r->hold));
		put(out, len, &n, "); ");
	}
	if (st->evaluated == 0) {
		put(out, len, &n, "not evaluated yet");
		return;
	}
	if (!st->known) {
		put(out, len, &n, "cannot judge: ");
		put(out, len, &n, st->why);
		return;
	}
	human_value(st->value, unit, v, sizeof(v));
	human_value(st->threshold, unit, t, sizeof(t));
	ruleset_window_text(rc, w, sizeof(w));
	switch (st->state) {
	case RULE_FIRING:
		snprintf(out + n, len - n, "%s %s %s %s threshold %s (%s over "
		    "%s)", agg_name(rc->agg), v, rule_op_text(rc->def.op),
		    rule_sev_name(st->sev), t, rc->metric != NULL ? rc->metric :
		    "ratio", w);
		break;
	case RULE_PENDING:
		duration_format((now - st->cond_since) / 1000 * 1000, held,
		    sizeof(held));
		duration_format(rc->def.for_ms, need, sizeof(need));
		snprintf(out + n, len - n, "%s %s %s %s threshold %s; held %s "
		    "of %s before firing", agg_name(rc->agg), v,
		    rule_op_text(rc->def.op), rule_sev_name(st->sev), t, held,
		    need);
		break;
	default:
		snprintf(out + n, len - n, "%s %s is not %s threshold %s",
		    agg_name(rc->agg), v, rule_op_text(rc->def.op), t);
		break;
	}
}

bool
ruleset_view(const struct ruleset *rs, size_t i, int64_t now,
    struct rule_view *v)
{
	const struct rule_rt *r;
	const char *dot;
	char probe[80];

	if (i >= rs->n)
		return false;
	r = &rs->rules[i];
	memset(v, 0, sizeof(*v));
	v->cfg = r->cfg;
	v->st = &r->st;
	v->state = r->st.suppressed && r->st.state != RULE_OK &&
	    r->st.state != RULE_RESOLVED ? "suppressed" :
	    rule_state_name(r->st.state);
	v->held_why = r->st.suppressed ? suppress_hold_text(r->hold) : "";
	v->has_baseline = r->has_baseline;
	v->baseline = r->baseline;
	v->baseline_at = r->baseline_at;
	v->data_age_ms = r->data_age_ms;
	v->samples = r->samples;
	v->probe_error = r->probe_error;
	dot = strchr(r->cfg->metric != NULL ? r->cfg->metric :
	    r->cfg->numerator, '.');
	snprintf(probe, sizeof(probe), "%.*s", dot != NULL ?
	    (int)(dot - (r->cfg->metric != NULL ? r->cfg->metric :
	    r->cfg->numerator)) : 0, r->cfg->metric != NULL ?
	    r->cfg->metric : r->cfg->numerator);
	render_summary(r, probe, v->summary, sizeof(v->summary));
	explain(r, now, v->explain, sizeof(v->explain));
	return true;
}
