/*
 * capture/capture.h — the capture daemon's work, below main().
 *
 * pt_capture_run() checks the source, finds or creates the slot, streams
 * wal2json changes, turns each committed row change into an event and
 * writes it through the sinks in batches of whole source transactions, and
 * confirms the slot only up to what the sinks committed. It returns when
 * told to stop (after finishing the transaction in flight), when --endpos
 * is reached, or on an error.
 */
#ifndef PGTRAIL_CAPTURE_CAPTURE_H
#define PGTRAIL_CAPTURE_CAPTURE_H

#include <signal.h>
#include <stdbool.h>

#include "capture/metrics.h"
#include "capture/sink_kafka.h"
#include "capture/sink_table.h"
#include "core/err.h"
#include "core/log.h"
#include "core/lsn.h"

typedef enum pt_snapshot_mode
{
	PT_SNAPSHOT_INITIAL,
	PT_SNAPSHOT_NEVER
} pt_snapshot_mode;

typedef struct pt_capture_opts
{
	const char *source_dsn;		/* "" = libpq defaults */
	const char *sink_dsn;		/* NULL or "" = the source */
	const char *schema;			/* event store schema */
	const char *slot;
	const char *tables;			/* include patterns, NULL = all */
	const char *exclude_tables;
	pt_snapshot_mode snapshot;
	bool		messages;		/* other transactional messages become "message" events */
	bool		ddl;			/* DDL capture: event triggers, ddl events, rewrite re-snapshots */
	bool		resnapshot;		/* recover a lost/vanished slot: gap event + snapshot */
	bool		failover_slot;	/* the slot is a failover slot (PostgreSQL 17+) */
	const char *decoder;		/* the slot's plugin: "wal2json" or "pgoutput" */
	const char *publication;	/* pgoutput: the publication read through */
	const char *withhold;		/* [capture] withhold: columns kept out of the log (core/withhold.h) */
	bool		point_query_indexes;	/* create the store's indexes for replay's point queries */
	bool		origin_filter;	/* own writes: replication origin (else filter-tables only) */
	bool		has_endpos;
	pt_lsn		endpos;
	int			batch_size;		/* events per sink transaction (at txn boundaries) */
	int			batch_interval_ms;	/* longest a batch stays open */
	int			status_interval_ms; /* standby status updates */
	int			heartbeat_interval_ms;	/* idle source: heartbeat message (0 = off) */
	pt_checkpoint_opts checkpoints; /* signed checkpoints, anchor file */
	bool		kafka;			/* publish to Kafka too */
	pt_kafka_opts kafka_opts;
	pt_metrics *metrics;		/* --metrics: numbers for /metrics and /readyz, NULL = off */
} pt_capture_opts;

/* Run until stopped (*stop set by a signal handler), endpos, or an error
 * that another try cannot fix; lost connections are retried with backoff. */
bool		pt_capture_run(const pt_capture_opts *opts, pt_log *log,
						   volatile sig_atomic_t *stop, pt_err *err);

#endif
