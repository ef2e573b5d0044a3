/*
 * replay/apply.h — writing row changes into the target, pipelined.
 *
 * Each table and statement shape (op, columns written, columns matched)
 * gets one prepared statement, made on first use. Statements are sent in
 * libpq's pipeline mode and their results read back every few hundred
 * statements (and at commit), so the target works while replay reads the
 * next events: no round trip per change. Values go in as text parameters
 * of unknown type, so the server reads each one with the column's own
 * input function: every type, exactly as PostgreSQL wrote it.
 *
 * An UPDATE or DELETE must change exactly one row, and an INSERT insert
 * one: anything else means the target does not hold what the log says,
 * and is an error naming the event.
 */
#ifndef PGTRAIL_REPLAY_APPLY_H
#define PGTRAIL_REPLAY_APPLY_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"
#include "core/event.h"
#include "replay/target.h"

typedef struct pt_apply pt_apply;

/* A pipeline over conn (borrowed; the session must not be in a pipeline). */
pt_apply   *pt_apply_new(PGconn *conn);
void		pt_apply_free(pt_apply *ap);

/*
 * Column values of one change: target column indexes and their text
 * (ptr NULL = SQL NULL). The texts are copied before sending.
 */
typedef struct pt_values
{
	int			n;
	int		   *cols;
	pt_text    *vals;
	int			cap;
} pt_values;

void		pt_values_reset(pt_values *v);
void		pt_values_add(pt_values *v, int col, pt_text val);
void		pt_values_free(pt_values *v);

/* INSERT set's columns (OVERRIDING SYSTEM VALUE when one is an always-identity). */
bool		pt_apply_insert(pt_apply *ap, pt_ttable *tt, const pt_values *set, int64_t event_id, pt_err *err);

/*
 * UPDATE (set given) or DELETE (set NULL) of the one row matched by where:
 * with by_key, equality on the key columns. Otherwise every column of
 * where is compared exactly, in the target column's type (the log's text
 * read by the type's input, both sides printed by its output): with the
 * target's key among them, the row holding the key, or when several do
 * (a deferrable key mid-swap) the one equal to where; without, one of the
 * rows equal to where (identical rows are interchangeable).
 */
bool		pt_apply_change(pt_apply *ap, pt_ttable *tt, const pt_values *set, const pt_values *where,
							bool by_key, int64_t event_id, pt_err *err);

/* Any other statement in the pipeline (BEGIN, DELETE FROM ..., position). */
bool		pt_apply_sql(pt_apply *ap, const char *sql, int nparams, const char *const *params,
						 int64_t event_id, pt_err *err);

/* Wait for every result sent so far and leave pipeline mode, so plain
 * libpq calls may follow (DDL, catalog reads). An error of any statement
 * comes back here, naming its event; the transaction is then aborted. */
bool		pt_apply_flush(pt_apply *ap, pt_err *err);

/* Forget tt's prepared statements (its columns changed), deallocating them
 * on the server (outside a pipeline: callers flush first). */
void		pt_apply_forget(pt_apply *ap, pt_ttable *tt);

/* The session is about to end: forgetting needs no DEALLOCATE any more. */
void		pt_apply_closing(pt_apply *ap);

/* Statements sent since the apply was made. */
int64_t		pt_apply_statements(const pt_apply *ap);

#endif
