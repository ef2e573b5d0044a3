/*
 * capture/losses.c — known losses said, never silent (see losses.h).
 */
#include "capture/losses.h"

#include <stdlib.h>
#include <string.h>

#include "capture/sink_table.h"
#include "core/buf.h"
#include "core/json.h"
#include "core/mem.h"
#include "core/pq.h"
#include "core/store_losses.h"

#define NUMERICOID 1700
#define FLOAT4OID 700
#define FLOAT8OID 701

struct pt_losses
{
	pt_log	   *log;
	pt_metrics *metrics;
	pt_sink    *sink;			/* the event table */
	PGconn	   *sink_conn;		/* its connection (borrowed) */
	const char *store_schema;
	pt_lsn		nontx_lsn;		/* non-transactional messages up to here are counted */
	pt_buf		said;			/* "schema\0table\0kind\0detail\0" entries, each said once */
	pt_buf		key;			/* scratch */
};

pt_losses *
pt_losses_new(pt_log *log, pt_metrics *m, pt_sink *table_sink, PGconn *sink_conn, const char *store_schema)
{
	pt_losses  *l = pt_calloc(1, sizeof(*l));

	l->sink_conn = sink_conn;
	l->store_schema = store_schema;
	l->log = log;
	l->metrics = m;
	l->sink = table_sink;
	pt_buf_init(&l->said);
	pt_buf_init(&l->key);
	return l;
}

void
pt_losses_free(pt_losses *l)
{
	if (l == NULL)
		return;
	pt_buf_free(&l->said);
	pt_buf_free(&l->key);
	free(l);
}

/* True the first time this (schema, table, kind, detail) comes; remembered. */
static bool
first_time(pt_losses *l, const char *schema, const char *table, const char *kind, const char *detail)
{
	pt_buf_reset(&l->key);
	pt_buf_append(&l->key, schema, strlen(schema) + 1);
	pt_buf_append(&l->key, table, strlen(table) + 1);
	pt_buf_append(&l->key, kind, strlen(kind) + 1);
	pt_buf_append(&l->key, detail, strlen(detail) + 1);
	for (size_t at = 0; at < l->said.len;)
	{
		size_t		len = 0;

		for (int nul = 0; nul < 4; len++)
			nul += l->said.data[at + len] == '\0';
		if (len == l->key.len && memcmp(l->said.data + at, l->key.data, len) == 0)
			return false;
		at += len;
	}
	pt_buf_append(&l->said, l->key.data, l->key.len);
	return true;
}

static bool
count(pt_losses *l, const char *schema, const char *table, const char *kind, const char *detail, int64_t n,
	  pt_lsn lsn, pt_err *err)
{
	pt_metrics_loss(l->metrics, schema, table, kind, n);
	return pt_sink_table_loss(l->sink, schema, table, kind, detail, n, lsn, err);
}

static bool
is_numeric_type(uint32_t typeoid)
{
	return typeoid == NUMERICOID || typeoid == FLOAT4OID || typeoid == FLOAT8OID;
}

static void
say_null(pt_losses *l, const char *schema, const char *table, const pt_w2j_column *col)
{
	if (col->optional == 0)
		pt_log_warning(l->log, "table \"%s.%s\": NaN or Infinity in NOT NULL column \"%s\" arrived as null "
					   "(wal2json 2.5 cannot carry them); counted in the store's losses (said once per column)",
					   schema, table, col->name.ptr);
	else
		pt_log_info(l->log, "table \"%s.%s\": a null in numeric or float column \"%s\" may have been NaN or "
					"Infinity (wal2json 2.5 sends them as null); counted as possible in the store's losses "
					"(said once per column)", schema, table, col->name.ptr);
}

bool
pt_losses_row(pt_losses *l, const pt_w2j_change *ch, pt_err *err)
{
	for (int i = 0; i < ch->columns.count; i++)
	{
		const pt_w2j_column *col = &ch->columns.items[i];
		const char *kind;

		if (!col->isnull || !is_numeric_type(col->typeoid))
			continue;
		kind = col->optional == 0 ? PT_LOSS_NAN : PT_LOSS_MAYBE_NAN;
		if (first_time(l, ch->schema.ptr, ch->table.ptr, kind, col->name.ptr))
			say_null(l, ch->schema.ptr, ch->table.ptr, col);
		if (!count(l, ch->schema.ptr, ch->table.ptr, kind, col->name.ptr, 1, 0, err))
			return false;
	}
	return true;
}

bool
pt_losses_unsent(pt_losses *l, const pt_w2j_change *ch, const pt_table_version *tv, pt_err *err)
{
	for (int i = 0; (ch->action == 'I' || ch->action == 'U') && i < tv->ncols; i++)
	{
		const char *name = tv->names[i].ptr;

		if (!tv->unsent[i] || tv->is_virtual[i])
			continue;
		if (first_time(l, tv->schema_name, tv->table_name, PT_LOSS_GENERATED, name))
			pt_log_warning(l->log, "table \"%s.%s\": stored generated column \"%s\" is not in the events "
						   "(pgoutput before PostgreSQL 18 does not send it; replay computes it again); counted "
						   "in the store's losses; use decoder = wal2json to keep it", tv->schema_name,
						   tv->table_name, name);
		if (!count(l, tv->schema_name, tv->table_name, PT_LOSS_GENERATED, name, 1, 0, err))
			return false;
	}
	return true;
}

bool
pt_losses_start(pt_losses *l, pt_err *err)
{
	return pt_store_losses_last_lsn(l->sink_conn, l->store_schema, PT_LOSS_NONTX_MESSAGE, &l->nontx_lsn, err);
}

/*
 * A non-transactional message is sent again after a restart when the slot
 * had not been confirmed past it: the last one counted is remembered in the
 * store (its LSN), and those up to it are not counted again.
 */
bool
pt_losses_nontx_message(pt_losses *l, const char *prefix, pt_lsn lsn, pt_err *err)
{
	if (lsn != 0 && lsn <= l->nontx_lsn)
		return true;
	l->nontx_lsn = lsn;
	if (first_time(l, "", "", PT_LOSS_NONTX_MESSAGE, prefix))
		pt_log_warning(l->log, "non-transactional logical message \"%s\" not captured: it belongs to no "
					   "transaction (said once per prefix; counted in the store's losses)", prefix);
	return count(l, "", "", PT_LOSS_NONTX_MESSAGE, prefix, 1, lsn, err);
}

/*
 * Ordinary tables whose changes the server does not decode whole: unlogged
 * ones (nothing reaches the WAL), and those whose UPDATE and DELETE carry
 * no old key (REPLICA IDENTITY NOTHING, DEFAULT without a primary key, or
 * USING INDEX of an index that is gone).
 */
#define LOSSY_TABLES_SQL \
	"SELECT n.nspname, c.relname, c.relpersistence = 'u', format('%I.%I', n.nspname, c.relname) " \
	"FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace " \
	"WHERE c.relkind = 'r' AND c.relpersistence <> 't' " \
	" AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%' " \
	" AND (c.relpersistence = 'u' OR c.relreplident = 'n' " \
	"  OR (c.relreplident = 'd' AND NOT EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisprimary)) " \
	"  OR (c.relreplident = 'i' AND NOT EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisreplident)))"

static bool
say_table(pt_losses *l, const char *schema, const char *table, bool unlogged, const char *qname, pt_err *err)
{
	const char *kind = unlogged ? PT_LOSS_UNLOGGED : PT_LOSS_NO_IDENTITY;

	if (!first_time(l, schema, table, kind, ""))
		return true;
	if (unlogged)
	{
		pt_log_warning(l->log, "table \"%s.%s\" is unlogged: its changes never reach the WAL and are not captured",
					   schema, table);
		pt_log_warning(l->log, "hint: ALTER TABLE %s SET LOGGED, or leave it out of [capture] tables", qname);
	}
	else
	{
		pt_log_warning(l->log, "table \"%s.%s\" has no replica identity: its UPDATEs and DELETEs are not captured",
					   schema, table);
		pt_log_warning(l->log, "hint: give it a primary key, or ALTER TABLE %s REPLICA IDENTITY FULL", qname);
	}
	return count(l, schema, table, kind, "", 0, 0, err);
}

/*
 * A version that says the table has no replica identity may be a passing
 * state (CREATE TABLE, then ALTER TABLE ... ADD PRIMARY KEY in the same
 * transaction opens a version for each): the table is said only when the
 * catalog still finds it so. One that gains its identity later than the
 * next catalog check would have said it is a possibility nothing in the
 * stream can prove (wal2json sends nothing for such a change).
 */
static bool check_table(pt_losses *l, PGconn *conn, const char *schema, const char *table, pt_err *err);

bool
pt_losses_version(pt_losses *l, PGconn *conn, const char *schema, const char *table, int npk,
				  const char *details, pt_err *err)
{
	pt_buf		ident = PT_BUF_INIT;
	bool		found = false;
	pt_json_kind kind;
	pt_err		bad;
	bool		ok = true;

	if (npk > 0 || details == NULL ||
		!pt_json_object_get(details, strlen(details), "replica_identity", &found, &kind, &ident, &bad))
		found = false;
	if (found && ident.data && (strcmp(ident.data, "d") == 0 || strcmp(ident.data, "n") == 0))
		ok = check_table(l, conn, schema, table, err);
	pt_buf_free(&ident);
	return ok;
}

/* The catalog's word on one table (LOSSY_TABLES_SQL for it alone). */
static bool
check_table(pt_losses *l, PGconn *conn, const char *schema, const char *table, pt_err *err)
{
	const char *params[2] = {schema, table};
	PGresult   *res = pt_pq_exec_params(conn, LOSSY_TABLES_SQL " AND n.nspname = $1 AND c.relname = $2", 2, params,
										PGRES_TUPLES_OK, PT_PQ_ANY, 4, err);
	bool		ok = res != NULL;

	if (ok && PQntuples(res) == 1)
		ok = say_table(l, schema, table, strcmp(PQgetvalue(res, 0, 2), "t") == 0, PQgetvalue(res, 0, 3), err);
	PQclear(res);
	return ok;
}

bool
pt_losses_check_tables(pt_losses *l, PGconn *conn, const pt_filter *filter, pt_err *err)
{
	PGresult   *res = pt_pq_exec(conn, LOSSY_TABLES_SQL, PGRES_TUPLES_OK, PT_PQ_ANY, 4, err);
	bool		ok = res != NULL;

	for (int i = 0; ok && i < PQntuples(res); i++)
	{
		const char *schema = PQgetvalue(res, i, 0);
		const char *table = PQgetvalue(res, i, 1);

		if (pt_filter_match(filter, schema, strlen(schema), table, strlen(table)))
			ok = say_table(l, schema, table, strcmp(PQgetvalue(res, i, 2), "t") == 0, PQgetvalue(res, i, 3), err);
	}
	PQclear(res);
	return ok;
}
