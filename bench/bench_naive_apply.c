/*
 * bench/bench_naive_apply.c — the naive client that replay is measured against.
 *
 * What a user without pgtrail-replay would write to apply the event log to
 * a target: stream the events in id order (a cursor on the event store) and,
 * for each change, run ONE prepared statement in autocommit, so one round
 * trip and one commit per change. The statements let the server unpack the
 * JSON (json_populate_record), so the client does no value handling:
 *
 *   insert, snapshot  INSERT INTO t SELECT * FROM json_populate_record(NULL::t, $1)
 *   update            UPDATE t SET (cols) = (SELECT cols FROM json_populate_record(NULL::t, $1))
 *                     WHERE (pk) = (SELECT pk FROM json_populate_record(NULL::t, $2))
 *   delete            DELETE FROM t WHERE (pk) = (SELECT pk FROM json_populate_record(NULL::t, $1))
 *
 * Each table's three statements are prepared once, on its first change. It
 * is a baseline for the benchmark's table shape (a primary key, no unchanged
 * TOAST columns, no TRUNCATE), not a general replayer: ddl and message
 * events (and schema events) are skipped, truncate and gap events stop it.
 *
 *   bench_naive_apply EVENTS_DSN TARGET_DSN [MAX_EVENT_ID [SCHEMA]]
 *
 * Applies the events with id <= MAX_EVENT_ID (0 or absent: all) and prints
 * the number of changes applied and the time taken.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"
#include "core/mem.h"
#include "core/pq.h"

#define MAX_TABLES 64

typedef struct table_stmts
{
	char	   *schema_name;
	char	   *table_name;
	char		ins[16];		/* prepared statement names */
	char		upd[16];
	char		del[16];
} table_stmts;

static table_stmts tables[MAX_TABLES];
static int	ntables;

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static void
die(const char *what, const pt_err *err)
{
	fprintf(stderr, "bench_naive_apply: %s%s%s\n", what, err ? ": " : "", err ? err->message : "");
	if (err && err->detail[0])
		fprintf(stderr, "detail: %s\n", err->detail);
	exit(3);
}

/* Append the quoted identifier name to out, or die. */
static void
put_ident(PGconn *conn, pt_buf *out, const char *name)
{
	pt_err		err;
	char	   *q = pt_pq_ident(conn, name, &err);

	if (q == NULL)
		die("quote", &err);
	pt_buf_puts(out, q);
	PQfreemem(q);
}

static void
prepare_or_die(PGconn *conn, const char *name, const char *sql, int nparams)
{
	PGresult   *res = PQprepare(conn, name, sql, nparams, NULL);

	if (PQresultStatus(res) != PGRES_COMMAND_OK)
	{
		fprintf(stderr, "bench_naive_apply: could not prepare \"%s\": %s", sql, PQerrorMessage(conn));
		exit(3);
	}
	PQclear(res);
}

/*
 * Prepare the three statements of schema_name.table_name, with the column
 * list and primary key read from the target's catalog. The table's names
 * are copied (freed at exit with the process).
 */
static table_stmts *
prepare_table(PGconn *conn, const char *schema_name, const char *table_name)
{
	table_stmts *t;
	pt_err		err;
	pt_buf		qname = PT_BUF_INIT,
				cols = PT_BUF_INIT,
				pk = PT_BUF_INIT,
				sql = PT_BUF_INIT;
	const char *params[1];
	PGresult   *res;

	if (ntables == MAX_TABLES)
		die("more tables than the naive client keeps statements for", NULL);
	t = &tables[ntables];
	t->schema_name = pt_strdup(schema_name);
	t->table_name = pt_strdup(table_name);
	snprintf(t->ins, sizeof(t->ins), "ins_%d", ntables);
	snprintf(t->upd, sizeof(t->upd), "upd_%d", ntables);
	snprintf(t->del, sizeof(t->del), "del_%d", ntables);
	ntables++;

	put_ident(conn, &qname, schema_name);
	pt_buf_putc(&qname, '.');
	put_ident(conn, &qname, table_name);
	params[0] = qname.data;
	res = pt_pq_exec_params(conn,
							"SELECT a.attname, coalesce(a.attnum = ANY (i.indkey), false) "
							"FROM pg_attribute a LEFT JOIN pg_index i ON i.indrelid = a.attrelid AND i.indisprimary "
							"WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped "
							"ORDER BY a.attnum",
							1, params, PGRES_TUPLES_OK, PT_PQ_ANY, 2, &err);
	if (res == NULL)
		die("read the target's columns", &err);
	for (int i = 0; i < PQntuples(res); i++)
	{
		if (cols.len > 0)
			pt_buf_puts(&cols, ", ");
		put_ident(conn, &cols, PQgetvalue(res, i, 0));
		if (PQgetvalue(res, i, 1)[0] == 't')
		{
			if (pk.len > 0)
				pt_buf_puts(&pk, ", ");
			put_ident(conn, &pk, PQgetvalue(res, i, 0));
		}
	}
	PQclear(res);
	if (cols.len == 0 || pk.len == 0)
	{
		fprintf(stderr, "bench_naive_apply: table %s is missing in the target or has no primary key\n", qname.data);
		exit(3);
	}

	pt_buf_printf(&sql, "INSERT INTO %s SELECT * FROM json_populate_record(NULL::%s, $1::json)",
				  qname.data, qname.data);
	prepare_or_die(conn, t->ins, sql.data, 1);
	pt_buf_reset(&sql);
	pt_buf_printf(&sql, "UPDATE %1$s SET (%2$s) = (SELECT %2$s FROM json_populate_record(NULL::%1$s, $1::json)) "
				  "WHERE (%3$s) = (SELECT %3$s FROM json_populate_record(NULL::%1$s, $2::json))",
				  qname.data, cols.data, pk.data);
	prepare_or_die(conn, t->upd, sql.data, 2);
	pt_buf_reset(&sql);
	pt_buf_printf(&sql, "DELETE FROM %1$s WHERE (%2$s) = (SELECT %2$s FROM json_populate_record(NULL::%1$s, $1::json))",
				  qname.data, pk.data);
	prepare_or_die(conn, t->del, sql.data, 1);

	pt_buf_free(&qname);
	pt_buf_free(&cols);
	pt_buf_free(&pk);
	pt_buf_free(&sql);
	return t;
}

static table_stmts *
find_table(PGconn *conn, const char *schema_name, const char *table_name)
{
	for (int i = 0; i < ntables; i++)
		if (strcmp(tables[i].table_name, table_name) == 0 && strcmp(tables[i].schema_name, schema_name) == 0)
			return &tables[i];
	return prepare_table(conn, schema_name, table_name);
}

/* One change, one round trip, its own commit; an update or delete must hit one row. */
static void
apply_one(PGconn *conn, const char *stmt, int nparams, const char *const *params, bool one_row, const char *id)
{
	PGresult   *res = PQexecPrepared(conn, stmt, nparams, params, NULL, NULL, 0);

	if (PQresultStatus(res) != PGRES_COMMAND_OK)
	{
		fprintf(stderr, "bench_naive_apply: event %s: %s", id, PQerrorMessage(conn));
		exit(3);
	}
	if (one_row && strcmp(PQcmdTuples(res), "1") != 0)
	{
		fprintf(stderr, "bench_naive_apply: event %s changed %s rows, expected 1\n", id, PQcmdTuples(res));
		exit(3);
	}
	PQclear(res);
}

int
main(int argc, char **argv)
{
	const char *max_id = argc > 3 && strcmp(argv[3], "0") != 0 ? argv[3] : "9223372036854775807";
	const char *schema = argc > 4 ? argv[4] : "pgtrail";
	pt_err		err;
	PGconn	   *events,
			   *target;
	pt_buf		sql = PT_BUF_INIT;
	PGresult   *res;
	long		applied = 0,
				skipped = 0;
	double		t0;

	if (argc < 3)
	{
		fprintf(stderr, "usage: bench_naive_apply EVENTS_DSN TARGET_DSN [MAX_EVENT_ID [SCHEMA]]\n");
		return 2;
	}
	if ((events = pt_pq_connect(argv[1], "pgtrail-bench-naive", &err)) == NULL)
		die("connect to the event store", &err);
	if ((target = pt_pq_connect(argv[2], "pgtrail-bench-naive", &err)) == NULL)
		die("connect to the target", &err);

	t0 = now();
	pt_buf_puts(&sql, "DECLARE ev NO SCROLL CURSOR FOR "
				"SELECT id, op, schema_name, table_name, key::text, row::text, old::text FROM ");
	put_ident(events, &sql, schema);
	pt_buf_puts(&sql, ".events WHERE id <= $1::bigint ORDER BY id");
	if (!pt_pq_command(events, "BEGIN", &err))
		die("begin", &err);
	res = pt_pq_exec_params(events, sql.data, 1, &max_id, PGRES_COMMAND_OK, PT_PQ_ANY, PT_PQ_ANY, &err);
	if (res == NULL)
		die("declare the cursor", &err);
	PQclear(res);
	for (;;)
	{
		int			n;

		res = pt_pq_exec(events, "FETCH 10000 FROM ev", PGRES_TUPLES_OK, PT_PQ_ANY, 7, &err);
		if (res == NULL)
			die("fetch", &err);
		if ((n = PQntuples(res)) == 0)
		{
			PQclear(res);
			break;
		}
		for (int i = 0; i < n; i++)
		{
			const char *id = PQgetvalue(res, i, 0);
			const char *op = PQgetvalue(res, i, 1);
			const char *row = PQgetisnull(res, i, 5) ? NULL : PQgetvalue(res, i, 5);
			const char *key = PQgetisnull(res, i, 4) ? NULL : PQgetvalue(res, i, 4);
			const char *old = PQgetisnull(res, i, 6) ? NULL : PQgetvalue(res, i, 6);
			const char *params[2];
			table_stmts *t;

			if (strcmp(op, "message") == 0 || strcmp(op, "ddl") == 0 || strcmp(op, "schema") == 0)
			{
				skipped++;
				continue;
			}
			if (PQgetisnull(res, i, 2) || PQgetisnull(res, i, 3))
			{
				fprintf(stderr, "bench_naive_apply: event %s (%s) names no table\n", id, op);
				return 3;
			}
			t = find_table(target, PQgetvalue(res, i, 2), PQgetvalue(res, i, 3));
			if (strcmp(op, "insert") == 0 || strcmp(op, "snapshot") == 0)
			{
				params[0] = row;
				apply_one(target, t->ins, 1, params, false, id);
			}
			else if (strcmp(op, "update") == 0)
			{
				params[0] = row;
				params[1] = old ? old : key;	/* the row's key before the update */
				apply_one(target, t->upd, 2, params, true, id);
			}
			else if (strcmp(op, "delete") == 0)
			{
				params[0] = key ? key : old;
				apply_one(target, t->del, 1, params, true, id);
			}
			else
			{
				fprintf(stderr, "bench_naive_apply: event %s: op \"%s\" is not handled by the naive client\n", id, op);
				return 3;
			}
			applied++;
		}
		PQclear(res);
	}
	if (!pt_pq_command(events, "COMMIT", &err))
		die("commit", &err);
	t0 = now() - t0;
	printf("naive client: %ld changes applied in %.2f s = %.0f changes/s (%ld non-row events skipped)\n",
		   applied, t0, (double) applied / t0, skipped);
	pt_buf_free(&sql);
	pt_pq_close(events);
	pt_pq_close(target);
	return 0;
}
