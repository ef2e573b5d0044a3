/*
 * replay/plan.c — what is decided before anything is written (see run.h):
 * the stop point as an event id at a source transaction boundary, the
 * tables DDL events dropped by then, whether the target has every table
 * the log needs, and --clean.
 */
#include "replay/run.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "core/pq.h"

/* The last event id to apply: a transaction boundary. */
bool
pt_plan_find_stop(replay *r, int64_t *stop_id, pt_err *err)
{
	const pt_replay_opts *o = r->opts;
	char	   *q = pt_pq_ident(r->events, o->schema, err);
	pt_buf		sql = PT_BUF_INIT;
	char		arg[64];
	const char *params[1] = {arg};
	int			nparams = 1;
	PGresult   *res;
	bool		ok = true;

	if (q == NULL)
		return false;
	arg[0] = '\0';
	switch (o->until)
	{
		case PT_UNTIL_END:
			pt_buf_printf(&sql, "SELECT coalesce(max(id), 0), false FROM %s.events", q);
			nparams = 0;
			break;
		case PT_UNTIL_LSN:
			/* reached: the log already holds a transaction after the stop point */
			pt_lsn_format(o->until_lsn, arg);
			pt_buf_printf(&sql, "SELECT coalesce(x - 1, (SELECT coalesce(max(id), 0) FROM %1$s.events)), x IS NOT NULL "
						  "FROM (SELECT min(id) x FROM %1$s.events WHERE commit_lsn > $1::pg_lsn) s", q);
			break;
		case PT_UNTIL_TIME:
			snprintf(arg, sizeof(arg), "%s", o->until_time);
			pt_buf_printf(&sql, "SELECT coalesce(x - 1, (SELECT coalesce(max(id), 0) FROM %1$s.events)), x IS NOT NULL "
						  "FROM (SELECT min(id) x FROM %1$s.events WHERE committed_at > $1::timestamptz) s", q);
			break;
		case PT_UNTIL_EVENT:
			snprintf(arg, sizeof(arg), "%lld", (long long) o->until_event);
			pt_buf_printf(&sql, "SELECT coalesce((SELECT min(n.id) - 1 FROM %1$s.events n WHERE n.id > e.id AND "
						  "(n.commit_lsn <> e.commit_lsn OR n.xid IS DISTINCT FROM e.xid)), "
						  "(SELECT max(id) FROM %1$s.events)), true FROM %1$s.events e WHERE e.id = $1::bigint", q);
			break;
		case PT_UNTIL_XID:
			snprintf(arg, sizeof(arg), "%lld", (long long) o->until_xid);
			pt_buf_printf(&sql, "SELECT max(id), true FROM %1$s.events WHERE xid = $1::bigint HAVING count(*) > 0", q);
			break;
	}
	PQfreemem(q);
	res = pt_pq_exec_params(r->events, sql.data, nparams, params, PGRES_TUPLES_OK, PT_PQ_ANY, 2, err);
	pt_buf_free(&sql);
	if (res == NULL)
	{
		if (err->sqlstate[0] == '2' && err->sqlstate[1] == '2')
		{
			err->kind = PT_ERR_CONFIG;
			pt_err_hint(err, "--until-time takes a timestamptz such as '2026-11-24 10:00:00+00'");
		}
		return false;
	}
	if (PQntuples(res) == 0)
	{
		ok = pt_err_set(err, PT_ERR_CONFIG, o->until == PT_UNTIL_XID ? "transaction %s is not in the event log" :
						"event %s is not in the event log", arg);
		pt_err_hint(err, "pick a stop point the log holds (SELECT id, xid, commit_lsn, committed_at FROM %s.events)",
					o->schema);
	}
	else
	{
		*stop_id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
		r->stop_reached = strcmp(PQgetvalue(res, 0, 1), "t") == 0;
	}
	PQclear(res);
	return ok;
}

/* ---- checks before anything is written ---- */

/* The tables DDL events dropped up to the stop point (DROP TABLE, DROP SCHEMA ... CASCADE). */
bool
pt_plan_load_drops(replay *r, pt_err *err)
{
	char	   *q = pt_pq_ident(r->events, r->opts->schema, err);
	pt_buf		sql = PT_BUF_INIT;
	char		arg[24];
	const char *params[1] = {arg};
	PGresult   *res;

	if (q == NULL)
		return false;
	snprintf(arg, sizeof(arg), "%lld", (long long) r->stop_id);
	pt_buf_printf(&sql, "SELECT d->>'schema', d->>'table', e.id, coalesce(d->>'oid', '0') FROM %s.events e, "
				  "json_array_elements(CASE WHEN json_typeof(e.row->'dropped') = 'array' THEN e.row->'dropped' END) d "
				  "WHERE e.op = 'ddl' AND e.id <= $1::bigint ORDER BY e.id", q);
	PQfreemem(q);
	res = pt_pq_exec_params(r->events, sql.data, 1, params, PGRES_TUPLES_OK, PT_PQ_ANY, 4, err);
	pt_buf_free(&sql);
	if (res == NULL)
		return false;
	for (int i = 0; i < r->ndrops; i++)
	{
		free(r->drops[i].schema);
		free(r->drops[i].table);
	}
	r->ndrops = PQntuples(res);
	r->drops = pt_realloc(r->drops, sizeof(drop) * (size_t) (r->ndrops + 1));
	for (int i = 0; i < r->ndrops; i++)
		r->drops[i] = (drop) {pt_strdup(PQgetvalue(res, i, 0)), pt_strdup(PQgetvalue(res, i, 1)),
			strtoll(PQgetvalue(res, i, 2), NULL, 10), strtoll(PQgetvalue(res, i, 3), NULL, 10)};
	PQclear(res);
	return true;
}

/*
 * Was this incarnation of the table (its version rv) dropped by the stop
 * point? By oid when both sides recorded it (a table created again under
 * the name is another one), else by name after the version opened.
 */
bool
pt_plan_dropped(const replay *r, const pt_rtable *rt, const pt_rversion *rv)
{
	for (int i = 0; i < r->ndrops; i++)
	{
		const drop *d = &r->drops[i];

		if (d->event_id < rv->first_event_id)
			continue;
		if (rv->oid != 0 && d->oid != 0 ? d->oid == rv->oid :
			strcmp(d->schema, rt->schema) == 0 && strcmp(d->table, rt->table) == 0)
			return true;
	}
	return false;
}

bool
pt_plan_check_filter(replay *r, pt_err *err)
{
	pt_buf		some = PT_BUF_INIT;
	int			n = pt_versions_count(r->versions);

	if (r->opts->tables == NULL || r->opts->tables[0] == '\0' || n == 0)
		return true;
	for (int i = 0; i < n; i++)
		if (pt_events_wanted(r, pt_versions_at(r->versions, i)->schema, pt_versions_at(r->versions, i)->table))
			return true;
	for (int i = 0; i < n && i < 5; i++)
		pt_buf_printf(&some, "%s%s.%s", i ? ", " : "", pt_versions_at(r->versions, i)->schema,
					  pt_versions_at(r->versions, i)->table);
	pt_err_set(err, PT_ERR_CONFIG, "--tables '%s' matches no table of the event log", r->opts->tables);
	pt_err_hint(err, "the log has %d tables (%s%s); patterns are schema.table with * wildcards", n, some.data,
				n > 5 ? ", ..." : "");
	pt_buf_free(&some);
	return false;
}

/* Into an existing schema: every table the log needs must be there. */
bool
pt_plan_check_tables(replay *r, int64_t stop_id, pt_err *err)
{
	pt_buf		missing = PT_BUF_INIT;
	int			nmissing = 0,
				ntables = 0;
	bool		ok = true;

	for (int i = 0; ok && i < pt_versions_count(r->versions); i++)
	{
		const pt_rtable *rt = pt_versions_at(r->versions, i);
		const pt_rversion *rv = pt_versions_as_of(rt, stop_id);
		pt_ttable  *tt;

		if (rv == NULL || !pt_events_wanted(r, rt->schema, rt->table) || pt_plan_dropped(r, rt, rv) ||
			(!r->opts->create_tables && pt_versions_renamed_to(r->versions, rt, rv->version)))
			continue;
		ntables++;
		if ((tt = pt_events_table(r, rt->schema, rt->table, rv->version, err)) == NULL || !pt_events_loaded(r, tt, err))
			ok = false;
		else if (!tt->exists && !r->opts->create_tables)
		{
			pt_buf_printf(&missing, "%s%s", nmissing ? ", " : "", tt->qname);
			nmissing++;
		}
		if (r->opts->dry_run && ok)
			printf("  %s%s\n", tt->qname, tt->exists ? "" : r->opts->create_tables ? " (would be created)" : " (missing)");
	}
	if (ok && nmissing > 0)
	{
		ok = pt_err_set(err, PT_ERR_CONFIG, "%d of the %d tables the log needs %s missing in the target: %s",
						nmissing, ntables, nmissing == 1 ? "is" : "are", missing.data);
		pt_err_hint(err, "restore the schema first (pg_dump --schema-only SOURCE | psql TARGET), or replay with "
					"--create-tables");
	}
	pt_buf_free(&missing);
	return ok;
}

/* --clean: empty what replay would write (drop what it created), start over. */
bool
pt_plan_clean(replay *r, pt_err *err)
{
	PGresult   *res = pt_position_tables(r->target, r->opts->state_schema, r->store, err);

	if (res == NULL || !pt_pq_command(r->target, "BEGIN", err))
	{
		PQclear(res);
		return false;
	}
	for (int i = 0; i < PQntuples(res); i++)
	{
		pt_ttable  *tt = pt_events_table(r, PQgetvalue(res, i, 0), PQgetvalue(res, i, 1), INT_MAX, err);

		if (tt == NULL || !pt_events_loaded(r, tt, err) || (tt->exists && !pt_target_drop(r->target, tt, err)))
		{
			PQclear(res);
			return false;
		}
	}
	PQclear(res);
	for (pt_ttable *tt = r->tables; tt; tt = tt->next)
	{
		pt_buf		sql = PT_BUF_INIT;
		bool		ok;

		if (!pt_events_loaded(r, tt, err))
			return false;
		if (!tt->exists)
			continue;
		pt_buf_printf(&sql, "DELETE FROM ONLY %s", tt->qname);
		ok = pt_pq_command(r->target, sql.data, err);
		pt_buf_free(&sql);
		if (!ok)
			return false;
	}
	if (!pt_position_reset(r->target, r->opts->state_schema, r->store, err) ||
		!pt_pq_command(r->target, "COMMIT", err))
		return false;
	memset(&r->committed, 0, sizeof(r->committed));
	pt_replay_forget_throughs(r);
	pt_log_info(r->log, "--clean: replayed tables emptied, replaying from the first event");
	return true;
}
