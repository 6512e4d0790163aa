#include "config/cfgread_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/dnsmsg.h"

static const char *const dns_metrics[] = {
	"up", "duration_ms", "resolve_ms", "answers", NULL,
};

/* Whether the name could be asked at all: labels of 1..63, 253 in all. */
static bool
valid_query(const char *s)
{
	uint8_t buf[DNSMSG_QUERY_MAX];
	size_t n;

	return dnsmsg_encode_query(0, s, DNS_T_A, buf, sizeof(buf), &n) ==
	    DNSMSG_OK;
}

static void
parse_expect(struct cfgread *v, const cJSON *expect, struct probe_cfg *pc)
{
	static const char *const expect_keys[] = { "contains", "equals", NULL };
	struct dns_cfg *d = &pc->dns;
	const cJSON *eq, *e;
	const char *s;

	cfg_check_keys(v, expect, expect_keys, "\"expect\"");
	if (cfg_string(v, expect, "contains", &s) == 1)
		d->contains = cfg_strdup(v, expect, s);
	if ((eq = cfg_member(expect, "equals")) == NULL)
		return;
	if (!cJSON_IsArray(eq) || cJSON_GetArraySize(eq) > DNSMSG_MAX_ANSWERS) {
		cfg_err(v, eq, "\"equals\" must be an array of at most %d "
		    "answers as text", DNSMSG_MAX_ANSWERS);
		return;
	}
	d->has_equals = true;
	d->equals = calloc((size_t)cJSON_GetArraySize(eq) + 1,
	    sizeof(*d->equals));
	if (d->equals == NULL) {
		cfg_err(v, eq, "out of memory");
		return;
	}
	cJSON_ArrayForEach(e, eq) {
		if (!cJSON_IsString(e)) {
			cfg_err(v, e, "\"equals\" holds answers as strings");
			continue;
		}
		d->equals[d->nequals++] = cfg_strdup(v, e, e->valuestring);
	}
}

void
cfg_parse_dns(struct cfgread *v, const cJSON *p, struct probe_cfg *pc)
{
	static const char *const dns_keys[] = {
		"query", "record", "server", "expect", NULL,
	};
	struct dns_cfg *d = &pc->dns;
	const cJSON *expect;
	const char *s;

	cfg_check_probe_keys(v, p, dns_keys, "a dns probe");
	d->record = DNS_T_A;
	if (cfg_string(v, p, "query", &s) == 1) {
		if (!valid_query(s))
			cfg_err(v, cfg_member(p, "query"), "\"query\": \"%s\" is "
			    "not a DNS name (labels of 1 to 63 bytes, at most "
			    "253 in all)", s);
		d->query = cfg_strdup(v, p, s);
		if (d->query != NULL) {
			size_t n = strlen(d->query);

			if (n > 1 && d->query[n - 1] == '.')
				d->query[n - 1] = '\0';
		}
	} else if (cfg_member(p, "query") == NULL) {
		cfg_err(v, p, "dns probe needs \"query\"");
	}
	if (cfg_string(v, p, "record", &s) == 1 &&
	    (d->record = dnsmsg_type_from_name(s)) == 0) {
		cfg_err(v, cfg_member(p, "record"), "\"record\" must be \"A\", "
		    "\"AAAA\", \"CNAME\", \"MX\" or \"TXT\"");
		d->record = DNS_T_A;
	}
	if (cfg_string(v, p, "server", &s) == 1) {
		char host[64];
		unsigned port;
		const char *why;

		if (config_split_listen(s, host, sizeof(host), &port, &why) != 0)
			cfg_err(v, cfg_member(p, "server"), "\"server\": \"%s\": "
			    "%s", s, why);
		else if (port == 0)
			cfg_err(v, cfg_member(p, "server"), "\"server\": \"%s\": "
			    "the port must be from 1 to 65535", s);
		d->server = cfg_strdup(v, p, s);
	}
	if ((expect = cfg_object(v, p, "expect")) != NULL)
		parse_expect(v, expect, pc);
	if (d->query != NULL) {
		char t[DNSMSG_MAX_NAME + 80];

		snprintf(t, sizeof(t), "%s %s%s%s", d->query,
		    dnsmsg_type_name(d->record), d->server != NULL ? " @" : "",
		    d->server != NULL ? d->server : "");
		pc->target = cfg_strdup(v, p, t);
	}
}

void
cfg_clear_dns(struct probe_cfg *pc)
{
	struct dns_cfg *d = &pc->dns;

	free(d->query);
	free(d->server);
	free(d->contains);
	for (size_t i = 0; i < d->nequals; i++)
		free(d->equals[i]);
	free(d->equals);
}

bool
cfg_dns_has_metric(const struct probe_cfg *pc, const char *metric)
{
	(void)pc;
	for (const char *const *m = dns_metrics; *m != NULL; m++)
		if (strcmp(*m, metric) == 0)
			return true;
	return false;
}
