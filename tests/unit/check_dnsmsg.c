/* base/dnsmsg: queries encoded, replies decoded, hostile packets refused. */
#include <string.h>
#include <check.h>

#include "base/dnsmsg.h"
#include "suites.h"

/* Names encoded: the wire bytes after the 12-byte header, or an error. */
static const struct {
	const char *name;
	int type;
	enum dnsmsg_err err;
	const char *wire;
	size_t wlen;
} enc[] = {
	{ "a.bc", DNS_T_A, DNSMSG_OK, "\1a\2bc\0\0\1\0\1", 10 },
	{ "a.bc.", DNS_T_MX, DNSMSG_OK, "\1a\2bc\0\0\x0f\0\1", 10 },
	{ "x", DNS_T_AAAA, DNSMSG_OK, "\1x\0\0\x1c\0\1", 7 },
	{ "", DNS_T_A, DNSMSG_E_NAME, NULL, 0 },
	{ ".", DNS_T_A, DNSMSG_E_NAME, NULL, 0 },
	{ "a..b", DNS_T_A, DNSMSG_E_NAME, NULL, 0 },
	{ ".a", DNS_T_A, DNSMSG_E_NAME, NULL, 0 },
	{ "a..", DNS_T_A, DNSMSG_E_NAME, NULL, 0 },
	/* 64 bytes in one label */
	{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	    DNS_T_A, DNSMSG_E_NAME, NULL, 0 },
};

START_TEST(test_encode_table)
{
	uint8_t buf[DNSMSG_QUERY_MAX];
	size_t n = 0;
	enum dnsmsg_err e;

	e = dnsmsg_encode_query(0x1234, enc[_i].name, enc[_i].type, buf,
	    sizeof(buf), &n);
	ck_assert_int_eq(e, enc[_i].err);
	if (e != DNSMSG_OK)
		return;
	ck_assert_uint_eq(n, 12 + enc[_i].wlen);
	ck_assert(memcmp(buf, "\x12\x34\x01\0\0\1\0\0\0\0\0\0", 12) == 0);
	ck_assert(memcmp(buf + 12, enc[_i].wire, enc[_i].wlen) == 0);
}
END_TEST

START_TEST(test_encode_long_names)
{
	char name[300];
	uint8_t buf[DNSMSG_QUERY_MAX], small[20];
	size_t n;

	/* 63 + 1 + 63 + 1 + 63 + 1 + 61 = 253: the longest. */
	memset(name, 'a', 253);
	name[63] = name[127] = name[191] = '.';
	name[253] = '\0';
	ck_assert_int_eq(dnsmsg_encode_query(1, name, DNS_T_A, buf,
	    sizeof(buf), &n), DNSMSG_OK);
	ck_assert_uint_eq(n, 12 + 255 + 4);
	name[253] = 'a';
	name[254] = '\0';
	ck_assert_int_eq(dnsmsg_encode_query(1, name, DNS_T_A, buf,
	    sizeof(buf), &n), DNSMSG_E_NAME);
	ck_assert_int_eq(dnsmsg_encode_query(1, "portal.example.com", DNS_T_A,
	    small, sizeof(small), &n), DNSMSG_E_SPACE);
}
END_TEST

/* Names decoded at an offset of a packet. */
static const struct {
	const char *pkt;
	size_t len, off;
	enum dnsmsg_err err;
	const char *name;
	size_t end;
} dec[] = {
	{ "\1a\2bc\0", 6, 0, DNSMSG_OK, "a.bc", 6 },
	{ "\0", 1, 0, DNSMSG_OK, "", 1 },
	/* "x" then a pointer back to "a.bc" at 0 */
	{ "\1a\2bc\0\1x\xc0\0", 10, 6, DNSMSG_OK, "x.a.bc", 10 },
	/* a pointer to a pointer, both backwards */
	{ "\2bc\0\1a\xc0\0\xc0\4", 10, 8, DNSMSG_OK, "a.bc", 10 },
	/* a pointer to itself */
	{ "\xc0\0", 2, 0, DNSMSG_E_POINTER, NULL, 0 },
	/* forwards */
	{ "\xc0\2\1a\0", 5, 0, DNSMSG_E_POINTER, NULL, 0 },
	/* a cycle: 4 -> 0, "a" then a pointer to 0's label again */
	{ "\1a\xc0\0\xc0\0", 6, 4, DNSMSG_E_POINTER, NULL, 0 },
	/* a cycle through a later pointer: 0:"a" 2:ptr->4 4:ptr->0 */
	{ "\1a\xc0\4\xc0\0", 6, 4, DNSMSG_E_POINTER, NULL, 0 },
	/* truncated: in a label, before the end, in a pointer */
	{ "\3ab", 3, 0, DNSMSG_E_SHORT, NULL, 0 },
	{ "\1a", 2, 0, DNSMSG_E_SHORT, NULL, 0 },
	{ "\1a\xc0", 3, 0, DNSMSG_E_SHORT, NULL, 0 },
	{ "", 0, 0, DNSMSG_E_SHORT, NULL, 0 },
	/* obsolete label types */
	{ "\x41\0", 2, 0, DNSMSG_E_NAME, NULL, 0 },
};

START_TEST(test_decode_names)
{
	char out[DNSMSG_MAX_NAME + 1];
	size_t off = dec[_i].off;

	ck_assert_int_eq(dnsmsg_read_name((const uint8_t *)dec[_i].pkt,
	    dec[_i].len, &off, out, sizeof(out)), dec[_i].err);
	if (dec[_i].err != DNSMSG_OK)
		return;
	ck_assert_str_eq(out, dec[_i].name);
	ck_assert_uint_eq(off, dec[_i].end);
}
END_TEST

START_TEST(test_decode_oversized_name)
{
	/* 5 labels of 63: 320 bytes on the wire, more than 255. */
	uint8_t pkt[400];
	char out[DNSMSG_MAX_NAME + 1], tiny[4];
	size_t o = 0, off = 0;

	for (int i = 0; i < 5; i++) {
		pkt[o++] = 63;
		memset(pkt + o, 'a', 63);
		o += 63;
	}
	pkt[o++] = 0;
	ck_assert_int_eq(dnsmsg_read_name(pkt, o, &off, out, sizeof(out)),
	    DNSMSG_E_NAME);
	off = 0;
	ck_assert_int_eq(dnsmsg_read_name((const uint8_t *)"\4abcd\0", 6, &off,
	    tiny, sizeof(tiny)), DNSMSG_E_SPACE);
}
END_TEST

/* A reply for portal.test A: two addresses and a CNAME between. */
static const uint8_t reply[] =
    "\x12\x34\x81\x80\0\1\0\3\0\0\0\0"
    "\6portal\4test\0\0\1\0\1"
    "\xc0\x0c\0\5\0\1\0\0\0\x3c\0\5\2cd\xc0\x13"	/* CNAME cd.test */
    "\xc0\x0c\0\1\0\1\0\0\0\x3c\0\4\xc0\0\2\x0a"
    "\xc0\x0c\0\1\0\1\0\0\0\x3c\0\4\xc0\0\2\x0b";

START_TEST(test_decode_reply)
{
	struct dnsmsg_reply r;

	ck_assert_int_eq(dnsmsg_decode_reply(reply, sizeof(reply) - 1,
	    "Portal.Test.", DNS_T_A, &r), DNSMSG_OK);
	ck_assert_uint_eq(r.id, 0x1234);
	ck_assert_int_eq(r.rcode, 0);
	ck_assert(!r.truncated);
	ck_assert_uint_eq(r.nanswers, 2);
	ck_assert_str_eq(r.answers[0], "192.0.2.10");
	ck_assert_str_eq(r.answers[1], "192.0.2.11");
	/* The CNAME alone when it is what was asked (its own question). */
	ck_assert_int_eq(dnsmsg_decode_reply(reply, sizeof(reply) - 1,
	    "portal.test", DNS_T_CNAME, &r), DNSMSG_E_NOT_ANSWER);
	ck_assert_int_eq(dnsmsg_decode_reply(reply, sizeof(reply) - 1,
	    "other.test", DNS_T_A, &r), DNSMSG_E_NOT_ANSWER);
	/* Every shorter prefix fails cleanly, never reads past its end. */
	for (size_t n = 0; n < sizeof(reply) - 1; n++)
		ck_assert_int_ne(dnsmsg_decode_reply(reply, n, "portal.test",
		    DNS_T_A, &r), DNSMSG_OK);
}
END_TEST

START_TEST(test_decode_rdata)
{
	static const uint8_t mx[] =
	    "\0\1\x81\x80\0\1\0\1\0\0\0\0" "\1p\0\0\x0f\0\1"
	    "\xc0\x0c\0\x0f\0\1\0\0\0\1\0\7\0\x0a\2mx\xc0\x0c";
	static const uint8_t txt[] =
	    "\0\1\x81\x80\0\1\0\1\0\0\0\0" "\1p\0\0\x10\0\1"
	    "\xc0\x0c\0\x10\0\1\0\0\0\1\0\7\3v=1\2 x";
	static const uint8_t badlen[] =
	    "\0\1\x81\x80\0\1\0\1\0\0\0\0" "\1p\0\0\1\0\1"
	    "\xc0\x0c\0\1\0\1\0\0\0\1\0\3\1\2\3";
	static const uint8_t nx[] = "\0\1\x81\x83\0\1\0\0\0\0\0\0"
	    "\1p\0\0\1\0\1";
	static const uint8_t tc[] = "\0\1\x83\x80\0\0\0\0\0\0\0\0";
	static const uint8_t query[] = "\0\1\1\0\0\1\0\0\0\0\0\0"
	    "\1p\0\0\1\0\1";
	struct dnsmsg_reply r;

	ck_assert_int_eq(dnsmsg_decode_reply(mx, sizeof(mx) - 1, "p",
	    DNS_T_MX, &r), DNSMSG_OK);
	ck_assert_str_eq(r.answers[0], "10 mx.p");
	ck_assert_int_eq(dnsmsg_decode_reply(txt, sizeof(txt) - 1, "p",
	    DNS_T_TXT, &r), DNSMSG_OK);
	ck_assert_str_eq(r.answers[0], "v=1 x");
	ck_assert_int_eq(dnsmsg_decode_reply(badlen, sizeof(badlen) - 1, "p",
	    DNS_T_A, &r), DNSMSG_E_RDATA);
	ck_assert_int_eq(dnsmsg_decode_reply(nx, sizeof(nx) - 1, "p",
	    DNS_T_A, &r), DNSMSG_OK);
	ck_assert_int_eq(r.rcode, 3);
	ck_assert_int_eq(dnsmsg_decode_reply(tc, sizeof(tc) - 1, "p",
	    DNS_T_A, &r), DNSMSG_OK);
	ck_assert(r.truncated);
	ck_assert_int_eq(dnsmsg_decode_reply(query, sizeof(query) - 1, "p",
	    DNS_T_A, &r), DNSMSG_E_NOT_ANSWER);
}
END_TEST

START_TEST(test_type_names)
{
	ck_assert_int_eq(dnsmsg_type_from_name("AAAA"), DNS_T_AAAA);
	ck_assert_int_eq(dnsmsg_type_from_name("aaaa"), 0);
	ck_assert_int_eq(dnsmsg_type_from_name("SRV"), 0);
	ck_assert_str_eq(dnsmsg_type_name(DNS_T_TXT), "TXT");
	ck_assert_ptr_null(dnsmsg_type_name(33));
}
END_TEST

Suite *
dnsmsg_suite(void)
{
	Suite *s = suite_create("dnsmsg");
	TCase *tc = tcase_create("dnsmsg");

	tcase_add_loop_test(tc, test_encode_table, 0,
	    (int)(sizeof(enc) / sizeof(enc[0])));
	tcase_add_test(tc, test_encode_long_names);
	tcase_add_loop_test(tc, test_decode_names, 0,
	    (int)(sizeof(dec) / sizeof(dec[0])));
	tcase_add_test(tc, test_decode_oversized_name);
	tcase_add_test(tc, test_decode_reply);
	tcase_add_test(tc, test_decode_rdata);
	tcase_add_test(tc, test_type_names);
	suite_add_tcase(s, tc);
	return s;
}
