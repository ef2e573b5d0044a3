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
 *
 * PostgreSQL 18's virtual generated columns are computed when read and are
 * not in the WAL: wal2json sends them as null. A version lists them (marked
 * "virtual", so replay can create them), but no event carries them: the
 * registry hands the caller the change without them, and the columns an
 * event has (event_names). Which columns are virtual is what the version
 * in force says (a DDL message or the store recorded it as of the change);
 * the catalog, which says how the table is now (perhaps renamed since, or
 * dropped and created again), is asked when a table is first seen and
 * whenever the stream disagrees with the version (a value in a "virtual"
 * column, one missing from an INSERT).
 *
 * pgoutput leaves out what it does not send instead of sending null:
 * virtual columns on 18, and every generated column before 18 (stored ones
 * too: their values are in the WAL, but pgoutput skips them). A registry
 * told so (pt_schemas_omitting) takes such a table's versions from the
 * catalog, as wal2json's changes give them, with those columns listed and
 * in no event (unsent), and counts the stored ones (nunsent_stored) so the
 * caller can say the loss.
 */
#ifndef PGTRAIL_CAPTURE_SCHEMA_H
#define PGTRAIL_CAPTURE_SCHEMA_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"
#include "core/event.h"
#include "core/log.h"
#include "core/pgcaps.h"
#include "core/wal2json.h"

typedef struct pt_table_version
{
	char	   *schema_name;
	char	   *table_name;
	int			version;		/* 0: none yet */
	int			ncols;
	pt_text    *names;			/* owned strings */
	char	  **types;			/* as recorded: format_type under search_path = pg_catalog */
	uint32_t   *typeoids;
	int32_t    *typmods;		/* or PT_TYPMOD_LAZY / PT_TYPMOD_UNKNOWN (capture/types.h) */
	char	  **wire;			/* the name wal2json last printed for it, NULL = none yet */
	int		   *attnums;		/* 0: not known (columns taken from the stream) */
	bool	   *is_virtual;		/* virtual generated: listed, never in an event */
	int			nvirtual;
	bool	   *unsent;			/* in no event: virtual, or generated and left out by the decoder */
	int			nunsent_stored;	/* stored generated columns the decoder leaves out */
	pt_text    *event_names;	/* the columns an event can carry: names minus the unsent ones */
	int			nevent;
	int			npk;
	char	  **pk;
	/* without a primary key: the replica identity (from the catalog) */
	char		replident;		/* pg_class.relreplident: 'd', 'n', 'f', 'i'; 0 unknown */
	int			nident;			/* 'i': the identity index's columns, the events' key */
	char	  **ident;
} pt_table_version;

typedef struct pt_schemas pt_schemas;

/*
 * A registry that reads latest versions from store_schema.schemas on
 * store_conn and asks the source's catalog (a connection of its own, made
 * on first need from source_dsn) for table details; caps are the source's.
 */
pt_schemas *pt_schemas_new(PGconn *store_conn, const char *store_schema, const char *source_dsn,
						   pt_pgcaps caps, pt_log *log, pt_err *err);
void		pt_schemas_free(pt_schemas *s);

/*
 * The decoder leaves out the generated columns it does not send (pgoutput:
 * virtual ones; before 18 stored ones too) rather than sending them as null
 * (wal2json). Call once, before the first change.
 */
void		pt_schemas_omitting(pt_schemas *s, bool omits_stored);

/*
 * The registry's own connection to the source for catalog reads (opened on
 * first use; borrowed: the registry closes it). Outside every transaction of
 * capture's, so a read there never touches the sink's open batch.
 */
PGconn	   *pt_schemas_catalog(pt_schemas *s, pt_err *err);

/*
 * The name a version records for type oid with typmod (format_type from
 * the catalog, cached: capture/types.h), for a decoder that sends OIDs
 * only. *name is valid until the next call.
 */
bool		pt_schemas_type_name(pt_schemas *s, uint32_t oid, int32_t typmod, const char **name, pt_err *err);

/*
 * The table's current version given this I/U/D/T change. *opened is true
 * when the change opened a new version: then *columns_json and *details
 * (JSON texts owned by the registry, details may be NULL) describe it.
 * *ch is replaced by the change without virtual generated columns when the
 * table has any (owned by the registry, valid until the next call).
 */
bool		pt_schemas_observe(pt_schemas *s, const pt_w2j_change **ch, const pt_table_version **tv,
							   bool *opened, const char **columns_json, const char **details, pt_err *err);

/*
 * Without a primary key, the events' key is the replica identity index
 * (docs/FORMAT.md): pt_schemas_observe fills tv's replident and ident from
 * the catalog when a version opens, on first sight of the table in a run,
 * and when an UPDATE's or DELETE's identity no longer fits them.
 */

/* The version a snapshot of the table belongs to (opened from the catalog
 * when the table has none yet); same outputs as pt_schemas_observe. */
bool		pt_schemas_for_snapshot(pt_schemas *s, const char *schema, const char *table,
									const pt_table_version **tv, bool *opened, const char **columns_json,
									const char **details, pt_err *err);

/*
 * The replica identity of a table as a DDL message recorded it (replident
 * 0: not said, nothing changes): the events' key when it has no primary
 * key, kept until a change disagrees with it. Strings are copied.
 */
void		pt_schemas_set_identity(pt_schemas *s, const char *schema, const char *table, char replident,
									const char *const *ident, int nident);

/*
 * A new version defined by a DDL message (capture/ddl.c): the given
 * columns and key replace the table's, the version number goes up by one,
 * and later changes that fit it open no other. The caller records it.
 * Strings are copied. oid: the table's (0 unknown). storeds: the stored generated columns (in no event
 * when the decoder leaves them out, see pt_schemas_omitting).
 */
bool		pt_schemas_define(pt_schemas *s, const char *schema, const char *table, uint32_t oid, const pt_text *names,
							  const char *const *types, const uint32_t *typeoids, const bool *virtuals,
							  const bool *storeds, int ncols,
							  const char *const *pk, int npk, const pt_table_version **tv);

/*
 * What a version records about a table besides its columns, as one SQL
 * expression over the pg_class row "c": partition parent and key, partition
 * bound, replica identity, and per column not_null, identity, generated and
 * default; and, only when the primary key is DEFERRABLE, its
 * "primary_key_deferrable" ("immediate" or "deferred", as INITIALLY says),
 * so that every other table's details keep their bytes. The registry runs
 * it when a version opens from the stream; the DDL event trigger
 * (capture/ddl.c) runs the same text inside the source, so both kinds of
 * version carry the same details.
 */
#define PT_SCHEMAS_DETAILS_EXPR \
	"(SELECT CASE WHEN k.condeferrable THEN (left(x.o::text, -1) || ', \"primary_key_deferrable\" : ' || " \
	"  CASE WHEN k.condeferred THEN '\"deferred\"' ELSE '\"immediate\"' END || '}')::json ELSE x.o END " \
	"FROM (SELECT " PT_SCHEMAS_DETAILS_BASE " AS o) x " \
	"LEFT JOIN pg_constraint k ON k.conrelid = c.oid AND k.contype = 'p')"

/* The details of every table (see above). */
#define PT_SCHEMAS_DETAILS_BASE \
	"json_build_object(" \
	"'oid', c.oid, " \
	"'parent', (SELECT quote_ident(pn.nspname) || '.' || quote_ident(p.relname) FROM pg_inherits i " \
	"  JOIN pg_class p ON p.oid = i.inhparent JOIN pg_namespace pn ON pn.oid = p.relnamespace " \
	"  WHERE i.inhrelid = c.oid), " \
	"'parent_partition_key', (SELECT pg_get_partkeydef(i.inhparent) FROM pg_inherits i WHERE i.inhrelid = c.oid), " \
	"'partition_bound', pg_get_expr(c.relpartbound, c.oid), " \
	"'partition_key', CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END, " \
	"'replica_identity', c.relreplident, " \
	"'columns', (SELECT json_agg(json_build_object('name', a.attname, 'not_null', a.attnotnull, " \
	"  'identity', nullif(a.attidentity, ''), " \
	"  'generated', CASE WHEN a.attgenerated <> '' THEN pg_get_expr(d.adbin, d.adrelid) END, " \
	"  'default', CASE WHEN a.attgenerated = '' THEN pg_get_expr(d.adbin, d.adrelid) END) ORDER BY a.attnum) " \
	"  FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum " \
	"  WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped))"

#endif
