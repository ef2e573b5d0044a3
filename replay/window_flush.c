/*
 * replay/window_flush.c — writing a window's net effect, set-based (see
 * window.h).
 *
 * Per table, in this order: the rows that left (or were replaced) are
 * deleted through a staging table of their keys (one DELETE ... USING);
 * the rows updated in place, grouped by the columns they set, through a
 * staging table of key and values each (one UPDATE ... FROM per group);
 * the rows that arrived, grouped the same way, by COPY into the table. A
 * staging table is a temporary copy of the target columns it needs
 * (CREATE TEMP TABLE ... AS SELECT ... WITH NO DATA: the target's own
 * types, so every value is read by its type's input, as the statement
 * path does), filled by COPY and dropped at commit. Every statement's row
 * count must be the window's: anything else means the target does not
 * hold what the log says. A table with few rows to write goes through
 * apply.h's pipelined statements instead (pt_window_send_table), by key.
 */
#include "replay/window_int.h"

#include <stdlib.h>
#include <string.h>

#include "core/copytext.h"
#include "core/mem.h"
#include "core/pq.h"

#define COPY_CHUNK (256 * 1024)

typedef enum wkind
{
	W_DELETE,
	W_UPDATE,
	W_INSERT
} wkind;

/* What one flush of a table needs: its quoted column names, a column set. */
typedef struct flush
{
	wsink	   *out;			/* set-based statements */
	pt_window  *w;				/* apply's statements (pt_window_send_table) */
	wtable	   *wt;
	char	  **qcols;			/* quoted column names */
	bool	   *want;			/* the columns of the statement at hand */
	pt_text    *key;			/* one row's key columns */
} flush;

static bool
is_key(const pt_ttable *tt, int c, int *part)
{
	for (int p = 0; p < tt->npk; p++)
		if (tt->pk[p] == c)
		{
			*part = p;
			return true;
		}
	return false;
}

static bool
row_is(const wrow *row, wkind kind)
{
	switch (kind)
	{
		case W_DELETE:
			return row->existed && (!row->present || row->replaced);
		case W_UPDATE:
			return row->existed && row->present && !row->replaced;
		case W_INSERT:
			return row->present && (!row->existed || row->replaced);
	}
	return false;
}

/* Does row i set exactly the columns of shape (key columns aside for updates)? */
static bool
has_shape(const flush *f, int i, wkind kind, const bool *shape)
{
	int			part;

	for (int c = 0; c < f->wt->ncols; c++)
	{
		bool		set = wt_slot(f->wt, i, c)->len != SLOT_UNSET;

		if (kind == W_UPDATE && is_key(f->wt->tt, c, &part))
			continue;
		if (set != shape[c])
			return false;
	}
	return true;
}

/* Row i's key columns into f->key. */
static void
split_key(flush *f, int i)
{
	const wrow *row = &f->wt->rows[i];
	const char *p = f->wt->arena.data + row->key_off;

	for (int k = 0; k < f->wt->tt->npk; k++)
	{
		uint32_t	len = ((uint32_t) (unsigned char) p[0] << 24) | ((uint32_t) (unsigned char) p[1] << 16) |
			((uint32_t) (unsigned char) p[2] << 8) | (uint32_t) (unsigned char) p[3];

		f->key[k] = (pt_text) {p + 4, len};
		p += 4 + len;
	}
}

/* Row i as one COPY line of the wanted columns (key columns from its key). */
static void
put_row(flush *f, int i)
{
	pt_buf	   *out = &f->out->copy;
	bool		first = true;
	int			part;

	split_key(f, i);
	for (int c = 0; c < f->wt->ncols; c++)
	{
		const wslot *s = wt_slot(f->wt, i, c);

		if (!f->want[c])
			continue;
		if (!first)
			pt_buf_putc(out, '\t');
		first = false;
		if (is_key(f->wt->tt, c, &part))
			pt_copy_put_text(out, f->key[part]);
		else if (s->len < 0)
			pt_copy_put_null(out);
		else
			pt_copy_put_field(out, f->wt->arena.data + s->off, (size_t) s->len);
	}
	pt_buf_putc(out, '\n');
}

/* COPY (sql) the rows of kind and shape; *count gets the rows the server took. */
static bool
copy_rows(flush *f, const char *sql, wkind kind, const bool *shape, int64_t *count, pt_err *err)
{
	PGconn	   *conn = f->out->conn;
	PGresult   *res = pt_pq_exec(conn, sql, PGRES_COPY_IN, PT_PQ_ANY, PT_PQ_ANY, err);
	bool		ok = true;

	if (res == NULL)
		return false;
	PQclear(res);
	pt_buf_reset(&f->out->copy);
	for (int i = 0; ok && i < f->wt->nrows; i++)
	{
		if (!row_is(&f->wt->rows[i], kind) || (shape && !has_shape(f, i, kind, shape)))
			continue;
		put_row(f, i);
		if (f->out->copy.len >= COPY_CHUNK)
		{
			ok = PQputCopyData(conn, f->out->copy.data, (int) f->out->copy.len) == 1;
			pt_buf_reset(&f->out->copy);
		}
	}
	if (ok && f->out->copy.len > 0)
		ok = PQputCopyData(conn, f->out->copy.data, (int) f->out->copy.len) == 1;
	if (PQputCopyEnd(conn, ok ? NULL : "pgtrail-replay could not send the rows") != 1)
		ok = false;
	res = PQgetResult(conn);
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		ok = pt_pq_error(conn, res, ok ? "COPY into the target" : "could not send COPY data to the target", err);
	else
		*count = strtoll(PQcmdTuples(res), NULL, 10);
	PQclear(res);
	while ((res = PQgetResult(conn)) != NULL)
		PQclear(res);
	return ok;
}

/* ---- statements ---- */

/* ", " separated "alias.col" (or "col" without alias) of the wanted columns; for a stage, "cN". */
static void
put_columns(flush *f, pt_buf *sql, const char *alias, bool stage)
{
	bool		first = true;

	for (int c = 0; c < f->wt->ncols; c++)
	{
		if (!f->want[c])
			continue;
		if (stage)
			pt_buf_printf(sql, "%s%s%s%s AS c%d", first ? "" : ", ", alias, alias[0] ? "." : "", f->qcols[c], c);
		else
			pt_buf_printf(sql, "%s%s", first ? "" : ", ", f->qcols[c]);
		first = false;
	}
}

void
pt_window_forget_stages(wtable *wt)
{
	for (int i = 0; i < wt->nstages; i++)
		free(wt->stages[i].cols);
	free(wt->stages);
	wt->stages = NULL;
	wt->nstages = 0;
}

/*
 * An empty staging table of the wanted columns, in the target's types; its
 * name into name. One per set of columns and transaction: made the first
 * time (locks are held to the transaction's end, so a stage per use would
 * pile them up), emptied the next.
 */
static bool
make_stage(flush *f, char *name, size_t size, pt_err *err)
{
	wtable	   *wt = f->wt;
	pt_buf	   *sql = &f->out->sql;
	wstage	   *stage;

	pt_buf_reset(sql);
	for (int i = 0; i < wt->nstages; i++)
		if (memcmp(wt->stages[i].cols, f->want, sizeof(bool) * (size_t) wt->ncols) == 0)
		{
			snprintf(name, size, "%s", wt->stages[i].name);
			pt_buf_printf(sql, "TRUNCATE %s", name);
			return pt_pq_command(f->out->conn, sql->data, err);
		}
	snprintf(name, size, "pg_temp.pgtrail_stage_%lld", (long long) ++f->out->stage_names);
	pt_buf_printf(sql, "CREATE TEMP TABLE %s ON COMMIT DROP AS SELECT ", name + strlen("pg_temp."));
	put_columns(f, sql, "t", true);
	pt_buf_printf(sql, " FROM ONLY %s t WITH NO DATA", wt->tt->qname);
	if (!pt_pq_command(f->out->conn, sql->data, err))
		return false;
	wt->stages = pt_realloc(wt->stages, sizeof(wstage) * (size_t) (wt->nstages + 1));
	stage = &wt->stages[wt->nstages++];
	stage->cols = pt_malloc(sizeof(bool) * (size_t) wt->ncols + 1);
	memcpy(stage->cols, f->want, sizeof(bool) * (size_t) wt->ncols);
	snprintf(stage->name, sizeof(stage->name), "%s", name);
	return true;
}

/* Fill the stage with the rows of kind and shape; *count rows. */
static bool
fill_stage(flush *f, const char *name, wkind kind, const bool *shape, int64_t *count, pt_err *err)
{
	pt_buf		sql = PT_BUF_INIT;
	bool		first = true,
				ok;

	pt_buf_printf(&sql, "COPY %s (", name);
	for (int c = 0; c < f->wt->ncols; c++)
		if (f->want[c])
		{
			pt_buf_printf(&sql, "%sc%d", first ? "" : ", ", c);
			first = false;
		}
	pt_buf_puts(&sql, ") FROM STDIN");
	ok = copy_rows(f, sql.data, kind, shape, count, err);
	pt_buf_free(&sql);
	return ok;
}

/* " WHERE t.k = s.cK AND ..." over the key columns. */
static void
put_key_match(flush *f, pt_buf *sql)
{
	for (int p = 0; p < f->wt->tt->npk; p++)
		pt_buf_printf(sql, "%st.%s = s.c%d", p ? " AND " : " WHERE ", f->qcols[f->wt->tt->pk[p]],
					  f->wt->tt->pk[p]);
}

/* Run a DELETE or UPDATE, which must change want rows. */
static bool
run_counted(flush *f, const char *sql, int64_t want, pt_err *err)
{
	PGresult   *res = pt_pq_exec(f->out->conn, sql, PGRES_COMMAND_OK, PT_PQ_ANY, PT_PQ_ANY, err);
	int64_t		changed;

	if (res == NULL)
		return false;
	changed = strtoll(PQcmdTuples(res), NULL, 10);
	PQclear(res);
	if (changed == want)
		return true;
	pt_err_set(err, PT_ERR_INTEGRITY, "table %s: %lld rows changed where the log says %lld", f->wt->tt->qname,
			   (long long) changed, (long long) want);
	return false;
}

static void
want_key(flush *f)
{
	memset(f->want, 0, sizeof(bool) * (size_t) f->wt->ncols);
	for (int p = 0; p < f->wt->tt->npk; p++)
		f->want[f->wt->tt->pk[p]] = true;
}

static bool
flush_deletes(flush *f, int64_t n, pt_err *err)
{
	char		stage[64];
	int64_t		staged = 0;
	pt_buf	   *sql = &f->out->sql;

	want_key(f);
	if (n == 0)
		return true;
	if (!make_stage(f, stage, sizeof(stage), err) || !fill_stage(f, stage, W_DELETE, NULL, &staged, err))
		return false;
	pt_buf_reset(sql);
	pt_buf_printf(sql, "DELETE FROM ONLY %s t USING %s s", f->wt->tt->qname, stage);
	put_key_match(f, sql);
	return run_counted(f, sql->data, n, err);
}

/* One UPDATE ... FROM for the updated rows setting the columns of shape. */
static bool
flush_update_shape(flush *f, const bool *shape, int64_t *done, pt_err *err)
{
	char		stage[64];
	int64_t		staged = 0;
	pt_buf	   *sql = &f->out->sql;
	bool		first = true;

	want_key(f);
	for (int c = 0; c < f->wt->ncols; c++)
		f->want[c] |= shape[c];
	if (!make_stage(f, stage, sizeof(stage), err) || !fill_stage(f, stage, W_UPDATE, shape, &staged, err))
		return false;
	pt_buf_reset(sql);
	pt_buf_printf(sql, "UPDATE ONLY %s t SET ", f->wt->tt->qname);
	for (int c = 0; c < f->wt->ncols; c++)
		if (shape[c])
		{
			pt_buf_printf(sql, "%s%s = s.c%d", first ? "" : ", ", f->qcols[c], c);
			first = false;
		}
	pt_buf_printf(sql, " FROM %s s", stage);
	put_key_match(f, sql);
	*done += staged;
	return run_counted(f, sql->data, staged, err);
}

/* One COPY into the table of the arrived rows setting the columns of shape. */
static bool
flush_insert_shape(flush *f, const bool *shape, int64_t *done, pt_err *err)
{
	pt_buf		sql = PT_BUF_INIT;
	int64_t		want = 0,
				copied = 0;
	bool		ok;

	memcpy(f->want, shape, sizeof(bool) * (size_t) f->wt->ncols);
	for (int i = 0; i < f->wt->nrows; i++)
		want += row_is(&f->wt->rows[i], W_INSERT) && has_shape(f, i, W_INSERT, shape);
	pt_buf_printf(&sql, "COPY %s (", f->wt->tt->qname);
	put_columns(f, &sql, "", false);
	pt_buf_puts(&sql, ") FROM STDIN");
	ok = copy_rows(f, sql.data, W_INSERT, shape, &copied, err);
	pt_buf_free(&sql);
	*done += copied;
	if (ok && copied != want)
		ok = pt_err_set(err, PT_ERR_INTEGRITY, "table %s: COPY took %lld rows of %lld", f->wt->tt->qname,
						(long long) copied, (long long) want);
	return ok;
}

/* ---- shapes ---- */

/* Row i's shape (the columns it sets; key columns aside for updates) into shape. */
static void
shape_of(const flush *f, int i, wkind kind, bool *shape)
{
	int			part;

	for (int c = 0; c < f->wt->ncols; c++)
		shape[c] = wt_slot(f->wt, i, c)->len != SLOT_UNSET &&
			!(kind == W_UPDATE && is_key(f->wt->tt, c, &part));
}

static bool
any_set(const bool *shape, int n)
{
	for (int c = 0; c < n; c++)
		if (shape[c])
			return true;
	return false;
}

/*
 * The rows of kind, one shape at a time: the first row not yet written
 * gives the shape, and every row of that shape goes with it. done counts
 * the rows written; rows whose shape sets nothing (an update of key
 * columns alone) need no statement.
 */
static bool
flush_shapes(flush *f, wkind kind, int64_t n, pt_err *err)
{
	bool	   *shape = pt_calloc((size_t) f->wt->ncols + 1, sizeof(bool));
	bool	   *seen = pt_calloc((size_t) f->wt->nrows + 1, sizeof(bool));
	int64_t		done = 0;
	bool		ok = true;

	for (int i = 0; ok && i < f->wt->nrows && done < n; i++)
	{
		if (seen[i] || !row_is(&f->wt->rows[i], kind))
			continue;
		shape_of(f, i, kind, shape);
		for (int j = i; j < f->wt->nrows; j++)
			if (!seen[j] && row_is(&f->wt->rows[j], kind) && has_shape(f, j, kind, shape))
				seen[j] = true;
		if (!any_set(shape, f->wt->ncols))
			continue;
		ok = kind == W_UPDATE ? flush_update_shape(f, shape, &done, err) : flush_insert_shape(f, shape, &done, err);
	}
	free(shape);
	free(seen);
	return ok;
}

static int64_t
count_kind(const wtable *wt, wkind kind)
{
	int64_t		n = 0;

	for (int i = 0; i < wt->nrows; i++)
		n += row_is(&wt->rows[i], kind);
	return n;
}

bool
pt_window_flush_table(wsink *out, wtable *wt, pt_err *err)
{
	flush		f = {out, NULL, wt, pt_calloc((size_t) wt->ncols + 1, sizeof(char *)),
	pt_calloc((size_t) wt->ncols + 1, sizeof(bool)), pt_calloc((size_t) wt->tt->npk + 1, sizeof(pt_text))};
	int64_t		ndel = count_kind(wt, W_DELETE),
				nupd = count_kind(wt, W_UPDATE),
				nins = count_kind(wt, W_INSERT);
	bool		ok = true;

	for (int c = 0; ok && c < wt->ncols; c++)
		ok = (f.qcols[c] = pt_pq_ident(out->conn, wt->tt->cols[c].name, err)) != NULL;
	ok = ok && flush_deletes(&f, ndel, err) && flush_shapes(&f, W_UPDATE, nupd, err) &&
		flush_shapes(&f, W_INSERT, nins, err);
	if (ok)
		out->rows += ndel + nupd + nins;
	else
		pt_err_prefix(err, "applying a window of changes");
	for (int c = 0; c < wt->ncols; c++)
		PQfreemem(f.qcols[c]);
	free(f.qcols);
	free(f.want);
	free(f.key);
	return ok;
}

void
pt_window_sink_free(wsink *out)
{
	pt_buf_free(&out->sql);
	pt_buf_free(&out->copy);
}

int64_t
pt_window_table_rows(const wtable *wt)
{
	return count_kind(wt, W_DELETE) + count_kind(wt, W_UPDATE) + count_kind(wt, W_INSERT);
}

/* Row i as apply's values: its key (in key order) as where, the columns it sets as set. */
static void
row_values(flush *f, int i, wkind kind, pt_values *set, pt_values *where)
{
	int			part;

	split_key(f, i);
	pt_values_reset(where);
	pt_values_reset(set);
	for (int p = 0; p < f->wt->tt->npk; p++)
		pt_values_add(where, f->wt->tt->pk[p], f->key[p]);
	for (int c = 0; c < f->wt->ncols; c++)
	{
		const wslot *s = wt_slot(f->wt, i, c);

		if (is_key(f->wt->tt, c, &part))
		{
			if (kind == W_INSERT)
				pt_values_add(set, c, f->key[part]);
			continue;
		}
		if (s->len == SLOT_UNSET)
			continue;
		pt_values_add(set, c, s->len < 0 ? (pt_text) {NULL, 0} : (pt_text) {f->wt->arena.data + s->off,
					  (size_t) s->len});
	}
}

/* One row's statement: DELETE or UPDATE by key, or INSERT. */
static bool
send_row(flush *f, int i, wkind kind, pt_err *err)
{
	pt_window  *w = f->w;
	int64_t		event_id = f->wt->rows[i].event_id;

	row_values(f, i, kind, &w->set, &w->where);
	if (kind == W_DELETE)
		return pt_apply_change(w->ap, f->wt->tt, NULL, &w->where, true, event_id, err);
	if (kind == W_UPDATE)
		return w->set.n == 0 || pt_apply_change(w->ap, f->wt->tt, &w->set, &w->where, true, event_id, err);
	return pt_apply_insert(w->ap, f->wt->tt, &w->set, event_id, err);
}

bool
pt_window_send_table(pt_window *w, wtable *wt, pt_err *err)
{
	flush		f = {NULL, w, wt, NULL, NULL, pt_calloc((size_t) wt->tt->npk + 1, sizeof(pt_text))};
	static const wkind order[] = {W_DELETE, W_UPDATE, W_INSERT};
	bool		ok = true;

	for (int k = 0; ok && k < 3; k++)
		for (int i = 0; ok && i < wt->nrows; i++)
			if (row_is(&wt->rows[i], order[k]))
			{
				ok = send_row(&f, i, order[k], err);
				w->rows += ok;
			}
	free(f.key);
	return ok;
}
