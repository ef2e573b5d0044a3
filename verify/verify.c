/*
 * verify/verify.c — one verify run: the snapshot, the verified point, the
 * checks in order, the drift comparison (see verify.h).
 */
#include "verify/verify.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/buf.h"
#include "core/checkpoint.h"
#include "core/clock.h"
#include "core/hex.h"
#include "core/pq.h"
#include "core/schema_event.h"
#include "core/store_losses.h"
#include "verify/chain.h"
#include "verify/checkpoints.h"
#include "verify/drift.h"
#include "verify/erasures.h"

#define POINT_NAME "default"

typedef struct run
{
	const pt_verify_opts *opts;
	pt_log	   *log;
	pt_report  *rep;
	PGconn	   *conn;
	char	   *qschema;
	pt_keyring *ring;
	off_t		anchor_size;
	int64_t		log_end;
	pt_chain_pos pos;
} run;

/* One value (or none) from a query in the store schema (%1$s is the quoted schema). */
static bool
query_value(run *r, const char *sql_template, const char *param, pt_buf *out, bool *found, pt_err *err)
{
	pt_buf		sql = PT_BUF_INIT;
	const char *params[1] = {param};
	PGresult   *res;

	if (!pt_pq_sql_with_ident(r->conn, sql_template, r->opts->schema, &sql, err))
	{
		pt_buf_free(&sql);
		return false;
	}
	res = pt_pq_exec_params(r->conn, sql.data, param ? 1 : 0, params, PGRES_TUPLES_OK, PT_PQ_ANY, 1, err);
	pt_buf_free(&sql);
	if (res == NULL)
		return false;
	*found = PQntuples(res) == 1 && !PQgetisnull(res, 0, 0);
	pt_buf_reset(out);
	if (*found)
		pt_buf_puts(out, PQgetvalue(res, 0, 0));
	PQclear(res);
	return true;
}

/* Open the snapshot: the store must be there; the log's end. */
static bool
open_snapshot(run *r, pt_err *err)
{
	const pt_verify_opts *o = r->opts;
	pt_buf		v = PT_BUF_INIT;
	bool		found;
	bool		ok;

	if ((r->conn = pt_pq_connect(o->events_dsn, "pgtrail-verify", err)) == NULL ||
		(r->qschema = pt_pq_ident(r->conn, o->schema, err)) == NULL ||
		!pt_pq_command(r->conn, "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY", err))
		return false;
	ok = query_value(r, "SELECT to_regclass('%1$s.events')::text", NULL, &v, &found, err);
	if (ok && !found)
	{
		ok = pt_err_set(err, PT_ERR_CONFIG, "no event store in schema \"%s\"", o->schema);
		pt_err_hint(err, "point --events at the database pgtrail-capture writes ([sink] dsn) and --schema at its schema");
	}
	ok = ok && query_value(r, "SELECT coalesce(max(id), 0) FROM %1$s.events", NULL, &v, &found, err);
	if (ok)
		r->log_end = strtoll(v.data, NULL, 10);
	pt_buf_free(&v);
	return ok;
}

/*
 * The verified point's row: event id, its hash then and now (hex; "" when
 * the event is gone), when. NULL res when there is none.
 */
static bool
read_verified_row(run *r, PGresult **res, pt_err *err)
{
	pt_buf		sql = PT_BUF_INIT;
	const char *params[1] = {POINT_NAME};
	pt_buf		v = PT_BUF_INIT;
	bool		found;
	bool		ok;

	*res = NULL;
	ok = query_value(r, "SELECT to_regclass('%1$s.verified')::text", NULL, &v, &found, err);
	pt_buf_free(&v);
	if (!ok || !found)
		return ok;
	if (!pt_pq_sql_with_ident(r->conn, "SELECT v.event_id, encode(v.hash, 'hex'), coalesce(encode(e.hash, 'hex'), ''), "
							  "v.verified_at FROM %1$s.verified v LEFT JOIN %1$s.events e ON e.id = v.event_id "
							  "WHERE v.name = $1", r->opts->schema, &sql, err))
	{
		pt_buf_free(&sql);
		return false;
	}
	*res = pt_pq_exec_params(r->conn, sql.data, 1, params, PGRES_TUPLES_OK, PT_PQ_ANY, 4, err);
	pt_buf_free(&sql);
	if (*res != NULL && PQntuples(*res) == 0)
	{
		PQclear(*res);
		*res = NULL;
		return true;
	}
	return *res != NULL;
}

/*
 * Are the ids 1..log_end, each once? Cheap next to a walk (an index-only
 * count), it catches a deletion behind the verified point at once.
 */
static bool
ids_gapless(run *r, bool *gapless, pt_err *err)
{
	pt_buf		v = PT_BUF_INIT;
	bool		found;
	bool		ok = query_value(r, "SELECT count(*) = max(id) AND min(id) = 1 FROM %1$s.events", NULL,
								 &v, &found, err);

	*gapless = !found || strcmp(v.data, "t") == 0;
	pt_buf_free(&v);
	return ok;
}

/*
 * Where an incremental run starts: the verified point, if it still holds.
 * A point the log no longer agrees with is a finding, and the walk starts
 * from the first event; so does a log whose ids are no longer gapless.
 */
static bool
load_verified_point(run *r, pt_err *err)
{
	PGresult   *res;
	int64_t		id;
	const char *then,
			   *now,
			   *when;
	bool		gapless;

	memset(&r->pos, 0, sizeof(r->pos));
	if (!read_verified_row(r, &res, err))
		return false;
	if (res == NULL)
		return true;
	id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	then = PQgetvalue(res, 0, 1);
	now = PQgetvalue(res, 0, 2);
	when = PQgetvalue(res, 0, 3);
	if (id > r->log_end)
		pt_report_finding(r->rep, PT_FIND_MISSING, r->log_end + 1, "the tail of the log was cut",
						  "event %lld: missing (the log ends at event %lld, but event %lld was verified at %s)",
						  (long long) r->log_end + 1, (long long) r->log_end, (long long) id, when);
	else if (strlen(then) != 2 * PT_HASH_LEN || strcmp(then, now) != 0)
		pt_report_finding(r->rep, PT_FIND_CHANGED, id, "the chain was rewritten up to it after it was verified "
						  "(or the verified point was); the full walk looks for the first changed event",
						  "event %lld: its hash is not the one verified at %s", (long long) id, when);
	else if (pt_hex_decode(then, PT_HASH_LEN, r->pos.hash))
		r->pos.id = id;
	PQclear(res);
	if (r->pos.id > 0 && !ids_gapless(r, &gapless, err))
		return false;
	if (r->pos.id > 0 && !gapless)
	{
		pt_report_note(r->rep, "ids are no longer 1..%lld each once: walking the whole chain", (long long) r->log_end);
		memset(&r->pos, 0, sizeof(r->pos));
	}
	return true;
}

/* The anchor file's size now, before the snapshot: later lines may name later checkpoints. */
static bool
anchor_size(run *r, pt_err *err)
{
	struct stat st;
	const char *why = NULL;

	if (r->opts->anchor[0] == '\0')
		return true;
	if (stat(r->opts->anchor, &st) != 0)
		why = strerror(errno);
	else if (!S_ISREG(st.st_mode))
		why = "not a regular file";
	if (why != NULL)
	{
		pt_err_set(err, PT_ERR_CONFIG, "could not read anchor file \"%s\": %s", r->opts->anchor, why);
		pt_err_hint(err, "--anchor takes the file pgtrail-capture --anchor-file writes");
		return false;
	}
	r->anchor_size = st.st_size;
	return true;
}

/* Checkpoints, anchors and state rows, in the snapshot. */
static bool
check_pins(run *r, pt_err *err)
{
	pt_cp_table *t = pt_cp_table_load(r->conn, r->opts->schema, err);
	bool		ok;

	if (t == NULL)
		return false;
	pt_anchor_check ac = {r->conn, r->opts->schema, t, r->opts->anchor, r->anchor_size, r->ring, r->log_end, r->rep};

	pt_verify_checkpoints(t, r->ring, r->log_end, r->rep);
	ok = r->opts->anchor[0] == '\0' || pt_verify_anchor(&ac, err);
	pt_cp_table_free(t);
	return ok && pt_verify_state(r->conn, r->opts->schema, r->log_end, r->rep, err);
}

/*
 * The schemas table against the schema events (in the snapshot): what
 * replay --create-tables would execute must be what the chain recorded.
 * Always whole: the schemas table is small, and outside the chain.
 */
static bool
check_versions(run *r, pt_err *err)
{
	pt_report_figures *fig = pt_report_figures_of(r->rep);
	pt_version_audit a;

	if (!pt_versions_audit(r->conn, r->opts->schema, &a, err))
		return false;
	fig->versions_covered = a.covered;
	fig->versions_unproven = a.legacy;
	for (int i = 0; i < a.nfindings; i++)
		pt_report_finding(r->rep, PT_FIND_SCHEMA, 0, "replay refuses a store whose schema versions the chain "
						  "does not prove", "%s", a.findings[i]);
	if (a.bad > a.nfindings)
		pt_report_note(r->rep, "%lld more schema versions are not what the chain recorded",
					   (long long) (a.bad - a.nfindings));
	return true;
}

/* After a clean run: the next one goes on from here. Not being allowed to is a note. */
static void
save_verified_point(run *r)
{
	char		id[24];
	char		hash[2 * PT_HASH_LEN + 1];
	const char *params[3] = {POINT_NAME, id, hash};
	pt_buf		sql = PT_BUF_INIT;
	PGresult   *res;
	pt_err		err;

	snprintf(id, sizeof(id), "%lld", (long long) r->pos.id);
	pt_hex_encode(r->pos.hash, PT_HASH_LEN, hash);
	pt_buf_printf(&sql, "INSERT INTO %s.verified AS v (name, event_id, hash, verified_at) "
				  "VALUES ($1, $2, decode($3, 'hex'), now()) ON CONFLICT (name) DO UPDATE SET "
				  "event_id = excluded.event_id, hash = excluded.hash, verified_at = excluded.verified_at",
				  r->qschema);
	res = pt_pq_exec_params(r->conn, sql.data, 3, params, PGRES_COMMAND_OK, PT_PQ_ANY, PT_PQ_ANY, &err);
	pt_buf_free(&sql);
	if (res == NULL)
		pt_report_note(r->rep, "the verified point was not recorded (%s); the next run checks everything again",
					   err.message);
	PQclear(res);
}

/*
 * The known losses capture counted (core/store_losses.h): not integrity
 * failures (the log holds what capture received), but said at every run,
 * so nobody takes the log for more than it is.
 */
static bool
report_losses(run *r, pt_err *err)
{
	char	  **lines;
	int			n;

	if (!pt_store_losses_describe(r->conn, r->opts->schema, &lines, &n, err))
		return false;
	for (int i = 0; i < n; i++)
	{
		pt_log_warning(r->log, "known loss: %s", lines[i]);
		pt_report_note(r->rep, "known loss: %s", lines[i]);
	}
	pt_loss_lines_free(lines, n);
	return true;
}

static bool
run_drift(run *r, volatile sig_atomic_t *stop, pt_err *err)
{
	const pt_verify_opts *o = r->opts;
	pt_drift_opts d;

	memset(&d, 0, sizeof(d));
	d.events_dsn = o->events_dsn;
	d.schema = o->schema;
	d.source_dsn = o->source_dsn;
	d.scratch_dsn = o->drift_scratch;
	d.until_event = r->log_end;
	d.wait_s = o->drift_wait_s;
	d.max_rows = o->drift_max_rows;
	return pt_drift_run(&d, r->log, stop, r->rep, err);
}

static bool
run_checks(run *r, volatile sig_atomic_t *stop, pt_err *err)
{
	pt_report_figures *fig = pt_report_figures_of(r->rep);
	bool		clean;

	if (!anchor_size(r, err) || !open_snapshot(r, err))
		return false;
	if (!r->opts->full && !load_verified_point(r, err))
		return false;
	fig->full = r->pos.id == 0;
	fig->log_events = r->log_end;
	if (!pt_verify_chain(r->conn, r->opts->schema, &r->pos, stop, r->rep, err) ||
		!pt_verify_erasures(r->conn, r->opts->schema, r->ring, r->log_end, r->rep, err) ||
		!check_pins(r, err) || !check_versions(r, err) || !report_losses(r, err) ||
		!pt_pq_command(r->conn, "COMMIT", err))
		return false;
	clean = pt_report_nfindings(r->rep) == 0;
	if (clean && r->opts->save && r->pos.id > 0)
		save_verified_point(r);
	return !r->opts->drift || run_drift(r, stop, err);
}

bool
pt_verify_run(const pt_verify_opts *opts, pt_log *log, volatile sig_atomic_t *stop, pt_report *rep, pt_err *err)
{
	run			r;
	int64_t		started = pt_now_us();
	bool		ok = true;

	memset(&r, 0, sizeof(r));
	r.opts = opts;
	r.log = log;
	r.rep = rep;
	if (opts->drift && opts->source_dsn[0] == '\0')
	{
		pt_err_set(err, PT_ERR_CONFIG, "--drift needs --source");
		pt_err_hint(err, "pass --source DSN: the database whose live tables the log describes");
		return false;
	}
	if (opts->public_key[0] && (r.ring = pt_keyring_load(opts->public_key, err)) == NULL)
		return false;
	ok = run_checks(&r, stop, err);
	pt_report_figures_of(rep)->seconds = (double) (pt_now_us() - started) / 1e6;
	PQfreemem(r.qschema);
	pt_pq_close(r.conn);
	pt_keyring_free(r.ring);
	return ok;
}
