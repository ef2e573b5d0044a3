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

#define WANTED_SQL \
	"SELECT to_regclass(quote_ident($1) || '.erasure_due') IS NOT NULL, " \
	" EXISTS (SELECT 1 FROM %1$s.sink_positions WHERE sink = 'kafka')"
/* the key's row as the erased event left it, and the erased event's unchanged TOAST columns */
#define ADD_SQL \
	"INSERT INTO %1$s.erasure_due (erasure_id, schema_name, table_name, schema_version, key, row, unchanged) " \
	"SELECT 0, $1, $2, $3, $4, $5, unchanged FROM %1$s.events WHERE id = $6"
/*
 * Of the given events, those no later event of their table follows for
 * their key: by key, by an update that moved the row to another key (its
 * old), as replay's point queries read a row's life (the same indexes);
 * and whether a truncate of the table came after (the row is gone).
 */
#define LAST_SQL \
	"SELECT c.id, EXISTS (SELECT 1 FROM %1$s.events t WHERE t.op = 'truncate' AND t.id > c.id " \
	"  AND t.schema_name = c.schema_name AND t.table_name = c.table_name) " \
	"FROM %1$s.events c WHERE c.id = ANY ($1::bigint[]) AND c.key IS NOT NULL " \
	" AND NOT EXISTS (SELECT 1 FROM %1$s.events l WHERE l.key::text = c.key::text AND l.id > c.id " \
	"  AND l.schema_name = c.schema_name AND l.table_name = c.table_name " \
	"  AND l.op IN ('insert', 'update', 'delete', 'snapshot')) " \
	" AND NOT EXISTS (SELECT 1 FROM %1$s.events m WHERE m.op = 'update' AND m.old IS NOT NULL " \
	"  AND m.old::text <> m.key::text AND m.old::jsonb @> c.key::jsonb AND m.id > c.id " \
	"  AND m.schema_name = c.schema_name AND m.table_name = c.table_name) " \
	"ORDER BY c.id"
#define ASSIGN_SQL "UPDATE %1$s.erasure_due SET erasure_id = $1 WHERE erasure_id = 0"
#define FROM_SQL \
	"SELECT erasure_id, schema_name, table_name, schema_version, key, row, unchanged FROM %1$s.erasure_due " \
	"WHERE erasure_id BETWEEN $1 AND $2 ORDER BY erasure_id, schema_name, table_name, key"
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
	return pt_pq_exec_with_ident(conn, sql, schema, nparams, params, expect, PT_PQ_ANY, PT_PQ_ANY, err);
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
	const char *params[1] = {schema};
	PGresult   *res = run(conn, schema, WANTED_SQL, 1, params, PGRES_TUPLES_OK, err);
	bool		has_table = res != NULL && strcmp(PQgetvalue(res, 0, 0), "t") == 0;

	*wanted = res != NULL && strcmp(PQgetvalue(res, 0, 1), "t") == 0;
	PQclear(res);
	if (res == NULL || !*wanted || has_table)
		return res != NULL;
	pt_err_set(err, PT_ERR_CONFIG, "a Kafka sink reads the event store in schema \"%s\", which has no erasure_due "
			   "table for the messages an erasure owes it", schema);
	pt_err_hint(err, "start this release's pgtrail-capture once (it adds the table), then erase");
	return false;
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
pt_due_last_of_keys(PGconn *conn, const char *schema, const int64_t *ids, int n, pt_due_last **last, int *n_last,
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
	*last = pt_calloc((size_t) PQntuples(res) + 1, sizeof(pt_due_last));
	for (int i = 0; i < PQntuples(res); i++, (*n_last)++)
	{
		(*last)[i].id = strtoll(PQgetvalue(res, i, 0), NULL, 10);
		(*last)[i].truncated = strcmp(PQgetvalue(res, i, 1), "t") == 0;
	}
	PQclear(res);
	return true;
}

bool
pt_due_add(PGconn *conn, const char *schema, const pt_event *ev, const char *row, pt_err *err)
{
	char		id[24];
	char	   *schema_name = pt_strndup(ev->schema_name.ptr, ev->schema_name.len);
	char	   *table_name = pt_strndup(ev->table_name.ptr, ev->table_name.len);
	char	   *key = pt_strndup(ev->key.ptr, ev->key.len);
	char		version[16];
	const char *params[6] = {schema_name, table_name, version, key, row, id};
	bool		ok;

	snprintf(version, sizeof(version), "%d", ev->schema_version);
	snprintf(id, sizeof(id), "%lld", (long long) ev->id);
	ok = run_command(conn, schema, ADD_SQL, 6, params, err);
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
pt_due_from(PGconn *conn, const char *schema, int64_t first_id, int64_t last_id, pt_err *err)
{
	char		first[24],
				last[24];
	const char *params[2] = {first, last};

	snprintf(first, sizeof(first), "%lld", (long long) first_id);
	snprintf(last, sizeof(last), "%lld", (long long) last_id);
	return run(conn, schema, FROM_SQL, 2, params, PGRES_TUPLES_OK, err);
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
