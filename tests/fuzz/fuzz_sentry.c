/* Sentry's answers: every payload parser and header line, on whatever a
 * server (or something in between) sends back. */
#include <stdlib.h>
#include <string.h>
#include <stddef.h>
#include <stdint.h>

#include "probe/sentry_api.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *body = (const char *)data;
	struct sentry_series s = { 0 };
	struct sentry_outcomes o;
	struct sentry_headers h;
	char err[256], id[64], text[256], *line;
	size_t count;

	memset(&o, 0, sizeof(o));
	sentry_parse_stats(body, size, &s, err, sizeof(err));
	sentry_series_clear(&s);
	sentry_parse_outcomes(body, size, "sum(quantity)", &o, err,
	    sizeof(err));
	sentry_outcomes_clear(&o);
	sentry_parse_project_id(body, size, id, sizeof(id), err, sizeof(err));
	sentry_parse_issue_page(body, size, &count, err, sizeof(err));
	sentry_error_text(body, size, text, sizeof(text));
	sentry_headers_reset(&h);
	sentry_headers_line(&h, body, size);
	/* sentry_http_date takes a string: give it one. */
	line = malloc(size + 1);
	if (line != NULL) {
		memcpy(line, data, size);
		line[size] = '\0';
		sentry_http_date(line);
		free(line);
	}
	return 0;
}
