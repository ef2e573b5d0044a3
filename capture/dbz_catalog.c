/*
 * capture/dbz_catalog.c — user types from the source's catalog (see
 * dbz_catalog.h). One query per type, at most once per table version:
 * versions are compiled when first used, never per event.
 */
#include "capture/dbz_catalog.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "core/pq.h"

#define TYPE_SQL \
	"SELECT t.typtype, t.typname, t.typbasetype, t.typtypmod, t.typelem, t.typcategory," \
	" (SELECT string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder) FROM pg_catalog.pg_enum e" \
	"  WHERE e.enumtypid = t.oid)" \
	" FROM pg_catalog.pg_type t WHERE t.oid = $1"

#define MAX_DEPTH 8				/* domains over domains over arrays ... */

static bool resolve(PGconn *conn, uint32_t oid, int depth, pt_dbz_type *out, bool *is_domain, pt_err *err);

/* A type any level may name: built in, or read from the catalog. */
static bool
resolve_any(PGconn *conn, uint32_t oid, int depth, pt_dbz_type *out, bool *is_domain, pt_err *err)
{
	*is_domain = false;
	if (pt_dbz_type_builtin(oid, NULL, out))
		return true;
	return resolve(conn, oid, depth + 1, out, is_domain, err);
}

static bool
from_row(PGconn *conn, PGresult *res, int depth, pt_dbz_type *out, bool *is_domain, pt_err *err)
{
	char		typtype = PQgetvalue(res, 0, 0)[0];
	uint32_t	base = (uint32_t) strtoul(PQgetvalue(res, 0, 2), NULL, 10);
	uint32_t	elem = (uint32_t) strtoul(PQgetvalue(res, 0, 4), NULL, 10);
	bool		elem_domain;

	if (typtype == 'd')
	{
		*is_domain = true;
		if (!resolve_any(conn, base, depth, out, &elem_domain, err))
			return false;
		pt_dbz_type_apply_typmod(out, base, (int32_t) atoi(PQgetvalue(res, 0, 3)));
		return true;
	}
	if (PQgetvalue(res, 0, 5)[0] == 'A' && elem != 0)
	{
		if (!resolve_any(conn, elem, depth, out, &elem_domain, err))
			return false;
		/* arrays of domains and of PostGIS types (':'-separated) are left out */
		if (elem_domain || out->array || out->kind == PT_DBZ_POSTGIS_GEOMETRY || out->kind == PT_DBZ_POSTGIS_GEOGRAPHY)
			out->kind = PT_DBZ_OMITTED;
		out->array = true;
		return true;
	}
	if (typtype == 'e')
	{
		out->kind = PT_DBZ_ENUM;
		out->length = out->scale = -1;
		out->enum_allowed = pt_strdup(PQgetisnull(res, 0, 6) ? "" : PQgetvalue(res, 0, 6));
		return true;
	}
	if (typtype != 'b' || !pt_dbz_type_extension(PQgetvalue(res, 0, 1), out))
		out->kind = PT_DBZ_OMITTED;
	return true;
}

static bool
resolve(PGconn *conn, uint32_t oid, int depth, pt_dbz_type *out, bool *is_domain, pt_err *err)
{
	char		param[16];
	const char *params[1] = {param};
	PGresult   *res;
	bool		ok = true;

	memset(out, 0, sizeof(*out));
	*is_domain = false;
	if (depth > MAX_DEPTH)
		return true;			/* left out */
	snprintf(param, sizeof(param), "%u", oid);
	res = pt_pq_exec_params(conn, TYPE_SQL, 1, params, PGRES_TUPLES_OK, PT_PQ_ANY, 7, err);
	if (res == NULL)
		return false;
	if (PQntuples(res) == 1)	/* a type dropped since: left out */
		ok = from_row(conn, res, depth, out, is_domain, err);
	PQclear(res);
	return ok;
}

bool
pt_dbz_catalog_resolve(void *catalog, uint32_t oid, pt_dbz_type *out, pt_err *err)
{
	pt_dbz_catalog *cat = catalog;
	PGconn	   *conn = cat->conn(cat->ctx, err);
	bool		is_domain;

	return conn != NULL && resolve(conn, oid, 0, out, &is_domain, err);
}
