/*
 * replay/target.c — a replayed table in the target: catalog and DDL (see
 * target.h).
 *
 * Every identifier is quoted with PQescapeIdentifier; the types and
 * expressions come from the source's own catalog (format_type,
 * pg_get_expr, pg_get_partkeydef) as the event store recorded them, so
 * they are SQL text the server wrote, not user input.
 */
#include "replay/target.h"

#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/mem.h"
#include "core/pgcaps.h"
#include "core/pq.h"

#define SQLSTATE_UNDEFINED_OBJECT "42704"

/* Columns in attnum order, with NOT NULL; the key: primary key, else replica identity index (and whether it is deferrable). */
#define CATALOG_SQL \
	"SELECT a.attname, a.attgenerated <> '', a.attidentity = 'a', " \
	"coalesce((SELECT o FROM unnest(k.indkey::int2[]) WITH ORDINALITY u(n, o) WHERE n = a.attnum), 0), " \
	"format_type(a.atttypid, a.atttypmod), a.attnotnull, coalesce(NOT k.indimmediate, false) " \
	"FROM pg_attribute a LEFT JOIN LATERAL (SELECT indkey, indimmediate FROM pg_index " \
	"  WHERE indrelid = a.attrelid AND (indisprimary OR indisreplident) ORDER BY indisprimary DESC LIMIT 1) k ON true " \
	"WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum"

/*
 * A partition in the target: the root of its partition tree (quoted), and
 * whether the root's primary key has the table's key columns (a key then
 * finds at most one row through the root).
 */
#define ROOT_SQL \
	"SELECT quote_ident(n.nspname) || '.' || quote_ident(r.relname), " \
	"coalesce((SELECT array_agg(a.attname::text ORDER BY a.attname) FROM pg_index i JOIN pg_attribute a " \
	"  ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey) WHERE i.indrelid = r.oid AND i.indisprimary) = " \
	"  (SELECT array_agg(a.attname::text ORDER BY a.attname) FROM pg_index i JOIN pg_attribute a " \
	"  ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey) WHERE i.indrelid = c.oid AND i.indisprimary), false) " \
	"FROM pg_class c JOIN pg_class r ON r.oid = pg_partition_root(c.oid) " \
	"JOIN pg_namespace n ON n.oid = r.relnamespace WHERE c.oid = $1::regclass AND c.relispartition"

/* A partition's parent (quoted) and bound in the target. */
#define ATTACHED_SQL \
	"SELECT quote_ident(n.nspname) || '.' || quote_ident(p.relname), pg_get_expr(c.relpartbound, c.oid) " \
	"FROM pg_class c JOIN pg_inherits i ON i.inhrelid = c.oid JOIN pg_class p ON p.oid = i.inhparent " \
	"JOIN pg_namespace n ON n.oid = p.relnamespace WHERE c.oid = $1::regclass AND c.relispartition"

static bool run(PGconn *conn, const char *sql, pt_err *err);

static void
clear_columns(pt_ttable *tt)
{
	for (int i = 0; i < tt->ncols; i++)
	{
		free(tt->cols[i].name);
		free(tt->cols[i].type);
	}
	free(tt->cols);
	free(tt->pk);
	free(tt->root);
	tt->cols = NULL;
	tt->pk = NULL;
	tt->root = NULL;
	tt->root_keyed = false;
	tt->ncols = tt->npk = 0;
}

static char *
quote_qualified(PGconn *conn, const char *schema, const char *table, pt_err *err)
{
	char	   *qs = pt_pq_ident(conn, schema, err);
	char	   *qt = qs ? pt_pq_ident(conn, table, err) : NULL;
	pt_buf		out = PT_BUF_INIT;

	if (qt == NULL)
	{
		PQfreemem(qs);
		return NULL;
	}
	pt_buf_printf(&out, "%s.%s", qs, qt);
	PQfreemem(qs);
	PQfreemem(qt);
	return out.data;
}

pt_ttable *
pt_ttable_new(const char *src_schema, const char *src_table, const char *schema, const char *table,
			  PGconn *conn, pt_err *err)
{
	pt_ttable  *tt;
	char	   *qname = quote_qualified(conn, schema, table, err);

	if (qname == NULL)
		return NULL;
	tt = pt_calloc(1, sizeof(*tt));
	tt->src_schema = pt_strdup(src_schema);
	tt->src_table = pt_strdup(src_table);
	tt->schema = pt_strdup(schema);
	tt->table = pt_strdup(table);
	tt->qname = qname;
	return tt;
}

void
pt_ttable_free(pt_ttable *tt)
{
	if (tt == NULL)
		return;
	clear_columns(tt);
	free(tt->src_schema);
	free(tt->src_table);
	free(tt->schema);
	free(tt->table);
	free(tt->qname);
	free(tt);
}

/*
 * A partition is written through the root of its tree, so that the target
 * routes each row by the bounds it has (they may differ from the ones the
 * source had when the log named this partition: ATTACH, DETACH, DEFAULT).
 */
static bool
load_root(PGconn *conn, pt_ttable *tt, pt_err *err)
{
	const char *params[1] = {tt->qname};
	PGresult   *res = pt_pq_exec_params(conn, ROOT_SQL, 1, params, PGRES_TUPLES_OK, PT_PQ_ANY, 2, err);

	if (res == NULL)
		return false;
	if (PQntuples(res) == 1)
	{
		tt->root = pt_strdup(PQgetvalue(res, 0, 0));
		tt->root_keyed = strcmp(PQgetvalue(res, 0, 1), "t") == 0;
	}
	PQclear(res);
	return true;
}

bool
pt_target_load(PGconn *conn, pt_ttable *tt, pt_err *err)
{
	const char *params[1] = {tt->qname};
	PGresult   *res;
	int			npk = 0;

	clear_columns(tt);
	res = pt_pq_exec_params(conn, "SELECT to_regclass($1) IS NOT NULL", 1, params, PGRES_TUPLES_OK, 1, 1, err);
	if (res == NULL)
		return false;
	tt->exists = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	tt->loaded = true;
	if (!tt->exists)
		return true;
	res = pt_pq_exec_params(conn, CATALOG_SQL, 1, params, PGRES_TUPLES_OK, PT_PQ_ANY, 7, err);
	if (res == NULL)
		return false;
	tt->ncols = PQntuples(res);
	tt->cols = pt_calloc((size_t) tt->ncols + 1, sizeof(pt_tcolumn));
	tt->pk = pt_calloc((size_t) tt->ncols + 1, sizeof(int));
	for (int i = 0; i < tt->ncols; i++)
	{
		int			pos = atoi(PQgetvalue(res, i, 3));

		tt->cols[i].name = pt_strdup(PQgetvalue(res, i, 0));
		tt->cols[i].generated = strcmp(PQgetvalue(res, i, 1), "t") == 0;
		tt->cols[i].identity_always = strcmp(PQgetvalue(res, i, 2), "t") == 0;
		tt->cols[i].type = pt_strdup(PQgetvalue(res, i, 4));
		tt->cols[i].not_null = strcmp(PQgetvalue(res, i, 5), "t") == 0;
		if (pos > 0 && pos <= tt->ncols)
		{
			tt->pk[pos - 1] = i;
			npk = pos > npk ? pos : npk;
		}
	}
	tt->npk = npk;
	tt->key_deferrable = tt->ncols > 0 && strcmp(PQgetvalue(res, 0, 6), "t") == 0;
	PQclear(res);
	return load_root(conn, tt, err);
}

static bool
column_is(const pt_ttable *tt, int i, const char *name, size_t len)
{
	return len > 0 && tt->cols[i].name[0] == name[0] && strncmp(tt->cols[i].name, name, len) == 0 &&
		tt->cols[i].name[len] == '\0';
}

int
pt_target_column(const pt_ttable *tt, const char *name, size_t len, int hint)
{
	if (hint >= 0 && hint < tt->ncols && column_is(tt, hint, name, len))
		return hint;
	for (int i = 0; i < tt->ncols; i++)
		if (column_is(tt, i, name, len))
			return i;
	return -1;
}

/*
 * A type as the event store recorded it must be one type name and nothing
 * else (the target parses it: a missing type is 42704, which the caller
 * explains).
 */
static bool
check_type(PGconn *conn, const pt_rcolumn *c, pt_err *err)
{
	const char *params[1] = {c->type};
	PGresult   *res = pt_pq_exec_params(conn, "SELECT $1::regtype", 1, params, PGRES_TUPLES_OK, 1, 1, err);

	PQclear(res);
	if (res == NULL && strcmp(err->sqlstate, SQLSTATE_UNDEFINED_OBJECT) != 0)
	{
		pt_err_prefix(err, "column \"%s\": the event store's type \"%s\" is not a type name", c->name, c->type);
		err->kind = PT_ERR_INTEGRITY;
	}
	return res != NULL;
}

/*
 * "name" type [GENERATED ...] for CREATE TABLE and ADD COLUMN. A virtual
 * generated column (a PostgreSQL 18 source) is virtual again where the
 * target can have it (18+), stored before that (pt_target_create says so).
 */
static bool
column_definition(PGconn *conn, const pt_rcolumn *c, pt_buf *sql, pt_err *err)
{
	char	   *q;

	if (!check_type(conn, c, err) || (q = pt_pq_ident(conn, c->name, err)) == NULL)
		return false;
	pt_buf_printf(sql, "%s %s", q, c->type);
	PQfreemem(q);
	if (c->generated)
		pt_buf_printf(sql, " GENERATED ALWAYS AS (%s) %s", c->generated,
					  c->is_virtual && pt_pgcaps_of(conn).virtual_generated ? "VIRTUAL" : "STORED");
	else if (c->identity == 'a' || c->identity == 'd')
		pt_buf_printf(sql, " GENERATED %s AS IDENTITY", c->identity == 'a' ? "ALWAYS" : "BY DEFAULT");
	return true;
}

/* " DEFERRABLE [INITIALLY DEFERRED]" as the source's primary key was, or "". */
static const char *
key_deferrable(const pt_rversion *rv)
{
	if (rv->pk_deferrable == 'd')
		return " DEFERRABLE INITIALLY DEFERRED";
	return rv->pk_deferrable == 'i' ? " DEFERRABLE" : "";
}

static bool
key_list(PGconn *conn, char *const *names, int n, pt_buf *sql, pt_err *err)
{
	for (int i = 0; i < n; i++)
	{
		char	   *q = pt_pq_ident(conn, names[i], err);

		if (q == NULL)
			return false;
		pt_buf_printf(sql, "%s%s", i ? ", " : "", q);
		PQfreemem(q);
	}
	return true;
}

/*
 * Is column c NOT NULL in the target? As it was at the source, unless the
 * log holds nulls there (NaN or Infinity, which wal2json 2.5 sends as null:
 * a known loss the replay reports; the constraint would refuse the rows).
 */
static bool
keeps_not_null(const pt_rcolumn *c)
{
	return c->not_null && !c->log_nulls;
}

/*
 * CREATE TABLE name (columns, key) [PARTITION BY ...]; with not_null, the
 * columns' NOT NULL as rv says (keeps_not_null), else only the key's.
 */
static bool
create_sql(PGconn *conn, const char *qname, const pt_rversion *rv, const char *partition_by, bool not_null,
		   pt_buf *sql, pt_err *err)
{
	pt_buf_printf(sql, "CREATE TABLE %s (", qname);
	for (int i = 0; i < rv->ncols; i++)
	{
		if (i)
			pt_buf_puts(sql, ", ");
		if (!column_definition(conn, &rv->cols[i], sql, err))
			return false;
		if (not_null && keeps_not_null(&rv->cols[i]))
			pt_buf_puts(sql, " NOT NULL");
	}
	if (rv->npk > 0)
	{
		pt_buf_puts(sql, rv->ncols ? ", PRIMARY KEY (" : "PRIMARY KEY (");
		if (!key_list(conn, rv->pk, rv->npk, sql, err))
			return false;
		pt_buf_printf(sql, ")%s", key_deferrable(rv));
	}
	pt_buf_putc(sql, ')');
	if (partition_by)
		pt_buf_printf(sql, " PARTITION BY %s", partition_by);
	return true;
}

static bool
explain_missing_type(pt_err *err, const char *table)
{
	if (strcmp(err->sqlstate, SQLSTATE_UNDEFINED_OBJECT) != 0)
		return false;
	pt_err_prefix(err, "could not create table %s", table);
	err->kind = PT_ERR_CONFIG;
	pt_err_hint(err, "user-defined types must exist in the target before --create-tables: "
				"pg_dump --schema-only --schema=SCHEMA SOURCE | psql TARGET brings a schema's types "
				"(or restore the whole schema and replay without --create-tables)");
	return false;
}

/*
 * One statement, through the extended protocol, which runs exactly one: the
 * schemas table that types and expressions come from is not covered by the
 * hash chain, so text from it must never be able to smuggle in a second.
 */
static bool
run(PGconn *conn, const char *sql, pt_err *err)
{
	PGresult   *res = pt_pq_exec_params(conn, sql, 0, NULL, PGRES_COMMAND_OK, PT_PQ_ANY, PT_PQ_ANY, err);

	PQclear(res);
	return res != NULL;
}

/*
 * The parent of a partition, created from the leaf's columns when missing
 * (a parent outside the replayed tables). Its NOT NULL are only its key's:
 * a leaf may have NOT NULL its siblings have not, and every partition
 * created under the parent would get them.
 */
static bool
ensure_parent(PGconn *conn, const pt_rversion *rv, pt_log *log, pt_err *err)
{
	const char *params[1] = {rv->parent};
	PGresult   *res = pt_pq_exec_params(conn, "SELECT to_regclass($1) IS NOT NULL", 1, params,
										PGRES_TUPLES_OK, 1, 1, err);
	bool		exists,
				ok = true;
	pt_buf		sql = PT_BUF_INIT;

	if (res == NULL)
		return false;
	exists = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	if (exists)
		return true;
	if (!create_sql(conn, rv->parent, rv, rv->parent_partition_key, false, &sql, err) || !run(conn, sql.data, err))
		ok = explain_missing_type(err, rv->parent);
	else
		pt_log_info(log, "created partitioned table %s", rv->parent);
	pt_buf_free(&sql);
	return ok;
}

/* The table's schema, created when missing (as the source had it). */
static bool
ensure_schema(PGconn *conn, const char *schema, pt_err *err)
{
	char	   *q = pt_pq_ident(conn, schema, err);
	pt_buf		sql = PT_BUF_INIT;
	bool		ok = q != NULL;

	if (ok)
	{
		pt_buf_printf(&sql, "CREATE SCHEMA IF NOT EXISTS %s", q);
		ok = run(conn, sql.data, err);
	}
	PQfreemem(q);
	pt_buf_free(&sql);
	return ok;
}

/*
 * ALTER TABLE tt ALTER COLUMN name SET|DROP NOT NULL. A SET the rows refuse
 * (nulls a column got where its default could not be computed in the
 * target: add_column) leaves the column nullable, with a warning.
 */
static bool
not_null_command(PGconn *conn, const pt_ttable *tt, const char *name, bool set, pt_log *log, pt_err *err)
{
	char	   *q = pt_pq_ident(conn, name, err);
	pt_buf		sql = PT_BUF_INIT;
	bool		ok = q != NULL;

	if (ok)
	{
		pt_buf_printf(&sql, "ALTER TABLE %s ALTER COLUMN %s %s NOT NULL", tt->qname, q, set ? "SET" : "DROP");
		ok = !set || run(conn, "SAVEPOINT pgtrail_not_null", err);
		ok = ok && run(conn, sql.data, err);
	}
	if (!ok && set && q && strcmp(err->sqlstate, "23502") == 0)
	{
		pt_log_warning(log, "table %s: column \"%s\" left nullable: %s", tt->qname, name, err->message);
		ok = run(conn, "ROLLBACK TO SAVEPOINT pgtrail_not_null", err);
	}
	PQfreemem(q);
	pt_buf_free(&sql);
	return ok;
}

static bool
in_key(const pt_ttable *tt, int col)
{
	for (int i = 0; i < tt->npk; i++)
		if (tt->pk[i] == col)
			return true;
	return false;
}

/*
 * The NOT NULL of tt's columns (loaded) as rv says (keeps_not_null): with
 * set the missing ones are added (an ATTACH PARTITION needs the parent's),
 * else the extra ones dropped (the key's columns keep theirs). tt is
 * loaded again when something changed.
 */
static bool
sync_not_null(PGconn *conn, pt_ttable *tt, const pt_rversion *rv, bool set, pt_log *log, pt_err *err)
{
	bool		changed = false,
				ok = true;

	for (int i = 0; ok && i < rv->ncols; i++)
	{
		const pt_rcolumn *c = &rv->cols[i];
		int			have = pt_target_column(tt, c->name, strlen(c->name), -1);

		if (have < 0 || keeps_not_null(c) != set || tt->cols[have].not_null == set || (!set && in_key(tt, have)))
			continue;
		ok = not_null_command(conn, tt, c->name, set, log, err);
		changed = true;
	}
	return ok && (!changed || pt_target_load(conn, tt, err));
}

bool
pt_target_create(PGconn *conn, pt_ttable *tt, const pt_rversion *rv, pt_log *log, pt_err *err)
{
	pt_buf		sql = PT_BUF_INIT;
	bool		ok;

	if (!ensure_schema(conn, tt->schema, err))
		return false;
	if (rv->parent && rv->partition_bound && rv->parent_partition_key)
	{
		if (!ensure_parent(conn, rv, log, err))
			return false;
		pt_buf_printf(&sql, "CREATE TABLE %s PARTITION OF %s %s", tt->qname, rv->parent, rv->partition_bound);
		if (rv->partition_key)
			pt_buf_printf(&sql, " PARTITION BY %s", rv->partition_key);	/* a level of a multi-level tree */
		ok = run(conn, sql.data, err);
	}
	else
		ok = create_sql(conn, tt->qname, rv, rv->partition_key, true, &sql, err) && run(conn, sql.data, err);
	pt_buf_free(&sql);
	if (!ok)
		return explain_missing_type(err, tt->qname) || false;
	pt_log_info(log, "created table %s (version %d, %d columns)", tt->qname, rv->version, rv->ncols);
	for (int i = 0; i < rv->ncols && !pt_pgcaps_of(conn).virtual_generated; i++)
		if (rv->cols[i].is_virtual)
			pt_log_warning(log, "table %s: virtual generated column \"%s\" created STORED: the target runs "
						   "PostgreSQL %d, virtual ones need 18", tt->qname, rv->cols[i].name,
						   pt_pgcaps_of(conn).version_num / 10000);
	tt->version = rv->version;
	/* a partition has its parent's NOT NULL: its own come after */
	return pt_target_load(conn, tt, err) && sync_not_null(conn, tt, rv, true, log, err);
}

/* The column of `to` that column c of `from` became, by attnum or by name. */
static int
successor(const pt_rversion *from, int c, const pt_rversion *to)
{
	if (from->cols[c].attnum > 0 && to->ncols > 0 && to->cols[0].attnum > 0)
	{
		for (int i = 0; i < to->ncols; i++)
			if (to->cols[i].attnum == from->cols[c].attnum)
				return i;
		return -1;
	}
	return pt_rversion_column(to, from->cols[c].name, strlen(from->cols[c].name));
}

/*
 * One schema change, run on `on` (the table, or a partition's parent: the
 * change then reaches every partition, and the next partition finds it done).
 */
typedef struct evolve
{
	PGconn	   *conn;
	pt_ttable  *tt;
	const char *on;
	bool		emptied;
	pt_log	   *log;
	pt_err	   *err;
} evolve;

static bool
alter(evolve *e, const char *action, const char *arg)
{
	pt_buf		sql = PT_BUF_INIT;
	bool		ok;

	pt_buf_printf(&sql, "ALTER TABLE %s %s%s", e->on, action, arg ? arg : "");
	ok = run(e->conn, sql.data, e->err);
	pt_buf_free(&sql);
	return ok;
}

/* ALTER TABLE ... before "name" after */
static bool
with_ident(evolve *e, const char *before, const char *name, const char *after)
{
	char	   *q = pt_pq_ident(e->conn, name, e->err);
	pt_buf		act = PT_BUF_INIT;
	bool		ok = q != NULL;

	if (ok)
	{
		pt_buf_printf(&act, "%s%s%s", before, q, after);
		ok = alter(e, act.data, NULL);
	}
	PQfreemem(q);
	pt_buf_free(&act);
	return ok;
}

/* ADD COLUMN; a plain column added with a default gets it on the existing
 * rows (as the source's rows did), then the default is dropped again. */
static bool
add_column(evolve *e, const pt_rcolumn *c)
{
	pt_buf		def = PT_BUF_INIT;
	bool		ok;

	if (!column_definition(e->conn, c, &def, e->err))
		return false;
	if (c->default_expr && !e->emptied && !c->generated && !c->identity)
	{
		pt_buf		with_default = PT_BUF_INIT;

		pt_buf_printf(&with_default, "%s DEFAULT %s", def.data, c->default_expr);
		ok = run(e->conn, "SAVEPOINT pgtrail_add_column", e->err) &&
			alter(e, "ADD COLUMN ", with_default.data) &&
			with_ident(e, "ALTER COLUMN ", c->name, " DROP DEFAULT");
		if (!ok)
		{
			pt_log_warning(e->log, "table %s: column \"%s\" added without its default (%s): %s",
						   e->tt->qname, c->name, c->default_expr, e->err->message);
			ok = run(e->conn, "ROLLBACK TO SAVEPOINT pgtrail_add_column", e->err) &&
				alter(e, "ADD COLUMN ", def.data);
		}
		pt_buf_free(&with_default);
	}
	else
		ok = alter(e, "ADD COLUMN ", def.data);
	pt_buf_free(&def);
	return ok;
}

static bool
change_column(evolve *e, const pt_rcolumn *was, const pt_rcolumn *now)
{
	char	   *qold = pt_pq_ident(e->conn, was->name, e->err);
	char	   *qnew = qold ? pt_pq_ident(e->conn, now->name, e->err) : NULL;
	int			have = pt_target_column(e->tt, now->name, strlen(now->name), -1);
	pt_buf		act = PT_BUF_INIT;
	bool		ok = qnew != NULL;

	if (ok && strcmp(was->name, now->name) != 0 && have < 0 &&
		pt_target_column(e->tt, was->name, strlen(was->name), -1) >= 0)
	{
		pt_buf_printf(&act, "RENAME COLUMN %s TO %s", qold, qnew);
		ok = alter(e, act.data, NULL);
	}
	if (ok && strcmp(was->type, now->type) != 0 && (have < 0 || strcmp(e->tt->cols[have].type, now->type) != 0) &&
		(ok = check_type(e->conn, now, e->err)))
	{
		pt_buf_reset(&act);
		if (e->emptied)
			pt_buf_printf(&act, "ALTER COLUMN %s TYPE %s USING NULL", qnew, now->type);
		else
			pt_buf_printf(&act, "ALTER COLUMN %s TYPE %s USING %s::text::%s", qnew, now->type, qnew, now->type);
		ok = alter(e, act.data, NULL);
	}
	pt_buf_free(&act);
	PQfreemem(qold);
	PQfreemem(qnew);
	return ok;
}

static bool
same_key(const pt_rversion *a, const pt_rversion *b)
{
	if (a->npk != b->npk || a->pk_deferrable != b->pk_deferrable)
		return false;
	for (int i = 0; i < a->npk; i++)
		if (strcmp(a->pk[i], b->pk[i]) != 0)
			return false;
	return true;
}

static bool
change_key(evolve *e, const pt_rversion *to)
{
	const char *params[1] = {e->on};
	PGresult   *res = pt_pq_exec_params(e->conn, "SELECT conname FROM pg_constraint WHERE conrelid = $1::regclass "
										"AND contype = 'p'", 1, params, PGRES_TUPLES_OK, PT_PQ_ANY, 1, e->err);
	pt_buf		keys = PT_BUF_INIT;
	bool		ok = res != NULL;

	if (ok && PQntuples(res) == 1)
		ok = with_ident(e, "DROP CONSTRAINT ", PQgetvalue(res, 0, 0), "");
	PQclear(res);
	pt_buf_putc(&keys, '(');
	if (ok && to->npk > 0 && key_list(e->conn, to->pk, to->npk, &keys, e->err))
	{
		pt_buf_printf(&keys, ")%s", key_deferrable(to));
		ok = alter(e, "ADD PRIMARY KEY ", keys.data);
	}
	else if (ok && to->npk > 0)
		ok = false;
	pt_buf_free(&keys);
	return ok;
}

/*
 * A column gone and another new, matched by name (a version without
 * attnums: opened from the stream) may have been a rename: its values are
 * not carried over, and the operator is told so.
 */
static void
warn_unproven(evolve *e, const pt_rversion *from, const pt_rversion *to, const bool *kept)
{
	bool		added = false;

	for (int s = 0; s < to->ncols; s++)
		added |= !kept[s];
	for (int c = 0; added && c < from->ncols; c++)
		if (!(from->cols[c].attnum > 0 && to->ncols > 0 && to->cols[0].attnum > 0) && successor(from, c, to) < 0)
			pt_log_warning(e->log, "table %s: column \"%s\" of version %d is not in version %d, which has new "
						   "columns; without attnums (a version opened from the stream) a rename cannot be told "
						   "from a drop, so its values are not carried over", e->tt->qname, from->cols[c].name,
						   from->version, to->version);
}

static bool
evolve_columns(evolve *e, const pt_rversion *from, const pt_rversion *to)
{
	bool	   *kept = pt_calloc((size_t) to->ncols + 1, sizeof(bool));
	bool		ok = true;

	for (int c = 0; ok && c < from->ncols; c++)
	{
		int			s = successor(from, c, to);

		if (s >= 0)
		{
			kept[s] = true;
			ok = change_column(e, &from->cols[c], &to->cols[s]);
		}
		else if (pt_target_column(e->tt, from->cols[c].name, strlen(from->cols[c].name), -1) >= 0)
			ok = with_ident(e, "DROP COLUMN ", from->cols[c].name, "");
	}
	warn_unproven(e, from, to, kept);
	/* what the table has now: a column dropped above may come back under its name */
	ok = ok && pt_target_load(e->conn, e->tt, e->err);
	for (int s = 0; ok && s < to->ncols; s++)
		if (!kept[s] && pt_target_column(e->tt, to->cols[s].name, strlen(to->cols[s].name), -1) < 0)
			ok = add_column(e, &to->cols[s]);
	free(kept);
	return ok;
}

/* The table's parent in the target (quoted) and its bound, or NULLs (owned by the caller). */
static bool
attached_to(PGconn *conn, const pt_ttable *tt, char **parent, char **bound, pt_err *err)
{
	const char *params[1] = {tt->qname};
	PGresult   *res = pt_pq_exec_params(conn, ATTACHED_SQL, 1, params, PGRES_TUPLES_OK, PT_PQ_ANY, 2, err);

	*parent = *bound = NULL;
	if (res == NULL)
		return false;
	if (PQntuples(res) == 1)
	{
		*parent = pt_strdup(PQgetvalue(res, 0, 0));
		*bound = pt_strdup(PQgetvalue(res, 0, 1));
	}
	PQclear(res);
	return true;
}

/* ALTER TABLE parent DETACH|ATTACH PARTITION tt [bound] */
static bool
partition_command(PGconn *conn, const pt_ttable *tt, const char *parent, const char *bound, pt_log *log,
				  pt_err *err)
{
	pt_buf		sql = PT_BUF_INIT;
	bool		ok;

	pt_buf_printf(&sql, "ALTER TABLE %s %s PARTITION %s%s%s", parent, bound ? "ATTACH" : "DETACH", tt->qname,
				  bound ? " " : "", bound ? bound : "");
	ok = run(conn, sql.data, err);
	pt_buf_free(&sql);
	if (ok)
		pt_log_info(log, "table %s: %s %s%s%s", tt->qname, bound ? "attached to" : "detached from", parent,
					bound ? " " : "", bound ? bound : "");
	return ok;
}

/*
 * The table under the parent version `to` names, with its bound (ATTACH /
 * DETACH PARTITION as the source did), from what the target has now.
 */
static bool
reparent(PGconn *conn, pt_ttable *tt, const pt_rversion *to, pt_log *log, pt_err *err)
{
	char	   *parent,
			   *bound;
	bool		want = to->parent && to->partition_bound;
	bool		same,
				ok;

	if (!attached_to(conn, tt, &parent, &bound, err))
		return false;
	same = want && parent && strcmp(parent, to->parent) == 0 && strcmp(bound, to->partition_bound) == 0;
	ok = same || !parent || partition_command(conn, tt, parent, NULL, log, err);
	if (ok && want && !same)
		ok = ensure_parent(conn, to, log, err) && partition_command(conn, tt, to->parent, to->partition_bound, log, err);
	free(parent);
	free(bound);
	return ok;
}

bool
pt_target_bound(PGconn *conn, const pt_ttable *tt, char **bound, pt_err *err)
{
	char	   *parent;
	bool		ok = attached_to(conn, tt, &parent, bound, err);

	free(parent);
	return ok;
}

bool
pt_target_detach(PGconn *conn, pt_ttable *tt, const char *parent, pt_log *log, pt_err *err)
{
	char	   *now,
			   *bound;
	bool		ok;

	if (!attached_to(conn, tt, &now, &bound, err))
		return false;
	ok = now == NULL || strcmp(now, parent) != 0 || partition_command(conn, tt, now, NULL, log, err);
	free(now);
	free(bound);
	return ok && pt_target_load(conn, tt, err);
}

bool
pt_target_evolve(PGconn *conn, pt_ttable *tt, const pt_rtable *rt, const pt_rversion *from,
				 const pt_rversion *to, bool emptied, pt_log *log, pt_err *err)
{
	/* a column change of a partition is made on its parent (it recurses); attached or detached, on itself */
	bool		same_parent = from->parent && to->parent && strcmp(from->parent, to->parent) == 0;
	evolve		e = {conn, tt, same_parent ? to->parent : tt->qname, emptied, log, err};
	bool		ok;

	(void) rt;
	/* always read afresh: a partition's parent may have been changed meanwhile */
	ok = pt_target_load(conn, tt, err) && evolve_columns(&e, from, to) && pt_target_load(conn, tt, err) &&
		sync_not_null(conn, tt, to, true, log, err) && reparent(conn, tt, to, log, err) &&
		pt_target_load(conn, tt, err) && sync_not_null(conn, tt, to, false, log, err);
	if (ok && !to->parent && !same_key(from, to))
		ok = change_key(&e, to);
	if (!ok)
	{
		pt_err_prefix(err, "could not bring table %s from version %d to %d", tt->qname, from->version, to->version);
		return explain_missing_type(err, tt->qname) || false;
	}
	pt_log_info(log, "table %s: now as in version %d", tt->qname, to->version);
	tt->version = to->version;
	return pt_target_load(conn, tt, err);
}

bool
pt_target_rename(PGconn *conn, pt_ttable *from, pt_ttable *to, pt_err *err)
{
	char	   *qschema = pt_pq_ident(conn, to->schema, err);
	char	   *qtable = qschema ? pt_pq_ident(conn, to->table, err) : NULL;
	char	   *qold = qtable ? pt_pq_ident(conn, from->table, err) : NULL;
	pt_buf		sql = PT_BUF_INIT;
	bool		ok = qold != NULL;

	if (ok && strcmp(from->schema, to->schema) != 0)
	{
		pt_buf_printf(&sql, "ALTER TABLE %s SET SCHEMA %s", from->qname, qschema);
		ok = ensure_schema(conn, to->schema, err) && run(conn, sql.data, err);
	}
	if (ok && strcmp(from->table, to->table) != 0)
	{
		pt_buf_reset(&sql);
		pt_buf_printf(&sql, "ALTER TABLE %s.%s RENAME TO %s", qschema, qold, qtable);
		ok = run(conn, sql.data, err);
	}
	PQfreemem(qschema);
	PQfreemem(qtable);
	PQfreemem(qold);
	pt_buf_free(&sql);
	if (!ok)
		return false;
	from->version = 0;
	return pt_target_load(conn, from, err) && pt_target_load(conn, to, err);
}

bool
pt_target_drop(PGconn *conn, pt_ttable *tt, pt_err *err)
{
	pt_buf		sql = PT_BUF_INIT;
	bool		ok;

	pt_buf_printf(&sql, "DROP TABLE IF EXISTS %s", tt->qname);
	ok = run(conn, sql.data, err);
	pt_buf_free(&sql);
	tt->version = 0;
	return ok && pt_target_load(conn, tt, err);
}
