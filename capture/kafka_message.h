/*
 * capture/kafka_message.h — what an event looks like as a Kafka message:
 * its topic, key, value (native or Debezium) and headers.
 *
 * Pure formatting, apart from the sink (sink_kafka.c) so that the bytes a
 * consumer sees can be tested without a broker. Everything is written into
 * buffers the caller reuses, so once they have grown a message costs no
 * allocation. Nothing here parses a value: key/row/old/metadata go out as
 * the JSON text they are in the event table, byte for byte.
 *
 * Debezium form. The value is Debezium's PostgreSQL envelope as its JSON
 * converter writes it with schemas.enable=false:
 *
 *   {"before":…,"after":…,"source":{"version":"0.1.0","connector":"pgtrail",
 *    "name":SLOT,"ts_ms":COMMIT_MS,"snapshot":"true"|"false","db":DB,
 *    "schema":…,"table":…,"txId":XID|null,"lsn":LSN_AS_NUMBER,"xmin":null},
 *   "op":"c"|"u"|"d"|"r"|"t","ts_ms":NOW_MS,"transaction":null}
 *
 * with these differences from Debezium's own connector, which consumers
 * should know:
 *   - Column values keep PostgreSQL's text form as JSON strings, as in the
 *     event table: an int4 5 is "5", numeric 1.500 is "1.500", a timestamp
 *     is "2026-11-24 10:00:00.123456", bytea is "\\x00ff". Debezium writes
 *     typed numbers, epoch integers and base64; pgtrail never turns a value
 *     into a number (a double would lose digits), so `(v)::coltype` in SQL,
 *     or the column type from pgtrail.schemas, gives the value back.
 *   - "before" of an update or delete is the event's old: the old key, or
 *     the whole old row with REPLICA IDENTITY FULL; null when there is none.
 *   - Columns PostgreSQL did not send (unchanged TOAST) appear in "after" as
 *     "__debezium_unavailable_value", Debezium's own placeholder.
 *   - source.connector is "pgtrail", source.name the replication slot.
 *   - A change of a row's key is one "u" message on the new key (Debezium
 *     sends a delete, a tombstone and a create).
 * Events that are not row changes (message, ddl, gap) have no Debezium
 * form; they are written in the native form even when Debezium is asked.
 */
#ifndef PGTRAIL_CAPTURE_KAFKA_MESSAGE_H
#define PGTRAIL_CAPTURE_KAFKA_MESSAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/event.h"

typedef enum pt_kafka_format
{
	PT_KAFKA_NATIVE,
	PT_KAFKA_DEBEZIUM
} pt_kafka_format;

/* Parse "native" / "debezium"; false when unknown. */
bool		pt_kafka_format_parse(const char *s, pt_kafka_format *fmt);

/*
 * The topic of ev, appended to out (not reset; NUL-terminated as every
 * pt_buf). tmpl's {schema} and {table} are replaced by the event's schema
 * and table names; the rest of tmpl is copied as it is. Events of no table
 * (message, gap, a ddl event of an object that is not a captured table) go
 * to other_topic, copied as it is.
 *
 * Kafka topic names may only hold ASCII letters, digits, '.', '_' and '-';
 * any other character of a schema or table name (a space, a quote, each
 * UTF-8 character) becomes one '_', as Debezium does, so "Billing Dept" and
 * "Invoice \"Lines\"" give "pgtrail.Billing_Dept.Invoice__Lines_". Two
 * tables whose names differ only there share a topic (the message's
 * headers and value still name the table exactly).
 */
void		pt_kafka_topic(const char *tmpl, const char *other_topic, const pt_event *ev, pt_buf *out);

/* A schema or table name as part of a topic name, appended to out: each
 * character Kafka refuses (a UTF-8 sequence counts as one) becomes '_'. */
void		pt_kafka_put_topic_part(pt_buf *out, pt_text name);

/*
 * The message key: the event's key JSON as stored (insert, update, delete,
 * snapshot), borrowed from ev; NULL with *len 0 for a table without a key
 * and for truncate, ddl, message and gap (librdkafka then spreads them
 * over the partitions).
 */
const char *pt_kafka_key(const pt_event *ev, size_t *len);

/* Debezium's source.db and source.name; borrowed, must outlive the calls. */
typedef struct pt_kafka_source
{
	const char *db;
	const char *slot;
} pt_kafka_source;

/*
 * The message value, appended to out (not reset).
 *
 * native: the event as one JSON object, the event table's columns in
 * their order: {"id":N,"lsn":"X/X","commit_lsn":"X/X","xid":N|null,
 * "committed_at":"YYYY-MM-DD HH:MM:SS.ffffff+00","schema_name":S|null,
 * "table_name":S|null,"schema_version":N|null,"op":"update","key":J,
 * "row":J,"old":J,"unchanged":[S,…],"actor":S|null,"action":S|null,
 * "metadata":J,"prev_hash":"hex","hash":"hex"} where J is the stored JSON
 * text verbatim, or null.
 *
 * debezium: the envelope described at the top of this file; now_ms (the
 * envelope's ts_ms, milliseconds since the epoch) is passed in so tests
 * are repeatable. src is only read for Debezium (NULL db/slot give null).
 *
 * Returns true when the value is in fmt, false when fmt was Debezium and
 * ev has no Debezium form (message, ddl, gap): the native form was written
 * instead. Either way out holds a complete value.
 */
bool		pt_kafka_value(pt_kafka_format fmt, const pt_event *ev, const pt_kafka_source *src,
						   int64_t now_ms, pt_buf *out);

/*
 * The headers every message carries, in this order: pgtrail.event_id,
 * pgtrail.lsn, pgtrail.xid (omitted when none), pgtrail.hash (lower-case
 * hex), pgtrail.schema_version (omitted when none); values are text
 * (decimal numbers, "X/X" LSNs). Only these: librdkafka allocates every
 * header of every message, and each one costs measurably (the commit LSN
 * and the op are in the value).
 *
 * Fills names[i] (static strings), values[i] and value_lens[i] for at most
 * PT_KAFKA_MAX_HEADERS headers and returns how many. scratch is reset and
 * holds the value texts, each NUL-terminated: values[] point into it and
 * stay valid until scratch is changed or freed.
 */
#define PT_KAFKA_MAX_HEADERS 8

int			pt_kafka_headers(const pt_event *ev, pt_buf *scratch, const char **names,
							 const char **values, size_t *value_lens);

#endif
