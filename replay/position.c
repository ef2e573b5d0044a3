/*
 * replay/position.c — replay's position in the target (see position.h).
 */
#include "replay/position.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/hex.h"
#include "core/pq.h"

#define INSTALL_SQL \
	"CREATE SCHEMA IF NOT EXISTS %1$s; " \
	"CREATE TABLE IF NOT EXISTS %1$s.position (store text PRIMARY KEY, last_event_id bigint NOT NULL, " \
	" last_hash bytea NOT NULL, updated_at timestamptz NOT NULL DEFAULT now()); " \
	"CREATE TABLE IF NOT EXISTS %1$s.tables (store text NOT NULL, schema_name text NOT NULL, " \
	" table_name text NOT NULL, version int NOT NULL, PRIMARY KEY (store, schema_name, table_name)); " \
	"ALTER TABLE %1$s.position ADD COLUMN IF NOT EXISTS tables text; " \
	"CREATE TABLE IF NOT EXISTS %1$s.table_positions (store text NOT NULL, schema_name text NOT NULL, " \
	" table_name text NOT NULL, last_event_id bigint NOT NULL, PRIMARY KEY (store, schema_name, table_name))"

/* sql with the quoted state schema for %1$s; NULL when quoting failed. */
static char *
with_schema(PGconn *conn, const char *state_schema, const char *sql, pt_err *err)
{
	pt_buf		out = PT_BUF_INIT;

	if (!pt_pq_sql_with_ident(conn, sql, state_schema, &out, err))
	{
		pt_buf_free(&out);
		return NULL;
	}
	return out.data;
}

#define WITH_SCHEMA(conn, schema, sql, err) with_schema((conn), (schema), (sql), (err))

bool
pt_position_install(PGconn *conn, const char *state_schema, pt_err *err)
{
	char	   *sql = WITH_SCHEMA(conn, state_schema, INSTALL_SQL, err);
	bool		ok = sql != NULL && pt_pq_command(conn, sql, err);

	free(sql);
	if (!ok)
		pt_err_prefix(err, "could not create replay's state in schema \"%s\" of the target", state_schema);
	return ok;
}

bool
pt_position_load(PGconn *conn, const char *state_schema, const char *store, pt_position *pos, pt_err *err)
{
	const char *params[1] = {store};
	char	   *sql = WITH_SCHEMA(conn, state_schema,
								  "SELECT last_event_id, encode(last_hash, 'hex'), tables FROM %1$s.position "
								  "WHERE store = $1",
								  err);
	PGresult   *res;
	bool		ok = true;

	memset(pos, 0, sizeof(*pos));
	if (sql == NULL)
		return false;
	res = pt_pq_exec_params(conn, sql, 1, params, PGRES_TUPLES_OK, PT_PQ_ANY, 3, err);
	free(sql);
	if (res == NULL)
		return false;
	if (PQntuples(res) == 1)
	{
		pos->event_id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
		pos->tables_known = !PQgetisnull(res, 0, 2);
		snprintf(pos->tables, sizeof(pos->tables), "%s", PQgetvalue(res, 0, 2));
		if (strlen(PQgetvalue(res, 0, 1)) != 2 * PT_HASH_LEN ||
			!pt_hex_decode(PQgetvalue(res, 0, 1), PT_HASH_LEN, pos->hash))
			ok = pt_err_set(err, PT_ERR_INTEGRITY, "replay position in the target is malformed");
	}
	PQclear(res);
	return ok;
}

char *
pt_position_save_sql(PGconn *conn, const char *state_schema, pt_err *err)
{
	return WITH_SCHEMA(conn, state_schema,
					   "INSERT INTO %1$s.position (store, last_event_id, last_hash, tables) "
					   "VALUES ($1, $2, $3::bytea, $4) ON CONFLICT (store) DO UPDATE SET "
					   "last_event_id = excluded.last_event_id, last_hash = excluded.last_hash, "
					   "tables = excluded.tables, updated_at = now()", err);
}

bool
pt_position_lock(PGconn *conn, const char *store, bool *taken, pt_err *err)
{
	const char *params[1] = {store};
	PGresult   *res = pt_pq_exec_params(conn, "SELECT pg_try_advisory_lock(hashtext('pgtrail-replay ' || $1))",
										1, params, PGRES_TUPLES_OK, 1, 1, err);

	if (res == NULL)
		return false;
	*taken = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	return true;
}

bool
pt_position_reset(PGconn *conn, const char *state_schema, const char *store, pt_err *err)
{
	const char *params[1] = {store};
	char	   *sql = WITH_SCHEMA(conn, state_schema,
								  "DELETE FROM %1$s.position WHERE store = $1; ", err);
	char	   *sql2 = WITH_SCHEMA(conn, state_schema, "DELETE FROM %1$s.tables WHERE store = $1; ", err);
	char	   *sql3 = WITH_SCHEMA(conn, state_schema, "DELETE FROM %1$s.table_positions WHERE store = $1", err);
	PGresult   *res = NULL;
	char	   *each[3] = {sql, sql2, sql3};
	bool		ok = sql && sql2 && sql3;

	for (int i = 0; ok && i < 3; i++)
	{
		ok = (res = pt_pq_exec_params(conn, each[i], 1, params, PGRES_COMMAND_OK, PT_PQ_ANY, PT_PQ_ANY, err)) != NULL;
		PQclear(res);
	}
	for (int i = 0; i < 3; i++)
		free(each[i]);
	return ok;
}

bool
pt_position_save_table(PGconn *conn, const char *state_schema, const char *store, const char *schema,
					   const char *table, int version, pt_err *err)
{
	char		v[16];
	const char *params[4] = {store, schema, table, v};
	char	   *sql = WITH_SCHEMA(conn, state_schema,
								  "INSERT INTO %1$s.tables (store, schema_name, table_name, version) "
								  "VALUES ($1, $2, $3, $4) ON CONFLICT (store, schema_name, table_name) "
								  "DO UPDATE SET version = excluded.version", err);
	PGresult   *res;

	if (sql == NULL)
		return false;
	snprintf(v, sizeof(v), "%d", version);
	res = pt_pq_exec_params(conn, sql, 4, params, PGRES_COMMAND_OK, PT_PQ_ANY, PT_PQ_ANY, err);
	free(sql);
	PQclear(res);
	return res != NULL;
}

PGresult *
pt_position_tables(PGconn *conn, const char *state_schema, const char *store, pt_err *err)
{
	const char *params[1] = {store};
	char	   *sql = WITH_SCHEMA(conn, state_schema,
								  "SELECT schema_name, table_name, version FROM %1$s.tables WHERE store = $1", err);
	PGresult   *res;

	if (sql == NULL)
		return NULL;
	res = pt_pq_exec_params(conn, sql, 1, params, PGRES_TUPLES_OK, PT_PQ_ANY, 3, err);
	free(sql);
	return res;
}

char *
pt_position_table_save_sql(PGconn *conn, const char *state_schema, pt_err *err)
{
	return WITH_SCHEMA(conn, state_schema,
					   "INSERT INTO %1$s.table_positions (store, schema_name, table_name, last_event_id) "
					   "VALUES ($1, $2, $3, $4) ON CONFLICT (store, schema_name, table_name) DO UPDATE SET "
					   "last_event_id = excluded.last_event_id", err);
}

PGresult *
pt_position_table_positions(PGconn *conn, const char *state_schema, const char *store, int64_t after,
							pt_err *err)
{
	char		id[24];
	const char *params[2] = {store, id};
	char	   *sql = WITH_SCHEMA(conn, state_schema,
								  "SELECT schema_name, table_name, last_event_id FROM %1$s.table_positions "
								  "WHERE store = $1 AND last_event_id > $2", err);
	PGresult   *res;

	if (sql == NULL)
		return NULL;
	snprintf(id, sizeof(id), "%lld", (long long) after);
	res = pt_pq_exec_params(conn, sql, 2, params, PGRES_TUPLES_OK, PT_PQ_ANY, 3, err);
	free(sql);
	return res;
}
