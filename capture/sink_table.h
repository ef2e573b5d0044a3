/*
 * capture/sink_table.h — the event table sink: events into the event store
 * through pt_store_writer, one sink transaction per batch, state row
 * included; checkpoints in the same transactions, and each one appended
 * to the anchor file once committed.
 */
#ifndef PGTRAIL_CAPTURE_SINK_TABLE_H
#define PGTRAIL_CAPTURE_SINK_TABLE_H

#include <libpq-fe.h>

#include "capture/sink.h"
#include "core/checkpoint.h"
#include "core/store.h"

/* When to write checkpoints; all zero/NULL: none. */
typedef struct pt_checkpoint_opts
{
	const pt_signing_key *key;	/* borrowed; NULL: unsigned checkpoints */
	const char *anchor_file;	/* NULL or "": no anchor file */
	int64_t		every_events;
	int64_t		every_us;
} pt_checkpoint_opts;

/* Are checkpoints wanted at all (a key or an anchor file)? */
bool		pt_checkpoints_wanted(const pt_checkpoint_opts *cpo);

/* A sink over conn (borrowed) for slot's chain; false and err on failure. */
bool		pt_sink_table_open(pt_sink *sink, PGconn *conn, const char *schema, const char *slot,
							   const pt_checkpoint_opts *cpo, pt_err *err);

/* The committed position (for resuming). */
const pt_store_state *pt_sink_table_state(const pt_sink *sink);

/* The checkpoint the last commit (or pt_sink_table_checkpoint) wrote, or NULL. */
const pt_checkpoint *pt_sink_table_new_checkpoint(const pt_sink *sink);

/* A known loss, counted in the event store (pt_store_writer_loss). */
bool		pt_sink_table_loss(pt_sink *sink, const char *schema_name, const char *table_name, const char *kind,
							   const char *detail, int64_t count, pt_lsn lsn, pt_err *err);

/* On a clean stop: checkpoint the last event, if checkpoints are on. */
bool		pt_sink_table_checkpoint(pt_sink *sink, pt_err *err);

/* [capture] withhold: columns whose values never enter the log (core/withhold.h). */
bool		pt_sink_table_withhold(pt_sink *sink, const char *columns, pt_err *err);

/*
 * Keep each batch's seal key until it commits (core/store_seals.h): on
 * when a sink sends events before their batch commits (Kafka), so an event
 * sent again after a crash carries the same hash.
 */
void		pt_sink_table_keep_seal_keys(pt_sink *sink, bool on);

#endif
