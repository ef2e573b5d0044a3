/*
 * replay/apply.c — pipelined, prepared writes into the target (see apply.h).
 */
#include "replay/apply.h"

#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/mem.h"
#include "core/pq.h"

#define SYNC_EVERY 500			/* statements between reading results back */
#define RUN_ROWS 64				/* most rows in one multi-row INSERT */
#define RUN_BYTES (1024 * 1024) /* most value bytes held for one */

typedef enum stmt_op
{
	OP_INSERT,
	OP_UPDATE,
	OP_DELETE
} stmt_op;

struct pt_stmt
{
	stmt_op		op;
	int			rows;			/* INSERT: rows per statement (a power of two) */
	bool		by_key;
	int			nset;
	int			nwhere;
	int		   *cols;			/* nset set columns, then nwhere where columns */
	char		name[32];
	pt_stmt    *next;
};

/* How an UPDATE or DELETE finds its row (see put_match). */
typedef enum match_kind
{
	MATCH_NONE,					/* an INSERT, or not an event's statement */
	MATCH_KEY,					/* the key alone: the log's old row is the key */
	MATCH_KEY_ROW,				/* the key, and among rows sharing it the whole old row */
	MATCH_ROW					/* every column the log's old row holds (no key) */
} match_kind;

typedef struct pending
{
	int64_t		event_id;		/* 0: not an event's statement */
	int64_t		last_event_id;	/* a multi-row INSERT: its last row's event */
	int			rows;			/* rows it must affect (0: any) */
	const char *table;			/* qname, for the message */
	match_kind	match;
} pending;

/*
 * Consecutive inserts into one table with one column set are held here and
 * sent as multi-row INSERTs (64, 32, ... rows): one statement instead of
 * up to 64 in the target, where per-statement overhead dominates. Values
 * are copied (NUL-terminated) into the arena, at most RUN_BYTES of them.
 */
typedef struct insert_run
{
	pt_ttable  *tt;
	pt_stmt    *one;			/* the single-row statement: the run's shape */
	int			n;				/* rows held */
	int64_t	   *events;			/* each row's event id */
	int			eventcap;
	pt_buf		arena;
	size_t	   *offs;			/* n * ncols offsets into arena, -1 for NULL */
	int			offcap;
} insert_run;

struct pt_apply
{
	PGconn	   *conn;
	bool		in_pipeline;
	pending    *pend;
	int			npend;
	int			pendcap;
	int64_t		nstmts;
	int64_t		sent;
	pt_buf		arena;			/* NUL-terminated copies of the values */
	const char **params;
	size_t	   *offsets;
	int			paramcap;
	pt_buf		sql;
	insert_run	run;
	bool		closing;		/* the session ends: no DEALLOCATE needed */
};

pt_apply *
pt_apply_new(PGconn *conn)
{
	pt_apply   *ap = pt_calloc(1, sizeof(*ap));

	ap->conn = conn;
	return ap;
}

void
pt_apply_free(pt_apply *ap)
{
	if (ap == NULL)
		return;
	free(ap->pend);
	free(ap->params);
	free(ap->offsets);
	free(ap->run.offs);
	free(ap->run.events);
	pt_buf_free(&ap->run.arena);
	pt_buf_free(&ap->arena);
	pt_buf_free(&ap->sql);
	free(ap);
}

void
pt_values_reset(pt_values *v)
{
	v->n = 0;
}

void
pt_values_add(pt_values *v, int col, pt_text val)
{
	if (v->n == v->cap)
	{
		v->cap = v->cap ? v->cap * 2 : 32;
		v->cols = pt_realloc(v->cols, sizeof(int) * (size_t) v->cap);
		v->vals = pt_realloc(v->vals, sizeof(pt_text) * (size_t) v->cap);
	}
	v->cols[v->n] = col;
	v->vals[v->n] = val;
	v->n++;
}

void
pt_values_free(pt_values *v)
{
	free(v->cols);
	free(v->vals);
	memset(v, 0, sizeof(*v));
}

void
pt_apply_forget(pt_apply *ap, pt_ttable *tt)
{
	/* callers flush first: a run never outlives its table's statements */
	if (ap->run.tt == tt)
	{
		ap->run.n = 0;
		ap->run.tt = NULL;
		pt_buf_reset(&ap->run.arena);
	}
	while (tt->stmts)
	{
		pt_stmt    *next = tt->stmts->next;

		/* the server keeps a prepared statement until told: a long --follow
		 * with schema changes must not pile them up (best effort) */
		if (!ap->in_pipeline && PQstatus(ap->conn) == CONNECTION_OK && !ap->closing)
		{
			char		sql[64];
			PGresult   *res;

			snprintf(sql, sizeof(sql), "DEALLOCATE %s", tt->stmts->name);
			res = PQexec(ap->conn, sql);
			PQclear(res);
		}
		free(tt->stmts->cols);
		free(tt->stmts);
		tt->stmts = next;
	}
}

void
pt_apply_closing(pt_apply *ap)
{
	ap->closing = true;
}

int64_t
pt_apply_statements(const pt_apply *ap)
{
	return ap->sent;
}

/* ---- the pipeline ---- */

static bool
enter(pt_apply *ap, pt_err *err)
{
	if (ap->in_pipeline)
		return true;
	if (!PQenterPipelineMode(ap->conn))
		return pt_pq_error(ap->conn, NULL, "could not enter pipeline mode", err);
	ap->in_pipeline = true;
	return true;
}

static void
expect(pt_apply *ap, int64_t event_id, int rows, const char *table)
{
	if (ap->npend == ap->pendcap)
	{
		ap->pendcap = ap->pendcap ? ap->pendcap * 2 : 1024;
		ap->pend = pt_realloc(ap->pend, sizeof(pending) * (size_t) ap->pendcap);
	}
	ap->pend[ap->npend++] = (pending) {event_id, event_id, rows, table, MATCH_NONE};
}

/* What the target refusing a row usually means, and the fix. */
static void
explain(pt_err *err)
{
	if (strcmp(err->sqlstate, "23502") == 0)
	{
		err->kind = PT_ERR_CONFIG;
		pt_err_hint(err, "the log holds null there: a NULL at the source, or NaN or Infinity in a numeric or "
					"float column, which wal2json 2.5 sends as null (a known loss); drop the NOT NULL "
					"constraint in the target to replay them as null");
	}
	else if (strcmp(err->sqlstate, "23514") == 0)
	{
		err->kind = PT_ERR_CONFIG;
		pt_err_hint(err, "a CHECK constraint or a partition bound of the target refuses a row the source held: "
					"when partitions were attached or detached, replay --create-tables follows them only with DDL "
					"capture on; else restore the schema as of the stop point (pg_dump --schema-only) and replay "
					"into it, which routes rows by its bounds");
	}
	else if (strcmp(err->sqlstate, "23505") == 0)
	{
		err->kind = PT_ERR_INTEGRITY;
		pt_err_hint(err, "the target's table already holds that row: replay into empty tables, or with --clean; "
					"or the source's key is DEFERRABLE (rows swap keys inside a transaction) and the target's "
					"is not: make it DEFERRABLE there too");
	}
}

/* Why an UPDATE or DELETE changed no row, or several, and the fix. */
static void
explain_count(pt_err *err, match_kind match, int changed)
{
	if (changed > 1)
		pt_err_detail(err, "%d rows of the target's table have the key the log names (the log's old row is "
					  "the key alone)", changed);
	else if (match == MATCH_ROW)
		pt_err_detail(err, "no row of the target's table holds the old row's values as the log has them (the "
					  "table has no key there: every column of the old row is compared, in its type)");
	else if (match == MATCH_KEY_ROW)
		pt_err_detail(err, "no row of the target's table has the key the log names, or several do and none "
					  "holds the old row's values as the log has them");
	else
		pt_err_detail(err, "no row of the target's table has the key the log names");
	pt_err_hint(err, "the table was changed outside replay, or was not empty when replay began: replay into "
				"empty tables, or with --clean");
}

/* The result of one pending statement; the first problem goes into err. */
static bool
check_result(pt_apply *ap, const pending *p, PGresult *res, bool ok, pt_err *err)
{
	ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;

	if (!ok)
		return false;			/* an earlier one failed: the rest are aborted */
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
	{
		pt_pq_error(ap->conn, res, NULL, err);
		explain(err);
		if (p->event_id > 0)
		{
			if (p->last_event_id > p->event_id)
				pt_err_prefix(err, "one of events %lld to %lld (inserted together)%s%s", (long long) p->event_id,
							  (long long) p->last_event_id, p->table ? ": " : "", p->table ? p->table : "");
			else
				pt_err_prefix(err, "event %lld%s%s", (long long) p->event_id, p->table ? ": " : "",
							  p->table ? p->table : "");
		}
		return false;
	}
	if (p->rows > 0 && atoi(PQcmdTuples(res)) != p->rows)
	{
		pt_err_set(err, PT_ERR_INTEGRITY, "event %lld: %s changed %s rows in %s, expected %d",
				   (long long) p->event_id, PQcmdStatus(res), PQcmdTuples(res), p->table, p->rows);
		explain_count(err, p->match, atoi(PQcmdTuples(res)));
		return false;
	}
	return true;
}

static bool send_run(pt_apply *ap, pt_err *err);

bool
pt_apply_flush(pt_apply *ap, pt_err *err)
{
	bool		ok = true;
	PGresult   *res;

	if (!send_run(ap, err))
		return false;
	if (!ap->in_pipeline)
		return true;
	if (!PQpipelineSync(ap->conn))
		return pt_pq_error(ap->conn, NULL, "could not send to the target", err);
	for (int i = 0; i < ap->npend; i++)
	{
		res = PQgetResult(ap->conn);
		if (res == NULL && PQstatus(ap->conn) == CONNECTION_BAD)
		{
			ap->npend = 0;
			return ok ? pt_pq_error(ap->conn, NULL, "lost the target connection", err) : false;
		}
		ok = check_result(ap, &ap->pend[i], res, ok, err);
		PQclear(res);
		while ((res = PQgetResult(ap->conn)) != NULL)	/* the NULL that ends each statement */
			PQclear(res);
	}
	ap->npend = 0;
	res = PQgetResult(ap->conn);
	if (res == NULL || PQresultStatus(res) != PGRES_PIPELINE_SYNC)
		ok = ok ? pt_pq_error(ap->conn, res, "target pipeline out of step", err) : false;
	PQclear(res);
	if (PQexitPipelineMode(ap->conn))
		ap->in_pipeline = false;
	else if (ok)
		ok = pt_pq_error(ap->conn, NULL, "could not leave pipeline mode", err);
	return ok;
}

/* Copy the values into the arena as C strings; params point there. */
static const char *const *
text_params(pt_apply *ap, const pt_values *a, const pt_values *b)
{
	int			n = (a ? a->n : 0) + (b ? b->n : 0),
				k = 0;

	if (n > ap->paramcap)
	{
		ap->paramcap = n * 2;
		ap->params = pt_realloc(ap->params, sizeof(char *) * (size_t) ap->paramcap);
		ap->offsets = pt_realloc(ap->offsets, sizeof(size_t) * (size_t) ap->paramcap);
	}
	pt_buf_reset(&ap->arena);
	for (int pass = 0; pass < 2; pass++)
	{
		const pt_values *v = pass == 0 ? a : b;

		for (int i = 0; v && i < v->n; i++, k++)
		{
			ap->offsets[k] = v->vals[i].ptr ? ap->arena.len : (size_t) -1;
			if (v->vals[i].ptr)
			{
				pt_buf_append(&ap->arena, v->vals[i].ptr, v->vals[i].len);
				pt_buf_putc(&ap->arena, '\0');
			}
		}
	}
	for (int i = 0; i < n; i++)
		ap->params[i] = ap->offsets[i] == (size_t) -1 ? NULL : ap->arena.data + ap->offsets[i];
	return ap->params;
}

static bool
send_sync_if_due(pt_apply *ap, pt_err *err)
{
	if (ap->npend < SYNC_EVERY)
		return true;
	return pt_apply_flush(ap, err) && enter(ap, err);
}

bool
pt_apply_sql(pt_apply *ap, const char *sql, int nparams, const char *const *params, int64_t event_id, pt_err *err)
{
	if (!send_run(ap, err) || !enter(ap, err))
		return false;
	if (!PQsendQueryParams(ap->conn, sql, nparams, NULL, params, NULL, NULL, 0))
		return pt_pq_error(ap->conn, NULL, "could not send to the target", err);
	expect(ap, event_id, 0, NULL);
	ap->sent++;
	return send_sync_if_due(ap, err);
}

/* ---- statements ---- */

static bool
same_shape(const pt_stmt *s, stmt_op op, int rows, bool by_key, const pt_values *set, const pt_values *where)
{
	int			nset = set ? set->n : 0,
				nwhere = where ? where->n : 0;

	if (s->op != op || s->rows != rows || s->by_key != by_key || s->nset != nset || s->nwhere != nwhere)
		return false;
	for (int i = 0; i < nset; i++)
		if (s->cols[i] != set->cols[i])
			return false;
	for (int i = 0; i < nwhere; i++)
		if (s->cols[nset + i] != where->cols[i])
			return false;
	return true;
}

static bool
is_key(const pt_ttable *tt, int col)
{
	for (int p = 0; p < tt->npk; p++)
		if (tt->pk[p] == col)
			return true;
	return false;
}

/* How s finds its row: by key alone, by key then whole row, or by whole row. */
static match_kind
match_of(const pt_ttable *tt, const pt_stmt *s)
{
	int			nkey = 0;

	if (s->by_key)
		return MATCH_KEY;
	for (int i = 0; i < s->nwhere; i++)
		nkey += is_key(tt, s->cols[s->nset + i]);
	return tt->npk > 0 && nkey == tt->npk ? MATCH_KEY_ROW : MATCH_ROW;
}

/* The key columns of where, each "alias.col = $n" read as the column's type. */
static void
put_key(pt_buf *sql, const pt_ttable *tt, const pt_stmt *s, int first_param, const char *alias)
{
	bool		first = true;

	for (int i = 0; i < s->nwhere; i++)
	{
		int			c = s->cols[s->nset + i];

		if (!is_key(tt, c))
			continue;
		pt_buf_printf(sql, "%s%s.%s = CAST($%d AS %s)", first ? "" : " AND ", alias, tt->cols[c].name,
					  first_param + i, tt->cols[c].type);
		first = false;
	}
}

/*
 * Every column of where, exactly: the log's text is read by the column's
 * type and both sides are printed by that type's output function, so
 * boolean "t" (text cast "true"), char(n) (the log keeps the padding the
 * text cast drops), json and point (no equality operator) match as the
 * values they are, and values that equality calls equal but that differ
 * (numeric 1.5 and 1.50, float -0 and 0, citext case) do not.
 */
static void
put_exact(pt_buf *sql, const pt_ttable *tt, const pt_stmt *s, int first_param, const char *alias)
{
	for (int i = 0; i < s->nwhere; i++)
	{
		int			c = s->cols[s->nset + i];

		pt_buf_printf(sql, "%s%s.%s::text IS NOT DISTINCT FROM CAST(CAST($%d AS %s) AS text)", i ? " AND " : "",
					  alias, tt->cols[c].name, first_param + i, tt->cols[c].type);
	}
}

/*
 * " WHERE ..." of an UPDATE or DELETE. By key alone: the key's equality.
 * Otherwise one row by ctid: the one equal to the whole old row; with a
 * key, the one row holding it, or when several do (a deferrable key in the
 * middle of a swap), the one equal to the whole old row. Rows equal in
 * every column are interchangeable: any one of them is the row.
 */
static void
put_match(pt_buf *sql, const pt_ttable *tt, const pt_stmt *s, int first_param)
{
	match_kind	match = match_of(tt, s);

	pt_buf_puts(sql, " WHERE ");
	if (match == MATCH_KEY)
	{
		for (int i = 0; i < s->nwhere; i++)
			pt_buf_printf(sql, "%s%s = $%d", i ? " AND " : "", tt->cols[s->cols[s->nset + i]].name, first_param + i);
		return;
	}
	pt_buf_printf(sql, "ctid = (SELECT r.ctid FROM ONLY %s r WHERE ", tt->qname);
	if (match == MATCH_KEY_ROW)
	{
		put_key(sql, tt, s, first_param, "r");
		pt_buf_puts(sql, " AND (");
		put_exact(sql, tt, s, first_param, "r");
		pt_buf_printf(sql, " OR NOT EXISTS (SELECT FROM ONLY %s o WHERE ", tt->qname);
		put_key(sql, tt, s, first_param, "o");
		pt_buf_puts(sql, " AND o.ctid <> r.ctid))");
	}
	else
		put_exact(sql, tt, s, first_param, "r");
	pt_buf_puts(sql, " LIMIT 1)");
}

/* The SQL of a statement; column names are quoted in a copy of the catalog names. */
static bool
statement_sql(pt_apply *ap, pt_ttable *tt, pt_stmt *s, pt_err *err)
{
	pt_buf	   *sql = &ap->sql;
	bool		overriding = false;
	char	  **q = pt_calloc((size_t) tt->ncols + 1, sizeof(char *));
	pt_ttable	quoted = *tt;
	bool		ok = true;

	quoted.cols = pt_calloc((size_t) tt->ncols + 1, sizeof(pt_tcolumn));
	for (int i = 0; ok && i < tt->ncols; i++)
	{
		q[i] = pt_pq_ident(ap->conn, tt->cols[i].name, err);
		ok = q[i] != NULL;
		quoted.cols[i] = tt->cols[i];
		quoted.cols[i].name = q[i];
	}
	pt_buf_reset(sql);
	if (ok && s->op == OP_INSERT)
	{
		pt_buf_printf(sql, "INSERT INTO %s (", tt->qname);
		for (int i = 0; i < s->nset; i++)
		{
			pt_buf_printf(sql, "%s%s", i ? ", " : "", q[s->cols[i]]);
			overriding |= tt->cols[s->cols[i]].identity_always;
		}
		pt_buf_printf(sql, ")%s VALUES ", overriding ? " OVERRIDING SYSTEM VALUE" : "");
		for (int row = 0; row < s->rows; row++)
		{
			pt_buf_puts(sql, row ? ", (" : "(");
			for (int i = 0; i < s->nset; i++)
				pt_buf_printf(sql, "%s$%d", i ? ", " : "", row * s->nset + i + 1);
			pt_buf_putc(sql, ')');
		}
	}
	else if (ok)
	{
		if (s->op == OP_UPDATE)
		{
			pt_buf_printf(sql, "UPDATE %s%s SET ", tt->root ? "" : "ONLY ", tt->qname);
			for (int i = 0; i < s->nset; i++)
				pt_buf_printf(sql, "%s%s = $%d", i ? ", " : "", q[s->cols[i]], i + 1);
		}
		else
			pt_buf_printf(sql, "DELETE FROM %s%s", tt->root ? "" : "ONLY ", tt->qname);
		put_match(sql, &quoted, s, s->nset + 1);
	}
	for (int i = 0; i < tt->ncols; i++)
		PQfreemem(q[i]);
	free(q);
	free(quoted.cols);
	return ok;
}

/*
 * The table a statement names: a partition's root in the target for an
 * INSERT, and for a change found by a key the root's own key also has (so
 * the target routes, and moves, rows by the bounds it has); the table
 * itself otherwise. *via is the copy that names the root ("root" set:
 * without ONLY).
 */
static pt_ttable *
written(pt_ttable *tt, stmt_op op, bool by_key, pt_ttable *via)
{
	*via = *tt;
	if (tt->root && (op == OP_INSERT || (by_key && tt->root_keyed)))
		via->qname = tt->root;
	else
		via->root = NULL;
	return via;
}

static pt_stmt *
statement(pt_apply *ap, pt_ttable *tt, stmt_op op, int rows, bool by_key, const pt_values *set,
		  const pt_values *where, int64_t event_id, pt_err *err)
{
	pt_stmt    *s;
	pt_ttable	via;
	int			nset = set ? set->n : 0,
				nwhere = where ? where->n : 0;

	for (s = tt->stmts; s; s = s->next)
		if (same_shape(s, op, rows, by_key, set, where))
			return s;
	s = pt_calloc(1, sizeof(*s));
	s->op = op;
	s->rows = rows;
	s->by_key = by_key;
	s->nset = nset;
	s->nwhere = nwhere;
	s->cols = pt_malloc(sizeof(int) * (size_t) (nset + nwhere + 1));
	for (int i = 0; i < nset; i++)
		s->cols[i] = set->cols[i];
	for (int i = 0; i < nwhere; i++)
		s->cols[nset + i] = where->cols[i];
	snprintf(s->name, sizeof(s->name), "pgtrail_%lld", (long long) ++ap->nstmts);
	if (!statement_sql(ap, written(tt, op, by_key, &via), s, err) || !enter(ap, err) ||
		!PQsendPrepare(ap->conn, s->name, ap->sql.data, 0, NULL))
	{
		if (err->kind == PT_ERR_NONE)
			pt_pq_error(ap->conn, NULL, "could not prepare a statement on the target", err);
		free(s->cols);
		free(s);
		return NULL;
	}
	expect(ap, event_id, 0, tt->qname);
	s->next = tt->stmts;
	tt->stmts = s;
	return s;
}

static bool
send_prepared(pt_apply *ap, pt_ttable *tt, pt_stmt *s, const pt_values *set, const pt_values *where,
			  int64_t event_id, pt_err *err)
{
	const char *const *params = text_params(ap, set, where);

	/* a statement prepared before the last flush is sent in a new pipeline */
	if (!enter(ap, err))
		return false;
	if (!PQsendQueryPrepared(ap->conn, s->name, s->nset + s->nwhere, params, NULL, NULL, 0))
		return pt_pq_error(ap->conn, NULL, "could not send to the target", err);
	expect(ap, event_id, 1, tt->qname);
	ap->pend[ap->npend - 1].match = match_of(tt, s);
	ap->sent++;
	return send_sync_if_due(ap, err);
}

/* The run's rows as statements of 64, 32, ... rows (each prepared once). */
static bool
send_run(pt_apply *ap, pt_err *err)
{
	insert_run *run = &ap->run;
	int			ncols,
				nrows = run->n,
				done = 0;
	bool		ok = true;

	if (nrows == 0)
		return true;
	/* taken now: a sync below flushes the pipeline, which must not send the run again */
	run->n = 0;
	ncols = run->one->nset;
	while (ok && done < nrows)
	{
		int			rows = RUN_ROWS;
		pt_values	shape = {run->one->nset, run->one->cols, NULL, 0};
		pt_stmt    *s;
		int			nparams;

		while (rows > nrows - done)
			rows /= 2;
		if ((s = statement(ap, run->tt, OP_INSERT, rows, false, &shape, NULL, run->events[done], err)) == NULL)
		{
			ok = false;
			break;
		}
		nparams = rows * ncols;
		if (nparams > ap->paramcap)
		{
			ap->paramcap = nparams * 2;
			ap->params = pt_realloc(ap->params, sizeof(char *) * (size_t) ap->paramcap);
			ap->offsets = pt_realloc(ap->offsets, sizeof(size_t) * (size_t) ap->paramcap);
		}
		for (int i = 0; i < nparams; i++)
		{
			size_t		off = run->offs[(size_t) done * (size_t) ncols + (size_t) i];

			ap->params[i] = off == (size_t) -1 ? NULL : run->arena.data + off;
		}
		if (!enter(ap, err))
		{
			ok = false;
			break;
		}
		if (!PQsendQueryPrepared(ap->conn, s->name, nparams, ap->params, NULL, NULL, 0))
		{
			ok = pt_pq_error(ap->conn, NULL, "could not send to the target", err);
			break;
		}
		expect(ap, run->events[done], rows, run->tt->qname);
		ap->pend[ap->npend - 1].last_event_id = run->events[done + rows - 1];
		ap->sent++;
		done += rows;
		ok = send_sync_if_due(ap, err);
	}
	run->tt = NULL;
	pt_buf_reset(&run->arena);
	return ok;
}

bool
pt_apply_insert(pt_apply *ap, pt_ttable *tt, const pt_values *set, int64_t event_id, pt_err *err)
{
	insert_run *run = &ap->run;
	pt_stmt    *one;
	size_t		need;

	pt_err_clear(err);
	if ((one = statement(ap, tt, OP_INSERT, 1, false, set, NULL, event_id, err)) == NULL)
		return false;
	if (run->n > 0 && (run->tt != tt || run->one != one) && !send_run(ap, err))
		return false;
	if (run->n == 0)
	{
		run->tt = tt;
		run->one = one;
	}
	need = (size_t) (run->n + 1) * (size_t) set->n;
	if (need > (size_t) run->offcap)
	{
		run->offcap = (int) need * 2;
		run->offs = pt_realloc(run->offs, sizeof(size_t) * (size_t) run->offcap);
	}
	for (int i = 0; i < set->n; i++)
	{
		size_t	   *off = &run->offs[(size_t) run->n * (size_t) set->n + (size_t) i];

		*off = set->vals[i].ptr ? run->arena.len : (size_t) -1;
		if (set->vals[i].ptr)
		{
			pt_buf_append(&run->arena, set->vals[i].ptr, set->vals[i].len);
			pt_buf_putc(&run->arena, '\0');
		}
	}
	if (run->n == run->eventcap)
	{
		run->eventcap = run->eventcap ? run->eventcap * 2 : RUN_ROWS;
		run->events = pt_realloc(run->events, sizeof(int64_t) * (size_t) run->eventcap);
	}
	run->events[run->n] = event_id;
	run->n++;
	if (run->n == RUN_ROWS || run->arena.len >= RUN_BYTES)
		return send_run(ap, err);
	return true;
}

bool
pt_apply_change(pt_apply *ap, pt_ttable *tt, const pt_values *set, const pt_values *where, bool by_key,
				int64_t event_id, pt_err *err)
{
	pt_stmt    *s;

	pt_err_clear(err);
	if (!send_run(ap, err))
		return false;
	s = statement(ap, tt, set ? OP_UPDATE : OP_DELETE, 1, by_key, set, where, event_id, err);
	return s != NULL && send_prepared(ap, tt, s, set, where, event_id, err);
}
