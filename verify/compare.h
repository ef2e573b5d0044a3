/*
 * verify/compare.h — comparing one table of the drift check's scratch
 * database (the log's state) with the live table of the same name.
 *
 * The live table must exist with every column the scratch table has (if
 * not, that is the table's problem, a finding). Both sides are then
 * streamed with COPY, sorted by the primary key's text in byte order (all
 * columns for a table without one: its rows compare as a multiset), and
 * merge-joined one row of each side at a time, so memory stays bounded
 * whatever the table sizes. Leaf tables are read FROM ONLY. Each
 * differing row is counted, and the first max_rows are kept as JSON for
 * the report.
 */
#ifndef PGTRAIL_VERIFY_COMPARE_H
#define PGTRAIL_VERIFY_COMPARE_H

#include <libpq-fe.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"

/* What a comparison reads; all borrowed. */
typedef struct pt_compare_opts
{
	PGconn	   *scratch;		/* the log's state */
	PGconn	   *source;			/* the live tables, in the caller's snapshot */
	int			max_rows;		/* rows kept per table */
	volatile sig_atomic_t *stop;
} pt_compare_opts;

/* A differing row kept for the report: JSON objects of column to text. */
typedef struct pt_compare_row
{
	const char *kind;			/* static: "changed", "missing", "extra" */
	char	   *key;
	char	   *live;			/* NULL for "missing" */
	char	   *log;			/* NULL for "extra" */
} pt_compare_row;

/* One table's result. */
typedef struct pt_compare_table
{
	char	   *schema;
	char	   *table;
	char	   *problem;		/* the live table, or columns of it, are missing; else NULL */
	bool		compared;		/* its rows were compared */
	int64_t		changed;
	int64_t		missing;
	int64_t		extra;
	pt_compare_row *rows;		/* at most max_rows */
	int			nrows;
} pt_compare_table;

/*
 * Compare schema.table (oid: its oid in the scratch database) with the
 * live table. Returns a new result, freed with pt_compare_free; NULL with
 * err when it could not run (a missing live table is a problem in the
 * result, not an error).
 */
pt_compare_table *pt_compare_run(const pt_compare_opts *opts, const char *schema, const char *table,
								 const char *oid, pt_err *err);

/* Free a result. Accepts NULL. */
void		pt_compare_free(pt_compare_table *t);

#endif
