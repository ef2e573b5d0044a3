/*
 * capture/snapshot.c — initial copy of the captured tables (see snapshot.h).
 */
#include "capture/snapshot.h"

#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/build.h"
#include "core/copytext.h"
#include "core/mem.h"
#include "core/pgtime.h"
#include "core/pq.h"

/* Ordinary, permanent tables (partitions are leaves too); not catalogs. */
#define TABLES_SQL \
	"SELECT n.nspname, c.relname, c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace " \
	"WHERE c.relkind = 'r' AND c.relpersistence = 'p' " \
	"AND n.nspname NOT IN ('pg_catalog', 'information_schema') " \
	"AND n.nspname !~ '^pg_(toast|temp_)' ORDER BY 1, 2"

/* Columns in attnum order, marking the key (primary key, else replica identity
 * index); not PostgreSQL 18's virtual generated columns, which no event carries. */
#define COLUMNS_SQL \
	"SELECT a.attname, coalesce(a.attnum = ANY (k.indkey), false) FROM pg_attribute a " \
	"LEFT JOIN LATERAL (SELECT i.indkey FROM pg_index i WHERE i.indrelid = a.attrelid " \
	"AND (i.indisprimary OR i.indisreplident) ORDER BY i.indisprimary DESC LIMIT 1) k ON true " \
	"WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated <> 'v' ORDER BY a.attnum"

typedef struct snap
{
	PGconn	   *conn;
	pt_builder *builder;
	pt_txn		txn;
	pt_snapshot_emit emit;
	void	   *arg;
	pt_log	   *log;
	pt_metrics *metrics;
	int			tables_done;
	int			tables_total;
	int64_t		rows_total;
	int64_t		last_progress_us;
	/* the current table */
	pt_text    *names;
	bool	   *is_key;
	pt_text    *values;
	int			ncols;
} snap;

static bool
begin_snapshot(snap *s, const char *snapshot_name, pt_err *err)
{
	const char *params[1] = {snapshot_name};
	PGresult   *res;
	pt_buf		set = PT_BUF_INIT;
	bool		ok;

	/* SET TRANSACTION SNAPSHOT takes no parameters and must come first in
	 * the transaction: have the server quote the name beforehand */
	res = pt_pq_exec_params(s->conn, "SELECT 'SET TRANSACTION SNAPSHOT ' || quote_literal($1)",
							1, params, PGRES_TUPLES_OK, 1, 1, err);
	if (res == NULL)
		return false;
	pt_buf_puts(&set, PQgetvalue(res, 0, 0));
	PQclear(res);
	ok = pt_pq_command(s->conn, "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY", err) &&
		pt_pq_command(s->conn, set.data, err);
	pt_buf_free(&set);
	if (!ok)
		return false;
	res = pt_pq_exec(s->conn, "SELECT now()::text", PGRES_TUPLES_OK, 1, 1, err);
	if (res == NULL)
		return false;
	pt_time_parse(PQgetvalue(res, 0, 0), strlen(PQgetvalue(res, 0, 0)), &s->txn.committed_at);
	PQclear(res);
	return true;
}

static bool
load_columns(snap *s, const char *oid, pt_err *err)
{
	const char *params[1] = {oid};
	PGresult   *res = pt_pq_exec_params(s->conn, COLUMNS_SQL, 1, params, PGRES_TUPLES_OK, PT_PQ_ANY, 2, err);

	if (res == NULL)
		return false;
	for (int i = 0; i < s->ncols; i++)
		free((char *) s->names[i].ptr);
	s->ncols = PQntuples(res);
	s->names = pt_realloc(s->names, sizeof(pt_text) * (size_t) (s->ncols + 1));
	s->values = pt_realloc(s->values, sizeof(pt_text) * (size_t) (s->ncols + 1));
	s->is_key = pt_realloc(s->is_key, sizeof(bool) * (size_t) (s->ncols + 1));
	for (int i = 0; i < s->ncols; i++)
	{
		s->names[i] = pt_text_c(pt_strdup(PQgetvalue(res, i, 0)));
		s->is_key[i] = strcmp(PQgetvalue(res, i, 1), "t") == 0;
	}
	PQclear(res);
	return true;
}

static void
progress(snap *s, const char *schema, const char *table, int64_t rows)
{
	if ((s->rows_total & 1023) == 0)
		pt_metrics_snapshot(s->metrics, s->tables_done, s->tables_total, s->rows_total);
	if (pt_now_us() - s->last_progress_us < 10 * 1000000)
		return;
	s->last_progress_us = pt_now_us();
	pt_log_info(s->log, "snapshot: %lld rows of \"%s\".\"%s\" so far, %lld in all",
				(long long) rows, schema, table, (long long) s->rows_total);
}

/* The table's columns, quoted, comma-separated. */
static bool
put_columns(snap *s, pt_buf *sql, pt_err *err)
{
	for (int i = 0; i < s->ncols; i++)
	{
		char	   *q = pt_pq_ident(s->conn, s->names[i].ptr, err);

		if (q == NULL)
			return false;
		pt_buf_puts(sql, i ? ", " : "");
		pt_buf_puts(sql, q);
		PQfreemem(q);
	}
	return true;
}

/* COPY one table out and emit each row. */
static bool
copy_table(snap *s, const char *schema, const char *table, pt_err *err)
{
	char	   *qs = pt_pq_ident(s->conn, schema, err);
	char	   *qt = qs ? pt_pq_ident(s->conn, table, err) : NULL;
	pt_buf		sql = PT_BUF_INIT;
	PGresult   *res = NULL;
	char	   *row = NULL;
	int			len;
	int64_t		rows = 0;
	bool		ok = false;
	pt_event	ev;

	if (qt == NULL)
		goto done;
	pt_buf_puts(&sql, "COPY (SELECT ");
	if (!put_columns(s, &sql, err))
		goto done;
	pt_buf_printf(&sql, " FROM ONLY %s.%s) TO STDOUT", qs, qt);
	if ((res = pt_pq_exec(s->conn, sql.data, PGRES_COPY_OUT, PT_PQ_ANY, PT_PQ_ANY, err)) == NULL)
		goto done;
	PQclear(res);
	while ((len = PQgetCopyData(s->conn, &row, 0)) > 0)
	{
		if (!pt_copy_split_row(row, (size_t) len - 1, s->values, s->ncols))
		{
			pt_err_set(err, PT_ERR_RUNTIME, "unexpected COPY row from \"%s\".\"%s\"", schema, table);
			goto abandon;
		}
		pt_builder_snapshot_event(s->builder, &s->txn, pt_text_c(schema), pt_text_c(table),
								  s->names, s->values, s->is_key, s->ncols, &ev);
		if (!s->emit(s->arg, &ev, err))
			goto abandon;
		PQfreemem(row);
		row = NULL;
		rows++;
		s->rows_total++;
		progress(s, schema, table, rows);
	}
	ok = len == -1;
	if (!ok)
		pt_pq_error(s->conn, NULL, "snapshot copy failed", err);
	while ((res = PQgetResult(s->conn)) != NULL)
	{
		if (ok && PQresultStatus(res) != PGRES_COMMAND_OK)
			ok = pt_pq_error(s->conn, res, "snapshot copy failed", err);
		PQclear(res);
	}
	if (ok)
		pt_log_info(s->log, "snapshot: \"%s\".\"%s\": %lld rows", schema, table, (long long) rows);
	goto done;
abandon:
	/*
	 * Stopped mid-COPY: the connection stays in COPY OUT (PQgetResult would
	 * return the COPY result for ever). The snapshot has failed as a whole,
	 * and its connection is only closed after this.
	 */
	PQfreemem(row);
done:
	PQfreemem(qs);
	PQfreemem(qt);
	pt_buf_free(&sql);
	return ok;
}

static bool
copy_tables(snap *s, const pt_filter *filter, pt_err *err)
{
	PGresult   *tables = pt_pq_exec(s->conn, TABLES_SQL, PGRES_TUPLES_OK, PT_PQ_ANY, 3, err);
	bool		ok = tables != NULL;

	for (int i = 0; ok && i < PQntuples(tables); i++)
		if (pt_filter_match(filter, PQgetvalue(tables, i, 0), strlen(PQgetvalue(tables, i, 0)),
							PQgetvalue(tables, i, 1), strlen(PQgetvalue(tables, i, 1))))
			s->tables_total++;
	pt_metrics_snapshot(s->metrics, 0, s->tables_total, 0);
	for (int i = 0; ok && i < PQntuples(tables); i++)
	{
		const char *schema = PQgetvalue(tables, i, 0);
		const char *table = PQgetvalue(tables, i, 1);

		if (!pt_filter_match(filter, schema, strlen(schema), table, strlen(table)))
			continue;
		ok = load_columns(s, PQgetvalue(tables, i, 2), err) && copy_table(s, schema, table, err);
		if (ok)
			s->tables_done++;
		pt_metrics_snapshot(s->metrics, s->tables_done, s->tables_total, s->rows_total);
	}
	PQclear(tables);
	return ok;
}

bool
pt_snapshot_copy(const char *source_dsn, const char *snapshot_name, pt_lsn consistent,
				 const pt_filter *filter, pt_snapshot_emit emit, void *arg,
				 pt_log *log, pt_metrics *metrics, int64_t *events, pt_err *err)
{
	snap		s;
	bool		ok;

	memset(&s, 0, sizeof(s));
	s.emit = emit;
	s.arg = arg;
	s.log = log;
	s.metrics = metrics;
	s.txn.commit_lsn = consistent;
	s.last_progress_us = pt_now_us();
	s.conn = pt_pq_connect(source_dsn, "pgtrail-capture snapshot", err);
	if (s.conn == NULL)
		return false;
	s.builder = pt_builder_new();
	ok = begin_snapshot(&s, snapshot_name, err) && copy_tables(&s, filter, err) &&
		pt_pq_command(s.conn, "COMMIT", err);
	if (!ok && strcmp(err->sqlstate, PT_SQLSTATE_INSUFFICIENT_PRIVILEGE) == 0)
	{
		err->kind = PT_ERR_CONFIG;	/* a missing grant: retrying will not help */
		pt_err_hint(err, "the capture role needs SELECT on every captured table: GRANT SELECT ON ALL "
					"TABLES IN SCHEMA ... TO ..., or narrow [capture] tables");
	}
	if (!ok)
		pt_err_prefix(err, "initial snapshot");
	*events = s.rows_total;
	for (int i = 0; i < s.ncols; i++)
		free((char *) s.names[i].ptr);
	free(s.names);
	free(s.values);
	free(s.is_key);
	pt_builder_free(s.builder);
	pt_pq_close(s.conn);
	return ok;
}
