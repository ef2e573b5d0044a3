/*
 * capture/metrics.h — capture's numbers for Prometheus, and its health.
 *
 * Off by default; with [capture] metrics = ADDR:PORT an HTTP server thread
 * (libmicrohttpd) serves /metrics (Prometheus text format 0.0.4), /healthz
 * (200 while the process runs) and /readyz (200 while capture is streaming
 * and no more than ready_max_lag_s behind the source, else 503 and why).
 *
 * Capture's thread writes, the server's thread reads: positions and
 * counters are C11 atomics; the per-table event series and the batch
 * latency histogram sit behind a mutex held only to bump or copy numbers.
 * A series, once created, is found again without allocating. Every
 * function accepts m == NULL (metrics off) and then does nothing.
 */
#ifndef PGTRAIL_CAPTURE_METRICS_H
#define PGTRAIL_CAPTURE_METRICS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"
#include "core/event.h"
#include "core/lsn.h"

typedef struct pt_metrics pt_metrics;

/*
 * Listen on addr_port ("127.0.0.1:9187", "[::1]:9187", ":9187" for every
 * address) and start serving. A malformed address or one that cannot be
 * bound (port in use) is a PT_ERR_CONFIG error. Free with pt_metrics_close.
 */
pt_metrics *pt_metrics_open(const char *addr_port, int ready_max_lag_s, pt_err *err);

/* Stop the server thread and free everything (NULL is fine). */
void		pt_metrics_close(pt_metrics *m);

/* One event handed to the sinks (counted by schema.table and op). */
void		pt_metrics_event(pt_metrics *m, const pt_event *ev);

/* count known losses of kind in schema.table (0: a table-wide state was seen). */
void		pt_metrics_loss(pt_metrics *m, const char *schema, const char *table, const char *kind, int64_t count);

/* A sink batch committed up to lsn in batch_us; its last event was committed at commit_at_us. */
void		pt_metrics_batch(pt_metrics *m, pt_lsn lsn, int64_t batch_us, int64_t commit_at_us);

/* Positions: everything up to stored is in the store; the stream has shown WAL up to source. */
void		pt_metrics_position(pt_metrics *m, pt_lsn stored, pt_lsn source);

/*
 * The source's WAL position, asked of the server itself (about once a
 * second): kept with the time it was seen, so lag keeps growing while the
 * stream stalls or capture is disconnected.
 */
void		pt_metrics_source_polled(pt_metrics *m, pt_lsn source);

/*
 * A change committed at the source at commit_at_us was received and waits in
 * an open batch: the first of the batch sets it, the batch's commit clears it.
 */
void		pt_metrics_pending(pt_metrics *m, int64_t commit_at_us);

/* The replication stream started (true) or the session ended (false). */
void		pt_metrics_streaming(pt_metrics *m, bool streaming);

/* Capture lost its connection and is trying again. */
void		pt_metrics_reconnect(pt_metrics *m);

/* Initial snapshot: tables copied so far out of tables_total, rows copied so far. */
void		pt_metrics_snapshot(pt_metrics *m, int tables_done, int tables_total, int64_t rows);

/*
 * The Kafka sink's figures. A failed delivery stops capture (nothing is
 * skipped), so delivery_errors is 0 in a running capture but for its last
 * scrape; transport_errors counts what librdkafka retries on its own
 * (brokers down, timeouts), and grows through an outage.
 */
typedef struct pt_kafka_figures
{
	int64_t		delivered;
	int64_t		delivery_errors;
	int64_t		transport_errors;
	int64_t		queued;
} pt_kafka_figures;

/* (only called when Kafka is on) */
void		pt_metrics_kafka(pt_metrics *m, const pt_kafka_figures *figures);

#endif
