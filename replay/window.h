/*
 * replay/window.h — a window of row changes collapsed to their net effect.
 *
 * Replaying a log one statement per change costs what the log is long; the
 * target only needs what changed between the window's start and its end.
 * A window gathers the changes of consecutive source transactions, per
 * table and key: insert + updates are one insert of the last image (a
 * column an update did not send, unchanged TOAST, keeps the earlier
 * image's value), insert + delete is nothing, updates of a row that was
 * there before are one update of the columns they sent, a key change is a
 * delete of the old key and an insert of the new. At its end
 * (pt_window_flush) every table gets, in this order, one DELETE ... USING
 * a staging table, one UPDATE ... FROM one per set of columns updated, and
 * COPY of the rows inserted: statements per table and window, not per
 * change. The staging tables are temporary, made once per table and set
 * of columns in a target transaction (emptied for each use), and dropped
 * at commit. A table
 * with only a few rows to write (a small window: a follower's poll, one
 * source transaction with --batch-size 1) gets apply.h's pipelined
 * statements instead, one per row, which cost less than a staging table.
 *
 * Only tables whose rows a key finds alone can be collapsed
 * (pt_window_takes): a primary key in the target, not deferrable (a swap
 * shares a key for a while), not a partition (rows move between leaves
 * through the root). A change the window cannot collapse exactly (a key
 * change of a row whose earlier columns it does not hold) is refused: the
 * caller flushes the window and applies that change on its own. A change
 * that contradicts the window (an insert of a key it holds, an update of a
 * key it deleted) is a conflict: the log does not fit the target, and the
 * caller replays the window's changes in order, which names the event.
 *
 * Memory: the window's keys and values are copied into per-table arenas;
 * pt_window_full says when what the window uses (arenas, rows, indexes)
 * reaches the budget given to pt_window_new; values updates replaced are
 * dropped (the arenas compacted) before it says so. Buffers grow by
 * doubling; after a window, they are kept for the next one only up to a
 * quarter of the budget in all, so memory stays at about twice the budget
 * however many tables the log has.
 */
#ifndef PGTRAIL_REPLAY_WINDOW_H
#define PGTRAIL_REPLAY_WINDOW_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "replay/apply.h"
#include "replay/target.h"

typedef struct pt_window pt_window;

typedef enum pt_window_verdict
{
	PT_WINDOW_TAKEN,			/* collapsed into the window */
	PT_WINDOW_REFUSED,			/* flush, then apply this change on its own */
	PT_WINDOW_CONFLICT			/* the change contradicts the window: replay it in order */
} pt_window_verdict;

/* A window writing into conn through ap (both borrowed; ap on conn), holding at most max_bytes. */
pt_window  *pt_window_new(PGconn *conn, pt_apply *ap, size_t max_bytes);
void		pt_window_free(pt_window *w);

/* Can changes of tt be collapsed (a key finds its one row)? */
bool		pt_window_takes(const pt_ttable *tt);

/* The changes, as apply.h's values (target column indexes; texts copied). */
pt_window_verdict pt_window_insert(pt_window *w, pt_ttable *tt, const pt_values *set, int64_t event_id);
pt_window_verdict pt_window_update(pt_window *w, pt_ttable *tt, const pt_values *set, const pt_values *where,
								   int64_t event_id);
pt_window_verdict pt_window_delete(pt_window *w, pt_ttable *tt, const pt_values *where, int64_t event_id);

bool		pt_window_full(pt_window *w);

/* Half a budget past full (nothing compacted): a window kept open after full must be applied now. */
bool		pt_window_overfull(const pt_window *w);
bool		pt_window_empty(const pt_window *w);

/*
 * Apply the net effect to the target and empty the window. The connection
 * must be out of pipeline mode, inside the batch's transaction. Every
 * statement's row count is checked; false with err (the transaction is
 * then aborted) when the target refuses it or does not hold what the
 * window expects: the caller replays the window's changes in order.
 */
bool		pt_window_flush(pt_window *w, pt_err *err);

/* Forget the window's changes (the batch was rolled back). */
void		pt_window_discard(pt_window *w);

/* The target transaction ended (committed or rolled back): its staging tables are gone. */
void		pt_window_committed(pt_window *w);

/* Figures since the window was made: changes taken, rows written, windows written, microseconds writing. */
int64_t		pt_window_changes(const pt_window *w);
int64_t		pt_window_rows(const pt_window *w);
int64_t		pt_window_rows_set_based(const pt_window *w);	/* of those, through staging tables and COPY */
int64_t		pt_window_flushes(const pt_window *w);
int64_t		pt_window_flush_us(const pt_window *w);

#endif
