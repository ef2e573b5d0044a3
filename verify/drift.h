/*
 * verify/drift.h — drift: live rows that differ from the state the log
 * describes, i.e. changes that bypassed the log.
 *
 * The log's state is rebuilt by pgtrail-replay's engine, in-process, into
 * a scratch database: by default a temporary database created in the
 * source's cluster (pgtrail_drift_<pid>_<time>, needs CREATEDB, dropped
 * at the end on every path; another database is not decoded by the
 * source's logical slot nor seen by its event triggers, so the log does
 * not record it), or a given empty database (--drift-scratch), emptied
 * again at the end. Every table replay made there is then compared with
 * the live table of the same name: both sides are streamed with COPY,
 * sorted by the primary key's text (all columns for a table without
 * one: its rows compare as a multiset), and merge-joined one row of each
 * side at a time, so memory stays bounded whatever the table sizes. Leaf
 * tables are compared (FROM ONLY), partitioned parents are not: their
 * rows are their leaves'. Values compare as their text output under the
 * settings pt_pq_connect pins on both connections.
 *
 * A busy source is ahead of the log: when rows differ and the log is
 * behind the source's WAL position, a settle round waits (up to wait_s)
 * for capture to pass it, replays on and compares again.
 *
 * Limits: user-defined types (enums, domains, extension types) must exist
 * in the scratch database for replay to create the tables: pass
 * --drift-scratch with a database holding them. Replay sets
 * session_replication_role there: a role that is not a superuser needs
 * GRANT SET ON PARAMETER session_replication_role. Live tables the log
 * never had are not compared; a table of the log's state that is not live
 * (dropped without DDL capture, say) is a finding. The live side is read
 * in one repeatable-read snapshot (held for the whole comparison); the
 * log's side is what the store held when the rebuild ran.
 */
#ifndef PGTRAIL_VERIFY_DRIFT_H
#define PGTRAIL_VERIFY_DRIFT_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"
#include "core/log.h"
#include "verify/report.h"

typedef struct pt_drift_opts {
	const char *events_dsn;   /* event store */
	const char *schema;       /* event store schema */
	const char *source_dsn;   /* the live tables */
	const char *scratch_dsn;  /* "" = a temporary database made in the source's cluster */
	int64_t     until_event;  /* rebuild up to this event (the last one verify checked); 0 = end */
	int         wait_s;       /* settle round: how long to wait for capture to catch up */
	int         max_rows;     /* rows listed per table */
} pt_drift_opts;

/* Rebuild, compare, report drift into rep. False with err when it could not run (kind RUNTIME/CONFIG); drift itself is not an error, it is findings in rep. */
bool pt_drift_run(const pt_drift_opts *opts, pt_log *log, volatile sig_atomic_t *stop, pt_report *rep, pt_err *err);

#endif
