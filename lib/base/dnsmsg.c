#include "base/dnsmsg.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

const char *
dnsmsg_strerror(enum dnsmsg_err e)
{
	switch (e) {
	case DNSMSG_OK:
		return "ok";
	case DNSMSG_E_NAME:
		return "invalid name";
	case DNSMSG_E_SHORT:
		return "packet too short";
	case DNSMSG_E_POINTER:
		return "bad compression pointer";
	case DNSMSG_E_NOT_ANSWER:
		return "not an answer to the question asked";
	case DNSMSG_E_RDATA:
		return "malformed record data";
	case DNSMSG_E_SPACE:
		return "does not fit";
	}
	return "?";
}

static const struct {
	const char *name;
	int type;
} types[] = {
	{ "A", DNS_T_A }, { "AAAA", DNS_T_AAAA }, { "CNAME", DNS_T_CNAME },
	{ "MX", DNS_T_MX }, { "TXT", DNS_T_TXT },
};

int
dnsmsg_type_from_name(const char *s)
{
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (strcmp(types[i].name, s) == 0)
			return types[i].type;
	return 0;
}

const char *
dnsmsg_type_name(int type)
{
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (types[i].type == type)
			return types[i].name;
	return NULL;
}

static void
put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static unsigned
get16(const uint8_t *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

enum dnsmsg_err
dnsmsg_encode_query(uint16_t id, const char *name, int type, uint8_t *buf,
    size_t len, size_t *out_len)
{
	size_t n = strlen(name), o = 12;
	const char *s = name;

	if (n > 0 && name[n - 1] == '.')
		n--;
	if (n == 0 || n > 253)
		return DNSMSG_E_NAME;
	/* Header, labels (n + 1 bytes with the root), type, class. */
	if (len < 12 + n + 2 + 4)
		return DNSMSG_E_SPACE;
	memset(buf, 0, 12);
	put16(buf, id);
	buf[2] = 0x01;		/* RD: the server may recurse for us */
	put16(buf + 4, 1);	/* QDCOUNT */
	while (s < name + n) {
		const char *dot = memchr(s, '.', (size_t)(name + n - s));
		size_t l = dot != NULL ? (size_t)(dot - s) : (size_t)(name + n - s);

		if (l == 0 || l > 63)
			return DNSMSG_E_NAME;
		buf[o++] = (uint8_t)l;
		memcpy(buf + o, s, l);
		o += l;
		s += l + (dot != NULL);
		if (dot != NULL && s == name + n)
			return DNSMSG_E_NAME;	/* "a..": an empty last label */
	}
	buf[o++] = 0;
	put16(buf + o, (unsigned)type);
	put16(buf + o + 2, 1);	/* IN */
	*out_len = o + 4;
	return DNSMSG_OK;
}

enum dnsmsg_err
dnsmsg_read_name(const uint8_t *pkt, size_t len, size_t *off, char *out,
    size_t outlen)
{
	size_t p = *off, o = 0, end = 0, wire = 0, seg = *off;
	bool jumped = false;

	if (outlen == 0)
		return DNSMSG_E_SPACE;
	for (;;) {
		unsigned l;

		if (p >= len)
			return DNSMSG_E_SHORT;
		l = pkt[p];
		if ((l & 0xc0) == 0xc0) {
			size_t to;

			if (p + 1 >= len)
				return DNSMSG_E_SHORT;
			to = (size_t)(l & 0x3f) << 8 | pkt[p + 1];
			/*
			 * Only to before where the labels being read began:
			 * every jump lowers that start, so no cycle.
			 */
			if (to >= seg)
				return DNSMSG_E_POINTER;
			if (!jumped)
				end = p + 2;
			jumped = true;
			p = seg = to;
			continue;
		}
		if ((l & 0xc0) != 0)
			return DNSMSG_E_NAME;	/* 0x40, 0x80: obsolete labels */
		if (l == 0) {
			p++;
			break;
		}
		if (p + 1 + l > len)
			return DNSMSG_E_SHORT;
		wire += l + 1;
		if (wire > 254)
			return DNSMSG_E_NAME;
		if (o + (o > 0) + l >= outlen)
			return DNSMSG_E_SPACE;
		if (o > 0)
			out[o++] = '.';
		memcpy(out + o, pkt + p + 1, l);
		o += l;
		p += 1 + l;
	}
	out[o] = '\0';
	*off = jumped ? end : p;
	return DNSMSG_OK;
}

/* A TXT's character-strings joined as one text (RFC 7208 3.3 joins them). */
static enum dnsmsg_err
txt_text(const uint8_t *d, size_t n, char *out, size_t outlen)
{
	size_t i = 0, o = 0;

	while (i < n) {
		size_t l = d[i++];

		if (i + l > n)
			return DNSMSG_E_RDATA;
		for (size_t k = 0; k < l; k++) {
			if (o + 1 >= outlen)
				goto full;
			/* No NUL inside a C string: it would cut the text. */
			out[o++] = d[i + k] == '\0' ? '?' : (char)d[i + k];
		}
		i += l;
	}
full:
	out[o] = '\0';
	return DNSMSG_OK;
}

static enum dnsmsg_err
rdata_text(const uint8_t *pkt, size_t len, size_t off, size_t rdlen, int type,
    char *out, size_t outlen)
{
	char name[DNSMSG_MAX_NAME + 1];
	size_t p = off;
	enum dnsmsg_err e;

	if (off + rdlen > len)
		return DNSMSG_E_SHORT;
	switch (type) {
	case DNS_T_A:
		if (rdlen != 4)
			return DNSMSG_E_RDATA;
		inet_ntop(AF_INET, pkt + off, out, (socklen_t)outlen);
		return DNSMSG_OK;
	case DNS_T_AAAA:
		if (rdlen != 16)
			return DNSMSG_E_RDATA;
		inet_ntop(AF_INET6, pkt + off, out, (socklen_t)outlen);
		return DNSMSG_OK;
	case DNS_T_CNAME:
		/* Names inside rdata may point anywhere before them. */
		e = dnsmsg_read_name(pkt, off + rdlen, &p, name, sizeof(name));
		if (e != DNSMSG_OK)
			return e;
		if (p != off + rdlen)
			return DNSMSG_E_RDATA;
		snprintf(out, outlen, "%s", name);
		return DNSMSG_OK;
	case DNS_T_MX:
		if (rdlen < 3)
			return DNSMSG_E_RDATA;
		p = off + 2;
		e = dnsmsg_read_name(pkt, off + rdlen, &p, name, sizeof(name));
		if (e != DNSMSG_OK)
			return e;
		if (p != off + rdlen)
			return DNSMSG_E_RDATA;
		snprintf(out, outlen, "%u %s", get16(pkt + off), name);
		return DNSMSG_OK;
	case DNS_T_TXT:
		return txt_text(pkt + off, rdlen, out, outlen);
	}
	return DNSMSG_E_RDATA;
}

enum dnsmsg_err
dnsmsg_decode_reply(const uint8_t *pkt, size_t len, const char *name,
    int type, struct dnsmsg_reply *out)
{
	char qname[DNSMSG_MAX_NAME + 1];
	unsigned qd, an;
	size_t p = 12;
	enum dnsmsg_err e;

	memset(out, 0, sizeof(*out));
	if (len < 12)
		return DNSMSG_E_SHORT;
	out->id = (uint16_t)get16(pkt);
	if (!(pkt[2] & 0x80))
		return DNSMSG_E_NOT_ANSWER;
	out->truncated = (pkt[2] & 0x02) != 0;
	out->rcode = pkt[3] & 0x0f;
	qd = get16(pkt + 4);
	an = get16(pkt + 6);
	if (qd != 1) {
		/* A truncated or failed reply may leave out the question. */
		if (qd == 0 && (out->truncated || out->rcode != 0))
			return DNSMSG_OK;
		return DNSMSG_E_NOT_ANSWER;
	}
	e = dnsmsg_read_name(pkt, len, &p, qname, sizeof(qname));
	if (e != DNSMSG_OK)
		return e;
	if (p + 4 > len)
		return DNSMSG_E_SHORT;
	if (name != NULL) {
		size_t n = strlen(name);

		if (n > 0 && name[n - 1] == '.')
			n--;
		if (strlen(qname) != n || strncasecmp(qname, name, n) != 0 ||
		    get16(pkt + p) != (unsigned)type || get16(pkt + p + 2) != 1)
			return DNSMSG_E_NOT_ANSWER;
	}
	p += 4;
	for (unsigned i = 0; i < an; i++) {
		unsigned rtype, rclass, rdlen;

		e = dnsmsg_read_name(pkt, len, &p, qname, sizeof(qname));
		if (e != DNSMSG_OK)
			return out->truncated ? DNSMSG_OK : e;
		if (p + 10 > len)
			return out->truncated ? DNSMSG_OK : DNSMSG_E_SHORT;
		rtype = get16(pkt + p);
		rclass = get16(pkt + p + 2);
		rdlen = get16(pkt + p + 8);
		p += 10;
		if (p + rdlen > len)
			return out->truncated ? DNSMSG_OK : DNSMSG_E_SHORT;
		/* Only the asked type: a CNAME on the way to an A is skipped. */
		if (rtype == (unsigned)type && rclass == 1) {
			if (out->nanswers < DNSMSG_MAX_ANSWERS) {
				e = rdata_text(pkt, len, p, rdlen, type,
				    out->answers[out->nanswers],
				    DNSMSG_MAX_TEXT);
				if (e != DNSMSG_OK)
					return e;
				out->nanswers++;
			} else {
				out->more++;
			}
		}
		p += rdlen;
	}
	return DNSMSG_OK;
}
