/*
 * capture/sink_table.h — the event table sink: events into the event store
 * through pt_store_writer, one sink transaction per batch, state row included.
 */
#ifndef PGTRAIL_CAPTURE_SINK_TABLE_H
#define PGTRAIL_CAPTURE_SINK_TABLE_H

#include <libpq-fe.h>

#include "capture/sink.h"
#include "core/store.h"

/* A sink over conn (borrowed) for slot's chain; false and err on failure. */
bool		pt_sink_table_open(pt_sink *sink, PGconn *conn, const char *schema, const char *slot, pt_err *err);

/* The committed position (for resuming). */
const pt_store_state *pt_sink_table_state(const pt_sink *sink);

#endif
