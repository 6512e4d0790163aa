/*
 * HTTP plumbing of the portal simulator: see sim_http.c.
 */
#ifndef PORTAL_SIM_HTTP_H
#define PORTAL_SIM_HTTP_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <microhttpd.h>

#define BODY_MAX 4096

/* A fixed-size body; bodies here are small and overflow is an error. */
struct body {
	char data[BODY_MAX];
	size_t len;
	int overflow;
};

__attribute__((format(printf, 2, 3)))
void body_printf(struct body *b, const char *fmt, ...);
/* A JSON string of s, at most max bytes of it (echoed input is bounded). */
void body_json_string(struct body *b, const char *s, size_t max);

/* JSON responses; an overflowed body becomes a 500. */
enum MHD_Result send_body(struct MHD_Connection *c, unsigned int status,
                          const struct body *b, const char *allow);
enum MHD_Result send_literal(struct MHD_Connection *c, unsigned int status,
                             const char *json, const char *allow);
enum MHD_Result send_not_found(struct MHD_Connection *c, const char *url);
/* 405 with an Allow header listing the methods the path accepts. */
enum MHD_Result send_bad_method(struct MHD_Connection *c, const char *allow);
/* 200 with a size-byte JSON body, chunked, no Content-Length; the stream
 * aborts once *stopping is set. */
enum MHD_Result send_huge(struct MHD_Connection *c, uint64_t size,
                          atomic_int *stopping);

/* Whole-string decimal parsing with bounds; 0 on success, -1 otherwise. */
int parse_long(const char *s, long lo, long hi, long *out);
int parse_u64(const char *s, uint64_t hi, uint64_t *out);
int parse_double(const char *s, double lo, double hi, double *out);

#endif
