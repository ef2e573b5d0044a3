/*
 * verify/checkpoints.c — checkpoints, anchors and state rows against the
 * event table (see checkpoints.h). The anchor file is read in its own
 * small functions below (quote_line, anchor_read): what is a torn write,
 * what is not a checkpoint, what is not an anchor file at all.
 */
#include "verify/checkpoints.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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
#define EVENT_LSN_COL 7

pt_cp_table *
pt_cp_table_load(PGconn *conn, const char *schema, pt_err *err)
{
	pt_buf		sql = PT_BUF_INIT;
	char	   *qschema = pt_pq_ident(conn, schema, err);
	pt_cp_table *t;
	PGresult   *res;

	if (qschema == NULL)
		return NULL;
	pt_buf_printf(&sql, "SELECT c.event_id, c.hash, c.lsn::text, c.created_at, c.signature, c.key_id, e.hash, "
				  "e.commit_lsn::text FROM %s.checkpoints c LEFT JOIN %s.events e ON e.id = c.event_id "
				  "ORDER BY c.event_id", qschema, qschema);
	PQfreemem(qschema);
	res = pt_pq_exec(conn, sql.data, PGRES_TUPLES_OK, PT_PQ_ANY, 8, err);
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
	if (event_has(t, i, cp.hash) && strcmp(PQgetvalue(t->res, i, EVENT_LSN_COL), PQgetvalue(t->res, i, 2)) == 0)
	{
		*last_good = cp.event_id;
		return;
	}
	if (event_has(t, i, cp.hash))
	{
		if ((*bad)++ == 0)
			pt_report_finding(rep, PT_FIND_CHECKPOINT, cp.event_id, "the checkpoint was made for another LSN",
							  "event %lld: commit LSN %s, but its checkpoint says %s", (long long) cp.event_id,
							  PQgetvalue(t->res, i, EVENT_LSN_COL), PQgetvalue(t->res, i, 2));
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

/* Has event id now the given hash? (a query: anchor lines without a checkpoint row are rare) */
static bool
event_hash_is(PGconn *conn, const char *schema, int64_t id, const uint8_t *hash, bool *same, pt_err *err)
{
	pt_buf		sql = PT_BUF_INIT;
	char		idtext[24];
	char		hex[2 * PT_HASH_LEN + 1];
	const char *params[2] = {idtext, hex};
	PGresult   *res;

	snprintf(idtext, sizeof(idtext), "%lld", (long long) id);
	pt_hex_encode(hash, PT_HASH_LEN, hex);
	if (!pt_pq_sql_with_ident(conn, "SELECT count(*) FROM %1$s.events WHERE id = $1 AND hash = decode($2, 'hex')",
							  schema, &sql, err))
	{
		pt_buf_free(&sql);
		return false;
	}
	res = pt_pq_exec_params(conn, sql.data, 2, params, PGRES_TUPLES_OK, 1, 1, err);
	pt_buf_free(&sql);
	if (res == NULL)
		return false;
	*same = strcmp(PQgetvalue(res, 0, 0), "1") == 0;
	PQclear(res);
	return true;
}

/* One anchor line against the table; *holds false means one finding was made. */
static bool
check_anchored(const pt_anchor_check *ac, const pt_checkpoint *a, bool *holds, pt_err *err)
{
	const pt_cp_table *t = ac->table;
	const pt_keyring *ring = ac->ring;
	int64_t		log_end = ac->log_end;
	pt_report  *rep = ac->rep;
	bool		same;
	int			row = find_row(t, a->event_id);
	char		when[PT_TIME_BUFLEN];
	pt_err		why;

	*holds = false;
	pt_time_format(a->created_at, when);
	if (ring != NULL && a->signed_ && !pt_checkpoint_verify(ring, a, &why))
	{
		pt_report_err(rep, PT_FIND_BAD_SIGNATURE, a->event_id, &why);
		return true;
	}
	if (a->event_id > log_end)
	{
		report_cut_tail(rep, log_end, a->event_id, "the anchor file holds a checkpoint made at");
		return true;
	}
	if (row >= 0)
		same = event_has(t, row, a->hash);
	else if (!event_hash_is(ac->conn, ac->schema, a->event_id, a->hash, &same, err))
		return false;
	if (!same)
	{
		pt_report_finding(rep, PT_FIND_ANCHOR, a->event_id,
						  "the chain was rewritten up to there, or the event deleted",
						  "event %lld: its hash is not the one anchored at %s", (long long) a->event_id, when);
		return true;
	}
	/* the anchor line itself is the pin: a checkpoint row gone with the chain intact is only a note */
	if (row < 0)
		pt_report_note(rep, "the checkpoint at event %lld is in the anchor file but not in the checkpoints table "
					   "(the chain still passes through it)", (long long) a->event_id);
	*holds = true;
	return true;
}

/* ---- reading the anchor file ---- */

#define QUOTE_MAX 60			/* bytes of a bad line quoted in a message */
#define QUOTE_BUFLEN (QUOTE_MAX * 4 + 8)
#define ANCHOR_LINE_START "{\"event_id\":"

/*
 * Up to QUOTE_MAX bytes of line, in double quotes, as printable ASCII:
 * control characters, bytes outside ASCII, backslash and double quote
 * escaped (\n, \t, \xNN, \\, \"), "..." after the quote when cut. So a
 * line quoted in a message never reaches a terminal raw.
 */
static void
quote_line(const char *line, size_t len, char out[QUOTE_BUFLEN])
{
	size_t		o = 0;

	out[o++] = '"';
	for (size_t i = 0; i < len && i < QUOTE_MAX; i++)
	{
		unsigned char c = (unsigned char) line[i];

		if (c == '"' || c == '\\')
			o += (size_t) snprintf(out + o, QUOTE_BUFLEN - o, "\\%c", c);
		else if (c == '\n' || c == '\t')
			o += (size_t) snprintf(out + o, QUOTE_BUFLEN - o, "\\%c", c == '\n' ? 'n' : 't');
		else if (c < 0x20 || c > 0x7e)
			o += (size_t) snprintf(out + o, QUOTE_BUFLEN - o, "\\x%02x", c);
		else
			out[o++] = (char) c;
	}
	snprintf(out + o, QUOTE_BUFLEN - o, "\"%s", len > QUOTE_MAX ? "..." : "");
}

/* What the anchor file held so far, line by line. */
typedef struct anchor_read
{
	int			lineno;
	int			checkpoints;	/* lines that were checkpoints */
	int			bad;			/* lines that were neither checkpoints nor torn writes */
	int			first_bad;		/* the first one's line number, and the line quoted */
	char		first_quoted[QUOTE_BUFLEN];
	pt_buf		pending;		/* a line that is no checkpoint, until the next one says if it was torn */
	int			pending_lineno;
	bool		has_pending;
} anchor_read;

static void
count_bad(anchor_read *r, const char *line, size_t len, int lineno)
{
	if (r->bad++ == 0)
	{
		r->first_bad = lineno;
		quote_line(line, len, r->first_quoted);
	}
}

static void
note_torn(const pt_anchor_check *ac, int lineno, const char *how)
{
	pt_report_note(ac->rep, "anchor file \"%s\" line %d is not a checkpoint: a torn write, %s",
				   ac->path, lineno, how);
}

/*
 * The pending line, now that the next one (NULL at the end) is known. A
 * crash in the middle of capture's append leaves the start of a line;
 * capture ends it with a newline and appends that checkpoint again, so a
 * torn line is the start of the next one (or, after two crashes in a row,
 * of the next torn line, or the next torn line of it), or (before
 * capture's next start) the last line, beginning like a checkpoint line
 * and cut before its end. Any other line that is no checkpoint was not
 * written by capture.
 */
static void
resolve_pending(const pt_anchor_check *ac, anchor_read *r, const char *next, size_t next_len, bool next_valid)
{
	const char *p = r->pending.data;
	size_t		len = r->pending.len;
	size_t		shorter = len < next_len ? len : next_len;

	if (!r->has_pending)
		return;
	r->has_pending = false;
	if (next != NULL && len > 0 && len != next_len && memcmp(p, next, shorter) == 0 &&
		(len < next_len || !next_valid))
		note_torn(ac, r->pending_lineno, "written whole on a later line");
	else if (next == NULL && len > strlen(ANCHOR_LINE_START) &&
			 strncmp(p, ANCHOR_LINE_START, strlen(ANCHOR_LINE_START)) == 0 && p[len - 1] != '}')
		note_torn(ac, r->pending_lineno, "capture appends that checkpoint again when it next starts");
	else
		count_bad(r, p, len, r->pending_lineno);
}

/* One whole line (without its newline); *holds false once an anchored checkpoint failed. */
static bool
anchor_line(const pt_anchor_check *ac, anchor_read *r, const char *line, size_t len, bool *holds, pt_err *err)
{
	pt_checkpoint a;
	pt_err		bad;
	bool		valid = pt_checkpoint_parse_anchor(line, len, &a, &bad);

	resolve_pending(ac, r, line, len, valid);
	if (!valid)
	{
		pt_buf_reset(&r->pending);
		pt_buf_append(&r->pending, line, len);
		r->pending_lineno = r->lineno;
		r->has_pending = true;
		return true;
	}
	r->checkpoints++;
	if (!check_anchored(ac, &a, holds, err))
		return false;
	if (*holds)
		pt_report_figures_of(ac->rep)->anchors_checked++;
	return true;
}

/* No checkpoint in the file while the table has some: emptied, replaced, or never written by capture. */
static void
check_not_empty(const pt_anchor_check *ac)
{
	struct stat st;

	if (ac->table->n == 0)
		return;
	if (stat(ac->path, &st) == 0 && st.st_size > ac->size)
	{
		pt_report_note(ac->rep, "anchor file \"%s\" held no checkpoint when verify started; the lines written "
					   "since are checked by the next run", ac->path);
		return;
	}
	pt_report_finding(ac->rep, PT_FIND_ANCHOR_FILE, 0,
					  "capture appends every checkpoint to it: it was emptied or replaced, or capture has not run "
					  "with this --anchor-file since the checkpoints were made (its next start appends them)",
					  "anchor file \"%s\" holds no checkpoint, but the checkpoints table holds %d",
					  ac->path, ac->table->n);
}

/*
 * After the last line: a file with lines but no checkpoint at all is not
 * an anchor file (a wrong path: exit 2); a line that is not a checkpoint
 * in an anchor file is a finding, and so is an anchor file without a
 * checkpoint while the table has some.
 */
static bool
anchor_verdict(const pt_anchor_check *ac, anchor_read *r, pt_err *err)
{
	if (r->bad > 0 && r->checkpoints == 0)
	{
		pt_err_set(err, PT_ERR_CONFIG, "\"%s\" is not an anchor file: line %d is not a checkpoint: %s",
				   ac->path, r->first_bad, r->first_quoted);
		pt_err_hint(err, "--anchor takes the file pgtrail-capture --anchor-file writes, one JSON checkpoint a line");
		return false;
	}
	if (r->bad > 0)
		pt_report_finding(ac->rep, PT_FIND_ANCHOR_FILE, 0,
						  r->bad > 1 ? "only capture writes this file, one checkpoint a line: something else wrote "
						  "to it, or it was damaged (more lines like it follow)" :
						  "only capture writes this file, one checkpoint a line: something else wrote to it, "
						  "or it was damaged",
						  "anchor file \"%s\" line %d is not a checkpoint: %s", ac->path, r->first_bad,
						  r->first_quoted);
	if (r->checkpoints == 0)
		check_not_empty(ac);
	return true;
}

bool
pt_verify_anchor(const pt_anchor_check *ac, pt_err *err)
{
	FILE	   *f = fopen(ac->path, "r");
	char	   *line = NULL;
	size_t		cap = 0;
	ssize_t		len;
	off_t		read_so_far = 0;
	bool		ok = true;
	bool		holds = true;
	anchor_read r;

	if (f == NULL)
		return pt_err_set(err, PT_ERR_CONFIG, "could not open anchor file \"%s\": %s", ac->path, strerror(errno));
	memset(&r, 0, sizeof(r));
	pt_buf_init(&r.pending);
	while (ok && holds && read_so_far < ac->size && (len = getline(&line, &cap, f)) > 0)
	{
		r.lineno++;
		read_so_far += len;
		if (line[len - 1] != '\n' || read_so_far > ac->size)
			break;				/* being written as we read: not yet anchored */
		ok = anchor_line(ac, &r, line, (size_t) len - 1, &holds, err);
	}
	if (ok && ferror(f))
		ok = pt_err_set(err, PT_ERR_RUNTIME, "could not read anchor file \"%s\": %s", ac->path, strerror(errno));
	if (ok && holds)
	{
		resolve_pending(ac, &r, NULL, 0, false);
		ok = anchor_verdict(ac, &r, err);
	}
	pt_buf_free(&r.pending);
	free(line);
	fclose(f);
	return ok;
}

/*
 * The state rows: capture writes the state row in the same transaction as
 * the events, so the newest one ends exactly where the log ends, and each
 * names its last event's hash.
 */
bool
pt_verify_state(PGconn *conn, const char *schema, int64_t log_end, pt_report *rep, pt_err *err)
{
	pt_buf		sql = PT_BUF_INIT;
	char	   *qschema = pt_pq_ident(conn, schema, err);
	PGresult   *res;
	int64_t		last;
	const char *slot;
	char		what[200];

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
	if (PQntuples(res) == 0)
	{
		if (log_end > 0)
			pt_report_finding(rep, PT_FIND_BROKEN, 0, "capture writes one with every batch; someone deleted it",
							  "the log has %lld events but no state row", (long long) log_end);
		PQclear(res);
		return true;
	}
	slot = PQgetvalue(res, 0, 0);
	last = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
	snprintf(what, sizeof(what), "the state of slot \"%s\" says it ends at", slot);
	if (last > log_end)
		report_cut_tail(rep, log_end, last, what);
	else if (last < log_end)
		pt_report_finding(rep, PT_FIND_INSERTED, last + 1, "capture writes the state row with the events, so these were not written by capture",
						  "event %lld: inserted (the state of slot \"%s\" says the log ends at event %lld, it ends at %lld)",
						  (long long) last + 1, slot, (long long) last, (long long) log_end);
	else
	{
		for (int i = 0; i < PQntuples(res); i++)
		{
			last = strtoll(PQgetvalue(res, i, 1), NULL, 10);
			if (last > 0 && strcmp(PQgetvalue(res, i, 2), "t") != 0)
			{
				pt_report_finding(rep, PT_FIND_CHANGED, last, "the event or the state row was changed",
								  "event %lld: its hash is not the one the state of slot \"%s\" recorded",
								  (long long) last, PQgetvalue(res, i, 0));
				break;
			}
		}
	}
	PQclear(res);
	return true;
}
