/*
 * The "api.tls" section: a certificate (chain) and its key, PEM files
 * read at load time, so `vigild --check-config` says at once that a file
 * is missing or unreadable rather than the listener failing later.
 */
#include <stdlib.h>
#include <string.h>

#include "config/cfgread_int.h"
#include "base/file.h"

/* Certificate chains are a few KiB; anything this large is a mistake. */
#define PEM_MAX (256 * 1024)

/* The whole file, NUL-terminated; NULL (reported) on any problem. */
static char *
read_pem(struct cfgread *v, const cJSON *node, const char *path,
    const char *what)
{
	char *buf, why[128];
	int rc = file_read(path, PEM_MAX, &buf, NULL, why, sizeof(why));

	if (rc == FILE_ERR_NOT_REGULAR || rc == FILE_ERR_TOO_BIG) {
		cfg_err(v, node, "the TLS %s %s must be a regular file of at "
		    "most %d bytes", what, path, PEM_MAX);
		return NULL;
	}
	if (rc != FILE_OK) {
		cfg_err(v, node, "cannot read the TLS %s %s: %s", what, path,
		    why);
		return NULL;
	}
	if (strstr(buf, "-----BEGIN ") == NULL) {
		cfg_err(v, node, "the TLS %s %s is not in PEM format (no "
		    "\"-----BEGIN\" line)", what, path);
		/* A key file may be the key in another format: wipe it. */
		explicit_bzero(buf, strlen(buf));
		free(buf);
		return NULL;
	}
	return buf;
}

void
cfg_parse_api_tls(struct cfgread *v, const cJSON *api, struct config *cfg)
{
	static const char *const keys[] = { "cert_file", "key_file", NULL };
	const cJSON *t = cfg_object(v, api, "tls");
	const char *cert = NULL, *key = NULL;

	if (t == NULL)
		return;
	cfg_check_keys(v, t, keys, "\"api.tls\"");
	cfg_string(v, t, "cert_file", &cert);
	cfg_string(v, t, "key_file", &key);
	if (cert == NULL || key == NULL) {
		cfg_err(v, t, "\"api.tls\" needs both \"cert_file\" and "
		    "\"key_file\"");
		return;
	}
	cfg->api_tls_cert = read_pem(v, cfg_member(t, "cert_file"), cert,
	    "certificate");
	cfg->api_tls_key = read_pem(v, cfg_member(t, "key_file"), key,
	    "key");
}

void
cfg_clear_api_tls(struct config *cfg)
{
	free(cfg->api_tls_cert);
	if (cfg->api_tls_key != NULL) {
		/* A secret: gone from memory with the config. */
		explicit_bzero(cfg->api_tls_key, strlen(cfg->api_tls_key));
		free(cfg->api_tls_key);
	}
	cfg->api_tls_cert = cfg->api_tls_key = NULL;
}
