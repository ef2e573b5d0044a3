/*
 * replay/trust.c — what replay believes before it executes anything (see
 * run.h).
 *
 * Replay turns the event store into SQL in the target: rows, and with
 * --create-tables column types, defaults, generated expressions and
 * partition bounds. It believes only what the hash chain covers. Schema
 * versions are checked against their schema events here (a schemas table
 * changed outside capture is refused, as verify reports it); versions of
 * stores written before schema events existed are said, loudly, to be
 * unproven. Signed checkpoints and the anchor file are checked as the
 * stream passes them (pins, below), as pgtrail-verify checks them.
 */
#include "replay/run.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/chain.h"
#include "core/checkpoint.h"
#include "core/hex.h"
#include "core/mem.h"
#include "core/pq.h"
#include "core/schema_event.h"
#include "core/store.h"

bool
pt_trust_versions(replay *r, pt_err *err)
{
	pt_version_audit a;

	if (!pt_versions_audit(r->events, r->opts->schema, &a, err))
		return false;
	if (a.legacy > 0 && !r->legacy_said)
	{
		pt_log_warning(r->log, "%lld schema versions of this event store were recorded before schema versions "
					   "were hashed into the chain: nothing proves them, and replay uses them as the schemas "
					   "table holds them", (long long) a.legacy);
		r->legacy_said = true;
	}
	if (a.bad == 0)
		return true;
	pt_err_set(err, PT_ERR_INTEGRITY, "%s", a.findings[0]);
	if (a.bad > 1)
		pt_err_detail(err, "%lld schema versions are not what the chain recorded; the next: %s", (long long) a.bad,
					  a.findings[1]);
	pt_err_hint(err, "replay builds tables only from what the hash chain proves; run pgtrail-verify, and restore "
				"the schemas table from a backup (each row must match its schema event)");
	return false;
}

/*
 * The versions were loaded by queries of their own; the stream is what the
 * chain check hashed. A schema event as streamed must be the version
 * loaded, byte for byte, and a version opens only after its event was read
 * so (or before this run's start, when the run that got the target there
 * read it): a store changed between the two reads is refused.
 */
bool
pt_trust_schema_event(replay *r, const pt_event *ev, pt_err *err)
{
	const pt_rtable *rt;
	const pt_rversion *rv = NULL;

	pt_events_cstr(&r->sname, ev->schema_name);
	pt_events_cstr(&r->tname, ev->table_name);
	rt = pt_versions_table(r->versions, r->sname.data, r->sname.len, r->tname.data, r->tname.len);
	if (rt && ev->has_schema_version)
		rv = pt_versions_get(rt, ev->schema_version);
	if (rv == NULL || rv->schema_event_id != ev->id || rv->doc == NULL || ev->row.ptr == NULL ||
		strlen(rv->doc) != ev->row.len || memcmp(rv->doc, ev->row.ptr, ev->row.len) != 0)
	{
		pt_err_set(err, PT_ERR_INTEGRITY, "event %lld: the schema event the chain holds is not the version of "
				   "\"%s\".\"%s\" replay loaded: the event store changed while replay read it", (long long) ev->id,
				   r->sname.data, r->tname.data);
		pt_err_hint(err, "run pgtrail-verify; nothing was committed past the transaction before this event");
		return false;
	}
	if (r->nseen == r->seencap)
	{
		r->seencap = r->seencap ? 2 * r->seencap : 16;
		r->seen = pt_realloc(r->seen, sizeof(*r->seen) * (size_t) r->seencap);
	}
	r->seen[r->nseen].event_id = ev->id;
	r->seen[r->nseen].doc = pt_strdup(rv->doc);
	r->nseen++;
	return true;
}

bool
pt_trust_opening(replay *r, const pt_rtable *rt, const pt_rversion *rv, pt_err *err)
{
	if (rv->schema_event_id == 0 || rv->schema_event_id <= r->first_id)
		return true;			/* before schema events (said at load), or read by an earlier run */
	for (int i = r->nseen - 1; i >= 0; i--)
		if (r->seen[i].event_id == rv->schema_event_id)
		{
			if (strcmp(r->seen[i].doc, rv->doc) == 0)
				return true;
			break;
		}
	pt_err_set(err, PT_ERR_INTEGRITY, "version %d of \"%s\".\"%s\" is not what its schema event %lld said when "
			   "replay read it", rv->version, rt->schema, rt->table, (long long) rv->schema_event_id);
	pt_err_hint(err, "run pgtrail-verify: the schemas table or the event changed while replay ran");
	return false;
}

/* ---- checkpoints and anchors ---- */

/*
 * A pin is a point the chain must pass through: a checkpoint (signed, and
 * checked with --public-key) or a line of the anchor file (--anchor). A
 * recomputed chain passes every hash check but no pin after the change.
 * While a pin lies ahead, replay commits the target only at a pin it has
 * checked, so a bad pin leaves the target at the last good one.
 */
struct pt_pin
{
	int64_t		event_id;
	uint8_t		hash[PT_HASH_LEN];
	const char *from;			/* "signed checkpoint", "anchor file" */
	char		bad[160];		/* why it cannot be believed ("" = it can) */
};

static int
cmp_pin(const void *a, const void *b)
{
	const pt_pin *x = a,
			   *y = b;

	return x->event_id < y->event_id ? -1 : x->event_id > y->event_id;
}

static pt_pin *
new_pin(replay *r, const pt_checkpoint *cp, const char *from)
{
	pt_pin	   *p;

	if (r->npins == r->pincap)
	{
		r->pincap = r->pincap ? 2 * r->pincap : 64;
		r->pins = pt_realloc(r->pins, sizeof(pt_pin) * (size_t) r->pincap);
	}
	p = &r->pins[r->npins++];
	p->event_id = cp->event_id;
	memcpy(p->hash, cp->hash, PT_HASH_LEN);
	p->from = from;
	p->bad[0] = '\0';
	return p;
}

/* A checkpoint row: believed only signed, with a key that checks it. */
static void
add_checkpoint(replay *r, const pt_checkpoint *cp)
{
	pt_err		why;
	pt_pin	   *p;

	r->ncheckpoints++;
	if (cp->signed_)
		r->nsigned++;
	if (r->ring == NULL || cp->event_id <= r->committed.event_id)
		return;
	p = new_pin(r, cp, "signed checkpoint");
	if (!pt_checkpoint_verify(r->ring, cp, &why))
		snprintf(p->bad, sizeof(p->bad), "%.150s", why.message);
}

static bool
load_checkpoints(replay *r, pt_err *err)
{
	pt_buf		sql = PT_BUF_INIT;
	PGresult   *res = NULL;
	pt_checkpoint cp;
	bool		ok = true;

	if (pt_pq_sql_with_ident(r->events, "SELECT " PT_CHECKPOINT_COLUMNS " FROM %1$s.checkpoints ORDER BY event_id",
							 r->opts->schema, &sql, err))
		res = pt_pq_exec(r->events, sql.data, PGRES_TUPLES_OK, PT_PQ_ANY, 6, err);
	pt_buf_free(&sql);
	if (res == NULL)
		return false;
	for (int i = 0; ok && i < PQntuples(res); i++)
		if ((ok = pt_checkpoint_from_row(res, i, 0, &cp, err)))
			add_checkpoint(r, &cp);
	PQclear(res);
	return ok;
}

/* An anchor line: believed as written (the file is out of the database's reach). False: not a checkpoint. */
static bool
add_anchor_line(replay *r, const char *line, size_t len, int lineno)
{
	pt_checkpoint cp;
	pt_err		why;
	pt_pin	   *p;

	if (!pt_checkpoint_parse_anchor(line, len, &cp, &why))
	{
		if (r->npins_loaded == 0)	/* said on the first read only (--follow reads it every round) */
			pt_log_warning(r->log, "anchor file \"%s\" line %d is not a checkpoint (a torn write?): %s",
						   r->opts->anchor, lineno, why.message);
		return false;
	}
	if (cp.event_id > r->anchor_end)
		r->anchor_end = cp.event_id;
	if (cp.event_id <= r->committed.event_id)
		return true;
	p = new_pin(r, &cp, "anchor file");
	if (r->ring && cp.signed_ && !pt_checkpoint_verify(r->ring, &cp, &why))
		snprintf(p->bad, sizeof(p->bad), "%.150s", why.message);
	return true;
}

/* As verify judges a file: lines but not one checkpoint, or none while the store has some. */
static bool
anchors_plausible(replay *r, int lines, int checkpoints, pt_err *err)
{
	if (lines > 0 && checkpoints == 0)
	{
		pt_err_set(err, PT_ERR_CONFIG, "\"%s\" is not an anchor file: not one of its %d lines is a checkpoint",
				   r->opts->anchor, lines);
		pt_err_hint(err, "--anchor takes the file pgtrail-capture --anchor-file writes");
		return false;
	}
	if (checkpoints == 0 && r->ncheckpoints > 0)
	{
		pt_err_set(err, PT_ERR_INTEGRITY, "the anchor file \"%s\" holds no checkpoint, but the event store has %lld",
				   r->opts->anchor, (long long) r->ncheckpoints);
		pt_err_hint(err, "the file was emptied or replaced, or is not the one capture writes; run pgtrail-verify "
					"with the same --anchor");
		return false;
	}
	return true;
}

static bool
load_anchors(replay *r, pt_err *err)
{
	FILE	   *f = fopen(r->opts->anchor, "r");
	char	   *line = NULL;
	size_t		cap = 0;
	ssize_t		len;
	int			lineno = 0,
				complete = 0,
				valid = 0;

	if (f == NULL)
	{
		pt_err_set(err, PT_ERR_CONFIG, "could not open anchor file \"%s\": %s", r->opts->anchor, strerror(errno));
		pt_err_hint(err, "--anchor takes the file pgtrail-capture --anchor-file writes");
		return false;
	}
	while ((len = getline(&line, &cap, f)) > 0)
	{
		lineno++;
		if (line[len - 1] != '\n')
			break;				/* a last line without one is still being written */
		complete++;
		if (add_anchor_line(r, line, (size_t) len - 1, lineno))
			valid++;
	}
	free(line);
	fclose(f);
	return anchors_plausible(r, complete, valid, err);
}

/* The anchor file names a checkpoint past the log's end: its tail was cut. */
static bool
check_cut_tail(replay *r, pt_err *err)
{
	pt_buf		sql = PT_BUF_INIT;
	PGresult   *res = NULL;

	if (r->anchor_end == 0 || r->opts->until != PT_UNTIL_END)
		return true;
	/* the log's end now, after the file was read: capture appends a line only after its commit */
	if (pt_pq_sql_with_ident(r->events, "SELECT coalesce(max(id), 0) FROM %1$s.events", r->opts->schema, &sql, err))
		res = pt_pq_exec(r->events, sql.data, PGRES_TUPLES_OK, 1, 1, err);
	pt_buf_free(&sql);
	if (res == NULL)
		return false;
	r->log_end = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	if (r->anchor_end <= r->log_end)
		return true;
	pt_err_set(err, PT_ERR_INTEGRITY, "the anchor file names a checkpoint at event %lld, but the log ends at "
			   "event %lld: its tail was cut", (long long) r->anchor_end, (long long) r->log_end);
	pt_err_hint(err, "run pgtrail-verify with the same --anchor; replay --until-event %lld replays what is left",
				(long long) r->log_end);
	return false;
}

bool
pt_trust_load_pins(replay *r, pt_err *err)
{
	bool		warn = r->npins_loaded == 0;

	r->npins = r->next_pin = 0;
	r->nsigned = r->ncheckpoints = 0;
	r->anchor_end = 0;
	r->pin_failed = false;
	r->last_good_pin = r->committed.event_id;
	if (!r->opts->verify)
		return true;			/* --no-verify (forensics), and verify's drift rebuild: nothing checked */
	if (r->ring == NULL && r->opts->public_key && r->opts->public_key[0] &&
		(r->ring = pt_keyring_load(r->opts->public_key, err)) == NULL)
		return false;
	if (!load_checkpoints(r, err) ||
		(r->opts->anchor && r->opts->anchor[0] && (!load_anchors(r, err) || !check_cut_tail(r, err))))
		return false;
	if (r->npins > 1)
		qsort(r->pins, (size_t) r->npins, sizeof(pt_pin), cmp_pin);
	r->npins_loaded++;
	if (warn && r->ring == NULL && r->nsigned > 0)
		pt_log_warning(r->log, "the event store has %lld signed checkpoints, but no --public-key was given: replay "
					   "cannot tell a recomputed chain from the one capture signed; pass --public-key (and "
					   "--anchor), as to pgtrail-verify", (long long) r->nsigned);
	return true;
}

bool
pt_trust_pass(replay *r, const pt_event *ev, pt_err *err)
{
	for (; r->next_pin < r->npins && r->pins[r->next_pin].event_id <= ev->id; r->next_pin++)
	{
		const pt_pin *p = &r->pins[r->next_pin];
		char		want[2 * PT_HASH_LEN + 1];

		if (p->event_id < ev->id)
			continue;			/* not in the stream: the chain check says why */
		if (p->bad[0] == '\0' && memcmp(p->hash, ev->hash, PT_HASH_LEN) == 0)
		{
			r->last_good_pin = ev->id;
			continue;
		}
		pt_hex_encode(p->hash, PT_HASH_LEN, want);
		want[2 * PT_HASH_LEN] = '\0';
		if (p->bad[0])
			pt_err_set(err, PT_ERR_INTEGRITY, "event %lld: the %s there does not check: %s", (long long) ev->id,
					   p->from, p->bad);
		else
			pt_err_set(err, PT_ERR_INTEGRITY, "event %lld: the chain does not pass through the %s there (it "
					   "holds hash %.16s...): the log was changed at or before event %lld, after event %lld",
					   (long long) ev->id, p->from, want, (long long) ev->id, (long long) r->last_good_pin);
		pt_err_hint(err, "run pgtrail-verify with --public-key and --anchor to see what changed; replay stopped "
					"at the last checkpoint it could check");
		return false;
	}
	return true;
}

bool
pt_trust_may_commit(const replay *r, int64_t range_stop)
{
	return r->next_pin >= r->npins || r->pins[r->next_pin].event_id > range_stop ||
		r->applied_id == r->last_good_pin;
}

int64_t
pt_trust_safe_end(const replay *r, int64_t end)
{
	if (r->next_pin < r->npins && r->pins[r->next_pin].event_id <= r->range_stop && r->last_good_pin < end)
		return r->last_good_pin;	/* a checkpoint lay ahead: only what one proved */
	return end;
}

void
pt_trust_say_unproven(replay *r)
{
	if (r->opts->follow || r->npins_loaded == 0 || (r->ring == NULL && (r->opts->anchor == NULL || r->opts->anchor[0] == '\0')) ||
		r->committed.event_id <= r->last_good_pin || r->said_unproven == r->committed.event_id)
		return;
	r->said_unproven = r->committed.event_id;
	pt_log_info(r->log, "events %lld to %lld are past the last checkpoint replay checked%s: no signature or "
				"anchor proves them yet", (long long) r->last_good_pin + 1, (long long) r->committed.event_id,
				r->next_pin < r->npins ? " (the stop point comes before the next one)" : "");
}

void
pt_trust_free(replay *r)
{
	for (int i = 0; i < r->nseen; i++)
		free(r->seen[i].doc);
	free(r->seen);
	free(r->pins);
	pt_keyring_free(r->ring);
}

/*
 * With checkpoints to check and --create-tables, the range is walked (chain
 * and pins, nothing applied) before anything is applied, up to the first
 * checkpoint after the last version that opens in it: a forged version's
 * expressions (a volatile default, a partition bound) would otherwise run
 * in the target before the checkpoint that refuses them, and a rollback
 * does not undo what a function did (rows are kept safe by committing only
 * at checked checkpoints). A bad pin makes the range end at the last good
 * one (*end), so replay applies that much.
 */
/* Read events (position, upto] through the chain check and the pins, applying nothing. */
static bool
walk(replay *r, int64_t upto, pt_err *err)
{
	pt_store_reader *reader = pt_store_reader_open(r->events, r->opts->schema, r->committed.event_id, err);
	pt_chain   *chain;
	pt_event	ev;
	bool		done = false,
				ok = reader != NULL;

	if (!ok)
		return false;
	chain = pt_chain_new(r->committed.event_id, r->committed.event_id ? r->committed.hash : NULL);
	while (ok && (ok = pt_store_reader_next(reader, &ev, &done, err)) && !done && ev.id <= upto)
		ok = pt_chain_check(chain, &ev, err) && pt_trust_pass(r, &ev, err);
	pt_store_reader_close(reader);
	pt_chain_free(chain);
	return ok;
}

/* The pin the walk must reach: the first at or after the last version opening by stop_id (0: none). */
static int64_t
walk_target(const replay *r, int64_t stop_id)
{
	int64_t		need = 0,
				upto = 0;

	for (int i = r->next_opening; i < r->nopenings && r->openings[i].event_id <= stop_id; i++)
		need = r->openings[i].event_id;
	for (int i = r->next_pin; need > 0 && i < r->npins && r->pins[i].event_id <= stop_id; i++)
	{
		upto = r->pins[i].event_id;
		if (upto >= need)
			break;
	}
	return upto;
}

bool
pt_trust_walk(replay *r, int64_t stop_id, int64_t *end, pt_err *err)
{
	int			next_pin = r->next_pin;
	int64_t		upto = r->opts->create_tables ? walk_target(r, stop_id) : 0;
	bool		ok;

	*end = stop_id;
	if (upto == 0)
		return true;
	ok = walk(r, upto, err);
	if (!ok && err->kind == PT_ERR_INTEGRITY)
		*end = r->last_good_pin;	/* apply what the checkpoints proved, then report */
	r->next_pin = next_pin;
	r->last_good_pin = r->committed.event_id;
	return ok;
}

/*
 * Point queries read single rows through the indexes and walk no chain:
 * given a key or an anchor file, the whole log is walked first (chain and
 * pins, as replay does), and the query runs only on a log that passed.
 */
bool
pt_trust_prove_log(PGconn *conn, const char *schema, const char *public_key, const char *anchor, pt_log *log,
				   pt_err *err)
{
	pt_replay_opts o;
	replay		r;
	bool		ok;

	memset(&o, 0, sizeof(o));
	o.schema = schema;
	o.public_key = public_key;
	o.anchor = anchor;
	o.verify = true;
	memset(&r, 0, sizeof(r));
	r.opts = &o;
	r.events = conn;
	r.log = log;
	ok = pt_trust_load_pins(&r, err) && walk(&r, INT64_MAX, err);
	pt_trust_free(&r);
	return ok;
}
