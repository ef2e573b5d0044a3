/*
 * replay/run.h — the state of one replay run, shared by its parts:
 * replay.c (the loop: batches, position, progress, follow), events.c
 * (applying one event: rows, DDL, gaps, tables created and evolved) and
 * plan.c (before anything is written: the stop point, dropped tables, the
 * tables the log needs, --clean). Private to pgtrail-replay.
 */
#ifndef PGTRAIL_REPLAY_RUN_H
#define PGTRAIL_REPLAY_RUN_H

#include <libpq-fe.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/filter.h"
#include "core/jsonobj.h"
#include "core/log.h"
#include "replay/apply.h"
#include "replay/mapping.h"
#include "replay/position.h"
#include "replay/replay.h"
#include "replay/target.h"
#include "replay/versions.h"
#include "replay/window.h"
#include "replay/window_jobs.h"

typedef struct pt_pin pt_pin;
typedef struct pt_keyring pt_keyring;

/* A schema version that opens at an event id. */
typedef struct opening
{
	int64_t		event_id;
	const pt_rtable *rt;
	const pt_rversion *rv;
} opening;

/* A target table a --jobs lane committed past the position (position.h: table_positions). */
typedef struct through
{
	char	   *schema;
	char	   *table;
	int64_t		event_id;
} through;

/* A table a DDL event dropped. */
typedef struct drop
{
	char	   *schema;
	char	   *table;
	int64_t		event_id;
	int64_t		oid;			/* 0: not recorded */
} drop;

typedef struct replay
{
	const pt_replay_opts *opts;
	pt_log	   *log;
	volatile sig_atomic_t *stop;
	PGconn	   *events;
	PGconn	   *target;
	char	   *store;			/* names the event store in the target's position table */
	pt_versions *versions;
	pt_mapping *mapping;
	pt_filter  *filter;
	pt_apply   *ap;
	pt_window  *win;			/* NULL: every change a statement of its own */
	PGconn	  **lanes;			/* --jobs: the other target connections */
	int			nlanes;
	pt_window_jobs *jobs;		/* NULL: windows are written on the target connection alone */
	through    *throughs;		/* tables ahead of the position, from the last run */
	int			nthroughs;
	int64_t		window_last;	/* the last event the window took */
	int64_t		ordered_until;	/* events up to here go one by one (a window failed there) */
	int64_t		redo_at;		/* a window failed: replay again, in order, up to here */
	char	   *save_sql;
	pt_ttable  *tables;
	opening    *openings;		/* by event id */
	drop	   *drops;			/* tables dropped up to the stop point */
	int			ndrops;
	int64_t		skipped;		/* events of tables dropped before the stop point */
	bool		count_nulls;	/* the event's new row came from the stream (not a snapshot) */
	char	  **loss_lines;		/* the store's known losses (core/store_losses.h) */
	int			nloss_lines;
	int			nopenings;
	int			next_opening;

	/* reused per event */
	pt_jsonobj	obj;
	pt_jsonobj	obj2;
	pt_values	set;
	pt_values	where;
	pt_text    *items;
	int			itemcap;
	pt_buf		sname;
	pt_buf		tname;

	/* position: committed in the target, and applied in the open batch */
	pt_position committed;
	int64_t		applied_id;
	uint8_t		applied_hash[PT_HASH_LEN];

	/* the source transaction being applied, the open batch */
	bool		in_txn;
	pt_lsn		txn_lsn;
	bool		txn_has_xid;
	int64_t		txn_xid;
	int64_t		txn_first;
	bool		batch_open;
	int64_t		batch_events;
	bool		batch_direct;	/* something of the batch went to the target outside the window */
	bool		window_full;	/* --jobs: the window is full; the batch commits at the transaction's end */

	/* figures */
	int64_t		stop_id;
	bool		stop_reached;	/* the log already goes past the --until-* point */
	int64_t		first_id;
	int64_t		nevents;
	int64_t		ntxns;
	int64_t		nevents_committed;	/* nevents, ntxns and skipped at the last commit */
	int64_t		ntxns_committed;
	int64_t		skipped_committed;
	int64_t		started_us;
	int64_t		last_progress_us;
	pt_lsn		last_lsn;
	int64_t		last_time;
	bool		progress_shown;
	bool		legacy_said;	/* unproven schema versions were warned about */

	/* pins: checkpoints and anchor lines ahead of the position (trust.c) */
	pt_keyring *ring;			/* --public-key; NULL: signatures are not checked */
	pt_pin	   *pins;			/* by event id */
	int			npins;
	int			pincap;
	int			next_pin;
	int			npins_loaded;	/* times loaded (the warnings are said once) */
	int64_t		nsigned;		/* signed checkpoints in the store */
	int64_t		ncheckpoints;	/* checkpoints in the store */
	int64_t		last_good_pin;	/* the last pin passed and checked (or the position) */
	int64_t		anchor_end;		/* the last event the anchor file names */
	int64_t		log_end;		/* the log's last id when the anchor file was read */
	int64_t		range_stop;		/* the last event of the range being applied */
	bool		pin_failed;
	int64_t		said_unproven;	/* the position pt_trust_say_unproven last spoke of */

	/* schema events read from the stream in this run, with their rows (trust.c) */
	struct seen_schema
	{
		int64_t		event_id;
		char	   *doc;
	}		   *seen;
	int			nseen;
	int			seencap;
} replay;

/* ---- events.c ---- */

/* Apply one event (row change, DDL, gap, message) in the open batch. */
bool		pt_events_apply(replay *r, const pt_event *ev, pt_err *err);

/* (Re)load the schema versions, and the openings after the last applied event. */
bool		pt_events_load_versions(replay *r, pt_err *err);

/* The target table events of (schema, table, version) go to (made on first use). */
pt_ttable  *pt_events_table(replay *r, const char *schema, const char *table, int version, pt_err *err);

/* The table's target catalog, read when not yet known (out of the pipeline). */
bool		pt_events_loaded(replay *r, pt_ttable *tt, pt_err *err);

/* Does --tables take this table? */
bool		pt_events_wanted(const replay *r, const char *schema, const char *table);

/* DELETE every row of the table in the open batch (TRUNCATE, rewrite, gap). */
bool		pt_events_empty_table(replay *r, pt_ttable *tt, int64_t event_id, pt_err *err);

/* t as a C string in b (NULL text gives ""). */
const char *pt_events_cstr(pt_buf *b, pt_text t);

/* ---- plan.c ---- */

/* The last event id to apply (a transaction boundary) into *stop_id. */
bool		pt_plan_find_stop(replay *r, int64_t *stop_id, pt_err *err);

/* The tables DDL events dropped up to the stop point. */
bool		pt_plan_load_drops(replay *r, pt_err *err);

/* Was this incarnation of the table dropped by the stop point? */
bool		pt_plan_dropped(const replay *r, const pt_rtable *rt, const pt_rversion *rv);

/* Into an existing schema: every table the log needs must be there (lists them with --dry-run). */
bool		pt_plan_check_tables(replay *r, int64_t stop_id, pt_err *err);

/* --tables must name at least one table of the log (a typo replays nothing). */
bool		pt_plan_check_filter(replay *r, pt_err *err);

/* --clean: empty what replay would write (drop what it created), start over. */
bool		pt_plan_clean(replay *r, pt_err *err);

/* ---- trust.c ---- */

/* Every schema version must be what its schema event says (false: refused). */
bool		pt_trust_versions(replay *r, pt_err *err);

/* A schema event as streamed must be the version loaded (false: refused). */
bool		pt_trust_schema_event(replay *r, const pt_event *ev, pt_err *err);

/* May this version open? Its schema event must have been read as loaded. */
bool		pt_trust_opening(replay *r, const pt_rtable *rt, const pt_rversion *rv, pt_err *err);

/* The pins after the position: checkpoints (with --public-key) and anchor lines. */
bool		pt_trust_load_pins(replay *r, pt_err *err);

/* With pins ahead and --create-tables: walk the range first (false: *end is where to stop). */
bool		pt_trust_walk(replay *r, int64_t stop_id, int64_t *end, pt_err *err);

/* The event passes every pin at its id (false: a bad pin, refused). */
bool		pt_trust_pass(replay *r, const pt_event *ev, pt_err *err);

/* May the batch commit here? Not while an unchecked pin lies ahead before range_stop. */
bool		pt_trust_may_commit(const replay *r, int64_t range_stop);

/* end, or the last checked pin when a pin lay ahead in the range (where a rerun may go). */
int64_t		pt_trust_safe_end(const replay *r, int64_t end);

/* Say (once per position) that the committed events past the last checked pin are unproven. */
void		pt_trust_say_unproven(replay *r);

void		pt_trust_free(replay *r);

/* Walk the whole log: its chain, and the pins of public_key and anchor (point queries). */
bool		pt_trust_prove_log(PGconn *conn, const char *schema, const char *public_key, const char *anchor,
							   pt_log *log, pt_err *err);

/* ---- replay.c ---- */

/* Apply the window's net effect (out of the pipeline); a failure sets redo_at. */
bool		pt_replay_flush_window(replay *r, pt_err *err);

/* The window is full: applied now, or with --jobs at the source transaction's end (false: failed). */
bool		pt_replay_window_full(replay *r, pt_err *err);

/* A lane's position for the target table (schema, table) from the last run, or 0. */
int64_t		pt_replay_through(const replay *r, const char *schema, const char *table);

/* Forget the lanes' positions (--clean started the target over). */
void		pt_replay_forget_throughs(replay *r);

/* The schema version each table replay made is at, from the target. */
bool		pt_replay_load_table_versions(replay *r, pt_err *err);

/* The position was made with these --tables (false: refused, with a hint). */
bool		pt_replay_check_filter(replay *r, pt_err *err);

#endif
