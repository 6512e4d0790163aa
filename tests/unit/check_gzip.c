/* Unit tests for lib/base/gzip.c: Accept-Encoding parsing, and compression
 * that zlib's own inflate reads back whole. */
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <zlib.h>

#include "base/gzip.h"
#include "suites.h"

START_TEST(test_accepted)
{
	static const struct {
		const char *ae;
		bool ok;
	} c[] = {
		{ NULL, false },
		{ "", false },
		{ "gzip", true },
		{ "GZip", true },
		{ "deflate, gzip;q=1.0, *;q=0.5", true },
		{ "br;q=1.0, gzip;q=0.8", true },
		{ "x-gzip", true },
		{ "*", true },
		{ "identity", false },
		{ "gzip;q=0", false },
		{ "gzip; q=0.000", false },
		{ "gzip;q=0.001", true },
		{ "gzipx, xgzip", false },
		{ "deflate,br", false },
		{ " gzip ", true },
		{ "br, *;q=0", false },
		{ ",,;gzip", false },
		{ "gzip;level=1;q=0", false },
	};

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++)
		ck_assert_msg(gzip_accepted(c[i].ae) == c[i].ok, "\"%s\"",
		    c[i].ae != NULL ? c[i].ae : "(null)");
}
END_TEST

START_TEST(test_round_trip)
{
	size_t n = 200000, zn, back_n = n + 16;
	char *in = malloc(n), *z, *back = malloc(back_n);
	z_stream s;

	/* Repetitive, like /status, with some noise. */
	for (size_t i = 0; i < n; i++)
		in[i] = i % 97 == 0 ? (char)('a' + i % 23) : "{\"name\":"[i % 8];
	ck_assert_int_eq(gzip_compress(in, n, &z, &zn), 0);
	ck_assert_uint_lt(zn, n / 4);
	/* The gzip magic: a member, not a bare zlib stream. */
	ck_assert_int_eq((unsigned char)z[0], 0x1f);
	ck_assert_int_eq((unsigned char)z[1], 0x8b);
	memset(&s, 0, sizeof(s));
	ck_assert_int_eq(inflateInit2(&s, 15 + 16), Z_OK);
	s.next_in = (Bytef *)z;
	s.avail_in = (uInt)zn;
	s.next_out = (Bytef *)back;
	s.avail_out = (uInt)back_n;
	ck_assert_int_eq(inflate(&s, Z_FINISH), Z_STREAM_END);
	ck_assert_uint_eq(s.total_out, n);
	ck_assert_int_eq(memcmp(in, back, n), 0);
	inflateEnd(&s);
	free(in);
	free(z);
	free(back);
}
END_TEST

START_TEST(test_empty)
{
	char *z;
	size_t zn;

	ck_assert_int_eq(gzip_compress("", 0, &z, &zn), 0);
	ck_assert_uint_gt(zn, 0);
	free(z);
}
END_TEST

Suite *
gzip_suite(void)
{
	Suite *s = suite_create("gzip");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_accepted);
	tcase_add_test(tc, test_round_trip);
	tcase_add_test(tc, test_empty);
	suite_add_tcase(s, tc);
	return s;
}
