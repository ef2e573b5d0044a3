/*
 * replay/events.c — applying one event to the target (see run.h).
 *
 * A row event becomes an INSERT, UPDATE or DELETE through apply.c, its
 * JSON columns mapped to the target's columns (mapping rules, renames
 * followed by attnum and oid, generated columns never written). Schema
 * versions that open at an event are applied to the target there with
 * --create-tables (created, evolved, renamed, dropped). A DDL event with a
 * rewrite empties the rewritten tables, a gap every table: the snapshot
 * events that follow refill them. Row changes of tables a key finds rows
 * of go into the window (window.h), collapsed per key; the window is
 * applied before anything it cannot collapse (DDL, TRUNCATE, gaps, schema
 * versions opening, a change it refuses), so those keep their order.
 */
#include "replay/run.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "core/pq.h"

/* ---- tables ---- */

const char *
pt_events_cstr(pt_buf *b, pt_text t)
{
	pt_buf_reset(b);
	pt_buf_append(b, t.ptr ? t.ptr : "", t.ptr ? t.len : 0);
	return b->data;
}

/* The target table that events of (schema, table, version) go to: into an
 * existing schema, a table the source renamed later goes by its last name. */
pt_ttable *
pt_events_table(replay *r, const char *schema, const char *table, int version, pt_err *err)
{
	const char *ts,
			   *tn;
	pt_ttable  *tt;
	const pt_rtable *rt,
			   *now;

	if (!r->opts->create_tables && r->versions &&
		(rt = pt_versions_table(r->versions, schema, strlen(schema), table, strlen(table))) != NULL &&
		(now = pt_versions_renamed_to(r->versions, rt, version)) != NULL)
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
	tt->applied_through = pt_replay_through(r, ts, tn);
	tt->next = r->tables;
	r->tables = tt;
	return tt;
}

/* The table's target catalog, read when not yet known (out of the pipeline). */
bool
pt_events_loaded(replay *r, pt_ttable *tt, pt_err *err)
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

	if (!pt_events_loaded(r, tt, err))
		return false;
	if (tt->exists && (tt->version == rv->version || tt->version == 0))
		return true;			/* there already (or not ours to change) */
	if (!pt_replay_flush_window(r, err) || !pt_apply_flush(r->ap, err))
		return false;
	r->batch_direct = true;		/* the table changes in the batch: no lane may see it before its commit */
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
		if (rv->parent || from->parent)
			forget_all(r);		/* the parent changed, or the tree: so did every partition of it */
	}
	return save_version(r, tt, rv->version, err);
}

bool
pt_events_wanted(const replay *r, const char *schema, const char *table)
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

		if (o->event_id < event_id || !pt_events_wanted(r, o->rt->schema, o->rt->table))
			continue;
		if (!pt_trust_opening(r, o->rt, o->rv, err) ||
			(tt = pt_events_table(r, o->rt->schema, o->rt->table, o->rv->version, err)) == NULL ||
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

	if (x->event_id != y->event_id)
		return x->event_id < y->event_id ? -1 : 1;
	/* one ddl event opens a tree's versions: in the order of their schema events, parents first */
	return x->rv->schema_event_id < y->rv->schema_event_id ? -1 : x->rv->schema_event_id > y->rv->schema_event_id;
}

/* (Re)load the versions, and the openings after the last applied event. */
bool
pt_events_load_versions(replay *r, pt_err *err)
{
	int			n = 0;

	pt_versions_free(r->versions);
	free(r->openings);
	r->openings = NULL;
	r->nopenings = r->next_opening = 0;
	if (!pt_trust_versions(r, err) || (r->versions = pt_versions_load(r->events, r->opts->schema, err)) == NULL)
		return false;
	/* into an existing schema, names are the ones in force at the stop point */
	pt_versions_bound(r->versions, r->opts->until == PT_UNTIL_END ? INT64_MAX : r->stop_id);
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

		if (rv && obj->values[k].ptr == NULL && r->count_nulls && skip_generated)
		{
			int			c = pt_rversion_column(rv, name, len);

			if (c >= 0 && numeric_type(rv->cols[c].type) && rv->cols[c].not_null)
				tt->fig.known_loss++;
			else if (c >= 0 && numeric_type(rv->cols[c].type))
				tt->fig.possible_loss++;
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
			/* the schema as of the stop point: the column's name in the version then */
			const char *now;
			bool		by_attnum;

			const pt_rtable *moved = pt_versions_renamed_to(r->versions, rt, version);
			int			moved_version;

			now = pt_versions_follow(rt, version, name, len, pt_versions_last(r->versions, rt), &by_attnum);
			if (now && moved &&
				(now = pt_versions_follow_into(r->versions, rt, rv->oid, now, moved, &moved_version,
											   &by_attnum)) != NULL)
			{
				bool		step_by_attnum;

				now = pt_versions_follow(moved, moved_version, now, strlen(now), pt_versions_last(r->versions, moved),
										 &step_by_attnum);
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
		idx = pt_target_column(tt, name, len, k);
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

/*
 * *by_key when where holds the target's key columns and nothing else: they
 * are then put in key order, and the key finds the one row. Not so for a
 * deferrable key, which two rows may share for a while (a swap inside one
 * transaction), when the log holds more than the key (the whole old row,
 * REPLICA IDENTITY FULL) or the target holds nothing but the key (the rows
 * sharing it are then equal): apply then changes one row equal to where,
 * never both. A deferrable key logged alone, with more columns in the
 * target, stays by key: if two rows hold it, apply stops rather than guess.
 */
static void
key_only(const pt_ttable *tt, int logged, pt_values *where, bool *by_key)
{
	pt_values	keep = *where;
	int			n = 0;

	*by_key = false;
	if (tt->npk == 0 || where->n != tt->npk ||
		(tt->key_deferrable && (logged > tt->npk || tt->ncols == tt->npk)))
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

/*
 * Emptying a partition empties it in the target, but the rows the source
 * held in it then may lie in another partition of the target, when its
 * bounds are not the ones the source had (the rows were routed through the
 * root): said once per table, never silent.
 */
static bool
warn_other_bounds(replay *r, pt_ttable *tt, int64_t event_id, pt_err *err)
{
	const pt_rtable *rt = pt_versions_table(r->versions, tt->src_schema, strlen(tt->src_schema), tt->src_table,
											strlen(tt->src_table));
	const pt_rversion *rv = rt ? pt_versions_as_of(rt, event_id) : NULL;
	char	   *bound = NULL;

	if (tt->root == NULL || tt->warned_bounds || r->opts->create_tables || rv == NULL)
		return true;
	if (!pt_apply_flush(r->ap, err) || !pt_target_bound(r->target, tt, &bound, err))
		return false;
	if (rv->partition_bound == NULL || bound == NULL || strcmp(rv->partition_bound, bound) != 0 ||
		strcmp(bound, "DEFAULT") == 0)
	{
		pt_log_warning(r->log, "event %lld: partition %s is emptied (TRUNCATE or re-snapshot); its bound in the "
					   "target (%s) may not be the one the source had then (%s), so rows the source held in it "
					   "may remain in another partition of the target", (long long) event_id, tt->qname,
					   bound ? bound : "none", rv->partition_bound ? rv->partition_bound : "not a partition");
		tt->warned_bounds = true;
	}
	free(bound);
	return true;
}

bool
pt_events_empty_table(replay *r, pt_ttable *tt, int64_t event_id, pt_err *err)
{
	pt_buf		sql = PT_BUF_INIT;
	bool		ok;

	if (!pt_events_loaded(r, tt, err))
		return false;
	if (!tt->exists)
		return true;
	if (!warn_other_bounds(r, tt, event_id, err))
		return false;
	pt_buf_printf(&sql, "DELETE FROM ONLY %s", tt->qname);
	ok = pt_apply_sql(r->ap, sql.data, 0, NULL, event_id, err);
	pt_buf_free(&sql);
	return ok;
}

/*
 * Into the window, when it takes this change (*taken); when it refuses it,
 * the window is applied first and the change goes on its own. A change
 * that contradicts the window fails: the range is replayed again in order,
 * which names the event (run.h: redo_at).
 */
static bool
into_window(replay *r, pt_ttable *tt, const pt_event *ev, bool *taken, pt_err *err)
{
	pt_window_verdict v;

	*taken = false;
	if (r->win == NULL || ev->id <= r->ordered_until || !pt_window_takes(tt))
	{
		r->batch_direct = true;	/* applied on its own, in the batch */
		return true;
	}
	if (ev->op == PT_OP_INSERT || ev->op == PT_OP_SNAPSHOT)
		v = pt_window_insert(r->win, tt, &r->set, ev->id);
	else if (ev->op == PT_OP_UPDATE)
		v = pt_window_update(r->win, tt, &r->set, &r->where, ev->id);
	else
		v = pt_window_delete(r->win, tt, &r->where, ev->id);
	if (v == PT_WINDOW_REFUSED)
	{
		r->batch_direct = true;	/* the change goes on its own, in the batch, after the window */
		return pt_replay_flush_window(r, err);
	}
	if (v == PT_WINDOW_CONFLICT)
	{
		r->redo_at = ev->id;
		return pt_err_set(err, PT_ERR_INTEGRITY, "event %lld does not fit the changes to %s before it",
						  (long long) ev->id, tt->qname);
	}
	*taken = true;
	r->window_last = ev->id;
	return !(r->window_full || pt_window_full(r->win)) || pt_replay_window_full(r, err);
}

/*
 * Count the values pgtrail-erase removed from ev (they arrive as null) and
 * say whether its key was among them: such a change names no row, and is
 * counted and left out rather than failing the replay.
 */
static bool
erased_key(pt_ttable *tt, const pt_event *ev)
{
	bool		key = false;

	tt->fig.erased_values += ev->nerased;
	for (int i = 0; i < ev->nerased; i++)
		key |= ev->erased[i].len > 4 && memcmp(ev->erased[i].ptr, "key.", 4) == 0;
	tt->fig.erased_skipped += key;
	return key;
}

static bool
apply_row(replay *r, const pt_event *ev, pt_err *err)
{
	const char *schema = pt_events_cstr(&r->sname, ev->schema_name);
	const char *table = pt_events_cstr(&r->tname, ev->table_name);
	int			version = ev->has_schema_version ? ev->schema_version : 0;
	const pt_rtable *rt;
	const pt_rversion *rv;
	pt_ttable  *tt;
	bool		by_key,
				taken;

	if (!pt_events_wanted(r, schema, table))
		return true;
	rt = pt_versions_table(r->versions, schema, strlen(schema), table, strlen(table));
	rv = rt ? pt_versions_get(rt, version) : NULL;
	if (!r->opts->create_tables && rv && pt_plan_dropped(r, rt, rv))
	{
		r->skipped++;			/* today's schema has no such table, and needs none */
		return true;
	}
	if ((tt = pt_events_table(r, schema, table, version, err)) == NULL || !pt_events_loaded(r, tt, err))
		return false;
	if (ev->id <= tt->applied_through)
		return true;			/* a --jobs connection committed it (window_jobs.h) */
	if (ev->sealed != NULL && ev->nerased > 0 && erased_key(tt, ev))
		return true;			/* no row to apply it to: its key was erased */
	if (r->opts->create_tables && rv && !reach_version(r, tt, rt, rv, false, err))
		return false;
	if (!tt->exists)
	{
		pt_err_set(err, PT_ERR_CONFIG, "event %lld: table %s does not exist in the target", (long long) ev->id,
				   tt->qname);
		pt_err_hint(err, "restore the schema first (pg_dump --schema-only), or replay with --create-tables");
		return false;
	}
	/* new rows from the stream: a null there may be a NaN wal2json could not carry (snapshots keep NaN) */
	r->count_nulls = ev->op == PT_OP_INSERT || ev->op == PT_OP_UPDATE;
	switch (ev->op)
	{
		case PT_OP_INSERT:
		case PT_OP_SNAPSHOT:
			return to_values(r, tt, rt, version, ev->row, true, false, &r->obj, &r->set, err) &&
				into_window(r, tt, ev, &taken, err) && (taken || pt_apply_insert(r->ap, tt, &r->set, ev->id, err));
		case PT_OP_UPDATE:
			if (!to_values(r, tt, rt, version, ev->row, true, true, &r->obj, &r->set, err) ||
				!to_values(r, tt, rt, version, ev->old.ptr ? ev->old : ev->key, false, false, &r->obj2, &r->where, err))
				return false;
			key_only(tt, r->obj2.n, &r->where, &by_key);
			if (r->set.n == 0)
				return true;	/* nothing the target holds changed */
			return into_window(r, tt, ev, &taken, err) &&
				(taken || pt_apply_change(r->ap, tt, &r->set, &r->where, by_key, ev->id, err));
		case PT_OP_DELETE:
			if (!to_values(r, tt, rt, version, ev->old.ptr ? ev->old : ev->key, false, false, &r->obj2, &r->where, err))
				return false;
			key_only(tt, r->obj2.n, &r->where, &by_key);
			return into_window(r, tt, ev, &taken, err) &&
				(taken || pt_apply_change(r->ap, tt, NULL, &r->where, by_key, ev->id, err));
		case PT_OP_TRUNCATE:
			return pt_events_empty_table(r, tt, ev->id, err);
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
	if (!pt_events_loaded(r, tt, err))
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
		pt_events_cstr(&r->sname, *s);
		pt_events_cstr(&r->tname, *t);
		if (!pt_events_wanted(r, r->sname.data, r->tname.data))
			continue;
		ok = (tt = pt_events_table(r, r->sname.data, r->tname.data, INT_MAX, err)) != NULL && action(r, tt, event_id, err);
	}
	free((char *) copy.ptr);
	return ok;
}

/* Is (schema, table) one of the items (parsed into r->items) of a tables list? */
static bool
listed(replay *r, int n, const char *schema, const char *table, pt_err *err)
{
	for (int i = 0; i < n; i++)
	{
		const pt_text *s,
				   *t;

		if (!pt_jsonobj_parse(&r->obj2, r->items[i].ptr, r->items[i].len, err))
			return true;		/* unreadable: detach nothing */
		if ((s = member(&r->obj2, "schema")) && (t = member(&r->obj2, "table")) &&
			s->len == strlen(schema) && memcmp(s->ptr, schema, s->len) == 0 &&
			t->len == strlen(table) && memcmp(t->ptr, table, t->len) == 0)
			return true;
	}
	return false;
}

/* The table (first of a tables list) as the catalog writes a parent: quote_ident each part. */
static char *
parent_name(replay *r, const pt_text *schema, const pt_text *table, pt_err *err)
{
	const char *params[2] = {pt_strndup(schema->ptr, schema->len), pt_strndup(table->ptr, table->len)};
	PGresult   *res = pt_pq_exec_params(r->target, "SELECT quote_ident($1) || '.' || quote_ident($2)", 2, params,
										PGRES_TUPLES_OK, 1, 1, err);
	char	   *out = res ? pt_strdup(PQgetvalue(res, 0, 0)) : NULL;

	PQclear(res);
	free((char *) params[0]);
	free((char *) params[1]);
	return out;
}

/*
 * ALTER TABLE on a partitioned table lists it and every table under it
 * after the command: a table replay made as its partition that is not
 * listed was detached (DETACH PARTITION opens no version: its columns do
 * not change). --create-tables detaches it in the target.
 */
static bool
detach_unlisted(replay *r, const pt_text *tables, pt_err *err)
{
	pt_text		copy = {pt_strndup(tables->ptr, tables->len), tables->len};
	int			n = 0;
	char	   *parent = NULL;
	const pt_text *s = NULL,
			   *t = NULL;
	bool		ok;

	pt_err_clear(err);
	ok = pt_json_array_items(copy.ptr, copy.len, &r->items, &r->itemcap, &n, err);
	if (ok && n > 0 && pt_jsonobj_parse(&r->obj2, r->items[0].ptr, r->items[0].len, err))
	{
		s = member(&r->obj2, "schema");
		t = member(&r->obj2, "table");
	}
	if (s && t)
		ok = pt_apply_flush(r->ap, err) && (parent = parent_name(r, s, t, err)) != NULL;
	for (pt_ttable *tt = r->tables; ok && parent && tt; tt = tt->next)
	{
		const pt_rtable *rt = pt_versions_table(r->versions, tt->src_schema, strlen(tt->src_schema),
												tt->src_table, strlen(tt->src_table));
		const pt_rversion *rv = rt && tt->version > 0 ? pt_versions_get(rt, tt->version) : NULL;

		if (rv == NULL || !rv->parent || !rv->partition_bound || strcmp(rv->parent, parent) != 0 ||
			listed(r, n, tt->src_schema, tt->src_table, err))
			continue;
		ok = pt_events_loaded(r, tt, err) && (!tt->exists || pt_target_detach(r->target, tt, parent, r->log, err));
		forget_all(r);
	}
	free(parent);
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
			   *command,
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
	if (list && !each_listed_table(r, list, ev->id, pt_events_empty_table, err))
		return false;
	if (rewritten && !list && ev->table_name.ptr)
	{
		/* a store written before "rewritten" was recorded: the command's table */
		pt_ttable  *tt = pt_events_table(r, pt_events_cstr(&r->sname, ev->schema_name), pt_events_cstr(&r->tname, ev->table_name),
								   ev->has_schema_version ? ev->schema_version : INT_MAX, err);

		if (tt == NULL || (pt_events_wanted(r, r->sname.data, r->tname.data) && !pt_events_empty_table(r, tt, ev->id, err)))
			return false;
	}
	if (!r->opts->create_tables || !open_versions(r, ev->id, rewritten, err))
		return !r->opts->create_tables;
	command = member(&r->obj, "command_tag");
	list = member(&r->obj, "tables");
	return !(command && list && command->len == 11 && memcmp(command->ptr, "ALTER TABLE", 11) == 0) ||
		detach_unlisted(r, list, err);
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

		if (!pt_events_wanted(r, rt->schema, rt->table))
			continue;
		if ((tt = pt_events_table(r, rt->schema, rt->table, INT_MAX, err)) == NULL || !pt_events_empty_table(r, tt, ev->id, err))
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
	pt_events_cstr(&r->sname, ev->schema_name);
	pt_events_cstr(&r->tname, ev->table_name);
	rt = pt_versions_table(r->versions, r->sname.data, r->sname.len, r->tname.data, r->tname.len);
	if (rt && pt_versions_get(rt, ev->schema_version))
		return true;
	if (!pt_events_load_versions(r, err))
		return false;
	rt = pt_versions_table(r->versions, r->sname.data, r->sname.len, r->tname.data, r->tname.len);
	if (rt && pt_versions_get(rt, ev->schema_version))
		return true;
	return pt_err_set(err, PT_ERR_INTEGRITY, "event %lld: version %d of table \"%s\".\"%s\" is not in the event "
					  "store's schemas table", (long long) ev->id, ev->schema_version, r->sname.data, r->tname.data);
}

/* Will this event change a table's shape or empty it (the window must be applied first)? */
static bool
breaks_window(const replay *r, const pt_event *ev)
{
	bool		opens = r->opts->create_tables && r->next_opening < r->nopenings &&
		r->openings[r->next_opening].event_id <= ev->id;

	return opens || ev->op == PT_OP_DDL || ev->op == PT_OP_GAP || ev->op == PT_OP_TRUNCATE;
}

bool
pt_events_apply(replay *r, const pt_event *ev, pt_err *err)
{
	bool		breaks;

	if (!known_version(r, ev, err))
		return false;
	if ((breaks = breaks_window(r, ev)))
		r->batch_direct = true;	/* it changes the target on its own, in the batch */
	if (r->win && breaks && !pt_replay_flush_window(r, err))
		return false;
	switch (ev->op)
	{
		case PT_OP_DDL:
			return apply_ddl(r, ev, err);
		case PT_OP_GAP:
			return apply_gap(r, ev, err) && (!r->opts->create_tables || open_versions(r, ev->id, false, err));
		case PT_OP_MESSAGE:
		case PT_OP_ERASURE:
			return !r->opts->create_tables || open_versions(r, ev->id, false, err);
		case PT_OP_SCHEMA:
			/* its version opens at the event after it; versions before it may open here */
			return pt_trust_schema_event(r, ev, err) && (!r->opts->create_tables || open_versions(r, ev->id, false, err));
		default:
			return (!r->opts->create_tables || open_versions(r, ev->id, false, err)) && apply_row(r, ev, err);
	}
}
