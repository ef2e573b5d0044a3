/*
 * capture/ddl.h — DDL capture: event triggers in the source, their
 * messages read back from the stream.
 *
 * Logical decoding carries no DDL. With [capture] ddl = on, capture
 * installs (once, as a superuser must) three event triggers in the store
 * schema of the source: ddl_command_end and sql_drop emit one transactional
 * logical message "pgtrail.ddl" per DDL command, a JSON object the server
 * builds (command tag, object, statement, role, and each affected table's
 * columns, key and details as they are after the command); table_rewrite
 * remembers the tables a command rewrites, and after that command's
 * message every row of such a table follows as a "pgtrail.row" message
 * (its columns' text output), because a rewrite changes rows without any
 * row change being decoded. docs/FORMAT.md fixes both messages.
 *
 * This module installs the triggers and parses the two messages; the
 * capture loop turns them into ddl and snapshot events. A parser (pt_ddl)
 * keeps its buffers across messages: parsing allocates nothing once they
 * have grown to the largest message seen.
 */
#ifndef PGTRAIL_CAPTURE_DDL_H
#define PGTRAIL_CAPTURE_DDL_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>

#include "capture/schema.h"
#include "core/build.h"
#include "core/err.h"
#include "core/event.h"

#define PT_DDL_PREFIX "pgtrail.ddl"
#define PT_DDL_ROW_PREFIX "pgtrail.row"

/* One entry of a ddl message's "tables" (or, schema/table/oid only, "dropped"). */
typedef struct pt_ddl_table
{
	pt_text		schema;
	pt_text		table;
	uint32_t	oid;			/* 0 when not said */
	int			ncols;
	pt_text    *names;			/* into the parser */
	const char **types;
	uint32_t   *typeoids;
	int		   *attnums;
	bool	   *virtuals;		/* virtual generated (PostgreSQL 18): in no event */
	bool	   *storeds;		/* stored generated */
	int			npk;
	const char **pk;
	char		replident;		/* pg_class.relreplident; 0 when not said (older messages) */
	int			nident;			/* 'i': the identity index's columns, in index order */
	const char **ident;
	pt_text		details;		/* the JSON text as sent, NUL-terminated; ptr NULL when absent */
} pt_ddl_table;

/* A parsed "pgtrail.ddl" message; everything points into the parser. */
typedef struct pt_ddl_msg
{
	bool		rewrite;
	int			ntables;
	pt_ddl_table *tables;
	int			ndropped;
	pt_ddl_table *dropped;		/* schema and table only */
} pt_ddl_msg;

/* A parsed "pgtrail.row" message: one row of a rewritten table. */
typedef struct pt_ddl_row
{
	pt_text		schema;
	pt_text		table;
	int			ncols;
	pt_text    *names;
	pt_text    *values;			/* ptr NULL for SQL NULL */
} pt_ddl_row;

typedef struct pt_ddl pt_ddl;

/* A parser; free with pt_ddl_free (NULL is fine). */
pt_ddl	   *pt_ddl_new(void);
void		pt_ddl_free(pt_ddl *d);

/*
 * Install the trigger functions and event triggers in schema (of the
 * source) unless the current version is already there. Creating event
 * triggers needs a superuser: without one the error (PT_ERR_CONFIG) says
 * how to get them installed. Idempotent and safe to run concurrently.
 */
bool		pt_ddl_install(PGconn *conn, const char *schema, pt_err *err);

/* Are this store's event triggers installed (any version)? For a warning
 * when ddl is off but the triggers still emit messages. */
bool		pt_ddl_installed(PGconn *conn, const char *schema, bool *installed, pt_err *err);

/*
 * Parse a "pgtrail.ddl" message. *out points into d until the next parse.
 * False (PT_ERR_CONFIG) when the content is not such a message.
 */
/*
 * Read the secret that seals DDL capture's messages (ddl_seal in the store
 * schema of the source; the capture role needs SELECT on it). Kept in d.
 */
bool		pt_ddl_load_seal(pt_ddl *d, PGconn *conn, const char *schema, pt_err *err);

/*
 * Check a message's seal (hex SHA-256(secret || content) in front of the
 * content). True with *body, *body_len the content after it; false when
 * the seal is missing or wrong: the message is not from our triggers.
 */
bool		pt_ddl_unseal(pt_ddl *d, const char *content, size_t len, const char **body, size_t *body_len);

bool		pt_ddl_parse(pt_ddl *d, const char *content, size_t len, pt_ddl_msg *out, pt_err *err);

/* Parse a "pgtrail.row" message; as pt_ddl_parse. */
bool		pt_ddl_parse_row(pt_ddl *d, const char *content, size_t len, pt_ddl_row *out, pt_err *err);

/*
 * The columns JSON of a schema version defined by a ddl message: the
 * registry's form plus attnum, [{"name":..,"type":..,"typeoid":N,"attnum":N},...].
 * The text lives in d until the next call.
 */
const char *pt_ddl_columns_json(pt_ddl *d, const pt_ddl_table *t);

/*
 * Fill ev as the snapshot event of a rewritten table's row, keyed by the
 * primary key of version tv. Spans point into b, d and row.
 */
void		pt_ddl_row_event(pt_ddl *d, pt_builder *b, const pt_txn *txn, const pt_ddl_row *row,
							 const pt_table_version *tv, pt_event *ev);

#endif
