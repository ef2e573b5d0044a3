/*
 * capture/types.h — column types by OID, named as the source's catalog
 * names them.
 *
 * A schema version records each column's type as PostgreSQL's own
 * format_type(oid, typmod) under search_path = pg_catalog: qualified
 * wherever a schema is needed, quoted where needed ("My Schema"."Mood",
 * "char", character varying(10), "Mood"[]), so pgtrail-replay can create
 * it from any search_path. wal2json's printed name cannot be that: it is
 * format_type in the walsender's search_path (types off it unqualified),
 * and wal2json 2.5 drops the quotes of a name that begins with one
 * ("char" arrives as char). The OID it sends is the truth; the typmod is
 * inside the printed name, so it is found by asking which of the typmods
 * the catalog knows for that OID prints that way.
 *
 * One cache entry per type OID: the typmods columns of that type have in
 * the catalog (pg_attribute) and -1, each with its name. It is read once,
 * again only when a name matches none of them; nothing is allocated on the
 * hot path, where schema.c compares names it has already resolved.
 */
#ifndef PGTRAIL_CAPTURE_TYPES_H
#define PGTRAIL_CAPTURE_TYPES_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"

/* typmod placeholders in a version (never a real typmod, those are >= -1) */
#define PT_TYPMOD_UNKNOWN (-2)	/* no typmod the catalog knows prints as the name */
#define PT_TYPMOD_LAZY (-3)		/* not resolved from the recorded name yet */

typedef struct pt_types pt_types;

pt_types   *pt_types_new(void);
void		pt_types_free(pt_types *t);

/*
 * The name of type oid with typmod as a version records it, read through
 * conn (the source) on a cache miss. *name is owned by the cache and valid
 * until the next call (a miss may read the type's entry anew): copy it.
 */
bool		pt_types_name(pt_types *t, PGconn *conn, uint32_t oid, int32_t typmod, const char **name,
						  pt_err *err);

/*
 * Which typmod of type oid prints as printed: a name wal2json sent (in the
 * walsender's search_path, its leading quote dropped or not) or one an
 * earlier version recorded. *found is false when no typmod the catalog
 * knows for the type does (the column's typmod has changed since, and no
 * column keeps the old one); *typmod and *name are then left alone. A
 * built-in type's printed name is its name from any search_path: it is
 * found, as itself (*name = printed), its typmod PT_TYPMOD_UNKNOWN (compare
 * names then). Otherwise *name is owned by the cache, valid until the next
 * call.
 */
bool		pt_types_resolve(pt_types *t, PGconn *conn, uint32_t oid, const char *printed, int32_t *typmod,
							 const char **name, bool *found, pt_err *err);

#endif
