/*
 * capture/dbz_registry.h — every table version the Kafka sink may meet,
 * compiled for Debezium's records on first use.
 *
 * Versions come from the store's schemas table at start (events sent again
 * after a restart follow versions recorded before it) and from capture as
 * it records new ones (the sink's schema_version op). A version is kept as
 * recorded and compiled (its types resolved, its schemas written) the
 * first time an event of it is sent, then kept for good: versions are few.
 */
#ifndef PGTRAIL_CAPTURE_DBZ_REGISTRY_H
#define PGTRAIL_CAPTURE_DBZ_REGISTRY_H

#include <libpq-fe.h>
#include <stdbool.h>

#include "capture/dbz_catalog.h"
#include "capture/dbz_table.h"
#include "core/err.h"
#include "core/event.h"

typedef struct pt_dbz_registry pt_dbz_registry;

/* prefix and m are borrowed and must outlive the registry. */
pt_dbz_registry *pt_dbz_registry_new(const char *prefix, const pt_dbz_modes *m, pt_dbz_catalog *catalog);
void		pt_dbz_registry_free(pt_dbz_registry *r);

/* Keep a version (copied); a version already known is replaced. */
void		pt_dbz_registry_add(pt_dbz_registry *r, const pt_dbz_version_in *in);

/* Every version of the store's schemas table (schema: the store's schema, unquoted). */
bool		pt_dbz_registry_load(pt_dbz_registry *r, PGconn *conn, const char *schema, pt_err *err);

/*
 * The compiled version of ev's table into *tab (NULL when ev has no table
 * or version, or the version is unknown). *first is set when it was
 * compiled by this call (to say once what it leaves out). False with err
 * when compiling failed (the catalog could not be read).
 */
bool		pt_dbz_registry_get(pt_dbz_registry *r, const pt_event *ev, const pt_dbz_table **tab, bool *first,
								pt_err *err);

#endif
