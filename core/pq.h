/*
 * core/pq.h — the libpq helpers every libpq call goes through.
 *
 * Connect with a clear error (the conninfo shown with its password removed
 * by core/conninfo.h), run a statement and check the result status it must
 * have and, where it matters, its shape ("got 2 rows and 3 fields,
 * expected 1 row and 3 fields"). Server errors come back as pt_err with
 * message, detail, hint and SQLSTATE taken from the result's fields, so
 * callers decide on SQLSTATE, never on message text. Identifiers are
 * quoted with PQescapeIdentifier.
 */
#ifndef PGTRAIL_CORE_PQ_H
#define PGTRAIL_CORE_PQ_H

#include <libpq-fe.h>
#include <stdbool.h>

#include "core/buf.h"
#include "core/err.h"

#define PT_PQ_ANY (-1)

/*
 * Connect to conninfo (key=value or URI; empty = libpq defaults and PG*
 * environment). A connection string that does not parse is a PT_ERR_CONFIG
 * error in pt_conninfo_check's words (libpq's would quote it); a failed
 * connection is PT_ERR_RUNTIME with SQLSTATE 08001 and the conninfo shown
 * by pt_conninfo_redact. Sets client_encoding UTF8 and pins the settings that shape
 * text output (DateStyle ISO, TimeZone UTC, IntervalStyle postgres,
 * extra_float_digits 3, bytea_output hex, lc_monetary C), so nothing pgtrail
 * reads (or writes: replay feeds money values back) depends on a server's
 * defaults. Returns NULL and fills err on failure.
 * Close with pt_pq_close.
 */
PGconn	   *pt_pq_connect(const char *conninfo, const char *application_name, pt_err *err);
void		pt_pq_close(PGconn *conn);

/*
 * Run sql (no parameters) or sql with text parameters (NULL entries are SQL
 * NULL). The result must have status expect and, unless PT_PQ_ANY, exactly
 * nrows rows and nfields fields. Returns the result (caller PQclear()s it)
 * or NULL with err filled; on NULL there is nothing to clear.
 */
PGresult   *pt_pq_exec(PGconn *conn, const char *sql, ExecStatusType expect,
					   int nrows, int nfields, pt_err *err);
PGresult   *pt_pq_exec_params(PGconn *conn, const char *sql, int nparams,
							  const char *const *params, ExecStatusType expect,
							  int nrows, int nfields, pt_err *err);

/* A statement expected to return PGRES_COMMAND_OK (BEGIN, SET, DDL...). */
bool		pt_pq_command(PGconn *conn, const char *sql, pt_err *err);

/* Fill err from a failed result (or the connection when res is NULL); the
 * message is "what: server message", or the server message alone when what
 * is NULL. */
bool		pt_pq_error(PGconn *conn, const PGresult *res, const char *what, pt_err *err);

/* Quote an identifier; returns memory the caller frees with PQfreemem. */
char	   *pt_pq_ident(PGconn *conn, const char *name, pt_err *err);

/*
 * sql (a constant) with every "%1$s" replaced by name quoted as an
 * identifier, into out (appended). By hand rather than printf, so the
 * statement need not be a literal format. False (err filled) when quoting
 * fails.
 */
bool		pt_pq_sql_with_ident(PGconn *conn, const char *sql, const char *name, pt_buf *out, pt_err *err);

/* pt_pq_exec_params of sql with name quoted in for "%1$s" (as above). */
PGresult   *pt_pq_exec_with_ident(PGconn *conn, const char *sql, const char *name, int nparams,
								  const char *const *params, ExecStatusType expect, int nrows, int nfields,
								  pt_err *err);

/*
 * Create schema name unless it exists. CREATE SCHEMA IF NOT EXISTS alone
 * would still need CREATE on the database, which a least-privilege role may
 * have had only for its first start (docs/OPERATIONS.md); it is used when the
 * schema seemed missing, in case a concurrent start (unseen by a repeatable
 * read snapshot) has just made it.
 */
bool		pt_pq_create_schema(PGconn *conn, const char *name, pt_err *err);

/* SQLSTATE classes pgtrail decides on. */
#define PT_SQLSTATE_UNDEFINED_TABLE "42P01"
#define PT_SQLSTATE_DUPLICATE_OBJECT "42710"
#define PT_SQLSTATE_INSUFFICIENT_PRIVILEGE "42501"
#define PT_SQLSTATE_OBJECT_IN_USE "55006"
#define PT_SQLSTATE_QUERY_CANCELED "57014"
#define PT_SQLSTATE_UNIQUE_VIOLATION "23505"
#define PT_SQLSTATE_SERIALIZATION "40001"	/* "try again": the event table moved on under the writer */

#endif
