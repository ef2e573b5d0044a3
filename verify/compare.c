/*
 * verify/compare.c — one table of the scratch database against the live
 * one (see compare.h).
 *
 * A side is one COPY OUT stream with its current row split into fields
 * (pointing into the row libpq returned), so the merge holds one row of
 * each side. Keys and values compare as text in byte order, as the COPY's
 * ORDER BY ... COLLATE "C" sorts them; the text is each value's output
 * under the settings pt_pq_connect pins on both connections.
 */
#include "verify/compare.h"

#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/copytext.h"
#include "core/json.h"
#include "core/mem.h"
#include "core/pq.h"

/* A table's columns in attnum order, and its key. */
typedef struct tcols
{
	int			n;
	char	  **names;
	int		   *key;			/* indexes into names, in key order */
	int			nkey;
} tcols;

/* One side of the merge: a COPY OUT stream, one row in memory. */
typedef struct side
{
	PGconn	   *conn;			/* borrowed */
	char	   *row;			/* from PQgetCopyData, fields point into it */
	pt_text    *fields;
	int			nfields;
	bool		open;			/* the COPY is running */
	bool		done;			/* no current row */
} side;

/* ---- one side of the merge ---- */

static void
side_drain(side *s)
{
	PGresult   *res;

	while ((res = PQgetResult(s->conn)) != NULL)
		PQclear(res);
}

/* The next row into s->fields, or s->done. */
static bool
side_next(side *s, pt_err *err)
{
	PGresult   *res;
	int			len;
	bool		ok;

	if (s->row)
		PQfreemem(s->row);
	s->row = NULL;
	s->done = !s->open;
	if (s->done)
		return true;
	len = PQgetCopyData(s->conn, &s->row, 0);
	if (len >= 0)
	{
		if (len == 0 || s->row[len - 1] != '\n' ||
			!pt_copy_split_row(s->row, (size_t) len - 1, s->fields, s->nfields))
			return pt_err_set(err, PT_ERR_RUNTIME, "drift: malformed row from COPY");
		return true;
	}
	s->open = false;
	s->done = true;
	res = PQgetResult(s->conn);
	ok = len == -1 && res != NULL && PQresultStatus(res) == PGRES_COMMAND_OK;
	if (!ok)
		pt_pq_error(s->conn, res, "drift: could not read rows", err);
	PQclear(res);
	side_drain(s);
	return ok;
}

/* Start COPY sql on conn and read the first row; side_close in any case. */
static bool
side_open(side *s, PGconn *conn, const char *sql, int nfields, pt_err *err)
{
	PGresult   *res;

	memset(s, 0, sizeof(*s));
	s->conn = conn;
	s->nfields = nfields;
	s->fields = pt_calloc((size_t) nfields, sizeof(pt_text));
	s->done = true;
	if ((res = pt_pq_exec(conn, sql, PGRES_COPY_OUT, PT_PQ_ANY, PT_PQ_ANY, err)) == NULL)
		return false;
	PQclear(res);
	s->open = true;
	return side_next(s, err);
}

/* Stop a COPY still running (cancel, drain) and free the side. */
static void
side_close(side *s)
{
	if (s->row)
		PQfreemem(s->row);
	if (s->open)
	{
		PGcancel   *cancel = PQgetCancel(s->conn);
		char		errbuf[256];
		char	   *row;

		if (cancel)
		{
			PQcancel(cancel, errbuf, sizeof(errbuf));
			PQfreeCancel(cancel);
		}
		while (PQgetCopyData(s->conn, &row, 0) > 0)
			PQfreemem(row);
		side_drain(s);
	}
	free(s->fields);
	memset(s, 0, sizeof(*s));
}

/* ---- one table ---- */

static void
tcols_free(tcols *c)
{
	for (int i = 0; i < c->n; i++)
		free(c->names[i]);
	free(c->names);
	free(c->key);
	memset(c, 0, sizeof(*c));
}

/* The scratch table's columns (attnum order) and primary key; no key: all columns. */
static bool
scratch_columns(const pt_compare_opts *opts, const char *oid, tcols *c, pt_err *err)
{
	const char *params[1] = {oid};
	PGresult   *res = pt_pq_exec_params(opts->scratch,
										"SELECT a.attname, (SELECT k.n FROM pg_index i, unnest(i.indkey::int2[]) "
										"WITH ORDINALITY k(attnum, n) WHERE i.indrelid = a.attrelid AND i.indisprimary "
										"AND k.attnum = a.attnum) FROM pg_attribute a WHERE a.attrelid = $1::oid "
										"AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
										1, params, PGRES_TUPLES_OK, PT_PQ_ANY, 2, err);

	if (res == NULL)
		return false;
	c->n = PQntuples(res);
	c->names = pt_calloc((size_t) c->n + 1, sizeof(char *));
	c->key = pt_calloc((size_t) c->n + 1, sizeof(int));
	for (int i = 0; i < c->n; i++)
	{
		c->names[i] = pt_strdup(PQgetvalue(res, i, 0));
		if (!PQgetisnull(res, i, 1))
		{
			int			pos = atoi(PQgetvalue(res, i, 1));

			if (pos >= 1 && pos <= c->n)
				c->key[pos - 1] = i;
			c->nkey++;
		}
	}
	PQclear(res);
	if (c->nkey == 0)
		for (int i = 0; i < c->n; i++)
			c->key[c->nkey++] = i;
	return true;
}

/*
 * Is the table live with every column the log's state has? If not, sets
 * t->problem (a finding) and *comparable = false.
 */
static bool
live_check(const pt_compare_opts *opts, const tcols *c, pt_compare_table *t, bool *comparable, pt_err *err)
{
	const char *params[2] = {t->schema, t->table};
	PGresult   *res = pt_pq_exec_params(opts->source,
										"SELECT a.attname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
										"LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 "
										"AND NOT a.attisdropped WHERE n.nspname = $1 AND c.relname = $2 "
										"AND c.relkind IN ('r', 'p')",
										2, params, PGRES_TUPLES_OK, PT_PQ_ANY, 1, err);
	pt_buf		missing = PT_BUF_INIT;
	pt_buf		problem = PT_BUF_INIT;

	if (res == NULL)
		return false;
	for (int i = 0; i < c->n && PQntuples(res) > 0; i++)
	{
		int			r = 0;

		while (r < PQntuples(res) && (PQgetisnull(res, r, 0) || strcmp(PQgetvalue(res, r, 0), c->names[i]) != 0))
			r++;
		if (r == PQntuples(res))
			pt_buf_printf(&missing, "%s\"%s\"", missing.len ? ", " : "", c->names[i]);
	}
	*comparable = PQntuples(res) > 0 && missing.len == 0;
	if (PQntuples(res) == 0)
		pt_buf_printf(&problem, "table \"%s\".\"%s\" is in the log's state but not in the live database",
					  t->schema, t->table);
	else if (!*comparable)
		pt_buf_printf(&problem, "table \"%s\".\"%s\": column%s %s of the log's state %s not in the live table",
					  t->schema, t->table, strchr(missing.data, ',') ? "s" : "", missing.data,
					  strchr(missing.data, ',') ? "are" : "is");
	t->problem = problem.data;	/* NULL when comparable */
	PQclear(res);
	pt_buf_free(&missing);
	return true;
}

/* COPY (SELECT every column as text FROM ONLY the table ORDER BY the key's
 * text in byte order) TO STDOUT, with identifiers quoted for conn. */
static bool
copy_sql(PGconn *conn, const char *schema, const char *table, const tcols *c, pt_buf *sql, pt_err *err)
{
	char	   *qs = pt_pq_ident(conn, schema, err);
	char	   *qt = qs ? pt_pq_ident(conn, table, err) : NULL;
	char	  **q = pt_calloc((size_t) c->n + 1, sizeof(char *));
	bool		ok = qt != NULL;

	for (int i = 0; ok && i < c->n; i++)
		ok = (q[i] = pt_pq_ident(conn, c->names[i], err)) != NULL;
	if (ok)
	{
		pt_buf_puts(sql, "COPY (SELECT ");
		for (int i = 0; i < c->n; i++)
			pt_buf_printf(sql, "%s%s::text", i ? ", " : "", q[i]);
		pt_buf_printf(sql, " FROM ONLY %s.%s ORDER BY ", qs, qt);
		for (int i = 0; i < c->nkey; i++)
			pt_buf_printf(sql, "%s%s::text COLLATE \"C\"", i ? ", " : "", q[c->key[i]]);
		pt_buf_puts(sql, ") TO STDOUT");
	}
	for (int i = 0; i < c->n; i++)
		PQfreemem(q[i]);
	free(q);
	PQfreemem(qs);
	PQfreemem(qt);
	return ok;
}

/* Byte order, NULL last: as ORDER BY x COLLATE "C" sorts. */
static int
cmp_text(pt_text a, pt_text b)
{
	size_t		n = a.len < b.len ? a.len : b.len;
	int			r;

	if (a.ptr == NULL || b.ptr == NULL)
		return (a.ptr == NULL) - (b.ptr == NULL);
	r = memcmp(a.ptr, b.ptr, n);
	if (r != 0)
		return r < 0 ? -1 : 1;
	return (a.len > b.len) - (a.len < b.len);
}

static int
cmp_key(const tcols *c, const pt_text *a, const pt_text *b)
{
	int			r = 0;

	for (int i = 0; r == 0 && i < c->nkey; i++)
		r = cmp_text(a[c->key[i]], b[c->key[i]]);
	return r;
}

static bool
rows_equal(const tcols *c, const pt_text *a, const pt_text *b)
{
	for (int i = 0; i < c->n; i++)
		if (cmp_text(a[i], b[i]) != 0)
			return false;
	return true;
}

/* {"col": "text" | null, ...} of the columns idx[0..n) (all when idx is NULL); caller frees. */
static char *
row_json(const tcols *c, const pt_text *f, const int *idx, int n)
{
	pt_buf		b = PT_BUF_INIT;

	pt_buf_putc(&b, '{');
	for (int i = 0; i < n; i++)
	{
		int			col = idx ? idx[i] : i;

		if (i)
			pt_buf_putc(&b, ',');
		pt_json_put_cstring(&b, c->names[col]);
		pt_buf_putc(&b, ':');
		if (f[col].ptr)
			pt_json_put_string(&b, f[col].ptr, f[col].len);
		else
			pt_buf_puts(&b, "null");
	}
	pt_buf_putc(&b, '}');
	return b.data;
}

/* Count a differing row; keep it while fewer than max_rows are kept. */
static void
add_row(const pt_compare_opts *opts, pt_compare_table *t, const tcols *c, const char *kind, const side *logs,
		const side *live)
{
	const pt_text *keyrow = live ? live->fields : logs->fields;
	pt_compare_row *r;

	if (logs && live)
		t->changed++;
	else if (logs)
		t->missing++;
	else
		t->extra++;
	if (t->nrows >= opts->max_rows)
		return;
	t->rows = pt_realloc(t->rows, (size_t) (t->nrows + 1) * sizeof(pt_compare_row));
	r = &t->rows[t->nrows++];
	r->kind = kind;
	r->key = row_json(c, keyrow, c->key, c->nkey);
	r->live = live ? row_json(c, live->fields, NULL, c->n) : NULL;
	r->log = logs ? row_json(c, logs->fields, NULL, c->n) : NULL;
}

/* Merge-join the two sorted streams; one row of each side in memory. */
static bool
merge(const pt_compare_opts *opts, const tcols *c, side *logs, side *live, pt_compare_table *t, pt_err *err)
{
	bool		ok = true;

	while (ok && (!logs->done || !live->done))
	{
		int			r = logs->done ? 1 : live->done ? -1 : cmp_key(c, logs->fields, live->fields);

		if (*opts->stop)
			return pt_err_set(err, PT_ERR_RUNTIME, "drift: interrupted");
		if (r == 0)
		{
			if (!rows_equal(c, logs->fields, live->fields))
				add_row(opts, t, c, "changed", logs, live);
			ok = side_next(logs, err) && side_next(live, err);
		}
		else if (r < 0)
		{
			add_row(opts, t, c, "missing", logs, NULL);
			ok = side_next(logs, err);
		}
		else
		{
			add_row(opts, t, c, "extra", NULL, live);
			ok = side_next(live, err);
		}
	}
	return ok;
}

/* Stream both sides of one table and merge them. */
static bool
compare_rows(const pt_compare_opts *opts, const tcols *c, pt_compare_table *t, pt_err *err)
{
	pt_buf		logsql = PT_BUF_INIT;
	pt_buf		livesql = PT_BUF_INIT;
	side		logs,
				live;
	bool		ok;

	memset(&logs, 0, sizeof(logs));
	memset(&live, 0, sizeof(live));
	ok = copy_sql(opts->scratch, t->schema, t->table, c, &logsql, err) &&
		copy_sql(opts->source, t->schema, t->table, c, &livesql, err) &&
		side_open(&logs, opts->scratch, logsql.data, c->n, err) &&
		side_open(&live, opts->source, livesql.data, c->n, err) &&
		merge(opts, c, &logs, &live, t, err);
	if (!ok && strcmp(err->sqlstate, PT_SQLSTATE_INSUFFICIENT_PRIVILEGE) == 0)
	{
		err->kind = PT_ERR_CONFIG;
		pt_err_hint(err, "grant SELECT on the captured tables to the role pgtrail-verify connects to the source as");
	}
	side_close(&logs);
	side_close(&live);
	pt_buf_free(&logsql);
	pt_buf_free(&livesql);
	return ok;
}

/* ---- the interface ---- */

void
pt_compare_free(pt_compare_table *t)
{
	if (t == NULL)
		return;
	for (int i = 0; i < t->nrows; i++)
	{
		free(t->rows[i].key);
		free(t->rows[i].live);
		free(t->rows[i].log);
	}
	free(t->rows);
	free(t->schema);
	free(t->table);
	free(t->problem);
	free(t);
}

pt_compare_table *
pt_compare_run(const pt_compare_opts *opts, const char *schema, const char *table, const char *oid, pt_err *err)
{
	pt_compare_table *t = pt_calloc(1, sizeof(*t));
	tcols		c;
	bool		ok;

	memset(&c, 0, sizeof(c));
	t->schema = pt_strdup(schema);
	t->table = pt_strdup(table);
	ok = scratch_columns(opts, oid, &c, err) && (c.n == 0 || live_check(opts, &c, t, &t->compared, err));
	if (ok && t->compared)
		ok = compare_rows(opts, &c, t, err);
	if (!ok)
		pt_err_prefix(err, "drift: table \"%s\".\"%s\"", schema, table);
	tcols_free(&c);
	if (ok)
		return t;
	pt_compare_free(t);
	return NULL;
}
