/*
 * replay/replay.c — the replay loop (see replay.h).
 *
 * One run: find where the target stands (its position), where to stop
 * (a transaction boundary computed up front from --until-*), check that
 * every table the log needs is there (or will be created), then stream
 * events in id order. Events of one source transaction are contiguous in
 * the log; a target transaction holds whole source transactions and the
 * new position, so the target is always at a transaction boundary of the
 * source. Schema versions that open at an event (DDL, or a new column set
 * seen in the stream) are applied to the target at that event with
 * --create-tables. A chain failure rolls back the batch, replays again up
 * to the transaction before the bad event, and reports it. What one event
 * does is in events.c; what is decided before writing, in plan.c.
 */
#include "replay/run.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/chain.h"
#include "core/clock.h"
#include "core/hex.h"
#include "core/mem.h"
#include "core/pgtime.h"
#include "core/pq.h"
#include "core/store.h"
#include "core/store_losses.h"

#define SQLSTATE_INSUFFICIENT_PRIVILEGE "42501"
#define LOG_PROGRESS_US (10 * 1000000)
#define TTY_PROGRESS_US 500000

/* ---- batches ---- */

/* The --tables patterns the position covers ("" = every table). */
static const char *
tables_of(const replay *r)
{
	return r->opts->tables ? r->opts->tables : "";
}

static bool
batch_begin(replay *r, pt_err *err)
{
	if (r->batch_open)
		return true;
	/* a deferrable key may be shared by two rows for a while inside a source
	 * transaction (a swap): its check waits for the commit, as at the source
	 * (with session_replication_role = replica the server skips the deferred
	 * recheck altogether; this keeps the statements' order free either way) */
	if (!pt_apply_sql(r->ap, "BEGIN", 0, NULL, 0, err) ||
		!pt_apply_sql(r->ap, "SET CONSTRAINTS ALL DEFERRED", 0, NULL, 0, err))
		return false;
	r->batch_open = true;
	r->batch_events = 0;
	r->batch_direct = false;
	r->window_full = false;
	return true;
}

/* A window failed: the range is replayed in order up to its last event. */
static void
window_failed(replay *r, const pt_err *err)
{
	r->redo_at = r->window_last;
	if (strcmp(err->sqlstate, SQLSTATE_INSUFFICIENT_PRIVILEGE) == 0)
	{
		/* no temporary tables for staging: every change a statement of its own from here on */
		pt_log_warning(r->log, "windows are off for this run: %s; to replay faster, GRANT TEMPORARY ON DATABASE "
					   "to the replay role", err->message);
		r->redo_at = INT64_MAX;
	}
}

/* Apply the window's net effect; when it fails, the range is replayed in order up to its last event. */
bool
pt_replay_flush_window(replay *r, pt_err *err)
{
	if (r->win == NULL || pt_window_empty(r->win))
		return true;
	if (!pt_apply_flush(r->ap, err))
		return false;			/* a statement of its own failed: no window involved */
	r->batch_direct = true;		/* its rows are locked by the batch: no lane may write them now */
	r->window_full = false;
	if (pt_window_flush(r->win, err))
		return true;
	window_failed(r, err);
	return false;
}

bool
pt_replay_window_full(replay *r, pt_err *err)
{
	/* with --jobs the batch commits when the source transaction ends, the lanes writing the
	 * window (unless the batch wrote something else: then the next one starts clean); a
	 * transaction that fills half a window more before it ends: now */
	if (r->jobs && !r->window_full)
	{
		r->window_full = true;
		return true;
	}
	if (r->window_full && !pt_window_overfull(r->win))
		return true;
	return pt_replay_flush_window(r, err);
}

/* At the batch's end: with --jobs, when nothing of the batch went to the target outside the window, across the lanes. */
static bool
flush_window_at_commit(replay *r, pt_err *err)
{
	if (r->jobs == NULL || r->batch_direct || r->win == NULL || pt_window_empty(r->win))
		return pt_replay_flush_window(r, err);
	if (!pt_apply_flush(r->ap, err))
		return false;
	if (pt_window_flush_jobs(r->win, r->jobs, r->applied_id, err))
		return true;
	window_failed(r, err);
	return false;
}

static bool
batch_commit(replay *r, pt_err *err)
{
	char		id[24];
	char		hash[2 + 2 * PT_HASH_LEN + 1] = "\\x";
	const char *params[4] = {r->store, id, hash, tables_of(r)};

	if (!r->batch_open)
		return true;
	snprintf(id, sizeof(id), "%lld", (long long) r->applied_id);
	pt_hex_encode(r->applied_hash, PT_HASH_LEN, hash + 2);
	hash[sizeof(hash) - 1] = '\0';
	/* every statement's result (and row count) is checked before COMMIT is sent */
	if (!flush_window_at_commit(r, err) || !pt_apply_flush(r->ap, err) || !pt_apply_sql(r->ap, r->save_sql, 4, params, 0, err) ||
		!pt_apply_sql(r->ap, "COMMIT", 0, NULL, 0, err) || !pt_apply_flush(r->ap, err))
		return false;
	r->batch_open = false;
	r->nevents_committed = r->nevents;
	r->ntxns_committed = r->ntxns;
	r->skipped_committed = r->skipped;
	for (pt_ttable *tt = r->tables; tt; tt = tt->next)
	{
		tt->fig_committed = tt->fig;
	}
	if (r->win)
		pt_window_committed(r->win);
	r->committed.event_id = r->applied_id;
	memcpy(r->committed.hash, r->applied_hash, PT_HASH_LEN);
	return true;
}

/*
 * The schema versions that opened in a rolled-back batch open again when
 * its events are applied again: the openings after the committed position,
 * from the store (a reload mid-batch may have dropped earlier ones).
 */
static void
rewind_openings(replay *r)
{
	pt_err		err;

	r->next_opening = 0;
	while (r->next_opening < r->nopenings && r->openings[r->next_opening].event_id <= r->committed.event_id)
		r->next_opening++;
	if (!pt_events_load_versions(r, &err))
		pt_log_warning(r->log, "could not read the schema versions again after a rollback: %s", err.message);
}

static void
batch_abort(replay *r)
{
	pt_err		ignored;
	PGresult   *res;

	pt_apply_flush(r->ap, &ignored);
	if (r->win)
		pt_window_discard(r->win);
	res = PQexec(r->target, "ROLLBACK");
	PQclear(res);
	r->batch_open = false;
	if (r->win)
		pt_window_committed(r->win);	/* its staging tables went with the transaction */
	r->nevents = r->nevents_committed;
	r->ntxns = r->ntxns_committed;
	r->skipped = r->skipped_committed;
	r->applied_id = r->committed.event_id;
	memcpy(r->applied_hash, r->committed.hash, PT_HASH_LEN);
	/* the target's tables may have changed shape (or name) in the rolled-back
	 * batch: what replay knows of them comes back from the target */
	for (pt_ttable *tt = r->tables; tt; tt = tt->next)
	{
		tt->loaded = false;
		tt->version = 0;
		if (tt->applied_through > r->committed.event_id)
			tt->fig_committed = tt->fig;	/* a --jobs lane committed its changes: their figures stand */
		tt->fig = tt->fig_committed;
		pt_apply_forget(r->ap, tt);
	}
	if (!pt_replay_load_table_versions(r, &ignored))
		pt_log_warning(r->log, "could not read table versions back after a rollback: %s", ignored.message);
	rewind_openings(r);
}

/* ---- progress ---- */

static void
progress(replay *r, bool final)
{
	int64_t		now = pt_now_us();
	double		secs = (double) (now - r->started_us) / 1e6;
	double		rate = secs > 0 ? (double) r->nevents / secs : 0;
	int64_t		total = r->stop_id - r->first_id;
	char		at[PT_TIME_BUFLEN];
	char		lsn[PT_LSN_BUFLEN];

	if (!final && now - r->last_progress_us < (r->opts->progress_tty ? TTY_PROGRESS_US : LOG_PROGRESS_US))
		return;
	r->last_progress_us = now;
	pt_time_format(r->last_time, at);
	pt_lsn_format(r->last_lsn, lsn);
	if (r->opts->progress_tty && !final)
	{
		fprintf(stderr, "\rpgtrail-replay: %lld of %lld events (%.0f%%), %.0f events/s, at %s %s, %.0f s left   ",
				(long long) r->nevents, (long long) total, total ? 100.0 * (double) r->nevents / (double) total : 100.0,
				rate, lsn, at, rate > 0 ? (double) (total - r->nevents) / rate : 0.0);
		r->progress_shown = true;
		return;
	}
	if (r->progress_shown)
		fputc('\n', stderr);
	r->progress_shown = false;
	if (!final)
		pt_log_info(r->log, "%lld of %lld events, %.0f events/s, at %s (%s)", (long long) r->nevents,
					(long long) total, rate, lsn, at);
}

/* ---- the stream ---- */

static bool
same_txn(const replay *r, const pt_event *ev)
{
	return r->in_txn && ev->commit_lsn == r->txn_lsn && ev->has_xid == r->txn_has_xid &&
		(!ev->has_xid || ev->xid == r->txn_xid);
}

/* A source transaction ended: commit the batch when it is big enough. */
static bool
txn_end(replay *r, pt_err *err)
{
	if (!r->in_txn)
		return true;
	r->in_txn = false;
	r->ntxns++;
	if ((r->batch_events >= r->opts->batch_size || r->window_full) && pt_trust_may_commit(r, r->range_stop))
		return batch_commit(r, err);
	return true;
}

static bool
apply_one(replay *r, pt_chain *chain, const pt_event *ev, bool *broken, pt_err *err)
{
	if (!same_txn(r, ev))
	{
		if (!txn_end(r, err))
			return false;
		r->in_txn = true;
		r->txn_lsn = ev->commit_lsn;
		r->txn_has_xid = ev->has_xid;
		r->txn_xid = ev->xid;
		r->txn_first = ev->id;
	}
	if (chain && !pt_chain_check(chain, ev, err))
	{
		*broken = true;
		return false;
	}
	if (!pt_trust_pass(r, ev, err))
	{
		*broken = r->pin_failed = true;
		return false;
	}
	if (!batch_begin(r, err) || !pt_events_apply(r, ev, err))
		return false;
	r->applied_id = ev->id;
	memcpy(r->applied_hash, ev->hash, PT_HASH_LEN);
	r->batch_events++;
	r->nevents++;
	r->last_lsn = ev->commit_lsn;
	r->last_time = ev->committed_at;
	if ((r->nevents & 1023) == 0)
		progress(r, false);
	return true;
}

/* Apply events (committed position, stop_id]; *broken_at is the first
 * event of the transaction that failed the chain check (0 when none). */
static bool
replay_range(replay *r, int64_t stop_id, int64_t *broken_txn, pt_err *err)
{
	pt_store_reader *reader;
	pt_chain   *chain = NULL;
	pt_event	ev;
	int64_t		walk_end;
	bool		done = false,
				broken = false,
				read_error = false,
				ok = true;

	memset(&ev, 0, sizeof(ev));
	*broken_txn = 0;
	r->range_stop = stop_id;
	if (!pt_trust_load_pins(r, err))
		return false;
	if (r->opts->verify && !pt_trust_walk(r, stop_id, &walk_end, err))
	{
		if (walk_end > r->committed.event_id)
			*broken_txn = walk_end + 1;	/* round_trip applies up to the last good checkpoint */
		return false;
	}
	if ((reader = pt_store_reader_open(r->events, r->opts->schema, r->committed.event_id, err)) == NULL)
		return false;
	if (r->opts->verify)
		chain = pt_chain_new(r->committed.event_id, r->committed.event_id ? r->committed.hash : NULL);
	r->in_txn = false;
	while (ok)
	{
		if (!pt_store_reader_next(reader, &ev, &done, err))
		{
			ok = false;
			broken = read_error = err->kind == PT_ERR_INTEGRITY;
			break;
		}
		if (done || ev.id > stop_id)
			break;
		if (*r->stop && !same_txn(r, &ev))
			break;				/* told to stop: at a transaction boundary */
		ok = apply_one(r, chain, &ev, &broken, err);
	}
	if (r->pin_failed)
		*broken_txn = r->last_good_pin + 1;	/* back to the last pin that checked */
	else if (broken && read_error)
		*broken_txn = r->in_txn ? r->txn_first : r->applied_id + 1;
	else if (broken)
		*broken_txn = same_txn(r, &ev) ? r->txn_first : ev.id;
	if (*broken_txn > 0)
		*broken_txn = pt_trust_safe_end(r, *broken_txn - 1) + 1;
	pt_store_reader_close(reader);
	pt_chain_free(chain);
	if (ok && !pt_trust_may_commit(r, stop_id))
	{
		/* stopped (a signal) before the next checkpoint: nothing it has not proven is committed */
		batch_abort(r);
		return true;
	}
	if (ok)
		ok = txn_end(r, err) && batch_commit(r, err);
	if (!ok)
		batch_abort(r);
	else
		pt_trust_say_unproven(r);
	return ok;
}

/* ---- setup ---- */

/* One replay of a store into a target at a time: the others say who holds it. */
static bool
take_target(replay *r, pt_err *err)
{
	bool		taken;

	if (!pt_position_lock(r->target, r->store, &taken, err))
		return false;
	if (taken)
		return true;
	pt_err_set(err, PT_ERR_RUNTIME, "another pgtrail-replay is replaying event store \"%s\" into this target",
			   r->store);
	pt_err_hint(err, "wait until it ends, or stop it (a --follow replay holds the target for as long as it runs)");
	return false;
}

/*
 * The position covers the tables of the --tables it was made with: another
 * filter would skip, for the tables it adds, every event before the
 * position. Refused, with the ways out.
 */
bool
pt_replay_check_filter(replay *r, pt_err *err)
{
	if (strlen(tables_of(r)) >= PT_POSITION_TABLES_MAX)
	{
		pt_err_set(err, PT_ERR_CONFIG, "--tables is too long for replay's position (at most %d bytes)",
				   PT_POSITION_TABLES_MAX - 1);
		pt_err_hint(err, "use * patterns, or replay in several targets");
		return false;
	}
	if (r->committed.event_id > 0 && !r->committed.tables_known)
	{
		pt_log_warning(r->log, "the target's position was written by a pgtrail-replay that did not record its "
					   "--tables: replay goes on with '%s'; use the same patterns as before",
					   tables_of(r)[0] ? tables_of(r) : "*");
		return true;
	}
	if (r->committed.event_id == 0 || strcmp(r->committed.tables, tables_of(r)) == 0)
		return true;
	pt_err_set(err, PT_ERR_CONFIG, "the target was replayed up to event %lld with --tables '%s', not '%s'",
			   (long long) r->committed.event_id, r->committed.tables[0] ? r->committed.tables : "*",
			   tables_of(r)[0] ? tables_of(r) : "*");
	pt_err_hint(err, "pass the same --tables to go on; to replay other tables, start this target over "
				"with --clean, or replay them into another target");
	return false;
}

/* --jobs: the other target connections, each skipping triggers as the first does. */
static bool
connect_lanes(replay *r, pt_err *err)
{
	if (r->opts->jobs <= 1 || r->opts->dry_run)
		return true;
	if (r->opts->window_mb == 0)
	{
		pt_log_warning(r->log, "--jobs %d has no effect with --window-mb 0: the lanes write windows",
					   r->opts->jobs);
		return true;
	}
	r->lanes = pt_calloc((size_t) r->opts->jobs, sizeof(PGconn *));
	for (int i = 0; i < r->opts->jobs - 1; i++)
	{
		bool		ok = (r->lanes[i] = pt_pq_connect(r->opts->target_dsn, "pgtrail-replay", err)) != NULL;

		r->nlanes += ok;
		/* a lane that waits on a lock the first connection holds would wait for ever (the first
		 * waits for it): after a minute it fails, and its window goes again in order */
		if (!ok || !pt_pq_command(r->lanes[i], "SET session_replication_role = replica", err) ||
			!pt_pq_command(r->lanes[i], "SET lock_timeout = '60s'", err))
		{
			pt_err_prefix(err, "target (--jobs connection %d)", i + 2);
			return false;
		}
	}
	return true;
}

static bool
connect_all(replay *r, pt_err *err)
{
	PGresult   *res;
	const char *params[1] = {r->opts->schema};

	if ((r->events = pt_pq_connect(r->opts->events_dsn, "pgtrail-replay", err)) == NULL)
	{
		pt_err_prefix(err, "event store");
		return false;
	}
	res = pt_pq_exec_params(r->events, "SELECT current_database() || '/' || $1, "
							"to_regclass(quote_ident($1) || '.events') IS NOT NULL", 1, params,
							PGRES_TUPLES_OK, 1, 2, err);
	if (res == NULL)
		return false;
	r->store = pt_strdup(PQgetvalue(res, 0, 0));
	if (strcmp(PQgetvalue(res, 0, 1), "t") != 0)
	{
		PQclear(res);
		pt_err_set(err, PT_ERR_CONFIG, "no event store in schema \"%s\" of the events database", r->opts->schema);
		pt_err_hint(err, "point --events at the database pgtrail-capture writes to, and --schema at its schema");
		return false;
	}
	PQclear(res);
	if (!pt_store_losses_describe(r->events, r->opts->schema, &r->loss_lines, &r->nloss_lines, err))
		return false;
	if (r->opts->dry_run && (r->opts->target_dsn == NULL || r->opts->target_dsn[0] == '\0'))
		return true;
	if ((r->target = pt_pq_connect(r->opts->target_dsn, "pgtrail-replay", err)) == NULL)
	{
		pt_err_prefix(err, "target");
		return false;
	}
	if (!r->opts->dry_run && !take_target(r, err))
		return false;
	if (!pt_pq_command(r->target, "SET session_replication_role = replica", err))
	{
		if (strcmp(err->sqlstate, SQLSTATE_INSUFFICIENT_PRIVILEGE) == 0)
		{
			err->kind = PT_ERR_CONFIG;
			pt_err_hint(err, "replay keeps the target's triggers (and foreign-key checks) from firing with "
						"session_replication_role = replica: run it as a superuser, or GRANT SET ON PARAMETER "
						"session_replication_role TO the replay role (PostgreSQL 15+)");
		}
		pt_err_prefix(err, "target");
		return false;
	}
	return connect_lanes(r, err);
}

int64_t
pt_replay_through(const replay *r, const char *schema, const char *table)
{
	for (int i = 0; i < r->nthroughs; i++)
		if (strcmp(r->throughs[i].schema, schema) == 0 && strcmp(r->throughs[i].table, table) == 0)
			return r->throughs[i].event_id;
	return 0;
}

void
pt_replay_forget_throughs(replay *r)
{
	for (int i = 0; i < r->nthroughs; i++)
	{
		free(r->throughs[i].schema);
		free(r->throughs[i].table);
	}
	free(r->throughs);
	r->throughs = NULL;
	r->nthroughs = 0;
	for (pt_ttable *tt = r->tables; tt; tt = tt->next)
		tt->applied_through = 0;
}

/* The tables a --jobs lane committed past the position (a run stopped between the lanes' commits). */
static bool
load_throughs(replay *r, pt_err *err)
{
	PGresult   *res = pt_position_table_positions(r->target, r->opts->state_schema, r->store,
												  r->committed.event_id, err);

	if (res == NULL)
		return false;
	r->throughs = pt_calloc((size_t) PQntuples(res) + 1, sizeof(through));
	for (int i = 0; i < PQntuples(res); i++)
	{
		r->throughs[i].schema = pt_strdup(PQgetvalue(res, i, 0));
		r->throughs[i].table = pt_strdup(PQgetvalue(res, i, 1));
		r->throughs[i].event_id = strtoll(PQgetvalue(res, i, 2), NULL, 10);
		r->nthroughs++;
	}
	PQclear(res);
	for (pt_ttable *tt = r->tables; tt; tt = tt->next)
		tt->applied_through = pt_replay_through(r, tt->schema, tt->table);
	if (r->nthroughs > 0)
		pt_log_info(r->log, "%d tables were written past the position (event %lld) by --jobs connections of the "
					"last run: their events up to there are not applied again", r->nthroughs,
					(long long) r->committed.event_id);
	return true;
}

/*
 * A table a --jobs connection of the last run committed past the stop
 * point holds a later state than the stop point's: this target cannot show
 * that point. Refused, with the ways out.
 */
static bool
check_throughs(replay *r, pt_err *err)
{
	for (int i = 0; i < r->nthroughs; i++)
	{
		if (r->throughs[i].event_id <= r->stop_id)
			continue;
		pt_err_set(err, PT_ERR_CONFIG, "table \"%s\".\"%s\" in the target is at event %lld, past the stop point "
				   "(event %lld): a --jobs connection of an earlier run committed it before that run stopped",
				   r->throughs[i].schema, r->throughs[i].table, (long long) r->throughs[i].event_id,
				   (long long) r->stop_id);
		pt_err_hint(err, "replay this target to at least event %lld, or start it over with --clean (or replay "
					"into a fresh target) to stop earlier", (long long) r->throughs[i].event_id);
		return false;
	}
	return true;
}

/* The schema version each table replay made is at, from the target. */
bool
pt_replay_load_table_versions(replay *r, pt_err *err)
{
	PGresult   *res = pt_position_tables(r->target, r->opts->state_schema, r->store, err);

	if (res == NULL)
		return false;
	for (int i = 0; i < PQntuples(res); i++)
	{
		pt_ttable  *tt = pt_events_table(r, PQgetvalue(res, i, 0), PQgetvalue(res, i, 1), INT_MAX, err);

		if (tt == NULL)
		{
			PQclear(res);
			return false;
		}
		tt->version = atoi(PQgetvalue(res, i, 2));
	}
	PQclear(res);
	return true;
}

static bool
load_position(replay *r, pt_err *err)
{

	if (r->opts->dry_run)
	{
		/* change nothing: a target replay never ran on has no state yet */
		if (!pt_position_load(r->target, r->opts->state_schema, r->store, &r->committed, err))
			return strcmp(err->sqlstate, "3F000") == 0 || strcmp(err->sqlstate, PT_SQLSTATE_UNDEFINED_TABLE) == 0;
	}
	else if (!pt_position_install(r->target, r->opts->state_schema, err) ||
			 !pt_position_load(r->target, r->opts->state_schema, r->store, &r->committed, err))
		return false;
	if (!pt_replay_load_table_versions(r, err) || (!r->opts->dry_run && !load_throughs(r, err)))
		return false;
	r->applied_id = r->committed.event_id;
	memcpy(r->applied_hash, r->committed.hash, PT_HASH_LEN);
	return true;
}


/*
 * Did capture count possible NaN-as-null values in this store? wal2json
 * stores do (each null of a nullable numeric or float column); a pgoutput
 * store carries NaN exactly and counts none, so its nulls are nulls.
 */
static bool
nan_counted(const replay *r)
{
	for (int i = 0; i < r->nloss_lines; i++)
		if (strstr(r->loss_lines[i], "nan_as_null") != NULL)
			return true;
	return false;
}
static void
summary(replay *r, bool ok)
{
	double		secs = (double) (pt_now_us() - r->started_us) / 1e6;
	char		at[PT_TIME_BUFLEN] = "-";
	char		lsn[PT_LSN_BUFLEN] = "-";

	if (r->nevents > 0)
	{
		pt_time_format(r->last_time, at);
		pt_lsn_format(r->last_lsn, lsn);
	}
	progress(r, true);
	if (!ok)
	{
		pt_log_info(r->log, "stopped: the target is at event %lld", (long long) r->committed.event_id);
		return;
	}
	pt_log_info(r->log, "replayed %lld events (%lld transactions) in %.1f s, %.0f events/s; the target is at event "
				"%lld (commit %s, %s)", (long long) r->nevents, (long long) r->ntxns, secs,
				secs > 0 ? (double) r->nevents / secs : 0.0, (long long) r->committed.event_id, lsn, at);
	if (r->win && pt_window_changes(r->win) > 0)
		pt_log_info(r->log, "net effect: %lld row changes collapsed in windows into %lld rows written, %lld of them "
					"set-based (%lld windows, %.1f s writing them)", (long long) pt_window_changes(r->win),
					(long long) pt_window_rows(r->win), (long long) pt_window_rows_set_based(r->win),
					(long long) pt_window_flushes(r->win), (double) pt_window_flush_us(r->win) / 1e6);
	if (r->jobs)
		pt_log_info(r->log, "--jobs %d: windows written on %d target connections at once, where a batch held "
					"nothing else", r->opts->jobs, r->nlanes + 1);
	if (r->skipped > 0)
		pt_log_info(r->log, "%lld events of tables dropped before the stop point were not applied (the target "
					"needs no such tables)", (long long) r->skipped);
	for (pt_ttable *tt = r->tables; tt; tt = tt->next)
	{
		if (tt->fig.erased_values > 0)
			pt_log_info(r->log, "table %s: %lld values were erased from the log (pgtrail-erase) and went in as null; "
						"%lld changes whose key was erased were left out", tt->qname,
						(long long) tt->fig.erased_values, (long long) tt->fig.erased_skipped);
		if (tt->fig.known_loss > 0)
			pt_log_warning(r->log, "table %s: %lld values of NOT NULL numeric or float columns arrived as null: "
						   "NaN or Infinity at the source, which wal2json 2.5 sends as null (a known loss)",
						   tt->qname, (long long) tt->fig.known_loss);
		if (tt->fig.possible_loss > 0 && nan_counted(r))
			pt_log_warning(r->log, "table %s: %lld nulls of nullable numeric or float columns came from the stream "
						   "and went in as null: each may have been NaN or Infinity at the source, which wal2json "
						   "2.5 sends as null", tt->qname, (long long) tt->fig.possible_loss);
	}
	for (int i = 0; i < r->nloss_lines; i++)
		pt_log_warning(r->log, "known loss (counted by capture): %s", r->loss_lines[i]);
}

static void
cleanup(replay *r)
{
	if (r->ap)
		pt_apply_closing(r->ap);
	while (r->tables)
	{
		pt_ttable  *next = r->tables->next;

		if (r->ap)
			pt_apply_forget(r->ap, r->tables);
		pt_ttable_free(r->tables);
		r->tables = next;
	}
	pt_apply_free(r->ap);
	pt_window_free(r->win);
	pt_window_jobs_free(r->jobs);
	for (int i = 0; i < r->nlanes; i++)
		pt_pq_close(r->lanes[i]);
	free(r->lanes);
	pt_replay_forget_throughs(r);
	pt_versions_free(r->versions);
	pt_trust_free(r);
	free(r->openings);
	for (int i = 0; i < r->ndrops; i++)
	{
		free(r->drops[i].schema);
		free(r->drops[i].table);
	}
	free(r->drops);
	pt_mapping_free(r->mapping);
	pt_filter_free(r->filter);
	pt_jsonobj_free(&r->obj);
	pt_jsonobj_free(&r->obj2);
	pt_values_free(&r->set);
	pt_values_free(&r->where);
	free(r->items);
	pt_buf_free(&r->sname);
	pt_buf_free(&r->tname);
	free(r->save_sql);
	free(r->store);
	pt_loss_lines_free(r->loss_lines, r->nloss_lines);
	pt_pq_close(r->events);
	pt_pq_close(r->target);
}

/*
 * A window could not be applied (the target refused a set-based statement,
 * or the log contradicts the window): the batch was rolled back, and the
 * same events go again one statement each, up to where it failed, which
 * either succeeds (the window's order of statements was what failed, e.g.
 * a unique index other than the key) or names the event the target does
 * not fit. Windows resume after that point.
 */
static bool
redo_in_order(replay *r, int64_t stop_id, int64_t *broken_txn, pt_err *err)
{
	while (r->redo_at > r->ordered_until && *broken_txn == 0)
	{
		pt_log_info(r->log, "events %lld to %lld go again one by one: %s", (long long) r->committed.event_id + 1,
					(long long) r->redo_at, err->message);
		r->ordered_until = r->redo_at;
		r->redo_at = 0;
		pt_err_clear(err);
		if (replay_range(r, stop_id, broken_txn, err))
			return true;
	}
	r->redo_at = 0;
	return false;
}

/* One round: replay up to the stop point; a broken chain still leaves the
 * target at the last good transaction before it is reported. */
static bool
round_trip(replay *r, pt_err *err)
{
	int64_t		broken_txn,
				good_end;
	pt_err		first;

	if (r->stop_id < r->committed.event_id && !r->opts->follow)
		pt_log_warning(r->log, "the target is already at event %lld, past the stop point (event %lld): nothing "
					   "to do; replay into a fresh target, or with --clean, to go back", (long long) r->committed.event_id,
					   (long long) r->stop_id);
	if (r->stop_id <= r->committed.event_id)
		return true;
	if (replay_range(r, r->stop_id, &broken_txn, err) || redo_in_order(r, r->stop_id, &broken_txn, err))
		return true;
	if (broken_txn == 0 || broken_txn - 1 <= r->committed.event_id)
		return false;
	first = *err;
	good_end = broken_txn - 1;
	if (!replay_range(r, good_end, &broken_txn, err) && !redo_in_order(r, good_end, &broken_txn, err))
		return false;
	*err = first;
	pt_err_detail(err, "the target holds everything before that transaction (up to event %lld)",
				  (long long) r->committed.event_id);
	return false;
}

static void
wait_poll(replay *r)
{
	for (int waited = 0; waited < r->opts->poll_interval_ms && !*r->stop; waited += 50)
		usleep(50 * 1000);
}

static bool
prepare(replay *r, pt_err *err)
{
	if (r->opts->create_tables && r->opts->map && r->opts->map[0])
	{
		pt_err_set(err, PT_ERR_CONFIG, "mapping rules and --create-tables do not go together");
		pt_err_hint(err, "--create-tables makes the tables as the log recorded them; mapping rules are for "
					"replaying into a schema you restored (pg_dump --schema-only), whose names differ");
		return false;
	}
	if ((r->filter = pt_filter_new(r->opts->tables, "", r->opts->schema, err)) == NULL ||
		(r->mapping = pt_mapping_parse(r->opts->map, err)) == NULL || !connect_all(r, err))
		return false;
	if (r->target == NULL)
		return true;			/* --dry-run without a target */
	r->ap = pt_apply_new(r->target);
	if (r->opts->window_mb > 0)
		r->win = pt_window_new(r->target, r->ap, (size_t) r->opts->window_mb * 1024 * 1024);
	if ((r->save_sql = pt_position_save_sql(r->target, r->opts->state_schema, err)) == NULL ||
		!load_position(r, err))
		return false;
	if (r->nlanes > 0 && r->win)
	{
		char	   *sql = pt_position_table_save_sql(r->target, r->opts->state_schema, err);

		if (sql == NULL)
			return false;
		r->jobs = pt_window_jobs_new(r->lanes, r->nlanes, sql, r->store);
		free(sql);
	}
	return true;
}

bool
pt_replay_run(const pt_replay_opts *opts, pt_log *log, volatile sig_atomic_t *stop, pt_err *err)
{
	replay		r;
	bool		ok;

	memset(&r, 0, sizeof(r));
	r.opts = opts;
	r.log = log;
	r.stop = stop;
	pt_jsonobj_init(&r.obj);
	pt_jsonobj_init(&r.obj2);
	r.started_us = r.last_progress_us = pt_now_us();
	if (opts->progress_tty)
		r.last_progress_us = 0;	/* on a terminal, show the line from the first thousand events */
	/* the stop point first: every version an event up to it follows is then in the store */
	ok = prepare(&r, err) && pt_plan_find_stop(&r, &r.stop_id, err) && pt_events_load_versions(&r, err) &&
		pt_plan_load_drops(&r, err) && pt_plan_check_filter(&r, err);
	r.first_id = r.committed.event_id;
	if (ok && opts->dry_run)
	{
		printf("pgtrail-replay: would apply events %lld to %lld (%lld events) into the target; tables:\n",
			   (long long) r.committed.event_id + 1, (long long) r.stop_id,
			   (long long) (r.stop_id > r.committed.event_id ? r.stop_id - r.committed.event_id : 0));
		ok = r.target == NULL || pt_plan_check_tables(&r, r.stop_id, err);
		cleanup(&r);
		return ok;
	}
	ok = ok && pt_plan_check_tables(&r, r.stop_id, err) && (opts->clean || check_throughs(&r, err));
	if (ok && opts->clean)
		ok = pt_plan_clean(&r, err) && pt_events_load_versions(&r, err);
	else if (ok)
		ok = pt_replay_check_filter(&r, err);
	r.first_id = r.committed.event_id;
	while (ok)
	{
		ok = round_trip(&r, err);
		if (!ok || !opts->follow || *stop ||
			(opts->until != PT_UNTIL_END && r.stop_reached && r.committed.event_id >= r.stop_id))
			break;
		wait_poll(&r);
		ok = !*stop ? pt_plan_find_stop(&r, &r.stop_id, err) && pt_events_load_versions(&r, err) && pt_plan_load_drops(&r, err) : true;
		if (*stop)
			break;
	}
	summary(&r, ok);
	cleanup(&r);
	return ok;
}
