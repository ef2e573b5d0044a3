/*
 * capture/types.c — column types by OID from the source's catalog (see
 * types.h).
 *
 * The catalog is read inside a transaction of its own with
 * search_path = pg_catalog set locally, so the catalog connection keeps its
 * session settings for everything else it reads (capture/schema.c).
 */
#include "capture/types.h"

#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "core/pq.h"

#define NBUCKETS 256

typedef struct typ
{
	uint32_t	oid;
	bool		builtin;		/* in pg_catalog (an array: its element type) */
	int			n;
	int32_t    *typmods;
	char	  **names;
	struct typ *next;
} typ;

struct pt_types
{
	typ		   *buckets[NBUCKETS];
};

/* The typmods of the type's columns, and -1; named as a version records them. */
#define KNOWN_SQL \
	"SELECT m, format_type($1::oid, m), (SELECT coalesce(e.typnamespace, t.typnamespace) = 'pg_catalog'::regnamespace " \
	"  FROM pg_type t LEFT JOIN pg_type e ON e.oid = t.typelem AND t.typcategory = 'A' WHERE t.oid = $1::oid) " \
	"FROM (SELECT -1 AS m UNION " \
	"SELECT atttypmod FROM pg_attribute WHERE atttypid = $1::oid AND attnum > 0) c ORDER BY m"

#define ONE_SQL "SELECT $2::int, format_type($1::oid, $2::int), NULL::bool"

pt_types *
pt_types_new(void)
{
	return pt_calloc(1, sizeof(pt_types));
}

static void
clear(typ *e)
{
	for (int i = 0; i < e->n; i++)
		free(e->names[i]);
	free(e->names);
	free(e->typmods);
	e->names = NULL;
	e->typmods = NULL;
	e->n = 0;
}

void
pt_types_free(pt_types *t)
{
	if (t == NULL)
		return;
	for (int b = 0; b < NBUCKETS; b++)
		for (typ *e = t->buckets[b], *next; e; e = next)
		{
			next = e->next;
			clear(e);
			free(e);
		}
	free(t);
}

static typ *
entry(pt_types *t, uint32_t oid)
{
	typ		   *e;

	for (e = t->buckets[oid % NBUCKETS]; e; e = e->next)
		if (e->oid == oid)
			return e;
	e = pt_calloc(1, sizeof(*e));
	e->oid = oid;
	e->next = t->buckets[oid % NBUCKETS];
	t->buckets[oid % NBUCKETS] = e;
	return e;
}

static void
add(typ *e, int32_t typmod, const char *name)
{
	e->typmods = pt_realloc(e->typmods, sizeof(int32_t) * (size_t) (e->n + 1));
	e->names = pt_realloc(e->names, sizeof(char *) * (size_t) (e->n + 1));
	e->typmods[e->n] = typmod;
	e->names[e->n++] = pt_strdup(name);
}

/* Run sql (rows of typmod, name, builtin) with search_path = pg_catalog; add the rows to e. */
static bool
read_names(PGconn *conn, typ *e, const char *sql, int nparams, const char *const *params, pt_err *err)
{
	PGresult   *res = NULL;
	pt_err		ignored;

	if (!pt_pq_command(conn, "BEGIN", err))
		return false;
	if (pt_pq_command(conn, "SET LOCAL search_path = pg_catalog", err))
		res = pt_pq_exec_params(conn, sql, nparams, params, PGRES_TUPLES_OK, PT_PQ_ANY, 3, err);
	if (res == NULL)
	{
		pt_pq_command(conn, "ROLLBACK", &ignored);
		return false;
	}
	for (int i = 0; i < PQntuples(res); i++)
	{
		if (!PQgetisnull(res, i, 1))
			add(e, (int32_t) strtol(PQgetvalue(res, i, 0), NULL, 10), PQgetvalue(res, i, 1));
		if (!PQgetisnull(res, i, 2))
			e->builtin = strcmp(PQgetvalue(res, i, 2), "t") == 0;
	}
	PQclear(res);
	return pt_pq_command(conn, "COMMIT", err);
}

/* e's typmods and names, read anew. */
static bool
reload(PGconn *conn, typ *e, pt_err *err)
{
	char		oid[16];
	const char *params[1] = {oid};

	snprintf(oid, sizeof(oid), "%u", e->oid);
	clear(e);
	return read_names(conn, e, KNOWN_SQL, 1, params, err);
}

bool
pt_types_name(pt_types *t, PGconn *conn, uint32_t oid, int32_t typmod, const char **name, pt_err *err)
{
	typ		   *e = entry(t, oid);
	char		o[16],
				m[16];
	const char *params[2] = {o, m};

	for (int i = 0; i < e->n; i++)
		if (e->typmods[i] == typmod)
			return (*name = e->names[i]) != NULL;
	snprintf(o, sizeof(o), "%u", oid);
	snprintf(m, sizeof(m), "%d", (int) typmod);
	if (!read_names(conn, e, ONE_SQL, 2, params, err))
		return false;
	if (e->n == 0 || e->typmods[e->n - 1] != typmod)
		return pt_err_set(err, PT_ERR_RUNTIME, "the source's catalog has no type with OID %u", oid);
	*name = e->names[e->n - 1];
	return true;
}

/*
 * Does the recorded name (search_path = pg_catalog) print as printed in
 * another search_path, where a qualifier may be left out, and after
 * wal2json dropped a leading quote ("char" -> char, "Mood" -> Mood)?
 */
static bool
prints_as(const char *name, const char *printed)
{
	size_t		nlen = strlen(name),
				plen = strlen(printed);
	const char *tail;

	if (nlen < plen)
		return false;
	tail = name + (nlen - plen);
	if ((nlen == plen || tail[-1] == '.') && strcmp(tail, printed) == 0)
		return true;
	/* the quotes wal2json dropped: name ends in '"' + printed + '"' */
	if (nlen < plen + 2 || name[nlen - 1] != '"' || tail[-2] != '"' || strncmp(tail - 1, printed, plen) != 0)
		return false;
	return nlen == plen + 2 || tail[-3] == '.';
}

static int
find(const typ *e, const char *printed)
{
	for (int i = 0; i < e->n; i++)
		if (prints_as(e->names[i], printed))
			return i;
	return -1;
}

bool
pt_types_resolve(pt_types *t, PGconn *conn, uint32_t oid, const char *printed, int32_t *typmod,
				 const char **name, bool *found, pt_err *err)
{
	typ		   *e = entry(t, oid);
	int			i = find(e, printed);

	if (i < 0)
	{
		if (!reload(conn, e, err))
			return false;
		i = find(e, printed);
	}
	*found = i >= 0;
	if (*found)
	{
		*typmod = e->typmods[i];
		*name = e->names[i];
	}
	else if (e->builtin && printed[0] != '"')
	{
		/* pg_catalog's names read the same from every search_path */
		*found = true;
		*typmod = PT_TYPMOD_UNKNOWN;
		*name = printed;
	}
	return true;
}
