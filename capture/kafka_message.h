/*
 * capture/kafka_message.h — what an event looks like as a Kafka message in
 * pgtrail's own form (native): its topic, key, value and headers.
 *
 * Pure formatting, apart from the sink (sink_kafka.c) so that the bytes a
 * consumer sees can be tested without a broker. Everything is written into
 * buffers the caller reuses, so once they have grown a message costs no
 * allocation. Nothing here parses a value: key/row/old/metadata go out as
 * the JSON text they are in the event table, byte for byte.
 *
 * The debezium format is not here: Debezium's records are typed and need
 * each table's column types (dbz_record.h); the Kafka sink still uses the
 * topic and header functions of this file for them.
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

/*
 * The message value, appended to out (not reset): the event as one JSON
 * object, the event table's columns in their order: {"id":N,"lsn":"X/X",
 * "commit_lsn":"X/X","xid":N|null,"committed_at":"YYYY-MM-DD HH:MM:SS.ffffff+00",
 * "schema_name":S|null,"table_name":S|null,"schema_version":N|null,
 * "op":"update","key":J,"row":J,"old":J,"unchanged":[S,…],"actor":S|null,
 * "action":S|null,"metadata":J,"prev_hash":"hex","hash":"hex"} where J is
 * the stored JSON text verbatim, or null.
 */
void		pt_kafka_value(const pt_event *ev, pt_buf *out);

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
