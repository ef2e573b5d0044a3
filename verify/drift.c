/*
 * verify/drift.c — the drift check's run (see drift.h).
 *
 * One run: open the source, get a scratch database (scratch.c), rebuild
 * the log's state there with pt_replay_run, then compare each table replay
 * made with the live one (compare.c) in a round, all live tables in one
 * snapshot. A round keeps its results (counts, and at most max_rows rows
 * per table) instead of reporting them at once, because a settle round may
 * replace it. The scratch database is dropped (or emptied) on every path.
 */
#include "verify/drift.h"

#include <libpq-fe.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/lsn.h"
#include "core/mem.h"
#include "core/pq.h"
#include "replay/replay.h"
#include "verify/compare.h"
#include "verify/scratch.h"

#define APP_NAME "pgtrail-verify"
#define SETTLE_POLL_US 200000
#define SQLSTATE_UNDEFINED_OBJECT "42704"

/* One comparison of every table. */
typedef struct dround
{
	pt_compare_table **kept;	/* the tables with something to say, in order */
	int			nkept;
	int64_t		ntables;		/* tables compared */
	int64_t		nrows;			/* rows that differ */
	pt_lsn		source_lsn;		/* the source's WAL position when its snapshot was taken */
} dround;

typedef struct drift
{
	const pt_drift_opts *opts;
	pt_log	   *log;
	volatile sig_atomic_t *stop;
	PGconn	   *source;
	pt_scratch *scratch;
} drift;

/* ---- results ---- */

static void
dround_init(dround *rd)
{
	memset(rd, 0, sizeof(*rd));
}

static void
dround_free(dround *rd)
{
	for (int i = 0; i < rd->nkept; i++)
		pt_compare_free(rd->kept[i]);
	free(rd->kept);
	dround_init(rd);
}

/* Keep t in rd when it has something to say, else free it (rd owns it). */
static void
dround_keep(dround *rd, pt_compare_table *t)
{
	if (t->problem == NULL && t->changed + t->missing + t->extra == 0)
	{
		pt_compare_free(t);
		return;
	}
	rd->nrows += t->changed + t->missing + t->extra;
	rd->kept = pt_realloc(rd->kept, (size_t) (rd->nkept + 1) * sizeof(*rd->kept));
	rd->kept[rd->nkept++] = t;
}

/* Put a round into the report. */
static void
emit(const drift *d, const dround *rd, pt_report *rep)
{
	pt_report_figures *f = pt_report_figures_of(rep);

	for (int k = 0; k < rd->nkept; k++)
	{
		const pt_compare_table *t = rd->kept[k];
		char		detail[128];
		int64_t		n = t->changed + t->missing + t->extra;

		if (t->problem)
		{
			pt_report_finding(rep, PT_FIND_DRIFT, 0, NULL, "%s", t->problem);
			continue;
		}
		for (int i = 0; i < t->nrows; i++)
			pt_report_drift(rep, t->schema, t->table, t->rows[i].kind, t->rows[i].key,
							t->rows[i].live, t->rows[i].log);
		snprintf(detail, sizeof(detail), "the first %d are listed ([verify] drift_max_rows)", d->opts->max_rows);
		pt_report_finding(rep, PT_FIND_DRIFT, 0, n > t->nrows ? detail : NULL,
						  "table \"%s\".\"%s\": %lld rows differ from the log (%lld changed, %lld missing, %lld extra)",
						  t->schema, t->table, (long long) n, (long long) t->changed, (long long) t->missing,
						  (long long) t->extra);
	}
	f->drift_tables = rd->ntables;
	f->drift_rows = rd->nrows;
}

/* ---- rebuild ---- */

/* Replay the log into the scratch database, up to until_event or to the
 * end; a second call goes on from where the first stopped. */
static bool
rebuild(drift *d, bool to_end, pt_err *err)
{
	pt_replay_opts ro;

	memset(&ro, 0, sizeof(ro));
	ro.events_dsn = d->opts->events_dsn;
	ro.target_dsn = pt_scratch_dsn(d->scratch);
	ro.schema = d->opts->schema;
	ro.state_schema = PT_SCRATCH_STATE_SCHEMA;
	ro.until = to_end || d->opts->until_event <= 0 ? PT_UNTIL_END : PT_UNTIL_EVENT;
	ro.until_event = ro.until == PT_UNTIL_EVENT ? d->opts->until_event : 0;
	ro.until_time = "";
	ro.tables = "";
	ro.map = "";
	ro.create_tables = true;
	ro.verify = false;			/* verify checks the chain itself */
	ro.poll_interval_ms = 200;
	/* replay's defaults: windows of net effect, applied set-based (replay/window.h) */
	ro.batch_size = 1000000;
	ro.window_mb = 24;
	ro.jobs = 1;
	if (pt_replay_run(&ro, d->log, d->stop, err))
		return true;
	pt_err_prefix(err, "drift: could not rebuild the log's state in the scratch database");
	if (strcmp(err->sqlstate, SQLSTATE_UNDEFINED_OBJECT) == 0)
		pt_err_hint(err, "the source's user-defined types must exist in the scratch database: pass --drift-scratch "
					"DSN, an empty database where they were restored");
	return false;
}

/* ---- rounds ---- */

/* Compare one table replay made; its result joins rd. */
static bool
round_table(drift *d, dround *rd, const char *schema, const char *table, const char *oid, pt_err *err)
{
	pt_compare_opts co;
	pt_compare_table *t;

	memset(&co, 0, sizeof(co));
	co.scratch = pt_scratch_conn(d->scratch);
	co.source = d->source;
	co.max_rows = d->opts->max_rows;
	co.stop = d->stop;
	if ((t = pt_compare_run(&co, schema, table, oid, err)) == NULL)
		return false;
	if (t->compared)
		rd->ntables++;
	dround_keep(rd, t);
	return true;
}

/* Compare every table replay made in the scratch database (leaves, not
 * partitioned parents) with the live tables, read in one snapshot. */
static bool
round_run(drift *d, dround *rd, pt_err *err)
{
	PGresult   *res = NULL;
	PGresult   *lsn = NULL;
	bool		ok;

	dround_init(rd);
	ok = pt_pq_command(d->source, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", err) &&
		(lsn = pt_pq_exec(d->source, "SELECT pg_current_wal_lsn()::text", PGRES_TUPLES_OK, 1, 1, err)) != NULL &&
		(res = pt_scratch_tables(d->scratch, err)) != NULL;
	if (ok && !pt_lsn_parse(PQgetvalue(lsn, 0, 0), strlen(PQgetvalue(lsn, 0, 0)), &rd->source_lsn))
		ok = pt_err_set(err, PT_ERR_RUNTIME, "drift: the source's WAL position \"%s\" is not an LSN",
						PQgetvalue(lsn, 0, 0));
	for (int i = 0; ok && i < PQntuples(res); i++)
		ok = round_table(d, rd, PQgetvalue(res, i, 0), PQgetvalue(res, i, 1), PQgetvalue(res, i, 2), err);
	ok = ok && pt_pq_command(d->source, "COMMIT", err);
	PQclear(lsn);
	PQclear(res);
	return ok;
}

/* t as an LSN, into *lsn when higher. */
static bool
raise_lsn(const char *t, pt_lsn *lsn, pt_err *err)
{
	pt_lsn		v;

	if (!pt_lsn_parse(t, strlen(t), &v))
		return pt_err_set(err, PT_ERR_RUNTIME, "drift: \"%s\" is not an LSN", t);
	if (v > *lsn)
		*lsn = v;
	return true;
}

/* The slot's confirmed position at the source (capture confirms only what
 * it stored; an idle capture confirms keepalives there, not in state). */
static bool
slot_confirmed(drift *d, const char *slot, pt_lsn *lsn, pt_err *err)
{
	const char *params[1] = {slot};
	PGresult   *res = pt_pq_exec_params(d->source, "SELECT confirmed_flush_lsn::text FROM pg_replication_slots "
										"WHERE slot_name = $1 AND database = current_database() "
										"AND confirmed_flush_lsn IS NOT NULL", 1, params,
										PGRES_TUPLES_OK, PT_PQ_ANY, 1, err);
	bool		ok = res != NULL;

	if (ok && PQntuples(res) == 1)
		ok = raise_lsn(PQgetvalue(res, 0, 0), lsn, err);
	PQclear(res);
	return ok;
}

/* How far the log is complete: the highest confirmed LSN of the store's
 * state rows and of their slots (0 when none). */
static bool
store_confirmed(drift *d, PGconn *events, pt_lsn *lsn, pt_err *err)
{
	pt_buf		sql = PT_BUF_INIT;
	PGresult   *res = NULL;
	bool		ok = pt_pq_sql_with_ident(events, "SELECT slot, confirmed_lsn::text FROM %1$s.state",
										  d->opts->schema, &sql, err);

	*lsn = 0;
	ok = ok && (res = pt_pq_exec(events, sql.data, PGRES_TUPLES_OK, PT_PQ_ANY, 2, err)) != NULL;
	for (int i = 0; ok && i < PQntuples(res); i++)
		ok = raise_lsn(PQgetvalue(res, i, 1), lsn, err) && slot_confirmed(d, PQgetvalue(res, i, 0), lsn, err);
	PQclear(res);
	pt_buf_free(&sql);
	return ok;
}

/* Poll the store's state until its confirmed LSN reaches target or
 * wait_s passes; *confirmed is the last value read, *behind whether the
 * first was short of target. */
static bool
wait_for_capture(drift *d, pt_lsn target, pt_lsn *confirmed, bool *behind, pt_err *err)
{
	PGconn	   *events = pt_pq_connect(d->opts->events_dsn, APP_NAME, err);
	int64_t		deadline = pt_now_us() + (int64_t) d->opts->wait_s * 1000000;
	bool		ok = events != NULL && store_confirmed(d, events, confirmed, err);

	*behind = ok && *confirmed < target;
	if (*behind)
		pt_log_info(d->log, "drift: rows differ and the log is behind the source by %llu bytes: waiting up to %d s "
					"for capture to catch up", (unsigned long long) (target - *confirmed), d->opts->wait_s);
	while (ok && *confirmed < target && pt_now_us() < deadline && !*d->stop)
	{
		usleep(SETTLE_POLL_US);
		ok = store_confirmed(d, events, confirmed, err);
	}
	pt_pq_close(events);
	return ok;
}

/*
 * Rows differ in the first round: when the log is behind the source, give
 * capture wait_s to pass the source's position, then replay on and compare
 * again (*final = the second round). Else the first round stands, with a
 * note when the log never caught up.
 */
static bool
settle(drift *d, dround *first, dround *second, dround **final, pt_report *rep, pt_err *err)
{
	pt_lsn		confirmed = 0;
	bool		waited = false;
	char		at[PT_LSN_BUFLEN];

	*final = first;
	if (!wait_for_capture(d, first->source_lsn, &confirmed, &waited, err))
		return false;
	if (waited && confirmed >= first->source_lsn)
	{
		if (*d->stop)
			return pt_err_set(err, PT_ERR_RUNTIME, "drift: interrupted");
		pt_log_info(d->log, "drift: capture caught up; replaying on and comparing again");
		*final = second;
		return rebuild(d, true, err) && round_run(d, second, err);
	}
	if (!waited)
		return true;			/* the log was not behind: the rows differ */
	pt_lsn_format(first->source_lsn, at);
	pt_report_note(rep, "drift: the log is behind the source by %llu bytes (the source was at %s); rows changed "
				   "recently may be listed", (unsigned long long) (first->source_lsn - confirmed), at);
	return true;
}

/* ---- the run ---- */

bool
pt_drift_run(const pt_drift_opts *opts, pt_log *log, volatile sig_atomic_t *stop, pt_report *rep, pt_err *err)
{
	drift		d;
	dround		first,
				second,
			   *final = &first;
	bool		ok;

	memset(&d, 0, sizeof(d));
	d.opts = opts;
	d.log = log;
	d.stop = stop;
	dround_init(&first);
	dround_init(&second);
	if ((d.source = pt_pq_connect(opts->source_dsn, APP_NAME, err)) == NULL)
		pt_err_prefix(err, "drift: source database");
	ok = d.source != NULL &&
		pt_scratch_open(d.source, opts->source_dsn, opts->scratch_dsn, log, &d.scratch, err) &&
		rebuild(&d, false, err) && round_run(&d, &first, err);
	if (ok && first.nrows > 0 && opts->wait_s > 0)
		ok = settle(&d, &first, &second, &final, rep, err);
	if (ok)
		emit(&d, final, rep);
	pt_scratch_close(d.scratch, &d.source, rep);
	dround_free(&first);
	dround_free(&second);
	pt_pq_close(d.source);
	return ok;
}
