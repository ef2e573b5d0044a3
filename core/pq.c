/*
 * core/pq.c — checked libpq calls (see pq.h).
 */
#include "core/pq.h"

#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/conninfo.h"
#include "core/mem.h"

/* The settings that shape every value's text output; see DESIGN.md. */
static const char pin_settings_sql[] =
	"SET DateStyle = 'ISO'; SET TimeZone = 'UTC'; SET IntervalStyle = 'postgres'; "
	"SET extra_float_digits = 3; SET bytea_output = 'hex'; SET lc_monetary = 'C'";

/* First line of a libpq message, without the trailing newline. */
static void
first_line(const char *msg, char *out, size_t outsize)
{
	size_t		n = strcspn(msg, "\n");

	if (n >= outsize)
		n = outsize - 1;
	memcpy(out, msg, n);
	out[n] = '\0';
}

/* Server notices: NOTICE and below (IF NOT EXISTS chatter) are dropped, the
 * rest (wal2json's "no tuple identifier" WARNING, say) go to stderr. */
static void
notice_processor(void *arg, const char *message)
{
	(void) arg;
	if (strncmp(message, "NOTICE:", 7) == 0 || strncmp(message, "DEBUG", 5) == 0 ||
		strncmp(message, "LOG:", 4) == 0 || strncmp(message, "INFO:", 5) == 0)
		return;
	fprintf(stderr, "pgtrail: server %s", message);
}

PGconn *
pt_pq_connect(const char *conninfo, const char *application_name, pt_err *err)
{
	const char *keys[] = {"dbname", "fallback_application_name", NULL};
	const char *vals[] = {conninfo ? conninfo : "", application_name, NULL};
	PGconn	   *conn;
	char		line[512];
	char	   *shown;

	if (!pt_conninfo_check(conninfo, NULL, err))
		return NULL;			/* (libpq's own message would quote it) */
	conn = PQconnectdbParams(keys, vals, 1);
	if (conn == NULL || PQstatus(conn) != CONNECTION_OK)
	{
		first_line(conn ? PQerrorMessage(conn) : "out of memory", line, sizeof(line));
		pt_err_set(err, PT_ERR_RUNTIME, "could not connect to the database: %s", line);
		shown = pt_conninfo_redact(conninfo);
		pt_err_detail(err, "connection: %s", shown);
		free(shown);
		pt_err_hint(err, "check the connection string (libpq conninfo or URI), that the server accepts connections, "
					"and that pg_hba.conf and GRANT CONNECT ON DATABASE let the role in");
		if (err)
			snprintf(err->sqlstate, sizeof(err->sqlstate), "08001");
		PQfinish(conn);
		return NULL;
	}
	PQsetNoticeProcessor(conn, notice_processor, NULL);
	if (PQsetClientEncoding(conn, "UTF8") != 0 || !pt_pq_command(conn, pin_settings_sql, err))
	{
		if (err && err->kind == PT_ERR_NONE)
			pt_err_set(err, PT_ERR_RUNTIME, "could not set client_encoding to UTF8");
		PQfinish(conn);
		return NULL;
	}
	return conn;
}

void
pt_pq_close(PGconn *conn)
{
	if (conn)
		PQfinish(conn);
}

bool
pt_pq_error(PGconn *conn, const PGresult *res, const char *what, pt_err *err)
{
	const char *primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	const char *detail = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL) : NULL;
	const char *hint = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_HINT) : NULL;
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	char		line[512];

	if (primary == NULL)
	{
		first_line(res && PQresultErrorMessage(res)[0] ? PQresultErrorMessage(res) :
				   PQerrorMessage(conn), line, sizeof(line));
		primary = line[0] ? line : "connection lost";
	}
	if (what)
		pt_err_set(err, PT_ERR_RUNTIME, "%s: %s", what, primary);
	else
		pt_err_set(err, PT_ERR_RUNTIME, "%s", primary);
	if (detail)
		pt_err_detail(err, "%s", detail);
	if (hint)
		pt_err_hint(err, "%s", hint);
	if (state == NULL && conn && PQstatus(conn) == CONNECTION_BAD)
		state = "08006";		/* connection_failure: libpq lost the socket */
	if (state && err)
		snprintf(err->sqlstate, sizeof(err->sqlstate), "%s", state);
	return false;
}

/* Check status and shape; on mismatch clear res and return NULL. */
static PGresult *
check_result(PGconn *conn, PGresult *res, const char *sql, ExecStatusType expect,
			 int nrows, int nfields, pt_err *err)
{
	char		what[64];

	snprintf(what, sizeof(what), "%s", "query failed");
	if (res == NULL || PQresultStatus(res) != expect)
	{
		if (res && PQresultStatus(res) != PGRES_FATAL_ERROR && PQresultStatus(res) != PGRES_NONFATAL_ERROR)
		{
			pt_err_set(err, PT_ERR_RUNTIME, "%s: unexpected result status %s, expected %s", what,
					   PQresStatus(PQresultStatus(res)), PQresStatus(expect));
		}
		else
			pt_pq_error(conn, res, NULL, err);
		if (err)
			snprintf(err->context, sizeof(err->context), "%.200s%s", sql, strlen(sql) > 200 ? "..." : "");
		PQclear(res);
		return NULL;
	}
	if ((nrows != PT_PQ_ANY && PQntuples(res) != nrows) ||
		(nfields != PT_PQ_ANY && PQnfields(res) != nfields))
	{
		pt_err_set(err, PT_ERR_RUNTIME, "%s: got %d rows and %d fields, expected %d rows and %d fields",
				   what, PQntuples(res), PQnfields(res),
				   nrows == PT_PQ_ANY ? PQntuples(res) : nrows,
				   nfields == PT_PQ_ANY ? PQnfields(res) : nfields);
		PQclear(res);
		return NULL;
	}
	return res;
}

PGresult *
pt_pq_exec(PGconn *conn, const char *sql, ExecStatusType expect, int nrows, int nfields, pt_err *err)
{
	return check_result(conn, PQexec(conn, sql), sql, expect, nrows, nfields, err);
}

PGresult *
pt_pq_exec_params(PGconn *conn, const char *sql, int nparams, const char *const *params,
				  ExecStatusType expect, int nrows, int nfields, pt_err *err)
{
	PGresult   *res = PQexecParams(conn, sql, nparams, NULL, params, NULL, NULL, 0);

	return check_result(conn, res, sql, expect, nrows, nfields, err);
}

bool
pt_pq_command(PGconn *conn, const char *sql, pt_err *err)
{
	PGresult   *res = pt_pq_exec(conn, sql, PGRES_COMMAND_OK, PT_PQ_ANY, PT_PQ_ANY, err);

	PQclear(res);
	return res != NULL;
}

char *
pt_pq_ident(PGconn *conn, const char *name, pt_err *err)
{
	char	   *q = PQescapeIdentifier(conn, name, strlen(name));

	if (q == NULL)
		pt_pq_error(conn, NULL, "could not quote identifier", err);
	return q;
}

bool
pt_pq_sql_with_ident(PGconn *conn, const char *sql, const char *name, pt_buf *out, pt_err *err)
{
	char	   *q = pt_pq_ident(conn, name, err);
	const char *at;

	if (q == NULL)
		return false;
	while ((at = strstr(sql, "%1$s")) != NULL)
	{
		pt_buf_append(out, sql, (size_t) (at - sql));
		pt_buf_puts(out, q);
		sql = at + 4;
	}
	pt_buf_puts(out, sql);
	PQfreemem(q);
	return true;
}

PGresult *
pt_pq_exec_with_ident(PGconn *conn, const char *sql, const char *name, int nparams, const char *const *params,
					  ExecStatusType expect, int nrows, int nfields, pt_err *err)
{
	pt_buf		text = PT_BUF_INIT;
	PGresult   *res = NULL;

	if (pt_pq_sql_with_ident(conn, sql, name, &text, err))
		res = pt_pq_exec_params(conn, text.data, nparams, params, expect, nrows, nfields, err);
	pt_buf_free(&text);
	return res;
}

bool
pt_pq_create_schema(PGconn *conn, const char *name, pt_err *err)
{
	const char *params[1] = {name};
	PGresult   *res = pt_pq_exec_params(conn, "SELECT 1 FROM pg_namespace WHERE nspname = $1", 1, params,
										PGRES_TUPLES_OK, PT_PQ_ANY, 1, err);
	pt_buf		sql = PT_BUF_INIT;
	bool		ok;

	if (res == NULL)
		return false;
	ok = PQntuples(res) > 0 ||
		(pt_pq_sql_with_ident(conn, "CREATE SCHEMA IF NOT EXISTS %1$s", name, &sql, err) &&
		 pt_pq_command(conn, sql.data, err));
	PQclear(res);
	pt_buf_free(&sql);
	return ok;
}
