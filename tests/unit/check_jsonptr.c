/* Unit tests for lib/base/jsonptr.c: RFC 6901 JSON Pointers. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "base/jsonptr.h"
#include "suites.h"

/* RFC 6901, section 5. */
static const char rfc_doc[] =
    "{\n"
    "  \"foo\": [\"bar\", \"baz\"],\n"
    "  \"\": 0,\n"
    "  \"a/b\": 1,\n"
    "  \"c%d\": 2,\n"
    "  \"e^f\": 3,\n"
    "  \"g|h\": 4,\n"
    "  \"i\\\\j\": 5,\n"
    "  \"k\\\"l\": 6,\n"
    "  \" \": 7,\n"
    "  \"m~n\": 8\n"
    "}";

static cJSON *
parse(const char *text)
{
	cJSON *root = cJSON_Parse(text);

	ck_assert_msg(root != NULL, "test document does not parse: %s", text);
	return root;
}

static void
assert_number(const cJSON *root, const char *ptr, double want)
{
	double v = -12345;
	int rc = jsonptr_number(root, ptr, &v);

	ck_assert_msg(rc == JSONPTR_OK, "%.100s: %s", ptr, jsonptr_strerror(rc));
	ck_assert_double_eq(v, want);
}

static void
assert_err(const cJSON *root, const char *ptr, int want)
{
	const cJSON *out = (const cJSON *)&out;	/* must stay untouched */
	int rc = jsonptr_get(root, ptr, &out);

	ck_assert_msg(rc == want, "\"%.100s\": got %d (%s), want %d (%s)", ptr, rc,
	    jsonptr_strerror(rc), want, jsonptr_strerror(want));
	ck_assert_ptr_eq(out, (const cJSON *)&out);
}

START_TEST(test_rfc6901_examples)
{
	cJSON *root = parse(rfc_doc);
	const cJSON *out = NULL, *foo;

	ck_assert_int_eq(jsonptr_get(root, "", &out), JSONPTR_OK);
	ck_assert_ptr_eq(out, root);

	ck_assert_int_eq(jsonptr_get(root, "/foo", &out), JSONPTR_OK);
	foo = cJSON_GetObjectItemCaseSensitive(root, "foo");
	ck_assert_ptr_eq(out, foo);
	ck_assert(cJSON_IsArray(out));
	ck_assert_int_eq(cJSON_GetArraySize(out), 2);

	ck_assert_int_eq(jsonptr_get(root, "/foo/0", &out), JSONPTR_OK);
	ck_assert_str_eq(out->valuestring, "bar");
	ck_assert_int_eq(jsonptr_get(root, "/foo/1", &out), JSONPTR_OK);
	ck_assert_str_eq(out->valuestring, "baz");

	assert_number(root, "/", 0);
	assert_number(root, "/a~1b", 1);
	assert_number(root, "/c%d", 2);
	assert_number(root, "/e^f", 3);
	assert_number(root, "/g|h", 4);
	assert_number(root, "/i\\j", 5);
	assert_number(root, "/k\"l", 6);
	assert_number(root, "/ ", 7);
	assert_number(root, "/m~0n", 8);

	/* Unescaped forms do not match the escaped names. */
	assert_err(root, "/a/b", JSONPTR_ENOTFOUND);
	assert_err(root, "/m~n", JSONPTR_ESYNTAX);
	assert_err(root, "/m~1n", JSONPTR_ENOTFOUND);
	assert_err(root, "/a~0b", JSONPTR_ENOTFOUND);
	cJSON_Delete(root);
}
END_TEST

START_TEST(test_escape_order)
{
	/* "~01" is "~1" (decode ~1 then ~0 semantics), never "/". */
	cJSON *root = parse("{\"~1\": 1, \"/\": 2, \"~\": 3, \"~0\": 4, "
	    "\"/~\": 5, \"~/\": 6, \"a~~b\": 7, \"//\": 8}");

	assert_number(root, "/~01", 1);
	assert_number(root, "/~1", 2);
	assert_number(root, "/~0", 3);
	assert_number(root, "/~00", 4);
	assert_number(root, "/~1~0", 5);
	assert_number(root, "/~0~1", 6);
	assert_number(root, "/a~0~0b", 7);
	assert_number(root, "/~1~1", 8);
	cJSON_Delete(root);
}
END_TEST

START_TEST(test_syntax)
{
	static const char *const bad[] = {
		"foo", " /foo", "#/foo", "~0", "/~", "/a~", "/~2", "/~a",
		"/a~/b", "/foo/~", "/~~", "//~x", "/ok/~3/x",
	};
	static const char *const good[] = {
		"", "/", "//", "/foo", "/~0", "/~1", "/a~0b~1c", "/foo/0",
		"/foo/-", "/ /", "/~01", "/\xc3\xa9",
	};
	cJSON *root = parse(rfc_doc);
	size_t k;

	for (k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		ck_assert_msg(jsonptr_valid(bad[k]) == JSONPTR_ESYNTAX,
		    "\"%s\" accepted", bad[k]);
		/* Syntax is checked before the document is walked. */
		assert_err(root, bad[k], JSONPTR_ESYNTAX);
		ck_assert_int_eq(jsonptr_number(root, bad[k], NULL),
		    JSONPTR_ESYNTAX);
	}
	for (k = 0; k < sizeof(good) / sizeof(good[0]); k++)
		ck_assert_msg(jsonptr_valid(good[k]) == JSONPTR_OK,
		    "\"%s\" rejected", good[k]);
	ck_assert_int_eq(jsonptr_valid(NULL), JSONPTR_ESYNTAX);
	assert_err(root, NULL, JSONPTR_ESYNTAX);
	cJSON_Delete(root);
}
END_TEST

START_TEST(test_arrays)
{
	cJSON *root = parse("{\"a\": [10, 11, 12, [20, [30]], {\"0\": 40}],"
	    "\"e\": []}");
	const cJSON *out;

	assert_number(root, "/a/0", 10);
	assert_number(root, "/a/2", 12);
	assert_number(root, "/a/3/0", 20);
	assert_number(root, "/a/3/1/0", 30);
	/* On an object, "0" is a member name. */
	assert_number(root, "/a/4/0", 40);

	assert_err(root, "/a/5", JSONPTR_ENOTFOUND);
	assert_err(root, "/a/-", JSONPTR_ENOTFOUND);
	assert_err(root, "/e/0", JSONPTR_ENOTFOUND);
	assert_err(root, "/e/-", JSONPTR_ENOTFOUND);
	assert_err(root, "/a/99999999999999999999999999", JSONPTR_ENOTFOUND);
	assert_err(root, "/a/18446744073709551616", JSONPTR_ENOTFOUND);
	assert_err(root, "/a/2147483648", JSONPTR_ENOTFOUND);

	/* Not an index: leading zero, sign, letters, empty, escapes. */
	assert_err(root, "/a/01", JSONPTR_ETYPE);
	assert_err(root, "/a/00", JSONPTR_ETYPE);
	assert_err(root, "/a/+1", JSONPTR_ETYPE);
	assert_err(root, "/a/-1", JSONPTR_ETYPE);
	assert_err(root, "/a/1a", JSONPTR_ETYPE);
	assert_err(root, "/a/ 1", JSONPTR_ETYPE);
	assert_err(root, "/a/x", JSONPTR_ETYPE);
	assert_err(root, "/a/", JSONPTR_ETYPE);
	assert_err(root, "/a/~0", JSONPTR_ETYPE);
	assert_err(root, "/a/--", JSONPTR_ETYPE);

	ck_assert_int_eq(jsonptr_get(root, "/a/3/1", &out), JSONPTR_OK);
	ck_assert(cJSON_IsArray(out));
	ck_assert_int_eq(jsonptr_get(root, "/a/3/1", NULL), JSONPTR_OK);
	cJSON_Delete(root);
}
END_TEST

START_TEST(test_missing_and_types)
{
	cJSON *root = parse("{\"s\": \"str\", \"n\": 1, \"t\": true, "
	    "\"z\": null, \"o\": {\"p\": {}}}");

	assert_err(root, "/missing", JSONPTR_ENOTFOUND);
	assert_err(root, "/o/q", JSONPTR_ENOTFOUND);
	assert_err(root, "/o/p/q", JSONPTR_ENOTFOUND);
	assert_err(root, "/o/p/q/r", JSONPTR_ENOTFOUND);
	assert_err(root, "/o/", JSONPTR_ENOTFOUND);
	/* Stepping into a scalar. */
	assert_err(root, "/s/0", JSONPTR_ETYPE);
	assert_err(root, "/s/x", JSONPTR_ETYPE);
	assert_err(root, "/n/x", JSONPTR_ETYPE);
	assert_err(root, "/t/x", JSONPTR_ETYPE);
	assert_err(root, "/z/x", JSONPTR_ETYPE);
	assert_err(root, "/z/", JSONPTR_ETYPE);
	/* A NULL document has nothing in it. */
	assert_err(NULL, "", JSONPTR_ENOTFOUND);
	assert_err(NULL, "/a", JSONPTR_ENOTFOUND);
	cJSON_Delete(root);

	/* A scalar root: "" is the scalar, anything deeper a type error. */
	root = parse("42");
	assert_number(root, "", 42);
	assert_err(root, "/0", JSONPTR_ETYPE);
	cJSON_Delete(root);
}
END_TEST

START_TEST(test_case_sensitive)
{
	cJSON *root = parse("{\"Status\": 1, \"status\": 2, "
	    "\"Metrics\": {\"P95\": 3}}");

	assert_number(root, "/Status", 1);
	assert_number(root, "/status", 2);
	assert_err(root, "/STATUS", JSONPTR_ENOTFOUND);
	assert_number(root, "/Metrics/P95", 3);
	assert_err(root, "/metrics/P95", JSONPTR_ENOTFOUND);
	assert_err(root, "/Metrics/p95", JSONPTR_ENOTFOUND);
	/* Prefixes and extensions of a name are other names. */
	assert_err(root, "/Statu", JSONPTR_ENOTFOUND);
	assert_err(root, "/Statuss", JSONPTR_ENOTFOUND);
	cJSON_Delete(root);
}
END_TEST

START_TEST(test_arbitrary_names)
{
	/* Member names are arbitrary bytes: UTF-8, long, with escapes. */
	size_t n = 5000, k;
	char *name = malloc(n + 1), *ptr = malloc(2 * n + 2);
	cJSON *root = cJSON_CreateObject();

	ck_assert_ptr_nonnull(name);
	ck_assert_ptr_nonnull(ptr);
	ck_assert_ptr_nonnull(root);
	for (k = 0; k < n; k++)
		name[k] = (k % 7 == 3) ? '/' : (k % 11 == 5) ? '~' : 'x';
	name[n - 1] = 'x';	/* so that the last byte is not escaped */
	name[n] = '\0';
	cJSON_AddNumberToObject(root, name, 1);
	cJSON_AddNumberToObject(root, "\xc3\xa9t\xc3\xa9", 2);
	cJSON_AddNumberToObject(root, "a\tb\x7f", 3);
	/* Encode: '/' -> "~1", '~' -> "~0". */
	ptr[0] = '/';
	for (k = 0, n = 1; name[k] != '\0'; k++) {
		if (name[k] == '/' || name[k] == '~') {
			ptr[n++] = '~';
			ptr[n++] = name[k] == '/' ? '1' : '0';
		} else
			ptr[n++] = name[k];
	}
	ptr[n] = '\0';
	assert_number(root, ptr, 1);
	ptr[n - 1] = '\0';	/* one byte short: another name */
	assert_err(root, ptr, JSONPTR_ENOTFOUND);
	assert_number(root, "/\xc3\xa9t\xc3\xa9", 2);
	assert_err(root, "/\xc3\xa9t\xc3", JSONPTR_ENOTFOUND);
	assert_number(root, "/a\tb\x7f", 3);
	cJSON_Delete(root);
	free(name);
	free(ptr);
}
END_TEST

/* Adds a number node holding any double, NaN included. */
static void
add_raw_number(cJSON *obj, const char *name, double v)
{
	cJSON *n = cJSON_CreateNumber(0);

	ck_assert_ptr_nonnull(n);
	n->valuedouble = v;
	ck_assert(cJSON_AddItemToObject(obj, name, n));
}

START_TEST(test_numbers)
{
	cJSON *root = parse("{\"n\": -2.5, \"i\": 42, \"t\": true, \"f\": false, "
	    "\"z\": null, \"s\": \"12\", \"a\": [1], \"o\": {}, "
	    "\"big\": 1e308}");
	double v;

	assert_number(root, "/n", -2.5);
	assert_number(root, "/i", 42);
	assert_number(root, "/t", 1);
	assert_number(root, "/f", 0);
	assert_number(root, "/big", 1e308);
	assert_number(root, "/a/0", 1);

	/* Not numbers: *out is left alone. */
	v = 99;
	ck_assert_int_eq(jsonptr_number(root, "/z", &v), JSONPTR_ENOTNUM);
	ck_assert_int_eq(jsonptr_number(root, "/s", &v), JSONPTR_ENOTNUM);
	ck_assert_int_eq(jsonptr_number(root, "/a", &v), JSONPTR_ENOTNUM);
	ck_assert_int_eq(jsonptr_number(root, "/o", &v), JSONPTR_ENOTNUM);
	ck_assert_int_eq(jsonptr_number(root, "", &v), JSONPTR_ENOTNUM);
	/* Lookup errors pass through. */
	ck_assert_int_eq(jsonptr_number(root, "/nope", &v), JSONPTR_ENOTFOUND);
	ck_assert_int_eq(jsonptr_number(root, "/n/x", &v), JSONPTR_ETYPE);
	ck_assert_int_eq(jsonptr_number(root, "n", &v), JSONPTR_ESYNTAX);
	ck_assert_double_eq(v, 99);

	/* NaN and infinities (possible in trees built by code) are refused. */
	add_raw_number(root, "nan", NAN);
	add_raw_number(root, "inf", INFINITY);
	add_raw_number(root, "ninf", -INFINITY);
	ck_assert_int_eq(jsonptr_number(root, "/nan", &v), JSONPTR_ENOTNUM);
	ck_assert_int_eq(jsonptr_number(root, "/inf", &v), JSONPTR_ENOTNUM);
	ck_assert_int_eq(jsonptr_number(root, "/ninf", &v), JSONPTR_ENOTNUM);
	ck_assert_double_eq(v, 99);
	/* ...though jsonptr_get still finds them. */
	ck_assert_int_eq(jsonptr_get(root, "/nan", NULL), JSONPTR_OK);
	ck_assert_int_eq(jsonptr_number(root, "/i", NULL), JSONPTR_OK);
	cJSON_Delete(root);
}
END_TEST

START_TEST(test_strerror)
{
	static const int codes[] = { JSONPTR_OK, JSONPTR_ESYNTAX,
	    JSONPTR_ENOTFOUND, JSONPTR_ETYPE, JSONPTR_ENOTNUM };
	size_t k, j;

	ck_assert_str_eq(jsonptr_strerror(JSONPTR_ENOTFOUND),
	    "no such member or index");
	ck_assert_str_eq(jsonptr_strerror(JSONPTR_OK), "success");
	ck_assert_ptr_nonnull(strstr(jsonptr_strerror(JSONPTR_ENOTNUM),
	    "not a finite number"));
	ck_assert_ptr_nonnull(strstr(jsonptr_strerror(JSONPTR_ESYNTAX),
	    "invalid JSON pointer"));
	ck_assert_ptr_nonnull(strstr(jsonptr_strerror(JSONPTR_ETYPE),
	    "scalar"));
	ck_assert_str_eq(jsonptr_strerror(-99), "unknown JSON pointer error");
	ck_assert_str_eq(jsonptr_strerror(7), "unknown JSON pointer error");
	/* Every code has its own text. */
	for (k = 0; k < 5; k++)
		for (j = k + 1; j < 5; j++)
			ck_assert_str_ne(jsonptr_strerror(codes[k]),
			    jsonptr_strerror(codes[j]));
}
END_TEST

Suite *
jsonptr_suite(void)
{
	Suite *s = suite_create("jsonptr");
	TCase *tc = tcase_create("jsonptr");

	tcase_add_test(tc, test_rfc6901_examples);
	tcase_add_test(tc, test_escape_order);
	tcase_add_test(tc, test_syntax);
	tcase_add_test(tc, test_arrays);
	tcase_add_test(tc, test_missing_and_types);
	tcase_add_test(tc, test_case_sensitive);
	tcase_add_test(tc, test_arbitrary_names);
	tcase_add_test(tc, test_numbers);
	tcase_add_test(tc, test_strerror);
	suite_add_tcase(s, tc);
	return s;
}
