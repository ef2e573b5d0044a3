/*
 * core/store_schema.c — creating and checking the event store's tables,
 * and reading the state row (see store.h; the tables are documented in
 * docs/FORMAT.md).
 *
 * Installation is idempotent and versioned: the meta table records the
 * format version; a store written by a newer pgtrail is refused rather than
 * misread. Concurrent installs are serialized by an advisory lock.
 */
#include "core/store.h"

#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/hex.h"
#include "core/pq.h"

/* %1$s is the quoted schema name. */
#define CREATE_TABLES_SQL \
	"CREATE TABLE %1$s.events (" \
	" id bigint PRIMARY KEY," \
	" lsn pg_lsn NOT NULL," \
	" commit_lsn pg_lsn NOT NULL," \
	" xid bigint," \
	" committed_at timestamptz NOT NULL," \
	" schema_name text," \
	" table_name text," \
	" schema_version int," \
	" op text NOT NULL CHECK (op IN ('insert','update','delete','truncate','snapshot','message','ddl','gap','schema','erasure'))," \
	" key json," \
	" row json," \
	" old json," \
	" unchanged text[] NOT NULL DEFAULT '{}'," \
	" actor text," \
	" action text," \
	" metadata json," \
	" prev_hash bytea NOT NULL," \
	" hash bytea NOT NULL," \
	" seal bytea," \
	" sealed bytea," \
	" erased text[] NOT NULL DEFAULT '{}');" \
	"CREATE TABLE %1$s.schemas (" \
	" schema_name text NOT NULL," \
	" table_name text NOT NULL," \
	" version int NOT NULL," \
	" columns json NOT NULL," \
	" primary_key text[] NOT NULL DEFAULT '{}'," \
	" first_event_id bigint," \
	" details json," \
	" created_at timestamptz NOT NULL DEFAULT now()," \
	" PRIMARY KEY (schema_name, table_name, version));" \
	"CREATE TABLE %1$s.state (" \
	" slot text PRIMARY KEY," \
	" confirmed_lsn pg_lsn NOT NULL," \
	" last_event_id bigint NOT NULL," \
	" last_hash bytea NOT NULL," \
	" updated_at timestamptz NOT NULL DEFAULT now());" \
	"CREATE TABLE %1$s.checkpoints (" \
	" event_id bigint PRIMARY KEY," \
	" hash bytea NOT NULL," \
	" lsn pg_lsn NOT NULL," \
	" created_at timestamptz NOT NULL DEFAULT now()," \
	" signature bytea," \
	" key_id text);" \
	"INSERT INTO %1$s.meta (key, value) VALUES ('format_version', '2')"

/*
 * Tables added after format version 1 came out: created with IF NOT
 * EXISTS at every install, so older stores get them too. verified holds
 * pgtrail-verify's last verified point (incremental runs go on from it);
 * sink_positions the last event a background sink (Kafka) had
 * acknowledged, as far as capture wrote it down; slot_claims the slots
 * capture created itself (capture/slot_claim.c); losses the known losses,
 * counted by table (core/store_losses.h); seal_keys the seal key of a
 * batch not committed yet (core/store_seals.h); erasure_due the Kafka
 * messages an erasure owes consumers, until capture sent them
 * (core/store_due.h).
 */
#define CREATE_LATER_TABLES_SQL \
	"CREATE TABLE IF NOT EXISTS %1$s.verified (" \
	" name text PRIMARY KEY," \
	" event_id bigint NOT NULL," \
	" hash bytea NOT NULL," \
	" verified_at timestamptz NOT NULL DEFAULT now());" \
	"CREATE TABLE IF NOT EXISTS %1$s.sink_positions (" \
	" slot text NOT NULL," \
	" sink text NOT NULL," \
	" event_id bigint NOT NULL," \
	" updated_at timestamptz NOT NULL DEFAULT now()," \
	" PRIMARY KEY (slot, sink));" \
	"CREATE TABLE IF NOT EXISTS %1$s.slot_claims (" \
	" slot text PRIMARY KEY," \
	" claimed_lsn pg_lsn NOT NULL," \
	" created_lsn pg_lsn," \
	" claimed_at timestamptz NOT NULL DEFAULT now());" \
	"CREATE TABLE IF NOT EXISTS %1$s.losses (" \
	" schema_name text NOT NULL," \
	" table_name text NOT NULL," \
	" kind text NOT NULL," \
	" detail text NOT NULL DEFAULT ''," \
	" count bigint NOT NULL DEFAULT 0," \
	" first_seen timestamptz NOT NULL DEFAULT now()," \
	" last_seen timestamptz NOT NULL DEFAULT now()," \
	" last_lsn pg_lsn," \
	" PRIMARY KEY (schema_name, table_name, kind, detail));" \
	"CREATE TABLE IF NOT EXISTS %1$s.seal_keys (" \
	" slot text PRIMARY KEY," \
	" first_event_id bigint NOT NULL," \
	" key bytea NOT NULL);" \
	"CREATE TABLE IF NOT EXISTS %1$s.erasure_due (" \
	" erasure_id bigint NOT NULL," \
	" schema_name text NOT NULL," \
	" table_name text NOT NULL," \
	" schema_version integer NOT NULL," \
	" key text NOT NULL," \
	" row text," \
	" unchanged text[] NOT NULL DEFAULT '{}'," \
	" added_at timestamptz NOT NULL DEFAULT now()," \
	" PRIMARY KEY (erasure_id, schema_name, table_name, key));" \
	"CREATE INDEX IF NOT EXISTS events_schemas ON %1$s.events (id) WHERE op = 'schema'"

/*
 * Format 2's columns (docs/FORMAT.md) on a store made by an older pgtrail:
 * added only when missing (ALTER TABLE locks the table even when it changes
 * nothing). Its events stay format 1; seal stays NULL in them.
 */
#define HAS_SEAL_SQL \
	"SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass(quote_ident($1) || '.events') " \
	" AND attname = 'seal' AND NOT attisdropped"
#define ADD_SEAL_SQL \
	"ALTER TABLE %1$s.events ADD COLUMN IF NOT EXISTS seal bytea, ADD COLUMN IF NOT EXISTS sealed bytea, " \
	" ADD COLUMN IF NOT EXISTS erased text[] NOT NULL DEFAULT '{}'"
#define ERASURE_INDEXES_SQL \
	"CREATE INDEX IF NOT EXISTS events_erased ON %1$s.events (id) WHERE sealed IS NOT NULL;" \
	"CREATE INDEX IF NOT EXISTS events_erasures ON %1$s.events (id) WHERE op = 'erasure'"

/*
 * Stores made before schema events existed check op against a list without
 * "schema": the check is replaced (NOT VALID: the rows there are valid, and
 * a big log is not scanned again).
 */
#define OP_CHECK_SQL \
	"SELECT 1 FROM pg_constraint WHERE conrelid = to_regclass(quote_ident($1) || '.events') " \
	" AND conname = 'events_op_check' AND pg_get_constraintdef(oid) NOT LIKE '%''erasure''%'"
#define OP_CHECK_FIX_SQL \
	"ALTER TABLE %1$s.events DROP CONSTRAINT events_op_check, ADD CONSTRAINT events_op_check CHECK (op IN " \
	" ('insert','update','delete','truncate','snapshot','message','ddl','gap','schema','erasure')) NOT VALID"

/*
 * Indexes for replay's point queries (--as-of, --history): a row's events
 * by key, the updates that moved a row to another key, and the few events
 * that end every row of a table at once. Created on every start with IF
 * NOT EXISTS, so stores made before they existed get them too.
 */
#define CREATE_INDEXES_SQL \
	"CREATE INDEX IF NOT EXISTS events_key_hash ON %1$s.events USING hash ((key::text));" \
	"CREATE INDEX IF NOT EXISTS events_old_key ON %1$s.events USING gin ((old::jsonb) jsonb_path_ops) " \
	" WHERE op = 'update' AND old IS NOT NULL AND old::text <> key::text;" \
	"CREATE INDEX IF NOT EXISTS events_resets ON %1$s.events (id) WHERE op IN ('truncate', 'gap', 'ddl')"

static bool
check_encoding(PGconn *conn, pt_err *err)
{
	PGresult   *res = pt_pq_exec(conn,
								 "SELECT pg_encoding_to_char(encoding) FROM pg_database "
								 "WHERE datname = current_database()",
								 PGRES_TUPLES_OK, 1, 1, err);
	bool		ok;

	if (res == NULL)
		return false;
	ok = strcmp(PQgetvalue(res, 0, 0), "UTF8") == 0 || strcmp(PQgetvalue(res, 0, 0), "SQL_ASCII") == 0;
	if (!ok)
	{
		pt_err_set(err, PT_ERR_CONFIG, "event store database has encoding \"%s\"", PQgetvalue(res, 0, 0));
		pt_err_hint(err, "put the event store in a database created with ENCODING 'UTF8' ([sink] dsn)");
	}
	PQclear(res);
	return ok;
}

/* The stored format version, or 0 when meta has no row yet. */
static bool
read_version(PGconn *conn, const char *qschema, int *version, pt_err *err)
{
	pt_buf		sql = PT_BUF_INIT;
	PGresult   *res;

	pt_buf_printf(&sql, "SELECT value FROM %s.meta WHERE key = 'format_version'", qschema);
	res = pt_pq_exec(conn, sql.data, PGRES_TUPLES_OK, PT_PQ_ANY, 1, err);
	pt_buf_free(&sql);
	if (res == NULL)
		return false;
	*version = PQntuples(res) ? atoi(PQgetvalue(res, 0, 0)) : 0;
	PQclear(res);
	return true;
}

/* An older store's op check learns "schema" and "erasure". */
static bool
allow_schema_op(PGconn *conn, const char *schema, const char *qschema, pt_err *err)
{
	const char *params[1] = {schema};
	PGresult   *res = pt_pq_exec_params(conn, OP_CHECK_SQL, 1, params, PGRES_TUPLES_OK, PT_PQ_ANY, 1, err);
	pt_buf		sql = PT_BUF_INIT;
	bool		ok;

	if (res == NULL)
		return false;
	ok = PQntuples(res) == 0;
	PQclear(res);
	if (ok)
		return true;
	pt_buf_printf(&sql, OP_CHECK_FIX_SQL, qschema);
	ok = pt_pq_command(conn, sql.data, err);
	pt_buf_free(&sql);
	return ok;
}

/* Format 2's columns and the erasure indexes, on a store made before them. */
static bool
add_seal_columns(PGconn *conn, const char *schema, const char *qschema, pt_err *err)
{
	pt_buf		sql = PT_BUF_INIT;
	bool		has,
				ok;

	if (!pt_store_has_seal(conn, schema, &has, err))
		return false;
	if (!has)
		pt_buf_printf(&sql, ADD_SEAL_SQL ";", qschema);
	pt_buf_printf(&sql, ERASURE_INDEXES_SQL, qschema);
	ok = pt_pq_command(conn, sql.data, err);
	pt_buf_free(&sql);
	return ok;
}

bool
pt_store_format(PGconn *conn, const char *schema, int *version, pt_err *err)
{
	char	   *qschema = pt_pq_ident(conn, schema, err);
	bool		ok;

	if (qschema == NULL)
		return false;
	ok = read_version(conn, qschema, version, err);
	PQfreemem(qschema);
	return ok;
}

bool
pt_store_has_seal(PGconn *conn, const char *schema, bool *has, pt_err *err)
{
	const char *params[1] = {schema};
	PGresult   *res = pt_pq_exec_params(conn, HAS_SEAL_SQL, 1, params, PGRES_TUPLES_OK, PT_PQ_ANY, 1, err);

	if (res == NULL)
		return false;
	*has = PQntuples(res) > 0;
	PQclear(res);
	return true;
}

static bool
install_in_transaction(PGconn *conn, const char *schema, const char *qschema, pt_err *err)
{
	const char *params[1] = {schema};
	pt_buf		sql = PT_BUF_INIT;
	PGresult   *res;
	int			version;
	bool		ok;

	res = pt_pq_exec_params(conn, "SELECT pg_advisory_xact_lock(hashtext('pgtrail.install.' || $1))",
							1, params, PGRES_TUPLES_OK, 1, 1, err);
	if (res == NULL)
		return false;
	PQclear(res);
	pt_buf_printf(&sql, "CREATE TABLE IF NOT EXISTS %s.meta (key text PRIMARY KEY, value text NOT NULL)", qschema);
	ok = pt_pq_create_schema(conn, schema, err) && pt_pq_command(conn, sql.data, err) &&
		read_version(conn, qschema, &version, err);
	pt_buf_reset(&sql);
	if (ok && version == 0)
	{
		pt_buf_printf(&sql, CREATE_TABLES_SQL, qschema);
		ok = pt_pq_command(conn, sql.data, err);
	}
	else if (ok && (version < 1 || version > PT_STORE_FORMAT_VERSION))
	{
		ok = pt_err_set(err, PT_ERR_CONFIG, "event store in schema \"%s\" has format version %d, "
						"this pgtrail reads version %d", schema, version, PT_STORE_FORMAT_VERSION);
		pt_err_hint(err, "run the pgtrail release that wrote it, or point [sink] schema elsewhere");
	}
	if (ok)
	{
		pt_buf_reset(&sql);
		pt_buf_printf(&sql, CREATE_LATER_TABLES_SQL, qschema);
		ok = pt_pq_command(conn, sql.data, err) && allow_schema_op(conn, schema, qschema, err) &&
			add_seal_columns(conn, schema, qschema, err);
	}
	pt_buf_free(&sql);
	return ok;
}

bool
pt_store_install(PGconn *conn, const char *schema, pt_err *err)
{
	char	   *qschema;
	bool		ok;

	if (!check_encoding(conn, err) || (qschema = pt_pq_ident(conn, schema, err)) == NULL)
		return false;
	ok = pt_pq_command(conn, "BEGIN", err) &&
		install_in_transaction(conn, schema, qschema, err) &&
		pt_pq_command(conn, "COMMIT", err);
	if (!ok)
	{
		PGresult   *res = PQexec(conn, "ROLLBACK");

		PQclear(res);
		if (strcmp(err->sqlstate, PT_SQLSTATE_INSUFFICIENT_PRIVILEGE) == 0)
		{
			err->kind = PT_ERR_CONFIG;	/* a missing grant: retrying will not help */
			pt_err_hint(err, "the role needs CREATE on the event store database once, to create schema "
						"\"%s\" (GRANT CREATE ON DATABASE ... TO ...), or create the schema for it", schema);
		}
		pt_err_prefix(err, "could not install the event store in schema \"%s\"", schema);
	}
	PQfreemem(qschema);
	return ok;
}

bool
pt_store_install_indexes(PGconn *conn, const char *schema, pt_err *err)
{
	char	   *qschema = pt_pq_ident(conn, schema, err);
	pt_buf		sql = PT_BUF_INIT;
	bool		ok;

	if (qschema == NULL)
		return false;
	pt_buf_printf(&sql, CREATE_INDEXES_SQL, qschema);
	ok = pt_pq_command(conn, sql.data, err);
	pt_buf_free(&sql);
	PQfreemem(qschema);
	if (!ok)
		pt_err_prefix(err, "could not create the point-query indexes in schema \"%s\"", schema);
	return ok;
}

bool
pt_store_load_state(PGconn *conn, const char *schema, const char *slot, pt_store_state *state, pt_err *err)
{
	const char *params[1] = {slot};
	pt_buf		sql = PT_BUF_INIT;
	PGresult   *res;
	char	   *qschema = pt_pq_ident(conn, schema, err);
	bool		ok = true;

	memset(state, 0, sizeof(*state));
	if (qschema == NULL)
		return false;
	pt_buf_printf(&sql, "SELECT confirmed_lsn::text, last_event_id, last_hash FROM %s.state WHERE slot = $1",
				  qschema);
	PQfreemem(qschema);
	res = pt_pq_exec_params(conn, sql.data, 1, params, PGRES_TUPLES_OK, PT_PQ_ANY, 3, err);
	pt_buf_free(&sql);
	if (res == NULL)
		return false;
	if (PQntuples(res) == 1)
	{
		const char *lsn = PQgetvalue(res, 0, 0);

		state->found = true;
		state->last_event_id = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
		if (!pt_lsn_parse(lsn, strlen(lsn), &state->confirmed_lsn) ||
			!pt_hex_decode_bytea(PQgetvalue(res, 0, 2), PT_HASH_LEN, state->last_hash))
			ok = pt_err_set(err, PT_ERR_INTEGRITY, "state row of slot \"%s\" is malformed", slot);
	}
	PQclear(res);
	return ok;
}
