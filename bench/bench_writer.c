/*
 * bench/bench_writer.c — event store writer throughput against plain COPY.
 *
 * Writes N events (default 1,000,000) through pt_store_writer — canonical
 * encoding, SHA-256 chain, COPY formatting, batches with the state row —
 * then, in the same run and into the same (emptied) table, sends the very
 * same rows as plain COPY text in the same batch sizes: that is the physical
 * limit of getting these rows into PostgreSQL. Prints events/s of both and
 * their ratio (target: at least 0.8). Each is run twice; the best counts.
 * Both store formats are measured: 2 (every value under a salted
 * commitment, a seal per event: what a new store gets) and 1 (before it).
 *
 *   bench_writer [EVENTS] [BATCH]    connection from PG* / PGTRAIL_BENCH_DSN
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "core/buf.h"
#include "core/chain.h"
#include "core/pq.h"
#include "core/store.h"

#define SCHEMA "pgtrail_bench"

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

/* CPU seconds this process has used (user + system). */
static double
cpu(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double) ru.ru_utime.tv_sec + (double) ru.ru_utime.tv_usec / 1e6 +
		(double) ru.ru_stime.tv_sec + (double) ru.ru_stime.tv_usec / 1e6;
}

static double writer_cpu = 1e30;

static void
die(const char *what, const pt_err *err)
{
	fprintf(stderr, "bench_writer: %s: %s\n", what, err ? err->message : "");
	exit(3);
}

static void
exec_or_die(PGconn *conn, const char *sql)
{
	pt_err		err;

	if (!pt_pq_command(conn, sql, &err))
		die(sql, &err);
}

/* A realistic row change: an orders table with a handful of typed columns. */
static void
make_event(long i, pt_buf *key, pt_buf *row, pt_event *ev)
{
	pt_buf_reset(key);
	pt_buf_reset(row);
	pt_buf_printf(key, "{\"id\":\"%ld\"}", i);
	pt_buf_printf(row, "{\"id\":\"%ld\",\"customer_id\":\"%ld\",\"status\":\"shipped\","
				  "\"amount\":\"%ld.%02ld\",\"currency\":\"EUR\",\"note\":\"order \\\"%ld\\\" via web\","
				  "\"created_at\":\"2026-11-23 10:%02ld:%02ld.%06ld+00\",\"flags\":\"{1,2,3}\"}",
				  i, i % 9973, i % 100000, i % 100, i, i / 60 % 60, i % 60, i % 1000000);
	memset(ev, 0, sizeof(*ev));
	ev->lsn = (pt_lsn) (0x1000000 + i * 64);
	ev->commit_lsn = ev->lsn + 32;
	ev->has_xid = true;
	ev->xid = 1000 + i / 10;
	ev->committed_at = INT64_C(1795476923000000) + i;
	ev->schema_name = pt_text_c("public");
	ev->table_name = pt_text_c("orders");
	ev->has_schema_version = true;
	ev->schema_version = 1;
	ev->op = PT_OP_INSERT;
	ev->key.ptr = key->data;
	ev->key.len = key->len;
	ev->row.ptr = row->data;
	ev->row.len = row->len;
}

static double
run_writer(PGconn *conn, long n, long batch)
{
	pt_err		err;
	pt_store_writer *w;
	pt_buf		key = PT_BUF_INIT,
				row = PT_BUF_INIT;
	pt_event	ev;
	double		t0,
				c0;

	exec_or_die(conn, "TRUNCATE " SCHEMA ".events, " SCHEMA ".state");
	exec_or_die(conn, "CHECKPOINT");
	if ((w = pt_store_writer_new(conn, SCHEMA, "bench", &err)) == NULL)
		die("writer", &err);
	t0 = now();
	c0 = cpu();
	for (long i = 0; i < n; i++)
	{
		if (i % batch == 0 && !pt_store_writer_begin(w, &err))
			die("begin", &err);
		make_event(i, &key, &row, &ev);
		if (!pt_store_writer_add(w, &ev, &err))
			die("add", &err);
		if ((i + 1) % batch == 0 || i + 1 == n)
			if (!pt_store_writer_commit(w, ev.commit_lsn, &err))
				die("commit", &err);
	}
	t0 = now() - t0;
	if (cpu() - c0 < writer_cpu)
		writer_cpu = cpu() - c0;
	pt_store_writer_free(w);
	pt_buf_free(&key);
	pt_buf_free(&row);
	return t0;
}

/* The rows the writer wrote, as COPY text, one buffer per batch. */
static pt_buf *
fetch_rows(PGconn *conn, long n, long batch)
{
	pt_err		err;
	long		nbatches = (n + batch - 1) / batch;
	pt_buf	   *bufs = calloc((size_t) nbatches, sizeof(pt_buf));
	PGresult   *res = pt_pq_exec(conn, "COPY (SELECT * FROM " SCHEMA ".events ORDER BY id) TO STDOUT",
								 PGRES_COPY_OUT, PT_PQ_ANY, PT_PQ_ANY, &err);
	char	   *line;
	int			len;
	long		i = 0;

	if (res == NULL)
		die("copy out", &err);
	PQclear(res);
	while ((len = PQgetCopyData(conn, &line, 0)) > 0)
	{
		pt_buf_append(&bufs[i / batch], line, (size_t) len);
		PQfreemem(line);
		i++;
	}
	while ((res = PQgetResult(conn)) != NULL)
		PQclear(res);
	if (i != n)
	{
		fprintf(stderr, "bench_writer: read back %ld rows, expected %ld\n", i, n);
		exit(3);
	}
	return bufs;
}

static double
run_copy(PGconn *conn, pt_buf *bufs, long n, long batch)
{
	pt_err		err;
	long		nbatches = (n + batch - 1) / batch;
	double		t0;

	exec_or_die(conn, "TRUNCATE " SCHEMA ".events, " SCHEMA ".state");
	exec_or_die(conn, "CHECKPOINT");
	t0 = now();
	for (long b = 0; b < nbatches; b++)
	{
		PGresult   *res;

		exec_or_die(conn, "BEGIN");
		res = pt_pq_exec(conn, "COPY " SCHEMA ".events FROM STDIN", PGRES_COPY_IN, PT_PQ_ANY, PT_PQ_ANY, &err);
		if (res == NULL)
			die("copy in", &err);
		PQclear(res);
		for (size_t off = 0; off < bufs[b].len; off += 256 * 1024)
		{
			size_t		chunk = bufs[b].len - off < 256 * 1024 ? bufs[b].len - off : 256 * 1024;

			if (PQputCopyData(conn, bufs[b].data + off, (int) chunk) != 1)
				die("copy data", NULL);
		}
		if (PQputCopyEnd(conn, NULL) != 1)
			die("copy end", NULL);
		while ((res = PQgetResult(conn)) != NULL)
		{
			if (PQresultStatus(res) != PGRES_COMMAND_OK)
				die(PQresultErrorMessage(res), NULL);
			PQclear(res);
		}
		exec_or_die(conn, "COMMIT");
	}
	return now() - t0;
}

/* Writer and COPY of one store format, best of two each; prints the figures. */
static void
measure(PGconn *conn, long n, long batch, int format)
{
	char		sql[128];
	double		tw = 1e30,
				tc = 1e30;
	pt_buf	   *bufs = NULL;

	snprintf(sql, sizeof(sql), "UPDATE " SCHEMA ".meta SET value = '%d' WHERE key = 'format_version'", format);
	exec_or_die(conn, sql);
	writer_cpu = 1e30;
	for (int round = 0; round < 2; round++)
	{
		double		t = run_writer(conn, n, batch);

		if (t < tw)
			tw = t;
		if (bufs == NULL)
			bufs = fetch_rows(conn, n, batch);
		t = run_copy(conn, bufs, n, batch);
		if (t < tc)
			tc = t;
	}
	printf("format %d\n", format);
	printf("writer:     %ld events in %.2f s = %.0f events/s (canonical + SHA-256 + COPY, batches of %ld)\n",
		   n, tw, (double) n / tw, batch);
	printf("            client CPU %.2f s = %.2f us per event (generating the test events included)\n",
		   writer_cpu, writer_cpu * 1e6 / (double) n);
	printf("plain COPY: %ld rows   in %.2f s = %.0f rows/s (same rows, same table, same batches)\n",
		   n, tc, (double) n / tc);
	printf("ratio writer/COPY: %.2f (target >= 0.80)\n", tc / tw);
	for (long b = 0; b < (n + batch - 1) / batch; b++)
		pt_buf_free(&bufs[b]);
	free(bufs);
}

int
main(int argc, char **argv)
{
	long		n = argc > 1 ? atol(argv[1]) : 1000000;
	long		batch = argc > 2 ? atol(argv[2]) : 10000;
	pt_err		err;
	PGconn	   *conn = pt_pq_connect(getenv("PGTRAIL_BENCH_DSN"), "pgtrail-bench", &err);

	if (conn == NULL)
		die("connect", &err);
	/* as capture runs by default: with the point-query indexes */
	if (!pt_store_install(conn, SCHEMA, &err) || !pt_store_install_indexes(conn, SCHEMA, &err))
		die("install", &err);
	measure(conn, n, batch, 2);
	measure(conn, n, batch, 1);
	pt_pq_close(conn);
	return 0;
}
