/*
 * capture/schema.c — the schema registry (see schema.h).
 *
 * Tables live in a small chained hash map keyed by schema and table name.
 * Comparing a change with its table's version is a walk over the columns
 * wal2json sent; nothing is allocated unless a version opens.
 *
 * Types are compared by OID and typmod, never by wal2json's printed name
 * (capture/types.h): a version records format_type(oid, typmod) under
 * search_path = pg_catalog, whichever way it opened (stream, snapshot,
 * DDL), and the printed name of each column is resolved to its typmod
 * once, then remembered (wire) so later changes compare two strings.
 */
#include "capture/schema.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/json.h"
#include "core/mem.h"
#include "core/pq.h"
#include "capture/types.h"

#define NBUCKETS 1024

typedef struct entry
{
	pt_table_version tv;
	bool		virtual_known;	/* virtual[] set: from the version in force, or the catalog */
	bool		ident_read;		/* tv.replident and tv.ident read for this version in this run */
	int			nvirtual;
	char	  **virtual;		/* the table's virtual generated columns, attnum order */
	int			nstored;
	char	  **stored;			/* its stored generated ones, when the decoder leaves them out */
	uint32_t	oid;			/* the table's, as its version last said; 0 unknown */
	struct entry *next;
} entry;

/* A change without virtual columns: copies of its lists, reused. */
typedef struct stripped
{
	pt_w2j_change ch;
	pt_w2j_column *columns;
	int			columns_cap;
	pt_w2j_column *identity;
	int			identity_cap;
} stripped;

struct pt_schemas
{
	entry	   *buckets[NBUCKETS];
	PGconn	   *catalog;		/* source, opened on first need */
	char	   *source_dsn;
	pt_pgcaps	caps;
	bool		omits;			/* unsent generated columns are left out, not null (pgoutput) */
	bool		omits_stored;	/* stored generated ones too (pgoutput before 18) */
	pt_log	   *log;
	pt_types   *types;			/* type names by OID, from the catalog */
	pt_buf		columns_json;
	pt_buf		details;
	stripped	stripped;
};

/* Latest version of every table, one row per column (columns in order). */
#define LOAD_SQL \
	"SELECT s.schema_name, s.table_name, s.version, c.value->>'name', c.value->>'type', " \
	"coalesce(c.value->>'typeoid', '0'), array_to_json(s.primary_key)::text, " \
	"coalesce(c.value->>'virtual', 'false') = 'true', coalesce(s.details->>'oid', '0') " \
	"FROM (SELECT DISTINCT ON (schema_name, table_name) * FROM %s.schemas " \
	"ORDER BY schema_name, table_name, version DESC) s, " \
	"json_array_elements(s.columns) WITH ORDINALITY c(value, ord) " \
	"ORDER BY s.schema_name, s.table_name, c.ord"

#define CATALOG_COLUMNS_SQL \
	"SELECT a.attname, a.atttypmod, a.atttypid, a.attgenerated = 'v', a.attnum, a.attgenerated = 's' " \
	"FROM pg_attribute a " \
	"WHERE a.attrelid = to_regclass(quote_ident($1) || '.' || quote_ident($2)) " \
	"AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum"

#define CATALOG_PK_SQL \
	"SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid " \
	"AND a.attnum = ANY (i.indkey) WHERE i.indisprimary " \
	"AND i.indrelid = to_regclass(quote_ident($1) || '.' || quote_ident($2)) " \
	"ORDER BY array_position(i.indkey::int2[], a.attnum)"

#define CATALOG_GENERATED_SQL \
	"SELECT a.attname, a.attgenerated = 'v' FROM pg_attribute a " \
	"WHERE a.attrelid = to_regclass(quote_ident($1) || '.' || quote_ident($2)) " \
	"AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated <> '' ORDER BY a.attnum"

/*
 * The replica identity; with an index, one row per index column, in index
 * order. The table by its OID while that exists (it keeps it through
 * renames: capture catching up may come after one), else by its name.
 */
#define CATALOG_IDENT_SQL \
	"SELECT c.relreplident::text, a.attname FROM pg_class c " \
	"LEFT JOIN pg_index i ON i.indrelid = c.oid AND i.indisreplident AND c.relreplident = 'i' " \
	"LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = ANY (i.indkey) " \
	"WHERE c.oid = coalesce((SELECT oid FROM pg_class WHERE oid = $3::oid), " \
	"  to_regclass(quote_ident($1) || '.' || quote_ident($2))) " \
	"ORDER BY array_position(i.indkey::int2[], a.attnum)"

#define DETAILS_SQL \
	"SELECT " PT_SCHEMAS_DETAILS_EXPR "::text, c.oid " \
	"FROM pg_class c WHERE c.oid = to_regclass(quote_ident($1) || '.' || quote_ident($2))"

static unsigned
hash_name(const char *schema, size_t slen, const char *table, size_t tlen)
{
	unsigned	h = 2166136261u;

	for (size_t i = 0; i < slen; i++)
		h = (h ^ (unsigned char) schema[i]) * 16777619u;
	h = (h ^ 0) * 16777619u;
	for (size_t i = 0; i < tlen; i++)
		h = (h ^ (unsigned char) table[i]) * 16777619u;
	return h % NBUCKETS;
}

static entry *
find(pt_schemas *s, const char *schema, size_t slen, const char *table, size_t tlen)
{
	for (entry *e = s->buckets[hash_name(schema, slen, table, tlen)]; e; e = e->next)
		if (strlen(e->tv.schema_name) == slen && memcmp(e->tv.schema_name, schema, slen) == 0 &&
			strlen(e->tv.table_name) == tlen && memcmp(e->tv.table_name, table, tlen) == 0)
			return e;
	return NULL;
}

static entry *
insert(pt_schemas *s, const char *schema, size_t slen, const char *table, size_t tlen)
{
	entry	   *e = pt_calloc(1, sizeof(*e));
	unsigned	h = hash_name(schema, slen, table, tlen);

	e->tv.schema_name = pt_strndup(schema, slen);
	e->tv.table_name = pt_strndup(table, tlen);
	e->next = s->buckets[h];
	s->buckets[h] = e;
	return e;
}

static void
clear_columns(pt_table_version *tv)
{
	for (int i = 0; i < tv->ncols; i++)
	{
		free((char *) tv->names[i].ptr);
		free(tv->types[i]);
		free(tv->wire[i]);
	}
	for (int i = 0; i < tv->npk; i++)
		free(tv->pk[i]);
	if (tv->event_names != tv->names)
		free(tv->event_names);
	free(tv->names);
	free(tv->types);
	free(tv->typeoids);
	free(tv->typmods);
	free(tv->wire);
	free(tv->attnums);
	free(tv->is_virtual);
	free(tv->unsent);
	free(tv->pk);
	tv->names = tv->event_names = NULL;
	tv->types = tv->wire = NULL;
	tv->typeoids = NULL;
	tv->typmods = NULL;
	tv->attnums = NULL;
	tv->is_virtual = tv->unsent = NULL;
	tv->pk = NULL;
	tv->ncols = tv->npk = tv->nvirtual = tv->nunsent_stored = tv->nevent = 0;
}

/* The columns events carry, once the version's columns are complete. */
static void
index_event_names(pt_table_version *tv)
{
	if (tv->event_names != tv->names)
		free(tv->event_names);
	tv->nvirtual = tv->nunsent_stored = 0;
	for (int i = 0; i < tv->ncols; i++)
	{
		tv->nvirtual += tv->is_virtual[i];
		tv->nunsent_stored += tv->unsent[i] && !tv->is_virtual[i];
	}
	tv->event_names = tv->names;
	tv->nevent = tv->ncols;
	if (tv->nvirtual + tv->nunsent_stored == 0)
		return;
	tv->event_names = pt_malloc(sizeof(pt_text) * (size_t) tv->ncols);
	tv->nevent = 0;
	for (int i = 0; i < tv->ncols; i++)
		if (!tv->unsent[i])
			tv->event_names[tv->nevent++] = tv->names[i];
}

/* A column typed oid/typmod, recorded as type; wire is the name wal2json printed (or NULL). */
static void
add_column(pt_table_version *tv, const char *name, size_t nlen, const char *type, uint32_t typeoid,
		   int32_t typmod, const char *wire, bool is_virtual)
{
	int			n = tv->ncols + 1;

	tv->names = pt_realloc(tv->names, sizeof(pt_text) * (size_t) n);
	tv->types = pt_realloc(tv->types, sizeof(char *) * (size_t) n);
	tv->typeoids = pt_realloc(tv->typeoids, sizeof(uint32_t) * (size_t) n);
	tv->typmods = pt_realloc(tv->typmods, sizeof(int32_t) * (size_t) n);
	tv->wire = pt_realloc(tv->wire, sizeof(char *) * (size_t) n);
	tv->attnums = pt_realloc(tv->attnums, sizeof(int) * (size_t) n);
	tv->attnums[tv->ncols] = 0;
	tv->is_virtual = pt_realloc(tv->is_virtual, sizeof(bool) * (size_t) n);
	tv->is_virtual[tv->ncols] = is_virtual;
	tv->unsent = pt_realloc(tv->unsent, sizeof(bool) * (size_t) n);
	tv->unsent[tv->ncols] = is_virtual;
	tv->names[tv->ncols].ptr = pt_strndup(name, nlen);
	tv->names[tv->ncols].len = nlen;
	tv->types[tv->ncols] = pt_strdup(type ? type : "");
	tv->typeoids[tv->ncols] = typeoid;
	tv->typmods[tv->ncols] = typmod;
	tv->wire[tv->ncols] = wire ? pt_strdup(wire) : NULL;
	tv->ncols = n;
}

static void
add_pk(pt_table_version *tv, const char *name, size_t len)
{
	tv->pk = pt_realloc(tv->pk, sizeof(char *) * (size_t) (tv->npk + 1));
	tv->pk[tv->npk++] = pt_strndup(name, len);
}

/* primary_key as JSON array text ["a","b"] into tv->pk. */
static void
load_pk(pt_table_version *tv, const char *json)
{
	pt_buf		name = PT_BUF_INIT;

	for (const char *p = json; *p; p++)
	{
		if (*p != '"')
			continue;
		pt_buf_reset(&name);
		for (p++; *p && *p != '"'; p++)
		{
			if (*p == '\\' && p[1])
				p++;
			pt_buf_putc(&name, *p);
		}
		add_pk(tv, name.data ? name.data : "", name.len);
		if (!*p)
			break;
	}
	pt_buf_free(&name);
}

static bool
load(pt_schemas *s, PGconn *conn, const char *store_schema, pt_err *err)
{
	char	   *q = pt_pq_ident(conn, store_schema, err);
	pt_buf		sql = PT_BUF_INIT;
	PGresult   *res;
	entry	   *e = NULL;

	if (q == NULL)
		return false;
	pt_buf_printf(&sql, LOAD_SQL, q);
	PQfreemem(q);
	res = pt_pq_exec(conn, sql.data, PGRES_TUPLES_OK, PT_PQ_ANY, 9, err);
	pt_buf_free(&sql);
	if (res == NULL)
		return false;
	for (int i = 0; i < PQntuples(res); i++)
	{
		const char *schema = PQgetvalue(res, i, 0);
		const char *table = PQgetvalue(res, i, 1);

		if (e == NULL || strcmp(e->tv.schema_name, schema) != 0 || strcmp(e->tv.table_name, table) != 0)
		{
			e = insert(s, schema, strlen(schema), table, strlen(table));
			e->tv.version = atoi(PQgetvalue(res, i, 2));
			e->oid = (uint32_t) strtoul(PQgetvalue(res, i, 8), NULL, 10);
			load_pk(&e->tv, PQgetvalue(res, i, 6));
		}
		add_column(&e->tv, PQgetvalue(res, i, 3), strlen(PQgetvalue(res, i, 3)),
				   PQgetvalue(res, i, 4), (uint32_t) strtoul(PQgetvalue(res, i, 5), NULL, 10),
				   PT_TYPMOD_LAZY, NULL, strcmp(PQgetvalue(res, i, 7), "t") == 0);
		if (i + 1 == PQntuples(res) || strcmp(PQgetvalue(res, i + 1, 0), schema) != 0 ||
			strcmp(PQgetvalue(res, i + 1, 1), table) != 0)
			index_event_names(&e->tv);
	}
	PQclear(res);
	return true;
}

pt_schemas *
pt_schemas_new(PGconn *store_conn, const char *store_schema, const char *source_dsn, pt_pgcaps caps,
			   pt_log *log, pt_err *err)
{
	pt_schemas *s = pt_calloc(1, sizeof(*s));

	s->source_dsn = pt_strdup(source_dsn ? source_dsn : "");
	s->caps = caps;
	s->log = log;
	s->types = pt_types_new();
	if (!load(s, store_conn, store_schema, err))
	{
		pt_schemas_free(s);
		return NULL;
	}
	return s;
}

void
pt_schemas_omitting(pt_schemas *s, bool omits_stored)
{
	s->omits = true;
	s->omits_stored = omits_stored;
}

/* Forget the replica identity read for tv. */
static void
free_ident(pt_table_version *tv)
{
	for (int i = 0; i < tv->nident; i++)
		free(tv->ident[i]);
	free(tv->ident);
	tv->ident = NULL;
	tv->nident = 0;
	tv->replident = 0;
}

/* Free a list of *n names and empty it. */
static void
free_names(char ***names, int *n)
{
	for (int i = 0; i < *n; i++)
		free((*names)[i]);
	free(*names);
	*names = NULL;
	*n = 0;
}

static void
free_virtual(entry *e)
{
	free_names(&e->virtual, &e->nvirtual);
}

static void
free_stored(entry *e)
{
	free_names(&e->stored, &e->nstored);
}

void
pt_schemas_free(pt_schemas *s)
{
	if (s == NULL)
		return;
	for (int b = 0; b < NBUCKETS; b++)
	{
		entry	   *e = s->buckets[b];

		while (e)
		{
			entry	   *next = e->next;

			clear_columns(&e->tv);
			free_ident(&e->tv);
			free_virtual(e);
			free_stored(e);
			free(e->tv.schema_name);
			free(e->tv.table_name);
			free(e);
			e = next;
		}
	}
	pt_pq_close(s->catalog);
	pt_types_free(s->types);
	free(s->source_dsn);
	pt_buf_free(&s->columns_json);
	pt_buf_free(&s->details);
	free(s->stripped.columns);
	free(s->stripped.identity);
	free(s);
}

/* Index of the version's column named like c, or -1. */
static int
column_index(const pt_table_version *tv, const pt_w2j_column *c, int hint)
{
	for (int k = 0; k < tv->ncols; k++)
	{
		int			i = (hint + k) % tv->ncols;

		if (tv->names[i].len == c->name.len && memcmp(tv->names[i].ptr, c->name.ptr, c->name.len) == 0)
			return i;
	}
	return -1;
}

static PGconn *
catalog(pt_schemas *s, pt_err *err)
{
	if (s->catalog == NULL)
		s->catalog = pt_pq_connect(s->source_dsn, "pgtrail-capture catalog", err);
	return s->catalog;
}

PGconn *
pt_schemas_catalog(pt_schemas *s, pt_err *err)
{
	return catalog(s, err);
}

bool
pt_schemas_type_name(pt_schemas *s, uint32_t oid, int32_t typmod, const char **name, pt_err *err)
{
	PGconn	   *conn = catalog(s, err);

	return conn != NULL && pt_types_name(s->types, conn, oid, typmod, name, err);
}

/*
 * The typmod of a version's column i, resolved from its recorded name on
 * first need (a version loaded from the store or defined by DDL records
 * names only; older stores hold wal2json's printed names, which resolve
 * too). PT_TYPMOD_UNKNOWN when the catalog knows no typmod that prints so.
 */
static bool
version_typmod(pt_schemas *s, pt_table_version *tv, int i, pt_err *err)
{
	const char *name;
	bool		found;
	PGconn	   *conn;

	if (tv->typmods[i] != PT_TYPMOD_LAZY)
		return true;
	if ((conn = catalog(s, err)) == NULL ||
		!pt_types_resolve(s->types, conn, tv->typeoids[i], tv->types[i], &tv->typmods[i], &name, &found, err))
		return false;
	if (!found)
		tv->typmods[i] = PT_TYPMOD_UNKNOWN;
	return true;
}

/*
 * Is c (as wal2json sent it) of the type of the version's column i? Same
 * OID and same typmod; the typmod is in the printed name, resolved through
 * the catalog (capture/types.h) the first time a name is seen, then
 * remembered as the column's wire name. A name that resolves to no typmod
 * is compared as text. 1 yes, 0 no, -1 error (err filled).
 */
static int
same_type(pt_schemas *s, pt_table_version *tv, int i, const pt_w2j_column *c, pt_err *err)
{
	const char *printed = c->type.ptr;
	const char *name;
	int32_t		typmod = PT_TYPMOD_UNKNOWN;
	bool		found;
	PGconn	   *conn;

	if (c->typeoid == 0 || tv->typeoids[i] == 0)
		return printed == NULL || strcmp(tv->types[i], printed) == 0;
	if (c->typeoid != tv->typeoids[i])
		return 0;
	if (printed == NULL || strcmp(tv->types[i], printed) == 0 || (tv->wire[i] && strcmp(tv->wire[i], printed) == 0))
		return 1;
	if (!version_typmod(s, tv, i, err) || (conn = catalog(s, err)) == NULL ||
		!pt_types_resolve(s->types, conn, c->typeoid, printed, &typmod, &name, &found, err))
		return -1;
	if (!found || typmod == PT_TYPMOD_UNKNOWN || tv->typmods[i] == PT_TYPMOD_UNKNOWN
		? strcmp(tv->types[i], printed) != 0 : typmod != tv->typmods[i])
		return 0;
	free(tv->wire[i]);
	tv->wire[i] = pt_strdup(printed);
	return 1;
}

static bool
same_pk(const pt_table_version *tv, const pt_w2j_columns *pk)
{
	/* an empty list is taken as "not said" (see capture.c, with_known_key) */
	if (!pk->present || pk->count == 0)
		return true;
	if (pk->count != tv->npk)
		return false;
	for (int i = 0; i < pk->count; i++)
		if (strcmp(tv->pk[i], pk->items[i].name.ptr) != 0)
			return false;
	return true;
}

/* Do the columns wal2json sent fit the version? For an INSERT they must be
 * all of them, in order; for an UPDATE a subsequence (the rest unchanged).
 * 1 yes, 0 no, -1 error (err filled). */
static int
fits(pt_schemas *s, pt_table_version *tv, const pt_w2j_change *ch, pt_err *err)
{
	const pt_w2j_columns *cols = &ch->columns;
	int			at = 0;

	if (tv->version == 0 || !same_pk(tv, &ch->pk))
		return 0;
	if (ch->action == 'D' || ch->action == 'T')
		return 1;
	if (ch->action == 'I' && cols->count != tv->nevent)
		return 0;
	for (int i = 0; i < cols->count; i++)
	{
		int			k = column_index(tv, &cols->items[i], at);
		int			same = k < at ? 0 : same_type(s, tv, k, &cols->items[i], err);

		if (same != 1)
			return same;
		at = k + 1;
	}
	return 1;
}

/* The table's primary key columns, from the catalog. */
static bool
pk_from_catalog(pt_schemas *s, pt_table_version *tv, pt_err *err)
{
	const char *params[2] = {tv->schema_name, tv->table_name};
	PGconn	   *conn = catalog(s, err);
	PGresult   *res = conn ? pt_pq_exec_params(conn, CATALOG_PK_SQL, 2, params, PGRES_TUPLES_OK, PT_PQ_ANY, 1, err)
		: NULL;

	if (res == NULL)
		return false;
	for (int i = 0; i < PQntuples(res); i++)
		add_pk(tv, PQgetvalue(res, i, 0), strlen(PQgetvalue(res, i, 0)));
	PQclear(res);
	return true;
}

/*
 * Columns (and, when the change did not say, the primary key) from the
 * catalog, with their attnums: a column keeps its attnum through renames,
 * so replay can follow it into the versions DDL capture records.
 */
static bool
columns_from_catalog(pt_schemas *s, pt_table_version *tv, bool with_pk, pt_err *err)
{
	const char *params[2] = {tv->schema_name, tv->table_name};
	PGconn	   *conn = catalog(s, err);
	PGresult   *res;

	if (conn == NULL)
		return false;
	res = pt_pq_exec_params(conn, CATALOG_COLUMNS_SQL, 2, params, PGRES_TUPLES_OK, PT_PQ_ANY, 6, err);
	if (res == NULL)
		return false;
	for (int i = 0; i < PQntuples(res); i++)
	{
		uint32_t	oid = (uint32_t) strtoul(PQgetvalue(res, i, 2), NULL, 10);
		int32_t		typmod = (int32_t) strtol(PQgetvalue(res, i, 1), NULL, 10);
		const char *type;

		if (!pt_types_name(s->types, conn, oid, typmod, &type, err))
		{
			PQclear(res);
			return false;
		}
		add_column(tv, PQgetvalue(res, i, 0), strlen(PQgetvalue(res, i, 0)), type, oid, typmod, NULL,
				   strcmp(PQgetvalue(res, i, 3), "t") == 0);
		tv->attnums[i] = atoi(PQgetvalue(res, i, 4));
		tv->unsent[i] |= s->omits_stored && strcmp(PQgetvalue(res, i, 5), "t") == 0;
	}
	index_event_names(tv);
	PQclear(res);
	return !with_pk || pk_from_catalog(s, tv, err);
}

/* Is name (len bytes) one of the n names? */
static bool
in_names(char *const *names, int n, const char *name, size_t len)
{
	for (int i = 0; i < n; i++)
		if (strlen(names[i]) == len && memcmp(names[i], name, len) == 0)
			return true;
	return false;
}

/* Is name one of the table's virtual generated columns, as last read? */
static bool
is_virtual(const entry *e, const char *name, size_t len)
{
	return in_names(e->virtual, e->nvirtual, name, len);
}

/*
 * A column as wal2json sent it, its type named from its OID and the typmod
 * its printed name resolves to. A name no typmod the catalog knows prints
 * as (the column's type changed since, and no column keeps the old one) is
 * recorded as printed, with a warning.
 */
static bool
add_sent_column(pt_schemas *s, entry *e, const pt_w2j_column *c, pt_err *err)
{
	const char *type = c->type.ptr;
	int32_t		typmod = PT_TYPMOD_UNKNOWN;
	bool		found = false;
	PGconn	   *conn = NULL;

	if (c->typeoid != 0 && type != NULL &&
		((conn = catalog(s, err)) == NULL ||
		 !pt_types_resolve(s->types, conn, c->typeoid, type, &typmod, &type, &found, err)))
		return false;
	if (c->typeoid != 0 && c->type.ptr != NULL && !found)
		pt_log_warning(s->log, "table \"%s\".\"%s\": type of column \"%s\" (OID %u) printed as \"%s\" is "
					   "none the catalog knows; recorded as printed", e->tv.schema_name, e->tv.table_name,
					   c->name.ptr, c->typeoid, c->type.ptr);
	add_column(&e->tv, c->name.ptr, c->name.len, type, c->typeoid, typmod, c->type.ptr,
			   is_virtual(e, c->name.ptr, c->name.len));
	return true;
}

/*
 * The new column set. An INSERT sent all columns: they are it. A table seen
 * for the first time through an UPDATE, DELETE or TRUNCATE: the catalog's
 * columns, if the sent ones fit them (the unsent ones are then unchanged
 * TOAST), else what was sent. A known table's UPDATE that does not fit:
 * what was sent, then the version's columns that were not. A decoder that
 * leaves out generated columns (pgoutput) cannot send them: for a table
 * that has some, the catalog's columns if the sent ones fit them, recorded
 * as wal2json's would be (no attnums). ch is the change
 * without virtual columns, full the change as sent (virtual ones included,
 * so the version lists them in their place).
 */
static bool
open_version(pt_schemas *s, entry *e, const pt_w2j_change *ch, const pt_w2j_change *full, pt_err *err)
{
	pt_table_version *tv = &e->tv;
	pt_table_version old = *tv;
	const pt_w2j_columns *cols = full->action == 'D' ? &full->identity : &full->columns;
	bool		from_catalog = old.version == 0 && ch->action != 'I';
	bool		for_unsent = !from_catalog && s->omits && (e->nvirtual > 0 || e->nstored > 0);
	bool		seeded = false;
	int			fit;

	tv->names = tv->event_names = NULL;
	tv->types = tv->wire = NULL;
	tv->typeoids = NULL;
	tv->typmods = NULL;
	tv->attnums = NULL;
	tv->is_virtual = tv->unsent = NULL;
	tv->pk = NULL;
	tv->ncols = tv->npk = tv->nvirtual = tv->nunsent_stored = tv->nevent = 0;
	if (from_catalog || for_unsent)
	{
		if (!columns_from_catalog(s, tv, !ch->pk.present, err))
			return false;
		tv->version = 1;
		for (int i = 0; ch->pk.present && i < ch->pk.count; i++)
			add_pk(tv, ch->pk.items[i].name.ptr, ch->pk.items[i].name.len);
		fit = tv->ncols > 0 ? fits(s, tv, ch, err) : 0;
		if (fit < 0)
			goto error;
		seeded = fit == 1;
		if (!seeded)
			clear_columns(tv);
		for (int i = 0; seeded && for_unsent && i < tv->ncols; i++)
			tv->attnums[i] = 0;		/* as wal2json's sent columns give it */
	}
	if (!seeded)
	{
		for (int i = 0; cols->present && i < cols->count; i++)
			if (!add_sent_column(s, e, &cols->items[i], err))
				goto error;
		/* (a virtual column still there was sent, as null: one not sent is gone) */
		for (int i = 0; ch->action == 'U' && i < old.ncols; i++)
			if (!old.is_virtual[i] &&
				column_index(tv, &(pt_w2j_column) {.name = {old.names[i].ptr, old.names[i].len}}, 0) < 0)
				add_column(tv, old.names[i].ptr, old.names[i].len, old.types[i], old.typeoids[i], old.typmods[i],
						   old.wire[i], false);
		index_event_names(tv);
		if (ch->pk.present)
			for (int i = 0; i < ch->pk.count; i++)
				add_pk(tv, ch->pk.items[i].name.ptr, ch->pk.items[i].name.len);
		else if (old.version == 0 && !pk_from_catalog(s, tv, err))
			goto error;		/* a decoder that does not name the key (pgoutput, identity not default) */
		else
			for (int i = 0; i < old.npk; i++)
				add_pk(tv, old.pk[i], strlen(old.pk[i]));
	}
	tv->version = old.version + 1;
	clear_columns(&old);
	return true;

error:
	clear_columns(&old);
	return false;
}

static void
columns_json(pt_schemas *s, const pt_table_version *tv)
{
	pt_buf	   *b = &s->columns_json;

	pt_buf_reset(b);
	pt_buf_putc(b, '[');
	for (int i = 0; i < tv->ncols; i++)
	{
		pt_buf_puts(b, i ? ",{\"name\":" : "{\"name\":");
		pt_json_put_string(b, tv->names[i].ptr, tv->names[i].len);
		pt_buf_puts(b, ",\"type\":");
		pt_json_put_cstring(b, tv->types[i]);
		pt_buf_printf(b, ",\"typeoid\":%u", tv->typeoids[i]);
		if (tv->attnums[i] > 0)
			pt_buf_printf(b, ",\"attnum\":%d", tv->attnums[i]);
		pt_buf_puts(b, tv->is_virtual[i] ? ",\"virtual\":true}" : "}");
	}
	pt_buf_putc(b, ']');
}

/* What the catalog says about the table now (and its OID); NULL when it is gone. */
static const char *
details(pt_schemas *s, entry *e, pt_err *err)
{
	const char *params[2] = {e->tv.schema_name, e->tv.table_name};
	PGconn	   *conn = catalog(s, err);
	PGresult   *res;
	const char *out = NULL;

	if (conn == NULL)
		return NULL;
	res = pt_pq_exec_params(conn, DETAILS_SQL, 2, params, PGRES_TUPLES_OK, PT_PQ_ANY, 2, err);
	if (res == NULL)
		return NULL;
	pt_buf_reset(&s->details);
	if (PQntuples(res) == 1)
	{
		pt_buf_puts(&s->details, PQgetvalue(res, 0, 0));
		out = s->details.data;
		e->oid = (uint32_t) strtoul(PQgetvalue(res, 0, 1), NULL, 10);
	}
	PQclear(res);
	return out;
}

/* The version's unsent columns: its virtual ones and the stored ones left out. */
static void
mark_unsent(entry *e)
{
	for (int i = 0; i < e->tv.ncols; i++)
		e->tv.unsent[i] = e->tv.is_virtual[i] ||
			in_names(e->stored, e->nstored, e->tv.names[i].ptr, e->tv.names[i].len);
	index_event_names(&e->tv);
}

/*
 * The table's virtual generated columns, and the stored ones when the
 * decoder leaves them out, as the catalog says now.
 */
static bool
read_generated(pt_schemas *s, entry *e, pt_err *err)
{
	const char *params[2] = {e->tv.schema_name, e->tv.table_name};
	PGconn	   *conn = catalog(s, err);
	PGresult   *res;

	if (conn == NULL)
		return false;
	res = pt_pq_exec_params(conn, CATALOG_GENERATED_SQL, 2, params, PGRES_TUPLES_OK, PT_PQ_ANY, 2, err);
	if (res == NULL)
		return false;
	free_virtual(e);
	free_stored(e);
	e->virtual = pt_calloc((size_t) PQntuples(res) + 1, sizeof(char *));
	e->stored = pt_calloc((size_t) PQntuples(res) + 1, sizeof(char *));
	for (int i = 0; i < PQntuples(res); i++)
		if (strcmp(PQgetvalue(res, i, 1), "t") == 0)
			e->virtual[e->nvirtual++] = pt_strdup(PQgetvalue(res, i, 0));
		else if (s->omits_stored)
			e->stored[e->nstored++] = pt_strdup(PQgetvalue(res, i, 0));
	PQclear(res);
	e->virtual_known = true;
	mark_unsent(e);
	return true;
}

/*
 * The virtual columns of the version in force. The catalog says how the
 * table is now, which may be later than the change at hand (capture
 * catching up after the table was renamed, dropped or created again under
 * its name); a version opened from a DDL message or loaded from the store
 * says how it was when the change was made.
 */
static void
virtual_from_version(entry *e)
{
	free_virtual(e);
	e->virtual = pt_calloc((size_t) e->tv.ncols + 1, sizeof(char *));
	for (int i = 0; i < e->tv.ncols; i++)
		if (e->tv.is_virtual[i])
			e->virtual[e->nvirtual++] = pt_strndup(e->tv.names[i].ptr, e->tv.names[i].len);
	e->virtual_known = true;
	mark_unsent(e);
}

/*
 * in without the virtual columns, into *out (buffer *buf of *cap items).
 * False when in disagrees with the virtual columns known: a "virtual"
 * column with a value, or (all set: an INSERT's or UPDATE's new row, where
 * wal2json sends every virtual column, as null) one missing; all is false
 * for a decoder that leaves them out.
 */
static bool
strip_list(const entry *e, const pt_w2j_columns *in, bool all, pt_w2j_columns *out, pt_w2j_column **buf,
		   int *cap)
{
	int			seen = 0;

	if (*cap < in->count)
	{
		*cap = in->count;
		*buf = pt_realloc(*buf, sizeof(pt_w2j_column) * (size_t) *cap);
	}
	*out = (pt_w2j_columns) {*buf, 0, in->present};
	for (int i = 0; i < in->count; i++)
	{
		const pt_w2j_column *c = &in->items[i];

		if (!is_virtual(e, c->name.ptr, c->name.len))
			(*buf)[out->count++] = *c;
		else if (!c->isnull)
			return false;
		else
			seen++;
	}
	return !all || !in->present || seen == e->nvirtual;
}

static bool
strip(pt_schemas *s, const entry *e, const pt_w2j_change *ch)
{
	stripped   *st = &s->stripped;
	bool		agrees;

	st->ch = *ch;
	agrees = strip_list(e, &ch->columns, !s->omits && (ch->action == 'I' || ch->action == 'U'),
						&st->ch.columns, &st->columns, &st->columns_cap);
	return strip_list(e, &ch->identity, false, &st->ch.identity, &st->identity, &st->identity_cap) && agrees;
}

/* Do the virtual columns known (the catalog's, once it was asked) differ from the version's? */
static bool
same_virtual(const entry *e)
{
	int			k = 0;

	if (!e->virtual_known || e->tv.nvirtual != e->nvirtual)
		return e->tv.nvirtual == e->nvirtual;
	for (int i = 0; i < e->tv.ncols; i++)
		if (e->tv.is_virtual[i] && strcmp(e->tv.names[i].ptr, e->virtual[k++]) != 0)
			return false;
	return true;
}

/*
 * PostgreSQL 18+ (or a decoder that leaves out stored generated columns):
 * *ch without the table's virtual columns, and whether it
 * fits the version. The virtual columns are first the version's; the
 * catalog is read when the change disagrees with them or does not fit (a
 * table first seen, a virtual column added or dropped, or made an ordinary
 * one, with no DDL message to say so).
 */
static bool
without_virtual(pt_schemas *s, entry *e, const pt_w2j_change **ch, bool *fit, pt_err *err)
{
	const pt_w2j_change *full = *ch;
	bool		agrees = true;
	int			f;

	if (!e->virtual_known)
		virtual_from_version(e);
	if (e->nvirtual > 0 || e->tv.nvirtual > 0)
	{
		agrees = strip(s, e, full);
		*ch = &s->stripped.ch;
	}
	f = agrees ? fits(s, &e->tv, *ch, err) : 0;
	if (f < 0)
		return false;
	*fit = f == 1;
	if (*fit)
		return true;
	if (!read_generated(s, e, err))
		return false;
	strip(s, e, full);
	*ch = &s->stripped.ch;
	f = fits(s, &e->tv, *ch, err);
	*fit = f == 1;
	return f >= 0;
}

/* The table's replica identity, as the catalog says now (if it still has the table). */
static bool
read_ident(pt_schemas *s, entry *e, pt_err *err)
{
	char		oid[12];
	const char *params[3] = {e->tv.schema_name, e->tv.table_name, oid};
	PGconn	   *conn = catalog(s, err);
	PGresult   *res;

	if (conn == NULL)
		return false;
	snprintf(oid, sizeof(oid), "%u", e->oid);
	res = pt_pq_exec_params(conn, CATALOG_IDENT_SQL, 3, params, PGRES_TUPLES_OK, PT_PQ_ANY, 2, err);
	if (res == NULL)
		return false;
	if (PQntuples(res) == 0)	/* gone: the identity last known (a DDL message's) stands */
	{
		PQclear(res);
		e->ident_read = true;
		return true;
	}
	free_ident(&e->tv);
	e->tv.ident = pt_calloc((size_t) PQntuples(res) + 1, sizeof(char *));
	for (int i = 0; i < PQntuples(res); i++)
	{
		e->tv.replident = PQgetvalue(res, i, 0)[0];
		if (!PQgetisnull(res, i, 1))
			e->tv.ident[e->tv.nident++] = pt_strdup(PQgetvalue(res, i, 1));
	}
	PQclear(res);
	e->ident_read = true;
	return true;
}

/* Is name one of the identity index's columns? */
static bool
in_ident(const pt_table_version *tv, const pt_w2j_str *name)
{
	return in_names(tv->ident, tv->nident, name->ptr, name->len);
}

/*
 * Does an UPDATE's or DELETE's identity (the old key or old row wal2json
 * sent) disagree with the replica identity read? An index: other columns;
 * FULL: fewer columns than the row has; none: an identity at all.
 */
static bool
ident_stale(const pt_table_version *tv, const pt_w2j_change *ch)
{
	const pt_w2j_columns *id = &ch->identity;

	if ((ch->action != 'U' && ch->action != 'D') || !id->present || id->count == 0)
		return false;
	if (tv->replident == 'f')
		return id->count < tv->nevent;
	if (tv->replident != 'i' || id->count != tv->nident)
		return true;
	for (int i = 0; i < id->count; i++)
		if (!in_ident(tv, &id->items[i].name))
			return true;
	return false;
}

/* Does the replica identity the change says (pgoutput) agree with tv's? */
static bool
ident_agrees(const pt_table_version *tv, const pt_w2j_change *ch)
{
	if (ch->replident != tv->replident)
		return false;
	if (ch->replident != 'i')
		return true;
	if (ch->ident_key.count != tv->nident)
		return false;
	for (int i = 0; i < ch->ident_key.count; i++)
		if (!in_ident(tv, &ch->ident_key.items[i].name))
			return false;
	return true;
}

/*
 * The replica identity as the change says it, when the catalog read now
 * disagrees (the table renamed, dropped or altered since the change): the
 * stream's is the one in force then. Index columns in the order sent.
 */
static void
ident_from_change(entry *e, const pt_w2j_change *ch)
{
	free_ident(&e->tv);
	e->tv.replident = ch->replident;
	e->tv.ident = pt_calloc((size_t) ch->ident_key.count + 1, sizeof(char *));
	for (int i = 0; ch->replident == 'i' && i < ch->ident_key.count; i++)
		e->tv.ident[e->tv.nident++] = pt_strndup(ch->ident_key.items[i].name.ptr, ch->ident_key.items[i].name.len);
}

/*
 * Keep tv's replica identity current for a table without a primary key:
 * from the catalog, unless the decoder says the identity (pgoutput) and
 * the catalog disagrees with it.
 */
static bool
identity(pt_schemas *s, entry *e, const pt_w2j_change *ch, pt_err *err)
{
	if (e->tv.npk > 0 || (ch->pk.present && ch->pk.count > 0))
		return true;
	if (e->ident_read && !ident_stale(&e->tv, ch) && (ch->replident == 0 || ident_agrees(&e->tv, ch)))
		return true;
	if (!read_ident(s, e, err))
		return false;
	if (ch->replident != 0 && !ident_agrees(&e->tv, ch))
		ident_from_change(e, ch);
	return true;
}

bool
pt_schemas_observe(pt_schemas *s, const pt_w2j_change **chp, const pt_table_version **tvp,
				   bool *opened, const char **cols, const char **det, pt_err *err)
{
	const pt_w2j_change *full = *chp;
	entry	   *e = find(s, full->schema.ptr, full->schema.len, full->table.ptr, full->table.len);
	bool		fit;

	*opened = false;
	if (e == NULL)
		e = insert(s, full->schema.ptr, full->schema.len, full->table.ptr, full->table.len);
	*tvp = &e->tv;
	if (s->caps.virtual_generated || s->omits_stored)
	{
		if (!without_virtual(s, e, chp, &fit, err))
			return false;
	}
	else
	{
		int			f = fits(s, &e->tv, *chp, err);

		if (f < 0)
			return false;
		fit = f == 1;
	}
	if (fit && same_virtual(e))
		return identity(s, e, *chp, err);
	if (!open_version(s, e, *chp, full, err))
		return false;
	*opened = true;
	e->ident_read = false;
	columns_json(s, &e->tv);
	*cols = s->columns_json.data;
	pt_err_clear(err);
	*det = details(s, e, err);
	if (*det == NULL && err->kind != PT_ERR_NONE)
		return false;
	pt_log_info(s->log, "table \"%s\".\"%s\": column set version %d (%d columns)",
				e->tv.schema_name, e->tv.table_name, e->tv.version, e->tv.ncols);
	return identity(s, e, *chp, err);
}

bool
pt_schemas_for_snapshot(pt_schemas *s, const char *schema, const char *table, const pt_table_version **tvp,
						bool *opened, const char **cols, const char **det, pt_err *err)
{
	entry	   *e = find(s, schema, strlen(schema), table, strlen(table));
	pt_w2j_change ch;
	const pt_w2j_change *chp;

	*opened = false;
	if (e == NULL)
		e = insert(s, schema, strlen(schema), table, strlen(table));
	*tvp = &e->tv;
	if (e->tv.version > 0)
		return true;
	/* like a first TRUNCATE: the catalog's columns, as the snapshot sees them */
	memset(&ch, 0, sizeof(ch));
	ch.action = 'T';
	ch.schema.ptr = e->tv.schema_name;
	ch.schema.len = strlen(e->tv.schema_name);
	ch.table.ptr = e->tv.table_name;
	ch.table.len = strlen(e->tv.table_name);
	chp = &ch;
	return pt_schemas_observe(s, &chp, tvp, opened, cols, det, err);
}

void
pt_schemas_set_identity(pt_schemas *s, const char *schema, const char *table, char replident,
						const char *const *ident, int nident)
{
	entry	   *e = find(s, schema, strlen(schema), table, strlen(table));

	if (e == NULL || replident == 0)
		return;
	free_ident(&e->tv);
	e->tv.replident = replident;
	e->tv.ident = pt_calloc((size_t) nident + 1, sizeof(char *));
	for (int i = 0; i < nident; i++)
		e->tv.ident[e->tv.nident++] = pt_strdup(ident[i]);
	e->ident_read = true;
}

bool
pt_schemas_define(pt_schemas *s, const char *schema, const char *table, uint32_t oid, const pt_text *names,
				  const char *const *types, const uint32_t *typeoids, const bool *virtuals, const bool *storeds,
				  int ncols, const char *const *pk, int npk, const pt_table_version **tvp)
{
	entry	   *e = find(s, schema, strlen(schema), table, strlen(table));

	if (e == NULL)
		e = insert(s, schema, strlen(schema), table, strlen(table));
	clear_columns(&e->tv);
	e->oid = oid;
	if (s->omits_stored)
	{
		free_stored(e);
		e->stored = pt_calloc((size_t) ncols + 1, sizeof(char *));
		for (int i = 0; i < ncols; i++)
			if (storeds[i])
				e->stored[e->nstored++] = pt_strndup(names[i].ptr, names[i].len);
	}
	for (int i = 0; i < ncols; i++)
		add_column(&e->tv, names[i].ptr, names[i].len, types[i], typeoids[i], PT_TYPMOD_LAZY, NULL, virtuals[i]);
	index_event_names(&e->tv);
	for (int i = 0; i < npk; i++)
		add_pk(&e->tv, pk[i], strlen(pk[i]));
	virtual_from_version(e);	/* as of the DDL, which the catalog may be past */
	e->ident_read = false;
	e->tv.version++;
	*tvp = &e->tv;
	pt_log_info(s->log, "table \"%s\".\"%s\": column set version %d (%d columns), from DDL",
				e->tv.schema_name, e->tv.table_name, e->tv.version, e->tv.ncols);
	return true;
}
