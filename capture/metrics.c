/*
 * capture/metrics.c — capture's metrics and health over HTTP (see metrics.h).
 *
 * The numbers: positions, times and plain counters are C11 atomics written
 * by capture's thread with relaxed stores; the events-by-table series (an
 * open-addressing table, at most MAX_SERIES, then one "other" bucket) and
 * the batch latency histogram are guarded by a mutex. A scrape copies the
 * numbers under the mutex and formats them after releasing it, so capture
 * never waits on a slow client. libmicrohttpd runs its own polling thread
 * on a socket bound here, so a bad address or a port in use is found at
 * start, before capture connects to anything.
 */
#include "capture/metrics.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/mem.h"

#define MAX_SERIES 10000
#define MAX_SAMPLES 4096		/* polled source positions not yet stored */
#define SERIES_SLOTS 16384		/* power of two, load at most 0.61 */

/* batch commit seconds: upper bounds of the histogram's buckets */
static const double batch_bounds[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};

#define NBOUNDS ((int) (sizeof(batch_bounds) / sizeof(batch_bounds[0])))

/* A source WAL position and when it was seen there. */
typedef struct sample
{
	uint64_t	lsn;
	int64_t		at_us;			/* pt_monotonic_us() */
} sample;

/* One schema.table+op series; the names are copied once, when it is created. */
typedef struct series
{
	char	   *schema;			/* NULL: free slot */
	char	   *table;
	size_t		slen;
	size_t		tlen;
	int			op;
	uint32_t	hash;
	uint64_t	count;
} series;

/* A known loss series: schema, table and kind joined by NULs, copied once. */
#define MAX_LOSSES 512
typedef struct loss_series
{
	char	   *key;			/* "schema\0table\0kind\0" */
	uint64_t	count;
} loss_series;

struct pt_metrics
{
	struct MHD_Daemon *daemon;
	int			ready_max_lag_s;

	/* under lock */
	pthread_mutex_t lock;
	series	   *slots;
	int			nseries;
	uint64_t	other;			/* events past MAX_SERIES */
	uint64_t	batch_buckets[NBOUNDS];	/* not cumulative here */
	uint64_t	batch_count;
	int64_t		batch_sum_us;
	loss_series losses[MAX_LOSSES];
	int			nlosses;
	sample	   *samples;		/* rising lsn, each above stored_lsn when added */
	int			nsamples;

	/* atomics */
	atomic_bool streaming;
	atomic_bool kafka;
	_Atomic int64_t stopped_at_us;	/* when the stream ended (or capture started), monotonic */
	_Atomic uint64_t stored_lsn;
	_Atomic uint64_t source_lsn;
	_Atomic int64_t commit_at_us;	/* commit time of the last event stored, 0 = none yet */
	_Atomic int64_t pending_at_us;	/* commit time of the oldest change not stored, 0 = none */
	_Atomic int64_t reconnects;
	_Atomic int64_t snapshot_rows;
	_Atomic int64_t snapshot_tables_done;
	_Atomic int64_t snapshot_tables;
	_Atomic int64_t kafka_delivered;
	_Atomic int64_t kafka_errors;
	_Atomic int64_t kafka_transport_errors;
	_Atomic int64_t kafka_queued;
};

/* ---- capture's side ---- */

static uint32_t
fnv(uint32_t h, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char) p[i]) * 16777619u;
	return h;
}

static char *
copy_text(const char *p, size_t n)
{
	char	   *s = pt_malloc(n + 1);

	if (n > 0)
		memcpy(s, p, n);
	s[n] = '\0';
	return s;
}

void
pt_metrics_event(pt_metrics *m, const pt_event *ev)
{
	const char *sp = ev->schema_name.ptr ? ev->schema_name.ptr : "";
	const char *tp = ev->table_name.ptr ? ev->table_name.ptr : "";
	size_t		slen = ev->schema_name.ptr ? ev->schema_name.len : 0;
	size_t		tlen = ev->table_name.ptr ? ev->table_name.len : 0;
	uint32_t	h;
	unsigned	i;

	if (m == NULL)
		return;
	h = fnv(fnv(2166136261u, sp, slen), "\0", 1);
	h = fnv(h, tp, tlen) ^ (uint32_t) ev->op * 2654435761u;
	pthread_mutex_lock(&m->lock);
	for (i = h & (SERIES_SLOTS - 1);; i = (i + 1) & (SERIES_SLOTS - 1))
	{
		series	   *s = &m->slots[i];

		if (s->schema == NULL)
		{
			if (m->nseries >= MAX_SERIES)
			{
				m->other++;
				break;
			}
			/* the only allocation: once per new series */
			s->schema = copy_text(sp, slen);
			s->table = copy_text(tp, tlen);
			s->slen = slen;
			s->tlen = tlen;
			s->op = (int) ev->op;
			s->hash = h;
			s->count = 1;
			m->nseries++;
			break;
		}
		if (s->hash == h && s->op == (int) ev->op && s->slen == slen && s->tlen == tlen &&
			memcmp(s->schema, sp, slen) == 0 && memcmp(s->table, tp, tlen) == 0)
		{
			s->count++;
			break;
		}
	}
	pthread_mutex_unlock(&m->lock);
}

/* Is series ls the one of schema, table and kind? (no allocation: called per value) */
static bool
loss_is(const loss_series *ls, const char *schema, const char *table, const char *kind)
{
	const char *t = ls->key + strlen(ls->key) + 1;

	return strcmp(ls->key, schema) == 0 && strcmp(t, table) == 0 && strcmp(t + strlen(t) + 1, kind) == 0;
}

void
pt_metrics_loss(pt_metrics *m, const char *schema, const char *table, const char *kind, int64_t count)
{
	size_t		ls = strlen(schema) + 1,
				lt = strlen(table) + 1,
				lk = strlen(kind) + 1;
	int			i;

	if (m == NULL)
		return;
	pthread_mutex_lock(&m->lock);
	for (i = 0; i < m->nlosses && !loss_is(&m->losses[i], schema, table, kind); i++)
		;
	if (i == m->nlosses && m->nlosses < MAX_LOSSES)
	{
		/* the only allocation: once per new series */
		m->losses[i].key = pt_malloc(ls + lt + lk);
		memcpy(m->losses[i].key, schema, ls);
		memcpy(m->losses[i].key + ls, table, lt);
		memcpy(m->losses[i].key + ls + lt, kind, lk);
		m->nlosses++;
	}
	if (i < m->nlosses)
		m->losses[i].count += (uint64_t) count;
	pthread_mutex_unlock(&m->lock);
}

void
pt_metrics_batch(pt_metrics *m, pt_lsn lsn, int64_t batch_us, int64_t commit_at_us)
{
	int			b = 0;

	if (m == NULL)
		return;
	while (b < NBOUNDS && (double) batch_us / 1e6 > batch_bounds[b])
		b++;
	pthread_mutex_lock(&m->lock);
	if (b < NBOUNDS)
		m->batch_buckets[b]++;
	m->batch_count++;
	m->batch_sum_us += batch_us;
	pthread_mutex_unlock(&m->lock);
	if (commit_at_us > 0)
		atomic_store_explicit(&m->commit_at_us, commit_at_us, memory_order_relaxed);
	atomic_store_explicit(&m->pending_at_us, 0, memory_order_relaxed);
	if (lsn > atomic_load_explicit(&m->stored_lsn, memory_order_relaxed))
		atomic_store_explicit(&m->stored_lsn, lsn, memory_order_relaxed);
}

void
pt_metrics_position(pt_metrics *m, pt_lsn stored, pt_lsn source)
{
	if (m == NULL)
		return;
	/* only capture's thread writes: load-compare-store is enough */
	if (stored > atomic_load_explicit(&m->stored_lsn, memory_order_relaxed))
		atomic_store_explicit(&m->stored_lsn, stored, memory_order_relaxed);
	if (source > atomic_load_explicit(&m->source_lsn, memory_order_relaxed))
		atomic_store_explicit(&m->source_lsn, source, memory_order_relaxed);
}

/* Drop the samples the store has reached (under m->lock). */
static void
prune_samples(pt_metrics *m, uint64_t stored)
{
	int			reached = 0;

	while (reached < m->nsamples && m->samples[reached].lsn <= stored)
		reached++;
	if (reached > 0)
	{
		m->nsamples -= reached;
		memmove(m->samples, m->samples + reached, sizeof(sample) * (size_t) m->nsamples);
	}
}

void
pt_metrics_source_polled(pt_metrics *m, pt_lsn source)
{
	uint64_t	stored;

	if (m == NULL)
		return;
	pt_metrics_position(m, 0, source);
	stored = atomic_load_explicit(&m->stored_lsn, memory_order_relaxed);
	pthread_mutex_lock(&m->lock);
	prune_samples(m, stored);
	if (source > stored && (m->nsamples == 0 || source > m->samples[m->nsamples - 1].lsn))
	{
		if (m->nsamples == MAX_SAMPLES)
		{
			/* a long stall: keep the oldest (it sets the lag) and every other one after it */
			for (int i = 1; 2 * i < MAX_SAMPLES; i++)
				m->samples[i] = m->samples[2 * i];
			m->nsamples = MAX_SAMPLES / 2;
		}
		m->samples[m->nsamples].lsn = source;
		m->samples[m->nsamples].at_us = pt_monotonic_us();
		m->nsamples++;
	}
	pthread_mutex_unlock(&m->lock);
}

void
pt_metrics_pending(pt_metrics *m, int64_t commit_at_us)
{
	if (m != NULL && commit_at_us > 0 && atomic_load_explicit(&m->pending_at_us, memory_order_relaxed) == 0)
		atomic_store_explicit(&m->pending_at_us, commit_at_us, memory_order_relaxed);
}

void
pt_metrics_streaming(pt_metrics *m, bool streaming)
{
	if (m == NULL)
		return;
	if (!streaming && atomic_load(&m->streaming))
		atomic_store(&m->stopped_at_us, pt_monotonic_us());
	atomic_store(&m->streaming, streaming);
}

void
pt_metrics_reconnect(pt_metrics *m)
{
	if (m != NULL)
		atomic_fetch_add(&m->reconnects, 1);
}

void
pt_metrics_snapshot(pt_metrics *m, int tables_done, int tables_total, int64_t rows)
{
	if (m == NULL)
		return;
	atomic_store_explicit(&m->snapshot_tables_done, tables_done, memory_order_relaxed);
	atomic_store_explicit(&m->snapshot_tables, tables_total, memory_order_relaxed);
	atomic_store_explicit(&m->snapshot_rows, rows, memory_order_relaxed);
}

void
pt_metrics_kafka(pt_metrics *m, const pt_kafka_figures *figures)
{
	if (m == NULL)
		return;
	atomic_store_explicit(&m->kafka, true, memory_order_relaxed);
	atomic_store_explicit(&m->kafka_delivered, figures->delivered, memory_order_relaxed);
	atomic_store_explicit(&m->kafka_errors, figures->delivery_errors, memory_order_relaxed);
	atomic_store_explicit(&m->kafka_transport_errors, figures->transport_errors, memory_order_relaxed);
	atomic_store_explicit(&m->kafka_queued, figures->queued, memory_order_relaxed);
}

/* ---- the server's side ---- */

/* What a scrape or a readiness check sees, copied in one go. */
typedef struct view
{
	bool		streaming;
	bool		kafka;
	int64_t		now_us;
	int64_t		monotonic_us;	/* the clock of samples and stopped_at_us */
	int64_t		stopped_at_us;
	uint64_t	stored;
	uint64_t	source;
	int64_t		commit_at_us;
	int64_t		pending_at_us;
	int64_t		unstored_since_us;	/* when the source first had WAL not stored yet, 0 = none */
	int64_t		reconnects;
	int64_t		snapshot_rows;
	int64_t		snapshot_tables_done;
	int64_t		snapshot_tables;
	int64_t		kafka_delivered;
	int64_t		kafka_errors;
	int64_t		kafka_transport_errors;
	int64_t		kafka_queued;
	series	   *series;			/* copies; the names point into m's (never freed while serving) */
	int			nseries;
	uint64_t	other;
	uint64_t	batch_buckets[NBOUNDS];
	uint64_t	batch_count;
	int64_t		batch_sum_us;
} view;

/* Fills v; with_series: v->series is allocated (caller frees). */
static void
take_view(pt_metrics *m, view *v, bool with_series)
{
	memset(v, 0, sizeof(*v));
	v->now_us = pt_now_us();
	v->monotonic_us = pt_monotonic_us();
	v->streaming = atomic_load(&m->streaming);
	v->kafka = atomic_load(&m->kafka);
	v->stopped_at_us = atomic_load(&m->stopped_at_us);
	v->stored = atomic_load(&m->stored_lsn);
	v->source = atomic_load(&m->source_lsn);
	v->commit_at_us = atomic_load(&m->commit_at_us);
	v->pending_at_us = atomic_load(&m->pending_at_us);
	pthread_mutex_lock(&m->lock);
	prune_samples(m, v->stored);
	v->unstored_since_us = m->nsamples > 0 ? m->samples[0].at_us : 0;
	pthread_mutex_unlock(&m->lock);
	v->reconnects = atomic_load(&m->reconnects);
	v->snapshot_rows = atomic_load(&m->snapshot_rows);
	v->snapshot_tables_done = atomic_load(&m->snapshot_tables_done);
	v->snapshot_tables = atomic_load(&m->snapshot_tables);
	v->kafka_delivered = atomic_load(&m->kafka_delivered);
	v->kafka_errors = atomic_load(&m->kafka_errors);
	v->kafka_transport_errors = atomic_load(&m->kafka_transport_errors);
	v->kafka_queued = atomic_load(&m->kafka_queued);
	if (!with_series)
		return;
	v->series = pt_malloc(sizeof(series) * (MAX_SERIES + 1));
	pthread_mutex_lock(&m->lock);
	for (int i = 0; i < SERIES_SLOTS; i++)
		if (m->slots[i].schema != NULL)
			v->series[v->nseries++] = m->slots[i];
	v->other = m->other;
	memcpy(v->batch_buckets, m->batch_buckets, sizeof(v->batch_buckets));
	v->batch_count = m->batch_count;
	v->batch_sum_us = m->batch_sum_us;
	pthread_mutex_unlock(&m->lock);
}

static bool
caught_up(const view *v)
{
	return v->stored >= v->source;
}

/*
 * Seconds behind the source, the larger of: the age (by its commit time at
 * the source) of the oldest change received and not stored yet, and how long
 * ago the source first had WAL, polled from the server, that the store has
 * not reached; and, while not streaming, how long since the stream ended
 * (or capture started): nothing can be known of the source then. So a quiet
 * spell before a change does not count, and the lag keeps growing while the
 * stream stalls or capture is disconnected.
 */
static double
lag_seconds(const view *v)
{
	int64_t		age = 0;

	if (!v->streaming && v->stopped_at_us > 0)
		age = v->monotonic_us - v->stopped_at_us;
	if (v->pending_at_us > 0 && v->now_us - v->pending_at_us > age)
		age = v->now_us - v->pending_at_us;
	if (v->unstored_since_us > 0 && v->monotonic_us - v->unstored_since_us > age)
		age = v->monotonic_us - v->unstored_since_us;
	return (double) age / 1e6;
}

static void
put_label_value(pt_buf *b, const char *s)
{
	for (; *s; s++)
	{
		if (*s == '\\')
			pt_buf_puts(b, "\\\\");
		else if (*s == '"')
			pt_buf_puts(b, "\\\"");
		else if (*s == '\n')
			pt_buf_puts(b, "\\n");
		else
			pt_buf_putc(b, *s);
	}
}

static void
put_head(pt_buf *b, const char *name, const char *type, const char *help)
{
	pt_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void
put_int(pt_buf *b, const char *name, const char *type, const char *help, int64_t value)
{
	put_head(b, name, type, help);
	pt_buf_printf(b, "%s %lld\n", name, (long long) value);
}

static void
put_events(pt_buf *b, const view *v)
{
	put_head(b, "pgtrail_capture_events_total", "counter",
			 "Events handed to the sinks, by source table and operation (schema and table empty for events of no table; op \"other\" once the series limit is reached).");
	for (int i = 0; i < v->nseries; i++)
	{
		pt_buf_puts(b, "pgtrail_capture_events_total{schema=\"");
		put_label_value(b, v->series[i].schema);
		pt_buf_puts(b, "\",table=\"");
		put_label_value(b, v->series[i].table);
		pt_buf_printf(b, "\",op=\"%s\"} %llu\n", pt_op_name((pt_op) v->series[i].op),
					  (unsigned long long) v->series[i].count);
	}
	if (v->other > 0)
		pt_buf_printf(b, "pgtrail_capture_events_total{schema=\"\",table=\"\",op=\"other\"} %llu\n",
					  (unsigned long long) v->other);
}

static void
put_batches(pt_buf *b, const view *v)
{
	uint64_t	cumulative = 0;

	put_head(b, "pgtrail_capture_batch_seconds", "histogram",
			 "Time a sink batch stayed open, from its first event to its commit on every sink.");
	for (int i = 0; i < NBOUNDS; i++)
	{
		cumulative += v->batch_buckets[i];
		pt_buf_printf(b, "pgtrail_capture_batch_seconds_bucket{le=\"%g\"} %llu\n", batch_bounds[i],
					  (unsigned long long) cumulative);
	}
	pt_buf_printf(b, "pgtrail_capture_batch_seconds_bucket{le=\"+Inf\"} %llu\n",
				  (unsigned long long) v->batch_count);
	pt_buf_printf(b, "pgtrail_capture_batch_seconds_sum %.6f\n", (double) v->batch_sum_us / 1e6);
	pt_buf_printf(b, "pgtrail_capture_batch_seconds_count %llu\n", (unsigned long long) v->batch_count);
}

/* Losses are few and rare: formatted under the lock, straight from m. */
static void
put_losses(pt_buf *b, pt_metrics *m)
{
	put_head(b, "pgtrail_capture_losses_total", "counter",
			 "Known losses by source table and kind (docs/FORMAT.md, losses): values wal2json cannot carry, "
			 "tables whose changes are not decoded (0: the state was seen), messages outside transactions.");
	pthread_mutex_lock(&m->lock);
	for (int i = 0; i < m->nlosses; i++)
	{
		const char *schema = m->losses[i].key;
		const char *table = schema + strlen(schema) + 1;
		const char *kind = table + strlen(table) + 1;

		pt_buf_puts(b, "pgtrail_capture_losses_total{schema=\"");
		put_label_value(b, schema);
		pt_buf_puts(b, "\",table=\"");
		put_label_value(b, table);
		pt_buf_puts(b, "\",kind=\"");
		put_label_value(b, kind);
		pt_buf_printf(b, "\"} %llu\n", (unsigned long long) m->losses[i].count);
	}
	pthread_mutex_unlock(&m->lock);
}

static void
format_metrics(pt_buf *b, const view *v)
{
	put_events(b, v);
	put_head(b, "pgtrail_capture_lag_bytes", "gauge",
			 "Bytes of WAL the source has that are not in the store yet (source position polled and from the stream).");
	pt_buf_printf(b, "pgtrail_capture_lag_bytes %llu\n",
				  (unsigned long long) (caught_up(v) ? 0 : v->source - v->stored));
	put_head(b, "pgtrail_capture_lag_seconds", "gauge",
			 "Seconds behind the source: age of the oldest change not stored, or since the source had WAL not stored.");
	pt_buf_printf(b, "pgtrail_capture_lag_seconds %.3f\n", lag_seconds(v));
	put_int(b, "pgtrail_capture_committed_lsn", "gauge",
			"Source LSN up to which everything is committed to the store, as a number.", (int64_t) v->stored);
	put_int(b, "pgtrail_capture_source_lsn", "gauge",
			"Latest source WAL position seen, as a number.", (int64_t) v->source);
	pt_buf_printf(b, "# HELP pgtrail_capture_last_commit_timestamp_seconds Source commit time of the last event stored.\n"
				  "# TYPE pgtrail_capture_last_commit_timestamp_seconds gauge\n"
				  "pgtrail_capture_last_commit_timestamp_seconds %.6f\n", (double) v->commit_at_us / 1e6);
	put_batches(b, v);
	put_int(b, "pgtrail_capture_streaming", "gauge",
			"1 while the replication stream is open.", v->streaming ? 1 : 0);
	put_int(b, "pgtrail_capture_reconnects_total", "counter",
			"Times capture lost its connections and started again.", v->reconnects);
	put_int(b, "pgtrail_capture_snapshot_rows_total", "counter",
			"Rows copied by the initial snapshot.", v->snapshot_rows);
	put_int(b, "pgtrail_capture_snapshot_tables_done", "gauge",
			"Tables the initial snapshot has copied.", v->snapshot_tables_done);
	put_int(b, "pgtrail_capture_snapshot_tables", "gauge",
			"Tables the initial snapshot copies in all.", v->snapshot_tables);
	if (!v->kafka)
		return;
	put_int(b, "pgtrail_capture_kafka_delivered_total", "counter",
			"Kafka messages acknowledged by the brokers.", v->kafka_delivered);
	put_int(b, "pgtrail_capture_kafka_delivery_errors_total", "counter",
			"Kafka messages whose delivery failed for good (capture stops on the first).", v->kafka_errors);
	put_int(b, "pgtrail_capture_kafka_transport_errors_total", "counter",
			"Kafka errors librdkafka retries by itself: brokers down, timeouts.", v->kafka_transport_errors);
	put_int(b, "pgtrail_capture_kafka_queue_messages", "gauge",
			"Kafka messages queued in librdkafka, not yet acknowledged.", v->kafka_queued);
}

/* Ready: streaming, and no further behind than ready_max_lag_s. Else why not, in why. */
static bool
ready(pt_metrics *m, pt_buf *why)
{
	view		v;
	double		lag;

	take_view(m, &v, false);
	lag = lag_seconds(&v);
	if (!v.streaming && v.snapshot_tables > 0 && v.snapshot_tables_done < v.snapshot_tables)
		pt_buf_printf(why, "not ready: initial snapshot, %lld of %lld tables copied\n",
					  (long long) v.snapshot_tables_done, (long long) v.snapshot_tables);
	else if (!v.streaming)
		pt_buf_puts(why, "not ready: not streaming (starting or reconnecting)\n");
	else if (lag > m->ready_max_lag_s)
		pt_buf_printf(why, "not ready: %.1f s behind the source (ready_max_lag_s = %d)\n", lag, m->ready_max_lag_s);
	else
		return true;
	return false;
}

static enum MHD_Result
reply(struct MHD_Connection *conn, unsigned status, pt_buf *b, const char *content_type)
{
	struct MHD_Response *res;
	enum MHD_Result ret;

	/* the response frees b's memory (malloc'd) when it is sent */
	res = MHD_create_response_from_buffer(b->len, b->data ? b->data : pt_strdup(""), MHD_RESPMEM_MUST_FREE);
	if (res == NULL)
	{
		pt_buf_free(b);
		return MHD_NO;
	}
	MHD_add_response_header(res, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(res, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	ret = MHD_queue_response(conn, status, res);
	MHD_destroy_response(res);
	return ret;
}

static enum MHD_Result
handle(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
	   const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
	pt_metrics *m = cls;
	pt_buf		b = PT_BUF_INIT;
	view		v;

	(void) version;
	(void) upload_data;
	(void) upload_data_size;
	(void) con_cls;
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
	{
		pt_buf_puts(&b, "only GET\n");
		return reply(conn, MHD_HTTP_METHOD_NOT_ALLOWED, &b, "text/plain; charset=utf-8");
	}
	if (strcmp(url, "/metrics") == 0)
	{
		take_view(m, &v, true);
		format_metrics(&b, &v);
		put_losses(&b, m);
		free(v.series);
		return reply(conn, MHD_HTTP_OK, &b, "text/plain; version=0.0.4; charset=utf-8");
	}
	if (strcmp(url, "/healthz") == 0)
	{
		pt_buf_puts(&b, "ok\n");
		return reply(conn, MHD_HTTP_OK, &b, "text/plain; charset=utf-8");
	}
	if (strcmp(url, "/readyz") == 0)
	{
		if (ready(m, &b))
		{
			pt_buf_puts(&b, "ready\n");
			return reply(conn, MHD_HTTP_OK, &b, "text/plain; charset=utf-8");
		}
		return reply(conn, MHD_HTTP_SERVICE_UNAVAILABLE, &b, "text/plain; charset=utf-8");
	}
	pt_buf_puts(&b, "not found: try /metrics, /healthz or /readyz\n");
	return reply(conn, MHD_HTTP_NOT_FOUND, &b, "text/plain; charset=utf-8");
}

/* ---- start and stop ---- */

/* "host:port", "[v6]:port" or ":port" into host (may become "") and port. */
static bool
split_addr(const char *addr_port, char *host, size_t hostsize, char *port, size_t portsize)
{
	const char *colon;
	const char *h = addr_port;
	size_t		hlen;

	if (addr_port[0] == '[')
	{
		const char *close = strchr(addr_port, ']');

		if (close == NULL || close[1] != ':')
			return false;
		h = addr_port + 1;
		hlen = (size_t) (close - h);
		colon = close + 1;
	}
	else
	{
		colon = strrchr(addr_port, ':');
		if (colon == NULL || memchr(addr_port, ':', (size_t) (colon - addr_port)) != NULL)
			return false;
		hlen = (size_t) (colon - addr_port);
	}
	if (hlen >= hostsize || strlen(colon + 1) >= portsize || colon[1] == '\0' ||
		strspn(colon + 1, "0123456789") != strlen(colon + 1) || atoi(colon + 1) < 1 || atoi(colon + 1) > 65535)
		return false;
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	strcpy(port, colon + 1);
	return true;
}

/*
 * A listening socket bound to addr (v6only: for AF_INET6, whether IPv4 is
 * left out); -1 with errno set when it cannot be.
 */
static int
bound_socket(const struct sockaddr *addr, socklen_t addrlen, int v6only)
{
	int			fd = socket(addr->sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0),
				one = 1,
				e;

	if (fd >= 0 && (addr->sa_family != AF_INET6 ||
					setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof(v6only)) == 0) &&
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == 0 &&
		bind(fd, addr, addrlen) == 0 && listen(fd, 64) == 0)
		return fd;
	e = errno;
	if (fd >= 0)
		close(fd);
	errno = e;
	return -1;
}

/* err from a socket that could not listen on addr_port (errno e). */
static void
listen_failed(const char *addr_port, const char *port, int e, pt_err *err)
{
	pt_err_set(err, PT_ERR_CONFIG, "could not listen on metrics address \"%s\": %s", addr_port, strerror(e));
	if (e == EADDRINUSE)
		pt_err_hint(err, "another process listens on port %s (ss -ltnp 'sport = :%s' names it); "
					"choose a free port with --metrics ADDR:PORT", port, port);
	else
		pt_err_hint(err, "use an address of this host and a port this user may bind "
					"(ports below 1024 need privileges)");
}

/*
 * ":PORT" is every address: IPv6 and IPv4 on one socket (IPV6_V6ONLY off),
 * so a probe over either reaches it. Only a host without IPv6 gets IPv4's
 * any-address instead; any other failure (a port in use) is the answer.
 */
static int
listen_everywhere(const char *addr_port, const char *port, bool *ipv6, pt_err *err)
{
	struct sockaddr_in6 any6;
	struct sockaddr_in any4;
	int			fd;

	memset(&any6, 0, sizeof(any6));
	any6.sin6_family = AF_INET6;
	any6.sin6_addr = in6addr_any;
	any6.sin6_port = htons((uint16_t) atoi(port));
	*ipv6 = true;
	fd = bound_socket((struct sockaddr *) &any6, sizeof(any6), 0);
	if (fd < 0 && (errno == EAFNOSUPPORT || errno == EPROTONOSUPPORT || errno == EADDRNOTAVAIL))
	{
		memset(&any4, 0, sizeof(any4));
		any4.sin_family = AF_INET;
		any4.sin_addr.s_addr = htonl(INADDR_ANY);
		any4.sin_port = any6.sin6_port;
		*ipv6 = false;
		fd = bound_socket((struct sockaddr *) &any4, sizeof(any4), 0);
	}
	if (fd < 0)
		listen_failed(addr_port, port, errno, err);
	return fd;
}

/* A listening socket on addr_port; -1 and err (kind CONFIG) when it cannot be. */
static int
listen_on(const char *addr_port, bool *ipv6, pt_err *err)
{
	char		host[256],
				port[8];
	struct addrinfo hints,
			   *ai = NULL;
	int			fd,
				rc;

	if (!split_addr(addr_port, host, sizeof(host), port, sizeof(port)))
	{
		pt_err_set(err, PT_ERR_CONFIG, "invalid metrics address \"%s\"", addr_port);
		pt_err_hint(err, "give ADDR:PORT with a numeric address and a port from 1 to 65535, "
					"e.g. --metrics 127.0.0.1:9187, --metrics [::1]:9187 or --metrics :9187 (every address)");
		return -1;
	}
	if (host[0] == '\0')
		return listen_everywhere(addr_port, port, ipv6, err);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	if ((rc = getaddrinfo(host, port, &hints, &ai)) != 0)
	{
		pt_err_set(err, PT_ERR_CONFIG, "invalid metrics address \"%s\": %s", addr_port, gai_strerror(rc));
		pt_err_hint(err, "the address must be numeric (127.0.0.1, ::1, 0.0.0.0), not a host name");
		return -1;
	}
	*ipv6 = ai->ai_family == AF_INET6;
	fd = bound_socket(ai->ai_addr, ai->ai_addrlen, 1);
	if (fd < 0)
		listen_failed(addr_port, port, errno, err);
	freeaddrinfo(ai);
	return fd;
}

pt_metrics *
pt_metrics_open(const char *addr_port, int ready_max_lag_s, pt_err *err)
{
	pt_metrics *m;
	bool		ipv6 = false;
	int			fd = listen_on(addr_port, &ipv6, err);

	if (fd < 0)
		return NULL;
	m = pt_calloc(1, sizeof(*m));
	m->ready_max_lag_s = ready_max_lag_s;
	m->slots = pt_calloc(SERIES_SLOTS, sizeof(series));
	m->samples = pt_calloc(MAX_SAMPLES, sizeof(sample));
	m->stopped_at_us = pt_monotonic_us();
	pthread_mutex_init(&m->lock, NULL);
	/* libmicrohttpd closes fd at MHD_stop_daemon */
	/*
	 * Clients that connect and send nothing must not lock out the probes:
	 * each address may hold a few connections, idle ones are closed after
	 * 5 s, and poll() (not select()) lifts the FD_SETSIZE bound on the total.
	 */
	m->daemon = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL | (ipv6 ? MHD_USE_IPv6 : 0),
								 0, NULL, NULL, handle, m,
								 MHD_OPTION_LISTEN_SOCKET, fd,
								 MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int) 5,
								 MHD_OPTION_CONNECTION_LIMIT, (unsigned int) 512,
								 MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned int) 8,
								 MHD_OPTION_END);
	if (m->daemon == NULL)
	{
		close(fd);
		pt_metrics_close(m);
		pt_err_set(err, PT_ERR_CONFIG, "could not start the metrics server on \"%s\"", addr_port);
		return NULL;
	}
	return m;
}

void
pt_metrics_close(pt_metrics *m)
{
	if (m == NULL)
		return;
	if (m->daemon != NULL)
		MHD_stop_daemon(m->daemon);
	for (int i = 0; i < SERIES_SLOTS; i++)
	{
		free(m->slots[i].schema);
		free(m->slots[i].table);
	}
	free(m->slots);
	for (int i = 0; i < m->nlosses; i++)
		free(m->losses[i].key);
	free(m->samples);
	pthread_mutex_destroy(&m->lock);
	free(m);
}
