/*
 * pg_norm: a statement's text for people, pure. Comments dropped,
 * whitespace collapsed, and every literal (every string form PostgreSQL
 * has, dollar quotes, bit strings, numbers) replaced by "?":
 * pg_stat_statements writes $1 for the constants of plannable statements,
 * but keeps the text of utility ones (CALL p('...'), ALTER ROLE ...
 * PASSWORD '...'), and that text must not leak into a note.
 */
#ifndef VIGIL_PG_NORM_H
#define VIGIL_PG_NORM_H

#include <stddef.h>

/*
 * How plain '...' strings were read where the statement ran
 * (standard_conforming_strings). It is a session setting: another
 * session's statement may have run under either, so PG_SCS_EITHER masks
 * every byte that is part of a literal under at least one of the two.
 */
enum pg_scs {
	PG_SCS_ON,	/* a backslash is an ordinary character */
	PG_SCS_OFF,	/* a backslash escapes the next character */
	PG_SCS_EITHER,
};

/*
 * At most maxlen bytes of text, then "..."; out gets at most outlen - 1
 * bytes and a NUL. No byte of a literal is ever copied to out.
 */
void pg_normalize_query(const char *in, enum pg_scs scs, size_t maxlen,
    char *out, size_t outlen);

#endif
