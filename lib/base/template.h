/*
 * template: a body template's "{{field}}" placeholders filled in, each
 * value escaped for where it lands, pure. Only fields: no logic, no
 * loops, no way for a value to open a placeholder of its own (values are
 * never read again), so whatever a summary holds, the body keeps the
 * shape its template gives it.
 *
 *   {{name}}, {{ name }}   a field; a name is [a-z][a-z0-9_.]*, at most
 *                          TMPL_MAX_NAME bytes
 *   everything else        copied as it is ("}}" alone included)
 *
 * An unknown field, an empty or malformed name and a "{{" that is never
 * closed are errors at their byte offset, so the configuration can point
 * at the line and column.
 */
#ifndef VIGIL_TEMPLATE_H
#define VIGIL_TEMPLATE_H

#include <stdbool.h>
#include <stddef.h>

#define TMPL_MAX_NAME	64
#define TMPL_MAX_OUT	(256 * 1024)

enum tmpl_escape {
	TMPL_RAW,	/* text/plain and the rest: as it is */
	TMPL_JSON,	/* inside a JSON string: ", \ and controls escaped */
	TMPL_FORM,	/* form-urlencoded: all but unreserved as %XX */
};

/* How a body of this Content-Type escapes its values. */
enum tmpl_escape tmpl_escape_for(const char *content_type);

/*
 * A field's value, or NULL when there is no such field. name is not
 * NUL-terminated: len bytes.
 */
typedef const char *(*tmpl_field_fn)(void *arg, const char *name, size_t len);

struct tmpl_error {
	size_t off;		/* byte offset in the template */
	char msg[128];
};

/*
 * The template with its fields filled in (malloc'd), or NULL with err set
 * (err->msg empty: out of memory or past TMPL_MAX_OUT).
 */
char *tmpl_render(const char *t, enum tmpl_escape esc, tmpl_field_fn fn,
    void *arg, struct tmpl_error *err);

#endif
