/* A statement's text for people (pg_norm): one table of PostgreSQL's
 * literal forms, each under the standard_conforming_strings readings it
 * holds for. No literal byte may reach the output; tests/fuzz/fuzz_pg_norm.c
 * checks the same on generated statements. */
#include <stdio.h>
#include <string.h>
#include <check.h>

#include "probe/pg_norm.h"
#include "suites.h"

#define ON	(1 << PG_SCS_ON)
#define OFF	(1 << PG_SCS_OFF)
#define EITHER	(1 << PG_SCS_EITHER)
#define ALL	(ON | OFF | EITHER)

static const struct norm_case {
	unsigned modes;
	const char *in;
	size_t max;
	const char *want;
} cases[] = {
	/* Whitespace, parameters, identifiers. */
	{ ALL, "SELECT pg_sleep($1)", 120, "SELECT pg_sleep($1)" },
	{ ALL, "  SELECT *\n\tFROM  t1\n WHERE a = $12 ", 120,
	    "SELECT * FROM t1 WHERE a = $12" },
	{ ALL, "SELECT col2, t1.x2, a$b FROM t1", 120,
	    "SELECT col2, t1.x2, a$b FROM t1" },
	{ ALL, "", 120, "" },
	/* Standard strings: '' is a quote. */
	{ ALL, "ALTER ROLE app PASSWORD 'hunter2'", 120,
	    "ALTER ROLE app PASSWORD ?" },
	{ ALL, "SELECT 'it''s', E'a\\'b', x FROM t", 120,
	    "SELECT ?, ?, x FROM t" },
	{ ALL, "SELECT date'2024-01-01', interval '1 day'", 120,
	    "SELECT date?, interval ?" },
	/*
	 * The statement: with standard_conforming_strings off the
	 * backslash escapes the quote and the whole argument is a literal.
	 * Read with the setting on it is not one (and not valid SQL), which
	 * is why the probe, not knowing the session's setting, masks both.
	 */
	{ OFF, "CALL slowp('x\\' secret-literal-456 ')", 120,
	    "CALL slowp(?)" },
	{ EITHER, "CALL slowp('x\\' secret-literal-456 ')", 120,
	    "CALL slowp(?" },
	{ ON, "CALL slowp('x\\' secret-literal-456 ')", 120,
	    "CALL slowp(? secret-literal-? ?" },
	/* Its twin, valid with the setting on. */
	{ ON, "CALL slowp('x\\', ' secret-literal-456 ')", 120,
	    "CALL slowp(?, ?)" },
	{ EITHER, "CALL slowp('x\\', ' secret-literal-456 ')", 120,
	    "CALL slowp(?" },
	/* What masking both costs: a backslash ending a literal hides the
	 * rest when the session's setting is unknown. */
	{ ON, "SELECT 'C:\\' AS p, col FROM t", 120,
	    "SELECT ? AS p, col FROM t" },
	{ EITHER, "SELECT 'C:\\' AS p, col FROM t", 120, "SELECT ?" },
	/* E'' (and N'' with the setting off) take backslash escapes. */
	{ ALL, "SELECT E'x\\' secret ', 1", 120, "SELECT ?, ?" },
	{ ALL, "SELECT e'\\\\' , 'secret'", 120, "SELECT ? , ?" },
	{ OFF | EITHER, "SELECT N'x\\' secret '", 120, "SELECT ?" },
	{ ON, "SELECT N'x\\', 'secret'", 120, "SELECT ?, ?" },
	/* A continuation keeps the escaping of the literal it continues. */
	{ ALL, "SELECT E'a'\n'\\' secret '", 120, "SELECT ?" },
	{ ALL, "SELECT E'a' -- note\n  '\\' secret '", 120, "SELECT ?" },
	{ ON, "SELECT 'a' '\\' AS x, y", 120, "SELECT ? ? AS x, y" },
	/* U&'' has no backslash escape of a quote; U&"" is a name. */
	{ ALL, "SELECT U&'d\\0061t\\+000061 secret', U&\"d\\0061t\" FROM t",
	    120, "SELECT ?, U&\"d\\0061t\" FROM t" },
	{ ON | EITHER, "SELECT U&'\\' , 'secret'", 120, "SELECT ? , ?" },
	/* Bit strings: no escapes, no doubled quote. */
	{ ALL, "SELECT B'1010', X'1F', b'0' , x'ff'", 120,
	    "SELECT ?, ?, ? , ?" },
	{ OFF | EITHER, "SELECT B'1''\\' secret '", 120, "SELECT ?" },
	/* Dollar quotes. */
	{ ALL, "SELECT $$it's $secret$$, $fn$ a $$ b $fn$, $1", 120,
	    "SELECT ?, ?, $1" },
	{ ALL, "SELECT $$secret$$, $tag$a$b$tag$ -- note\n, 42", 120,
	    "SELECT ?, ? , ?" },
	{ ALL, "DO $x$ secret", 120, "DO ?" },
	{ ALL, "SELECT a$b$ , 'x' , $b$ secret", 120,
	    "SELECT a$b$ , ? , ?" },
	{ ALL, "SELECT $\xc3\xa9$secret$\xc3\xa9$, 1", 120, "SELECT ?, ?" },
	/* Numbers. */
	{ ALL, "SELECT 42, 1.5e-3, .5, 0x1F, 0o17, 0b101, 1_000, 1., 2e+5",
	    120, "SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?" },
	/* Quoted identifiers are names; comments go. */
	{ ALL, "SELECT /* a /* nested */ comment */ \"Weird 'Name'\" FROM t",
	    120, "SELECT \"Weird 'Name'\" FROM t" },
	{ ALL, "SELECT \"a\"\"b'c\", 'x' FROM t", 120,
	    "SELECT \"a\"\"b'c\", ? FROM t" },
	{ ALL, "SELECT 1 -- it's\n, 'x'", 120, "SELECT ? , ?" },
	{ ALL, "/* a /* 'b */ c' */ SELECT 'secret'", 120, "SELECT ?" },
	/* Cut texts: unterminated literals are literals to the end. */
	{ ALL, "SELECT 'secret", 120, "SELECT ?" },
	{ ALL, "SELECT E'secret\\", 120, "SELECT ?" },
	{ ALL, "SELECT abcdefghij", 10, "SELECT abc..." },
	{ ALL, "SELECT 'abcdefghij', x", 8, "SELECT ?..." },
	/* A multi-byte character is never cut in half. */
	{ ALL, "SELECT \xc3\xa9\xc3\xa9", 8, "SELECT ..." },
};

START_TEST(test_norm_table)
{
	const struct norm_case *c = &cases[_i];

	for (int m = PG_SCS_ON; m <= PG_SCS_EITHER; m++) {
		char out[256];

		if (!(c->modes & (1u << m)))
			continue;
		pg_normalize_query(c->in, (enum pg_scs)m, c->max, out,
		    sizeof(out));
		ck_assert_msg(strcmp(out, c->want) == 0, "case %d mode %d: "
		    "\"%s\" became \"%s\", wanted \"%s\"", _i, m, c->in, out,
		    c->want);
	}
}
END_TEST

/* The output buffer bounds the text, whatever maxlen says. */
START_TEST(test_norm_small_buffers)
{
	char out[8];

	pg_normalize_query("SELECT abcdefghij", PG_SCS_EITHER, 120, out,
	    sizeof(out));
	ck_assert_str_eq(out, "SELE...");
	pg_normalize_query("SELECT 1", PG_SCS_EITHER, 120, out, 3);
	ck_assert_str_eq(out, "");
	pg_normalize_query("SELECT 1", PG_SCS_EITHER, 120, out, 0);
}
END_TEST

Suite *
pg_norm_suite(void)
{
	Suite *s = suite_create("pg_norm");
	TCase *tc = tcase_create("pg_norm");

	tcase_add_loop_test(tc, test_norm_table, 0,
	    (int)(sizeof(cases) / sizeof(cases[0])));
	tcase_add_test(tc, test_norm_small_buffers);
	suite_add_tcase(s, tc);
	return s;
}
