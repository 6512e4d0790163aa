#include "base/template.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/sbuf.h"

enum tmpl_escape
tmpl_escape_for(const char *content_type)
{
	size_t n;

	if (content_type == NULL)
		return TMPL_JSON;
	/* The media type alone: "application/json; charset=utf-8". */
	n = strcspn(content_type, "; \t");
	if ((n == 16 && strncasecmp(content_type, "application/json", n) ==
	    0) || (n > 5 && strncasecmp(content_type + n - 5, "+json", 5) ==
	    0))
		return TMPL_JSON;
	if (n == 33 && strncasecmp(content_type,
	    "application/x-www-form-urlencoded", n) == 0)
		return TMPL_FORM;
	return TMPL_RAW;
}

static void
put_escaped(struct sbuf *b, const char *v, enum tmpl_escape esc)
{
	static const char hex[] = "0123456789ABCDEF";

	if (esc == TMPL_RAW) {
		sbuf_puts(b, v);
		return;
	}
	for (const unsigned char *p = (const unsigned char *)v; *p != '\0';
	    p++) {
		char e[8];

		if (esc == TMPL_FORM) {
			if ((*p >= 'a' && *p <= 'z') ||
			    (*p >= 'A' && *p <= 'Z') ||
			    (*p >= '0' && *p <= '9') || *p == '-' ||
			    *p == '.' || *p == '_' || *p == '~') {
				sbuf_add(b, (const char *)p, 1);
			} else {
				e[0] = '%';
				e[1] = hex[*p >> 4];
				e[2] = hex[*p & 15];
				sbuf_add(b, e, 3);
			}
			continue;
		}
		switch (*p) {
		case '"':
			sbuf_add(b, "\\\"", 2);
			break;
		case '\\':
			sbuf_add(b, "\\\\", 2);
			break;
		case '\n':
			sbuf_add(b, "\\n", 2);
			break;
		case '\r':
			sbuf_add(b, "\\r", 2);
			break;
		case '\t':
			sbuf_add(b, "\\t", 2);
			break;
		default:
			/* Controls, and DEL for the odd strict parser. */
			if (*p < 0x20 || *p == 0x7f) {
				snprintf(e, sizeof(e), "\\u%04x", *p);
				sbuf_add(b, e, 6);
			} else {
				sbuf_add(b, (const char *)p, 1);
			}
		}
	}
}

static bool
name_char(char c, bool first)
{
	return (c >= 'a' && c <= 'z') || (!first && ((c >= '0' && c <= '9') ||
	    c == '_' || c == '.'));
}

/* err->msg is set: where, and no body. */
static char *
fail(struct tmpl_error *err, struct sbuf *b, size_t off)
{
	err->off = off;
	sbuf_free(b);
	return NULL;
}

char *
tmpl_render(const char *t, enum tmpl_escape esc, tmpl_field_fn fn, void *arg,
    struct tmpl_error *err)
{
	struct sbuf b;
	const char *p = t;

	memset(err, 0, sizeof(*err));
	sbuf_init(&b, TMPL_MAX_OUT);
	for (;;) {
		const char *open = strstr(p, "{{"), *name, *end, *close, *v;
		size_t len;

		if (open == NULL) {
			sbuf_puts(&b, p);
			break;
		}
		sbuf_add(&b, p, (size_t)(open - p));
		name = open + 2;
		while (*name == ' ')
			name++;
		close = strstr(name, "}}");
		if (close == NULL) {
			snprintf(err->msg, sizeof(err->msg), "\"{{\" is never "
			    "closed by \"}}\"");
			return fail(err, &b, (size_t)(open - t));
		}
		end = close;
		while (end > name && end[-1] == ' ')
			end--;
		len = (size_t)(end - name);
		if (len == 0) {
			snprintf(err->msg, sizeof(err->msg), "an empty "
			    "\"{{}}\" names no field");
			return fail(err, &b, (size_t)(open - t));
		}
		for (size_t i = 0; i < len; i++) {
			if (!name_char(name[i], i == 0)) {
				snprintf(err->msg, sizeof(err->msg), "a field "
				    "name is lower case letters, then digits, "
				    "_ and . (\"{{\" opens a field)");
				return fail(err, &b, (size_t)(name + i - t));
			}
		}
		if (len > TMPL_MAX_NAME) {
			snprintf(err->msg, sizeof(err->msg), "field name "
			    "\"%.40s...\" is too long", name);
			return fail(err, &b, (size_t)(name - t));
		}
		if ((v = fn(arg, name, len)) == NULL) {
			snprintf(err->msg, sizeof(err->msg), "unknown field "
			    "\"%.*s\"", (int)len, name);
			return fail(err, &b, (size_t)(name - t));
		}
		put_escaped(&b, v, esc);
		p = close + 2;
	}
	return sbuf_take(&b);
}
