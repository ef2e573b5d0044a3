/*
 * replay/window.c — taking changes into a window, collapsed per key (see
 * window.h; the writing is in window_flush.c).
 */
#include "replay/window_int.h"

#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/mem.h"

#define INDEX_MIN 1024

pt_window *
pt_window_new(PGconn *conn, pt_apply *ap, size_t max_bytes)
{
	pt_window  *w = pt_calloc(1, sizeof(*w));

	w->out.conn = conn;
	w->ap = ap;
	w->max_bytes = max_bytes;
	return w;
}

/* Free a table's rows, slots, index and arena (an empty window table). */
static void
free_rows(wtable *wt)
{
	free(wt->rows);
	free(wt->slots);
	free(wt->index);
	pt_buf_free(&wt->arena);
	wt->rows = NULL;
	wt->slots = NULL;
	wt->index = NULL;
	wt->rowcap = 0;
	wt->indexcap = 0;
}

static void
table_free(wtable *wt)
{
	free_rows(wt);
	pt_window_forget_stages(wt);
	free(wt);
}

void
pt_window_free(pt_window *w)
{
	if (w == NULL)
		return;
	while (w->tables)
	{
		wtable	   *next = w->tables->next;

		table_free(w->tables);
		w->tables = next;
	}
	pt_buf_free(&w->key);
	pt_buf_free(&w->old_key);
	pt_window_sink_free(&w->out);
	pt_values_free(&w->set);
	pt_values_free(&w->where);
	free(w);
}

bool
pt_window_takes(const pt_ttable *tt)
{
	return tt->npk > 0 && !tt->key_deferrable && tt->root == NULL;
}

/* Row overhead counted per row (see add_row). */
static size_t
row_bytes(const wtable *wt)
{
	return sizeof(wrow) + sizeof(wslot) * (size_t) wt->ncols + 2 * sizeof(uint64_t);
}

/*
 * Copy the keys and current values of wt into a fresh arena: an update
 * leaves the values it replaced behind, and a row updated many times
 * would otherwise fill the window with them. Returns the bytes in use.
 */
static size_t
compact_table(wtable *wt)
{
	pt_buf		fresh = PT_BUF_INIT;

	for (int i = 0; i < wt->nrows; i++)
	{
		wrow	   *row = &wt->rows[i];
		size_t		key_off = fresh.len;

		pt_buf_append(&fresh, wt->arena.data + row->key_off, row->key_len);
		row->key_off = key_off;
		for (int c = 0; c < wt->ncols; c++)
		{
			wslot	   *s = wt_slot(wt, i, c);
			size_t		off = fresh.len;

			if (s->len < 0)
				continue;
			pt_buf_append(&fresh, wt->arena.data + s->off, (size_t) s->len);
			s->off = off;
		}
	}
	pt_buf_free(&wt->arena);
	wt->arena = fresh;
	return fresh.len + row_bytes(wt) * (size_t) wt->nrows;
}

/* Over the budget? Compacted first: full only when what is live still fills three quarters of it. */
bool
pt_window_full(pt_window *w)
{
	if (w->bytes < w->max_bytes)
		return false;
	w->bytes = 0;
	for (wtable *wt = w->tables; wt; wt = wt->next)
		w->bytes += compact_table(wt);
	return w->bytes >= w->max_bytes / 4 * 3;
}

bool
pt_window_overfull(const pt_window *w)
{
	return w->bytes >= w->max_bytes + w->max_bytes / 2;
}

bool
pt_window_empty(const pt_window *w)
{
	for (const wtable *wt = w->tables; wt; wt = wt->next)
		if (wt->nrows > 0)
			return false;
	return true;
}

int64_t
pt_window_changes(const pt_window *w)
{
	return w->changes;
}

int64_t
pt_window_rows(const pt_window *w)
{
	return w->rows + w->rows_set_based;
}

int64_t
pt_window_rows_set_based(const pt_window *w)
{
	return w->rows_set_based;
}

int64_t
pt_window_flushes(const pt_window *w)
{
	return w->flushes;
}

int64_t
pt_window_flush_us(const pt_window *w)
{
	return w->flush_us;
}

/* Empty every table (their memory is kept for the next window, up to the budget). */
void
pt_window_discard(pt_window *w)
{
	size_t		kept = 0;

	for (wtable *wt = w->tables; wt; wt = wt->next)
	{
		size_t		held = wt->arena.cap + sizeof(uint64_t) * wt->indexcap +
			(sizeof(wrow) + sizeof(wslot) * (size_t) wt->ncols) * (size_t) wt->rowcap;

		wt->nrows = 0;
		pt_buf_reset(&wt->arena);
		if (kept + held <= w->max_bytes / 4)
		{
			if (wt->index)		/* none after free_rows */
				memset(wt->index, 0, sizeof(uint64_t) * wt->indexcap);
			kept += held;
			continue;
		}
		free_rows(wt);			/* the next window allocates again what it needs */
	}
	w->bytes = 0;
}

void
pt_window_committed(pt_window *w)
{
	for (wtable *wt = w->tables; wt; wt = wt->next)
		pt_window_forget_stages(wt);
}

bool
pt_window_steady(const pt_window *w, pt_err *err)
{
	for (const wtable *wt = w->tables; wt; wt = wt->next)
		if (wt->nrows > 0 && wt->ncols != wt->tt->ncols)
			return pt_err_set(err, PT_ERR_INTEGRITY, "table %s changed its columns within a window of changes",
							  wt->tt->qname);	/* the caller replays the window's changes in order */
	return true;
}

void
pt_window_written(pt_window *w, int64_t start_us)
{
	w->rows_set_based += w->out.rows;
	w->out.rows = 0;
	pt_window_discard(w);
	w->flushes++;
	w->flush_us += pt_now_us() - start_us;
}

bool
pt_window_flush(pt_window *w, pt_err *err)
{
	int64_t		start = pt_now_us();
	bool		ok = pt_window_steady(w, err);

	/* small tables as pipelined statements, checked; then the others set-based */
	for (wtable *wt = w->tables; ok && wt; wt = wt->next)
		if (wt->nrows > 0 && pt_window_table_rows(wt) < PT_WINDOW_SMALL_TABLE_ROWS)
			ok = pt_window_send_table(w, wt, err);
	ok = ok && pt_apply_flush(w->ap, err);
	for (wtable *wt = w->tables; ok && wt; wt = wt->next)
		if (wt->nrows > 0 && pt_window_table_rows(wt) >= PT_WINDOW_SMALL_TABLE_ROWS)
			ok = pt_window_flush_table(&w->out, wt, err);
	pt_window_written(w, start);
	return ok;
}

/* ---- tables and keys ---- */

static wtable *
table_of(pt_window *w, pt_ttable *tt)
{
	wtable	   *wt;

	for (wt = w->tables; wt; wt = wt->next)
		if (wt->tt == tt)
			break;
	if (wt && wt->ncols == tt->ncols)
		return wt;
	if (wt && wt->nrows == 0)
	{
		/* the table's columns changed between windows: the slots (and staging tables) follow */
		pt_window_forget_stages(wt);
		wt->ncols = tt->ncols;
		wt->slots = pt_realloc(wt->slots, sizeof(wslot) * (size_t) wt->rowcap * (size_t) wt->ncols + 1);
		return wt;
	}
	if (wt)
		return NULL;			/* its columns changed mid-window: the caller flushed first */
	wt = pt_calloc(1, sizeof(*wt));
	wt->tt = tt;
	wt->ncols = tt->ncols;
	wt->next = w->tables;
	w->tables = wt;
	return wt;
}

/* The value of column col in v, or NULL when v has none. */
static const pt_text *
value_of(const pt_values *v, int col)
{
	for (int i = 0; i < v->n; i++)
		if (v->cols[i] == col)
			return &v->vals[i];
	return NULL;
}

/*
 * The key of a change into w->key: each key column's text from first (or
 * from second when first has none). False when a key column is missing or
 * null: such a change is not found by its key.
 */
static bool
make_key(pt_window *w, const pt_ttable *tt, const pt_values *first, const pt_values *second)
{
	pt_buf_reset(&w->key);
	for (int p = 0; p < tt->npk; p++)
	{
		const pt_text *v = value_of(first, tt->pk[p]);

		if (v == NULL && second)
			v = value_of(second, tt->pk[p]);
		if (v == NULL || v->ptr == NULL)
			return false;
		pt_buf_put_u32be(&w->key, (uint32_t) v->len);
		pt_buf_append(&w->key, v->ptr, v->len);
	}
	return true;
}

static uint64_t
hash_bytes(const char *p, size_t len)
{
	uint64_t	h = 14695981039346656037ULL;

	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char) p[i]) * 1099511628211ULL;
	return h ^ (h >> 29);
}

/* The row holding key (w->key), or -1. */
static int
find_row(const wtable *wt, const pt_buf *key, uint64_t hash)
{
	if (wt->indexcap == 0)
		return -1;
	for (uint32_t at = (uint32_t) hash & (wt->indexcap - 1);; at = (at + 1) & (wt->indexcap - 1))
	{
		uint64_t	entry = wt->index[at];
		const wrow *row;

		if (entry == 0)
			return -1;
		if ((entry >> 32) != (hash >> 32))
			continue;
		row = &wt->rows[(uint32_t) entry - 1];
		if (row->hash == hash && row->key_len == key->len &&
			memcmp(wt->arena.data + row->key_off, key->data, key->len) == 0)
			return (int) (uint32_t) entry - 1;
	}
}

static void
index_put(wtable *wt, uint64_t hash, int row)
{
	uint32_t	at = (uint32_t) hash & (wt->indexcap - 1);

	while (wt->index[at] != 0)
		at = (at + 1) & (wt->indexcap - 1);
	wt->index[at] = (hash >> 32 << 32) | ((uint64_t) row + 1);
}

/* Keep the index at most half full. */
static void
index_grow(wtable *wt)
{
	uint32_t	cap = wt->indexcap ? wt->indexcap * 2 : INDEX_MIN;

	if ((uint32_t) wt->nrows * 2 < wt->indexcap)
		return;
	free(wt->index);
	wt->index = pt_calloc(cap, sizeof(uint64_t));
	wt->indexcap = cap;
	for (int i = 0; i < wt->nrows; i++)
		index_put(wt, wt->rows[i].hash, i);
}

/* A new row for w->key: every column not set. */
static int
add_row(pt_window *w, wtable *wt, uint64_t hash)
{
	wrow	   *row;

	if (wt->nrows == wt->rowcap)
	{
		int			cap = wt->rowcap ? wt->rowcap * 2 : 256;

		wt->rows = pt_realloc(wt->rows, sizeof(wrow) * (size_t) cap);
		wt->slots = pt_realloc(wt->slots, sizeof(wslot) * (size_t) cap * (size_t) wt->ncols);
		wt->rowcap = cap;
	}
	index_grow(wt);
	row = &wt->rows[wt->nrows];
	memset(row, 0, sizeof(*row));
	row->hash = hash;
	row->key_off = wt->arena.len;
	row->key_len = (uint32_t) w->key.len;
	pt_buf_append(&wt->arena, w->key.data, w->key.len);
	w->bytes += w->key.len + row_bytes(wt);
	for (int c = 0; c < wt->ncols; c++)
		wt_slot(wt, wt->nrows, c)->len = SLOT_UNSET;
	index_put(wt, hash, wt->nrows);
	return wt->nrows++;
}

/* The row of w->key, made (with existed as given) when the window has none. */
static int
row_for_key(pt_window *w, wtable *wt, bool existed, bool *made)
{
	uint64_t	hash = hash_bytes(w->key.data, w->key.len);
	int			i = find_row(wt, &w->key, hash);

	*made = i < 0;
	if (i < 0)
	{
		i = add_row(w, wt, hash);
		wt->rows[i].existed = existed;
	}
	return i;
}

/* ---- images ---- */

static void
clear_image(wtable *wt, int i)
{
	for (int c = 0; c < wt->ncols; c++)
		wt_slot(wt, i, c)->len = SLOT_UNSET;
}

/* Write set's values over row i's image. */
static void
put_values(pt_window *w, wtable *wt, int i, const pt_values *set)
{
	for (int k = 0; k < set->n; k++)
	{
		wslot	   *s = wt_slot(wt, i, set->cols[k]);

		if (set->vals[k].ptr == NULL)
		{
			s->len = SLOT_NULL;
			continue;
		}
		s->off = wt->arena.len;
		s->len = (int64_t) set->vals[k].len;
		pt_buf_append(&wt->arena, set->vals[k].ptr, set->vals[k].len);
		w->bytes += set->vals[k].len;
	}
}

/* Would row i (or nothing, i < 0) with set over it hold every column an INSERT writes? */
static bool
whole_image(const wtable *wt, int i, const pt_values *set)
{
	for (int c = 0; c < wt->ncols; c++)
	{
		if (wt->tt->cols[c].generated || value_of(set, c) != NULL)
			continue;
		if (i < 0 || wt->slots[(size_t) i * (size_t) wt->ncols + (size_t) c].len == SLOT_UNSET)
			return false;
	}
	return true;
}

/* A whole new row at key row i (made, or one the window deleted). */
static void
arrive(pt_window *w, wtable *wt, int i, const pt_values *set, int64_t event_id)
{
	wrow	   *row = &wt->rows[i];

	row->replaced = row->existed;
	row->present = true;
	row->event_id = event_id;
	clear_image(wt, i);
	put_values(w, wt, i, set);
}

/* ---- changes ---- */

pt_window_verdict
pt_window_insert(pt_window *w, pt_ttable *tt, const pt_values *set, int64_t event_id)
{
	wtable	   *wt = table_of(w, tt);
	bool		made;
	int			i;

	if (wt == NULL || !make_key(w, tt, set, NULL))
		return PT_WINDOW_REFUSED;
	i = row_for_key(w, wt, false, &made);
	if (!made && wt->rows[i].present)
		return PT_WINDOW_CONFLICT;	/* the key is taken */
	arrive(w, wt, i, set, event_id);
	w->changes++;
	return PT_WINDOW_TAKEN;
}

pt_window_verdict
pt_window_delete(pt_window *w, pt_ttable *tt, const pt_values *where, int64_t event_id)
{
	wtable	   *wt = table_of(w, tt);
	bool		made;
	int			i;

	if (wt == NULL || !make_key(w, tt, where, NULL))
		return PT_WINDOW_REFUSED;
	i = row_for_key(w, wt, true, &made);
	if (!made && !wt->rows[i].present)
		return PT_WINDOW_CONFLICT;	/* deleted already */
	wt->rows[i].present = false;
	wt->rows[i].event_id = event_id;
	clear_image(wt, i);
	w->changes++;
	return PT_WINDOW_TAKEN;
}

/*
 * A key change: the old key's row leaves, a whole row arrives at the new
 * key. Refused when the window cannot tell every column of the row (it
 * was there before the window and some column was not sent).
 */
static pt_window_verdict
move_row(pt_window *w, wtable *wt, const pt_values *set, const pt_values *where, int64_t event_id)
{
	uint64_t	old_hash = hash_bytes(w->key.data, w->key.len);
	int			from = find_row(wt, &w->key, old_hash),
				to;
	bool		made;

	if (from >= 0 && !wt->rows[from].present)
		return PT_WINDOW_CONFLICT;	/* moved after it was deleted */
	if (!whole_image(wt, from, set))
		return PT_WINDOW_REFUSED;
	pt_buf_reset(&w->old_key);
	pt_buf_append(&w->old_key, w->key.data, w->key.len);
	if (!make_key(w, wt->tt, set, where))
		return PT_WINDOW_REFUSED;
	to = row_for_key(w, wt, false, &made);
	if (!made && wt->rows[to].present)
		return PT_WINDOW_CONFLICT;	/* the new key is taken */
	arrive(w, wt, to, &(pt_values) {0}, event_id);
	if (from >= 0)
		memcpy(wt_slot(wt, to, 0), wt_slot(wt, from, 0), sizeof(wslot) * (size_t) wt->ncols);
	put_values(w, wt, to, set);
	pt_buf_reset(&w->key);
	pt_buf_append(&w->key, w->old_key.data, w->old_key.len);
	from = row_for_key(w, wt, true, &made);
	wt->rows[from].present = false;
	wt->rows[from].event_id = event_id;
	clear_image(wt, from);
	return PT_WINDOW_TAKEN;
}

/* Does the change's new key (set's key columns over where's) differ from where's? */
static bool
key_changes(const pt_ttable *tt, const pt_values *set, const pt_values *where)
{
	for (int p = 0; p < tt->npk; p++)
	{
		const pt_text *n = value_of(set, tt->pk[p]);
		const pt_text *o = value_of(where, tt->pk[p]);

		if (n && (n->ptr == NULL || n->len != o->len || memcmp(n->ptr, o->ptr, n->len) != 0))
			return true;
	}
	return false;
}

pt_window_verdict
pt_window_update(pt_window *w, pt_ttable *tt, const pt_values *set, const pt_values *where, int64_t event_id)
{
	wtable	   *wt = table_of(w, tt);
	pt_window_verdict v = PT_WINDOW_TAKEN;
	bool		made;
	int			i;

	if (wt == NULL || !make_key(w, tt, where, NULL))
		return PT_WINDOW_REFUSED;
	if (key_changes(tt, set, where))
		v = move_row(w, wt, set, where, event_id);
	else
	{
		i = row_for_key(w, wt, true, &made);
		if (made)
			wt->rows[i].present = true;
		else if (!wt->rows[i].present)
			return PT_WINDOW_CONFLICT;	/* updated after it was deleted */
		wt->rows[i].event_id = event_id;
		put_values(w, wt, i, set);
	}
	w->changes += v == PT_WINDOW_TAKEN;
	return v;
}
