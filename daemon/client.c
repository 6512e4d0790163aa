#include "client.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "config/config.h"
#include "base/file.h"
#include "base/jsonc.h"
#include "base/sbuf.h"

static int
fail(char *err, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
fail(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
	return -1;
}

/* The token, by vigild's own rules (file_read_secret), so both agree. */
static int
read_token(struct client *c, const char *path, char *err, size_t errlen)
{
	char why[128];
	int rc = file_read_secret(path, FILE_SECRET_MAX, &c->token, why,
	    sizeof(why));

	if (rc == FILE_ERR_OPEN || rc == FILE_ERR_READ ||
	    rc == FILE_ERR_NOT_REGULAR || rc == FILE_ERR_NOMEM)
		return fail(err, errlen, "cannot read the token file %s: %s",
		    path, why);
	if (rc != FILE_OK)
		return fail(err, errlen, "the token file %s must hold one "
		    "non-empty line (at most 4 KiB): %s", path, why);
	return 0;
}

/*
 * api.token_file given as a bare name is the systemd credential vigild
 * reads from $CREDENTIALS_DIRECTORY. vigilctl (root, on the ops host)
 * looks where systemd does: our own $CREDENTIALS_DIRECTORY, the running
 * unit's credentials, then the stores LoadCredential= reads from.
 */
static const char *const cred_dirs[] = {
	"/run/credentials/vigil.service", "/etc/credstore", "/run/credstore",
	"/usr/lib/credstore",
};

static int
read_credential(struct client *c, const char *name, char *err, size_t errlen)
{
	const char *env = getenv("CREDENTIALS_DIRECTORY");
	char path[4096];
	size_t i;

	for (i = 0; i <= sizeof(cred_dirs) / sizeof(cred_dirs[0]); i++) {
		const char *dir = i == 0 ? env : cred_dirs[i - 1];
		int n;

		if (dir == NULL || *dir == '\0')
			continue;
		n = snprintf(path, sizeof(path), "%s/%s", dir, name);
		if (n < 0 || (size_t)n >= sizeof(path))
			continue;
		/* Absent here: look further. Unreadable: say so (sudo). */
		if (access(path, R_OK) != 0 && (errno == ENOENT ||
		    errno == ENOTDIR))
			continue;
		return read_token(c, path, err, errlen);
	}
	return fail(err, errlen, "the credential %s is in none of "
	    "$CREDENTIALS_DIRECTORY, /run/credentials/vigil.service, "
	    "/etc/credstore, /run/credstore, /usr/lib/credstore", name);
}

int
client_url_for_listen(const char *listen, bool tls, char *out, size_t len)
{
	const char *why;
	char host[64];
	unsigned port;
	int n;

	if (config_split_listen(listen, host, sizeof(host), &port, &why) != 0)
		return -1;
	/* Listening everywhere: this host answers on loopback too. */
	if (strcmp(host, "0.0.0.0") == 0)
		snprintf(host, sizeof(host), "127.0.0.1");
	else if (strcmp(host, "::") == 0)
		snprintf(host, sizeof(host), "::1");
	n = snprintf(out, len, strchr(host, ':') != NULL ? "%s://[%s]:%u" :
	    "%s://%s:%u", tls ? "https" : "http", host, port);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

/* What vigilctl needs of the configuration, without validating it all. */
struct cfg_bits {
	char listen[80];
	char token_file[512];
	char cert_file[512];
	char peers[2048];	/* ha.peers, comma-separated */
	bool tls;
};

static void
copy_member(const cJSON *o, const char *key, char *dst, size_t len)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(o, key);

	if (cJSON_IsString(m))
		snprintf(dst, len, "%s", m->valuestring);
}

static int
read_config(const char *path, struct cfg_bits *b, char *err, size_t errlen)
{
	struct jsonc_error jerr;
	struct jsonc_doc *doc;
	const cJSON *api, *tls, *p;
	size_t len;
	char *text, why[128];

	memset(b, 0, sizeof(*b));
	if (file_read(path, CONFIG_MAX_FILE, &text, &len, why,
	    sizeof(why)) != FILE_OK)
		return fail(err, errlen, "cannot read %s: %s", path, why);
	doc = jsonc_parse(text, len, &jerr);
	free(text);
	if (doc == NULL)
		return fail(err, errlen, "%s:%d:%d: %s", path, jerr.pos.line,
		    jerr.pos.col, jerr.msg);
	api = cJSON_GetObjectItemCaseSensitive(jsonc_root(doc), "api");
	copy_member(api, "listen", b->listen, sizeof(b->listen));
	copy_member(api, "token_file", b->token_file, sizeof(b->token_file));
	tls = cJSON_GetObjectItemCaseSensitive(api, "tls");
	if (cJSON_IsObject(tls)) {
		b->tls = true;
		copy_member(tls, "cert_file", b->cert_file,
		    sizeof(b->cert_file));
	}
	/* One of an HA pair: the others are asked too (docs/ha.md). */
	cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(jsonc_root(doc), "ha"), "peers")) {
		size_t n = strlen(b->peers);

		if (cJSON_IsString(p) && strchr(p->valuestring, ',') == NULL)
			snprintf(b->peers + n, sizeof(b->peers) - n, ",%s",
			    p->valuestring);
	}
	jsonc_free(doc);
	return 0;
}

/* "http://a:9464, http://b:9464" into c->urls; blanks around commas go. */
static int
split_urls(struct client *c, const char *list, char *err, size_t errlen)
{
	const char *p = list;

	for (;;) {
		size_t n;

		while (*p == ' ')
			p++;
		n = strcspn(p, ",");
		while (n > 0 && p[n - 1] == ' ')
			n--;
		if (n == 0)
			return fail(err, errlen, "%s: an empty URL in \"%.200s\"",
			    c->url_from, list);
		if (c->nurls == CLIENT_MAX_URLS)
			return fail(err, errlen, "%s: at most %d URLs",
			    c->url_from, CLIENT_MAX_URLS);
		if (n >= sizeof(c->urls[0]))
			return fail(err, errlen, "%s: a URL longer than %zu "
			    "bytes", c->url_from, sizeof(c->urls[0]) - 1);
		memcpy(c->urls[c->nurls], p, n);
		c->urls[c->nurls++][n] = '\0';
		p += strcspn(p, ",");
		if (*p == '\0')
			return 0;
		p++;
	}
}

int
client_init(struct client *c, const struct client_opts *o, char *err,
    size_t errlen)
{
	const char *url = o->url, *tokf = o->token_file, *conf = o->config;
	const char *env;
	struct cfg_bits b;
	bool have_cfg = false;

	memset(c, 0, sizeof(*c));
	c->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 10000;
	if (url != NULL) {
		snprintf(c->url_from, sizeof(c->url_from), "--url");
	} else if ((env = getenv("VIGIL_URL")) != NULL && *env != '\0') {
		url = env;
		snprintf(c->url_from, sizeof(c->url_from), "$VIGIL_URL");
	}
	if (tokf == NULL && (env = getenv("VIGIL_TOKEN_FILE")) != NULL &&
	    *env != '\0')
		tokf = env;
	/* The default configuration counts only when it is there. */
	if (conf == NULL && access(CLIENT_DEFAULT_CONFIG, R_OK) == 0)
		conf = CLIENT_DEFAULT_CONFIG;
	if (conf != NULL && (url == NULL || tokf == NULL)) {
		if (read_config(conf, &b, err, errlen) != 0)
			return -1;
		have_cfg = true;
	}
	if (url != NULL) {
		if (split_urls(c, url, err, errlen) != 0)
			return -1;
	} else if (have_cfg && b.listen[0] != '\0') {
		if (client_url_for_listen(b.listen, b.tls, c->url,
		    sizeof(c->url)) != 0)
			return fail(err, errlen, "%s: api.listen \"%s\" is not "
			    "an address:port", conf, b.listen);
		snprintf(c->url_from, sizeof(c->url_from), "api.listen in %.60s",
		    conf);
		if (b.tls && b.cert_file[0] != '\0' && o->cacert == NULL)
			c->cacert = strdup(b.cert_file);
	} else {
		snprintf(c->url, sizeof(c->url), "%s", CLIENT_DEFAULT_URL);
		snprintf(c->url_from, sizeof(c->url_from), "the default");
	}
	if (o->url == NULL && c->nurls == 0 && have_cfg &&
	    b.peers[0] != '\0') {
		char list[sizeof(c->url) + sizeof(b.peers)];

		snprintf(list, sizeof(list), "%s%s", c->url, b.peers);
		snprintf(c->url_from, sizeof(c->url_from), "api.listen and "
		    "ha.peers in %.50s", conf);
		if (split_urls(c, list, err, errlen) != 0)
			return -1;
	}
	if (c->nurls == 0) {
		memcpy(c->urls[0], c->url, sizeof(c->url));
		c->nurls = 1;
	}
	/* "http://host:9464/" and "http://host:9464" are the same place. */
	for (size_t i = 0; i < c->nurls; i++)
		for (size_t n = strlen(c->urls[i]); n > 0 &&
		    c->urls[i][n - 1] == '/'; n--)
			c->urls[i][n - 1] = '\0';
	memcpy(c->url, c->urls[0], sizeof(c->url));
	if (o->cacert != NULL && (c->cacert = strdup(o->cacert)) == NULL)
		return fail(err, errlen, "out of memory");
	if (tokf != NULL)
		return read_token(c, tokf, err, errlen);
	/*
	 * The configuration's token file is root's: a user without it can
	 * still read, so its absence is noted for a 401, not an error now.
	 */
	if (have_cfg && b.token_file[0] != '\0' &&
	    (strchr(b.token_file, '/') == NULL ?
	    read_credential(c, b.token_file, c->token_note,
	    sizeof(c->token_note)) :
	    read_token(c, b.token_file, c->token_note,
	    sizeof(c->token_note))) != 0)
		c->token = NULL;
	return 0;
}

void
client_clear(struct client *c)
{
	if (c->token != NULL) {
		explicit_bzero(c->token, strlen(c->token));
		free(c->token);
	}
	free(c->cacert);
	memset(c, 0, sizeof(*c));
}

/* The answer, capped: an sbuf through sbuf_write (base/sbuf.h). */
struct sink {
	struct sbuf b;
	bool too_big;
};

static size_t
on_data(char *p, size_t size, size_t n, void *arg)
{
	struct sink *s = arg;

	return sbuf_write(&s->b, p, size * n, &s->too_big);
}

int
client_request(const struct client *c, const char *method,
    const char *path, const char *body, struct client_answer *a, char *err,
    size_t errlen)
{
	return client_request_at(c, 0, method, path, body, a, err, errlen);
}

int
client_request_at(const struct client *c, size_t i, const char *method,
    const char *path, const char *body, struct client_answer *a, char *err,
    size_t errlen)
{
	const char *base = c->urls[i < c->nurls ? i : 0];

	struct curl_slist *h = NULL;
	struct sink s = { .too_big = false };
	char url[1024], auth[4200], cerr[CURL_ERROR_SIZE] = "";
	CURL *e = curl_easy_init();
	CURLcode rc;
	int ret = -1;

	memset(a, 0, sizeof(*a));
	if (e == NULL)
		return fail(err, errlen, "out of memory");
	sbuf_init(&s.b, CLIENT_MAX_ANSWER);
	snprintf(url, sizeof(url), "%s%s", base, path);
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, c->timeout_ms);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, cerr);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, &s);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "vigilctl/" VIGIL_VERSION);
	/* Every coding this libcurl decodes: /status gzipped is 1/17. */
	curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
	if (c->cacert != NULL) {
		curl_easy_setopt(e, CURLOPT_CAINFO, c->cacert);
		/*
		 * vigild's own certificate as the only trusted one: any
		 * server passing is the one holding its key, whatever name
		 * vigilctl reached it by (127.0.0.1 for 0.0.0.0).
		 */
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (c->token != NULL) {
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s",
		    c->token);
		h = curl_slist_append(h, auth);
		explicit_bzero(auth, sizeof(auth));
	}
	if (body != NULL) {
		h = curl_slist_append(h, "Content-Type: application/json");
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	}
	if (strcmp(method, "HEAD") == 0)
		curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
	rc = curl_easy_perform(e);
	if (rc != CURLE_OK) {
		fail(err, errlen, "cannot reach vigild at %s: %s", base,
		    s.too_big ? "answer too large" : cerr[0] != '\0' ? cerr :
		    curl_easy_strerror(rc));
		sbuf_free(&s.b);
		goto out;
	}
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &a->status);
	a->len = s.b.len;
	a->body = s.b.s != NULL ? sbuf_take(&s.b) : strdup("");
	ret = a->body != NULL ? 0 : fail(err, errlen, "out of memory");
out:
	curl_slist_free_all(h);
	curl_easy_cleanup(e);
	return ret;
}

void
client_answer_clear(struct client_answer *a)
{
	free(a->body);
	memset(a, 0, sizeof(*a));
}
