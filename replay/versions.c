/*
 * replay/versions.c — the event store's schema versions (see versions.h).
 *
 * The JSON of the schemas table (columns, details) is taken apart by the
 * event store's server, one row per column, so nothing here parses JSON.
 */
#include "replay/versions.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/mem.h"
#include "core/pq.h"
#include "core/store.h"
#include "core/store_losses.h"

struct pt_versions
{
	int			ntables;
	pt_rtable  *tables;			/* sorted by schema, table */
	int64_t		upto;			/* versions opened after this event are not yet (pt_versions_bound) */
};

/*
 * The versions as the chain has them: a version's schema event (op
 * "schema", core/schema_event.h) is what replay believes; the schemas row
 * only when the version has none (a store written before schema events,
 * replay/trust.c says how many). replay/trust.c refuses a store whose
 * schemas table and schema events differ.
 */
#define VERSIONS_FROM \
	"(SELECT s.schema_name, s.table_name, s.version, s.first_event_id, e.id AS schema_event_id, " \
	"  e.row::text AS doc, " \
	"  CASE WHEN e.id IS NULL THEN s.columns ELSE e.row->'columns' END AS columns, " \
	"  CASE WHEN e.id IS NULL THEN s.details ELSE e.row->'details' END AS details, " \
	"  CASE WHEN e.id IS NULL THEN s.primary_key " \
	"    ELSE ARRAY(SELECT json_array_elements_text(e.row->'primary_key')) END AS primary_key " \
	"  FROM %1$s.schemas s LEFT JOIN %1$s.events e ON e.op = 'schema' AND e.schema_name = s.schema_name " \
	"  AND e.table_name = s.table_name AND e.schema_version = s.version) s "

/* One row per column of every version; a version without columns still has one row. */
#define COLUMNS_SQL \
	"SELECT s.schema_name, s.table_name, s.version, coalesce(s.first_event_id, 0), " \
	"c.value->>'name', c.value->>'type', coalesce(c.value->>'attnum', '0'), " \
	"d.value->>'generated', coalesce(d.value->>'identity', ''), d.value->>'default', " \
	"coalesce(d.value->>'not_null', 'false'), s.details->>'parent', " \
	"s.details->>'parent_partition_key', s.details->>'partition_bound', s.details->>'partition_key', " \
	"coalesce(s.details->>'oid', '0'), coalesce(s.schema_event_id, 0), s.doc, " \
	"coalesce(c.value->>'virtual', 'false'), coalesce(s.details->>'primary_key_deferrable', '') " \
	"FROM " VERSIONS_FROM \
	"LEFT JOIN LATERAL json_array_elements(s.columns) WITH ORDINALITY c(value, ord) ON true " \
	"LEFT JOIN LATERAL (SELECT x AS value FROM json_array_elements(CASE WHEN " \
	"  json_typeof(s.details->'columns') = 'array' THEN s.details->'columns' END) x " \
	"  WHERE x->>'name' = c.value->>'name' LIMIT 1) d ON true " \
	"ORDER BY s.schema_name COLLATE \"C\", s.table_name COLLATE \"C\", s.version, c.ord"

#define PK_SQL \
	"SELECT s.schema_name, s.table_name, s.version, k FROM " VERSIONS_FROM ", " \
	"unnest(s.primary_key) WITH ORDINALITY u(k, o) " \
	"ORDER BY s.schema_name COLLATE \"C\", s.table_name COLLATE \"C\", s.version, o"

/*
 * The columns capture counted NaN or Infinity in, which wal2json 2.5 sends
 * as null (core/store_losses.h), and the same columns of their partitioned
 * parents (rows are written through the root): the log holds nulls there
 * that the column's NOT NULL would refuse. The losses table is outside the
 * hash chain; all it can do here is leave a NOT NULL out of a created table.
 */
#define NAN_NULLS_SQL \
	"WITH RECURSIVE n(schema_name, table_name, detail) AS (" \
	"  SELECT schema_name, table_name, detail FROM %1$s.losses WHERE kind = '" PT_LOSS_NAN "' " \
	"  UNION SELECT p.schema_name, p.table_name, n.detail FROM n " \
	"  JOIN %1$s.schemas s ON s.schema_name = n.schema_name AND s.table_name = n.table_name " \
	"  JOIN %1$s.schemas p ON s.details->>'parent' = quote_ident(p.schema_name) || '.' || quote_ident(p.table_name)) " \
	"SELECT schema_name, table_name, detail FROM n"

static char *
dup_or_null(const PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? NULL : pt_strdup(PQgetvalue(res, row, col));
}

static pt_rtable *
add_table(pt_versions *v, const char *schema, const char *table)
{
	pt_rtable  *t;

	v->tables = pt_realloc(v->tables, sizeof(pt_rtable) * (size_t) (v->ntables + 1));
	t = &v->tables[v->ntables++];
	memset(t, 0, sizeof(*t));
	t->schema = pt_strdup(schema);
	t->table = pt_strdup(table);
	return t;
}

static pt_rversion *
add_version(pt_rtable *t, const PGresult *res, int row)
{
	pt_rversion *rv;

	t->versions = pt_realloc(t->versions, sizeof(pt_rversion) * (size_t) (t->nversions + 1));
	rv = &t->versions[t->nversions++];
	memset(rv, 0, sizeof(*rv));
	rv->version = atoi(PQgetvalue(res, row, 2));
	rv->first_event_id = strtoll(PQgetvalue(res, row, 3), NULL, 10);
	rv->parent = dup_or_null(res, row, 11);
	rv->parent_partition_key = dup_or_null(res, row, 12);
	rv->partition_bound = dup_or_null(res, row, 13);
	rv->partition_key = dup_or_null(res, row, 14);
	rv->oid = strtoll(PQgetvalue(res, row, 15), NULL, 10);
	rv->schema_event_id = strtoll(PQgetvalue(res, row, 16), NULL, 10);
	rv->doc = dup_or_null(res, row, 17);
	rv->pk_deferrable = PQgetvalue(res, row, 19)[0];	/* 'i', 'd', or 0 (absent in older stores) */
	return rv;
}

static void
add_column(pt_rversion *rv, const PGresult *res, int row)
{
	pt_rcolumn *c;
	const char *ident = PQgetvalue(res, row, 8);

	rv->cols = pt_realloc(rv->cols, sizeof(pt_rcolumn) * (size_t) (rv->ncols + 1));
	c = &rv->cols[rv->ncols++];
	memset(c, 0, sizeof(*c));	/* log_nulls: set later, from the losses table and the erasures */
	c->name = pt_strdup(PQgetvalue(res, row, 4));
	c->type = pt_strdup(PQgetvalue(res, row, 5));
	c->attnum = atoi(PQgetvalue(res, row, 6));
	c->generated = dup_or_null(res, row, 7);
	c->identity = ident[0];
	c->default_expr = dup_or_null(res, row, 9);
	c->not_null = strcmp(PQgetvalue(res, row, 10), "true") == 0;
	c->is_virtual = strcmp(PQgetvalue(res, row, 18), "true") == 0;
}

static bool
same_table(const pt_rtable *t, const PGresult *res, int row)
{
	return t && strcmp(t->schema, PQgetvalue(res, row, 0)) == 0 && strcmp(t->table, PQgetvalue(res, row, 1)) == 0;
}

static bool
load_columns(pt_versions *v, PGconn *conn, const char *qschema, pt_err *err)
{
	pt_buf		sql = PT_BUF_INIT;
	PGresult   *res;
	pt_rtable  *t = NULL;
	pt_rversion *rv = NULL;

	pt_buf_printf(&sql, COLUMNS_SQL, qschema);
	res = pt_pq_exec(conn, sql.data, PGRES_TUPLES_OK, PT_PQ_ANY, 20, err);
	pt_buf_free(&sql);
	if (res == NULL)
		return false;
	for (int i = 0; i < PQntuples(res); i++)
	{
		if (!same_table(t, res, i))
		{
			t = add_table(v, PQgetvalue(res, i, 0), PQgetvalue(res, i, 1));
			rv = NULL;
		}
		if (rv == NULL || rv->version != atoi(PQgetvalue(res, i, 2)))
			rv = add_version(t, res, i);
		if (!PQgetisnull(res, i, 4))
			add_column(rv, res, i);
	}
	PQclear(res);
	return true;
}

static bool
load_keys(pt_versions *v, PGconn *conn, const char *qschema, pt_err *err)
{
	pt_buf		sql = PT_BUF_INIT;
	PGresult   *res;

	pt_buf_printf(&sql, PK_SQL, qschema);
	res = pt_pq_exec(conn, sql.data, PGRES_TUPLES_OK, PT_PQ_ANY, 4, err);
	pt_buf_free(&sql);
	if (res == NULL)
		return false;
	for (int i = 0; i < PQntuples(res); i++)
	{
		const char *s = PQgetvalue(res, i, 0),
				   *tn = PQgetvalue(res, i, 1);
		const pt_rtable *t = pt_versions_table(v, s, strlen(s), tn, strlen(tn));
		pt_rversion *rv = t ? (pt_rversion *) pt_versions_get(t, atoi(PQgetvalue(res, i, 2))) : NULL;

		if (rv == NULL)
			continue;
		rv->pk = pt_realloc(rv->pk, sizeof(char *) * (size_t) (rv->npk + 1));
		rv->pk[rv->npk++] = pt_strdup(PQgetvalue(res, i, 3));
	}
	PQclear(res);
	return true;
}

/* Every version's column of that name, in a table of that name, holds nulls (NaN, erased values). */
static void
mark_log_nulls(pt_versions *v, const char *schema, const char *table, const char *column)
{
	const pt_rtable *t = pt_versions_table(v, schema, strlen(schema), table, strlen(table));

	for (int k = 0; t && k < t->nversions; k++)
		for (int c = 0; c < t->versions[k].ncols; c++)
			if (strcmp(t->versions[k].cols[c].name, column) == 0)
				t->versions[k].cols[c].log_nulls = true;
}

/* Mark each (schema, table, column) row of res, then clear it. */
static void
mark_rows(pt_versions *v, PGresult *res)
{
	for (int i = 0; i < PQntuples(res); i++)
		mark_log_nulls(v, PQgetvalue(res, i, 0), PQgetvalue(res, i, 1), PQgetvalue(res, i, 2));
	PQclear(res);
}

/* The log_nulls of NaN (see NAN_NULLS_SQL); a store without a losses table has none. */
static bool
load_log_nulls(pt_versions *v, PGconn *conn, const char *schema, const char *qschema, pt_err *err)
{
	const char *params[1] = {schema};
	PGresult   *res = pt_pq_exec_params(conn, "SELECT to_regclass(quote_ident($1) || '.losses') IS NOT NULL", 1,
										params, PGRES_TUPLES_OK, 1, 1, err);
	pt_buf		sql = PT_BUF_INIT;
	bool		exists;

	if (res == NULL)
		return false;
	exists = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	if (!exists)
		return true;
	pt_buf_printf(&sql, NAN_NULLS_SQL, qschema);
	res = pt_pq_exec(conn, sql.data, PGRES_TUPLES_OK, PT_PQ_ANY, 3, err);
	pt_buf_free(&sql);
	if (res == NULL)
		return false;
	mark_rows(v, res);
	return true;
}

/*
 * The log_nulls of erased values: columns pgtrail-erase emptied in some
 * event (erased "row.NAME" or "old.NAME"), so replay never meets a NOT NULL
 * it made itself refusing them. A store from before format 2 has none.
 */
static bool
load_erased_nulls(pt_versions *v, PGconn *conn, const char *schema, const char *qschema, pt_err *err)
{
	pt_buf		sql = PT_BUF_INIT;
	PGresult   *res;
	bool		has_seal;

	if (!pt_store_has_seal(conn, schema, &has_seal, err))
		return false;
	if (!has_seal)
		return true;
	pt_buf_printf(&sql, "SELECT DISTINCT schema_name, table_name, substr(e, 5) FROM %s.events, unnest(erased) e "
				  "WHERE sealed IS NOT NULL AND (e LIKE 'row.%%' OR e LIKE 'old.%%')", qschema);
	res = pt_pq_exec(conn, sql.data, PGRES_TUPLES_OK, PT_PQ_ANY, 3, err);
	pt_buf_free(&sql);
	if (res == NULL)
		return false;
	mark_rows(v, res);
	return true;
}

pt_versions *
pt_versions_load(PGconn *conn, const char *schema, pt_err *err)
{
	pt_versions *v = pt_calloc(1, sizeof(*v));
	char	   *qschema = pt_pq_ident(conn, schema, err);
	bool		ok;

	if (qschema == NULL)
	{
		free(v);
		return NULL;
	}
	ok = load_columns(v, conn, qschema, err) && load_keys(v, conn, qschema, err) &&
		load_log_nulls(v, conn, schema, qschema, err) && load_erased_nulls(v, conn, schema, qschema, err);
	PQfreemem(qschema);
	if (ok)
		pt_versions_bound(v, INT64_MAX);
	if (!ok)
	{
		pt_versions_free(v);
		return NULL;
	}
	return v;
}

static void
free_version(pt_rversion *rv)
{
	for (int i = 0; i < rv->ncols; i++)
	{
		free(rv->cols[i].name);
		free(rv->cols[i].type);
		free(rv->cols[i].generated);
		free(rv->cols[i].default_expr);
	}
	for (int i = 0; i < rv->npk; i++)
		free(rv->pk[i]);
	free(rv->cols);
	free(rv->pk);
	free(rv->parent);
	free(rv->parent_partition_key);
	free(rv->partition_bound);
	free(rv->partition_key);
	free(rv->doc);
}

void
pt_versions_free(pt_versions *v)
{
	if (v == NULL)
		return;
	for (int i = 0; i < v->ntables; i++)
	{
		for (int k = 0; k < v->tables[i].nversions; k++)
			free_version(&v->tables[i].versions[k]);
		free(v->tables[i].versions);
		free(v->tables[i].schema);
		free(v->tables[i].table);
	}
	free(v->tables);
	free(v);
}

int
pt_versions_count(const pt_versions *v)
{
	return v->ntables;
}

const pt_rtable *
pt_versions_at(const pt_versions *v, int i)
{
	return &v->tables[i];
}

static int
cmp_name(const char *a, const char *b, size_t blen)
{
	int			c = strncmp(a, b, blen);

	if (c != 0)
		return c;
	return a[blen] == '\0' ? 0 : 1;
}

const pt_rtable *
pt_versions_table(const pt_versions *v, const char *schema, size_t slen, const char *table, size_t tlen)
{
	int			lo = 0,
				hi = v->ntables - 1;

	/* sorted in byte order (COLLATE "C"), so a binary search works */
	while (lo <= hi)
	{
		int			mid = (lo + hi) / 2;
		const pt_rtable *t = &v->tables[mid];
		int			c = cmp_name(t->schema, schema, slen);

		if (c == 0)
			c = cmp_name(t->table, table, tlen);
		if (c == 0)
			return t;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return NULL;
}

const pt_rversion *
pt_versions_get(const pt_rtable *t, int version)
{
	for (int i = 0; i < t->nversions; i++)
		if (t->versions[i].version == version)
			return &t->versions[i];
	return NULL;
}

const pt_rversion *
pt_versions_as_of(const pt_rtable *t, int64_t event_id)
{
	const pt_rversion *best = NULL;

	for (int i = 0; i < t->nversions; i++)
		if (t->versions[i].first_event_id <= event_id)
			best = &t->versions[i];
	return best;
}

typedef struct oid_entry
{
	int64_t		oid;
	int64_t		first_event_id;
	pt_rtable  *table;
	pt_rversion *rv;
} oid_entry;

static int
cmp_oid_entry(const void *a, const void *b)
{
	const oid_entry *x = a,
			   *y = b;

	if (x->oid != y->oid)
		return x->oid < y->oid ? -1 : 1;
	return x->first_event_id < y->first_event_id ? -1 : x->first_event_id > y->first_event_id;
}

/*
 * Each version's home: the table whose version of the same oid opened last
 * by event v->upto (a rename after it has not happened yet).
 */
void
pt_versions_bound(pt_versions *v, int64_t upto)
{
	int			n = 0,
				k = 0;
	oid_entry  *e;

	v->upto = upto;
	for (int i = 0; i < v->ntables; i++)
		n += v->tables[i].nversions;
	e = pt_calloc((size_t) n + 1, sizeof(oid_entry));
	for (int i = 0; i < v->ntables; i++)
		for (int j = 0; j < v->tables[i].nversions; j++)
		{
			pt_rversion *rv = &v->tables[i].versions[j];

			rv->home = &v->tables[i];
			if (rv->oid != 0 && rv->first_event_id <= upto)
				e[k++] = (oid_entry) {rv->oid, rv->first_event_id, &v->tables[i], rv};
		}
	qsort(e, (size_t) k, sizeof(oid_entry), cmp_oid_entry);
	for (int i = 0; i < k;)
	{
		int			last = i;

		while (last + 1 < k && e[last + 1].oid == e[i].oid)
			last++;
		for (int j = i; j <= last; j++)
			e[j].rv->home = e[last].table;
		i = last + 1;
	}
	free(e);
}

int
pt_versions_last(const pt_versions *v, const pt_rtable *t)
{
	const pt_rversion *rv = pt_versions_as_of(t, v->upto);

	return v->upto == INT64_MAX || rv == NULL ? INT_MAX : rv->version;
}

const pt_rtable *
pt_versions_renamed_to(const pt_versions *v, const pt_rtable *t, int version)
{
	const pt_rversion *rv = pt_versions_get(t, version);

	if (rv == NULL)
		rv = pt_versions_as_of(t, v->upto); /* "the table as it is" */
	return rv && rv->home != t ? rv->home : NULL;
}

int
pt_rversion_column(const pt_rversion *rv, const char *name, size_t len)
{
	for (int i = 0; i < rv->ncols; i++)
		if (cmp_name(rv->cols[i].name, name, len) == 0)
			return i;
	return -1;
}

/* The column of next that is column c of prev: by attnum when both have it. */
static int
successor(const pt_rversion *prev, int c, const pt_rversion *next, bool *by_attnum)
{
	int			attnum = prev->cols[c].attnum;

	if (attnum > 0 && next->ncols > 0 && next->cols[0].attnum > 0)
	{
		for (int i = 0; i < next->ncols; i++)
			if (next->cols[i].attnum == attnum)
				return i;
		return -1;
	}
	*by_attnum = false;
	return pt_rversion_column(next, prev->cols[c].name, strlen(prev->cols[c].name));
}

const char *
pt_versions_step(const pt_rversion *prev, const char *name, const pt_rversion *next)
{
	bool		by_attnum = true;
	int			c = pt_rversion_column(prev, name, strlen(name));

	if (c >= 0)
		c = successor(prev, c, next, &by_attnum);
	return c >= 0 ? next->cols[c].name : NULL;
}

/* Was version a opened before version b (by first event id, then version)? */
static bool
opened_before(const pt_rversion *a, const pt_rversion *b)
{
	if (a->first_event_id != b->first_event_id)
		return a->first_event_id < b->first_event_id;
	return a->version < b->version;
}

const pt_rversion *
pt_versions_next_of_oid(const pt_versions *v, const pt_rversion *rv)
{
	const pt_rversion *next = NULL;

	for (int i = 0; rv->oid != 0 && i < v->ntables; i++)
		for (int j = 0; j < v->tables[i].nversions; j++)
		{
			const pt_rversion *c = &v->tables[i].versions[j];

			if (c->oid == rv->oid && opened_before(rv, c) && (next == NULL || opened_before(c, next)))
				next = c;
		}
	return next;
}

const char *
pt_versions_follow(const pt_rtable *t, int version, const char *name, size_t len, int to, bool *by_attnum)
{
	const pt_rversion *rv = pt_versions_get(t, version);
	bool		ignored;
	int			c;

	if (by_attnum == NULL)
		by_attnum = &ignored;
	*by_attnum = true;
	if (rv == NULL)
		return NULL;
	c = pt_rversion_column(rv, name, len);
	for (int i = 0; c >= 0 && i < t->nversions; i++)
	{
		const pt_rversion *next = &t->versions[i];

		if (next->version <= rv->version || next->version > to)
			continue;
		if (next->oid != 0 && rv->oid != 0 && next->oid != rv->oid)
			break;				/* dropped and created again: another table */
		c = successor(rv, c, next, by_attnum);
		rv = next;
	}
	return c >= 0 ? rv->cols[c].name : NULL;
}

const char *
pt_versions_follow_into(const pt_versions *v, const pt_rtable *from, int64_t oid, const char *name,
						const pt_rtable *to, int *to_version, bool *by_attnum)
{
	const pt_rversion *last = NULL,
			   *first = NULL;
	int			c,
				s;

	for (int i = 0; i < from->nversions; i++)
		if (from->versions[i].oid == oid && from->versions[i].first_event_id <= v->upto)
			last = &from->versions[i];
	for (int i = to->nversions - 1; i >= 0; i--)
		if (to->versions[i].oid == oid)
			first = &to->versions[i];
	if (last == NULL || first == NULL || (c = pt_rversion_column(last, name, strlen(name))) < 0)
		return NULL;
	s = successor(last, c, first, by_attnum);
	*to_version = first->version;
	return s >= 0 ? first->cols[s].name : NULL;
}
