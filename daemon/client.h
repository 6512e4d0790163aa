/*
 * client: the command-line side of vigild's HTTP API, for vigilctl. It
 * finds vigild, reads the token, and makes one request at a time with
 * libcurl. Blocking is fine here: this runs in a command, never on
 * vigild's loop.
 *
 * Where vigild is, first found wins: --url, $VIGIL_URL, the api.listen of
 * the configuration (-c FILE, else /etc/vigil/vigil.json when readable),
 * http://127.0.0.1:9464. A listen address on every interface (0.0.0.0,
 * [::]) is reached on loopback; api.tls in the configuration means https,
 * trusting its cert_file (self-signed is fine) unless --cacert says
 * otherwise. --url and $VIGIL_URL may name several, comma-separated:
 * the vigilds of an HA pair (docs/ha.md); which to ask is vigilctl's
 * choice (ctl_call). Without them, a configuration's ha.peers follow its
 * api.listen.
 *
 * The token, first found wins: --token-file, $VIGIL_TOKEN_FILE, the
 * configuration's api.token_file. Without one, requests carry no token
 * (read endpoints on loopback need none); a token file named by the
 * configuration that this user cannot read is noted, not an error.
 */
#ifndef VIGIL_CLIENT_H
#define VIGIL_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

#define CLIENT_DEFAULT_CONFIG "/etc/vigil/vigil.json"
#define CLIENT_DEFAULT_URL "http://127.0.0.1:9464"
/* Larger answers are refused: nothing vigild says is this big. */
#define CLIENT_MAX_ANSWER (16 * 1024 * 1024)
/* An HA pair is two; a few more cost nothing. */
#define CLIENT_MAX_URLS 8

/* What the user gave; any may be NULL. */
struct client_opts {
	const char *url;
	const char *config;
	const char *token_file;
	const char *cacert;
	long timeout_ms;	/* 0: 10 s */
};

struct client {
	char url[512];		/* the first of urls */
	char urls[CLIENT_MAX_URLS][512];	/* no trailing slash */
	size_t nurls;		/* at least 1 */
	char url_from[96];	/* where url came from, for messages */
	char *token;		/* secret; NULL: none */
	char token_note[600];	/* why the configuration's token is missing */
	char *cacert;		/* NULL: the system's CAs */
	long timeout_ms;
};

struct client_answer {
	long status;
	char *body;		/* NUL-terminated; "" when empty */
	size_t len;
};

/*
 * Finds vigild and the token. Returns 0, or -1 with a reason in err
 * (an unreadable token file, a configuration that does not parse).
 */
int client_init(struct client *c, const struct client_opts *o, char *err,
    size_t errlen);
/* Forgets the token (wiped) and the rest. */
void client_clear(struct client *c);

/*
 * method path (with any query) and an optional JSON body. Returns 0 with
 * the answer (any status), or -1 when vigild could not be reached or its
 * answer not read (err says why).
 */
int client_request(const struct client *c, const char *method,
    const char *path, const char *body, struct client_answer *a, char *err,
    size_t errlen);
/* The same, to urls[i]. */
int client_request_at(const struct client *c, size_t i, const char *method,
    const char *path, const char *body, struct client_answer *a, char *err,
    size_t errlen);
void client_answer_clear(struct client_answer *a);

/*
 * The URL for a listen address: "127.0.0.1:9464" -> "http://127.0.0.1:9464",
 * "0.0.0.0:9464" -> "http://127.0.0.1:9464", "[::]:1" -> "http://[::1]:1".
 * Returns 0, or -1 if it is not one.
 */
int client_url_for_listen(const char *listen, bool tls, char *out,
    size_t len);

#endif
