/*
 * capture/dbz_registry.c — table versions for Debezium's records (see
 * dbz_registry.h): an open-addressing hash of (schema, table, version).
 */
#include "capture/dbz_registry.h"

#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/jsonobj.h"
#include "core/mem.h"
#include "core/pq.h"

typedef struct entry
{
	char	   *schema_name;
	char	   *table_name;
	int			version;
	char	   *columns;
	char	  **pk;
	int			npk;
	char	   *details;
	bool		compiled;
	pt_dbz_table table;
} entry;

struct pt_dbz_registry
{
	const char *prefix;
	const pt_dbz_modes *modes;
	pt_dbz_catalog *catalog;
	entry	  **slots;			/* NULL: empty */
	size_t		cap;			/* a power of two */
	size_t		n;
};

static uint64_t
hash_key(const char *schema, size_t slen, const char *table, size_t tlen, int version)
{
	uint64_t	h = 1469598103934665603ULL;

	for (size_t i = 0; i < slen; i++)
		h = (h ^ (unsigned char) schema[i]) * 1099511628211ULL;
	h = (h ^ 0xff) * 1099511628211ULL;
	for (size_t i = 0; i < tlen; i++)
		h = (h ^ (unsigned char) table[i]) * 1099511628211ULL;
	return (h ^ (uint64_t) (uint32_t) version) * 1099511628211ULL;
}

static bool
matches(const entry *e, const char *schema, size_t slen, const char *table, size_t tlen, int version)
{
	return e->version == version && strlen(e->schema_name) == slen && memcmp(e->schema_name, schema, slen) == 0 &&
		strlen(e->table_name) == tlen && memcmp(e->table_name, table, tlen) == 0;
}

/* The slot of the key: its entry, or the empty slot where it would go. */
static entry **
slot(pt_dbz_registry *r, const char *schema, size_t slen, const char *table, size_t tlen, int version)
{
	size_t		i = hash_key(schema, slen, table, tlen, version) & (r->cap - 1);

	while (r->slots[i] != NULL && !matches(r->slots[i], schema, slen, table, tlen, version))
		i = (i + 1) & (r->cap - 1);
	return &r->slots[i];
}

static void
grow(pt_dbz_registry *r)
{
	entry	  **old = r->slots;
	size_t		old_cap = r->cap;

	r->cap = old_cap ? old_cap * 2 : 64;
	r->slots = pt_calloc(r->cap, sizeof(entry *));
	for (size_t i = 0; i < old_cap; i++)
		if (old[i] != NULL)
		{
			entry	   *e = old[i];

			*slot(r, e->schema_name, strlen(e->schema_name), e->table_name, strlen(e->table_name), e->version) = e;
		}
	free(old);
}

pt_dbz_registry *
pt_dbz_registry_new(const char *prefix, const pt_dbz_modes *m, pt_dbz_catalog *catalog)
{
	pt_dbz_registry *r = pt_calloc(1, sizeof(*r));

	r->prefix = prefix;
	r->modes = m;
	r->catalog = catalog;
	grow(r);
	return r;
}

static void
free_entry(entry *e)
{
	free(e->schema_name);
	free(e->table_name);
	free(e->columns);
	for (int i = 0; i < e->npk; i++)
		free(e->pk[i]);
	free(e->pk);
	free(e->details);
	if (e->compiled)
		pt_dbz_table_free(&e->table);
	free(e);
}

void
pt_dbz_registry_free(pt_dbz_registry *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->cap; i++)
		if (r->slots[i] != NULL)
			free_entry(r->slots[i]);
	free(r->slots);
	free(r);
}

void
pt_dbz_registry_add(pt_dbz_registry *r, const pt_dbz_version_in *in)
{
	entry	   *e = pt_calloc(1, sizeof(*e));
	entry	  **s;

	e->schema_name = pt_strdup(in->schema_name);
	e->table_name = pt_strdup(in->table_name);
	e->version = in->version;
	e->columns = pt_strdup(in->columns);
	e->details = in->details ? pt_strdup(in->details) : NULL;
	e->npk = in->npk;
	e->pk = pt_calloc((size_t) (in->npk > 0 ? in->npk : 1), sizeof(char *));
	for (int i = 0; i < in->npk; i++)
		e->pk[i] = pt_strdup(in->primary_key[i]);
	if ((r->n + 1) * 2 > r->cap)
		grow(r);
	s = slot(r, e->schema_name, strlen(e->schema_name), e->table_name, strlen(e->table_name), e->version);
	if (*s != NULL)
		free_entry(*s);
	else
		r->n++;
	*s = e;
}

/* The primary key array's JSON (array_to_json) as C strings in *pk. */
static bool
pk_from_json(const char *json, char ***pk, int *npk, pt_err *err)
{
	pt_text    *items = NULL;
	int			cap = 0;
	pt_buf		name = PT_BUF_INIT;
	bool		ok = pt_json_array_items(json, strlen(json), &items, &cap, npk, err);

	*pk = pt_calloc((size_t) (*npk > 0 ? *npk : 1), sizeof(char *));
	for (int i = 0; ok && i < *npk; i++)
	{
		pt_buf_reset(&name);
		ok = items[i].len >= 2 && pt_json_unescape(items[i].ptr + 1, items[i].len - 2, &name);
		(*pk)[i] = pt_strdup(ok ? name.data : "");
	}
	if (!ok)
		pt_err_set(err, PT_ERR_INTEGRITY, "a malformed primary_key in the schemas table");
	free(items);
	pt_buf_free(&name);
	return ok;
}

static bool
add_row(pt_dbz_registry *r, PGresult *res, int row, pt_err *err)
{
	char	  **pk;
	int			npk = 0;
	pt_dbz_version_in in;

	if (!pk_from_json(PQgetvalue(res, row, 4), &pk, &npk, err))
	{
		free(pk);
		return false;
	}
	in = (pt_dbz_version_in) {PQgetvalue(res, row, 0), PQgetvalue(res, row, 1), atoi(PQgetvalue(res, row, 2)),
		PQgetvalue(res, row, 3), (const char *const *) pk, npk,
	PQgetisnull(res, row, 5) ? NULL : PQgetvalue(res, row, 5)};
	pt_dbz_registry_add(r, &in);
	for (int i = 0; i < npk; i++)
		free(pk[i]);
	free(pk);
	return true;
}

bool
pt_dbz_registry_load(pt_dbz_registry *r, PGconn *conn, const char *schema, pt_err *err)
{
	pt_buf		sql = PT_BUF_INIT;
	PGresult   *res = NULL;
	bool		ok;

	ok = pt_pq_sql_with_ident(conn, "SELECT schema_name, table_name, version, columns::text,"
							  " array_to_json(primary_key)::text, details::text FROM %1$s.schemas", schema, &sql, err);
	if (ok)
		ok = (res = pt_pq_exec(conn, sql.data, PGRES_TUPLES_OK, PT_PQ_ANY, 6, err)) != NULL;
	for (int i = 0; ok && i < PQntuples(res); i++)
		ok = add_row(r, res, i, err);
	PQclear(res);
	pt_buf_free(&sql);
	return ok;
}

bool
pt_dbz_registry_get(pt_dbz_registry *r, const pt_event *ev, const pt_dbz_table **tab, bool *first, pt_err *err)
{
	entry	   *e;
	pt_dbz_version_in in;

	*tab = NULL;
	*first = false;
	if (ev->table_name.ptr == NULL || ev->schema_name.ptr == NULL || !ev->has_schema_version)
		return true;
	e = *slot(r, ev->schema_name.ptr, ev->schema_name.len, ev->table_name.ptr, ev->table_name.len,
			  ev->schema_version);
	if (e == NULL)
		return true;
	if (!e->compiled)
	{
		in = (pt_dbz_version_in) {e->schema_name, e->table_name, e->version, e->columns,
		(const char *const *) e->pk, e->npk, e->details};
		if (!pt_dbz_table_compile(&e->table, &in, r->prefix, r->modes,
								  r->catalog ? pt_dbz_catalog_resolve : NULL, r->catalog, err))
			return false;
		e->compiled = *first = true;
	}
	*tab = &e->table;
	return true;
}
