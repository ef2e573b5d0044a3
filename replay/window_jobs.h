/*
 * replay/window_jobs.h — a window's net effect written by several target
 * connections at once (--jobs N, as pg_restore's).
 *
 * A window's tables are independent of each other in the target: replay
 * writes with session_replication_role = replica (no triggers, no
 * foreign-key checks), and the window's statements for one table name no
 * other. So the tables of a window are shared out across lanes: the main
 * connection (inside the batch's open transaction, committed by the
 * caller with replay's position) takes the small tables and a share of
 * the large ones; each other connection writes its share in a transaction
 * of its own, saves each of its tables' own positions (position.h:
 * table_positions) in it, and commits. A lane that fails rolls its
 * transaction back; the tables of the lanes that committed are marked
 * (pt_ttable.applied_through), so the caller's replay in order skips
 * their events up to there, as the next run does after a kill -9.
 *
 * Only at a source transaction boundary, with nothing else of the batch
 * written on the main connection yet (no DDL, no table created, no change
 * applied on its own): then no lane waits for a lock another lane holds.
 */
#ifndef PGTRAIL_REPLAY_WINDOW_JOBS_H
#define PGTRAIL_REPLAY_WINDOW_JOBS_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"
#include "replay/window.h"

typedef struct pt_window_jobs pt_window_jobs;

/*
 * Lanes writing on conns[0..n) (borrowed; connected to the target, with
 * session_replication_role set), besides the window's own connection.
 * save_sql is position.h's pt_position_table_save_sql for store (both
 * copied).
 */
pt_window_jobs *pt_window_jobs_new(PGconn **conns, int n, const char *save_sql, const char *store);
void		pt_window_jobs_free(pt_window_jobs *j);

/*
 * Write the window's net effect across the window's connection and the
 * lanes (see above), every table's events being applied up to event_id,
 * and empty the window. On return every lane's transaction has ended.
 * false with the first failure's err: the caller rolls its transaction
 * back and replays the window's events in order.
 */
bool		pt_window_flush_jobs(pt_window *w, pt_window_jobs *j, int64_t event_id, pt_err *err);

#endif
