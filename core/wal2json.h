/*
 * core/wal2json.h — one wal2json format-version 2 line in, a typed change out.
 *
 * wal2json 2.5 (format-version 2) sends one JSON object per change:
 *   B/C  transaction begin/commit: xid, timestamp, lsn, nextlsn, origin
 *   I/U/D  row change: schema, table, columns[] (new row), identity[] (old
 *          key or old row), pk[] (key column names and types)
 *   T    truncate of one table;   M    logical message: prefix, content
 * Every value keeps its exact text: numbers are the JSON number's bytes
 * (never a double), strings are unescaped into PostgreSQL's text form, bare
 * bytea hex becomes "\x...", JSON true/false (booleans) become "t"/"f" as
 * PostgreSQL prints them. Unchanged TOAST columns are simply absent.
 *
 * The parser owns reusable buffers: parsing a line allocates nothing once
 * the buffers have grown to the largest line seen. Every pointer in a
 * pt_w2j_change points into those buffers and stays valid until the next
 * pt_w2j_parse() call on the same parser. Strings are NUL-terminated (their
 * lengths are given too: values are text, which holds no NUL). A message's
 * content is the one string that may hold bytes that are not UTF-8:
 * wal2json copies it unchecked (and cuts it at its first NUL byte).
 * Malformed input returns false with a pt_err (kind PT_ERR_CONFIG: bad input)
 * naming what is wrong and at which byte offset.
 */
#ifndef PGTRAIL_CORE_WAL2JSON_H
#define PGTRAIL_CORE_WAL2JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/lsn.h"

#define PT_BYTEAOID 17
#define PT_BOOLOID 16

typedef struct pt_w2j_str
{
	const char *ptr;			/* NULL when absent */
	size_t		len;
} pt_w2j_str;

typedef struct pt_w2j_column
{
	pt_w2j_str	name;
	pt_w2j_str	type;			/* with typmod (include-typmod); absent if not sent */
	uint32_t	typeoid;		/* 0 unless include-type-oids */
	pt_w2j_str	value;			/* PostgreSQL text form; ptr NULL for SQL NULL */
	bool		isnull;
	int			optional;		/* include-not-null: 1 nullable, 0 NOT NULL, -1 not sent */
	int			position;		/* include-column-positions: attnum, 0 if not sent */
	pt_w2j_str	default_expr;	/* include-default: default expression, if any */
} pt_w2j_column;

typedef struct pt_w2j_columns
{
	pt_w2j_column *items;
	int			count;
	bool		present;		/* the array was in the message */
} pt_w2j_columns;

typedef struct pt_w2j_change
{
	char		action;			/* 'B','C','I','U','D','T','M' */
	bool		has_xid;
	uint32_t	xid;
	pt_w2j_str	timestamp;		/* commit time text, as sent */
	bool		has_commit_time;
	int64_t		commit_time;	/* microseconds since the Unix epoch, UTC */
	bool		has_origin;
	uint32_t	origin;
	bool		has_lsn;
	pt_lsn		lsn;
	bool		has_nextlsn;
	pt_lsn		nextlsn;
	pt_w2j_str	schema;
	pt_w2j_str	table;
	pt_w2j_columns columns;		/* I, U: the new row (minus unchanged TOAST) */
	pt_w2j_columns identity;	/* U, D: old key or old row */
	pt_w2j_columns pk;			/* include-pk: key columns (no values) */
	char		replident;		/* pgoutput: the table's replica identity ('d','n','f','i'), 0 unsaid */
	pt_w2j_columns ident_key;	/* pgoutput, 'i': the identity index's columns (no values), attnum order */
	bool		transactional;	/* M */
	pt_w2j_str	prefix;			/* M */
	pt_w2j_str	content;		/* M: bytes as sent, maybe not UTF-8 (a client's) */
} pt_w2j_change;

typedef struct pt_w2j_parser pt_w2j_parser;

/* A new parser; free with pt_w2j_parser_free. */
pt_w2j_parser *pt_w2j_parser_new(void);
void		pt_w2j_parser_free(pt_w2j_parser *p);

/*
 * Parse one line (no trailing newline needed; trailing whitespace allowed).
 * The line is borrowed and may be freed after the call: everything in *out
 * points into the parser. Returns false and fills err on malformed input.
 */
bool		pt_w2j_parse(pt_w2j_parser *p, const char *line, size_t len,
						 pt_w2j_change *out, pt_err *err);

/* Largest line accepted (bytes); longer lines are an error, never a crash. */
#define PT_W2J_MAX_LINE ((size_t) 1 << 31)

#endif
