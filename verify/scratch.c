/*
 * verify/scratch.c — the drift check's scratch database (see scratch.h).
 *
 * A temporary database is made with CREATE DATABASE on the source
 * connection and reached with the source's conninfo, its dbname replaced.
 * A given database is checked to hold no user relations, and its schemas
 * are remembered, so that emptying it at the end drops only what the run
 * made. Releasing never fails the run: it warns and leaves a note.
 */
#include "verify/scratch.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/conninfo.h"
#include "core/mem.h"
#include "core/pq.h"

#define APP_NAME "pgtrail-verify"

/* Relations of users: not the system's, not an extension's. */
#define USER_RELATIONS \
	"FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace " \
	"WHERE n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\\_%' " \
	"AND NOT EXISTS (SELECT FROM pg_depend e WHERE e.classid = 'pg_class'::regclass " \
	"AND e.objid = c.oid AND e.deptype = 'e') "

/* Schemas of users, as in USER_RELATIONS. */
#define USER_SCHEMAS \
	"SELECT nspname FROM pg_namespace WHERE nspname <> 'information_schema' AND nspname NOT LIKE 'pg\\_%'"

struct pt_scratch
{
	const char *source_dsn;		/* borrowed */
	pt_log	   *log;			/* borrowed */
	PGconn	   *conn;			/* the scratch database */
	char	   *made_db;		/* the temporary database made here, or NULL */
	char	   *dsn;			/* conninfo of the scratch database */
	bool		accepted;		/* a given scratch database passed its check: empty it at the end */
	char	  **schemas_before; /* its schemas before the run */
	int			nschemas_before;
};

/* ---- making one ---- */

/* v as a conninfo value: single-quoted, with \ and ' escaped. */
static void
put_conn_value(pt_buf *b, const char *v)
{
	pt_buf_putc(b, '\'');
	for (; *v; v++)
	{
		if (*v == '\\' || *v == '\'')
			pt_buf_putc(b, '\\');
		pt_buf_putc(b, *v);
	}
	pt_buf_putc(b, '\'');
}

/*
 * conninfo (key=value or URI) with its dbname replaced, as key=value text;
 * unset options stay unset (libpq then takes them from PG* as for the
 * source). Caller frees; NULL with err when conninfo does not parse.
 */
static char *
conninfo_with_dbname(const char *conninfo, const char *dbname, pt_err *err)
{
	PQconninfoOption *opts;
	pt_buf		b = PT_BUF_INIT;

	/* (libpq's own parse message would quote it, password and all) */
	if (!pt_conninfo_check(conninfo, "--source", err))
		return NULL;
	opts = PQconninfoParse(conninfo, NULL);
	for (PQconninfoOption *o = opts; o && o->keyword; o++)
	{
		if (o->val == NULL || strcmp(o->keyword, "dbname") == 0)
			continue;
		pt_buf_printf(&b, "%s=", o->keyword);
		put_conn_value(&b, o->val);
		pt_buf_putc(&b, ' ');
	}
	pt_buf_puts(&b, "dbname=");
	put_conn_value(&b, dbname);
	PQconninfoFree(opts);
	return b.data;
}

/* CREATE or DROP DATABASE name, on the source connection. */
static bool
database_command(PGconn *source, const char *verb, const char *name, const char *tail, pt_err *err)
{
	char	   *q = pt_pq_ident(source, name, err);
	pt_buf		sql = PT_BUF_INIT;
	bool		ok = q != NULL;

	if (ok)
	{
		pt_buf_printf(&sql, "%s DATABASE %s%s", verb, q, tail);
		ok = pt_pq_command(source, sql.data, err);
	}
	PQfreemem(q);
	pt_buf_free(&sql);
	return ok;
}

/* A temporary database in the source's cluster (LOCALE C: it fits any
 * encoding, and nothing here sorts by the database's collation). */
static bool
scratch_create(pt_scratch *scratch, PGconn *source, pt_err *err)
{
	char		name[64];

	snprintf(name, sizeof(name), "pgtrail_drift_%ld_%lld", (long) getpid(), (long long) time(NULL));
	if (!database_command(source, "CREATE", name, " TEMPLATE template0 ENCODING 'UTF8' LOCALE 'C'", err))
	{
		pt_err_prefix(err, "could not create a temporary database for the drift check");
		if (strcmp(err->sqlstate, PT_SQLSTATE_INSUFFICIENT_PRIVILEGE) == 0)
		{
			err->kind = PT_ERR_CONFIG;
			pt_err_hint(err, "give the role CREATEDB, or pass --drift-scratch DSN: an empty database "
						"pgtrail-verify may fill");
		}
		return false;
	}
	scratch->made_db = pt_strdup(name);
	pt_log_info(scratch->log, "drift: rebuilding the log's state in temporary database \"%s\"", name);
	return (scratch->dsn = conninfo_with_dbname(scratch->source_dsn, name, err)) != NULL;
}

/* ---- a given one ---- */

/* A given scratch database must hold no user relations (types may be
 * there: replay needs the source's). Remembers its schemas, and forgets
 * a replay position left there by an earlier run. */
static bool
scratch_check_empty(pt_scratch *scratch, pt_err *err)
{
	const char *params[1] = {PT_SCRATCH_STATE_SCHEMA};
	PGresult   *res = pt_pq_exec_params(scratch->conn, "SELECT n.nspname, c.relname " USER_RELATIONS
										"AND c.relkind IN ('r', 'p', 'v', 'm', 'f') AND n.nspname <> $1 LIMIT 1",
										1, params, PGRES_TUPLES_OK, PT_PQ_ANY, 2, err);
	bool		ok = res != NULL;

	if (ok && PQntuples(res) > 0)
	{
		ok = pt_err_set(err, PT_ERR_CONFIG, "the drift scratch database is not empty: it holds \"%s\".\"%s\"",
						PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1));
		pt_err_detail(err, "pgtrail-verify fills the scratch database with the log's tables and empties it after");
		pt_err_hint(err, "pass --drift-scratch an empty database (the source's types may be there), or leave it "
					"empty to use a temporary database");
	}
	PQclear(res);
	if (!ok)
		return false;
	res = pt_pq_exec(scratch->conn, USER_SCHEMAS, PGRES_TUPLES_OK, PT_PQ_ANY, 1, err);
	if (res == NULL)
		return false;
	scratch->nschemas_before = PQntuples(res);
	scratch->schemas_before = pt_calloc((size_t) scratch->nschemas_before + 1, sizeof(char *));
	for (int i = 0; i < scratch->nschemas_before; i++)
		scratch->schemas_before[i] = pt_strdup(PQgetvalue(res, i, 0));
	PQclear(res);
	scratch->accepted = true;
	return pt_pq_command(scratch->conn, "DROP SCHEMA IF EXISTS " PT_SCRATCH_STATE_SCHEMA " CASCADE", err);
}

static bool
existed_before(const pt_scratch *scratch, const char *schema)
{
	for (int i = 0; i < scratch->nschemas_before; i++)
		if (strcmp(scratch->schemas_before[i], schema) == 0)
			return true;
	return false;
}

/* DROP <what> IF EXISTS name CASCADE on the scratch database. */
static bool
drop_object(pt_scratch *scratch, const char *what, const char *schema, const char *name, pt_err *err)
{
	char	   *qs = pt_pq_ident(scratch->conn, schema, err);
	char	   *qn = name && qs ? pt_pq_ident(scratch->conn, name, err) : NULL;
	pt_buf		sql = PT_BUF_INIT;
	bool		ok = qs != NULL && (name == NULL || qn != NULL);

	if (ok)
	{
		pt_buf_printf(&sql, "DROP %s IF EXISTS %s%s%s CASCADE", what, qs, qn ? "." : "", qn ? qn : "");
		ok = pt_pq_command(scratch->conn, sql.data, err);
	}
	PQfreemem(qs);
	PQfreemem(qn);
	pt_buf_free(&sql);
	return ok;
}

/* Empty a given scratch database: the schemas replay made, the tables it
 * made in schemas that were there, and its state. */
static bool
scratch_empty(pt_scratch *scratch, pt_err *err)
{
	PGresult   *res = pt_pq_exec(scratch->conn, USER_SCHEMAS, PGRES_TUPLES_OK, PT_PQ_ANY, 1, err);
	bool		ok = res != NULL;

	for (int i = 0; ok && i < PQntuples(res); i++)
		if (!existed_before(scratch, PQgetvalue(res, i, 0)))
			ok = drop_object(scratch, "SCHEMA", PQgetvalue(res, i, 0), NULL, err);
	PQclear(res);
	if (!ok)
		return false;
	res = pt_pq_exec(scratch->conn, "SELECT n.nspname, c.relname " USER_RELATIONS "AND c.relkind IN ('r', 'p') "
					 "AND NOT c.relispartition", PGRES_TUPLES_OK, PT_PQ_ANY, 2, err);
	ok = res != NULL;
	for (int i = 0; ok && i < PQntuples(res); i++)
		ok = drop_object(scratch, "TABLE", PQgetvalue(res, i, 0), PQgetvalue(res, i, 1), err);
	PQclear(res);
	return ok && pt_pq_command(scratch->conn, "DROP SCHEMA IF EXISTS " PT_SCRATCH_STATE_SCHEMA " CASCADE", err);
}

/* ---- the interface ---- */

bool
pt_scratch_open(PGconn *source, const char *source_dsn, const char *given_dsn, pt_log *log,
				pt_scratch **out, pt_err *err)
{
	pt_scratch *scratch = pt_calloc(1, sizeof(*scratch));

	*out = scratch;
	scratch->source_dsn = source_dsn;
	scratch->log = log;
	if (given_dsn[0] == '\0' && !scratch_create(scratch, source, err))
		return false;
	if (scratch->made_db == NULL)
		scratch->dsn = pt_strdup(given_dsn);
	if ((scratch->conn = pt_pq_connect(scratch->dsn, APP_NAME, err)) == NULL)
	{
		pt_err_prefix(err, "drift scratch database");
		return false;
	}
	return scratch->made_db != NULL || scratch_check_empty(scratch, err);
}

PGconn *
pt_scratch_conn(const pt_scratch *scratch)
{
	return scratch->conn;
}

const char *
pt_scratch_dsn(const pt_scratch *scratch)
{
	return scratch->dsn;
}

PGresult *
pt_scratch_tables(pt_scratch *scratch, pt_err *err)
{
	const char *params[1] = {PT_SCRATCH_STATE_SCHEMA};

	return pt_pq_exec_params(scratch->conn, "SELECT n.nspname, c.relname, c.oid " USER_RELATIONS
							 "AND c.relkind = 'r' AND n.nspname <> $1 ORDER BY 1, 2",
							 1, params, PGRES_TUPLES_OK, PT_PQ_ANY, 3, err);
}

/* Drop the temporary database on *source (reconnected when it broke:
 * the caller still owns *source). */
static bool
drop_made(pt_scratch *scratch, PGconn **source, pt_err *err)
{
	if (*source && PQstatus(*source) == CONNECTION_OK && PQtransactionStatus(*source) != PQTRANS_IDLE)
		pt_pq_command(*source, "ROLLBACK", err);
	if (*source == NULL || PQstatus(*source) != CONNECTION_OK)
	{
		pt_pq_close(*source);
		*source = pt_pq_connect(scratch->source_dsn, APP_NAME, err);
	}
	return *source != NULL && database_command(*source, "DROP", scratch->made_db, " WITH (FORCE)", err);
}

/* Drop (or empty) the scratch database; a failure is a warning and a note,
 * the drift found stands. */
static void
scratch_release(pt_scratch *scratch, PGconn **source, pt_report *rep)
{
	const char *db = scratch->made_db ? scratch->made_db : "";
	const char *sp = scratch->made_db ? " " : "";
	pt_err		err;
	bool		ok = true;

	pt_err_clear(&err);
	if (scratch->accepted && PQstatus(scratch->conn) == CONNECTION_OK)
		ok = scratch_empty(scratch, &err);
	pt_pq_close(scratch->conn);
	scratch->conn = NULL;
	if (scratch->made_db)
		ok = drop_made(scratch, source, &err);
	if (ok)
		return;
	pt_err_prefix(&err, "could not clean up the drift scratch database%s%s", sp, db);
	pt_log_err(scratch->log, PT_LOG_WARNING, &err);
	pt_report_note(rep, "the drift scratch database%s%s was not cleaned up; drop it (or its tables) by hand", sp, db);
}

void
pt_scratch_close(pt_scratch *scratch, PGconn **source, pt_report *rep)
{
	if (scratch == NULL)
		return;
	scratch_release(scratch, source, rep);
	free(scratch->made_db);
	free(scratch->dsn);
	for (int i = 0; i < scratch->nschemas_before; i++)
		free(scratch->schemas_before[i]);
	free(scratch->schemas_before);
	free(scratch);
}
