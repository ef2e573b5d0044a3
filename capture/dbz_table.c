/*
 * capture/dbz_table.c — a table version compiled for Debezium's records
 * (see dbz_table.h).
 */
#include "capture/dbz_table.h"

#include <stdlib.h>
#include <string.h>

#include "capture/dbz_default.h"
#include "capture/dbz_schema.h"
#include "capture/dbz_value.h"
#include "capture/kafka_message.h"
#include "core/jsonobj.h"
#include "core/mem.h"

/* What the catalog details say of one column. */
typedef struct column_details
{
	bool		not_null;
	char	   *default_expr;	/* NULL: none */
} column_details;

static char *
dup_text(pt_text t)
{
	char	   *s = pt_malloc(t.len + 1);

	memcpy(s, t.ptr, t.len);
	s[t.len] = '\0';
	return s;
}

static bool
text_eq(pt_text t, const char *s, size_t len)
{
	return t.ptr != NULL && t.len == len && memcmp(t.ptr, s, len) == 0;
}

/* The details' entry for column name (all false/NULL when there is none). */
static bool
find_details(const char *details, const char *name, size_t name_len, column_details *out, pt_err *err)
{
	pt_jsonobj	o,
				c;
	pt_text    *items = NULL;
	int			cap = 0,
				n = 0,
				k;
	bool		ok = true;

	memset(out, 0, sizeof(*out));
	if (details == NULL)
		return true;
	pt_jsonobj_init(&o);
	pt_jsonobj_init(&c);
	if (!pt_jsonobj_parse(&o, details, strlen(details), err))
		ok = false;
	else if ((k = pt_jsonobj_find(&o, "columns", 7)) >= 0 && o.values[k].ptr != NULL &&
			 !pt_json_array_items(o.values[k].ptr, o.values[k].len, &items, &cap, &n, err))
		ok = false;
	for (int i = 0; ok && i < n; i++)
	{
		int			nn,
					d;

		if (!(ok = pt_jsonobj_parse(&c, items[i].ptr, items[i].len, err)))
			break;
		if ((k = pt_jsonobj_find(&c, "name", 4)) < 0 || !text_eq(c.values[k], name, name_len))
			continue;
		nn = pt_jsonobj_find(&c, "not_null", 8);
		out->not_null = nn >= 0 && text_eq(c.values[nn], "true", 4);
		d = pt_jsonobj_find(&c, "default", 7);
		if (d >= 0 && c.values[d].ptr != NULL)
			out->default_expr = dup_text(c.values[d]);
		break;
	}
	free(items);
	pt_jsonobj_free(&o);
	pt_jsonobj_free(&c);
	return ok;
}

static bool
resolve_type(uint32_t oid, const char *type_name, pt_dbz_resolve_fn resolve, void *ctx, pt_dbz_type *t,
			 pt_err *err)
{
	if (pt_dbz_type_builtin(oid, type_name, t))
		return true;
	memset(t, 0, sizeof(*t));	/* PT_DBZ_OMITTED unless resolved */
	return resolve == NULL || resolve(ctx, oid, t, err);
}

static void
note_omitted(pt_dbz_table *tab, pt_text name)
{
	size_t		old = tab->omitted ? strlen(tab->omitted) : 0;

	tab->omitted = pt_realloc(tab->omitted, old + name.len + 3);
	if (old > 0)
		memcpy(tab->omitted + old, ", ", 2), old += 2;
	memcpy(tab->omitted + old, name.ptr, name.len);
	tab->omitted[old + name.len] = '\0';
}

/* One column of the version's columns JSON, added to tab unless Debezium leaves it out. */
static bool
add_column(pt_dbz_table *tab, const pt_dbz_version_in *in, pt_jsonobj *c, const pt_dbz_modes *m,
		   pt_dbz_resolve_fn resolve, void *ctx, pt_dbz_scratch *sc, pt_err *err)
{
	int			kn = pt_jsonobj_find(c, "name", 4),
				kt = pt_jsonobj_find(c, "type", 4),
				ko = pt_jsonobj_find(c, "typeoid", 7);
	char	   *type_name;
	pt_dbz_column col = {0};
	column_details det;
	pt_buf		def = PT_BUF_INIT;
	bool		ok;

	if (kn < 0 || kt < 0 || ko < 0 || c->values[kn].ptr == NULL || c->values[ko].ptr == NULL)
		return pt_err_set(err, PT_ERR_INTEGRITY, "schema version %d of %s.%s: a column without name, type or typeoid",
						  in->version, in->schema_name, in->table_name);
	type_name = c->values[kt].ptr ? dup_text(c->values[kt]) : NULL;
	ok = resolve_type((uint32_t) strtoul(c->values[ko].ptr, NULL, 10), type_name, resolve, ctx, &col.type, err);
	free(type_name);
	if (!ok)
		return false;
	if (col.type.kind == PT_DBZ_OMITTED)
	{
		note_omitted(tab, c->values[kn]);
		return true;
	}
	col.name = dup_text(c->values[kn]);
	col.name_len = c->values[kn].len;
	if (!find_details(in->details, col.name, col.name_len, &det, err))
	{
		free(col.name);
		pt_dbz_type_free(&col.type);
		return false;
	}
	col.optional = !det.not_null;
	pt_dbz_put_string(&def, col.name, col.name_len);
	pt_buf_putc(&def, ':');
	col.member = pt_strdup(def.data);
	col.member_len = def.len;
	pt_buf_reset(&def);
	if (pt_dbz_default_json(det.default_expr, (uint32_t) strtoul(c->values[ko].ptr, NULL, 10), &col.type, m, sc, &def))
		col.default_json = pt_strdup(def.data);
	free(det.default_expr);
	pt_buf_free(&def);
	tab->cols = pt_realloc(tab->cols, (size_t) (tab->ncols + 1) * sizeof(pt_dbz_column));
	tab->cols[tab->ncols++] = col;
	return true;
}

static bool
add_columns(pt_dbz_table *tab, const pt_dbz_version_in *in, const pt_dbz_modes *m, pt_dbz_resolve_fn resolve,
			void *ctx, pt_err *err)
{
	pt_text    *items = NULL;
	int			cap = 0,
				n = 0;
	pt_jsonobj	c;
	pt_dbz_scratch sc = {0};
	bool		ok;

	pt_jsonobj_init(&c);
	ok = pt_json_array_items(in->columns, strlen(in->columns), &items, &cap, &n, err);
	for (int i = 0; ok && i < n; i++)
		ok = pt_jsonobj_parse(&c, items[i].ptr, items[i].len, err) &&
			add_column(tab, in, &c, m, resolve, ctx, &sc, err);
	free(items);
	pt_jsonobj_free(&c);
	pt_dbz_scratch_free(&sc);
	return ok;
}

/* The key columns, by name, in primary key order (none when one is left out). */
static void
find_key(pt_dbz_table *tab, const pt_dbz_version_in *in)
{
	tab->key = pt_calloc((size_t) (in->npk > 0 ? in->npk : 1), sizeof(int));
	for (int k = 0; k < in->npk; k++)
	{
		int			found = -1;

		for (int i = 0; i < tab->ncols && found < 0; i++)
			if (strcmp(tab->cols[i].name, in->primary_key[k]) == 0)
				found = i;
		if (found < 0)
		{
			tab->nkey = 0;
			return;
		}
		tab->key[tab->nkey++] = found;
	}
}

static void
put_name(pt_buf *out, const pt_dbz_table *tab, const char *suffix)
{
	pt_buf		name = PT_BUF_INIT;

	pt_buf_append(&name, tab->name.data, tab->name.len);
	pt_buf_puts(&name, suffix);
	pt_dbz_put_string(out, name.data, name.len);
	pt_buf_free(&name);
}

static void
put_fields(pt_buf *out, const pt_dbz_table *tab, const pt_dbz_modes *m, const int *which, int n)
{
	for (int i = 0; i < n; i++)
	{
		const pt_dbz_column *c = &tab->cols[which ? which[i] : i];

		if (i > 0)
			pt_buf_putc(out, ',');
		pt_dbz_put_field_schema(out, &c->type, m, c->optional, c->default_json, c->name, c->name_len);
	}
}

static void
put_row_field(pt_buf *out, const pt_dbz_table *tab, const pt_dbz_modes *m, const char *field)
{
	pt_buf_puts(out, "{\"type\":\"struct\",\"fields\":[");
	put_fields(out, tab, m, NULL, tab->ncols);
	pt_buf_puts(out, "],\"optional\":true,\"name\":");
	put_name(out, tab, ".Value");
	pt_buf_puts(out, ",\"field\":\"");
	pt_buf_puts(out, field);
	pt_buf_puts(out, "\"}");
}

static void
build_schemas(pt_dbz_table *tab, const pt_dbz_modes *m)
{
	pt_buf	   *e = &tab->envelope_schema;

	if (tab->nkey > 0)
	{
		pt_buf_puts(&tab->key_schema, "{\"type\":\"struct\",\"fields\":[");
		put_fields(&tab->key_schema, tab, m, tab->key, tab->nkey);
		pt_buf_puts(&tab->key_schema, "],\"optional\":false,\"name\":");
		put_name(&tab->key_schema, tab, ".Key");
		pt_buf_putc(&tab->key_schema, '}');
	}
	pt_buf_puts(e, "{\"type\":\"struct\",\"fields\":[");
	put_row_field(e, tab, m, "before");
	pt_buf_putc(e, ',');
	put_row_field(e, tab, m, "after");
	pt_buf_puts(e, "," PT_DBZ_SOURCE_FIELD_SCHEMA "," PT_DBZ_TRANSACTION_FIELD_SCHEMA
				",{\"type\":\"string\",\"optional\":false,\"field\":\"op\"}"
				",{\"type\":\"int64\",\"optional\":true,\"field\":\"ts_ms\"}"
				",{\"type\":\"int64\",\"optional\":true,\"field\":\"ts_us\"}"
				",{\"type\":\"int64\",\"optional\":true,\"field\":\"ts_ns\"}],\"optional\":false,\"name\":");
	put_name(e, tab, ".Envelope");
	pt_buf_puts(e, ",\"version\":2}");
}

bool
pt_dbz_table_compile(pt_dbz_table *tab, const pt_dbz_version_in *in, const char *prefix,
					 const pt_dbz_modes *m, pt_dbz_resolve_fn resolve, void *ctx, pt_err *err)
{
	memset(tab, 0, sizeof(*tab));
	tab->schema_name = pt_strdup(in->schema_name);
	tab->table_name = pt_strdup(in->table_name);
	tab->version = in->version;
	pt_buf_puts(&tab->name, prefix);
	pt_buf_putc(&tab->name, '.');
	pt_kafka_put_topic_part(&tab->name, pt_text_c(in->schema_name));
	pt_buf_putc(&tab->name, '.');
	pt_kafka_put_topic_part(&tab->name, pt_text_c(in->table_name));
	if (!add_columns(tab, in, m, resolve, ctx, err))
	{
		pt_dbz_table_free(tab);
		return false;
	}
	find_key(tab, in);
	build_schemas(tab, m);
	return true;
}

void
pt_dbz_table_free(pt_dbz_table *tab)
{
	for (int i = 0; i < tab->ncols; i++)
	{
		free(tab->cols[i].name);
		free(tab->cols[i].member);
		free(tab->cols[i].default_json);
		pt_dbz_type_free(&tab->cols[i].type);
	}
	free(tab->cols);
	free(tab->key);
	free(tab->omitted);
	free(tab->schema_name);
	free(tab->table_name);
	pt_buf_free(&tab->name);
	pt_buf_free(&tab->key_schema);
	pt_buf_free(&tab->envelope_schema);
	memset(tab, 0, sizeof(*tab));
}
