/*
 * capture/schema.h — the schema registry: each captured table's column set
 * and its versions.
 *
 * A table's column set (names, types with typmods, type OIDs, key) is
 * tracked from the stream: an INSERT carries every column; an UPDATE every
 * column but unchanged TOAST values, which the registry turns into the
 * event's "unchanged" list. When the set changes, a new version opens; the
 * caller records it in the schemas table (with what the catalog says about
 * the table then: partition parent and bounds, generated and identity
 * columns, defaults) in the same sink transaction as the event that opened
 * it. Latest versions are loaded from the store at start, so versions
 * continue across restarts. Memory grows with tables, not with events.
 */
#ifndef PGTRAIL_CAPTURE_SCHEMA_H
#define PGTRAIL_CAPTURE_SCHEMA_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"
#include "core/event.h"
#include "core/log.h"
#include "core/wal2json.h"

typedef struct pt_table_version
{
	char	   *schema_name;
	char	   *table_name;
	int			version;		/* 0: none yet */
	int			ncols;
	pt_text    *names;			/* owned strings */
	char	  **types;
	uint32_t   *typeoids;
	int			npk;
	char	  **pk;
} pt_table_version;

typedef struct pt_schemas pt_schemas;

/*
 * A registry that reads latest versions from store_schema.schemas on
 * store_conn and asks the source's catalog (a connection of its own, made
 * on first need from source_dsn) for table details.
 */
pt_schemas *pt_schemas_new(PGconn *store_conn, const char *store_schema, const char *source_dsn,
						   pt_log *log, pt_err *err);
void		pt_schemas_free(pt_schemas *s);

/*
 * The table's current version given this I/U/D/T change. *opened is true
 * when the change opened a new version: then *columns_json and *details
 * (JSON texts owned by the registry, details may be NULL) describe it.
 */
bool		pt_schemas_observe(pt_schemas *s, const pt_w2j_change *ch, const pt_table_version **tv,
							   bool *opened, const char **columns_json, const char **details, pt_err *err);

/* The version a snapshot of the table belongs to (opened from the catalog
 * when the table has none yet); same outputs as pt_schemas_observe. */
bool		pt_schemas_for_snapshot(pt_schemas *s, const char *schema, const char *table,
									const pt_table_version **tv, bool *opened, const char **columns_json,
									const char **details, pt_err *err);

#endif
