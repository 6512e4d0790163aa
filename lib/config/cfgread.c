#include "config/cfgread_int.h"

#include <ctype.h>
#include <fcntl.h>
#include <unistd.h>

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/duration.h"
#include "base/file.h"
#include "base/jsonc.h"

void
cfg_errs_addv(struct config_errors *errs, int line, int col, const char *fmt,
    va_list ap)
{
	struct config_error *e;

	if (errs->n >= CONFIG_MAX_ERRORS) {
		errs->dropped++;
		return;
	}
	if (errs->n == errs->alloc) {
		size_t n = errs->alloc == 0 ? 8 : errs->alloc * 2;
		struct config_error *v = realloc(errs->v, n * sizeof(*v));

		if (v == NULL) {
			errs->dropped++;
			return;
		}
		errs->v = v;
		errs->alloc = n;
	}
	e = &errs->v[errs->n++];
	e->line = line;
	e->col = col;
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
}

void
cfg_errs_add(struct config_errors *errs, int line, int col, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cfg_errs_addv(errs, line, col, fmt, ap);
	va_end(ap);
}

/* An error at a node's value. */
void
cfg_err(struct cfgread *v, const cJSON *node, const char *fmt, ...)
{
	struct jsonc_pos pos = { 0, 0 };
	va_list ap;

	if (node != NULL)
		jsonc_pos(v->doc, node, &pos);
	va_start(ap, fmt);
	cfg_errs_addv(v->errs, pos.line, pos.col, fmt, ap);
	va_end(ap);
}

/* An error at an object member's key. */
void
cfg_err_key(struct cfgread *v, const cJSON *node, const char *fmt, ...)
{
	struct jsonc_pos pos = { 0, 0 };
	va_list ap;

	jsonc_key_pos(v->doc, node, &pos);
	va_start(ap, fmt);
	cfg_errs_addv(v->errs, pos.line, pos.col, fmt, ap);
	va_end(ap);
}

void
config_errors_clear(struct config_errors *errs)
{
	free(errs->v);
	memset(errs, 0, sizeof(*errs));
}

void
config_error_format(const struct config_errors *errs, size_t i,
    const char *path, char *buf, size_t len)
{
	const struct config_error *e = &errs->v[i];

	if (e->line > 0)
		snprintf(buf, len, "%s:%d:%d: %s", path, e->line, e->col,
		    e->msg);
	else
		snprintf(buf, len, "%s: %s", path, e->msg);
}

/* Levenshtein distance, capped: only small distances matter here. */
static size_t
edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), prev[33], cur[33];

	if (la > 32 || lb > 32)
		return 99;
	for (size_t j = 0; j <= lb; j++)
		prev[j] = j;
	for (size_t i = 1; i <= la; i++) {
		cur[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
			size_t del = prev[j] + 1, ins = cur[j - 1] + 1;

			cur[j] = sub < del ? (sub < ins ? sub : ins) :
			    (del < ins ? del : ins);
		}
		memcpy(prev, cur, sizeof(prev));
	}
	return prev[lb];
}

/*
 * Reports every member of obj not in allowed (a NULL-terminated list),
 * suggesting the nearest allowed key. where names the object in messages.
 */
void
cfg_check_keys(struct cfgread *v, const cJSON *obj, const char *const *allowed,
    const char *where)
{
	const cJSON *m;

	cJSON_ArrayForEach(m, obj) {
		const char *best = NULL;
		size_t bestd = 3;
		bool ok = false;

		for (const char *const *k = allowed; *k != NULL; k++) {
			size_t d;

			if (strcmp(m->string, *k) == 0) {
				ok = true;
				break;
			}
			d = edit_distance(m->string, *k);
			if (d < bestd) {
				bestd = d;
				best = *k;
			}
		}
		if (ok)
			continue;
		if (best != NULL)
			cfg_err_key(v, m, "unknown key \"%s\" in %s "
			    "(did you mean \"%s\"?)", m->string, where, best);
		else
			cfg_err_key(v, m, "unknown key \"%s\" in %s",
			    m->string, where);
	}
}

const cJSON *
cfg_member(const cJSON *obj, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(obj, key);
}

/* The member as an object, or NULL (absent, or wrong type: reported). */
const cJSON *
cfg_object(struct cfgread *v, const cJSON *obj, const char *key)
{
	const cJSON *m = cfg_member(obj, key);

	if (m != NULL && !cJSON_IsObject(m)) {
		cfg_err(v, m, "\"%s\" must be an object, not %s", key,
		    jsonc_type_name(m));
		return NULL;
	}
	return m;
}

/* 1 and *out set, 0 when absent, -1 on a reported error. */
int
cfg_string(struct cfgread *v, const cJSON *obj, const char *key,
    const char **out)
{
	const cJSON *m = cfg_member(obj, key);

	if (m == NULL)
		return 0;
	if (!cJSON_IsString(m)) {
		cfg_err(v, m, "\"%s\" must be a string, not %s", key,
		    jsonc_type_name(m));
		return -1;
	}
	if (m->valuestring[0] == '\0') {
		cfg_err(v, m, "\"%s\" must not be empty", key);
		return -1;
	}
	*out = m->valuestring;
	return 1;
}

int
cfg_bool(struct cfgread *v, const cJSON *obj, const char *key, bool *out)
{
	const cJSON *m = cfg_member(obj, key);

	if (m == NULL)
		return 0;
	if (!cJSON_IsBool(m)) {
		cfg_err(v, m, "\"%s\" must be true or false, not %s", key,
		    jsonc_type_name(m));
		return -1;
	}
	*out = cJSON_IsTrue(m);
	return 1;
}

/* A duration string within [lo, hi] milliseconds. */
int
cfg_duration(struct cfgread *v, const cJSON *obj, const char *key, int64_t lo,
    int64_t hi, int64_t *out)
{
	const cJSON *m = cfg_member(obj, key);
	char a[32], b[32];
	int64_t ms;

	if (m == NULL)
		return 0;
	if (!cJSON_IsString(m)) {
		cfg_err(v, m, "\"%s\" must be a duration string such as "
		    "\"30s\" or \"5m\", not %s", key, jsonc_type_name(m));
		return -1;
	}
	if (duration_parse(m->valuestring, &ms) != 0) {
		cfg_err(v, m, "\"%s\": \"%s\" is not a duration (expected "
		    "e.g. \"250ms\", \"30s\", \"5m\", \"1h30m\")", key,
		    m->valuestring);
		return -1;
	}
	if (ms < lo || ms > hi) {
		duration_format(lo, a, sizeof(a));
		duration_format(hi, b, sizeof(b));
		cfg_err(v, m, "\"%s\" must be between %s and %s", key, a, b);
		return -1;
	}
	*out = ms;
	return 1;
}

/* A byte size: a whole number, or a string "512KiB", "1MiB". */
int
cfg_size(struct cfgread *v, const cJSON *obj, const char *key, int64_t lo,
    int64_t hi, int64_t *out)
{
	const cJSON *m = cfg_member(obj, key);
	double n;

	if (m == NULL)
		return 0;
	if (cJSON_IsNumber(m)) {
		n = m->valuedouble;
	} else if (cJSON_IsString(m)) {
		char *end;
		double mult = 0;

		errno = 0;
		n = strtod(m->valuestring, &end);
		if (end == m->valuestring || errno != 0)
			mult = 0;
		else if (strcmp(end, "") == 0 || strcmp(end, "B") == 0)
			mult = 1;
		else if (strcmp(end, "KiB") == 0)
			mult = 1024;
		else if (strcmp(end, "MiB") == 0)
			mult = 1024 * 1024;
		else if (strcmp(end, "GiB") == 0)
			mult = 1024.0 * 1024 * 1024;
		if (mult == 0) {
			cfg_err(v, m, "\"%s\": \"%s\" is not a size (expected "
			    "bytes, or e.g. \"512KiB\", \"1MiB\")", key,
			    m->valuestring);
			return -1;
		}
		n *= mult;
	} else {
		cfg_err(v, m, "\"%s\" must be a size in bytes or a string such "
		    "as \"1MiB\", not %s", key, jsonc_type_name(m));
		return -1;
	}
	if (!isfinite(n) || n != floor(n) || n < (double)lo ||
	    n > (double)hi) {
		cfg_err(v, m, "\"%s\" must be a whole number of bytes from "
		    "%lld to %lld", key, (long long)lo, (long long)hi);
		return -1;
	}
	*out = (int64_t)n;
	return 1;
}

/* strdup that reports failure as a config error, so nothing is NULL later. */
char *
cfg_strdup(struct cfgread *v, const cJSON *node, const char *s)
{
	char *d = strdup(s);

	if (d == NULL)
		cfg_err(v, node, "out of memory");
	return d;
}

bool
cfg_valid_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > CFG_MAX_NAME || !(s[0] >= 'a' && s[0] <= 'z'))
		return false;
	for (; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		    *s == '_'))
			return false;
	return true;
}


int
cfg_number(struct cfgread *v, const cJSON *obj, const char *key, double lo,
    double hi, bool integer, double *out)
{
	const cJSON *m = cfg_member(obj, key);

	if (m == NULL)
		return 0;
	if (!cJSON_IsNumber(m)) {
		cfg_err(v, m, "\"%s\" must be a number, not %s", key,
		    jsonc_type_name(m));
		return -1;
	}
	if (!isfinite(m->valuedouble) || m->valuedouble < lo ||
	    m->valuedouble > hi ||
	    (integer && m->valuedouble != floor(m->valuedouble))) {
		cfg_err(v, m, "\"%s\" must be %s from %g to %g", key,
		    integer ? "a whole number" : "a number", lo, hi);
		return -1;
	}
	*out = m->valuedouble;
	return 1;
}

/*
 * A bare name (no '/') is a systemd credential: the file of that name in
 * $CREDENTIALS_DIRECTORY, which systemd sets for the unit's commands when
 * it has LoadCredential= (vigil.service loads vigil.api-token and others).
 * Outside the unit (root running vigild --check-config by hand), the
 * stores LoadCredential= reads it from, in systemd's order.
 */
static const char *const cred_stores[] = {
	"/etc/credstore", "/run/credstore", "/usr/lib/credstore",
};

static bool
credential_path(struct cfgread *v, const cJSON *node, const char *name,
    char *out, size_t len)
{
	const char *dir = getenv("CREDENTIALS_DIRECTORY");
	size_t i;
	int n;

	if (*name == '\0' || strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
		cfg_err(v, node, "\"%s\" is neither a file's path nor a "
		    "credential's name", name);
		return false;
	}
	if (dir != NULL && *dir != '\0') {
		n = snprintf(out, len, "%s/%s", dir, name);
		if (n < 0 || (size_t)n >= len) {
			cfg_err(v, node, "$CREDENTIALS_DIRECTORY is too long");
			return false;
		}
		return true;
	}
	for (i = 0; i < sizeof(cred_stores) / sizeof(cred_stores[0]); i++) {
		n = snprintf(out, len, "%s/%s", cred_stores[i], name);
		/* There (or unreadable: open() will say so), else look on. */
		if (n >= 0 && (size_t)n < len &&
		    (access(out, F_OK) == 0 || errno != ENOENT))
			return true;
	}
	cfg_err(v, node, "cannot read the credential %s: "
	    "$CREDENTIALS_DIRECTORY is not set (the unit sets it, with "
	    "LoadCredential=%s) and none of /etc/credstore, /run/credstore, "
	    "/usr/lib/credstore has it", name, name);
	return false;
}

char *
cfg_secret_file(struct cfgread *v, const cJSON *node, const char *path)
{
	char cred[4096], why[128], *out;
	int rc;

	if (strchr(path, '/') == NULL) {
		if (!credential_path(v, node, path, cred, sizeof(cred)))
			return NULL;
		path = cred;
	}
	rc = file_read_secret(path, FILE_SECRET_MAX, &out, why, sizeof(why));
	if (rc == FILE_ERR_OPEN || rc == FILE_ERR_READ ||
	    rc == FILE_ERR_NOT_REGULAR || rc == FILE_ERR_NOMEM) {
		cfg_err(v, node, "cannot read secret file %s: %s", path, why);
		return NULL;
	}
	if (rc != FILE_OK) {
		cfg_err(v, node, "secret file %s must hold one non-empty line "
		    "(at most 4 KiB): %s", path, why);
		return NULL;
	}
	return out;
}

/* Hex digit value, or -1. */
static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Bytes one "\uXXXX" escape at p decodes to (a pair: both, 4). */
static size_t
u_escape_bytes(const char *p, const char *end, size_t *raw)
{
	unsigned cp = 0;

	*raw = 6;
	if (end - p < 6)
		return 1;
	for (int k = 2; k < 6; k++) {
		int h = hexval(p[k]);

		if (h < 0)
			return 1;
		cp = cp * 16 + (unsigned)h;
	}
	if (cp >= 0xd800 && cp <= 0xdbff && end - p >= 12 && p[6] == '\\' &&
	    p[7] == 'u') {
		*raw = 12;
		return 4;
	}
	return cp < 0x80 ? 1 : cp < 0x800 ? 2 : 3;
}

void
cfg_err_in(struct cfgread *v, const cJSON *node, size_t off,
    const char *fmt, ...)
{
	struct jsonc_pos pos = { 0, 0 };
	const char *p, *end, *line;
	size_t d = 0;
	int ln = 1;
	va_list ap;

	jsonc_pos(v->doc, node, &pos);
	/* Find the value's opening quote in the text: line, then column. */
	if (v->text != NULL && pos.line > 0 && pos.col > 0) {
		line = v->text;
		end = v->text + v->len;
		if (end - line >= 3 && memcmp(line, "\xef\xbb\xbf", 3) == 0)
			line += 3;
		while (ln < pos.line && line < end) {
			const char *nl = memchr(line, '\n', (size_t)(end - line));

			if (nl == NULL)
				break;
			line = nl + 1;
			ln++;
		}
		p = line + pos.col - 1;
		if (ln == pos.line && p < end && *p == '"') {
			const char *q = p + 1;

			/* Strings hold no raw line break: same line. */
			while (q < end && *q != '"') {
				size_t raw = 1, bytes = 1;

				if (*q == '\\' && q + 1 < end && q[1] == 'u')
					bytes = u_escape_bytes(q, end, &raw);
				else if (*q == '\\')
					raw = 2;
				if (d + bytes > off)
					break;
				d += bytes;
				q += raw;
			}
			pos.col += (int)(q - p);
		}
	}
	va_start(ap, fmt);
	cfg_errs_addv(v->errs, pos.line, pos.col, fmt, ap);
	va_end(ap);
}
