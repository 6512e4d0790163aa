/*
 * gzip: answers compressed for the clients that ask. /status is a
 * megabyte at a thousand probes and compresses about 17 to 1 (it repeats
 * its keys); curl --compressed, browsers and vigilctl accept gzip, and
 * then an answer costs a seventeenth of the copying and of the network.
 * zlib does the compressing: the same library libcurl already links.
 */
#ifndef VIGIL_GZIP_H
#define VIGIL_GZIP_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Whether an Accept-Encoding header value (NULL: absent) admits gzip:
 * "gzip", "x-gzip" or "*", any case, with no q=0 (RFC 9110 12.5.3).
 */
bool gzip_accepted(const char *accept_encoding);

/*
 * in[0..len) as a gzip member (RFC 1952) in *out (malloc'd, *outlen
 * bytes). 0, or -1 when out of memory.
 */
int gzip_compress(const char *in, size_t len, char **out, size_t *outlen);

#endif
