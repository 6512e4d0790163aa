/* utf8: see utf8.h. */
#include "base/utf8.h"

#include <stdbool.h>
#include <stdint.h>

#include <stdio.h>
#include <string.h>

/*
 * The second-byte ranges are those of RFC 3629's table, which excludes
 * overlong forms, surrogates and code points past U+10FFFF.
 */
size_t
utf8_seq_len(const char *s, size_t avail)
{
	const unsigned char *p = (const unsigned char *)s;
	unsigned char c = p[0];
	unsigned char lo = 0x80, hi = 0xbf;
	size_t n, i;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4;
	else
		return 0;
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if (avail < n)
		return 0;
	if (p[1] < lo || p[1] > hi)
		return 0;
	/* A NUL ends the string early: it fails the range test below. */
	for (i = 2; i < n; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return n;
}

size_t
utf8_scrub(char *s)
{
	unsigned char *p = (unsigned char *)s;
	size_t bad = 0;

	while (*p != '\0') {
		/* No bound needed: the NUL fails every continuation test. */
		size_t n = utf8_seq_len((const char *)p, SIZE_MAX);

		if (n == 0) {
			*p++ = '?';
			bad++;
		} else {
			p += n;
		}
	}
	return bad;
}

/* A C1 control (U+0080..U+009F) is encoded as C2 80..C2 9F. */
static bool
is_c1(const unsigned char *p, size_t n)
{
	return n == 2 && p[0] == 0xc2 && p[1] <= 0x9f;
}

size_t
utf8_escape_controls(const char *in, size_t inlen, char *out, size_t outlen)
{
	const unsigned char *p = (const unsigned char *)in;
	size_t i = 0, o = 0;

	if (outlen == 0)
		return 0;
	while (i < inlen) {
		size_t n = utf8_seq_len((const char *)p + i, inlen - i);
		bool esc = n == 0 || (n == 1 && (p[i] < 0x20 || p[i] == 0x7f)) ||
		    is_c1(p + i, n);
		size_t take = n == 0 ? 1 : n;

		if (esc) {
			/* Each byte as \xNN; whole escapes only. */
			if (o + 4 * take >= outlen)
				break;
			for (size_t k = 0; k < take; k++)
				o += (size_t)snprintf(out + o, outlen - o,
				    "\\x%02x", p[i + k]);
		} else {
			if (o + take >= outlen)
				break;
			for (size_t k = 0; k < take; k++)
				out[o++] = (char)p[i + k];
		}
		i += take;
	}
	out[o] = '\0';
	return o;
}

enum utf8_line
utf8_check_line(const char *s, size_t max)
{
	size_t len = strlen(s);

	if (len > max)
		return UTF8_LINE_LONG;
	for (size_t i = 0; i < len;) {
		size_t n = utf8_seq_len(s + i, len - i);

		if (n == 0)
			return UTF8_LINE_INVALID;
		if ((n == 1 && ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)) ||
		    is_c1((const unsigned char *)s + i, n))
			return UTF8_LINE_CONTROL;
		i += n;
	}
	return UTF8_LINE_OK;
}
