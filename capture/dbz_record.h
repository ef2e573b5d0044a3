/*
 * capture/dbz_record.h — an event as the Kafka messages Debezium's
 * PostgreSQL connector sends for the same change, key and value byte for
 * byte as Kafka Connect's JsonConverter writes them.
 *
 *   insert            one "c" record
 *   update            one "u" record ("before" only with REPLICA IDENTITY
 *                     FULL); when the key changed: a "d" record under the
 *                     old key with header __debezium.newkey, its tombstone,
 *                     and a "c" record under the new key with header
 *                     __debezium.oldkey
 *   delete            a "d" record and a tombstone (tombstones.on.delete)
 *   truncate          one "t" record with a null key (when skipped.operations
 *                     does not hold t, which by default it does)
 *   snapshot          one "r" record, source.snapshot first, true,
 *                     first_in_data_collection, last_in_data_collection or
 *                     last: each is held back until the next event (or the
 *                     batch's end) tells which
 *   message           one "m" record for the topic <topic.prefix>.message
 *
 * With provide.transaction.metadata, a transaction's first record is
 * preceded by its BEGIN record and followed, at the next transaction or the
 * batch's end, by its END record (dbz_txn.h).
 *
 * The value is the envelope {"before","after","source","transaction","op",
 * "ts_ms","ts_us","ts_ns"} (with schemas on, {"schema":...,"payload":...});
 * ts_* are the time the record is made, source.ts_* the commit time.
 * Tables without a primary key have a null key. Columns of types Debezium
 * leaves out are left out. A value Debezium cannot carry for its type
 * (numeric NaN as a precise Decimal) is written as null and counted.
 *
 * Where pgtrail cannot know what Debezium would write, it says so in
 * docs/OPERATIONS.md (source.version, the snapshot's txId, ...).
 */
#ifndef PGTRAIL_CAPTURE_DBZ_RECORD_H
#define PGTRAIL_CAPTURE_DBZ_RECORD_H

#include <stdbool.h>
#include <stdint.h>

#include "capture/dbz_table.h"
#include "capture/dbz_txn.h"
#include "capture/dbz_value.h"
#include "core/buf.h"
#include "core/event.h"
#include "core/jsonobj.h"

typedef struct pt_dbz_settings
{
	pt_dbz_modes modes;
	const char *prefix;			/* topic.prefix: source.name, schema names, the message topic */
	const char *db;				/* source.db */
	bool		key_schemas;	/* key.converter.schemas.enable */
	bool		value_schemas;	/* value.converter.schemas.enable */
	bool		tombstones;		/* tombstones.on.delete */
	bool		skip[4];		/* skipped.operations: c, u, d, t */
	int			heartbeat_ms;	/* heartbeat.interval.ms (0: none) */
	bool		tx_metadata;	/* provide.transaction.metadata */
	bool		context_headers;	/* extended.headers.enabled */
} pt_dbz_settings;

/* Parse skipped.operations ("t", "c,u", "none", ""); false naming no known op. */
bool		pt_dbz_parse_skipped(const char *s, bool skip[4]);

typedef enum pt_dbz_topic
{
	PT_DBZ_TOPIC_TABLE,			/* the table's topic */
	PT_DBZ_TOPIC_MESSAGE,		/* <prefix>.message */
	PT_DBZ_TOPIC_TRANSACTION	/* <prefix>.transaction */
} pt_dbz_topic;

typedef struct pt_dbz_message
{
	bool		has_key;		/* false: a null key */
	pt_buf		key;
	bool		has_value;		/* false: a tombstone */
	pt_buf		value;
	const char *header;			/* __debezium.newkey / __debezium.oldkey, or NULL */
	pt_buf		header_value;
	pt_dbz_topic topic;
	const pt_event *event;		/* whose table and pgtrail headers it has (NULL: the event written) */
} pt_dbz_message;

/* a held snapshot record, END of a transaction, BEGIN of the next, a key change's three records */
#define PT_DBZ_MAX_MESSAGES 6

typedef struct pt_dbz_writer
{
	const pt_dbz_settings *set;
	pt_dbz_message msgs[PT_DBZ_MAX_MESSAGES];
	int64_t		unwritable;		/* values written as null since they cannot be carried */
	const char *unwritable_column;	/* the last of them (borrowed from its table) */
	/* internal */
	pt_dbz_scratch sc;
	pt_jsonobj	row;
	pt_jsonobj	old;
	pt_buf		payload;
	pt_lsn		commit_lsn;		/* of the events' transaction, and of the one before */
	pt_lsn		prev_commit_lsn;
	bool		in_snapshot;
	pt_buf		snapshot_table;	/* of the last snapshot record */
	pt_dbz_txn	txn;			/* provide.transaction.metadata */
	/* a snapshot record, held back until the next event says its marker */
	bool		held;
	pt_dbz_message held_msg;
	pt_event	held_event;		/* its event's numbers and table (headers, topic) */
	pt_buf		held_names;		/* its schema and table names, held_event's */
	pt_event	released_event;	/* those of the one released by the last call */
	pt_buf		released_names;
	size_t		marker_at;		/* where its marker ("true" while held) stands in its value */
	bool		held_first;		/* the snapshot's first record */
	bool		held_first_in_table;
} pt_dbz_writer;

void		pt_dbz_writer_init(pt_dbz_writer *w, const pt_dbz_settings *set);
void		pt_dbz_writer_free(pt_dbz_writer *w);

/*
 * The messages of ev into w->msgs[0 .. *n) (0 for an op skipped or with
 * no Debezium form). tab is the table version of a row event (NULL for a
 * message). now_us is the envelope's time. False with err when the
 * event's stored JSON is malformed.
 */
bool		pt_dbz_write(pt_dbz_writer *w, const pt_dbz_table *tab, const pt_event *ev, int64_t now_us,
						 int *n, pt_err *err);

/*
 * What a sink batch's end completes, into w->msgs[0 .. *n): the snapshot
 * record held back (its marker now "last") and the END record of the
 * transaction in progress (provide.transaction.metadata). A batch holds
 * whole transactions and whole snapshots. pt_dbz_forget drops both (a batch
 * rolled back: it comes again).
 */
void		pt_dbz_finish(pt_dbz_writer *w, int *n);

/*
 * Before an event with no Debezium record (ddl, gap: pgtrail's own form on
 * the other topic) goes out: what it completes, as pt_dbz_finish, so that
 * records keep their order.
 */
void		pt_dbz_before_other(pt_dbz_writer *w, const pt_event *ev, int *n);
void		pt_dbz_forget(pt_dbz_writer *w);

/*
 * The tombstone of a key erased from the event store (core/store_due.h):
 * one message under key (the event's key JSON as stored) with a null value,
 * in w->msgs[0 .. *n) (none when the table has no key). False with err when
 * key is malformed.
 */
bool		pt_dbz_tombstone(pt_dbz_writer *w, const pt_dbz_table *tab, pt_text key, int *n, pt_err *err);

/*
 * The update record of a key whose last record lost values to an erasure:
 * "u" with before null and after ev's row (as the store holds it now);
 * ev carries the erasure event's position and time for source. Into
 * w->msgs[0 .. *n) (none when updates are skipped). False with err when
 * the row is malformed.
 */
bool		pt_dbz_erased_update(pt_dbz_writer *w, const pt_dbz_table *tab, const pt_event *ev, int64_t now_us,
								 int *n, pt_err *err);

/*
 * A heartbeat record (for __debezium-heartbeat.<prefix>, partition 0):
 * key {"serverName":<prefix>} and value {"ts_ms":now}, in w->msgs[0].
 */
void		pt_dbz_heartbeat(pt_dbz_writer *w, int64_t now_us);

#endif
