/*
 * capture/schema.c — the schema registry (see schema.h).
 *
 * Tables live in a small chained hash map keyed by schema and table name.
 * Comparing a change with its table's version is a walk over the columns
 * wal2json sent; nothing is allocated unless a version opens.
 */
#include "capture/schema.h"

#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/json.h"
#include "core/mem.h"
#include "core/pq.h"

#define NBUCKETS 1024

typedef struct entry
{
	pt_table_version tv;
	bool		virtual_read;	/* virtual[] read from the catalog in this run */
	int			nvirtual;
	char	  **virtual;		/* the table's virtual generated columns, attnum order */
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
	pt_log	   *log;
	pt_buf		columns_json;
	pt_buf		details;
	stripped	stripped;
};

/* Latest version of every table, one row per column (columns in order). */
#define LOAD_SQL \
	"SELECT s.schema_name, s.table_name, s.version, c.value->>'name', c.value->>'type', " \
	"coalesce(c.value->>'typeoid', '0'), array_to_json(s.primary_key)::text, " \
	"coalesce(c.value->>'virtual', 'false') = 'true' " \
	"FROM (SELECT DISTINCT ON (schema_name, table_name) * FROM %s.schemas " \
	"ORDER BY schema_name, table_name, version DESC) s, " \
	"json_array_elements(s.columns) WITH ORDINALITY c(value, ord) " \
	"ORDER BY s.schema_name, s.table_name, c.ord"

#define CATALOG_COLUMNS_SQL \
	"SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.atttypid, a.attgenerated = 'v', a.attnum " \
	"FROM pg_attribute a " \
	"WHERE a.attrelid = to_regclass(quote_ident($1) || '.' || quote_ident($2)) " \
	"AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum"

#define CATALOG_PK_SQL \
	"SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid " \
	"AND a.attnum = ANY (i.indkey) WHERE i.indisprimary " \
	"AND i.indrelid = to_regclass(quote_ident($1) || '.' || quote_ident($2)) " \
	"ORDER BY array_position(i.indkey::int2[], a.attnum)"

#define CATALOG_VIRTUAL_SQL \
	"SELECT a.attname FROM pg_attribute a " \
	"WHERE a.attrelid = to_regclass(quote_ident($1) || '.' || quote_ident($2)) " \
	"AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = 'v' ORDER BY a.attnum"

#define DETAILS_SQL \
	"SELECT " PT_SCHEMAS_DETAILS_EXPR "::text " \
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
	}
	for (int i = 0; i < tv->npk; i++)
		free(tv->pk[i]);
	if (tv->event_names != tv->names)
		free(tv->event_names);
	free(tv->names);
	free(tv->types);
	free(tv->typeoids);
	free(tv->attnums);
	free(tv->is_virtual);
	free(tv->pk);
	tv->names = tv->event_names = NULL;
	tv->types = NULL;
	tv->typeoids = NULL;
	tv->attnums = NULL;
	tv->is_virtual = NULL;
	tv->pk = NULL;
	tv->ncols = tv->npk = tv->nvirtual = tv->nevent = 0;
}

/* The columns events carry, once the version's columns are complete. */
static void
index_event_names(pt_table_version *tv)
{
	if (tv->event_names != tv->names)
		free(tv->event_names);
	tv->nvirtual = 0;
	for (int i = 0; i < tv->ncols; i++)
		tv->nvirtual += tv->is_virtual[i];
	tv->event_names = tv->names;
	tv->nevent = tv->ncols;
	if (tv->nvirtual == 0)
		return;
	tv->event_names = pt_malloc(sizeof(pt_text) * (size_t) tv->ncols);
	tv->nevent = 0;
	for (int i = 0; i < tv->ncols; i++)
		if (!tv->is_virtual[i])
			tv->event_names[tv->nevent++] = tv->names[i];
}

static void
add_column(pt_table_version *tv, const char *name, size_t nlen, const char *type, uint32_t typeoid,
		   bool is_virtual)
{
	int			n = tv->ncols + 1;

	tv->names = pt_realloc(tv->names, sizeof(pt_text) * (size_t) n);
	tv->types = pt_realloc(tv->types, sizeof(char *) * (size_t) n);
	tv->typeoids = pt_realloc(tv->typeoids, sizeof(uint32_t) * (size_t) n);
	tv->attnums = pt_realloc(tv->attnums, sizeof(int) * (size_t) n);
	tv->attnums[tv->ncols] = 0;
	tv->is_virtual = pt_realloc(tv->is_virtual, sizeof(bool) * (size_t) n);
	tv->is_virtual[tv->ncols] = is_virtual;
	tv->names[tv->ncols].ptr = pt_strndup(name, nlen);
	tv->names[tv->ncols].len = nlen;
	tv->types[tv->ncols] = pt_strdup(type ? type : "");
	tv->typeoids[tv->ncols] = typeoid;
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
	res = pt_pq_exec(conn, sql.data, PGRES_TUPLES_OK, PT_PQ_ANY, 8, err);
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
			load_pk(&e->tv, PQgetvalue(res, i, 6));
		}
		add_column(&e->tv, PQgetvalue(res, i, 3), strlen(PQgetvalue(res, i, 3)),
				   PQgetvalue(res, i, 4), (uint32_t) strtoul(PQgetvalue(res, i, 5), NULL, 10),
				   strcmp(PQgetvalue(res, i, 7), "t") == 0);
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
	if (!load(s, store_conn, store_schema, err))
	{
		pt_schemas_free(s);
		return NULL;
	}
	return s;
}

static void
free_virtual(entry *e)
{
	for (int i = 0; i < e->nvirtual; i++)
		free(e->virtual[i]);
	free(e->virtual);
	e->virtual = NULL;
	e->nvirtual = 0;
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
			free_virtual(e);
			free(e->tv.schema_name);
			free(e->tv.table_name);
			free(e);
			e = next;
		}
	}
	pt_pq_close(s->catalog);
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

/* Is b the name a, or a qualified by a schema ("public.mood" for "mood")? */
static bool
same_or_qualified(const char *a, size_t alen, const char *b)
{
	size_t		blen = strlen(b);

	if (alen == blen)
		return memcmp(a, b, alen) == 0;
	return blen > alen + 1 && b[blen - alen - 1] == '.' && memcmp(b + blen - alen, a, alen) == 0;
}

/*
 * The same type: same OID when both are known, and the same name with
 * typmod. A version defined by a DDL message names types as the event
 * trigger saw them (search_path = pg_catalog: "public.mood"), wal2json as
 * the walsender does ("mood"); with the OIDs equal, that is the same type.
 */
static bool
same_type(const pt_table_version *tv, int i, const pt_w2j_column *c)
{
	bool		oids = c->typeoid != 0 && tv->typeoids[i] != 0;

	if (oids && c->typeoid != tv->typeoids[i])
		return false;
	if (c->type.ptr == NULL || strcmp(tv->types[i], c->type.ptr) == 0)
		return true;
	return oids && (same_or_qualified(c->type.ptr, c->type.len, tv->types[i]) ||
					same_or_qualified(tv->types[i], strlen(tv->types[i]), c->type.ptr));
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
 * all of them, in order; for an UPDATE a subsequence (the rest unchanged). */
static bool
fits(const pt_table_version *tv, const pt_w2j_change *ch)
{
	const pt_w2j_columns *cols = &ch->columns;
	int			at = 0;

	if (tv->version == 0 || !same_pk(tv, &ch->pk))
		return false;
	if (ch->action == 'D' || ch->action == 'T')
		return true;
	if (ch->action == 'I' && cols->count != tv->nevent)
		return false;
	for (int i = 0; i < cols->count; i++)
	{
		int			k = column_index(tv, &cols->items[i], at);

		if (k < at || !same_type(tv, k, &cols->items[i]))
			return false;
		at = k + 1;
	}
	return true;
}

static PGconn *
catalog(pt_schemas *s, pt_err *err)
{
	if (s->catalog == NULL)
		s->catalog = pt_pq_connect(s->source_dsn, "pgtrail-capture catalog", err);
	return s->catalog;
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
	res = pt_pq_exec_params(conn, CATALOG_COLUMNS_SQL, 2, params, PGRES_TUPLES_OK, PT_PQ_ANY, 5, err);
	if (res == NULL)
		return false;
	for (int i = 0; i < PQntuples(res); i++)
	{
		add_column(tv, PQgetvalue(res, i, 0), strlen(PQgetvalue(res, i, 0)), PQgetvalue(res, i, 1),
				   (uint32_t) strtoul(PQgetvalue(res, i, 2), NULL, 10), strcmp(PQgetvalue(res, i, 3), "t") == 0);
		tv->attnums[i] = atoi(PQgetvalue(res, i, 4));
	}
	index_event_names(tv);
	PQclear(res);
	if (with_pk)
	{
		res = pt_pq_exec_params(conn, CATALOG_PK_SQL, 2, params, PGRES_TUPLES_OK, PT_PQ_ANY, 1, err);
		if (res == NULL)
			return false;
		for (int i = 0; i < PQntuples(res); i++)
			add_pk(tv, PQgetvalue(res, i, 0), strlen(PQgetvalue(res, i, 0)));
		PQclear(res);
	}
	return true;
}

/* Is name one of the table's virtual generated columns, as last read? */
static bool
is_virtual(const entry *e, const char *name, size_t len)
{
	for (int i = 0; i < e->nvirtual; i++)
		if (strlen(e->virtual[i]) == len && memcmp(e->virtual[i], name, len) == 0)
			return true;
	return false;
}

/*
 * The new column set. An INSERT sent all columns: they are it. A table seen
 * for the first time through an UPDATE, DELETE or TRUNCATE: the catalog's
 * columns, if the sent ones fit them (the unsent ones are then unchanged
 * TOAST), else what was sent. A known table's UPDATE that does not fit:
 * what was sent, then the version's columns that were not. ch is the change
 * without virtual columns, full the change as sent (virtual ones included,
 * so the version lists them in their place).
 */
static bool
open_version(pt_schemas *s, entry *e, const pt_w2j_change *ch, const pt_w2j_change *full, pt_err *err)
{
	pt_table_version *tv = &e->tv;
	pt_table_version old = *tv;
	const pt_w2j_columns *cols = full->action == 'D' ? &full->identity : &full->columns;
	bool		seeded = false;

	tv->names = tv->event_names = NULL;
	tv->types = NULL;
	tv->typeoids = NULL;
	tv->attnums = NULL;
	tv->is_virtual = NULL;
	tv->pk = NULL;
	tv->ncols = tv->npk = tv->nvirtual = tv->nevent = 0;
	if (old.version == 0 && ch->action != 'I')
	{
		if (!columns_from_catalog(s, tv, !ch->pk.present, err))
			return false;
		tv->version = 1;
		for (int i = 0; ch->pk.present && i < ch->pk.count; i++)
			add_pk(tv, ch->pk.items[i].name.ptr, ch->pk.items[i].name.len);
		seeded = tv->ncols > 0 && fits(tv, ch);
		if (!seeded)
			clear_columns(tv);
	}
	if (!seeded)
	{
		for (int i = 0; cols->present && i < cols->count; i++)
			add_column(tv, cols->items[i].name.ptr, cols->items[i].name.len, cols->items[i].type.ptr,
					   cols->items[i].typeoid, is_virtual(e, cols->items[i].name.ptr, cols->items[i].name.len));
		/* (a virtual column still there was sent, as null: one not sent is gone) */
		for (int i = 0; ch->action == 'U' && i < old.ncols; i++)
			if (!old.is_virtual[i] &&
				column_index(tv, &(pt_w2j_column) {.name = {old.names[i].ptr, old.names[i].len}}, 0) < 0)
				add_column(tv, old.names[i].ptr, old.names[i].len, old.types[i], old.typeoids[i], false);
		index_event_names(tv);
		if (ch->pk.present)
			for (int i = 0; i < ch->pk.count; i++)
				add_pk(tv, ch->pk.items[i].name.ptr, ch->pk.items[i].name.len);
		else
			for (int i = 0; i < old.npk; i++)
				add_pk(tv, old.pk[i], strlen(old.pk[i]));
	}
	tv->version = old.version + 1;
	clear_columns(&old);
	return true;
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

/* What the catalog says about the table now; NULL when it is gone. */
static const char *
details(pt_schemas *s, const pt_table_version *tv, pt_err *err)
{
	const char *params[2] = {tv->schema_name, tv->table_name};
	PGconn	   *conn = catalog(s, err);
	PGresult   *res;
	const char *out = NULL;

	if (conn == NULL)
		return NULL;
	res = pt_pq_exec_params(conn, DETAILS_SQL, 2, params, PGRES_TUPLES_OK, PT_PQ_ANY, 1, err);
	if (res == NULL)
		return NULL;
	pt_buf_reset(&s->details);
	if (PQntuples(res) == 1)
	{
		pt_buf_puts(&s->details, PQgetvalue(res, 0, 0));
		out = s->details.data;
	}
	PQclear(res);
	return out;
}

/*
 * Without a primary key, REPLICA IDENTITY DEFAULT or NOTHING means
 * PostgreSQL decodes no UPDATE or DELETE of the table at all (wal2json only
 * logs a server WARNING). Say so once, when the table's version opens;
 * what PostgreSQL does send (inserts, truncates) is still captured.
 */
static void
warn_without_identity(pt_schemas *s, const pt_table_version *tv, const char *details)
{
	pt_buf		ident = PT_BUF_INIT;
	bool		found = false;
	pt_json_kind kind;
	pt_err		err;

	if (tv->npk > 0 || details == NULL ||
		!pt_json_object_get(details, strlen(details), "replica_identity", &found, &kind, &ident, &err))
		found = false;
	if (found && ident.data && (strcmp(ident.data, "d") == 0 || strcmp(ident.data, "n") == 0))
	{
		pt_log_warning(s->log, "table \"%s\".\"%s\" has no primary key or replica identity: PostgreSQL "
					   "does not decode its UPDATEs and DELETEs, only its INSERTs and TRUNCATEs are captured",
					   tv->schema_name, tv->table_name);
		pt_log_warning(s->log, "hint: add a primary key, or ALTER TABLE \"%s\".\"%s\" REPLICA IDENTITY FULL",
					   tv->schema_name, tv->table_name);
	}
	pt_buf_free(&ident);
}

/* The table's virtual generated columns, as the catalog says now. */
static bool
read_virtual(pt_schemas *s, entry *e, pt_err *err)
{
	const char *params[2] = {e->tv.schema_name, e->tv.table_name};
	PGconn	   *conn = catalog(s, err);
	PGresult   *res;

	if (conn == NULL)
		return false;
	res = pt_pq_exec_params(conn, CATALOG_VIRTUAL_SQL, 2, params, PGRES_TUPLES_OK, PT_PQ_ANY, 1, err);
	if (res == NULL)
		return false;
	free_virtual(e);
	e->virtual = pt_calloc((size_t) PQntuples(res) + 1, sizeof(char *));
	for (int i = 0; i < PQntuples(res); i++)
		e->virtual[e->nvirtual++] = pt_strdup(PQgetvalue(res, i, 0));
	PQclear(res);
	e->virtual_read = true;
	return true;
}

/*
 * in without the virtual columns, into *out (buffer *buf of *cap items).
 * False when in disagrees with what was read of the catalog: a "virtual"
 * column with a value, or (all set: an INSERT's or UPDATE's new row, where
 * wal2json sends every virtual column, as null) one missing.
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
	agrees = strip_list(e, &ch->columns, ch->action == 'I' || ch->action == 'U', &st->ch.columns,
						&st->columns, &st->columns_cap);
	return strip_list(e, &ch->identity, false, &st->ch.identity, &st->identity, &st->identity_cap) && agrees;
}

/* Has the catalog's set of virtual columns changed since the version opened? */
static bool
same_virtual(const entry *e)
{
	int			k = 0;

	if (!e->virtual_read || e->tv.nvirtual != e->nvirtual)
		return e->tv.nvirtual == e->nvirtual;
	for (int i = 0; i < e->tv.ncols; i++)
		if (e->tv.is_virtual[i] && strcmp(e->tv.names[i].ptr, e->virtual[k++]) != 0)
			return false;
	return true;
}

/*
 * PostgreSQL 18+: *ch without the table's virtual columns, and whether it
 * fits the version. The catalog is read on first sight of the table, and
 * again when the change disagrees with it or does not fit (a virtual column
 * added or dropped, or made an ordinary one).
 */
static bool
without_virtual(pt_schemas *s, entry *e, const pt_w2j_change **ch, bool *fit, pt_err *err)
{
	const pt_w2j_change *full = *ch;
	bool		agrees = true;

	if (!e->virtual_read && !read_virtual(s, e, err))
		return false;
	if (e->nvirtual > 0 || e->tv.nvirtual > 0)
	{
		agrees = strip(s, e, full);
		*ch = &s->stripped.ch;
	}
	*fit = agrees && fits(&e->tv, *ch);
	if (*fit)
		return true;
	if (!read_virtual(s, e, err))
		return false;
	strip(s, e, full);
	*ch = &s->stripped.ch;
	*fit = fits(&e->tv, *ch);
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
	if (s->caps.virtual_generated)
	{
		if (!without_virtual(s, e, chp, &fit, err))
			return false;
	}
	else
		fit = fits(&e->tv, *chp);
	if (fit && same_virtual(e))
		return true;
	if (!open_version(s, e, *chp, full, err))
		return false;
	*opened = true;
	columns_json(s, &e->tv);
	*cols = s->columns_json.data;
	pt_err_clear(err);
	*det = details(s, &e->tv, err);
	if (*det == NULL && err->kind != PT_ERR_NONE)
		return false;
	pt_log_info(s->log, "table \"%s\".\"%s\": column set version %d (%d columns)",
				e->tv.schema_name, e->tv.table_name, e->tv.version, e->tv.ncols);
	warn_without_identity(s, &e->tv, *det);
	return true;
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

bool
pt_schemas_define(pt_schemas *s, const char *schema, const char *table, const pt_text *names,
				  const char *const *types, const uint32_t *typeoids, const bool *virtuals, int ncols,
				  const char *const *pk, int npk, const pt_table_version **tvp)
{
	entry	   *e = find(s, schema, strlen(schema), table, strlen(table));

	if (e == NULL)
		e = insert(s, schema, strlen(schema), table, strlen(table));
	clear_columns(&e->tv);
	for (int i = 0; i < ncols; i++)
		add_column(&e->tv, names[i].ptr, names[i].len, types[i], typeoids[i], virtuals[i]);
	index_event_names(&e->tv);
	for (int i = 0; i < npk; i++)
		add_pk(&e->tv, pk[i], strlen(pk[i]));
	e->virtual_read = false;	/* the catalog is asked again at the next change */
	e->tv.version++;
	*tvp = &e->tv;
	pt_log_info(s->log, "table \"%s\".\"%s\": column set version %d (%d columns), from DDL",
				e->tv.schema_name, e->tv.table_name, e->tv.version, e->tv.ncols);
	return true;
}
