/*
 * verify/drift.c — the drift check (see drift.h).
 *
 * One run: open the source, get a scratch database (made, or given and
 * checked empty), rebuild the log's state there with pt_replay_run, then
 * compare each table replay made with the live one in a round. A round
 * keeps its results (counts, and at most max_rows rows per table) instead
 * of reporting them at once, because a settle round may replace it. The
 * scratch database is dropped (or emptied) on every path.
 */
#include "verify/drift.h"

#include <libpq-fe.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/copytext.h"
#include "core/event.h"
#include "core/json.h"
#include "core/lsn.h"
#include "core/mem.h"
#include "core/pq.h"
#include "replay/replay.h"

#define STATE_SCHEMA "pgtrail_replay"
#define APP_NAME "pgtrail-verify"
#define SETTLE_POLL_US 200000
#define SQLSTATE_UNDEFINED_OBJECT "42704"

/* Relations of users: not the system's, not an extension's. */
#define USER_RELATIONS \
	"FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace " \
	"WHERE n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\\_%' " \
	"AND NOT EXISTS (SELECT FROM pg_depend e WHERE e.classid = 'pg_class'::regclass " \
	"AND e.objid = c.oid AND e.deptype = 'e') "

/* A differing row kept for the report. */
typedef struct drow
{
	const char *kind;			/* static: "changed", "missing", "extra" */
	char	   *key;
	char	   *live;			/* NULL for "missing" */
	char	   *log;			/* NULL for "extra" */
} drow;

/* One table's result in a round. */
typedef struct dtable
{
	char	   *schema;
	char	   *table;
	char	   *problem;		/* the live table, or columns of it, are missing */
	int64_t		changed;
	int64_t		missing;
	int64_t		extra;
	drow	   *rows;			/* at most max_rows */
	int			nrows;
	struct dtable *next;
} dtable;

/* One comparison of every table. */
typedef struct dround
{
	dtable	   *head;
	dtable	  **tail;
	int64_t		ntables;		/* tables compared */
	int64_t		nrows;			/* rows that differ */
	pt_lsn		source_lsn;		/* the source's WAL position when its snapshot was taken */
} dround;

typedef struct drift
{
	const pt_drift_opts *opts;
	pt_log	   *log;
	volatile sig_atomic_t *stop;
	PGconn	   *source;
	PGconn	   *scratch;
	char	   *made_db;		/* the temporary database made here, or NULL */
	char	   *scratch_dsn;	/* conninfo of the scratch database */
	bool		accepted;		/* a given scratch database passed its check: empty it at the end */
	char	  **schemas_before; /* its schemas before the run */
	int			nschemas_before;
} drift;

/* A table's columns in attnum order, and its key. */
typedef struct tcols
{
	int			n;
	char	  **names;
	int		   *key;			/* indexes into names, in key order */
	int			nkey;
} tcols;

/* One side of the merge: a COPY OUT stream, one row in memory. */
typedef struct side
{
	PGconn	   *conn;			/* borrowed */
	char	   *row;			/* from PQgetCopyData, fields point into it */
	pt_text    *fields;
	int			nfields;
	bool		open;			/* the COPY is running */
	bool		done;			/* no current row */
} side;

/* ---- results ---- */

static void
dtable_free(dtable *t)
{
	if (t == NULL)
		return;
	for (int i = 0; i < t->nrows; i++)
	{
		free(t->rows[i].key);
		free(t->rows[i].live);
		free(t->rows[i].log);
	}
	free(t->rows);
	free(t->schema);
	free(t->table);
	free(t->problem);
	free(t);
}

static void
dround_init(dround *rd)
{
	memset(rd, 0, sizeof(*rd));
	rd->tail = &rd->head;
}

static void
dround_free(dround *rd)
{
	while (rd->head)
	{
		dtable	   *next = rd->head->next;

		dtable_free(rd->head);
		rd->head = next;
	}
	dround_init(rd);
}

/* Keep t in rd when it has something to say, else free it (rd owns it). */
static void
dround_keep(dround *rd, dtable *t)
{
	if (t->problem == NULL && t->changed + t->missing + t->extra == 0)
	{
		dtable_free(t);
		return;
	}
	rd->nrows += t->changed + t->missing + t->extra;
	*rd->tail = t;
	rd->tail = &t->next;
}

/* Put a round into the report. */
static void
emit(const drift *d, const dround *rd, pt_report *rep)
{
	pt_report_figures *f = pt_report_figures_of(rep);

	for (const dtable *t = rd->head; t; t = t->next)
	{
		char		detail[128];
		int64_t		n = t->changed + t->missing + t->extra;

		if (t->problem)
		{
			pt_report_finding(rep, PT_FIND_DRIFT, 0, NULL, "%s", t->problem);
			continue;
		}
		for (int i = 0; i < t->nrows; i++)
			pt_report_drift(rep, t->schema, t->table, t->rows[i].kind, t->rows[i].key,
							t->rows[i].live, t->rows[i].log);
		snprintf(detail, sizeof(detail), "the first %d are listed ([verify] drift_max_rows)", d->opts->max_rows);
		pt_report_finding(rep, PT_FIND_DRIFT, 0, n > t->nrows ? detail : NULL,
						  "table \"%s\".\"%s\": %lld rows differ from the log (%lld changed, %lld missing, %lld extra)",
						  t->schema, t->table, (long long) n, (long long) t->changed, (long long) t->missing,
						  (long long) t->extra);
	}
	f->drift_tables = rd->ntables;
	f->drift_rows = rd->nrows;
}

/* ---- the scratch database ---- */

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
	char	   *errmsg = NULL;
	PQconninfoOption *opts = PQconninfoParse(conninfo, &errmsg);
	pt_buf		b = PT_BUF_INIT;

	if (opts == NULL)
	{
		pt_err_set(err, PT_ERR_CONFIG, "could not parse the source connection string: %.*s",
				   errmsg ? (int) strcspn(errmsg, "\n") : 13, errmsg ? errmsg : "out of memory");
		PQfreemem(errmsg);
		return NULL;
	}
	for (PQconninfoOption *o = opts; o->keyword; o++)
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
database_command(drift *d, const char *verb, const char *name, const char *tail, pt_err *err)
{
	char	   *q = pt_pq_ident(d->source, name, err);
	pt_buf		sql = PT_BUF_INIT;
	bool		ok = q != NULL;

	if (ok)
	{
		pt_buf_printf(&sql, "%s DATABASE %s%s", verb, q, tail);
		ok = pt_pq_command(d->source, sql.data, err);
	}
	PQfreemem(q);
	pt_buf_free(&sql);
	return ok;
}

/* A temporary database in the source's cluster (LOCALE C: it fits any
 * encoding, and nothing here sorts by the database's collation). */
static bool
scratch_create(drift *d, pt_err *err)
{
	char		name[64];

	snprintf(name, sizeof(name), "pgtrail_drift_%ld_%lld", (long) getpid(), (long long) time(NULL));
	if (!database_command(d, "CREATE", name, " TEMPLATE template0 ENCODING 'UTF8' LOCALE 'C'", err))
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
	d->made_db = pt_strdup(name);
	pt_log_info(d->log, "drift: rebuilding the log's state in temporary database \"%s\"", name);
	return (d->scratch_dsn = conninfo_with_dbname(d->opts->source_dsn, name, err)) != NULL;
}

/* A given scratch database must hold no user relations (types may be
 * there: replay needs the source's). Remembers its schemas, and forgets
 * a replay position left there by an earlier run. */
static bool
scratch_check_empty(drift *d, pt_err *err)
{
	const char *params[1] = {STATE_SCHEMA};
	PGresult   *res = pt_pq_exec_params(d->scratch, "SELECT n.nspname, c.relname " USER_RELATIONS
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
	res = pt_pq_exec(d->scratch, "SELECT nspname FROM pg_namespace WHERE nspname <> 'information_schema' "
					 "AND nspname NOT LIKE 'pg\\_%'", PGRES_TUPLES_OK, PT_PQ_ANY, 1, err);
	if (res == NULL)
		return false;
	d->nschemas_before = PQntuples(res);
	d->schemas_before = pt_calloc((size_t) d->nschemas_before + 1, sizeof(char *));
	for (int i = 0; i < d->nschemas_before; i++)
		d->schemas_before[i] = pt_strdup(PQgetvalue(res, i, 0));
	PQclear(res);
	d->accepted = true;
	return pt_pq_command(d->scratch, "DROP SCHEMA IF EXISTS " STATE_SCHEMA " CASCADE", err);
}

static bool
scratch_open(drift *d, pt_err *err)
{
	if (d->opts->scratch_dsn[0] == '\0' && !scratch_create(d, err))
		return false;
	if (d->made_db == NULL)
		d->scratch_dsn = pt_strdup(d->opts->scratch_dsn);
	if ((d->scratch = pt_pq_connect(d->scratch_dsn, APP_NAME, err)) == NULL)
	{
		pt_err_prefix(err, "drift scratch database");
		return false;
	}
	return d->made_db != NULL || scratch_check_empty(d, err);
}

static bool
existed_before(const drift *d, const char *schema)
{
	for (int i = 0; i < d->nschemas_before; i++)
		if (strcmp(d->schemas_before[i], schema) == 0)
			return true;
	return false;
}

/* DROP <what> IF EXISTS name CASCADE on the scratch database. */
static bool
drop_object(drift *d, const char *what, const char *schema, const char *name, pt_err *err)
{
	char	   *qs = pt_pq_ident(d->scratch, schema, err);
	char	   *qn = name && qs ? pt_pq_ident(d->scratch, name, err) : NULL;
	pt_buf		sql = PT_BUF_INIT;
	bool		ok = qs != NULL && (name == NULL || qn != NULL);

	if (ok)
	{
		pt_buf_printf(&sql, "DROP %s IF EXISTS %s%s%s CASCADE", what, qs, qn ? "." : "", qn ? qn : "");
		ok = pt_pq_command(d->scratch, sql.data, err);
	}
	PQfreemem(qs);
	PQfreemem(qn);
	pt_buf_free(&sql);
	return ok;
}

/* Empty a given scratch database: the schemas replay made, the tables it
 * made in schemas that were there, and its state. */
static bool
scratch_empty(drift *d, pt_err *err)
{
	PGresult   *res = pt_pq_exec(d->scratch, "SELECT nspname FROM pg_namespace WHERE nspname <> 'information_schema' "
								 "AND nspname NOT LIKE 'pg\\_%'", PGRES_TUPLES_OK, PT_PQ_ANY, 1, err);
	bool		ok = res != NULL;

	for (int i = 0; ok && i < PQntuples(res); i++)
		if (!existed_before(d, PQgetvalue(res, i, 0)))
			ok = drop_object(d, "SCHEMA", PQgetvalue(res, i, 0), NULL, err);
	PQclear(res);
	if (!ok)
		return false;
	res = pt_pq_exec(d->scratch, "SELECT n.nspname, c.relname " USER_RELATIONS "AND c.relkind IN ('r', 'p') "
					 "AND NOT c.relispartition", PGRES_TUPLES_OK, PT_PQ_ANY, 2, err);
	ok = res != NULL;
	for (int i = 0; ok && i < PQntuples(res); i++)
		ok = drop_object(d, "TABLE", PQgetvalue(res, i, 0), PQgetvalue(res, i, 1), err);
	PQclear(res);
	return ok && pt_pq_command(d->scratch, "DROP SCHEMA IF EXISTS " STATE_SCHEMA " CASCADE", err);
}

/* Drop (or empty) the scratch database; a failure is a warning and a note,
 * the drift found stands. */
static void
scratch_release(drift *d, pt_report *rep)
{
	pt_err		err;
	bool		ok = true;

	pt_err_clear(&err);
	if (d->accepted && PQstatus(d->scratch) == CONNECTION_OK)
		ok = scratch_empty(d, &err);
	pt_pq_close(d->scratch);
	d->scratch = NULL;
	if (d->made_db)
	{
		if (d->source && PQstatus(d->source) == CONNECTION_OK && PQtransactionStatus(d->source) != PQTRANS_IDLE)
			pt_pq_command(d->source, "ROLLBACK", &err);
		if (d->source == NULL || PQstatus(d->source) != CONNECTION_OK)
		{
			pt_pq_close(d->source);
			d->source = pt_pq_connect(d->opts->source_dsn, APP_NAME, &err);
		}
		ok = d->source != NULL && database_command(d, "DROP", d->made_db, " WITH (FORCE)", &err);
	}
	if (ok)
		return;
	pt_err_prefix(&err, "could not clean up the drift scratch database%s%s", d->made_db ? " " : "",
				  d->made_db ? d->made_db : "");
	pt_log_err(d->log, PT_LOG_WARNING, &err);
	pt_report_note(rep, "the drift scratch database%s%s was not cleaned up; drop it (or its tables) by hand",
				   d->made_db ? " " : "", d->made_db ? d->made_db : "");
}

/* ---- rebuild ---- */

/* Replay the log into the scratch database, up to until_event or to the
 * end; a second call goes on from where the first stopped. */
static bool
rebuild(drift *d, bool to_end, pt_err *err)
{
	pt_replay_opts ro;

	memset(&ro, 0, sizeof(ro));
	ro.events_dsn = d->opts->events_dsn;
	ro.target_dsn = d->scratch_dsn;
	ro.schema = d->opts->schema;
	ro.state_schema = STATE_SCHEMA;
	ro.until = to_end || d->opts->until_event <= 0 ? PT_UNTIL_END : PT_UNTIL_EVENT;
	ro.until_event = ro.until == PT_UNTIL_EVENT ? d->opts->until_event : 0;
	ro.until_time = "";
	ro.tables = "";
	ro.map = "";
	ro.create_tables = true;
	ro.verify = false;			/* verify checks the chain itself */
	ro.poll_interval_ms = 200;
	ro.batch_size = 1000;
	if (pt_replay_run(&ro, d->log, d->stop, err))
		return true;
	pt_err_prefix(err, "drift: could not rebuild the log's state in the scratch database");
	if (strcmp(err->sqlstate, SQLSTATE_UNDEFINED_OBJECT) == 0)
		pt_err_hint(err, "the source's user-defined types must exist in the scratch database: pass --drift-scratch "
					"DSN, an empty database where they were restored");
	return false;
}

/* ---- one side of the merge ---- */

static void
side_drain(side *s)
{
	PGresult   *res;

	while ((res = PQgetResult(s->conn)) != NULL)
		PQclear(res);
}

/* The next row into s->fields, or s->done. */
static bool
side_next(side *s, pt_err *err)
{
	PGresult   *res;
	int			len;
	bool		ok;

	if (s->row)
		PQfreemem(s->row);
	s->row = NULL;
	s->done = !s->open;
	if (s->done)
		return true;
	len = PQgetCopyData(s->conn, &s->row, 0);
	if (len >= 0)
	{
		if (len == 0 || s->row[len - 1] != '\n' ||
			!pt_copy_split_row(s->row, (size_t) len - 1, s->fields, s->nfields))
			return pt_err_set(err, PT_ERR_RUNTIME, "drift: malformed row from COPY");
		return true;
	}
	s->open = false;
	s->done = true;
	res = PQgetResult(s->conn);
	ok = len == -1 && res != NULL && PQresultStatus(res) == PGRES_COMMAND_OK;
	if (!ok)
		pt_pq_error(s->conn, res, "drift: could not read rows", err);
	PQclear(res);
	side_drain(s);
	return ok;
}

/* Start COPY sql on conn and read the first row; side_close in any case. */
static bool
side_open(side *s, PGconn *conn, const char *sql, int nfields, pt_err *err)
{
	PGresult   *res;

	memset(s, 0, sizeof(*s));
	s->conn = conn;
	s->nfields = nfields;
	s->fields = pt_calloc((size_t) nfields, sizeof(pt_text));
	s->done = true;
	if ((res = pt_pq_exec(conn, sql, PGRES_COPY_OUT, PT_PQ_ANY, PT_PQ_ANY, err)) == NULL)
		return false;
	PQclear(res);
	s->open = true;
	return side_next(s, err);
}

/* Stop a COPY still running (cancel, drain) and free the side. */
static void
side_close(side *s)
{
	if (s->row)
		PQfreemem(s->row);
	if (s->open)
	{
		PGcancel   *cancel = PQgetCancel(s->conn);
		char		errbuf[256];
		char	   *row;

		if (cancel)
		{
			PQcancel(cancel, errbuf, sizeof(errbuf));
			PQfreeCancel(cancel);
		}
		while (PQgetCopyData(s->conn, &row, 0) > 0)
			PQfreemem(row);
		side_drain(s);
	}
	free(s->fields);
	memset(s, 0, sizeof(*s));
}

/* ---- one table ---- */

static void
tcols_free(tcols *c)
{
	for (int i = 0; i < c->n; i++)
		free(c->names[i]);
	free(c->names);
	free(c->key);
	memset(c, 0, sizeof(*c));
}

/* The scratch table's columns (attnum order) and primary key; no key: all columns. */
static bool
scratch_columns(drift *d, const char *oid, tcols *c, pt_err *err)
{
	const char *params[1] = {oid};
	PGresult   *res = pt_pq_exec_params(d->scratch,
										"SELECT a.attname, (SELECT k.n FROM pg_index i, unnest(i.indkey::int2[]) "
										"WITH ORDINALITY k(attnum, n) WHERE i.indrelid = a.attrelid AND i.indisprimary "
										"AND k.attnum = a.attnum) FROM pg_attribute a WHERE a.attrelid = $1::oid "
										"AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
										1, params, PGRES_TUPLES_OK, PT_PQ_ANY, 2, err);

	if (res == NULL)
		return false;
	c->n = PQntuples(res);
	c->names = pt_calloc((size_t) c->n + 1, sizeof(char *));
	c->key = pt_calloc((size_t) c->n + 1, sizeof(int));
	for (int i = 0; i < c->n; i++)
	{
		c->names[i] = pt_strdup(PQgetvalue(res, i, 0));
		if (!PQgetisnull(res, i, 1))
		{
			int			pos = atoi(PQgetvalue(res, i, 1));

			if (pos >= 1 && pos <= c->n)
				c->key[pos - 1] = i;
			c->nkey++;
		}
	}
	PQclear(res);
	if (c->nkey == 0)
		for (int i = 0; i < c->n; i++)
			c->key[c->nkey++] = i;
	return true;
}

/*
 * Is the table live with every column the log's state has? If not, sets
 * t->problem (a finding) and *comparable = false.
 */
static bool
live_check(drift *d, const tcols *c, dtable *t, bool *comparable, pt_err *err)
{
	const char *params[2] = {t->schema, t->table};
	PGresult   *res = pt_pq_exec_params(d->source,
										"SELECT a.attname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
										"LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 "
										"AND NOT a.attisdropped WHERE n.nspname = $1 AND c.relname = $2 "
										"AND c.relkind IN ('r', 'p')",
										2, params, PGRES_TUPLES_OK, PT_PQ_ANY, 1, err);
	pt_buf		missing = PT_BUF_INIT;
	pt_buf		problem = PT_BUF_INIT;

	if (res == NULL)
		return false;
	for (int i = 0; i < c->n && PQntuples(res) > 0; i++)
	{
		int			r = 0;

		while (r < PQntuples(res) && (PQgetisnull(res, r, 0) || strcmp(PQgetvalue(res, r, 0), c->names[i]) != 0))
			r++;
		if (r == PQntuples(res))
			pt_buf_printf(&missing, "%s\"%s\"", missing.len ? ", " : "", c->names[i]);
	}
	*comparable = PQntuples(res) > 0 && missing.len == 0;
	if (PQntuples(res) == 0)
		pt_buf_printf(&problem, "table \"%s\".\"%s\" is in the log's state but not in the live database",
					  t->schema, t->table);
	else if (!*comparable)
		pt_buf_printf(&problem, "table \"%s\".\"%s\": column%s %s of the log's state %s not in the live table",
					  t->schema, t->table, strchr(missing.data, ',') ? "s" : "", missing.data,
					  strchr(missing.data, ',') ? "are" : "is");
	t->problem = problem.data;	/* NULL when comparable */
	PQclear(res);
	pt_buf_free(&missing);
	return true;
}

/* COPY (SELECT every column as text FROM ONLY the table ORDER BY the key's
 * text in byte order) TO STDOUT, with identifiers quoted for conn. */
static bool
copy_sql(PGconn *conn, const char *schema, const char *table, const tcols *c, pt_buf *sql, pt_err *err)
{
	char	   *qs = pt_pq_ident(conn, schema, err);
	char	   *qt = qs ? pt_pq_ident(conn, table, err) : NULL;
	char	  **q = pt_calloc((size_t) c->n + 1, sizeof(char *));
	bool		ok = qt != NULL;

	for (int i = 0; ok && i < c->n; i++)
		ok = (q[i] = pt_pq_ident(conn, c->names[i], err)) != NULL;
	if (ok)
	{
		pt_buf_puts(sql, "COPY (SELECT ");
		for (int i = 0; i < c->n; i++)
			pt_buf_printf(sql, "%s%s::text", i ? ", " : "", q[i]);
		pt_buf_printf(sql, " FROM ONLY %s.%s ORDER BY ", qs, qt);
		for (int i = 0; i < c->nkey; i++)
			pt_buf_printf(sql, "%s%s::text COLLATE \"C\"", i ? ", " : "", q[c->key[i]]);
		pt_buf_puts(sql, ") TO STDOUT");
	}
	for (int i = 0; i < c->n; i++)
		PQfreemem(q[i]);
	free(q);
	PQfreemem(qs);
	PQfreemem(qt);
	return ok;
}

/* Byte order, NULL last: as ORDER BY x COLLATE "C" sorts. */
static int
cmp_text(pt_text a, pt_text b)
{
	size_t		n = a.len < b.len ? a.len : b.len;
	int			r;

	if (a.ptr == NULL || b.ptr == NULL)
		return (a.ptr == NULL) - (b.ptr == NULL);
	r = memcmp(a.ptr, b.ptr, n);
	if (r != 0)
		return r < 0 ? -1 : 1;
	return (a.len > b.len) - (a.len < b.len);
}

static int
cmp_key(const tcols *c, const pt_text *a, const pt_text *b)
{
	int			r = 0;

	for (int i = 0; r == 0 && i < c->nkey; i++)
		r = cmp_text(a[c->key[i]], b[c->key[i]]);
	return r;
}

static bool
rows_equal(const tcols *c, const pt_text *a, const pt_text *b)
{
	for (int i = 0; i < c->n; i++)
		if (cmp_text(a[i], b[i]) != 0)
			return false;
	return true;
}

/* {"col": "text" | null, ...} of the columns idx[0..n) (all when idx is NULL); caller frees. */
static char *
row_json(const tcols *c, const pt_text *f, const int *idx, int n)
{
	pt_buf		b = PT_BUF_INIT;

	pt_buf_putc(&b, '{');
	for (int i = 0; i < n; i++)
	{
		int			col = idx ? idx[i] : i;

		if (i)
			pt_buf_putc(&b, ',');
		pt_json_put_cstring(&b, c->names[col]);
		pt_buf_putc(&b, ':');
		if (f[col].ptr)
			pt_json_put_string(&b, f[col].ptr, f[col].len);
		else
			pt_buf_puts(&b, "null");
	}
	pt_buf_putc(&b, '}');
	return b.data;
}

/* Count a differing row; keep it while fewer than max_rows are kept. */
static void
add_row(const drift *d, dtable *t, const tcols *c, const char *kind, const side *logs, const side *live)
{
	const pt_text *keyrow = live ? live->fields : logs->fields;
	drow	   *r;

	if (logs && live)
		t->changed++;
	else if (logs)
		t->missing++;
	else
		t->extra++;
	if (t->nrows >= d->opts->max_rows)
		return;
	t->rows = pt_realloc(t->rows, (size_t) (t->nrows + 1) * sizeof(drow));
	r = &t->rows[t->nrows++];
	r->kind = kind;
	r->key = row_json(c, keyrow, c->key, c->nkey);
	r->live = live ? row_json(c, live->fields, NULL, c->n) : NULL;
	r->log = logs ? row_json(c, logs->fields, NULL, c->n) : NULL;
}

/* Merge-join the two sorted streams; one row of each side in memory. */
static bool
merge(const drift *d, const tcols *c, side *logs, side *live, dtable *t, pt_err *err)
{
	bool		ok = true;

	while (ok && (!logs->done || !live->done))
	{
		int			r = logs->done ? 1 : live->done ? -1 : cmp_key(c, logs->fields, live->fields);

		if (*d->stop)
			return pt_err_set(err, PT_ERR_RUNTIME, "drift: interrupted");
		if (r == 0)
		{
			if (!rows_equal(c, logs->fields, live->fields))
				add_row(d, t, c, "changed", logs, live);
			ok = side_next(logs, err) && side_next(live, err);
		}
		else if (r < 0)
		{
			add_row(d, t, c, "missing", logs, NULL);
			ok = side_next(logs, err);
		}
		else
		{
			add_row(d, t, c, "extra", NULL, live);
			ok = side_next(live, err);
		}
	}
	return ok;
}

/* Stream both sides of one table and merge them. */
static bool
compare_rows(drift *d, const tcols *c, dtable *t, pt_err *err)
{
	pt_buf		logsql = PT_BUF_INIT;
	pt_buf		livesql = PT_BUF_INIT;
	side		logs,
				live;
	bool		ok;

	memset(&logs, 0, sizeof(logs));
	memset(&live, 0, sizeof(live));
	ok = copy_sql(d->scratch, t->schema, t->table, c, &logsql, err) &&
		copy_sql(d->source, t->schema, t->table, c, &livesql, err) &&
		side_open(&logs, d->scratch, logsql.data, c->n, err) &&
		side_open(&live, d->source, livesql.data, c->n, err) &&
		merge(d, c, &logs, &live, t, err);
	if (!ok && strcmp(err->sqlstate, PT_SQLSTATE_INSUFFICIENT_PRIVILEGE) == 0)
	{
		err->kind = PT_ERR_CONFIG;
		pt_err_hint(err, "grant SELECT on the captured tables to the role pgtrail-verify connects to the source as");
	}
	side_close(&logs);
	side_close(&live);
	pt_buf_free(&logsql);
	pt_buf_free(&livesql);
	return ok;
}

/* Compare one table replay made; its result joins rd. */
static bool
compare_table(drift *d, dround *rd, const char *schema, const char *table, const char *oid, pt_err *err)
{
	dtable	   *t = pt_calloc(1, sizeof(*t));
	tcols		c;
	bool		comparable = false;
	bool		ok;

	memset(&c, 0, sizeof(c));
	t->schema = pt_strdup(schema);
	t->table = pt_strdup(table);
	ok = scratch_columns(d, oid, &c, err) && (c.n == 0 || live_check(d, &c, t, &comparable, err));
	if (ok && comparable)
	{
		ok = compare_rows(d, &c, t, err);
		rd->ntables++;
	}
	if (!ok)
		pt_err_prefix(err, "drift: table \"%s\".\"%s\"", schema, table);
	tcols_free(&c);
	if (ok)
		dround_keep(rd, t);
	else
		dtable_free(t);
	return ok;
}

/* ---- rounds ---- */

/* Compare every table replay made in the scratch database (leaves, not
 * partitioned parents) with the live tables, read in one snapshot. */
static bool
round_run(drift *d, dround *rd, pt_err *err)
{
	const char *params[1] = {STATE_SCHEMA};
	PGresult   *res = NULL;
	PGresult   *lsn = NULL;
	bool		ok;

	dround_init(rd);
	ok = pt_pq_command(d->source, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", err) &&
		(lsn = pt_pq_exec(d->source, "SELECT pg_current_wal_lsn()::text", PGRES_TUPLES_OK, 1, 1, err)) != NULL &&
		(res = pt_pq_exec_params(d->scratch, "SELECT n.nspname, c.relname, c.oid " USER_RELATIONS
								 "AND c.relkind = 'r' AND n.nspname <> $1 ORDER BY 1, 2",
								 1, params, PGRES_TUPLES_OK, PT_PQ_ANY, 3, err)) != NULL;
	if (ok && !pt_lsn_parse(PQgetvalue(lsn, 0, 0), strlen(PQgetvalue(lsn, 0, 0)), &rd->source_lsn))
		ok = pt_err_set(err, PT_ERR_RUNTIME, "drift: the source's WAL position \"%s\" is not an LSN",
						PQgetvalue(lsn, 0, 0));
	for (int i = 0; ok && i < PQntuples(res); i++)
		ok = compare_table(d, rd, PQgetvalue(res, i, 0), PQgetvalue(res, i, 1), PQgetvalue(res, i, 2), err);
	ok = ok && pt_pq_command(d->source, "COMMIT", err);
	PQclear(lsn);
	PQclear(res);
	return ok;
}

/* t as an LSN, into *lsn when higher. */
static bool
raise_lsn(const char *t, pt_lsn *lsn, pt_err *err)
{
	pt_lsn		v;

	if (!pt_lsn_parse(t, strlen(t), &v))
		return pt_err_set(err, PT_ERR_RUNTIME, "drift: \"%s\" is not an LSN", t);
	if (v > *lsn)
		*lsn = v;
	return true;
}

/* The slot's confirmed position at the source (capture confirms only what
 * it stored; an idle capture confirms keepalives there, not in state). */
static bool
slot_confirmed(drift *d, const char *slot, pt_lsn *lsn, pt_err *err)
{
	const char *params[1] = {slot};
	PGresult   *res = pt_pq_exec_params(d->source, "SELECT confirmed_flush_lsn::text FROM pg_replication_slots "
										"WHERE slot_name = $1 AND database = current_database() "
										"AND confirmed_flush_lsn IS NOT NULL", 1, params,
										PGRES_TUPLES_OK, PT_PQ_ANY, 1, err);
	bool		ok = res != NULL;

	if (ok && PQntuples(res) == 1)
		ok = raise_lsn(PQgetvalue(res, 0, 0), lsn, err);
	PQclear(res);
	return ok;
}

/* How far the log is complete: the highest confirmed LSN of the store's
 * state rows and of their slots (0 when none). */
static bool
store_confirmed(drift *d, PGconn *events, pt_lsn *lsn, pt_err *err)
{
	pt_buf		sql = PT_BUF_INIT;
	PGresult   *res = NULL;
	bool		ok = pt_pq_sql_with_ident(events, "SELECT slot, confirmed_lsn::text FROM %1$s.state",
										  d->opts->schema, &sql, err);

	*lsn = 0;
	ok = ok && (res = pt_pq_exec(events, sql.data, PGRES_TUPLES_OK, PT_PQ_ANY, 2, err)) != NULL;
	for (int i = 0; ok && i < PQntuples(res); i++)
		ok = raise_lsn(PQgetvalue(res, i, 1), lsn, err) && slot_confirmed(d, PQgetvalue(res, i, 0), lsn, err);
	PQclear(res);
	pt_buf_free(&sql);
	return ok;
}

/* Poll the store's state until its confirmed LSN reaches target or
 * wait_s passes; *confirmed is the last value read, *behind whether the
 * first was short of target. */
static bool
wait_for_capture(drift *d, pt_lsn target, pt_lsn *confirmed, bool *behind, pt_err *err)
{
	PGconn	   *events = pt_pq_connect(d->opts->events_dsn, APP_NAME, err);
	int64_t		deadline = pt_now_us() + (int64_t) d->opts->wait_s * 1000000;
	bool		ok = events != NULL && store_confirmed(d, events, confirmed, err);

	*behind = ok && *confirmed < target;
	if (*behind)
		pt_log_info(d->log, "drift: rows differ and the log is behind the source by %llu bytes: waiting up to %d s "
					"for capture to catch up", (unsigned long long) (target - *confirmed), d->opts->wait_s);
	while (ok && *confirmed < target && pt_now_us() < deadline && !*d->stop)
	{
		usleep(SETTLE_POLL_US);
		ok = store_confirmed(d, events, confirmed, err);
	}
	pt_pq_close(events);
	return ok;
}

/*
 * Rows differ in the first round: when the log is behind the source, give
 * capture wait_s to pass the source's position, then replay on and compare
 * again (*final = the second round). Else the first round stands, with a
 * note when the log never caught up.
 */
static bool
settle(drift *d, dround *first, dround *second, dround **final, pt_report *rep, pt_err *err)
{
	pt_lsn		confirmed = 0;
	bool		waited = false;
	char		at[PT_LSN_BUFLEN];

	*final = first;
	if (!wait_for_capture(d, first->source_lsn, &confirmed, &waited, err))
		return false;
	if (waited && confirmed >= first->source_lsn)
	{
		if (*d->stop)
			return pt_err_set(err, PT_ERR_RUNTIME, "drift: interrupted");
		pt_log_info(d->log, "drift: capture caught up; replaying on and comparing again");
		*final = second;
		return rebuild(d, true, err) && round_run(d, second, err);
	}
	if (!waited)
		return true;			/* the log was not behind: the rows differ */
	pt_lsn_format(first->source_lsn, at);
	pt_report_note(rep, "drift: the log is behind the source by %llu bytes (the source was at %s); rows changed "
				   "recently may be listed", (unsigned long long) (first->source_lsn - confirmed), at);
	return true;
}

/* ---- the run ---- */

static void
drift_free(drift *d)
{
	pt_pq_close(d->scratch);
	pt_pq_close(d->source);
	free(d->made_db);
	free(d->scratch_dsn);
	for (int i = 0; i < d->nschemas_before; i++)
		free(d->schemas_before[i]);
	free(d->schemas_before);
}

bool
pt_drift_run(const pt_drift_opts *opts, pt_log *log, volatile sig_atomic_t *stop, pt_report *rep, pt_err *err)
{
	drift		d;
	dround		first,
				second,
			   *final = &first;
	bool		ok;

	memset(&d, 0, sizeof(d));
	d.opts = opts;
	d.log = log;
	d.stop = stop;
	dround_init(&first);
	dround_init(&second);
	if ((d.source = pt_pq_connect(opts->source_dsn, APP_NAME, err)) == NULL)
		pt_err_prefix(err, "drift: source database");
	ok = d.source != NULL && scratch_open(&d, err) && rebuild(&d, false, err) && round_run(&d, &first, err);
	if (ok && first.nrows > 0 && opts->wait_s > 0)
		ok = settle(&d, &first, &second, &final, rep, err);
	if (ok)
		emit(&d, final, rep);
	scratch_release(&d, rep);
	dround_free(&first);
	dround_free(&second);
	drift_free(&d);
	return ok;
}
