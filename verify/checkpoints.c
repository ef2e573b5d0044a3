/*
 * verify/checkpoints.c — checkpoints, anchors and state rows against the
 * event table (see checkpoints.h).
 */
#include "verify/checkpoints.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/hex.h"
#include "core/mem.h"
#include "core/pgtime.h"
#include "core/pq.h"

struct pt_cp_table
{
	PGresult   *res;			/* PT_CHECKPOINT_COLUMNS, then the event's hash (NULL: no event) */
	int			n;
};

#define EVENT_HASH_COL 6

pt_cp_table *
pt_cp_table_load(PGconn *conn, const char *schema, pt_err *err)
{
	pt_buf		sql = PT_BUF_INIT;
	char	   *qschema = pt_pq_ident(conn, schema, err);
	pt_cp_table *t;
	PGresult   *res;

	if (qschema == NULL)
		return NULL;
	pt_buf_printf(&sql, "SELECT c.event_id, c.hash, c.lsn::text, c.created_at, c.signature, c.key_id, e.hash "
				  "FROM %s.checkpoints c LEFT JOIN %s.events e ON e.id = c.event_id ORDER BY c.event_id",
				  qschema, qschema);
	PQfreemem(qschema);
	res = pt_pq_exec(conn, sql.data, PGRES_TUPLES_OK, PT_PQ_ANY, 7, err);
	pt_buf_free(&sql);
	if (res == NULL)
		return NULL;
	t = pt_calloc(1, sizeof(*t));
	t->res = res;
	t->n = PQntuples(res);
	return t;
}

void
pt_cp_table_free(pt_cp_table *t)
{
	if (t == NULL)
		return;
	PQclear(t->res);
	free(t);
}

/* Does row i's event still have hash? (false: no event, or another hash) */
static bool
event_has(const pt_cp_table *t, int i, const uint8_t *hash)
{
	const char *text = PQgetvalue(t->res, i, EVENT_HASH_COL);
	uint8_t		now[PT_HASH_LEN];

	return !PQgetisnull(t->res, i, EVENT_HASH_COL) && strlen(text) == 2 + 2 * PT_HASH_LEN &&
		pt_hex_decode(text + 2, PT_HASH_LEN, now) && memcmp(now, hash, PT_HASH_LEN) == 0;
}

static void
report_cut_tail(pt_report *rep, int64_t log_end, int64_t wanted, const char *what)
{
	pt_report_finding(rep, PT_FIND_MISSING, log_end + 1,
					  "the tail of the log was cut, or the table was rolled back to an older copy",
					  "event %lld: missing (the log ends at event %lld, but %s event %lld)",
					  (long long) log_end + 1, (long long) log_end, what, (long long) wanted);
}

/*
 * One checkpoint row; *first_bad set once the chain stopped passing through
 * checkpoints (later ones are the same story, counted, not listed).
 */
static void
check_one(const pt_cp_table *t, int i, const pt_keyring *ring, int64_t log_end, int64_t *last_good,
		  int *bad, pt_report *rep)
{
	pt_checkpoint cp;
	pt_err		err;

	if (!pt_checkpoint_from_row(t->res, i, 0, &cp, &err))
	{
		if ((*bad)++ == 0)
			pt_report_err(rep, PT_FIND_BAD_SIGNATURE, 0, &err);
		return;
	}
	if (ring != NULL && !pt_checkpoint_verify(ring, &cp, &err))
	{
		char		why[1200];

		snprintf(why, sizeof(why), "%s; the last good checkpoint is at event %lld, so events %lld..%lld may have been rewritten",
				 err.detail[0] ? err.detail : "it was not made by the holder of the signing key",
				 (long long) *last_good, (long long) *last_good + 1, (long long) cp.event_id);
		if ((*bad)++ == 0)
			pt_report_finding(rep, PT_FIND_BAD_SIGNATURE, cp.event_id, why, "%s", err.message);
		return;
	}
	if (event_has(t, i, cp.hash))
	{
		*last_good = cp.event_id;
		return;
	}
	if ((*bad)++ > 0)
		return;
	if (cp.event_id > log_end)
		report_cut_tail(rep, log_end, cp.event_id, "a checkpoint was made at");
	else if (PQgetisnull(t->res, i, EVENT_HASH_COL))
		pt_report_finding(rep, PT_FIND_MISSING, cp.event_id, "rows were deleted from the event table",
						  "event %lld: missing (a checkpoint was made at it)", (long long) cp.event_id);
	else
		pt_report_finding(rep, PT_FIND_CHECKPOINT, *last_good + 1,
						  "the chain was recomputed after an edit: the edited event is one of these",
						  "events %lld..%lld: rewritten (the chain no longer passes through the checkpoint at event %lld)",
						  (long long) *last_good + 1, (long long) cp.event_id, (long long) cp.event_id);
}

void
pt_verify_checkpoints(const pt_cp_table *t, const pt_keyring *ring, int64_t log_end, pt_report *rep)
{
	pt_report_figures *fig = pt_report_figures_of(rep);
	int64_t		last_good = 0;
	int			bad = 0;

	for (int i = 0; i < t->n; i++)
		check_one(t, i, ring, log_end, &last_good, &bad, rep);
	fig->checkpoints_checked = t->n;
	fig->signatures_checked = ring ? t->n : 0;
	if (bad > 1)
		pt_report_note(rep, "%d more checkpoints fail the same way after the first", bad - 1);
	if (ring != NULL && log_end > last_good)
		pt_report_note(rep, "events %lld..%lld come after the last good signed checkpoint: "
					   "no signature covers them yet", (long long) last_good + 1, (long long) log_end);
}

/* Row of the checkpoint at event_id, or -1 (binary search: rows are ordered). */
static int
find_row(const pt_cp_table *t, int64_t event_id)
{
	int			lo = 0,
				hi = t->n - 1;

	while (lo <= hi)
	{
		int			mid = lo + (hi - lo) / 2;
		int64_t		id = strtoll(PQgetvalue(t->res, mid, 0), NULL, 10);

		if (id == event_id)
			return mid;
		if (id < event_id)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return -1;
}

/* One anchor line against the table; true when it holds (else one finding). */
static bool
check_anchored(const pt_cp_table *t, const pt_checkpoint *a, const pt_keyring *ring, int64_t log_end,
			   pt_report *rep)
{
	int			row = find_row(t, a->event_id);
	char		when[PT_TIME_BUFLEN];
	pt_err		err;

	pt_time_format(a->created_at, when);
	if (ring != NULL && a->signed_ && !pt_checkpoint_verify(ring, a, &err))
	{
		pt_report_err(rep, PT_FIND_BAD_SIGNATURE, a->event_id, &err);
		return false;
	}
	if (a->event_id > log_end)
	{
		report_cut_tail(rep, log_end, a->event_id, "the anchor file holds a checkpoint made at");
		return false;
	}
	if (row < 0)
	{
		pt_report_finding(rep, PT_FIND_ANCHOR, a->event_id, "the anchor file holds it; its row was deleted",
						  "event %lld: its anchored checkpoint is gone from the checkpoints table", (long long) a->event_id);
		return false;
	}
	if (!event_has(t, row, a->hash))
	{
		pt_report_finding(rep, PT_FIND_ANCHOR, a->event_id,
						  "the chain was rewritten up to there, or the event deleted",
						  "event %lld: its hash is not the one anchored at %s", (long long) a->event_id, when);
		return false;
	}
	return true;
}

bool
pt_verify_anchor(const pt_cp_table *t, const char *path, off_t size, const pt_keyring *ring,
				 int64_t log_end, pt_report *rep, pt_err *err)
{
	FILE	   *f = fopen(path, "r");
	char	   *line = NULL;
	size_t		cap = 0;
	ssize_t		len;
	off_t		read_so_far = 0;
	int			lineno = 0;
	bool		ok = true;
	pt_checkpoint a;

	if (f == NULL)
		return pt_err_set(err, PT_ERR_CONFIG, "could not open anchor file \"%s\": %s", path, strerror(errno));
	while (ok && read_so_far < size && (len = getline(&line, &cap, f)) > 0)
	{
		lineno++;
		read_so_far += len;
		if (line[len - 1] != '\n' || read_so_far > size)
			break;				/* being written as we read: not yet anchored */
		if (!pt_checkpoint_parse_anchor(line, (size_t) len - 1, &a, err))
		{
			pt_err_prefix(err, "anchor file \"%s\" line %d", path, lineno);
			err->kind = PT_ERR_CONFIG;
			pt_err_hint(err, "--anchor takes the file pgtrail-capture --anchor-file writes");
			ok = false;
		}
		else if (check_anchored(t, &a, ring, log_end, rep))
			pt_report_figures_of(rep)->anchors_checked++;
		else
			break;				/* the first failure tells the story */
	}
	free(line);
	fclose(f);
	return ok;
}

bool
pt_verify_state(PGconn *conn, const char *schema, int64_t log_end, pt_report *rep, pt_err *err)
{
	pt_buf		sql = PT_BUF_INIT;
	char	   *qschema = pt_pq_ident(conn, schema, err);
	PGresult   *res;

	if (qschema == NULL)
		return false;
	pt_buf_printf(&sql, "SELECT s.slot, s.last_event_id, s.last_hash = e.hash FROM %s.state s "
				  "LEFT JOIN %s.events e ON e.id = s.last_event_id ORDER BY s.last_event_id DESC",
				  qschema, qschema);
	PQfreemem(qschema);
	res = pt_pq_exec(conn, sql.data, PGRES_TUPLES_OK, PT_PQ_ANY, 3, err);
	pt_buf_free(&sql);
	if (res == NULL)
		return false;
	for (int i = 0; i < PQntuples(res); i++)
	{
		int64_t		last = strtoll(PQgetvalue(res, i, 1), NULL, 10);
		char		what[200];

		snprintf(what, sizeof(what), "the state of slot \"%s\" says it ends at", PQgetvalue(res, i, 0));
		if (last > log_end)
			report_cut_tail(rep, log_end, last, what);
		else if (last > 0 && strcmp(PQgetvalue(res, i, 2), "t") != 0)
			pt_report_finding(rep, PT_FIND_CHANGED, last, "the event or the state row was changed",
							  "event %lld: its hash is not the one the state of slot \"%s\" recorded",
							  (long long) last, PQgetvalue(res, i, 0));
		else
			continue;
		break;
	}
	PQclear(res);
	return true;
}
