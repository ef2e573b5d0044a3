/*
 * capture/sink_kafka.h — the Kafka sink: every event as a message, through
 * librdkafka (idempotent producer, acks=all).
 *
 * Messages are produced as events are added (librdkafka queues and sends
 * them in the background); each belongs to the sink batch it came in. A
 * batch counts as delivered when every one of its messages was
 * acknowledged, and the sink's durable position is the end LSN of the last
 * batch delivered with all before it: capture confirms the slot only up to
 * the lower of that and the event table's. A crash can therefore leave
 * events in the table that Kafka never got; at the next start resume()
 * sends again every event the slot had not confirmed (read back from the
 * event table), so every event reaches Kafka at least once, a repeat with
 * the same id and content. The last event id Kafka acknowledged is also
 * written down in the store (sink_positions, once a second and at a clean
 * stop), which spares the repeats the slot's position cannot (the first
 * snapshot's events all carry the slot's starting LSN). Capture is deterministic: events rebuilt from
 * the same WAL get the same ids and hashes, so a message of a batch the
 * table rolled back is the very message the retry sends.
 *
 * During a broker outage librdkafka retries without end
 * (message.timeout.ms = 0 unless configured) and the queue fills; busy()
 * then tells capture to stop reading the stream, so the slot holds the WAL
 * until the brokers are back. A delivery that fails for good (message too
 * large, topic not authorized, ...) stops capture with an error naming the
 * event: nothing is skipped.
 */
#ifndef PGTRAIL_CAPTURE_SINK_KAFKA_H
#define PGTRAIL_CAPTURE_SINK_KAFKA_H

#include <libpq-fe.h>
#include <stdbool.h>

#include "capture/dbz_catalog.h"
#include "capture/dbz_record.h"
#include "capture/sink.h"
#include "core/log.h"

typedef struct pt_kafka_opts
{
	const char *const *props;	/* librdkafka key/value pairs, as given */
	int			nprops;
	const char *topic;			/* template: {schema}, {table} */
	const char *other_topic;	/* events of no table */
	const char *format;			/* native | debezium */
	bool		tombstones;		/* a null-valued message after each delete */
	const char *anchor_topic;	/* checkpoints, "" = none */
	const char *slot;			/* the slot (its state row; Debezium's source.name) */
	int			stop_timeout_ms;	/* once a stop is asked for, wait this long for acknowledgements at most */
	pt_dbz_settings dbz;		/* debezium: Debezium's own settings (source.db is set by the sink) */
} pt_kafka_opts;

/*
 * A Kafka sink. db is the source database's name (Debezium's source.db);
 * conn (borrowed) is the event store connection, schema its schema:
 * resume() reads events back from there. opts must outlive the sink.
 * stop (borrowed, may be NULL) is the flag a signal sets: once it is set,
 * no wait of the sink for Kafka (draining, sending again at start, room in
 * a full queue, closing) lasts past opts->stop_timeout_ms; what is not
 * acknowledged then stays unconfirmed in the slot and is sent again at the
 * next start. Giving up on room in a full queue fails with SQLSTATE 57014
 * (query_canceled): a stop, not a fault. catalog (borrowed) reads types
 * of the source's own for the debezium format.
 * False with err (kind CONFIG for a property librdkafka refuses).
 */
bool		pt_sink_kafka_open(pt_sink *sink, const pt_kafka_opts *opts, const char *db, PGconn *conn,
							   const char *schema, pt_dbz_catalog *catalog, volatile sig_atomic_t *stop,
							   pt_log *log, pt_err *err);

#endif
