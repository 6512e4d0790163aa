#include "probe/pg_conn.h"

#include <string.h>

/*
 * The server's words for who-you-are refusals (lc_messages English, as
 * libpq has no SQLSTATE for them): any authentication method's failure,
 * pg_hba.conf with no line for us or a "reject" line, and a role or
 * database permission refused.
 */
static const char *const auth_words[] = {
	"authentication failed",
	"no pg_hba.conf entry",
	"pg_hba.conf rejects connection",
	"permission denied for database",
	"not permitted to log in",
};

static bool
line_has(const char *s, size_t len, const char *word)
{
	return memmem(s, len, word, strlen(word)) != NULL;
}

enum probe_fail
pg_conn_fail_kind(const char *msg, size_t *at, size_t *len)
{
	const char *line = msg;

	/* Every line: with several addresses the refusal may be the last. */
	while (*line != '\0') {
		const char *nl = strchr(line, '\n');
		size_t n = nl != NULL ? (size_t)(nl - line) : strlen(line);
		bool auth = line_has(line, n, "role \"") &&
		    line_has(line, n, "does not exist");

		for (size_t i = 0; !auth &&
		    i < sizeof(auth_words) / sizeof(auth_words[0]); i++)
			auth = line_has(line, n, auth_words[i]);
		if (auth) {
			*at = (size_t)(line - msg);
			*len = n;
			return PROBE_FAIL_AUTH;
		}
		if (nl == NULL)
			break;
		line = nl + 1;
	}
	*at = 0;
	*len = strlen(msg);
	return PROBE_FAIL_CONNECT;
}

int64_t
pg_backoff_ms(unsigned failures, int64_t max_ms)
{
	int64_t ms = 250;

	/* The first retry is at the next run; then 250 ms doubling. */
	if (failures == 0)
		return 0;
	for (unsigned i = 1; i < failures && ms < max_ms; i++)
		ms *= 2;
	return ms < max_ms ? ms : max_ms;
}

int64_t
pg_retry_wait_us(unsigned failures, int64_t last_us, int64_t now_us,
    int64_t interval_us, int64_t max_ms)
{
	int64_t due, early;

	if (failures == 0)
		return 0;
	if (interval_us < 1)
		interval_us = 1;
	due = last_us + 1000 * pg_backoff_ms(failures, max_ms);
	/*
	 * Runs start a little late, by a varying amount: a run this much
	 * before the due time is the run the backoff meant (the issue saw
	 * attempts 15 s apart with a 10 s cap and 5 s runs).
	 */
	early = interval_us / 10 < 1000000 ? interval_us / 10 : 1000000;
	if (now_us + early >= due)
		return 0;
	return (due - early - now_us + interval_us - 1) / interval_us *
	    interval_us;
}
