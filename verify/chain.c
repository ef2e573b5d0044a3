/*
 * verify/chain.c — the chain walk and the story of its first break (see
 * chain.h).
 */
#include "verify/chain.h"

#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/chain.h"
#include "core/hex.h"
#include "core/pq.h"
#include "core/store.h"

/* The stored links of one event, read back to tell what happened. */
typedef struct link
{
	bool		found;
	uint8_t		prev_hash[PT_HASH_LEN];
	uint8_t		hash[PT_HASH_LEN];
} link;

/* The stored prev_hash and hash of the events with ids id and id + 1. */
static bool
read_links(PGconn *conn, const char *schema, int64_t id, link out[2], pt_err *err)
{
	char		idtext[24];
	const char *params[1] = {idtext};
	pt_buf		sql = PT_BUF_INIT;
	char	   *qschema = pt_pq_ident(conn, schema, err);
	PGresult   *res;

	memset(out, 0, 2 * sizeof(link));
	if (qschema == NULL)
		return false;
	snprintf(idtext, sizeof(idtext), "%lld", (long long) id);
	pt_buf_printf(&sql, "SELECT id - $1, prev_hash, hash FROM %s.events WHERE id IN ($1, $1 + 1)", qschema);
	PQfreemem(qschema);
	res = pt_pq_exec_params(conn, sql.data, 1, params, PGRES_TUPLES_OK, PT_PQ_ANY, 3, err);
	pt_buf_free(&sql);
	if (res == NULL)
		return false;
	for (int i = 0; i < PQntuples(res); i++)
	{
		link	   *l = &out[atoi(PQgetvalue(res, i, 0))];

		l->found = pt_hex_decode_bytea(PQgetvalue(res, i, 1), PT_HASH_LEN, l->prev_hash) &&
			pt_hex_decode_bytea(PQgetvalue(res, i, 2), PT_HASH_LEN, l->hash);
	}
	PQclear(res);
	return true;
}

/*
 * The first event that failed: ev (its id may skip past the expected one).
 * good is the last good event, good_prev its prev_hash. One finding.
 */
static bool
tell_break(PGconn *conn, const char *schema, const pt_event *ev, const pt_chain_pos *good,
		   const uint8_t *good_prev, const pt_err *check, pt_report *rep, pt_err *err)
{
	long long	e = good->id + 1;
	char		why[256];
	link		at[2];

	if (ev->id > e)
	{
		snprintf(why, sizeof(why), "the ids go from %lld to %lld: rows were deleted from the event table",
				 e - 1, (long long) ev->id);
		pt_report_finding(rep, PT_FIND_MISSING, e, why, "event %lld: missing (events %lld..%lld are gone)",
						  e, e, (long long) ev->id - 1);
		return true;
	}
	if (!read_links(conn, schema, e, at, err))
		return false;
	if (memcmp(ev->prev_hash, good->hash, PT_HASH_LEN) != 0 && at[1].found &&
		memcmp(ev->prev_hash, at[1].hash, PT_HASH_LEN) == 0 &&
		memcmp(at[1].prev_hash, good->hash, PT_HASH_LEN) == 0)
	{
		snprintf(why, sizeof(why), "the row with id %lld chains to the row with id %lld, which chains to event %lld",
				 e, e + 1, e - 1);
		pt_report_finding(rep, PT_FIND_REORDERED, e, why, "event %lld: reordered (events %lld and %lld swapped their ids)",
						  e, e, e + 1);
	}
	else if (at[1].found && memcmp(at[1].prev_hash, good->hash, PT_HASH_LEN) == 0)
	{
		snprintf(why, sizeof(why), "event %lld chains to event %lld, so nothing belongs between them", e + 1, e - 1);
		pt_report_finding(rep, PT_FIND_INSERTED, e, why, "event %lld: inserted (it is not part of the chain)", e);
	}
	else if (good->id > 0 && memcmp(ev->prev_hash, good_prev, PT_HASH_LEN) == 0)
	{
		snprintf(why, sizeof(why), "event %lld chains to event %lld, so event %lld does not belong between them",
				 e, e - 2, e - 1);
		pt_report_finding(rep, PT_FIND_INSERTED, e - 1, why, "event %lld: inserted (it is not part of the chain)", e - 1);
	}
	else if (memcmp(ev->prev_hash, good->hash, PT_HASH_LEN) == 0)
		pt_report_finding(rep, PT_FIND_CHANGED, e, "a column of this event was changed after it was written",
						  "event %lld: changed (its contents do not match its hash)", e);
	else
		pt_report_err(rep, PT_FIND_BROKEN, e, check);
	return true;
}

bool
pt_verify_chain(PGconn *conn, const char *schema, pt_chain_pos *pos, volatile sig_atomic_t *stop,
				pt_report *rep, pt_err *err)
{
	pt_report_figures *fig = pt_report_figures_of(rep);
	pt_store_reader *reader;
	pt_chain   *chain;
	pt_event	ev;
	uint8_t		good_prev[PT_HASH_LEN] = {0};
	pt_err		check;
	bool		done = false;
	bool		ok = true;

	/* stopping the COPY early cancels it: keep the snapshot's transaction usable */
	if (!pt_pq_command(conn, "SAVEPOINT pgtrail_chain", err))
		return false;
	if ((reader = pt_store_reader_open(conn, schema, pos->id, err)) == NULL)
		return false;
	chain = pt_chain_new(pos->id, pos->id > 0 ? pos->hash : NULL);
	while (ok && !*stop)
	{
		if (!pt_store_reader_next(reader, &ev, &done, err))
		{
			/* a row that is not an event (a hash of 31 bytes, an unknown op): a finding */
			ok = err->kind == PT_ERR_INTEGRITY;
			if (ok)
				pt_report_finding(rep, PT_FIND_CHANGED, pos->id + 1, err->message,
								  "event %lld: changed (the row is not a well-formed event)", (long long) pos->id + 1);
			pt_store_reader_close(reader);
			reader = NULL;
			ok = ok && pt_pq_command(conn, "ROLLBACK TO SAVEPOINT pgtrail_chain", err);
			break;
		}
		if (done)
			break;
		if (!pt_chain_check(chain, &ev, &check))
		{
			pt_event	bad = ev;	/* its spans die with the reader: tell_break uses ids and hashes only */

			pt_store_reader_close(reader);
			reader = NULL;
			ok = pt_pq_command(conn, "ROLLBACK TO SAVEPOINT pgtrail_chain", err) &&
				tell_break(conn, schema, &bad, pos, good_prev, &check, rep, err);
			break;
		}
		if (ev.nerased > 0 && ev.sealed == NULL)
			pt_report_finding(rep, PT_FIND_CHANGED, ev.id, "its erased list names values it still commits to",
							  "event %lld: changed (it says values were erased, but none were)", (long long) ev.id);
		if (fig->events_checked++ == 0)
			fig->first_id = ev.id;
		fig->last_id = ev.id;
		memcpy(good_prev, ev.prev_hash, PT_HASH_LEN);
		pos->id = ev.id;
		memcpy(pos->hash, ev.hash, PT_HASH_LEN);
	}
	if (ok && *stop)
		ok = pt_err_set(err, PT_ERR_RUNTIME, "stopped by a signal after event %lld", (long long) pos->id);
	pt_store_reader_close(reader);
	pt_chain_free(chain);
	return ok;
}
