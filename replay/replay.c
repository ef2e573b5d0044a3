/*
 * replay/replay.c — the replay loop (see replay.h).
 *
 * One run: find where the target stands (its position), where to stop
 * (a transaction boundary computed up front from --until-*), check that
 * every table the log needs is there (or will be created), then stream
 * events in id order. Events of one source transaction are contiguous in
 * the log; a target transaction holds whole source transactions and the
 * new position, so the target is always at a transaction boundary of the
 * source. Schema versions that open at an event (DDL, or a new column set
 * seen in the stream) are applied to the target at that event with
 * --create-tables. A chain failure rolls back the batch, replays again up
 * to the transaction before the bad event, and reports it.
 */
#include "replay/replay.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/filter.h"
#include "core/buf.h"
#include "core/chain.h"
#include "core/clock.h"
#include "core/hex.h"
#include "core/jsonobj.h"
#include "core/mem.h"
#include "core/pgtime.h"
#include "core/pq.h"
#include "core/store.h"
#include "replay/apply.h"
#include "replay/mapping.h"
#include "replay/position.h"
#include "replay/target.h"
#include "replay/versions.h"

#define SQLSTATE_INSUFFICIENT_PRIVILEGE "42501"
#define LOG_PROGRESS_US (10 * 1000000)
#define TTY_PROGRESS_US 500000

/* A schema version that opens at an event id. */
typedef struct opening
{
	int64_t		event_id;
	const pt_rtable *rt;
	const pt_rversion *rv;
} opening;

/* A table a DDL event dropped. */
typedef struct drop
{
	char	   *schema;
	char	   *table;
	int64_t		event_id;
	int64_t		oid;			/* 0: not recorded */
} drop;

typedef struct replay
{
	const pt_replay_opts *opts;
	pt_log	   *log;
	volatile sig_atomic_t *stop;
	PGconn	   *events;
	PGconn	   *target;
	char	   *store;			/* names the event store in the target's position table */
	pt_versions *versions;
	pt_mapping *mapping;
	pt_filter  *filter;
	pt_apply   *ap;
	char	   *save_sql;
	pt_ttable  *tables;
	opening    *openings;		/* by event id */
	drop	   *drops;			/* tables dropped up to the stop point */
	int			ndrops;
	int64_t		skipped;		/* events of tables dropped before the stop point */
	int			nopenings;
	int			next_opening;

	/* reused per event */
	pt_jsonobj	obj;
	pt_jsonobj	obj2;
	pt_values	set;
	pt_values	where;
	pt_text    *items;
	int			itemcap;
	pt_buf		sname;
	pt_buf		tname;

	/* position: committed in the target, and applied in the open batch */
	pt_position committed;
	int64_t		applied_id;
	uint8_t		applied_hash[PT_HASH_LEN];

	/* the source transaction being applied, the open batch */
	bool		in_txn;
	pt_lsn		txn_lsn;
	bool		txn_has_xid;
	int64_t		txn_xid;
	int64_t		txn_first;
	bool		batch_open;
	int64_t		batch_events;

	/* figures */
	int64_t		stop_id;
	bool		stop_reached;	/* the log already goes past the --until-* point */
	int64_t		first_id;
	int64_t		nevents;
	int64_t		ntxns;
	int64_t		started_us;
	int64_t		last_progress_us;
	pt_lsn		last_lsn;
	int64_t		last_time;
	bool		progress_shown;
} replay;

static bool dropped_by_stop(const replay *r, const pt_rtable *rt, const pt_rversion *rv);

/* ---- tables ---- */

static const char *
cstr(pt_buf *b, pt_text t)
{
	pt_buf_reset(b);
	pt_buf_append(b, t.ptr ? t.ptr : "", t.ptr ? t.len : 0);
	return b->data;
}

/* The target table that events of (schema, table, version) go to: into an
 * existing schema, a table the source renamed later goes by its last name. */
static pt_ttable *
table_for(replay *r, const char *schema, const char *table, int version, pt_err *err)
{
	const char *ts,
			   *tn;
	pt_ttable  *tt;
	const pt_rtable *rt,
			   *now;

	if (!r->opts->create_tables && r->versions &&
		(rt = pt_versions_table(r->versions, schema, strlen(schema), table, strlen(table))) != NULL &&
		(now = pt_versions_renamed_to(rt, version)) != NULL)
	{
		schema = now->schema;
		table = now->table;
		version = INT_MAX;
	}
	pt_mapping_table(r->mapping, schema, table, version, &ts, &tn);
	for (tt = r->tables; tt; tt = tt->next)
		if (strcmp(tt->schema, ts) == 0 && strcmp(tt->table, tn) == 0)
			return tt;
	if ((tt = pt_ttable_new(schema, table, ts, tn, r->target, err)) == NULL)
		return NULL;
	tt->next = r->tables;
	r->tables = tt;
	return tt;
}

/* The table's target catalog, read when not yet known (out of the pipeline). */
static bool
loaded(replay *r, pt_ttable *tt, pt_err *err)
{
	return tt->loaded || (pt_apply_flush(r->ap, err) && pt_target_load(r->target, tt, err));
}

static bool
save_version(replay *r, pt_ttable *tt, int version, pt_err *err)
{
	return pt_position_save_table(r->target, r->opts->state_schema, r->store, tt->schema, tt->table,
								  version, err);
}

/* Every table's catalog and statements are stale (a parent was altered). */
static void
forget_all(replay *r)
{
	for (pt_ttable *tt = r->tables; tt; tt = tt->next)
	{
		tt->loaded = false;
		pt_apply_forget(r->ap, tt);
	}
}

/*
 * A version of a table not in the target whose oid is the one of a table
 * replay made: the source renamed that table (or moved it to another
 * schema). Rename it in the target and bring it to rv.
 */
static bool
follow_rename(replay *r, pt_ttable *tt, const pt_rtable *rt, const pt_rversion *rv, bool emptied, pt_err *err)
{
	for (pt_ttable *old = r->tables; rv->oid && old; old = old->next)
	{
		const pt_rtable *ort;
		const pt_rversion *was;

		if (old == tt || old->version == 0 || !old->exists ||
			(ort = pt_versions_table(r->versions, old->src_schema, strlen(old->src_schema), old->src_table,
									 strlen(old->src_table))) == NULL ||
			(was = pt_versions_get(ort, old->version)) == NULL || was->oid != rv->oid)
			continue;
		pt_apply_forget(r->ap, old);
		if (!pt_target_rename(r->target, old, tt, err) || !save_version(r, old, 0, err))
			return false;
		pt_log_info(r->log, "renamed table %s to %s (as the source did)", old->qname, tt->qname);
		tt->version = rv->version;
		return pt_target_evolve(r->target, tt, rt, was, rv, emptied, r->log, err);
	}
	return true;
}

/* --create-tables: the target table at version rv (created or evolved). */
static bool
reach_version(replay *r, pt_ttable *tt, const pt_rtable *rt, const pt_rversion *rv, bool emptied, pt_err *err)
{
	const pt_rversion *from;

	if (!loaded(r, tt, err))
		return false;
	if (tt->exists && (tt->version == rv->version || tt->version == 0))
		return true;			/* there already (or not ours to change) */
	if (!pt_apply_flush(r->ap, err))
		return false;
	pt_apply_forget(r->ap, tt);
	if (!tt->exists && !follow_rename(r, tt, rt, rv, emptied, err))
		return false;
	if (tt->exists && tt->version == rv->version)
		return save_version(r, tt, rv->version, err);	/* renamed into place */
	if (!tt->exists)
	{
		if (!pt_target_create(r->target, tt, rv, r->log, err))
			return false;
	}
	else
	{
		from = pt_versions_get(rt, tt->version);
		if (from == NULL)
			return pt_err_set(err, PT_ERR_INTEGRITY, "table %s is at version %d, which the event store "
							  "does not have", tt->qname, tt->version);
		if (!pt_target_evolve(r->target, tt, rt, from, rv, emptied, r->log, err))
			return false;
		if (rv->parent)
			forget_all(r);		/* the parent changed: so did every partition of it */
	}
	return save_version(r, tt, rv->version, err);
}

static bool
wanted(const replay *r, const char *schema, const char *table)
{
	return pt_filter_match(r->filter, schema, strlen(schema), table, strlen(table));
}

/* Versions opening at this event: the target follows (--create-tables). */
static bool
open_versions(replay *r, int64_t event_id, bool emptied, pt_err *err)
{
	while (r->next_opening < r->nopenings && r->openings[r->next_opening].event_id <= event_id)
	{
		const opening *o = &r->openings[r->next_opening++];
		pt_ttable  *tt;

		if (o->event_id < event_id || !wanted(r, o->rt->schema, o->rt->table))
			continue;
		if ((tt = table_for(r, o->rt->schema, o->rt->table, o->rv->version, err)) == NULL ||
			!reach_version(r, tt, o->rt, o->rv, emptied, err))
			return false;
	}
	return true;
}

static int
cmp_opening(const void *a, const void *b)
{
	const opening *x = a,
			   *y = b;

	return x->event_id < y->event_id ? -1 : x->event_id > y->event_id;
}

/* (Re)load the versions, and the openings after the last applied event. */
static bool
load_versions(replay *r, pt_err *err)
{
	int			n = 0;

	pt_versions_free(r->versions);
	free(r->openings);
	r->openings = NULL;
	r->nopenings = r->next_opening = 0;
	if ((r->versions = pt_versions_load(r->events, r->opts->schema, err)) == NULL)
		return false;
	for (int i = 0; i < pt_versions_count(r->versions); i++)
		n += pt_versions_at(r->versions, i)->nversions;
	r->openings = pt_calloc((size_t) n + 1, sizeof(opening));
	for (int i = 0; i < pt_versions_count(r->versions); i++)
	{
		const pt_rtable *rt = pt_versions_at(r->versions, i);

		for (int k = 0; k < rt->nversions; k++)
			if (rt->versions[k].first_event_id > r->applied_id)
				r->openings[r->nopenings++] = (opening) {rt->versions[k].first_event_id, rt, &rt->versions[k]};
	}
	qsort(r->openings, (size_t) r->nopenings, sizeof(opening), cmp_opening);
	return true;
}

/* ---- values ---- */

static bool
numeric_type(const char *type)
{
	return strncmp(type, "numeric", 7) == 0 || strcmp(type, "double precision") == 0 ||
		strcmp(type, "real") == 0;
}

/*
 * The columns of a key/row/old object as target columns. Columns the
 * target has not got are left out (said once per table); renames are
 * followed (DDL history and mapping rules); generated columns are never
 * written (skip_generated), nor, by an UPDATE, GENERATED ALWAYS identity
 * columns (skip_identity).
 */
static bool
to_values(replay *r, pt_ttable *tt, const pt_rtable *rt, int version, pt_text json, bool skip_generated,
		  bool skip_identity, pt_jsonobj *obj, pt_values *out, pt_err *err)
{
	const pt_rversion *rv = rt ? pt_versions_get(rt, version) : NULL;
	const char *src_schema = rt ? rt->schema : tt->src_schema;	/* the events' table, for rules */
	const char *src_table = rt ? rt->table : tt->src_table;

	pt_values_reset(out);
	if (json.ptr == NULL)
		return true;
	if (!pt_jsonobj_parse(obj, json.ptr, json.len, err))
		return false;
	for (int k = 0; k < obj->n; k++)
	{
		const char *name = obj->names[k].ptr;
		size_t		len = obj->names[k].len;
		const char *renamed;
		bool		dropped;
		int			idx;

		if (rv && obj->values[k].ptr == NULL)
		{
			int			c = pt_rversion_column(rv, name, len);

			if (c >= 0 && rv->cols[c].not_null && numeric_type(rv->cols[c].type))
				tt->known_loss++;
		}
		pt_mapping_column(r->mapping, src_schema, src_table, version, name, len, &renamed, &dropped);
		if (dropped)
			continue;
		if (renamed)
		{
			name = renamed;
			len = strlen(renamed);
		}
		else if (!r->opts->create_tables && rt)
		{
			/* today's schema: the column's name in the newest version */
			const char *now;
			bool		by_attnum;

			const pt_rtable *moved = pt_versions_renamed_to(rt, version);
			int			moved_version;

			now = pt_versions_follow(rt, version, name, len, INT_MAX, &by_attnum);
			if (now && moved &&
				(now = pt_versions_follow_into(rt, rv->oid, now, moved, &moved_version, &by_attnum)) != NULL)
			{
				bool		step_by_attnum;

				now = pt_versions_follow(moved, moved_version, now, strlen(now), INT_MAX, &step_by_attnum);
				by_attnum &= step_by_attnum;
			}
			if (now == NULL)
			{
				if (!by_attnum && !tt->warned_missing)
					pt_log_warning(r->log, "table %s: column \"%.*s\" of version %d is gone from later versions "
								   "and its values are not written; if it was renamed, say so: [replay] map = "
								   "'column %s.%s.%.*s = NEWNAME @%d'", tt->qname, (int) len, name, version,
								   src_schema, src_table, (int) len, name, version);
				tt->warned_missing |= !by_attnum;
				continue;		/* dropped later in the source (DDL capture knows it) */
			}
			name = now;
			len = strlen(name);
		}
		idx = pt_target_column(tt, name, len);
		if (idx < 0)
		{
			if (!tt->warned_missing)
				pt_log_warning(r->log, "table %s has no column \"%.*s\" (in events of version %d): its values "
							   "are not written", tt->qname, (int) len, name, version);
			tt->warned_missing = true;
			continue;
		}
		if (skip_generated && tt->cols[idx].generated)
			continue;
		if (skip_identity && tt->cols[idx].identity_always)
			continue;			/* UPDATE cannot write it; it never changes */
		pt_values_add(out, idx, obj->values[k]);
	}
	return true;
}

/* Keep only the key columns when all are there: *by_key says which. */
static void
key_only(const pt_ttable *tt, pt_values *where, bool *by_key)
{
	pt_values	keep = *where;
	int			n = 0;

	*by_key = false;
	if (tt->npk == 0)
		return;
	for (int p = 0; p < tt->npk; p++)
	{
		bool		found = false;

		for (int i = 0; i < where->n && !found; i++)
			found = where->cols[i] == tt->pk[p];
		if (!found)
			return;
	}
	/* compact in place, in key order */
	for (int p = 0; p < tt->npk; p++)
		for (int i = 0; i < where->n; i++)
			if (keep.cols[i] == tt->pk[p])
			{
				pt_text		v = keep.vals[i];
				int			c = keep.cols[i];

				keep.vals[i] = keep.vals[n];
				keep.cols[i] = keep.cols[n];
				keep.vals[n] = v;
				keep.cols[n] = c;
				n++;
				break;
			}
	where->n = n;
	*by_key = true;
}

/* ---- events ---- */

static bool
empty_table(replay *r, pt_ttable *tt, int64_t event_id, pt_err *err)
{
	pt_buf		sql = PT_BUF_INIT;
	bool		ok;

	if (!loaded(r, tt, err))
		return false;
	if (!tt->exists)
		return true;
	pt_buf_printf(&sql, "DELETE FROM ONLY %s", tt->qname);
	ok = pt_apply_sql(r->ap, sql.data, 0, NULL, event_id, err);
	pt_buf_free(&sql);
	return ok;
}

static bool
apply_row(replay *r, const pt_event *ev, pt_err *err)
{
	const char *schema = cstr(&r->sname, ev->schema_name);
	const char *table = cstr(&r->tname, ev->table_name);
	int			version = ev->has_schema_version ? ev->schema_version : 0;
	const pt_rtable *rt;
	pt_ttable  *tt;
	bool		by_key;

	if (!wanted(r, schema, table))
		return true;
	rt = pt_versions_table(r->versions, schema, strlen(schema), table, strlen(table));
	if (!r->opts->create_tables && rt && pt_versions_get(rt, version) &&
		dropped_by_stop(r, rt, pt_versions_get(rt, version)))
	{
		r->skipped++;			/* today's schema has no such table, and needs none */
		return true;
	}
	if ((tt = table_for(r, schema, table, version, err)) == NULL || !loaded(r, tt, err))
		return false;
	if (r->opts->create_tables && rt && pt_versions_get(rt, version) &&
		!reach_version(r, tt, rt, pt_versions_get(rt, version), false, err))
		return false;
	if (!tt->exists)
	{
		pt_err_set(err, PT_ERR_CONFIG, "event %lld: table %s does not exist in the target", (long long) ev->id,
				   tt->qname);
		pt_err_hint(err, "restore the schema first (pg_dump --schema-only), or replay with --create-tables");
		return false;
	}
	switch (ev->op)
	{
		case PT_OP_INSERT:
		case PT_OP_SNAPSHOT:
			return to_values(r, tt, rt, version, ev->row, true, false, &r->obj, &r->set, err) &&
				pt_apply_insert(r->ap, tt, &r->set, ev->id, err);
		case PT_OP_UPDATE:
			if (!to_values(r, tt, rt, version, ev->row, true, true, &r->obj, &r->set, err) ||
				!to_values(r, tt, rt, version, ev->old.ptr ? ev->old : ev->key, false, false, &r->obj2, &r->where, err))
				return false;
			key_only(tt, &r->where, &by_key);
			if (r->set.n == 0)
				return true;	/* nothing the target holds changed */
			return pt_apply_change(r->ap, tt, &r->set, &r->where, by_key, ev->id, err);
		case PT_OP_DELETE:
			if (!to_values(r, tt, rt, version, ev->old.ptr ? ev->old : ev->key, false, false, &r->obj2, &r->where, err))
				return false;
			key_only(tt, &r->where, &by_key);
			return pt_apply_change(r->ap, tt, NULL, &r->where, by_key, ev->id, err);
		case PT_OP_TRUNCATE:
			return empty_table(r, tt, ev->id, err);
		default:
			return true;
	}
}

/* The member of the last parsed object, as text (NULL when absent or null). */
static const pt_text *
member(const pt_jsonobj *o, const char *name)
{
	int			k = pt_jsonobj_find(o, name, strlen(name));

	return k >= 0 && o->values[k].ptr ? &o->values[k] : NULL;
}

/* A table a DDL command dropped: gone from the target too (--create-tables). */
static bool
drop_table(replay *r, pt_ttable *tt, int64_t event_id, pt_err *err)
{
	if (!loaded(r, tt, err))
		return false;
	if (!tt->exists || tt->version == 0)
		return true;			/* not one replay made */
	if (!pt_apply_flush(r->ap, err) || !pt_target_drop(r->target, tt, err) || !save_version(r, tt, 0, err))
		return false;
	pt_apply_forget(r->ap, tt);
	pt_log_info(r->log, "dropped table %s (as the source did at event %lld)", tt->qname, (long long) event_id);
	return true;
}

/* Run action on each replayed table of a DDL event's list ([{"schema","table"}...]). */
static bool
each_listed_table(replay *r, const pt_text *list, int64_t event_id,
				  bool (*action) (replay *r, pt_ttable *tt, int64_t event_id, pt_err *err), pt_err *err)
{
	pt_text		copy = {pt_strndup(list->ptr, list->len), list->len};	/* r->obj is parsed again below */
	int			n;
	bool		ok = pt_json_array_items(copy.ptr, copy.len, &r->items, &r->itemcap, &n, err);

	for (int i = 0; ok && i < n; i++)
	{
		const pt_text *s,
				   *t;
		pt_ttable  *tt;

		if (!(ok = pt_jsonobj_parse(&r->obj2, r->items[i].ptr, r->items[i].len, err)))
			break;
		if ((s = member(&r->obj2, "schema")) == NULL || (t = member(&r->obj2, "table")) == NULL)
			continue;
		cstr(&r->sname, *s);
		cstr(&r->tname, *t);
		if (!wanted(r, r->sname.data, r->tname.data))
			continue;
		ok = (tt = table_for(r, r->sname.data, r->tname.data, INT_MAX, err)) != NULL && action(r, tt, event_id, err);
	}
	free((char *) copy.ptr);
	return ok;
}

/*
 * A DDL event. A rewrite replaces the rewritten tables' content with the
 * snapshot events that follow it: they are emptied first (and with
 * --create-tables, evolved with no row to convert).
 */
static bool
apply_ddl(replay *r, const pt_event *ev, pt_err *err)
{
	const pt_text *rewrite,
			   *dropped,
			   *list;
	bool		rewritten;

	if (ev->row.ptr == NULL || !pt_jsonobj_parse(&r->obj, ev->row.ptr, ev->row.len, err))
		return ev->row.ptr == NULL ? open_versions(r, ev->id, false, err) : false;
	rewrite = member(&r->obj, "rewrite");
	rewritten = rewrite && rewrite->len == 4 && memcmp(rewrite->ptr, "true", 4) == 0;
	dropped = member(&r->obj, "dropped");
	list = rewritten ? member(&r->obj, "rewritten") : NULL;
	if (dropped && r->opts->create_tables && !each_listed_table(r, dropped, ev->id, drop_table, err))
		return false;
	if (list && !each_listed_table(r, list, ev->id, empty_table, err))
		return false;
	if (rewritten && !list && ev->table_name.ptr)
	{
		/* a store written before "rewritten" was recorded: the command's table */
		pt_ttable  *tt = table_for(r, cstr(&r->sname, ev->schema_name), cstr(&r->tname, ev->table_name),
								   ev->has_schema_version ? ev->schema_version : INT_MAX, err);

		if (tt == NULL || (wanted(r, r->sname.data, r->tname.data) && !empty_table(r, tt, ev->id, err)))
			return false;
	}
	return !r->opts->create_tables || open_versions(r, ev->id, rewritten, err);
}

/* A gap: capture lost history and re-copied every table after it. */
static bool
apply_gap(replay *r, const pt_event *ev, pt_err *err)
{
	pt_log_warning(r->log, "event %lld: a gap in capture's history (%.*s); the tables are replaced by the "
				   "snapshot that follows it", (long long) ev->id, (int) (ev->metadata.ptr ? ev->metadata.len : 0),
				   ev->metadata.ptr ? ev->metadata.ptr : "");
	for (int i = 0; i < pt_versions_count(r->versions); i++)
	{
		const pt_rtable *rt = pt_versions_at(r->versions, i);
		pt_ttable  *tt;

		if (!wanted(r, rt->schema, rt->table))
			continue;
		if ((tt = table_for(r, rt->schema, rt->table, INT_MAX, err)) == NULL || !empty_table(r, tt, ev->id, err))
			return false;
	}
	return true;
}

/* A version the loaded ones do not have (the store moved on): load them again. */
static bool
known_version(replay *r, const pt_event *ev, pt_err *err)
{
	const pt_rtable *rt;

	if (!ev->has_schema_version || ev->table_name.ptr == NULL)
		return true;
	cstr(&r->sname, ev->schema_name);
	cstr(&r->tname, ev->table_name);
	rt = pt_versions_table(r->versions, r->sname.data, r->sname.len, r->tname.data, r->tname.len);
	if (rt && pt_versions_get(rt, ev->schema_version))
		return true;
	if (!load_versions(r, err))
		return false;
	rt = pt_versions_table(r->versions, r->sname.data, r->sname.len, r->tname.data, r->tname.len);
	if (rt && pt_versions_get(rt, ev->schema_version))
		return true;
	return pt_err_set(err, PT_ERR_INTEGRITY, "event %lld: version %d of table \"%s\".\"%s\" is not in the event "
					  "store's schemas table", (long long) ev->id, ev->schema_version, r->sname.data, r->tname.data);
}

static bool
apply_event(replay *r, const pt_event *ev, pt_err *err)
{
	if (!known_version(r, ev, err))
		return false;
	switch (ev->op)
	{
		case PT_OP_DDL:
			return apply_ddl(r, ev, err);
		case PT_OP_GAP:
			return apply_gap(r, ev, err) && (!r->opts->create_tables || open_versions(r, ev->id, false, err));
		case PT_OP_MESSAGE:
			return !r->opts->create_tables || open_versions(r, ev->id, false, err);
		default:
			return (!r->opts->create_tables || open_versions(r, ev->id, false, err)) && apply_row(r, ev, err);
	}
}

static bool load_table_versions(replay *r, pt_err *err);

/* ---- batches ---- */

static bool
batch_begin(replay *r, pt_err *err)
{
	if (r->batch_open)
		return true;
	if (!pt_apply_sql(r->ap, "BEGIN", 0, NULL, 0, err))
		return false;
	r->batch_open = true;
	r->batch_events = 0;
	return true;
}

static bool
batch_commit(replay *r, pt_err *err)
{
	char		id[24];
	char		hash[2 + 2 * PT_HASH_LEN + 1] = "\\x";
	const char *params[3] = {r->store, id, hash};

	if (!r->batch_open)
		return true;
	snprintf(id, sizeof(id), "%lld", (long long) r->applied_id);
	pt_hex_encode(r->applied_hash, PT_HASH_LEN, hash + 2);
	hash[sizeof(hash) - 1] = '\0';
	/* every statement's result (and row count) is checked before COMMIT is sent */
	if (!pt_apply_flush(r->ap, err) || !pt_apply_sql(r->ap, r->save_sql, 3, params, 0, err) ||
		!pt_apply_sql(r->ap, "COMMIT", 0, NULL, 0, err) || !pt_apply_flush(r->ap, err))
		return false;
	r->batch_open = false;
	r->committed.event_id = r->applied_id;
	memcpy(r->committed.hash, r->applied_hash, PT_HASH_LEN);
	return true;
}

static void
batch_abort(replay *r)
{
	pt_err		ignored;
	PGresult   *res;

	pt_apply_flush(r->ap, &ignored);
	res = PQexec(r->target, "ROLLBACK");
	PQclear(res);
	r->batch_open = false;
	r->applied_id = r->committed.event_id;
	memcpy(r->applied_hash, r->committed.hash, PT_HASH_LEN);
	/* the target's tables may have changed shape (or name) in the rolled-back
	 * batch: what replay knows of them comes back from the target */
	for (pt_ttable *tt = r->tables; tt; tt = tt->next)
	{
		tt->loaded = false;
		tt->version = 0;
		pt_apply_forget(r->ap, tt);
	}
	if (!load_table_versions(r, &ignored))
		pt_log_warning(r->log, "could not read table versions back after a rollback: %s", ignored.message);
}

/* ---- progress ---- */

static void
progress(replay *r, bool final)
{
	int64_t		now = pt_now_us();
	double		secs = (double) (now - r->started_us) / 1e6;
	double		rate = secs > 0 ? (double) r->nevents / secs : 0;
	int64_t		total = r->stop_id - r->first_id;
	char		at[PT_TIME_BUFLEN];
	char		lsn[PT_LSN_BUFLEN];

	if (!final && now - r->last_progress_us < (r->opts->progress_tty ? TTY_PROGRESS_US : LOG_PROGRESS_US))
		return;
	r->last_progress_us = now;
	pt_time_format(r->last_time, at);
	pt_lsn_format(r->last_lsn, lsn);
	if (r->opts->progress_tty && !final)
	{
		fprintf(stderr, "\rpgtrail-replay: %lld of %lld events (%.0f%%), %.0f events/s, at %s %s, %.0f s left   ",
				(long long) r->nevents, (long long) total, total ? 100.0 * (double) r->nevents / (double) total : 100.0,
				rate, lsn, at, rate > 0 ? (double) (total - r->nevents) / rate : 0.0);
		r->progress_shown = true;
		return;
	}
	if (r->progress_shown)
		fputc('\n', stderr);
	r->progress_shown = false;
	if (!final)
		pt_log_info(r->log, "%lld of %lld events, %.0f events/s, at %s (%s)", (long long) r->nevents,
					(long long) total, rate, lsn, at);
}

/* ---- the stream ---- */

static bool
same_txn(const replay *r, const pt_event *ev)
{
	return r->in_txn && ev->commit_lsn == r->txn_lsn && ev->has_xid == r->txn_has_xid &&
		(!ev->has_xid || ev->xid == r->txn_xid);
}

/* A source transaction ended: commit the batch when it is big enough. */
static bool
txn_end(replay *r, pt_err *err)
{
	if (!r->in_txn)
		return true;
	r->in_txn = false;
	r->ntxns++;
	if (r->batch_events >= r->opts->batch_size)
		return batch_commit(r, err);
	return true;
}

static bool
apply_one(replay *r, pt_chain *chain, const pt_event *ev, bool *broken, pt_err *err)
{
	if (!same_txn(r, ev))
	{
		if (!txn_end(r, err))
			return false;
		r->in_txn = true;
		r->txn_lsn = ev->commit_lsn;
		r->txn_has_xid = ev->has_xid;
		r->txn_xid = ev->xid;
		r->txn_first = ev->id;
	}
	if (chain && !pt_chain_check(chain, ev, err))
	{
		*broken = true;
		return false;
	}
	if (!batch_begin(r, err) || !apply_event(r, ev, err))
		return false;
	r->applied_id = ev->id;
	memcpy(r->applied_hash, ev->hash, PT_HASH_LEN);
	r->batch_events++;
	r->nevents++;
	r->last_lsn = ev->commit_lsn;
	r->last_time = ev->committed_at;
	if ((r->nevents & 1023) == 0)
		progress(r, false);
	return true;
}

/* Apply events (committed position, stop_id]; *broken_at is the first
 * event of the transaction that failed the chain check (0 when none). */
static bool
replay_range(replay *r, int64_t stop_id, int64_t *broken_txn, pt_err *err)
{
	pt_store_reader *reader;
	pt_chain   *chain = NULL;
	pt_event	ev;
	bool		done = false,
				broken = false,
				read_error = false,
				ok = true;

	memset(&ev, 0, sizeof(ev));
	*broken_txn = 0;
	if ((reader = pt_store_reader_open(r->events, r->opts->schema, r->committed.event_id, err)) == NULL)
		return false;
	if (r->opts->verify)
		chain = pt_chain_new(r->committed.event_id, r->committed.event_id ? r->committed.hash : NULL);
	r->in_txn = false;
	while (ok)
	{
		if (!pt_store_reader_next(reader, &ev, &done, err))
		{
			ok = false;
			broken = read_error = err->kind == PT_ERR_INTEGRITY;
			break;
		}
		if (done || ev.id > stop_id)
			break;
		if (*r->stop && !same_txn(r, &ev))
			break;				/* told to stop: at a transaction boundary */
		ok = apply_one(r, chain, &ev, &broken, err);
	}
	if (broken && read_error)
		*broken_txn = r->in_txn ? r->txn_first : r->applied_id + 1;
	else if (broken)
		*broken_txn = same_txn(r, &ev) ? r->txn_first : ev.id;
	pt_store_reader_close(reader);
	pt_chain_free(chain);
	if (ok)
		ok = txn_end(r, err) && batch_commit(r, err);
	if (!ok)
		batch_abort(r);
	return ok;
}

/* ---- setup ---- */

static bool
connect_all(replay *r, pt_err *err)
{
	PGresult   *res;
	const char *params[1] = {r->opts->schema};

	if ((r->events = pt_pq_connect(r->opts->events_dsn, "pgtrail-replay", err)) == NULL)
	{
		pt_err_prefix(err, "event store");
		return false;
	}
	res = pt_pq_exec_params(r->events, "SELECT current_database() || '/' || $1, "
							"to_regclass(quote_ident($1) || '.events') IS NOT NULL", 1, params,
							PGRES_TUPLES_OK, 1, 2, err);
	if (res == NULL)
		return false;
	r->store = pt_strdup(PQgetvalue(res, 0, 0));
	if (strcmp(PQgetvalue(res, 0, 1), "t") != 0)
	{
		PQclear(res);
		pt_err_set(err, PT_ERR_CONFIG, "no event store in schema \"%s\" of the events database", r->opts->schema);
		pt_err_hint(err, "point --events at the database pgtrail-capture writes to, and --schema at its schema");
		return false;
	}
	PQclear(res);
	if (r->opts->dry_run && (r->opts->target_dsn == NULL || r->opts->target_dsn[0] == '\0'))
		return true;
	if ((r->target = pt_pq_connect(r->opts->target_dsn, "pgtrail-replay", err)) == NULL)
	{
		pt_err_prefix(err, "target");
		return false;
	}
	if (!pt_pq_command(r->target, "SET session_replication_role = replica", err))
	{
		if (strcmp(err->sqlstate, SQLSTATE_INSUFFICIENT_PRIVILEGE) == 0)
		{
			err->kind = PT_ERR_CONFIG;
			pt_err_hint(err, "replay keeps the target's triggers (and foreign-key checks) from firing with "
						"session_replication_role = replica: run it as a superuser, or GRANT SET ON PARAMETER "
						"session_replication_role TO the replay role (PostgreSQL 15+)");
		}
		pt_err_prefix(err, "target");
		return false;
	}
	return true;
}

/* The last event id to apply: a transaction boundary. */
static bool
find_stop(replay *r, int64_t *stop_id, pt_err *err)
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
static bool
load_drops(replay *r, pt_err *err)
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
static bool
dropped_by_stop(const replay *r, const pt_rtable *rt, const pt_rversion *rv)
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

/* Into an existing schema: every table the log needs must be there. */
static bool
check_tables(replay *r, int64_t stop_id, pt_err *err)
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

		if (rv == NULL || !wanted(r, rt->schema, rt->table) || dropped_by_stop(r, rt, rv) ||
			(!r->opts->create_tables && pt_versions_renamed_to(rt, rv->version)))
			continue;
		ntables++;
		if ((tt = table_for(r, rt->schema, rt->table, rv->version, err)) == NULL || !loaded(r, tt, err))
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
static bool
clean(replay *r, pt_err *err)
{
	PGresult   *res = pt_position_tables(r->target, r->opts->state_schema, r->store, err);

	if (res == NULL || !pt_pq_command(r->target, "BEGIN", err))
	{
		PQclear(res);
		return false;
	}
	for (int i = 0; i < PQntuples(res); i++)
	{
		pt_ttable  *tt = table_for(r, PQgetvalue(res, i, 0), PQgetvalue(res, i, 1), INT_MAX, err);

		if (tt == NULL || !loaded(r, tt, err) || (tt->exists && !pt_target_drop(r->target, tt, err)))
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

		if (!loaded(r, tt, err))
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
	pt_log_info(r->log, "--clean: replayed tables emptied, replaying from the first event");
	return true;
}

/* The schema version each table replay made is at, from the target. */
static bool
load_table_versions(replay *r, pt_err *err)
{
	PGresult   *res = pt_position_tables(r->target, r->opts->state_schema, r->store, err);

	if (res == NULL)
		return false;
	for (int i = 0; i < PQntuples(res); i++)
	{
		pt_ttable  *tt = table_for(r, PQgetvalue(res, i, 0), PQgetvalue(res, i, 1), INT_MAX, err);

		if (tt == NULL)
		{
			PQclear(res);
			return false;
		}
		tt->version = atoi(PQgetvalue(res, i, 2));
	}
	PQclear(res);
	return true;
}

static bool
load_position(replay *r, pt_err *err)
{

	if (r->opts->dry_run)
	{
		/* change nothing: a target replay never ran on has no state yet */
		if (!pt_position_load(r->target, r->opts->state_schema, r->store, &r->committed, err))
			return strcmp(err->sqlstate, "3F000") == 0 || strcmp(err->sqlstate, PT_SQLSTATE_UNDEFINED_TABLE) == 0;
	}
	else if (!pt_position_install(r->target, r->opts->state_schema, err) ||
			 !pt_position_load(r->target, r->opts->state_schema, r->store, &r->committed, err))
		return false;
	if (!load_table_versions(r, err))
		return false;
	r->applied_id = r->committed.event_id;
	memcpy(r->applied_hash, r->committed.hash, PT_HASH_LEN);
	return true;
}

static void
summary(replay *r, bool ok)
{
	double		secs = (double) (pt_now_us() - r->started_us) / 1e6;
	char		at[PT_TIME_BUFLEN] = "-";
	char		lsn[PT_LSN_BUFLEN] = "-";

	if (r->nevents > 0)
	{
		pt_time_format(r->last_time, at);
		pt_lsn_format(r->last_lsn, lsn);
	}
	progress(r, true);
	if (!ok)
	{
		pt_log_info(r->log, "stopped: the target is at event %lld", (long long) r->committed.event_id);
		return;
	}
	pt_log_info(r->log, "replayed %lld events (%lld transactions) in %.1f s, %.0f events/s; the target is at event "
				"%lld (commit %s, %s)", (long long) r->nevents, (long long) r->ntxns, secs,
				secs > 0 ? (double) r->nevents / secs : 0.0, (long long) r->committed.event_id, lsn, at);
	if (r->skipped > 0)
		pt_log_info(r->log, "%lld events of tables dropped before the stop point were not applied (the target "
					"needs no such tables)", (long long) r->skipped);
	for (pt_ttable *tt = r->tables; tt; tt = tt->next)
		if (tt->known_loss > 0)
			pt_log_warning(r->log, "table %s: %lld values of NOT NULL numeric or float columns arrived as null: "
						   "NaN or Infinity at the source, which wal2json 2.5 sends as null (a known loss)",
						   tt->qname, (long long) tt->known_loss);
}

static void
cleanup(replay *r)
{
	if (r->ap)
		pt_apply_closing(r->ap);
	while (r->tables)
	{
		pt_ttable  *next = r->tables->next;

		if (r->ap)
			pt_apply_forget(r->ap, r->tables);
		pt_ttable_free(r->tables);
		r->tables = next;
	}
	pt_apply_free(r->ap);
	pt_versions_free(r->versions);
	free(r->openings);
	for (int i = 0; i < r->ndrops; i++)
	{
		free(r->drops[i].schema);
		free(r->drops[i].table);
	}
	free(r->drops);
	pt_mapping_free(r->mapping);
	pt_filter_free(r->filter);
	pt_jsonobj_free(&r->obj);
	pt_jsonobj_free(&r->obj2);
	pt_values_free(&r->set);
	pt_values_free(&r->where);
	free(r->items);
	pt_buf_free(&r->sname);
	pt_buf_free(&r->tname);
	free(r->save_sql);
	free(r->store);
	pt_pq_close(r->events);
	pt_pq_close(r->target);
}

/* One round: replay up to the stop point; a broken chain still leaves the
 * target at the last good transaction before it is reported. */
static bool
round_trip(replay *r, pt_err *err)
{
	int64_t		broken_txn;
	pt_err		first;

	if (r->stop_id < r->committed.event_id && !r->opts->follow)
		pt_log_warning(r->log, "the target is already at event %lld, past the stop point (event %lld): nothing "
					   "to do; replay into a fresh target, or with --clean, to go back", (long long) r->committed.event_id,
					   (long long) r->stop_id);
	if (r->stop_id <= r->committed.event_id)
		return true;
	if (replay_range(r, r->stop_id, &broken_txn, err))
		return true;
	if (broken_txn == 0 || broken_txn - 1 <= r->committed.event_id)
		return false;
	first = *err;
	if (!replay_range(r, broken_txn - 1, &broken_txn, err))
		return false;
	*err = first;
	pt_err_detail(err, "the target holds everything before that transaction (up to event %lld)",
				  (long long) r->committed.event_id);
	return false;
}

static void
wait_poll(replay *r)
{
	for (int waited = 0; waited < r->opts->poll_interval_ms && !*r->stop; waited += 50)
		usleep(50 * 1000);
}

static bool
prepare(replay *r, pt_err *err)
{
	if (r->opts->create_tables && r->opts->map && r->opts->map[0])
	{
		pt_err_set(err, PT_ERR_CONFIG, "mapping rules and --create-tables do not go together");
		pt_err_hint(err, "--create-tables makes the tables as the log recorded them; mapping rules are for "
					"replaying into a schema you restored (pg_dump --schema-only), whose names differ");
		return false;
	}
	if ((r->filter = pt_filter_new(r->opts->tables, "", r->opts->schema, err)) == NULL ||
		(r->mapping = pt_mapping_parse(r->opts->map, err)) == NULL || !connect_all(r, err))
		return false;
	if (r->target == NULL)
		return true;			/* --dry-run without a target */
	r->ap = pt_apply_new(r->target);
	if ((r->save_sql = pt_position_save_sql(r->target, r->opts->state_schema, err)) == NULL ||
		!load_position(r, err))
		return false;
	return true;
}

bool
pt_replay_run(const pt_replay_opts *opts, pt_log *log, volatile sig_atomic_t *stop, pt_err *err)
{
	replay		r;
	bool		ok;

	memset(&r, 0, sizeof(r));
	r.opts = opts;
	r.log = log;
	r.stop = stop;
	pt_jsonobj_init(&r.obj);
	pt_jsonobj_init(&r.obj2);
	r.started_us = r.last_progress_us = pt_now_us();
	if (opts->progress_tty)
		r.last_progress_us = 0;	/* on a terminal, show the line from the first thousand events */
	/* the stop point first: every version an event up to it follows is then in the store */
	ok = prepare(&r, err) && find_stop(&r, &r.stop_id, err) && load_versions(&r, err) && load_drops(&r, err);
	r.first_id = r.committed.event_id;
	if (ok && opts->dry_run)
	{
		printf("pgtrail-replay: would apply events %lld to %lld (%lld events) into the target; tables:\n",
			   (long long) r.committed.event_id + 1, (long long) r.stop_id,
			   (long long) (r.stop_id > r.committed.event_id ? r.stop_id - r.committed.event_id : 0));
		ok = r.target == NULL || check_tables(&r, r.stop_id, err);
		cleanup(&r);
		return ok;
	}
	ok = ok && check_tables(&r, r.stop_id, err);
	if (ok && opts->clean)
		ok = clean(&r, err) && load_versions(&r, err);
	r.first_id = r.committed.event_id;
	while (ok)
	{
		ok = round_trip(&r, err);
		if (!ok || !opts->follow || *stop ||
			(opts->until != PT_UNTIL_END && r.stop_reached && r.committed.event_id >= r.stop_id))
			break;
		wait_poll(&r);
		ok = !*stop ? find_stop(&r, &r.stop_id, err) && load_versions(&r, err) && load_drops(&r, err) : true;
		if (*stop)
			break;
	}
	summary(&r, ok);
	cleanup(&r);
	return ok;
}
