/*
 * replay/replay.h — pgtrail-replay's work, below main().
 *
 * pt_replay_run() rebuilds the captured tables in a target database from
 * the event log: it streams events in id order (one row in memory), checks
 * the hash chain as it goes, applies whole source transactions in batches
 * (one target transaction per batch, statements pipelined), keeps its
 * position in the target so the next run continues there, and stops
 * exactly at a transaction boundary. pt_replay_query() answers the point
 * queries (--as-of, --history) from the log alone.
 */
#ifndef PGTRAIL_REPLAY_REPLAY_H
#define PGTRAIL_REPLAY_REPLAY_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "core/err.h"
#include "core/log.h"
#include "core/lsn.h"

typedef enum pt_until_kind
{
	PT_UNTIL_END = 0,			/* everything in the log */
	PT_UNTIL_LSN,
	PT_UNTIL_TIME,
	PT_UNTIL_EVENT,
	PT_UNTIL_XID
} pt_until_kind;

typedef struct pt_replay_opts
{
	const char *events_dsn;		/* event store */
	const char *target_dsn;
	const char *schema;			/* event store schema */
	const char *state_schema;	/* replay's position in the target */
	pt_until_kind until;
	pt_lsn		until_lsn;
	const char *until_time;		/* timestamptz text */
	int64_t		until_event;
	int64_t		until_xid;
	const char *tables;			/* include patterns ("" = all) */
	const char *map;			/* mapping rules ("" = none) */
	bool		create_tables;
	bool		clean;
	bool		dry_run;
	bool		verify;
	const char *public_key;		/* PEM public key(s): signed checkpoints must verify ("" = none) */
	const char *anchor;			/* capture's anchor file: the chain must pass through it ("" = none) */
	bool		follow;
	int			poll_interval_ms;
	int			batch_size;
	int			window_mb;		/* 0: no windows, a statement per change */
	int			jobs;			/* target connections a window is written on (window_jobs.h) */
	bool		progress_tty;	/* draw a progress line (stderr is a terminal) */
} pt_replay_opts;

/* Replay until the stop point (or, with follow, until *stop is set). */
bool		pt_replay_run(const pt_replay_opts *opts, pt_log *log, volatile sig_atomic_t *stop, pt_err *err);

typedef struct pt_query_opts
{
	const char *events_dsn;
	const char *schema;
	const char *table;			/* schema.table */
	const char *key;			/* JSON object */
	const char *as_of;			/* timestamptz text, or NULL for history */
	bool		table_format;	/* aligned table instead of JSON lines */
	const char *public_key;		/* with either: the whole log is proven first ("" = none) */
	const char *anchor;
	pt_log	   *log;
} pt_query_opts;

/* Print the row as of a time, or its history, to out. */
bool		pt_replay_query(const pt_query_opts *opts, FILE *out, pt_err *err);

#endif
