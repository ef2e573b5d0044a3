/*
 * replay/versions.h — the captured tables' schema versions, as the event
 * store recorded them (the schemas table), for replay to create and evolve
 * tables and to map columns across versions.
 *
 * Loaded once per run (one row per table version: memory grows with
 * tables and versions, never with events). Columns keep their attnum when
 * the version came from a DDL event or from the catalog (capture's
 * snapshot), so a renamed column is followed by attnum; versions whose
 * columns came from a change alone are matched by name.
 */
#ifndef PGTRAIL_REPLAY_VERSIONS_H
#define PGTRAIL_REPLAY_VERSIONS_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"

typedef struct pt_rcolumn
{
	char	   *name;
	char	   *type;			/* format_type() text, with typmod */
	int			attnum;			/* 0: not recorded */
	char	   *generated;		/* generation expression, or NULL */
	bool		is_virtual;		/* virtual generated (PostgreSQL 18): in no event */
	char		identity;		/* 'a' always, 'd' by default, 0 none */
	char	   *default_expr;	/* or NULL */
	bool		not_null;
	bool		log_nulls;		/* the log holds nulls here a NOT NULL did not allow: NaN sent as null, erased values */
} pt_rcolumn;

struct pt_rtable;

typedef struct pt_rversion
{
	int			version;
	int64_t		first_event_id;
	int			ncols;
	pt_rcolumn *cols;
	int			npk;
	char	  **pk;
	char		pk_deferrable;	/* 'i' DEFERRABLE, 'd' also INITIALLY DEFERRED, 0 neither */
	char	   *parent;			/* quoted schema.table of a partition's parent, or NULL */
	char	   *parent_partition_key;	/* pg_get_partkeydef of the parent */
	char	   *partition_bound;	/* FOR VALUES ... */
	char	   *partition_key;	/* a partitioned table's own PARTITION BY clause */
	int64_t		oid;			/* the table's oid at the source (0: not recorded) */
	int64_t		schema_event_id;	/* its schema event (0: a version of before schema events) */
	char	   *doc;			/* that event's row as loaded, which the stream must match */
	const struct pt_rtable *home;	/* the table this incarnation (oid) is known as last (by the bound) */
} pt_rversion;

typedef struct pt_rtable
{
	char	   *schema;
	char	   *table;
	int			nversions;		/* ascending by version */
	pt_rversion *versions;
} pt_rtable;

typedef struct pt_versions pt_versions;

/* Load every version from schema.schemas on conn. Free with _free. */
pt_versions *pt_versions_load(PGconn *conn, const char *schema, pt_err *err);
void		pt_versions_free(pt_versions *v);

int			pt_versions_count(const pt_versions *v);
const pt_rtable *pt_versions_at(const pt_versions *v, int i);

/* The table, or NULL when the store has no version of it. */
const pt_rtable *pt_versions_table(const pt_versions *v, const char *schema, size_t slen,
								   const char *table, size_t tlen);

/* One version of a table, or NULL. */
const pt_rversion *pt_versions_get(const pt_rtable *t, int version);

/* The newest version opened at or before event id (NULL: none yet). */
const pt_rversion *pt_versions_as_of(const pt_rtable *t, int64_t event_id);

/*
 * Replay stops at event upto (INT64_MAX: the whole log, as loaded): the
 * schema "as it is" is the one in force there, never a later one. A
 * point-in-time replay into the schema restored as of that point must
 * use the names the log had then (a later rename or drop has not
 * happened yet). Set on load to INT64_MAX.
 */
void		pt_versions_bound(pt_versions *v, int64_t upto);

/* The version of t in force at the bound (INT_MAX: unbounded, or none yet). */
int			pt_versions_last(const pt_versions *v, const pt_rtable *t);

/*
 * The table that t's version `version` was renamed to later (ALTER TABLE
 * ... RENAME TO / SET SCHEMA): the table whose version with the same oid
 * opened last by the bound. NULL when it was not renamed (or no oid was
 * recorded). A version t has not got: t as it is at the bound.
 */
const pt_rtable *pt_versions_renamed_to(const pt_versions *v, const pt_rtable *t, int version);

/*
 * The name column `name` of from's last version (by the bound) of an
 * incarnation (oid) has in the first version of that oid in to, the table
 * it was renamed to: by attnum when both recorded it (*by_attnum stays),
 * else by name (*by_attnum false). NULL when absent.
 */
const char *pt_versions_follow_into(const pt_versions *v, const pt_rtable *from, int64_t oid, const char *name,
									const pt_rtable *to, int *to_version, bool *by_attnum);

/*
 * The version of rv's incarnation (oid) opened next after rv, under any
 * name the table had (RENAME TO and SET SCHEMA open a version under the
 * new name): the one with the lowest first event id after rv's. NULL when
 * there is none, or rv has no oid recorded.
 */
const pt_rversion *pt_versions_next_of_oid(const pt_versions *v, const pt_rversion *rv);

/*
 * The name column `name` of version prev has in version next, one step of
 * the same incarnation: by attnum when both recorded it, else by name.
 * NULL when next has no such column (dropped).
 */
const char *pt_versions_step(const pt_rversion *prev, const char *name, const pt_rversion *next);

/* Index of the column named name in version rv, or -1. */
int			pt_rversion_column(const pt_rversion *rv, const char *name, size_t len);

/*
 * The name that column `name` of version `version` has in version `to`
 * (renames followed by attnum where both versions recorded it, by name
 * otherwise), within one incarnation of the table (a table dropped and
 * created again under the name has another oid: its columns are not the
 * old ones); NULL when it was dropped on the way. *by_attnum (may be
 * NULL) says whether every step was matched by attnum: when not, a column
 * that vanished may as well have been renamed (a stream-only version).
 */
const char *pt_versions_follow(const pt_rtable *t, int version, const char *name, size_t len, int to,
							   bool *by_attnum);

#endif
