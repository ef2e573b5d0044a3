/*
 * core/store_tombstones.h — keys erased from the event store whose Kafka
 * tombstones are not sent yet (table tombstones_due).
 *
 * An erasure that removes an event's key leaves nothing from which capture
 * could rebuild the Kafka message key, and a compacted topic keeps the last
 * record of every key until a tombstone (a null value under that key) comes.
 * So, when a Kafka sink reads the store, pgtrail-erase writes each key it
 * erases here, in the erasure's transaction; capture sends the tombstones
 * with the erasure event and deletes the rows once Kafka has acknowledged
 * that event. A key stays here only that long (docs/OPERATIONS.md).
 */
#ifndef PGTRAIL_CORE_STORE_TOMBSTONES_H
#define PGTRAIL_CORE_STORE_TOMBSTONES_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"
#include "core/event.h"

/* Does a Kafka sink read the store in schema (a position in sink_positions)? */
bool		pt_tombstones_wanted(PGconn *conn, const char *schema, bool *wanted, pt_err *err);

/*
 * ev's key (as stored before the erasure), due with the erasure being
 * written in this transaction; a key already due is kept once, at its
 * newest table version.
 */
bool		pt_tombstones_add(PGconn *conn, const char *schema, const pt_event *ev, pt_err *err);

/* The keys added in this transaction belong to erasure event erasure_id. */
bool		pt_tombstones_assign(PGconn *conn, const char *schema, int64_t erasure_id, pt_err *err);

/*
 * The keys due with erasures from erasure_id on, in erasure order: a result
 * of erasure_id, schema_name, table_name, schema_version, key (caller clears).
 */
PGresult   *pt_tombstones_from(PGconn *conn, const char *schema, int64_t erasure_id, pt_err *err);

/* Kafka acknowledged every event up to through_id: their tombstones are sent. */
bool		pt_tombstones_forget(PGconn *conn, const char *schema, int64_t through_id, pt_err *err);

#endif
