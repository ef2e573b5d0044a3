/*
 * replay/window_jobs.c — a window written on several connections at once
 * (see window_jobs.h).
 *
 * The window's large tables are shared out greedily, largest first, each
 * to the lane with the fewest rows so far; the main connection counts as
 * a lane, and starts with the small tables (apply's statements, which only
 * it has). Each other lane is a thread with its own connection and
 * buffers; the window's rows are only read while they write, each table
 * by one lane.
 */
#include "replay/window_jobs.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/mem.h"
#include "core/pq.h"
#include "replay/window_int.h"

typedef struct lane
{
	wsink		out;
	const pt_window_jobs *jobs;
	wtable	  **tables;			/* its share of this window */
	int			ntables;
	int64_t		load;			/* rows in its share */
	int64_t		event_id;		/* the tables' position once committed */
	pthread_t	thread;
	bool		started;
	bool		ok;
	pt_err		err;
} lane;

struct pt_window_jobs
{
	lane	   *lanes;
	int			nlanes;
	char	   *save_sql;
	char	   *store;
};

pt_window_jobs *
pt_window_jobs_new(PGconn **conns, int n, const char *save_sql, const char *store)
{
	pt_window_jobs *j = pt_calloc(1, sizeof(*j));

	j->lanes = pt_calloc((size_t) n + 1, sizeof(lane));
	j->nlanes = n;
	for (int i = 0; i < n; i++)
	{
		j->lanes[i].out.conn = conns[i];
		j->lanes[i].jobs = j;
	}
	j->save_sql = pt_strdup(save_sql);
	j->store = pt_strdup(store);
	return j;
}

void
pt_window_jobs_free(pt_window_jobs *j)
{
	if (j == NULL)
		return;
	for (int i = 0; i < j->nlanes; i++)
	{
		pt_window_sink_free(&j->lanes[i].out);
		free(j->lanes[i].tables);
	}
	free(j->lanes);
	free(j->save_sql);
	free(j->store);
	free(j);
}

/* ---- one lane ---- */

static bool
save_table_position(lane *l, const pt_ttable *tt)
{
	char		id[24];
	const char *params[4] = {l->jobs->store, tt->schema, tt->table, id};
	PGresult   *res;

	snprintf(id, sizeof(id), "%lld", (long long) l->event_id);
	res = pt_pq_exec_params(l->out.conn, l->jobs->save_sql, 4, params, PGRES_COMMAND_OK, PT_PQ_ANY, PT_PQ_ANY,
							&l->err);
	PQclear(res);
	return res != NULL;
}

/* A lane's thread: its tables and their positions in one transaction of its own. */
static void *
lane_run(void *arg)
{
	lane	   *l = arg;
	PGresult   *res;

	l->ok = pt_pq_command(l->out.conn, "BEGIN", &l->err) &&
		pt_pq_command(l->out.conn, "SET CONSTRAINTS ALL DEFERRED", &l->err);
	for (int i = 0; l->ok && i < l->ntables; i++)
		l->ok = pt_window_flush_table(&l->out, l->tables[i], &l->err);
	for (int i = 0; l->ok && i < l->ntables; i++)
		l->ok = save_table_position(l, l->tables[i]->tt);
	l->ok = l->ok && pt_pq_command(l->out.conn, "COMMIT", &l->err);
	if (!l->ok)
	{
		res = PQexec(l->out.conn, "ROLLBACK");
		PQclear(res);
	}
	return NULL;
}

/* ---- sharing out ---- */

/* A large table and its rows to write, for sharing out. */
typedef struct sized
{
	wtable	   *wt;
	int64_t		rows;
} sized;

static int
by_rows_desc(const void *a, const void *b)
{
	int64_t		ra = ((const sized *) a)->rows,
				rb = ((const sized *) b)->rows;

	return ra < rb ? 1 : ra > rb ? -1 : 0;
}

/* The lane with the fewest rows (-1: the main connection, holding main_load), among those connected. */
static int
lightest(const pt_window_jobs *j, int64_t main_load)
{
	int			best = -1;
	int64_t		least = main_load;

	for (int i = 0; i < j->nlanes; i++)
		if (PQstatus(j->lanes[i].out.conn) == CONNECTION_OK && j->lanes[i].load < least)
		{
			best = i;
			least = j->lanes[i].load;
		}
	return best;
}

static void
lane_take(lane *l, wtable *wt, int64_t rows)
{
	l->tables = pt_realloc(l->tables, sizeof(wtable *) * (size_t) (l->ntables + 1));
	l->tables[l->ntables++] = wt;
	l->load += rows;
}

/* Share the window's tables out; the main connection's large ones into mine (*nmine). */
static void
share_out(pt_window *w, pt_window_jobs *j, wtable **mine, int *nmine)
{
	sized	   *big = NULL;
	int			nbig = 0;
	int64_t		main_load = 0;

	for (int i = 0; i < j->nlanes; i++)
	{
		j->lanes[i].ntables = 0;
		j->lanes[i].load = 0;
	}
	for (wtable *wt = w->tables; wt; wt = wt->next)
	{
		int64_t		rows = wt->nrows > 0 ? pt_window_table_rows(wt) : 0;

		if (rows >= PT_WINDOW_SMALL_TABLE_ROWS)
		{
			big = pt_realloc(big, sizeof(sized) * (size_t) (nbig + 1));
			big[nbig++] = (sized) {wt, rows};
		}
		else
			main_load += rows;
	}
	if (nbig > 1)
		qsort(big, (size_t) nbig, sizeof(sized), by_rows_desc);	/* (never with NULL: UBSan) */
	*nmine = 0;
	for (int i = 0; i < nbig; i++)
	{
		int			to = lightest(j, main_load);

		if (to < 0)
		{
			mine[(*nmine)++] = big[i].wt;
			main_load += big[i].rows;
		}
		else
			lane_take(&j->lanes[to], big[i].wt, big[i].rows);
	}
	free(big);
}

static int
count_tables(const pt_window *w)
{
	int			n = 0;

	for (const wtable *wt = w->tables; wt; wt = wt->next)
		n++;
	return n;
}

/* ---- the flush ---- */

/* The main connection's share: the small tables as statements, then its large ones. */
static bool
flush_mine(pt_window *w, wtable **mine, int nmine, pt_err *err)
{
	bool		ok = true;

	for (wtable *wt = w->tables; ok && wt; wt = wt->next)
		if (wt->nrows > 0 && pt_window_table_rows(wt) < PT_WINDOW_SMALL_TABLE_ROWS)
			ok = pt_window_send_table(w, wt, err);
	ok = ok && pt_apply_flush(w->ap, err);
	for (int i = 0; ok && i < nmine; i++)
		ok = pt_window_flush_table(&w->out, mine[i], err);
	return ok;
}

/* Wait for every lane; mark the committed lanes' tables; the first failure into err (when ok so far). */
static bool
join_lanes(pt_window *w, pt_window_jobs *j, int64_t event_id, bool ok, pt_err *err)
{
	for (int i = 0; i < j->nlanes; i++)
	{
		lane	   *l = &j->lanes[i];

		if (!l->started)
			continue;
		pthread_join(l->thread, NULL);
		l->started = false;
		for (int t = 0; t < l->ntables; t++)
		{
			pt_window_forget_stages(l->tables[t]);	/* they went with the lane's transaction */
			if (l->ok)
				l->tables[t]->tt->applied_through = event_id;
		}
		w->rows_set_based += l->ok ? l->out.rows : 0;
		l->out.rows = 0;
		if (!l->ok && ok)
			*err = l->err;
		ok = ok && l->ok;
	}
	return ok;
}

bool
pt_window_flush_jobs(pt_window *w, pt_window_jobs *j, int64_t event_id, pt_err *err)
{
	int64_t		start = pt_now_us();
	wtable	  **mine = pt_calloc((size_t) count_tables(w) + 1, sizeof(wtable *));
	int			nmine = 0;
	bool		ok = pt_window_steady(w, err);

	if (ok)
		share_out(w, j, mine, &nmine);
	for (int i = 0; ok && i < j->nlanes; i++)
	{
		lane	   *l = &j->lanes[i];

		if (l->ntables == 0)
			continue;
		l->event_id = event_id;
		pt_err_clear(&l->err);
		l->started = pthread_create(&l->thread, NULL, lane_run, l) == 0;
		if (!l->started)
			ok = pt_err_set(err, PT_ERR_RUNTIME, "could not start a thread for --jobs");
	}
	ok = ok && flush_mine(w, mine, nmine, err);
	ok = join_lanes(w, j, event_id, ok, err);
	free(mine);
	pt_window_written(w, start);
	return ok;
}
