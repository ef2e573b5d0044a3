/*
 * capture/losses.h — known losses said, never silent (issue 16 item 5).
 *
 * What capture can tell it did not get whole: NaN and ±Infinity that
 * wal2json 2.5 sends as null (certain in a NOT NULL numeric or float
 * column, possible in a nullable one), tables whose changes the server
 * does not decode (unlogged; no replica identity: no UPDATE or DELETE),
 * non-transactional logical messages, and the stored generated columns
 * pgoutput before 18 does not send. Each is said once per table (and
 * column, or prefix) in the log with the fix, counted in the metrics, and
 * counted in the event store's losses table (core/store_losses.h), which
 * verify and replay report. Tables are checked in the catalog at start,
 * when a version opens, and at the heartbeat's pace, since a table that
 * loses every change shows nothing in the stream.
 */
#ifndef PGTRAIL_CAPTURE_LOSSES_H
#define PGTRAIL_CAPTURE_LOSSES_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>

#include "capture/metrics.h"
#include "capture/schema.h"
#include "capture/sink.h"
#include "core/err.h"
#include "core/filter.h"
#include "core/log.h"
#include "core/wal2json.h"

typedef struct pt_losses pt_losses;

/* log, metrics (may be NULL), the event table sink, its connection and schema are borrowed. */
pt_losses  *pt_losses_new(pt_log *log, pt_metrics *m, pt_sink *table_sink, PGconn *sink_conn,
						  const char *store_schema);
void		pt_losses_free(pt_losses *l);

/* Read what the store already counted (before the stream starts, outside a batch). */
bool		pt_losses_start(pt_losses *l, pt_err *err);

/* The nulls of numeric and float columns in the new row of an I or U change. */
bool		pt_losses_row(pt_losses *l, const pt_w2j_change *ch, pt_err *err);

/*
 * The stored generated columns of tv that the decoder left out of an I or
 * U change (pgoutput before PostgreSQL 18), one value each.
 */
bool		pt_losses_unsent(pt_losses *l, const pt_w2j_change *ch, const pt_table_version *tv, pt_err *err);

/* A non-transactional logical message at lsn (not captured). */
bool		pt_losses_nontx_message(pt_losses *l, const char *prefix, pt_lsn lsn, pt_err *err);

/*
 * A version of a table opened (details: what the catalog said then, may be
 * NULL): without a key, a replica identity DEFAULT or NOTHING is said and
 * counted as no_replica_identity (once per table) when the source's catalog
 * (conn) still finds the table so: a passing state is not a loss.
 */
bool		pt_losses_version(pt_losses *l, PGconn *conn, const char *schema, const char *table, int npk,
							  const char *details, pt_err *err);

/* Captured tables that are unlogged or have no replica identity, from the catalog on conn. */
bool		pt_losses_check_tables(pt_losses *l, PGconn *conn, const pt_filter *filter, pt_err *err);

#endif
