/*
 * Unit tests for lib/base/jsonpath.c: RFC 9535 JSONPath, its examples
 * written out as node lists, syntax errors at their offsets, and hostile
 * queries and documents held to the module's bounds.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "base/jsonpath.h"
#include "suites.h"

/* RFC 9535, section 1.5. */
static const char bookstore[] =
    "{ \"store\": {"
    "    \"book\": ["
    "      { \"category\": \"reference\", \"author\": \"Nigel Rees\","
    "        \"title\": \"Sayings of the Century\", \"price\": 8.95 },"
    "      { \"category\": \"fiction\", \"author\": \"Evelyn Waugh\","
    "        \"title\": \"Sword of Honour\", \"price\": 12.99 },"
    "      { \"category\": \"fiction\", \"author\": \"Herman Melville\","
    "        \"title\": \"Moby Dick\", \"isbn\": \"0-553-21311-3\","
    "        \"price\": 8.99 },"
    "      { \"category\": \"fiction\", \"author\": \"J. R. R. Tolkien\","
    "        \"title\": \"The Lord of the Rings\","
    "        \"isbn\": \"0-395-19395-8\", \"price\": 22.99 }"
    "    ],"
    "    \"bicycle\": { \"color\": \"red\", \"price\": 399 }"
    "  }"
    "}";

/* RFC 9535, section 2.3.5.3. */
static const char filterdoc[] =
    "{ \"a\": [3, 5, 1, 2, 4, 6, {\"b\": \"j\"}, {\"b\": \"k\"},"
    "        {\"b\": {}}, {\"b\": \"kilo\"}],"
    "  \"o\": {\"p\": 1, \"q\": 2, \"r\": 3, \"s\": 5, \"t\": {\"u\": 6}},"
    "  \"e\": \"f\" }";

static cJSON *
parse(const char *text)
{
	cJSON *root = cJSON_Parse(text);

	ck_assert_msg(root != NULL, "test document does not parse: %s", text);
	return root;
}

/* The node list of query on doc, as one compact JSON array. */
static char *
run(const cJSON *doc, const char *query)
{
	struct jsonpath_nodes l = { 0 };
	const char *why = NULL;
	size_t at = 0;
	struct jsonpath *p = jsonpath_parse(query, &at, &why);
	cJSON *arr;
	char *s;

	ck_assert_msg(p != NULL, "%s: %s at %zu", query, why, at);
	ck_assert_msg(jsonpath_eval(p, doc, &l, &why) == 0, "%s: %s", query,
	    why);
	arr = cJSON_CreateArray();
	for (size_t i = 0; i < l.n; i++)
		cJSON_AddItemToArray(arr, cJSON_Duplicate(l.node[i], 1));
	s = cJSON_PrintUnformatted(arr);
	cJSON_Delete(arr);
	jsonpath_nodes_clear(&l);
	jsonpath_free(p);
	return s;
}

#define assert_q(doc, query, want) do {					\
	char *got_ = run((doc), (query));				\
	ck_assert_msg(strcmp(got_, (want)) == 0, "%s: got %s, want %s", \
	    (query), got_, (want));					\
	free(got_);							\
} while (0)

static size_t
count(const cJSON *doc, const char *query)
{
	struct jsonpath_nodes l = { 0 };
	struct jsonpath *p = jsonpath_parse(query, NULL, NULL);
	size_t n;

	ck_assert_msg(p != NULL, "%s does not parse", query);
	ck_assert_int_eq(jsonpath_eval(p, doc, &l, NULL), 0);
	n = l.n;
	jsonpath_nodes_clear(&l);
	jsonpath_free(p);
	return n;
}

#define assert_syntax(query, want_at) do {				\
	size_t at_ = 9999;						\
	const char *why_ = NULL;					\
	struct jsonpath *p_ = jsonpath_parse((query), &at_, &why_);	\
	ck_assert_msg(p_ == NULL, "%s parsed", (query));		\
	ck_assert_ptr_nonnull(why_);					\
	ck_assert_msg(at_ == (size_t)(want_at), "%s: error at %zu (%s), " \
	    "want %d", (query), at_, why_, (int)(want_at));		\
} while (0)

START_TEST(test_bookstore)
{
	cJSON *d = parse(bookstore);

	assert_q(d, "$.store.book[*].author", "[\"Nigel Rees\","
	    "\"Evelyn Waugh\",\"Herman Melville\",\"J. R. R. Tolkien\"]");
	assert_q(d, "$..author", "[\"Nigel Rees\",\"Evelyn Waugh\","
	    "\"Herman Melville\",\"J. R. R. Tolkien\"]");
	assert_q(d, "$.store.*", "[[{\"category\":\"reference\","
	    "\"author\":\"Nigel Rees\",\"title\":\"Sayings of the Century\","
	    "\"price\":8.95},{\"category\":\"fiction\",\"author\":"
	    "\"Evelyn Waugh\",\"title\":\"Sword of Honour\",\"price\":12.99},"
	    "{\"category\":\"fiction\",\"author\":\"Herman Melville\","
	    "\"title\":\"Moby Dick\",\"isbn\":\"0-553-21311-3\","
	    "\"price\":8.99},{\"category\":\"fiction\",\"author\":"
	    "\"J. R. R. Tolkien\",\"title\":\"The Lord of the Rings\","
	    "\"isbn\":\"0-395-19395-8\",\"price\":22.99}],"
	    "{\"color\":\"red\",\"price\":399}]");
	assert_q(d, "$.store..price", "[8.95,12.99,8.99,22.99,399]");
	assert_q(d, "$..book[2]", "[{\"category\":\"fiction\",\"author\":"
	    "\"Herman Melville\",\"title\":\"Moby Dick\",\"isbn\":"
	    "\"0-553-21311-3\",\"price\":8.99}]");
	assert_q(d, "$..book[2].author", "[\"Herman Melville\"]");
	assert_q(d, "$..book[2].publisher", "[]");
	assert_q(d, "$..book[-1].title", "[\"The Lord of the Rings\"]");
	assert_q(d, "$..book[0,1].title",
	    "[\"Sayings of the Century\",\"Sword of Honour\"]");
	assert_q(d, "$..book[:2].title",
	    "[\"Sayings of the Century\",\"Sword of Honour\"]");
	assert_q(d, "$..book[?@.isbn].title",
	    "[\"Moby Dick\",\"The Lord of the Rings\"]");
	assert_q(d, "$..book[?@.price<10].title",
	    "[\"Sayings of the Century\",\"Moby Dick\"]");
	/* store, book, bicycle, 4 books, 18 book members, 2 bicycle's */
	ck_assert_uint_eq(count(d, "$..*"), 27);
	assert_q(d, "$", "[" "{\"store\":{\"book\":[{\"category\":"
	    "\"reference\",\"author\":\"Nigel Rees\",\"title\":"
	    "\"Sayings of the Century\",\"price\":8.95},{\"category\":"
	    "\"fiction\",\"author\":\"Evelyn Waugh\",\"title\":"
	    "\"Sword of Honour\",\"price\":12.99},{\"category\":\"fiction\","
	    "\"author\":\"Herman Melville\",\"title\":\"Moby Dick\","
	    "\"isbn\":\"0-553-21311-3\",\"price\":8.99},{\"category\":"
	    "\"fiction\",\"author\":\"J. R. R. Tolkien\",\"title\":"
	    "\"The Lord of the Rings\",\"isbn\":\"0-395-19395-8\","
	    "\"price\":22.99}],\"bicycle\":{\"color\":\"red\","
	    "\"price\":399}}}" "]");
	cJSON_Delete(d);
}
END_TEST

/* RFC 9535, Table 12 (match() and search() are not supported). */
START_TEST(test_rfc_filters)
{
	cJSON *d = parse(filterdoc);

	assert_q(d, "$.a[?@.b == 'kilo']", "[{\"b\":\"kilo\"}]");
	assert_q(d, "$.a[?(@.b == 'kilo')]", "[{\"b\":\"kilo\"}]");
	assert_q(d, "$.a[?@>3.5]", "[5,4,6]");
	assert_q(d, "$.a[?@.b]", "[{\"b\":\"j\"},{\"b\":\"k\"},{\"b\":{}},"
	    "{\"b\":\"kilo\"}]");
	assert_q(d, "$[?@.*]", "[[3,5,1,2,4,6,{\"b\":\"j\"},{\"b\":\"k\"},"
	    "{\"b\":{}},{\"b\":\"kilo\"}],{\"p\":1,\"q\":2,\"r\":3,\"s\":5,"
	    "\"t\":{\"u\":6}}]");
	assert_q(d, "$[?@[?@.b]]", "[[3,5,1,2,4,6,{\"b\":\"j\"},"
	    "{\"b\":\"k\"},{\"b\":{}},{\"b\":\"kilo\"}]]");
	assert_q(d, "$.o[?@<3, ?@<3]", "[1,2,1,2]");
	assert_q(d, "$.a[?@<2 || @.b == \"k\"]", "[1,{\"b\":\"k\"}]");
	assert_q(d, "$.o[?@>1 && @<4]", "[2,3]");
	assert_q(d, "$.o[?@.u || @.x]", "[{\"u\":6}]");
	assert_q(d, "$.a[?@.b == $.x]", "[3,5,1,2,4,6]");
	assert_q(d, "$.a[?@ == @]", "[3,5,1,2,4,6,{\"b\":\"j\"},"
	    "{\"b\":\"k\"},{\"b\":{}},{\"b\":\"kilo\"}]");
	cJSON_Delete(d);
}
END_TEST

/*
 * RFC 9535, Table 11, each comparison as the filter of $[?...] on a
 * document of two members: true selects both, false neither.
 */
START_TEST(test_rfc_comparisons)
{
	static const struct { const char *expr; bool want; } t[] = {
		{ "$.absent1 == $.absent2", true },
		{ "$.absent1 <= $.absent2", true },
		{ "$.absent == 'g'", false },
		{ "$.absent1 != $.absent2", false },
		{ "$.absent != 'g'", true },
		{ "1 <= 2", true },
		{ "1 > 2", false },
		{ "13 == '13'", false },
		{ "'a' <= 'b'", true },
		{ "'a' > 'b'", false },
		{ "$.obj == $.arr", false },
		{ "$.obj != $.arr", true },
		{ "$.obj == $.obj", true },
		{ "$.obj != $.obj", false },
		{ "$.arr == $.arr", true },
		{ "$.arr != $.arr", false },
		{ "$.obj == 17", false },
		{ "$.obj != 17", true },
		{ "$.obj <= $.arr", false },
		{ "$.obj < $.arr", false },
		{ "$.obj <= $.obj", true },
		{ "$.arr <= $.arr", true },
		{ "1 <= $.arr", false },
		{ "1 >= $.arr", false },
		{ "1 > $.arr", false },
		{ "1 < $.arr", false },
		{ "true <= true", true },
		{ "true > true", false },
		/* beyond the table */
		{ "1 == 1.0", true },
		{ "1e2 == 100", true },
		{ "-0 == 0", true },
		{ "null == null", true },
		{ "null == false", false },
		{ "false < true", false },
		{ "'\\u00e9' > 'z'", true },
		{ "'\\uD834\\uDD1E' > '\\uFFFF'", true },
		{ "$.obj == {}", false },	/* not run: a syntax error */
	};
	cJSON *d = parse("{\"obj\": {\"x\": \"y\"}, \"arr\": [2, 3]}");

	for (size_t i = 0; i + 1 < sizeof(t) / sizeof(t[0]); i++) {
		char q[128];

		snprintf(q, sizeof(q), "$[?%s]", t[i].expr);
		ck_assert_msg(count(d, q) == (t[i].want ? 2 : 0), "%s", q);
	}
	assert_syntax("$[?$.obj == {}]", 12);
	cJSON_Delete(d);
}
END_TEST

/* RFC 9535, sections 2.3.1.3 to 2.3.4.3 and 2.5.2.3. */
START_TEST(test_rfc_selectors)
{
	cJSON *d = parse("{\"o\": {\"j j\": {\"k.k\": 3}}, \"'\": {\"@\": 2}}");

	assert_q(d, "$.o['j j']", "[{\"k.k\":3}]");
	assert_q(d, "$.o['j j']['k.k']", "[3]");
	assert_q(d, "$.o[\"j j\"][\"k.k\"]", "[3]");
	assert_q(d, "$[\"'\"][\"@\"]", "[2]");
	assert_q(d, "$['\\'']['\\u0040']", "[2]");
	cJSON_Delete(d);

	d = parse("{\"o\": {\"j\": 1, \"k\": 2}, \"a\": [5, 3]}");
	assert_q(d, "$[*]", "[{\"j\":1,\"k\":2},[5,3]]");
	assert_q(d, "$.o[*]", "[1,2]");
	assert_q(d, "$.o[*, *]", "[1,2,1,2]");
	assert_q(d, "$.a[*]", "[5,3]");
	assert_q(d, "$.a.*", "[5,3]");
	cJSON_Delete(d);

	d = parse("[\"a\",\"b\",\"c\",\"d\",\"e\",\"f\",\"g\"]");
	assert_q(d, "$[1]", "[\"b\"]");
	assert_q(d, "$[-2]", "[\"f\"]");
	assert_q(d, "$[7]", "[]");
	assert_q(d, "$[-8]", "[]");
	assert_q(d, "$[1:3]", "[\"b\",\"c\"]");
	assert_q(d, "$[5:]", "[\"f\",\"g\"]");
	assert_q(d, "$[1:5:2]", "[\"b\",\"d\"]");
	assert_q(d, "$[5:1:-2]", "[\"f\",\"d\"]");
	assert_q(d, "$[::-1]", "[\"g\",\"f\",\"e\",\"d\",\"c\",\"b\",\"a\"]");
	assert_q(d, "$[:]", "[\"a\",\"b\",\"c\",\"d\",\"e\",\"f\",\"g\"]");
	assert_q(d, "$[::0]", "[]");
	assert_q(d, "$[-2:]", "[\"f\",\"g\"]");
	assert_q(d, "$[-100:2]", "[\"a\",\"b\"]");
	assert_q(d, "$[ 1 : 3 : 1 ]", "[\"b\",\"c\"]");
	assert_q(d, "$[0, -1, 0:2]", "[\"a\",\"g\",\"a\",\"b\"]");
	assert_q(d, "$[9007199254740991:-9007199254740991:-1]",
	    "[\"g\",\"f\",\"e\",\"d\",\"c\",\"b\",\"a\"]");
	assert_q(d, "$.a", "[]");
	cJSON_Delete(d);

	d = parse("{\"o\": {\"j\": 1, \"k\": 2}, \"a\": [5, 3, [{\"j\": 4}, "
	    "{\"k\": 6}]]}");
	assert_q(d, "$..j", "[1,4]");
	assert_q(d, "$..[0]", "[5,{\"j\":4}]");
	assert_q(d, "$..[*]", "[{\"j\":1,\"k\":2},[5,3,[{\"j\":4},"
	    "{\"k\":6}]],1,2,5,3,[{\"j\":4},{\"k\":6}],{\"j\":4},{\"k\":6},"
	    "4,6]");
	assert_q(d, "$..*", "[{\"j\":1,\"k\":2},[5,3,[{\"j\":4},"
	    "{\"k\":6}]],1,2,5,3,[{\"j\":4},{\"k\":6}],{\"j\":4},{\"k\":6},"
	    "4,6]");
	assert_q(d, "$..o", "[{\"j\":1,\"k\":2}]");
	assert_q(d, "$.o..[*, *]", "[1,2,1,2]");
	assert_q(d, "$.a..[0, 1]", "[5,3,{\"j\":4},{\"k\":6}]");
	cJSON_Delete(d);

	/* 2.6.1: null is a value, not nothing */
	d = parse("{\"a\": null, \"b\": [null], \"c\": [{}], \"null\": 1}");
	assert_q(d, "$.a", "[null]");
	assert_q(d, "$.a[0]", "[]");
	assert_q(d, "$.a.d", "[]");
	assert_q(d, "$.b[0]", "[null]");
	assert_q(d, "$.b[*]", "[null]");
	assert_q(d, "$.b[?@]", "[null]");
	assert_q(d, "$.b[?@==null]", "[null]");
	assert_q(d, "$.c[?@.d==null]", "[]");
	assert_q(d, "$.null", "[1]");
	cJSON_Delete(d);
}
END_TEST

/* The case that made vigil want JSONPath: Spring Boot Actuator. */
START_TEST(test_actuator)
{
	cJSON *d = parse("{\"name\":\"jvm.memory.used\",\"measurements\":["
	    "{\"statistic\":\"VALUE\",\"value\":1.5e8},"
	    "{\"statistic\":\"MAX\",\"value\":2e8}]}");

	assert_q(d, "$.measurements[?@.statistic=='MAX'].value",
	    "[200000000]");
	assert_q(d, "$.measurements[?@.statistic == \"VALUE\"].value",
	    "[150000000]");
	assert_q(d, "$.measurements[?@.statistic=='COUNT'].value", "[]");
	assert_q(d, "$.measurements[?@.statistic].value",
	    "[150000000,200000000]");
	assert_q(d, "$.measurements[?!(@.statistic=='MAX')].value",
	    "[150000000]");
	assert_q(d, "$.measurements[?!@.missing].statistic",
	    "[\"VALUE\",\"MAX\"]");
	assert_q(d, "$.measurements[?@.value > 1e8 && @.value < 1.6e8]"
	    ".statistic", "[\"VALUE\"]");
	assert_q(d, "$.measurements[?$.name == 'jvm.memory.used' && "
	    "@.statistic == 'MAX'].value", "[200000000]");
	assert_q(d, "$.measurements[?(@.statistic=='MAX' || "
	    "@.statistic=='VALUE') && @.value >= 2e8].statistic",
	    "[\"MAX\"]");
	cJSON_Delete(d);
}
END_TEST

START_TEST(test_functions)
{
	cJSON *d = parse("{\"a\": [\"ab\", \"\xc3\xa9t\xc3\xa9\", [1, 2], "
	    "{\"x\": 1}, 7, {\"x\": [1, 2, 3]}]}");

	assert_q(d, "$.a[?length(@) == 2]", "[\"ab\",[1,2]]");
	assert_q(d, "$.a[?length(@) == 3]", "[\"\xc3\xa9t\xc3\xa9\"]");
	assert_q(d, "$.a[?length(@) == 1]", "[{\"x\":1},{\"x\":[1,2,3]}]");
	assert_q(d, "$.a[?length(@.x) >= 3]", "[{\"x\":[1,2,3]}]");
	assert_q(d, "$.a[?count(@.*) == 2]", "[[1,2]]");
	assert_q(d, "$.a[?count(@..*) > 3]", "[{\"x\":[1,2,3]}]");
	assert_q(d, "$[?length($.a) == 6]", "[[\"ab\",\"\xc3\xa9t\xc3\xa9\","
	    "[1,2],{\"x\":1},7,{\"x\":[1,2,3]}]]");
	assert_q(d, "$[?length('abc') == 3]", "[[\"ab\",\"\xc3\xa9t\xc3\xa9\","
	    "[1,2],{\"x\":1},7,{\"x\":[1,2,3]}]]");
	assert_q(d, "$[?length(length('abc')) == 3]", "[]");  /* nothing */
	assert_q(d, "$[?count($..*) == 14]", "[[\"ab\",\"\xc3\xa9t\xc3\xa9\","
	    "[1,2],{\"x\":1},7,{\"x\":[1,2,3]}]]");
	/* RFC 9535, 2.4.3 and 2.4.9: what is not well-typed */
	assert_syntax("$[?length(@.*) < 3]", 10);
	assert_syntax("$[?count(1) == 1]", 9);
	assert_syntax("$[?length(@)]", 3);
	assert_syntax("$[?count(@.*)]", 3);
	assert_syntax("$[?length(@, @) == 1]", 11);
	assert_syntax("$[?match(@.b, 'a.*')]", 3);
	assert_syntax("$[?search(@.b, 'a')]", 3);
	assert_syntax("$[?value(@.b) == 1]", 3);
	assert_syntax("$[?nosuch(@) == 1]", 3);
	assert_syntax("$[?length (@) == 1]", 3);
	cJSON_Delete(d);
}
END_TEST

START_TEST(test_names_and_strings)
{
	cJSON *d = parse("{\"a b\": 1, \"\\u00e9\": 2, \"q\\\"'\": 3, "
	    "\"\\ud834\\udd1e\": 4, \"_x9\": 5, \"A\": 6, \"a\": 7, "
	    "\"t\\t\": 8, \"\": 9}");

	assert_q(d, "$['a b']", "[1]");
	assert_q(d, "$.\xc3\xa9", "[2]");
	assert_q(d, "$['\\u00e9']", "[2]");
	assert_q(d, "$['\\u00E9']", "[2]");
	assert_q(d, "$['q\"\\'']", "[3]");
	assert_q(d, "$[\"q\\\"'\"]", "[3]");
	assert_q(d, "$['\\uD834\\uDD1E']", "[4]");
	assert_q(d, "$._x9", "[5]");
	assert_q(d, "$.A", "[6]");	/* names are case-sensitive */
	assert_q(d, "$.a", "[7]");
	assert_q(d, "$['t\\t']", "[8]");
	assert_q(d, "$['']", "[9]");
	assert_q(d, "$['a\\u0000']", "[]");
	assert_q(d, "$['a', 'A', 'nope']", "[7,6]");
	assert_q(d, "$ [ 'a' , 'A' ]", "[7,6]");
	assert_q(d, "$ .a [ 'A' ]", "[]");	/* 7 has no members */
	cJSON_Delete(d);
}
END_TEST

START_TEST(test_syntax_errors)
{
	assert_syntax("", 0);
	assert_syntax("/a/b", 0);
	assert_syntax("a", 0);
	assert_syntax("$.", 2);
	assert_syntax("$..", 3);
	assert_syntax("$[", 2);
	assert_syntax("$[]", 2);
	assert_syntax("$['a'", 5);
	assert_syntax("$['a' 'b']", 6);
	assert_syntax("$['a',]", 6);
	assert_syntax("$['a", 2);
	assert_syntax("$.a b", 3);
	assert_syntax("$ ", 1);
	assert_syntax("$.a.", 4);
	assert_syntax("$.1a", 2);
	assert_syntax("$.a-b", 3);
	assert_syntax("$[01]", 2);
	assert_syntax("$[-0]", 2);
	assert_syntax("$[1.0]", 3);
	assert_syntax("$[+1]", 2);
	assert_syntax("$[1:2:3:4]", 7);
	assert_syntax("$[:-0]", 3);
	assert_syntax("$['\\x']", 3);
	assert_syntax("$[\"\\'\"]", 3);
	assert_syntax("$['\\'']x", 7);
	assert_syntax("$['\\uD834']", 3);
	assert_syntax("$['\\uDD1E']", 3);
	assert_syntax("$['\\u12']", 3);
	assert_syntax("$['a\x01']", 4);
	assert_syntax("$['\xff']", 3);
	assert_syntax("$.\xed\xa0\x80", 2);	/* a surrogate in UTF-8 */
	assert_syntax("$[?]", 3);
	assert_syntax("$[?@.a == ]", 10);
	assert_syntax("$[?@.a = 1]", 7);
	assert_syntax("$[?@.a === 1]", 9);
	assert_syntax("$[?@.a == 1 == 2]", 12);
	assert_syntax("$[?true]", 3);
	assert_syntax("$[?'a']", 3);
	assert_syntax("$[?1]", 3);
	assert_syntax("$[?@.* == 1]", 3);
	assert_syntax("$[?1 == @..a]", 8);
	assert_syntax("$[?@[?@.a] == 1]", 3);
	assert_syntax("$[?(@.a]", 7);
	assert_syntax("$[?(@.a) == 1]", 9);
	assert_syntax("$[?!@.a == 1]", 8);
	assert_syntax("$[?!!@.a]", 4);
	assert_syntax("$[?@.a & @.b]", 7);
	assert_syntax("$[?@.a | @.b]", 7);
	assert_syntax("$[?@.a && ]", 10);
	assert_syntax("$[?tru]", 3);
	assert_syntax("$[?True]", 3);
	assert_syntax("$[?@.a == 01]", 10);
	assert_syntax("$[?@.a == 1.]", 12);
	assert_syntax("$[?@.a == 1e]", 12);
	assert_syntax("$[?@.a == 1e999]", 10);
	assert_syntax("$[?@.a == .5]", 10);
	assert_syntax("$[?@.a == +1]", 10);
	assert_syntax("$[?@ == @.a == 1]", 12);
}
END_TEST

START_TEST(test_matches_counted)
{
	cJSON *d = parse("{\"m\": [{\"s\": \"A\", \"v\": 1}, "
	    "{\"s\": \"A\", \"v\": 2}, {\"s\": \"A\", \"v\": 3}, "
	    "{\"s\": \"B\", \"v\": 4}]}");

	ck_assert_uint_eq(count(d, "$.m[?@.s=='A'].v"), 3);
	ck_assert_uint_eq(count(d, "$.m[?@.s=='B'].v"), 1);
	ck_assert_uint_eq(count(d, "$.m[?@.s=='C'].v"), 0);
	ck_assert_uint_eq(count(d, "$.nothing.here"), 0);
	ck_assert_uint_eq(count(d, "$.m[0,0,0].v"), 3);	/* duplicates stay */
	cJSON_Delete(d);
}
END_TEST

START_TEST(test_api_edges)
{
	struct jsonpath_nodes l = { 0 };
	struct jsonpath *p = jsonpath_parse("$", NULL, NULL);
	const char *why = NULL;
	cJSON *d = parse("[1]");

	ck_assert(jsonpath_is_query("$.a"));
	ck_assert(!jsonpath_is_query("/a"));
	ck_assert(!jsonpath_is_query(""));
	ck_assert(!jsonpath_is_query(NULL));
	ck_assert_ptr_null(jsonpath_parse(NULL, NULL, NULL));
	ck_assert_int_eq(jsonpath_eval(NULL, d, &l, &why), -1);
	ck_assert_ptr_nonnull(why);
	ck_assert_int_eq(jsonpath_eval(p, NULL, &l, NULL), -1);
	ck_assert_uint_eq(l.n, 0);
	/* the list is emptied first, then reused */
	ck_assert_int_eq(jsonpath_eval(p, d, &l, NULL), 0);
	ck_assert_int_eq(jsonpath_eval(p, d, &l, NULL), 0);
	ck_assert_uint_eq(l.n, 1);
	ck_assert_ptr_eq(l.node[0], d);
	jsonpath_nodes_clear(&l);
	jsonpath_nodes_clear(NULL);
	jsonpath_free(p);
	jsonpath_free(NULL);
	cJSON_Delete(d);
}
END_TEST

static char *
repeat(const char *head, const char *unit, size_t n, const char *tail)
{
	size_t hl = strlen(head), ul = strlen(unit), tl = strlen(tail);
	char *s = malloc(hl + ul * n + tl + 1), *w = s;

	ck_assert_ptr_nonnull(s);
	memcpy(w, head, hl);
	w += hl;
	for (size_t i = 0; i < n; i++, w += ul)
		memcpy(w, unit, ul);
	memcpy(w, tail, tl + 1);
	return s;
}

START_TEST(test_hostile_queries)
{
	cJSON *d = parse("{\"a\": {\"a\": {\"a\": 1}}}");
	char *q;
	size_t at;
	const char *why;
	struct jsonpath *p;

	/* too long, whatever it is */
	q = repeat("$", ".a", JSONPATH_MAX_LEN, "");
	assert_syntax(q, JSONPATH_MAX_LEN);
	free(q);
	q = repeat("$", ".a", (JSONPATH_MAX_LEN - 1) / 2, "");
	ck_assert_uint_eq(count(d, q), 0);
	free(q);
	/* nesting: parentheses, filters, functions */
	{
		char *open = repeat("$[?", "(", JSONPATH_MAX_NEST - 1, "@.a");
		char *all = repeat(open, ")", JSONPATH_MAX_NEST - 1, "]");

		ck_assert_uint_eq(count(d, all), 1);
		free(open);
		free(all);
		open = repeat("$[?", "(", JSONPATH_MAX_NEST + 1, "@.a");
		all = repeat(open, ")", JSONPATH_MAX_NEST + 1, "]");
		p = jsonpath_parse(all, &at, &why);
		ck_assert_ptr_null(p);
		ck_assert_uint_eq(at, 3 + JSONPATH_MAX_NEST - 1);
		free(open);
		free(all);
	}
	q = repeat("$", "[?@", 1000, "");
	p = jsonpath_parse(q, &at, &why);
	ck_assert_ptr_null(p);
	ck_assert_uint_eq(at, 1 + 3 * JSONPATH_MAX_NEST + 1);
	free(q);
	q = repeat("$[?", "length(", 1000, "");
	ck_assert_ptr_null(jsonpath_parse(q, NULL, NULL));
	free(q);
	q = repeat("$[?", "(", 100000, "");	/* longer than allowed */
	assert_syntax(q, JSONPATH_MAX_LEN);
	free(q);
	/* huge indexes and slices */
	assert_syntax("$[9007199254740992]", 2);
	assert_syntax("$[-9007199254740992]", 2);
	assert_syntax("$[99999999999999999999999999999999999]", 2);
	assert_syntax("$[1:99999999999999999999999999999999]", 4);
	ck_assert_uint_eq(count(d, "$[9007199254740991]"), 0);
	ck_assert_uint_eq(count(d, "$.a[-9007199254740991:9007199254740991:"
	    "9007199254740991]"), 0);
	cJSON_Delete(d);
}
END_TEST

START_TEST(test_hostile_documents)
{
	struct jsonpath_nodes l = { 0 };
	cJSON *deep, *wide, *big;
	struct jsonpath *p;
	const char *why;
	char *text;

	/* as deep as cJSON parses, and walked to the bottom */
	text = repeat("", "[", CJSON_NESTING_LIMIT - 1, "1");
	{
		char *all = repeat(text, "]", CJSON_NESTING_LIMIT - 1, "");

		deep = cJSON_Parse(all);
		free(all);
	}
	free(text);
	ck_assert_ptr_nonnull(deep);
	ck_assert_uint_eq(count(deep, "$..*"), CJSON_NESTING_LIMIT - 1);
	ck_assert_uint_eq(count(deep, "$..[?@ == 1]"), 1);
	ck_assert_uint_eq(count(deep, "$..[?@..[?@ == 1]]"),
	    CJSON_NESTING_LIMIT - 2);
	cJSON_Delete(deep);

	/* more nodes than a node list holds: an error, not a cut list */
	big = cJSON_CreateArray();
	for (int i = 0; i < JSONPATH_MAX_NODES + 10; i++)
		cJSON_AddItemToArray(big, cJSON_CreateNumber(i));
	p = jsonpath_parse("$[*]", NULL, NULL);
	why = NULL;
	ck_assert_int_eq(jsonpath_eval(p, big, &l, &why), -1);
	ck_assert_ptr_nonnull(why);
	ck_assert_uint_eq(l.n, 0);
	jsonpath_free(p);
	ck_assert_uint_eq(count(big, "$[-1:]"), 1);
	ck_assert_uint_eq(count(big, "$[?@ == 65545]"), 1);

	/* quadratic work stops at the budget */
	p = jsonpath_parse("$[?count($[*]) > 0]", NULL, NULL);
	why = NULL;
	ck_assert_int_eq(jsonpath_eval(p, big, &l, &why), -1);
	ck_assert_ptr_nonnull(why);
	jsonpath_free(p);
	p = jsonpath_parse("$[?$[-1] == @]", NULL, NULL);
	why = NULL;
	ck_assert_int_eq(jsonpath_eval(p, big, &l, &why), -1);
	ck_assert_ptr_nonnull(why);
	jsonpath_free(p);
	cJSON_Delete(big);

	/* a wide object compared whole against each of its members */
	wide = cJSON_CreateObject();
	for (int i = 0; i < 3000; i++) {
		char k[16];

		snprintf(k, sizeof(k), "k%d", i);
		cJSON_AddItemToObject(wide, k, cJSON_CreateNumber(i));
	}
	p = jsonpath_parse("$..[?@ == $ || @.k0 == $.k1]", NULL, NULL);
	why = NULL;
	ck_assert_int_eq(jsonpath_eval(p, wide, &l, &why), 0);
	ck_assert_uint_eq(l.n, 0);
	jsonpath_nodes_clear(&l);
	jsonpath_free(p);
	cJSON_Delete(wide);
}
END_TEST

Suite *
jsonpath_suite(void)
{
	Suite *s = suite_create("jsonpath");
	TCase *tc = tcase_create("jsonpath");

	tcase_add_test(tc, test_bookstore);
	tcase_add_test(tc, test_rfc_filters);
	tcase_add_test(tc, test_rfc_comparisons);
	tcase_add_test(tc, test_rfc_selectors);
	tcase_add_test(tc, test_actuator);
	tcase_add_test(tc, test_functions);
	tcase_add_test(tc, test_names_and_strings);
	tcase_add_test(tc, test_syntax_errors);
	tcase_add_test(tc, test_matches_counted);
	tcase_add_test(tc, test_api_edges);
	tcase_add_test(tc, test_hostile_queries);
	tcase_add_test(tc, test_hostile_documents);
	suite_add_tcase(s, tc);
	return s;
}
