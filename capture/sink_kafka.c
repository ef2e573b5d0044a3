/*
 * capture/sink_kafka.c — the Kafka sink (see sink_kafka.h).
 *
 * Delivery is tracked per sink batch: every message carries its batch's
 * sequence number as opaque; the delivery report callback counts the
 * batch down; the durable position moves to a batch's end LSN once it and
 * every batch before it are fully delivered. Callbacks (delivery reports,
 * errors, librdkafka's log lines) are served on capture's own thread by
 * rd_kafka_poll, so nothing here is shared between threads.
 */
#include "capture/sink_kafka.h"

#include <librdkafka/rdkafka.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>

#include "capture/dbz_registry.h"
#include "capture/kafka_message.h"
#include "config/config.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/copytext.h"
#include "core/mem.h"
#include "core/pq.h"
#include "core/store.h"
#include "core/store_due.h"

#define BUSY_MESSAGES 50000		/* queued messages above which capture stops reading */
#define BUSY_BYTES (64 * 1024 * 1024)	/* or message values held (Debezium's records with schemas are large) */
#define STATS_EVERY_US (60 * INT64_C(1000000))
#define SAVE_EVERY_US INT64_C(1000000)	/* how often the acknowledged position is written down */
#define HEARTBEAT_OPAQUE UINTPTR_MAX	/* a heartbeat's message: in no batch */

/*
 * librdkafka's 5 ms makes small produce requests: measured with
 * bench/kafka_workload.sh, 50 ms nearly halves capture's and the broker's
 * CPU per event, for at most 50 ms more latency. Configurable as linger.ms.
 */
#define DEFAULT_LINGER_MS "50"

/*
 * Message values live in chunks owned by their batch, handed to librdkafka
 * without a copy, and reused once every message of the batch was
 * acknowledged: librdkafka then never allocates and frees a value per
 * message (measured: that was a large part of Kafka's cost per event).
 */
#define CHUNK_SIZE (256 * 1024)
#define MAX_SPARE_CHUNKS 64		/* 16 MB kept for reuse at most */

typedef struct chunk
{
	struct chunk *next;
	size_t		used;
	size_t		cap;
	char		data[];
} chunk;

/* A batch whose messages are not all acknowledged yet. */
typedef struct pending
{
	uint64_t	seq;
	int64_t		outstanding;
	bool		committed;		/* end is known */
	bool		aborted;		/* rolled back: its messages count for nothing */
	pt_lsn		end;
	int64_t		last_id;		/* the last event in it (0: none) */
	chunk	   *chunks;			/* its messages' values, newest first */
} pending;

typedef struct kafka_sink
{
	const pt_kafka_opts *opts;
	pt_log	   *log;
	PGconn	   *conn;			/* event store, borrowed */
	char	   *schema;
	rd_kafka_t *rk;
	pt_kafka_format format;

	/* debezium: the settings, every table version, the record writer */
	pt_dbz_settings dbz_set;
	pt_dbz_registry *registry;
	pt_dbz_writer dbz;
	pt_buf		message_topic;	/* <topic.prefix>.message */
	pt_buf		transaction_topic;	/* <topic.prefix>.transaction */
	pt_buf		scratch_topic;	/* a held record's */
	int64_t		unwritable_said;	/* values written as null, as last logged */
	pt_buf		heartbeat_topic;	/* __debezium-heartbeat.<topic.prefix> */
	char		run_id[37];		/* __debezium.context.runId: a random UUID per start */
	int64_t		heartbeat_us;	/* when the last heartbeat was sent (or the sink opened) */

	chunk	   *spare;			/* chunks to reuse */
	int			nspare;
	size_t		held;			/* bytes of the chunks batches in flight hold */

	/* batches in flight, oldest first (a ring) */
	pending    *ring;
	int			ring_cap;
	int			ring_head;
	int			ring_len;
	uint64_t	next_seq;
	pt_lsn		durable;		/* everything up to here is acknowledged */
	int64_t		acked_id;		/* every event up to this id is acknowledged */
	int64_t		saved_id;		/* what the store's sink_positions says */
	int64_t		saved_us;
	int64_t		due_sent;		/* the last erasure whose owed messages were produced (0: none) */

	/* a stop: the signal's flag (borrowed) and when the sink first saw it set */
	volatile sig_atomic_t *stop;
	int64_t		stop_seen_us;

	/* the first delivery that failed for good */
	bool		failed;
	pt_err		failure;

	/* reused per message */
	pt_buf		topic;
	pt_buf		value;
	pt_buf		scratch;

	/* figures, logged every minute */
	int64_t		delivered;
	int64_t		delivery_errors;
	int64_t		transport_errors;	/* error callbacks librdkafka recovers from */
	int64_t		last_stats_us;
	int64_t		delivered_at_stats;
} kafka_sink;

/* ---- batches in flight ---- */

static pending *
ring_at(kafka_sink *ks, int i)
{
	return &ks->ring[(ks->ring_head + i) % ks->ring_cap];
}

static pending *
ring_find(kafka_sink *ks, uint64_t seq)
{
	uint64_t	first;

	if (ks->ring_len == 0)
		return NULL;
	first = ring_at(ks, 0)->seq;
	if (seq < first || seq >= first + (uint64_t) ks->ring_len)
		return NULL;
	return ring_at(ks, (int) (seq - first));
}

static pending *
ring_push(kafka_sink *ks)
{
	pending    *p;

	if (ks->ring_len == ks->ring_cap)
	{
		int			cap = ks->ring_cap ? ks->ring_cap * 2 : 64;
		pending    *ring = pt_malloc((size_t) cap * sizeof(pending));

		for (int i = 0; i < ks->ring_len; i++)
			ring[i] = *ring_at(ks, i);
		free(ks->ring);
		ks->ring = ring;
		ks->ring_cap = cap;
		ks->ring_head = 0;
	}
	p = ring_at(ks, ks->ring_len++);
	memset(p, 0, sizeof(*p));
	p->seq = ks->next_seq++;
	return p;
}

/* Give a finished batch's chunks back for reuse. */
static void
release_chunks(kafka_sink *ks, pending *p)
{
	while (p->chunks != NULL)
	{
		chunk	   *c = p->chunks;

		p->chunks = c->next;
		ks->held -= c->cap;
		if (ks->nspare >= MAX_SPARE_CHUNKS || c->cap != CHUNK_SIZE)
		{
			free(c);			/* after a peak (an outage), memory goes back */
			continue;
		}
		c->next = ks->spare;
		ks->spare = c;
		ks->nspare++;
	}
}

static void
free_chunks(chunk *c)
{
	while (c != NULL)
	{
		chunk	   *next = c->next;

		free(c);
		c = next;
	}
}

/* Copy a value into batch p's chunks; where it lives until p is finished. */
static const char *
chunk_put(kafka_sink *ks, pending *p, const char *bytes, size_t len)
{
	chunk	   *c = p->chunks;
	char	   *at;

	if (c == NULL || c->cap - c->used < len)
	{
		if (ks->spare != NULL && len <= ks->spare->cap)
		{
			c = ks->spare;
			ks->spare = c->next;
			ks->nspare--;
		}
		else
		{
			size_t		cap = len > CHUNK_SIZE ? len : CHUNK_SIZE;

			c = pt_malloc(sizeof(chunk) + cap);
			c->cap = cap;
		}
		c->used = 0;
		c->next = p->chunks;
		p->chunks = c;
		ks->held += c->cap;
	}
	at = c->data + c->used;
	memcpy(at, bytes, len);
	c->used += len;
	return at;
}

/* Move the durable position past every finished batch at the front. */
static void
ring_advance(kafka_sink *ks)
{
	while (ks->ring_len > 0)
	{
		pending    *p = ring_at(ks, 0);

		if (p->outstanding > 0 || !(p->committed || p->aborted))
			break;
		if (p->committed && p->end > ks->durable)
			ks->durable = p->end;
		if (p->committed && p->last_id > ks->acked_id)
			ks->acked_id = p->last_id;
		release_chunks(ks, p);
		ks->ring_head = (ks->ring_head + 1) % ks->ring_cap;
		ks->ring_len--;
	}
}

/* The open batch (the newest, not committed or aborted), or NULL. */
static pending *
open_batch(kafka_sink *ks)
{
	pending    *p = ks->ring_len ? ring_at(ks, ks->ring_len - 1) : NULL;

	return p && !p->committed && !p->aborted ? p : NULL;
}

/* The detail and hint of a message Kafka (or librdkafka) refused for good. */
static void
refused_for_good(pt_err *err, rd_kafka_resp_err_t code)
{
	pt_err_detail(err, "the message was refused for good; capture stops rather than skip it, "
				  "and the slot keeps everything from the last batch Kafka acknowledged");
	if (code == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE)
		pt_err_hint(err, "raise message.max.bytes (-X message.max.bytes=N) and the topic's max.message.bytes, "
					"then start capture again");
	else
		pt_err_hint(err, "fix the cause (e.g. grant the topic to the producer, or raise message.max.bytes) "
					"and start capture again");
}

/*
 * A stop was asked for, and [capture] stop_timeout_s has passed since the
 * sink first saw it (its waits look every 100 ms): stop waiting for Kafka.
 */
static bool
stop_overdue(kafka_sink *ks)
{
	if (ks->stop == NULL || !*ks->stop)
		return false;
	if (ks->stop_seen_us == 0)
		ks->stop_seen_us = pt_monotonic_us();
	return pt_monotonic_us() - ks->stop_seen_us >= (int64_t) ks->opts->stop_timeout_ms * 1000;
}

/* ---- librdkafka callbacks (served by rd_kafka_poll on this thread) ---- */

static void
on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *msg, void *opaque)
{
	kafka_sink *ks = opaque;
	pending    *p;

	(void) rk;
	if ((uintptr_t) msg->_private == HEARTBEAT_OPAQUE)
	{
		if (msg->err != RD_KAFKA_RESP_ERR_NO_ERROR)
			pt_log_warning(ks->log, "kafka: a heartbeat was not delivered to \"%s\": %s",
						   rd_kafka_topic_name(msg->rkt), rd_kafka_err2str(msg->err));
		return;
	}
	p = ring_find(ks, (uint64_t) (uintptr_t) msg->_private);
	if (p != NULL)
		p->outstanding--;
	if (msg->err == RD_KAFKA_RESP_ERR_NO_ERROR)
	{
		ks->delivered++;
		ring_advance(ks);
		return;
	}
	ks->delivery_errors++;
	if (!ks->failed)
	{
		ks->failed = true;
		pt_err_set(&ks->failure, PT_ERR_RUNTIME, "could not deliver a message to Kafka topic \"%s\": %s",
				   rd_kafka_topic_name(msg->rkt), rd_kafka_err2str(msg->err));
		refused_for_good(&ks->failure, msg->err);
	}
}

static void
on_error(rd_kafka_t *rk, int code, const char *reason, void *opaque)
{
	kafka_sink *ks = opaque;
	char		fatal[512];

	if (code == RD_KAFKA_RESP_ERR__FATAL)
	{
		rd_kafka_fatal_error(rk, fatal, sizeof(fatal));
		if (!ks->failed)
		{
			ks->failed = true;
			pt_err_set(&ks->failure, PT_ERR_RUNTIME, "Kafka producer failed: %s", fatal);
		}
		return;
	}
	/* brokers down, timeouts: librdkafka retries; say it once in a while */
	ks->transport_errors++;
	pt_log_warning(ks->log, "kafka: %s", reason);
}

static void
on_log(const rd_kafka_t *rk, int level, const char *facility, const char *line)
{
	kafka_sink *ks = rd_kafka_opaque(rk);

	if (level <= 4)
		pt_log_warning(ks->log, "kafka: %s: %s", facility, line);
	else
		pt_log_debug(ks->log, "kafka: %s: %s", facility, line);
}

/* ---- set-up ---- */

static bool
conf_set(rd_kafka_conf_t *conf, const char *key, const char *value, pt_err *err)
{
	char		why[512];

	if (rd_kafka_conf_set(conf, key, value, why, sizeof(why)) == RD_KAFKA_CONF_OK)
		return true;
	/* librdkafka's text may quote the value: not for a secret */
	pt_err_set(err, PT_ERR_CONFIG, "Kafka property \"%s\": %s", key,
			   pt_config_kafka_is_secret(key) ? "invalid value (not shown: it is a secret)" : why);
	pt_err_hint(err, "check the [kafka] section, PGTRAIL_KAFKA_* variables and -X flags (librdkafka's CONFIGURATION.md lists the properties)");
	return false;
}

static bool
given(const pt_kafka_opts *o, const char *key)
{
	for (int i = 0; i < o->nprops; i++)
		if (strcmp(o->props[2 * i], key) == 0)
			return true;
	return false;
}

/* Our defaults first (nothing lost, no end to retries, fuller requests), then everything given, as is. */
static rd_kafka_conf_t *
make_conf(kafka_sink *ks, pt_err *err)
{
	const pt_kafka_opts *o = ks->opts;
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	bool		ok = conf_set(conf, "client.id", "pgtrail-capture", err) &&
		conf_set(conf, "enable.idempotence", "true", err) &&
		conf_set(conf, "acks", "all", err) &&
		conf_set(conf, "log.queue", "true", err) &&
		(given(o, "message.timeout.ms") || conf_set(conf, "message.timeout.ms", "0", err)) &&
		(given(o, "linger.ms") || conf_set(conf, "linger.ms", DEFAULT_LINGER_MS, err)) &&
		/* Debezium's keys on the partitions Java's producer puts them on */
		(ks->format != PT_KAFKA_DEBEZIUM || given(o, "partitioner") ||
		 conf_set(conf, "partitioner", "murmur2_random", err));

	for (int i = 0; ok && i < o->nprops; i++)
		ok = conf_set(conf, o->props[2 * i], o->props[2 * i + 1], err);
	if (!ok)
	{
		rd_kafka_conf_destroy(conf);
		return NULL;
	}
	rd_kafka_conf_set_opaque(conf, ks);
	rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
	rd_kafka_conf_set_error_cb(conf, on_error);
	rd_kafka_conf_set_log_cb(conf, on_log);
	return conf;
}

/* ---- producing ---- */

/*
 * Debezium's extended headers of a data record (extended.headers.enabled,
 * on by default since 3.2), after names[0 .. nh); the new count.
 */
static int
context_headers(kafka_sink *ks, const char **names, const char **values, size_t *lens, int nh)
{
	const char *const context[4][2] = {
		{"__debezium.context.connectorLogicalName", ks->dbz_set.prefix},
		{"__debezium.context.taskId", "0"},
		{"__debezium.context.connectorName", "postgresql"},
		{"__debezium.context.runId", ks->run_id},
	};

	for (int i = 0; i < 4; i++, nh++)
	{
		names[nh] = context[i][0];
		values[nh] = context[i][1];
		lens[nh] = strlen(context[i][1]);
	}
	return nh;
}

/*
 * Produce one message (value NULL: a tombstone), waiting while the queue is
 * full. value must stay where it is until the message is delivered (it
 * lives in its batch's chunks). extra, when given, adds its header after
 * pgtrail's (a Debezium key change's).
 */
static bool
produce_with(kafka_sink *ks, const char *topic, const char *key, size_t keylen, const char *value,
			 size_t valuelen, const pt_event *ev, const pt_dbz_message *extra, uint64_t seq, pt_err *err)
{
	const char *names[PT_KAFKA_MAX_HEADERS + 5];
	const char *values[PT_KAFKA_MAX_HEADERS + 5];
	size_t		lens[PT_KAFKA_MAX_HEADERS + 5];
	rd_kafka_vu_t vu[10 + PT_KAFKA_MAX_HEADERS];
	int			n = 0;
	int			nh = ev ? pt_kafka_headers(ev, &ks->scratch, names, values, lens) : 0;
	rd_kafka_error_t *error;

	if (extra != NULL && extra->header != NULL)
	{
		names[nh] = extra->header;
		values[nh] = extra->header_value.data;
		lens[nh++] = extra->header_value.len;
	}
	if (extra != NULL && extra->topic == PT_DBZ_TOPIC_TABLE && ks->dbz_set.context_headers)
		nh = context_headers(ks, names, values, lens, nh);

	vu[n].vtype = RD_KAFKA_VTYPE_TOPIC;
	vu[n++].u.cstr = topic;
	vu[n].vtype = RD_KAFKA_VTYPE_KEY;
	vu[n].u.mem.ptr = (void *) key;
	vu[n++].u.mem.size = keylen;
	vu[n].vtype = RD_KAFKA_VTYPE_VALUE;
	vu[n].u.mem.ptr = (void *) value;
	vu[n++].u.mem.size = value ? valuelen : 0;
	vu[n].vtype = RD_KAFKA_VTYPE_MSGFLAGS;
	vu[n++].u.i = 0;			/* the value stays in its batch's chunks until delivered */
	vu[n].vtype = RD_KAFKA_VTYPE_OPAQUE;
	vu[n++].u.ptr = (void *) (uintptr_t) seq;
	for (int i = 0; i < nh; i++, n++)
	{
		vu[n].vtype = RD_KAFKA_VTYPE_HEADER;
		vu[n].u.header.name = names[i];
		vu[n].u.header.val = values[i];
		vu[n].u.header.size = (ssize_t) lens[i];
	}
	while ((error = rd_kafka_produceva(ks->rk, vu, (size_t) n)) != NULL)
	{
		rd_kafka_resp_err_t code = rd_kafka_error_code(error);

		if (code != RD_KAFKA_RESP_ERR__QUEUE_FULL)
		{
			pt_err_set(err, PT_ERR_RUNTIME, "could not queue event %lld for Kafka topic \"%s\": %s",
					   ev ? (long long) ev->id : 0LL, topic, rd_kafka_error_string(error));
			refused_for_good(err, code);
			rd_kafka_error_destroy(error);
			return false;
		}
		rd_kafka_error_destroy(error);
		rd_kafka_poll(ks->rk, 100);	/* brokers slow or down: wait for room */
		if (ks->failed)
		{
			*err = ks->failure;
			return false;
		}
		if (stop_overdue(ks))
		{
			pt_err_set(err, PT_ERR_RUNTIME, "stopped while Kafka's queue was full (%d messages not acknowledged)",
					   rd_kafka_outq_len(ks->rk));
			snprintf(err->sqlstate, sizeof(err->sqlstate), "%s", PT_SQLSTATE_QUERY_CANCELED);
			return false;
		}
	}
	return true;
}

static bool
produce(kafka_sink *ks, const char *topic, const char *key, size_t keylen, const char *value,
		size_t valuelen, const pt_event *ev, uint64_t seq, pt_err *err)
{
	return produce_with(ks, topic, key, keylen, value, valuelen, ev, NULL, seq, err);
}

/*
 * The event's message (and, after a delete, a tombstone) in batch seq, in
 * pgtrail's form; to [kafka] other_topic when other is set.
 */
static bool
produce_native(kafka_sink *ks, const pt_event *ev, pending *p, bool other, pt_err *err)
{
	size_t		keylen;
	const char *key = other ? NULL : pt_kafka_key(ev, &keylen);

	pt_buf_reset(&ks->topic);
	pt_buf_reset(&ks->value);
	if (other)
	{
		keylen = 0;
		pt_buf_puts(&ks->topic, ks->opts->other_topic);
	}
	else
		pt_kafka_topic(ks->opts->topic, ks->opts->other_topic, ev, &ks->topic);
	pt_kafka_value(ev, &ks->value);
	if (!produce(ks, ks->topic.data, key, keylen, chunk_put(ks, p, ks->value.data, ks->value.len),
				 ks->value.len, ev, p->seq, err))
		return false;
	p->outstanding++;
	if (ks->opts->tombstones && ev->op == PT_OP_DELETE && key != NULL)
	{
		if (!produce(ks, ks->topic.data, key, keylen, NULL, 0, ev, p->seq, err))
			return false;
		p->outstanding++;
	}
	return true;
}

/* Say what a table version's Debezium records leave out, and values written as null. */
static void
say_losses(kafka_sink *ks, const pt_event *ev, const pt_dbz_table *tab, bool first)
{
	if (first && tab != NULL && tab->omitted != NULL)
		pt_log_warning(ks->log, "kafka: debezium records of %s.%s (version %d) leave out columns %s: "
					   "Debezium's PostgreSQL connector does not write their types", tab->schema_name,
					   tab->table_name, tab->version, tab->omitted);
	if (ks->dbz.unwritable == ks->unwritable_said)
		return;
	if (ks->unwritable_said == 0 || ks->dbz.unwritable / 1000 != ks->unwritable_said / 1000)
		pt_log_warning(ks->log, "kafka: event %lld: a value of %.*s.%.*s column %s has no Debezium form "
					   "(numeric NaN or infinity as a precise Decimal, an infinite interval, a timestamp past "
					   "int64 microseconds, a multi-dimensional array) and is written as null (%lld so far); "
					   "decimal.handling.mode = string carries numeric NaN and infinity", (long long) ev->id,
					   (int) ev->schema_name.len, ev->schema_name.ptr, (int) ev->table_name.len,
					   ev->table_name.ptr, ks->dbz.unwritable_column, (long long) ks->dbz.unwritable);
	ks->unwritable_said = ks->dbz.unwritable;
}

/* The writer's records msgs[0 .. n) in batch p (ev: their event, for pgtrail's headers; NULL: none). */
static bool
produce_records(kafka_sink *ks, const pt_event *ev, int n, pending *p, pt_err *err)
{
	for (int i = 0; i < n; i++)
	{
		const pt_dbz_message *m = &ks->dbz.msgs[i];
		const char *value = m->has_value ? chunk_put(ks, p, m->value.data, m->value.len) : NULL;
		const char *topic = m->topic == PT_DBZ_TOPIC_MESSAGE ? ks->message_topic.data :
			m->topic == PT_DBZ_TOPIC_TRANSACTION ? ks->transaction_topic.data : ks->topic.data;

		if (m->event != NULL && m->topic == PT_DBZ_TOPIC_TABLE)
		{
			/* a record held back: its own table's topic */
			pt_buf_reset(&ks->scratch_topic);
			pt_kafka_topic(ks->opts->topic, ks->opts->other_topic, m->event, &ks->scratch_topic);
			topic = ks->scratch_topic.data;
		}

		/* transaction records carry no headers, as Debezium's; a held snapshot record its own event's */
		if (!produce_with(ks, topic, m->has_key ? m->key.data : NULL, m->has_key ? m->key.len : 0, value,
						  m->value.len, m->topic == PT_DBZ_TOPIC_TRANSACTION ? NULL : m->event ? m->event : ev,
						  m, p->seq, err))
			return false;
		p->outstanding++;
	}
	return true;
}

/* debezium: what the batch's end completes (a held snapshot record, a transaction's END), in the batch. */
static bool
finish_batch(kafka_sink *ks, pending *p, pt_err *err)
{
	int			n;

	if (ks->registry == NULL || p == NULL)
		return true;
	pt_dbz_finish(&ks->dbz, &n);
	return produce_records(ks, NULL, n, p, err);
}

/*
 * debezium: an event Debezium has no record for (ddl, gap, erasure), in pgtrail's
 * form on [kafka] other_topic, never on a table's topic (whose consumers
 * expect Debezium's records only); after what it completes.
 */
static bool
produce_other(kafka_sink *ks, const pt_event *ev, pending *p, pt_err *err)
{
	int			n;

	if (ev->op == PT_OP_SCHEMA)
		return true;			/* (schema events stay in the event table) */
	pt_dbz_before_other(&ks->dbz, ev, &n);
	pt_buf_reset(&ks->topic);
	pt_kafka_topic(ks->opts->topic, ks->opts->other_topic, ev, &ks->topic);
	return produce_records(ks, ev, n, p, err) && produce_native(ks, ev, p, true, err);
}

/* The event's Debezium records in batch seq (events with no Debezium form: pgtrail's). */
static bool
produce_debezium(kafka_sink *ks, const pt_event *ev, pending *p, pt_err *err)
{
	const pt_dbz_table *tab;
	bool		first;
	int			n;

	if (ev->op == PT_OP_DDL || ev->op == PT_OP_GAP || ev->op == PT_OP_SCHEMA || ev->op == PT_OP_ERASURE)
		return produce_other(ks, ev, p, err);
	if (!pt_dbz_registry_get(ks->registry, ev, &tab, &first, err))
		return false;
	if (tab == NULL && ev->op != PT_OP_MESSAGE)
	{
		/* cannot happen (every row event follows a recorded version); never a reason to stop */
		pt_log_warning(ks->log, "kafka: event %lld: no schema version %d of %.*s.%.*s is known; sent in pgtrail's "
					   "own form to the other topic", (long long) ev->id, ev->schema_version, (int) ev->schema_name.len,
					   ev->schema_name.ptr, (int) ev->table_name.len, ev->table_name.ptr);
		return produce_other(ks, ev, p, err);
	}
	if (!pt_dbz_write(&ks->dbz, tab, ev, pt_now_us(), &n, err))
		return false;
	say_losses(ks, ev, tab, first);
	pt_buf_reset(&ks->topic);
	pt_kafka_topic(ks->opts->topic, ks->opts->other_topic, ev, &ks->topic);
	return produce_records(ks, ev, n, p, err);
}

static bool
produce_event(kafka_sink *ks, const pt_event *ev, pending *p, pt_err *err)
{
	if (ev->id > p->last_id)
		p->last_id = ev->id;
	if (ks->format == PT_KAFKA_DEBEZIUM)
		return produce_debezium(ks, ev, p, err);
	return produce_native(ks, ev, p, false, err);
}

/* ---- the sink ops ---- */

static bool
kafka_begin(void *state, pt_err *err)
{
	(void) err;
	ring_push(state);
	return true;
}

static bool
kafka_add(void *state, pt_event *ev, pt_err *err)
{
	kafka_sink *ks = state;
	pending    *p = open_batch(ks);

	if (ks->failed)
	{
		*err = ks->failure;
		return false;
	}
	if (p == NULL)
		return pt_err_set(err, PT_ERR_RUNTIME, "internal error: Kafka event outside a batch");
	return produce_event(ks, ev, p, err);
}

/*
 * Write down, in the event store, the last event Kafka acknowledged with
 * every one before it (at most once a second unless forced), so a start
 * after a clean stop does not send again what the slot's position alone
 * cannot tell apart (the first snapshot's events all carry the slot's
 * starting LSN). The connection is free: the event table's batch is
 * committed whenever this runs.
 */
static bool
save_position(kafka_sink *ks, bool force, pt_err *err)
{
	char		id[24];
	const char *params[2] = {ks->opts->slot, id};
	PGresult   *res = NULL;

	if (ks->acked_id <= ks->saved_id || (!force && pt_now_us() - ks->saved_us < SAVE_EVERY_US))
		return true;
	snprintf(id, sizeof(id), "%lld", (long long) ks->acked_id);
	res = pt_pq_exec_with_ident(ks->conn, "INSERT INTO %1$s.sink_positions AS p (slot, sink, event_id, updated_at) "
								"VALUES ($1, 'kafka', $2, now()) ON CONFLICT (slot, sink) DO UPDATE SET "
								"event_id = greatest(p.event_id, excluded.event_id), updated_at = now()",
								ks->schema, 2, params, PGRES_COMMAND_OK, PT_PQ_ANY, PT_PQ_ANY, err);
	PQclear(res);
	if (res == NULL)
		return false;
	ks->saved_id = ks->acked_id;
	ks->saved_us = pt_now_us();
	if (ks->due_sent == 0 || ks->saved_id < ks->due_sent)
		return true;
	if (!pt_due_forget(ks->conn, ks->schema, ks->saved_id, err))
		return false;
	ks->due_sent = 0;
	return true;
}

/* The position save_position wrote last time (0: none). */
static bool
load_position(kafka_sink *ks, int64_t *event_id, pt_err *err)
{
	const char *params[1] = {ks->opts->slot};
	PGresult   *res = NULL;

	*event_id = 0;
	res = pt_pq_exec_with_ident(ks->conn, "SELECT event_id FROM %1$s.sink_positions WHERE slot = $1 AND sink = 'kafka'",
								ks->schema, 1, params, PGRES_TUPLES_OK, PT_PQ_ANY, 1, err);
	if (res == NULL)
		return false;
	if (PQntuples(res) == 1)
		*event_id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	ks->saved_id = *event_id;
	return true;
}

/*
 * The first erasure event after event_id (0: none). pgtrail-erase appends
 * them to the store itself, dated at the store's confirmed LSN, which the
 * slot may have passed since (an idle source's keepalives): capture never
 * sent them, so the slot's position does not say Kafka has them.
 */
static bool
first_erasure_after(kafka_sink *ks, int64_t event_id, int64_t *first, pt_err *err)
{
	char		id[24];
	const char *params[1] = {id};
	PGresult   *res = NULL;

	snprintf(id, sizeof(id), "%lld", (long long) event_id);
	res = pt_pq_exec_with_ident(ks->conn, "SELECT min(id) FROM %1$s.events WHERE op = 'erasure' AND action = 'erase' "
								"AND id > $1", ks->schema, 1, params, PGRES_TUPLES_OK, 1, 1, err);
	if (res == NULL)
		return false;
	*first = PQgetisnull(res, 0, 0) ? 0 : strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	return true;
}

static bool
kafka_commit(void *state, pt_lsn confirmed, pt_err *err)
{
	kafka_sink *ks = state;
	pending    *p = open_batch(ks);

	if (!finish_batch(ks, p, err))
		return false;
	if (p != NULL)
	{
		p->committed = true;
		p->end = confirmed;
	}
	rd_kafka_poll(ks->rk, 0);
	ring_advance(ks);
	if (ks->failed)
	{
		*err = ks->failure;
		return false;
	}
	return save_position(ks, false, err);
}

static void
kafka_abort(void *state)
{
	kafka_sink *ks = state;
	pending    *p = open_batch(ks);

	/* its messages may arrive anyway; the retry sends the same ones again */
	if (p != NULL)
		p->aborted = true;
	if (ks->registry != NULL)
		pt_dbz_forget(&ks->dbz);
	ring_advance(ks);
}

static void
log_stats(kafka_sink *ks, bool force)
{
	int64_t		now = pt_now_us();
	double		secs = (double) (now - ks->last_stats_us) / 1e6;

	if (!force && now - ks->last_stats_us < STATS_EVERY_US)
		return;
	if (ks->delivered > ks->delivered_at_stats || rd_kafka_outq_len(ks->rk) > 0 || ks->delivery_errors > 0)
		pt_log_info(ks->log, "kafka: %lld messages delivered (%.0f/s), %d queued, %lld delivery errors",
					(long long) ks->delivered, (double) (ks->delivered - ks->delivered_at_stats) / (secs > 0 ? secs : 1),
					rd_kafka_outq_len(ks->rk), (long long) ks->delivery_errors);
	ks->last_stats_us = now;
	ks->delivered_at_stats = ks->delivered;
}

/*
 * debezium: a heartbeat record once heartbeat.interval.ms has passed, to
 * partition 0 as Debezium sends it. Outside the batches: a heartbeat that
 * cannot be queued now (a full queue) is skipped, one that fails is said.
 */
static void
heartbeat(kafka_sink *ks)
{
	int64_t		now = pt_now_us();
	const pt_dbz_message *m = &ks->dbz.msgs[0];
	rd_kafka_resp_err_t rc;

	if (ks->registry == NULL || ks->dbz_set.heartbeat_ms <= 0 ||
		now - ks->heartbeat_us < (int64_t) ks->dbz_set.heartbeat_ms * 1000)
		return;
	ks->heartbeat_us = now;
	pt_dbz_heartbeat(&ks->dbz, now);
	rc = rd_kafka_producev(ks->rk, RD_KAFKA_V_TOPIC(ks->heartbeat_topic.data), RD_KAFKA_V_PARTITION(0),
						   RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
						   RD_KAFKA_V_KEY(m->key.data, m->key.len), RD_KAFKA_V_VALUE(m->value.data, m->value.len),
						   RD_KAFKA_V_OPAQUE((void *) HEARTBEAT_OPAQUE), RD_KAFKA_V_END);
	if (rc != RD_KAFKA_RESP_ERR_NO_ERROR && rc != RD_KAFKA_RESP_ERR__QUEUE_FULL)
		pt_log_warning(ks->log, "kafka: could not queue a heartbeat: %s", rd_kafka_err2str(rc));
}

static bool
kafka_poll(void *state, int timeout_ms, pt_err *err)
{
	kafka_sink *ks = state;

	heartbeat(ks);
	rd_kafka_poll(ks->rk, timeout_ms);
	ring_advance(ks);
	log_stats(ks, false);
	if (ks->failed)
	{
		*err = ks->failure;
		return false;
	}
	return true;
}

static pt_lsn
kafka_durable(void *state, pt_lsn committed)
{
	kafka_sink *ks = state;

	ring_advance(ks);
	return ks->ring_len == 0 ? committed : ks->durable;
}

static bool
kafka_busy(void *state)
{
	kafka_sink *ks = state;

	return rd_kafka_outq_len(ks->rk) > BUSY_MESSAGES || ks->held > BUSY_BYTES;
}

static bool
kafka_checkpoint(void *state, const pt_checkpoint *cp, pt_err *err)
{
	kafka_sink *ks = state;
	pending    *p;
	char		key[24];
	bool		ok;

	if (ks->opts->anchor_topic == NULL || ks->opts->anchor_topic[0] == '\0')
		return true;
	p = ring_push(ks);
	p->committed = true;
	p->end = ks->durable;
	pt_buf_reset(&ks->value);
	pt_checkpoint_anchor_line(cp, &ks->value);
	ks->value.data[--ks->value.len] = '\0';	/* the line without its newline */
	snprintf(key, sizeof(key), "%lld", (long long) cp->event_id);
	ok = produce(ks, ks->opts->anchor_topic, key, strlen(key), chunk_put(ks, p, ks->value.data, ks->value.len),
				 ks->value.len, NULL, p->seq, err);
	if (ok)
		p->outstanding++;
	return ok;
}

static void
kafka_figures(void *state, pt_kafka_figures *figures)
{
	kafka_sink *ks = state;

	figures->delivered = ks->delivered;
	figures->delivery_errors = ks->delivery_errors;
	figures->transport_errors = ks->transport_errors;
	figures->queued = rd_kafka_outq_len(ks->rk);
}

/*
 * Wait until everything queued is acknowledged. Once a stop is asked for,
 * give up after [capture] stop_timeout_s (stop_overdue): what is left is
 * sent again at the next start, since the slot was not confirmed past it.
 * Used at a clean stop, and at start when events are sent again: there,
 * giving up is an error with SQLSTATE 57014 (query_canceled), so that
 * capture stops before it streams (starting the stream would move the slot
 * to the store's position, past what Kafka has).
 */
static bool
drain(kafka_sink *ks, bool at_start, pt_err *err)
{
	int64_t		said = pt_now_us();

	while (rd_kafka_outq_len(ks->rk) > 0 && !ks->failed)
	{
		if (stop_overdue(ks))
		{
			pt_log_warning(ks->log, "kafka: stopping with %d messages not acknowledged after waiting %d s "
						   "([capture] stop_timeout_s); the slot keeps them and they are sent again at the next start",
						   rd_kafka_outq_len(ks->rk), ks->opts->stop_timeout_ms / 1000);
			if (at_start)
			{
				log_stats(ks, true);
				pt_err_set(err, PT_ERR_RUNTIME, "stopped while sending events to Kafka again at start");
				snprintf(err->sqlstate, sizeof(err->sqlstate), "%s", PT_SQLSTATE_QUERY_CANCELED);
				return false;
			}
			break;
		}
		rd_kafka_poll(ks->rk, 100);
		if (pt_now_us() - said > 10 * INT64_C(1000000))
		{
			pt_log_info(ks->log, "kafka: waiting for %d messages to be acknowledged", rd_kafka_outq_len(ks->rk));
			said = pt_now_us();
		}
	}
	ring_advance(ks);
	log_stats(ks, true);
	if (ks->failed)
	{
		*err = ks->failure;
		return false;
	}
	return save_position(ks, true, err);
}

static bool
kafka_drain(void *state, volatile sig_atomic_t *stop, pt_err *err)
{
	kafka_sink *ks = state;

	if (stop != NULL)
		ks->stop = stop;
	return drain(ks, false, err);
}

static void
kafka_close(void *state)
{
	kafka_sink *ks = state;

	if (ks->rk != NULL)
	{
		/*
		 * What is still queued is not lost: the slot was not confirmed past
		 * it. After a stop that waited its time, nothing more is waited for:
		 * the queue and the requests in flight are purged, so that
		 * rd_kafka_destroy has nothing left to wait on.
		 */
		if (stop_overdue(ks))
			rd_kafka_purge(ks->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT |
						   RD_KAFKA_PURGE_F_NON_BLOCKING);
		else
			rd_kafka_flush(ks->rk, 2000);
		rd_kafka_destroy(ks->rk);
	}
	/* librdkafka is gone: nothing points into the chunks any more */
	for (int i = 0; i < ks->ring_len; i++)
		free_chunks(ring_at(ks, i)->chunks);
	free_chunks(ks->spare);
	free(ks->ring);
	free(ks->schema);
	pt_dbz_registry_free(ks->registry);
	pt_dbz_writer_free(&ks->dbz);
	pt_buf_free(&ks->message_topic);
	pt_buf_free(&ks->transaction_topic);
	pt_buf_free(&ks->scratch_topic);
	pt_buf_free(&ks->heartbeat_topic);
	pt_buf_free(&ks->topic);
	pt_buf_free(&ks->value);
	pt_buf_free(&ks->scratch);
	free(ks);
}

/* The first event id whose commit LSN is at or after lsn (ids follow commit order). */
static bool
first_event_from(kafka_sink *ks, pt_lsn lsn, int64_t last_id, int64_t *first, pt_err *err)
{
	pt_buf		sql = PT_BUF_INIT;
	int64_t		lo = 1,
				hi = last_id + 1;	/* answer in [lo, hi] */
	bool		ok;

	ok = pt_pq_sql_with_ident(ks->conn, "SELECT commit_lsn::text FROM %1$s.events WHERE id = $1",
							  ks->schema, &sql, err);
	while (ok && lo < hi)
	{
		int64_t		mid = lo + (hi - lo) / 2;
		char		id[24];
		const char *params[1] = {id};
		PGresult   *res;
		pt_lsn		at = 0;

		snprintf(id, sizeof(id), "%lld", (long long) mid);
		res = pt_pq_exec_params(ks->conn, sql.data, 1, params, PGRES_TUPLES_OK, 1, 1, err);
		if ((ok = res != NULL))
			ok = pt_lsn_parse(PQgetvalue(res, 0, 0), strlen(PQgetvalue(res, 0, 0)), &at) ||
				pt_err_set(err, PT_ERR_INTEGRITY, "event %lld has a malformed commit_lsn", (long long) mid);
		PQclear(res);
		if (at >= lsn)
			hi = mid;
		else
			lo = mid + 1;
	}
	pt_buf_free(&sql);
	*first = lo;
	return ok;
}

/* An erasure event capture wrote for its [capture] withhold (core/withhold.h): never sent. */
static bool
withheld_record(const pt_event *ev)
{
	return ev->op == PT_OP_ERASURE && ev->action.ptr != NULL && ev->action.len == 8 &&
		memcmp(ev->action.ptr, "withhold", 8) == 0;
}

/* What erasures among the events sent again owe (read before the events: one query at a time). */
typedef struct due_messages
{
	PGresult   *res;			/* erasure_id, schema_name, table_name, schema_version, key, row, unchanged */
	int			next;			/* the first row not sent */
	pt_buf		literal;		/* a row's unchanged, split in place into names */
	pt_text    *names;
	int			names_cap;
} due_messages;

/* native: a tombstone owed, with [kafka] tombstones on (native has no update record of its own). */
static bool
produce_native_due(kafka_sink *ks, const pt_event *erasure, const pt_event *ev, pending *p, pt_err *err)
{
	if (!ks->opts->tombstones || ev->row.ptr != NULL)
		return true;
	if (!produce(ks, ks->topic.data, ev->key.ptr, ev->key.len, NULL, 0, erasure, p->seq, err))
		return false;
	p->outstanding++;
	return true;
}

/* debezium: a tombstone (with tombstones.on.delete) or an update record under ev's key. */
static bool
produce_debezium_due(kafka_sink *ks, const pt_event *erasure, const pt_event *ev, pending *p, pt_err *err)
{
	const pt_dbz_table *tab = NULL;
	bool		first;
	int			n = 0;

	if (ev->row.ptr == NULL && !ks->dbz_set.tombstones)
		return true;
	if (!pt_dbz_registry_get(ks->registry, ev, &tab, &first, err))
		return false;
	if (tab == NULL)
	{
		pt_log_warning(ks->log, "kafka: erasure event %lld: no schema version %d of %.*s.%.*s is known; no record "
					   "for a key it erased from", (long long) erasure->id, ev->schema_version,
					   (int) ev->schema_name.len, ev->schema_name.ptr, (int) ev->table_name.len, ev->table_name.ptr);
		return true;
	}
	if (ev->row.ptr == NULL)
		return pt_dbz_tombstone(&ks->dbz, tab, ev->key, &n, err) && produce_records(ks, erasure, n, p, err);
	return pt_dbz_erased_update(&ks->dbz, tab, ev, pt_now_us(), &n, err) && produce_records(ks, erasure, n, p, err);
}

/* Row i of due as an event of its key, dated by the erasure, on its table's topic. */
static bool
produce_due(kafka_sink *ks, const pt_event *erasure, due_messages *due, int i, pending *p, pt_err *err)
{
	pt_event	ev = *erasure;

	pt_buf_reset(&due->literal);
	pt_buf_puts(&due->literal, PQgetvalue(due->res, i, 6));
	if (!pt_copy_split_array(due->literal.data, due->literal.len, &due->names, &due->names_cap, &ev.nunchanged))
		return pt_err_set(err, PT_ERR_INTEGRITY, "erasure_due of erasure event %lld holds a malformed unchanged list",
						  (long long) erasure->id);
	ev.unchanged = due->names;
	ev.op = PQgetisnull(due->res, i, 5) ? PT_OP_DELETE : PT_OP_UPDATE;
	ev.schema_name = pt_text_c(PQgetvalue(due->res, i, 1));
	ev.table_name = pt_text_c(PQgetvalue(due->res, i, 2));
	ev.schema_version = atoi(PQgetvalue(due->res, i, 3));
	ev.has_schema_version = true;
	ev.key = pt_text_c(PQgetvalue(due->res, i, 4));
	ev.row = PQgetisnull(due->res, i, 5) ? (pt_text) {NULL, 0} : pt_text_c(PQgetvalue(due->res, i, 5));
	ev.old = (pt_text) {NULL, 0};
	pt_buf_reset(&ks->topic);
	pt_kafka_topic(ks->opts->topic, ks->opts->other_topic, &ev, &ks->topic);
	if (ks->format == PT_KAFKA_DEBEZIUM)
		return produce_debezium_due(ks, erasure, &ev, p, err);
	return produce_native_due(ks, erasure, &ev, p, err);
}

/*
 * Right after an erasure event of pgtrail-erase, before any later event
 * of the same keys: what it owes consumers (core/store_due.h), on each
 * key's table topic.
 */
static bool
produce_owed(kafka_sink *ks, const pt_event *erasure, due_messages *due, pending *p, pt_err *err)
{
	int			owed = 0;

	for (; due->next < PQntuples(due->res); due->next++)
	{
		int64_t		of = strtoll(PQgetvalue(due->res, due->next, 0), NULL, 10);

		if (of > erasure->id)
			break;
		if (of == erasure->id && !produce_due(ks, erasure, due, due->next, p, err))
			return false;
		owed += of == erasure->id;
	}
	if (owed == 0)
		return true;
	pt_log_info(ks->log, "kafka: erasure event %lld: %d tombstones or updates for the keys it erased from",
				(long long) erasure->id, owed);
	if (erasure->id > ks->due_sent)
		ks->due_sent = erasure->id;
	return true;
}

/* A stored event sent again: schema events and capture's own erasures stay in the event table. */
static bool
produce_again(kafka_sink *ks, const pt_event *ev, due_messages *due, pending *p, pt_err *err)
{
	if (ev->op == PT_OP_SCHEMA || withheld_record(ev))
		return true;
	return produce_event(ks, ev, p, err) && (ev->op != PT_OP_ERASURE || produce_owed(ks, ev, due, p, err));
}

/*
 * Send the stored events first .. last again, then wait until all are
 * acknowledged. Not past last: an erasure committed since the state was
 * read has what it owes (read first) only from the next resume, which the
 * moved chain end brings about.
 */
static bool
send_again(kafka_sink *ks, int64_t first, int64_t last, pt_lsn end, pt_err *err)
{
	due_messages due = {.res = pt_due_from(ks->conn, ks->schema, first, last, err)};
	pt_store_reader *reader = due.res ? pt_store_reader_open(ks->conn, ks->schema, first - 1, err) : NULL;
	pending    *p = ring_push(ks);
	pt_event	ev;
	bool		done = false;
	bool		ok = reader != NULL;

	while (ok && (ok = pt_store_reader_next(reader, &ev, &done, err)) && !done && ev.id <= last)
		ok = produce_again(ks, &ev, &due, p, err);
	PQclear(due.res);
	pt_buf_free(&due.literal);
	free(due.names);
	ok = ok && finish_batch(ks, p, err);
	pt_store_reader_close(reader);
	p->committed = true;
	p->end = end;
	return ok && drain(ks, true, err);
}

static bool
kafka_resume(void *state, pt_lsn slot_confirmed, pt_err *err)
{
	kafka_sink *ks = state;
	pt_store_state st;
	int64_t		first;
	int64_t		saved;
	int64_t		erasure = 0;

	if (ks->registry != NULL && !pt_dbz_registry_load(ks->registry, ks->conn, ks->schema, err))
		return false;
	if (!pt_store_load_state(ks->conn, ks->schema, ks->opts->slot, &st, err))
		return false;
	ks->durable = slot_confirmed;
	if (!st.found || st.last_event_id == 0)
		return true;
	if (!first_event_from(ks, slot_confirmed, st.last_event_id, &first, err) ||
		!load_position(ks, &saved, err))
		return false;
	if (saved >= first)
		first = saved + 1;
	/* what erasures Kafka has acknowledged owed is sent (a stop between the two writes left it) */
	if (saved > 0 && !pt_due_forget(ks->conn, ks->schema, saved, err))
		return false;
	if (saved > 0 && !first_erasure_after(ks, saved, &erasure, err))
		return false;
	if (erasure > 0 && erasure < first)
		first = erasure;
	ks->acked_id = first - 1;
	if (first > st.last_event_id)
		return true;
	pt_log_info(ks->log, "kafka: sending events %lld..%lld again (the slot was confirmed up to %X/%X, "
				"Kafka may not have them all)", (long long) first, (long long) st.last_event_id,
				(unsigned) (slot_confirmed >> 32), (unsigned) slot_confirmed);
	return send_again(ks, first, st.last_event_id, st.confirmed_lsn, err);
}

/* debezium: a new table version, kept for its events' records */
static bool
kafka_schema_version(void *state, const char *schema_name, const char *table_name, int version,
					 const char *columns, const char *const *primary_key, int npk, const char *details, pt_err *err)
{
	kafka_sink *ks = state;
	pt_dbz_version_in in = {schema_name, table_name, version, columns, primary_key, npk, details};

	(void) err;
	if (ks->registry != NULL)
		pt_dbz_registry_add(ks->registry, &in);
	return true;
}

static const pt_sink_ops kafka_ops = {
	.name = "kafka",
	.begin = kafka_begin,
	.add = kafka_add,
	.commit = kafka_commit,
	.schema_version = kafka_schema_version,
	.abort = kafka_abort,
	.close = kafka_close,
	.poll = kafka_poll,
	.durable = kafka_durable,
	.busy = kafka_busy,
	.resume = kafka_resume,
	.checkpoint = kafka_checkpoint,
	.drain = kafka_drain,
	.figures = kafka_figures,
};

/* A random (version 4) UUID, as Debezium's runId. */
static void
make_run_id(char out[37])
{
	unsigned char b[16];

	if (RAND_bytes(b, sizeof(b)) != 1)
		memset(b, 0, sizeof(b));	/* (OpenSSL without entropy: a fixed id, not a fault) */
	b[6] = (unsigned char) ((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char) ((b[8] & 0x3f) | 0x80);
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
			 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}

/* The debezium format's state: Debezium's settings with source.db, the versions, the writer. */
static void
open_debezium(kafka_sink *ks, const char *db, pt_dbz_catalog *catalog)
{
	ks->dbz_set = ks->opts->dbz;
	ks->dbz_set.db = db;
	ks->registry = pt_dbz_registry_new(ks->dbz_set.prefix, &ks->dbz_set.modes, catalog);
	pt_dbz_writer_init(&ks->dbz, &ks->dbz_set);
	pt_buf_puts(&ks->message_topic, ks->dbz_set.prefix);
	pt_buf_puts(&ks->message_topic, ".message");
	pt_buf_puts(&ks->transaction_topic, ks->dbz_set.prefix);
	pt_buf_puts(&ks->transaction_topic, ".transaction");
	pt_buf_puts(&ks->heartbeat_topic, "__debezium-heartbeat.");
	pt_buf_puts(&ks->heartbeat_topic, ks->dbz_set.prefix);
	ks->heartbeat_us = pt_now_us();
	make_run_id(ks->run_id);
	if (ks->dbz_set.modes.decimal == PT_DBZ_DECIMAL_DOUBLE)
		pt_log_warning(ks->log, "kafka: decimal.handling.mode = double: numeric and money values go out as "
					   "doubles, which keep about 16 significant digits; precise (the default) or string keeps them all");
}

bool
pt_sink_kafka_open(pt_sink *sink, const pt_kafka_opts *opts, const char *db, PGconn *conn,
				   const char *schema, pt_dbz_catalog *catalog, volatile sig_atomic_t *stop, pt_log *log,
				   pt_err *err)
{
	kafka_sink *ks = pt_calloc(1, sizeof(*ks));
	rd_kafka_conf_t *conf;
	char		why[512];

	ks->opts = opts;
	ks->stop = stop;
	ks->log = log;
	ks->conn = conn;
	ks->schema = pt_strdup(schema);
	ks->last_stats_us = pt_now_us();
	pt_buf_init(&ks->topic);
	pt_buf_init(&ks->value);
	pt_buf_init(&ks->scratch);
	if (!pt_kafka_format_parse(opts->format, &ks->format))
	{
		pt_err_set(err, PT_ERR_CONFIG, "unknown Kafka format \"%s\"", opts->format);
		pt_err_hint(err, "[kafka] format is native or debezium");
		goto error;
	}
	if (ks->format == PT_KAFKA_DEBEZIUM)
		open_debezium(ks, db, catalog);
	if ((conf = make_conf(ks, err)) == NULL)
		goto error;
	ks->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, why, sizeof(why));
	if (ks->rk == NULL)
	{
		rd_kafka_conf_destroy(conf);	/* rd_kafka_new frees conf only on success */
		pt_err_set(err, PT_ERR_CONFIG, "could not create the Kafka producer: %s", why);
		goto error;
	}
	rd_kafka_set_log_queue(ks->rk, NULL);	/* log lines come through rd_kafka_poll */
	sink->ops = &kafka_ops;
	sink->state = ks;
	return true;

error:
	kafka_close(ks);
	return false;
}
