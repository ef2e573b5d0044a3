/*
 * core/store_due.h — the Kafka messages an erasure owes consumers, kept
 * until capture has sent them (table erasure_due).
 *
 * A topic keeps the last record of every key (a compacted topic for good),
 * and a sink's copy of the row keeps what that record said. So after an
 * erasure, when a Kafka sink reads the store, capture sends with the
 * erasure event:
 *   a tombstone (a null value) under each key the erasure removed: once
 *     the key is erased nothing in the store could rebuild the message
 *     key, so pgtrail-erase keeps it here, in the erasure's transaction;
 *   debezium: an update record of each key whose last record lost values
 *     (its row as it is now), the key kept.
 * Capture deletes the rows once Kafka has acknowledged the erasure event;
 * an erased key stays here only that long (docs/OPERATIONS.md).
 */
#ifndef PGTRAIL_CORE_STORE_DUE_H
#define PGTRAIL_CORE_STORE_DUE_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"
#include "core/event.h"

/*
 * Does a Kafka sink read the store in schema (a position in sink_positions)?
 * False with err (PT_ERR_CONFIG) when one does but the store has no
 * erasure_due table yet (made by an older capture).
 */
bool		pt_due_wanted(PGconn *conn, const char *schema, bool *wanted, pt_err *err);

typedef struct pt_due_last
{
	int64_t		id;
	bool		truncated;		/* a truncate of its table came after: the row is gone */
} pt_due_last;

/*
 * Of the events ids[0 .. n) (sorted), those that are the last event of
 * their key in the store (a delete included; an update that moved the row
 * to another key ends the old key too), into *last (sorted by id, n_last;
 * the caller frees it): only those owe a message.
 */
bool		pt_due_last_of_keys(PGconn *conn, const char *schema, const int64_t *ids, int n, pt_due_last **last,
								int *n_last, pt_err *err);

/*
 * Owed by the erasure being written in this transaction, for event ev (its
 * id, table, version, and key as stored before the erasure): row (the
 * key's row as the erasure left it, an update record, with ev's unchanged
 * TOAST columns) or, row NULL, a tombstone. Each key has one last event.
 */
bool		pt_due_add(PGconn *conn, const char *schema, const pt_event *ev, const char *row, pt_err *err);

/* What was added in this transaction is owed by erasure event erasure_id. */
bool		pt_due_assign(PGconn *conn, const char *schema, int64_t erasure_id, pt_err *err);

/*
 * What the erasure events first_id .. last_id owe, in erasure order: a
 * result of erasure_id, schema_name, table_name, schema_version, key, row
 * (NULL: a tombstone), unchanged (a text[] literal); the caller clears it.
 */
PGresult   *pt_due_from(PGconn *conn, const char *schema, int64_t first_id, int64_t last_id, pt_err *err);

/*
 * Erased keys still waiting here (tombstones not sent): how many, the
 * first erasure owing one, and since when (text, "" when none). A store
 * without the table has none; *keys is -1 when the role may not read it.
 */
bool		pt_due_keys_waiting(PGconn *conn, const char *schema, int64_t *keys, int64_t *first_erasure,
								char *since, size_t since_size, pt_err *err);

/* Kafka acknowledged every event up to through_id: what they owed is sent. */
bool		pt_due_forget(PGconn *conn, const char *schema, int64_t through_id, pt_err *err);

#endif
