/*
 * capture/dbz_catalog.h — types of the source database's own (enums,
 * domains, extension types, arrays of them) as Debezium's kinds, read from
 * the source's catalog by OID: pt_dbz_table_compile's resolve function.
 *
 * A domain is its base type with the domain's typmod; an enum carries its
 * labels in sort order (io.debezium.data.Enum's "allowed"); hstore,
 * citext, ltree and the isn types are known by name; anything else
 * (composite types, user ranges, PostGIS, arrays of domains) is left out,
 * as Debezium leaves it out.
 */
#ifndef PGTRAIL_CAPTURE_DBZ_CATALOG_H
#define PGTRAIL_CAPTURE_DBZ_CATALOG_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>

#include "capture/dbz_type.h"
#include "core/err.h"

typedef struct pt_dbz_catalog
{
	/* the source's catalog connection (opened on first need, owned elsewhere) */
	PGconn	   *(*conn) (void *ctx, pt_err *err);
	void	   *ctx;
} pt_dbz_catalog;

/* pt_dbz_resolve_fn over a pt_dbz_catalog (ctx). */
bool		pt_dbz_catalog_resolve(void *catalog, uint32_t oid, pt_dbz_type *out, pt_err *err);

#endif
