/*
 * bench/bench_parser.c — wal2json parsing speed on recorded lines.
 *
 * Reads a file of wal2json format-version 2 lines recorded from a real
 * server (bench/run.sh records them), then parses TOTAL lines (default
 * 1,000,000; the file is cycled through) on one core, once parse only and
 * once parse + building the event (key/row/old JSON), and prints lines/s
 * and MB/s of input per core.
 *
 *   bench_parser FILE [TOTAL]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/build.h"
#include "core/wal2json.h"

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

typedef struct lines
{
	char	  **ptr;
	size_t	   *len;
	long		n;
} lines;

static lines
load(const char *path)
{
	FILE	   *f = fopen(path, "r");
	lines		l = {NULL, NULL, 0};
	long		cap = 0;
	char	   *line = NULL;
	size_t		linecap = 0;
	ssize_t		len;

	if (f == NULL)
	{
		perror(path);
		exit(2);
	}
	while ((len = getline(&line, &linecap, f)) > 0)
	{
		if (line[len - 1] == '\n')
			len--;
		if (l.n == cap)
		{
			cap = cap ? cap * 2 : 1024;
			l.ptr = realloc(l.ptr, sizeof(char *) * (size_t) cap);
			l.len = realloc(l.len, sizeof(size_t) * (size_t) cap);
		}
		l.ptr[l.n] = malloc((size_t) len);
		memcpy(l.ptr[l.n], line, (size_t) len);
		l.len[l.n++] = (size_t) len;
	}
	free(line);
	fclose(f);
	return l;
}

static double
run(const lines *l, long total, bool build, double *bytes)
{
	pt_w2j_parser *p = pt_w2j_parser_new();
	pt_builder *b = pt_builder_new();
	pt_w2j_change ch;
	pt_event	ev;
	pt_err		err;
	pt_txn		txn = {0};
	double		t0 = now();

	*bytes = 0;
	for (long i = 0; i < total; i++)
	{
		long		k = i % l->n;

		if (!pt_w2j_parse(p, l->ptr[k], l->len[k], &ch, &err))
		{
			fprintf(stderr, "bench_parser: line %ld: %s\n", k + 1, err.message);
			exit(1);
		}
		*bytes += (double) l->len[k];
		if (!build)
			continue;
		if (ch.action == 'B')
			pt_builder_begin(&txn, &ch, &err);
		else if (strchr("IUDT", ch.action))
			pt_builder_row_event(b, &txn, &ch, NULL, 0, &ev, &err);
	}
	t0 = now() - t0;
	pt_builder_free(b);
	pt_w2j_parser_free(p);
	return t0;
}

int
main(int argc, char **argv)
{
	lines		l;
	long		total = argc > 2 ? atol(argv[2]) : 1000000;
	double		bytes,
				t;

	if (argc < 2)
	{
		fprintf(stderr, "usage: bench_parser FILE [TOTAL]\n");
		return 2;
	}
	l = load(argv[1]);
	if (l.n == 0)
	{
		fprintf(stderr, "bench_parser: no lines in %s\n", argv[1]);
		return 2;
	}
	run(&l, l.n, true, &bytes); /* warm up */
	t = run(&l, total, false, &bytes);
	printf("parse:         %ld lines (%.0f MB, %ld distinct recorded lines) in %.2f s = %.0f lines/s, %.1f MB/s per core\n",
		   total, bytes / 1e6, l.n, t, (double) total / t, bytes / 1e6 / t);
	t = run(&l, total, true, &bytes);
	printf("parse + event: %ld lines in %.2f s = %.0f lines/s, %.1f MB/s per core\n",
		   total, t, (double) total / t, bytes / 1e6 / t);
	for (long i = 0; i < l.n; i++)
		free(l.ptr[i]);
	free(l.ptr);
	free(l.len);
	return 0;
}
