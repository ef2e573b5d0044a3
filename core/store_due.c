/*
 * core/store_due.c — the erasure_due table (see store_due.h). Rows added
 * by pgtrail-erase carry erasure_id 0 until its erasure event has an id;
 * the event table's lock makes erasures one at a time, so the zeros are
 * this transaction's.
 */
#include "core/store_due.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/mem.h"
#include "core/pq.h"

#define WANTED_SQL "SELECT 1 FROM %1$s.sink_positions WHERE sink = 'kafka' LIMIT 1"
#define ADD_SQL \
	"INSERT INTO %1$s.erasure_due AS t (erasure_id, schema_name, table_name, schema_version, key, row) " \
	"VALUES (0, $1, $2, $3, $4, $5) ON CONFLICT (erasure_id, schema_name, table_name, key) " \
	"DO UPDATE SET schema_version = greatest(t.schema_version, excluded.schema_version), " \
	" row = CASE WHEN t.row IS NULL OR excluded.row IS NULL THEN NULL ELSE excluded.row END"
#define LAST_SQL \
	"SELECT id FROM (SELECT DISTINCT ON (schema_name, table_name, key::text) id FROM %1$s.events " \
	" WHERE op IN ('insert', 'update', 'delete', 'snapshot') AND (schema_name, table_name, key::text) IN " \
	"  (SELECT schema_name, table_name, key::text FROM %1$s.events WHERE id = ANY ($1::bigint[])) " \
	" ORDER BY schema_name, table_name, key::text, id DESC) l WHERE id = ANY ($1::bigint[]) ORDER BY id"
#define ASSIGN_SQL "UPDATE %1$s.erasure_due SET erasure_id = $1 WHERE erasure_id = 0"
#define FROM_SQL \
	"SELECT erasure_id, schema_name, table_name, schema_version, key, row FROM %1$s.erasure_due " \
	"WHERE erasure_id >= $1 ORDER BY erasure_id, schema_name, table_name, key"
#define WAITING_SQL \
	"SELECT count(*), min(erasure_id), min(added_at)::text FROM %1$s.erasure_due " \
	"WHERE row IS NULL AND erasure_id > 0"
#define READABLE_SQL \
	"SELECT t IS NOT NULL, coalesce(has_table_privilege(t, 'SELECT'), false) " \
	"FROM (SELECT to_regclass(quote_ident($1) || '.erasure_due') AS t) r"
#define FORGET_SQL "DELETE FROM %1$s.erasure_due WHERE erasure_id <= $1"

/* Run sql (with the schema quoted into it) with params; the result, or NULL with err. */
static PGresult *
run(PGconn *conn, const char *schema, const char *sql, int nparams, const char *const *params,
	ExecStatusType expect, pt_err *err)
{
	pt_buf		text = PT_BUF_INIT;
	PGresult   *res = NULL;

	if (pt_pq_sql_with_ident(conn, sql, schema, &text, err))
		res = pt_pq_exec_params(conn, text.data, nparams, params, expect, PT_PQ_ANY, PT_PQ_ANY, err);
	pt_buf_free(&text);
	return res;
}

static bool
run_command(PGconn *conn, const char *schema, const char *sql, int nparams, const char *const *params, pt_err *err)
{
	PGresult   *res = run(conn, schema, sql, nparams, params, PGRES_COMMAND_OK, err);

	PQclear(res);
	return res != NULL;
}

bool
pt_due_wanted(PGconn *conn, const char *schema, bool *wanted, pt_err *err)
{
	PGresult   *res = run(conn, schema, WANTED_SQL, 0, NULL, PGRES_TUPLES_OK, err);

	*wanted = res != NULL && PQntuples(res) > 0;
	PQclear(res);
	return res != NULL;
}

/* ids as a Postgres array text, "{3,9}" */
static char *
id_array(const int64_t *ids, int n)
{
	pt_buf		out = PT_BUF_INIT;

	pt_buf_putc(&out, '{');
	for (int i = 0; i < n; i++)
		pt_buf_printf(&out, i ? ",%lld" : "%lld", (long long) ids[i]);
	pt_buf_putc(&out, '}');
	return out.data;
}

bool
pt_due_last_of_keys(PGconn *conn, const char *schema, const int64_t *ids, int n, int64_t **last, int *n_last,
					pt_err *err)
{
	char	   *array = id_array(ids, n);
	const char *params[1] = {array};
	PGresult   *res = run(conn, schema, LAST_SQL, 1, params, PGRES_TUPLES_OK, err);

	free(array);
	*last = NULL;
	*n_last = 0;
	if (res == NULL)
		return false;
	*last = pt_calloc((size_t) PQntuples(res) + 1, sizeof(int64_t));
	for (int i = 0; i < PQntuples(res); i++)
		(*last)[(*n_last)++] = strtoll(PQgetvalue(res, i, 0), NULL, 10);
	PQclear(res);
	return true;
}

bool
pt_due_add(PGconn *conn, const char *schema, const pt_event *ev, const char *row, pt_err *err)
{
	char	   *schema_name = pt_strndup(ev->schema_name.ptr, ev->schema_name.len);
	char	   *table_name = pt_strndup(ev->table_name.ptr, ev->table_name.len);
	char	   *key = pt_strndup(ev->key.ptr, ev->key.len);
	char		version[16];
	const char *params[5] = {schema_name, table_name, version, key, row};
	bool		ok;

	snprintf(version, sizeof(version), "%d", ev->schema_version);
	ok = run_command(conn, schema, ADD_SQL, 5, params, err);
	free(schema_name);
	free(table_name);
	free(key);
	return ok;
}

/* sql with an event id as its one parameter */
static PGresult *
run_with_id(PGconn *conn, const char *schema, const char *sql, int64_t event_id, ExecStatusType expect, pt_err *err)
{
	char		id[24];
	const char *params[1] = {id};

	snprintf(id, sizeof(id), "%lld", (long long) event_id);
	return run(conn, schema, sql, 1, params, expect, err);
}

bool
pt_due_assign(PGconn *conn, const char *schema, int64_t erasure_id, pt_err *err)
{
	PGresult   *res = run_with_id(conn, schema, ASSIGN_SQL, erasure_id, PGRES_COMMAND_OK, err);

	PQclear(res);
	return res != NULL;
}

PGresult *
pt_due_from(PGconn *conn, const char *schema, int64_t erasure_id, pt_err *err)
{
	return run_with_id(conn, schema, FROM_SQL, erasure_id, PGRES_TUPLES_OK, err);
}

bool
pt_due_keys_waiting(PGconn *conn, const char *schema, int64_t *keys, int64_t *first_erasure, char *since,
					size_t since_size, pt_err *err)
{
	const char *params[1] = {schema};
	PGresult   *res = pt_pq_exec_params(conn, READABLE_SQL, 1, params, PGRES_TUPLES_OK, 1, 2, err);
	bool		exists = res != NULL && strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	bool		readable = res != NULL && strcmp(PQgetvalue(res, 0, 1), "t") == 0;

	*keys = *first_erasure = 0;
	snprintf(since, since_size, "%s", "");
	PQclear(res);
	if (res == NULL)
		return false;
	if (!readable)
	{
		*keys = exists ? -1 : 0;
		return true;
	}
	if ((res = run(conn, schema, WAITING_SQL, 0, NULL, PGRES_TUPLES_OK, err)) == NULL)
		return false;
	*keys = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	*first_erasure = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
	snprintf(since, since_size, "%s", PQgetvalue(res, 0, 2));
	PQclear(res);
	return true;
}

bool
pt_due_forget(PGconn *conn, const char *schema, int64_t through_id, pt_err *err)
{
	PGresult   *res = run_with_id(conn, schema, FORGET_SQL, through_id, PGRES_COMMAND_OK, err);

	PQclear(res);
	return res != NULL;
}
