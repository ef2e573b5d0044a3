/*
 * replay/target.h — the target database's side of a replayed table: what
 * its columns are there (the target's catalog is the truth: generated and
 * identity columns, the primary key), and creating or evolving the table
 * from the event store's schema versions (--create-tables).
 *
 * A pt_ttable is one source table as replay sees it: its name in the
 * target (after mapping rules), the target's columns, the version the
 * target table is at, and apply's statement cache for it. The DDL here
 * runs with plain checked libpq calls: the caller flushes apply's pipeline
 * first (pt_apply_flush).
 */
#ifndef PGTRAIL_REPLAY_TARGET_H
#define PGTRAIL_REPLAY_TARGET_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"
#include "core/log.h"
#include "replay/versions.h"

typedef struct pt_tcolumn
{
	char	   *name;
	char	   *type;			/* format_type() in the target */
	bool		generated;		/* stored generated: never written */
	bool		identity_always;	/* needs OVERRIDING SYSTEM VALUE */
	bool		not_null;		/* attnotnull in the target */
} pt_tcolumn;

typedef struct pt_stmt pt_stmt;

/* What replay says of a table at its end: values it could not apply as the log has them. */
typedef struct pt_tfigures
{
	int64_t		known_loss;		/* NOT NULL numeric/float values that came as null */
	int64_t		possible_loss;	/* nulls of nullable numeric/float columns from the stream */
	int64_t		erased_values;	/* values pgtrail-erase removed from its events (applied as null) */
	int64_t		erased_skipped;	/* changes not applied: their key was erased */
} pt_tfigures;

typedef struct pt_ttable
{
	char	   *src_schema;		/* as in the events */
	char	   *src_table;
	char	   *schema;			/* in the target */
	char	   *table;
	char	   *qname;			/* "schema"."table", quoted */
	char	   *root;			/* a partition in the target: the root of its tree, quoted (else NULL) */
	bool		root_keyed;		/* that root's primary key is the table's: a key finds one row through it */
	bool		loaded;			/* catalog read since the last change */
	bool		exists;
	int			ncols;
	pt_tcolumn *cols;
	int			npk;
	int		   *pk;				/* indexes into cols */
	bool		key_deferrable; /* the key may be shared by two rows until commit (a swap) */
	int			version;		/* version the target table is at (0: unknown) */
	pt_stmt    *stmts;			/* apply's prepared statements for it */
	bool		warned_missing; /* "column not in target" said once */
	bool		warned_bounds;	/* "emptied under other bounds" said once */
	pt_tfigures fig;			/* as applied */
	pt_tfigures fig_committed;	/* as of the last commit (a rollback goes back to them) */
	int64_t		applied_through;	/* --jobs: a lane committed its events up to here (window_jobs.h) */
	struct pt_ttable *next;		/* the replay's list */
} pt_ttable;

/* A new entry for a source table, named (schema, table) in the target. */
pt_ttable  *pt_ttable_new(const char *src_schema, const char *src_table, const char *schema,
						  const char *table, PGconn *conn, pt_err *err);
void		pt_ttable_free(pt_ttable *tt);

/* Read the table's columns and key from the target's catalog (exists false when missing). */
bool		pt_target_load(PGconn *conn, pt_ttable *tt, pt_err *err);

/* Index of the target column named name, or -1; hint is where it likely is (the k-th member of a row, say), or -1. */
int			pt_target_column(const pt_ttable *tt, const char *name, size_t len, int hint);

/*
 * Create the table as version rv says (columns with types, NOT NULL,
 * primary key, generated and identity columns; a partition under its
 * parent, the parent created first when missing). A NOT NULL column the
 * log holds nulls for (NaN sent as null, erased values: pt_rcolumn.log_nulls) is left
 * nullable. User-defined types must exist: a missing
 * one is a PT_ERR_CONFIG naming it with the pg_dump line that brings it.
 */
bool		pt_target_create(PGconn *conn, pt_ttable *tt, const pt_rversion *rv, pt_log *log, pt_err *err);

/*
 * Bring the table from version `from` to `to` of rt: renamed, added and
 * dropped columns, changed types, NOT NULL and key, and its place in a partition
 * tree (attached to `to`'s parent with its bound, or detached). With emptied set (the table's
 * content is about to be replaced by a re-snapshot), type changes need no
 * conversion of existing rows.
 */
bool		pt_target_evolve(PGconn *conn, pt_ttable *tt, const pt_rtable *rt, const pt_rversion *from,
							 const pt_rversion *to, bool emptied, pt_log *log, pt_err *err);

/* The source renamed the table (or moved it to another schema): the target
 * table of `from` becomes the one of `to`. */
bool		pt_target_rename(PGconn *conn, pt_ttable *from, pt_ttable *to, pt_err *err);

/* The partition bound tt has in the target (pg_get_expr text, owned by the caller), or NULL. */
bool		pt_target_bound(PGconn *conn, const pt_ttable *tt, char **bound, pt_err *err);

/* DETACH PARTITION tt from parent (quoted), when the target has it there. */
bool		pt_target_detach(PGconn *conn, pt_ttable *tt, const char *parent, pt_log *log, pt_err *err);

/* DROP TABLE (a DDL event dropped it before the stop point). */
bool		pt_target_drop(PGconn *conn, pt_ttable *tt, pt_err *err);

#endif
