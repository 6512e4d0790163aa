/*
 * An "email" notifier's keys: the SMTP server (smtp:// upgraded with
 * STARTTLS, or smtps://), the envelope and the login. The password only
 * ever comes from a file, read as every other secret is; the URL may not
 * carry one. Plain text is allowed only to a relay on this host.
 */
#include "config/cfgread_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

/* What only an email notifier takes, and what only a webhook does. */
static const char *const email_only[] = {
	"from", "to", "username", "password_file", "ca_file", "starttls", NULL,
};
static const char *const http_only[] = {
	"url_file", "url_env", "urls", "format", "headers", "header_files",
	NULL,
};

/*
 * local@domain, ASCII, nothing a header or an SMTP command could read as
 * syntax: the address goes into From:/To: and MAIL FROM/RCPT TO as is.
 */
bool
cfg_valid_address(const char *s)
{
	const char *at = strchr(s, '@');
	size_t n = strlen(s);

	if (n < 3 || n > 254 || at == NULL || at == s || at[1] == '\0' ||
	    strchr(at + 1, '@') != NULL)
		return false;
	for (; *s != '\0'; s++)
		if ((unsigned char)*s <= ' ' || (unsigned char)*s >= 0x7f ||
		    strchr("<>()[],;:\\\"", *s) != NULL)
			return false;
	return true;
}

/* Whether a URL's host is this machine: plain SMTP may go there only. */
static bool
loopback(const char *host)
{
	return strcasecmp(host, "localhost") == 0 ||
	    strncmp(host, "127.", 4) == 0 || strcmp(host, "[::1]") == 0 ||
	    strcmp(host, "::1") == 0;
}

/* smtp:// or smtps://, a host, no userinfo; sets *tls for smtps. */
static bool
check_smtp_url(struct cfgread *v, const cJSON *node, const char *url,
    bool *tls, bool *local)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *user = NULL;
	bool ok = false;

	if (u == NULL) {
		cfg_err(v, node, "out of memory");
		return false;
	}
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    (strcmp(scheme, "smtp") != 0 && strcmp(scheme, "smtps") != 0))
		cfg_err(v, node, "an email notifier's \"url\" is the mail "
		    "server's, smtp://host[:port] or smtps://host[:port]");
	else if (curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    host[0] == '\0')
		cfg_err(v, node, "\"url\" has no host");
	else if (curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK)
		cfg_err(v, node, "\"url\" must not carry a login: use "
		    "\"username\" and \"password_file\"");
	else
		ok = true;
	if (ok) {
		*tls = strcmp(scheme, "smtps") == 0;
		*local = loopback(host);
	}
	curl_free(scheme);
	curl_free(host);
	curl_free(user);
	curl_url_cleanup(u);
	return ok;
}

/* smtp://host:port/... for /status: never a login, path or recipient. */
static char *
shown(const char *url)
{
	const char *h = strstr(url, "://");
	size_t n;
	char *out;

	if (h == NULL)
		return strdup("(url)");
	h += 3;
	n = (size_t)(h - url) + strcspn(h, "/?#");
	out = malloc(n + 5);
	if (out != NULL)
		snprintf(out, n + 5, "%.*s/...", (int)n, url);
	return out;
}

/*
 * The keys of the other kind of notifier are mistakes; so, for a
 * webhook or Alertmanager, are an email notifier's.
 */
void
cfg_check_email_keys(struct cfgread *v, const cJSON *n, bool email)
{
	const char *const *keys = email ? http_only : email_only;

	for (size_t i = 0; keys[i] != NULL; i++)
		if (cfg_member(n, keys[i]) != NULL)
			cfg_err(v, cfg_member(n, keys[i]), "\"%s\" is for %s",
			    keys[i], email ? "webhooks, not email" :
			    "\"type\": \"email\"");
}

void
cfg_parse_email(struct cfgread *v, const cJSON *n, struct notifier_cfg *nc)
{
	struct email_cfg *e = calloc(1, sizeof(*e));
	const cJSON *a, *t;
	const char *s, *url = NULL;
	bool tls = false, local = false, urlok = false;

	if (e == NULL) {
		cfg_err(v, n, "out of memory");
		return;
	}
	nc->email = e;
	e->starttls = true;
	cfg_check_email_keys(v, n, true);
	if (cfg_string(v, n, "url", &url) == 1) {
		urlok = check_smtp_url(v, cfg_member(n, "url"), url, &tls,
		    &local);
		nc->urls = calloc(1, sizeof(*nc->urls));
		if (nc->urls != NULL &&
		    (nc->urls[0] = cfg_strdup(v, n, url)) != NULL) {
			nc->nurls = 1;
			nc->shown = shown(url);
		}
	} else if (cfg_member(n, "url") == NULL) {
		cfg_err(v, n, "an email notifier needs \"url\": its mail "
		    "server, smtp://host:587 or smtps://host:465");
	}
	if (cfg_string(v, n, "from", &s) == 1) {
		if (!cfg_valid_address(s))
			cfg_err(v, cfg_member(n, "from"), "\"from\": \"%s\" is "
			    "not a plain address (local@domain)", s);
		e->from = cfg_strdup(v, n, s);
	} else if (cfg_member(n, "from") == NULL) {
		cfg_err(v, n, "an email notifier needs \"from\"");
	}
	a = cfg_member(n, "to");
	if (a == NULL || !cJSON_IsArray(a) || cJSON_GetArraySize(a) == 0) {
		cfg_err(v, a != NULL ? a : n, "an email notifier needs \"to\": "
		    "a non-empty array of addresses");
	} else {
		e->to = calloc((size_t)cJSON_GetArraySize(a),
		    sizeof(*e->to));
		if (e->to == NULL)
			cfg_err(v, a, "out of memory");
		cJSON_ArrayForEach(t, a) {
			if (e->to == NULL)
				break;
			if (!cJSON_IsString(t) ||
			    !cfg_valid_address(t->valuestring)) {
				cfg_err(v, t, "a recipient must be a plain "
				    "address (local@domain)");
				continue;
			}
			e->to[e->nto++] = cfg_strdup(v, t, t->valuestring);
		}
	}
	if (cfg_string(v, n, "username", &s) == 1) {
		if (s[0] == '\0' || strpbrk(s, "\r\n") != NULL)
			cfg_err(v, cfg_member(n, "username"), "\"username\" "
			    "must be one non-empty line");
		e->username = cfg_strdup(v, n, s);
	}
	if (cfg_string(v, n, "password_file", &s) == 1)
		e->password = cfg_secret_file(v, cfg_member(n,
		    "password_file"), s);
	if ((e->username != NULL) != (cfg_member(n, "password_file") != NULL))
		cfg_err(v, n, "\"username\" and \"password_file\" go together");
	if (cfg_string(v, n, "ca_file", &s) == 1)
		e->ca_file = cfg_strdup(v, n, s);
	if (cfg_string(v, n, "starttls", &s) == 1) {
		a = cfg_member(n, "starttls");
		if (strcmp(s, "required") == 0)
			e->starttls = true;
		else if (strcmp(s, "off") != 0)
			cfg_err(v, a, "\"starttls\" is \"required\" or "
			    "\"off\"");
		else if (urlok && tls)
			cfg_err(v, a, "smtps:// is TLS from the start: "
			    "\"starttls\" is for smtp://");
		else if (urlok && !local)
			cfg_err(v, a, "\"starttls\": \"off\" sends mail (and a "
			    "password) in clear: only to a relay on this host "
			    "(localhost, 127.0.0.1, ::1)");
		else
			e->starttls = false;
	}
}

void
cfg_clear_email(struct notifier_cfg *nc)
{
	struct email_cfg *e = nc->email;

	if (e == NULL)
		return;
	free(e->from);
	for (size_t i = 0; i < e->nto; i++)
		free(e->to[i]);
	free(e->to);
	free(e->username);
	if (e->password != NULL)
		explicit_bzero(e->password, strlen(e->password));
	free(e->password);
	free(e->ca_file);
	free(e);
	nc->email = NULL;
}
