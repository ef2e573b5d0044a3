/*
 * core/store_losses.c — known losses: the queue capture fills, the losses
 * table it writes, the lines verify and replay say (see store_losses.h).
 */
#include "core/store_losses.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/mem.h"
#include "core/pq.h"

static bool
same(const pt_loss *l, const char *schema, const char *table, const char *kind, const char *detail)
{
	return strcmp(l->schema_name, schema) == 0 && strcmp(l->table_name, table) == 0 &&
		strcmp(l->kind, kind) == 0 && strcmp(l->detail, detail) == 0;
}

void
pt_loss_queue_add(pt_loss_queue *q, const char *schema, const char *table, const char *kind,
				  const char *detail, int64_t count, pt_lsn lsn)
{
	for (int i = 0; i < q->n; i++)
		if (same(&q->items[i], schema, table, kind, detail))
		{
			q->items[i].count += count;
			if (lsn > q->items[i].lsn)
				q->items[i].lsn = lsn;
			return;
		}
	if (q->n == q->cap)
	{
		q->cap = q->cap ? q->cap * 2 : 8;
		q->items = pt_realloc(q->items, sizeof(pt_loss) * (size_t) q->cap);
	}
	q->items[q->n++] = (pt_loss) {pt_strdup(schema), pt_strdup(table), pt_strdup(kind), pt_strdup(detail), count, lsn};
}

void
pt_loss_queue_clear(pt_loss_queue *q)
{
	for (int i = 0; i < q->n; i++)
	{
		free(q->items[i].schema_name);
		free(q->items[i].table_name);
		free(q->items[i].kind);
		free(q->items[i].detail);
	}
	q->n = 0;
}

void
pt_loss_queue_free(pt_loss_queue *q)
{
	pt_loss_queue_clear(q);
	free(q->items);
	q->items = NULL;
	q->cap = 0;
}

#define UPSERT_SQL \
	"INSERT INTO %s.losses AS l (schema_name, table_name, kind, detail, count, last_lsn) " \
	"VALUES ($1, $2, $3, $4, $5, $6) " \
	"ON CONFLICT (schema_name, table_name, kind, detail) DO UPDATE SET count = l.count + EXCLUDED.count, " \
	"last_seen = now(), last_lsn = greatest(l.last_lsn, EXCLUDED.last_lsn)"

bool
pt_loss_queue_write(pt_loss_queue *q, PGconn *conn, const char *qschema, pt_err *err)
{
	pt_buf		sql = PT_BUF_INIT;
	bool		ok = true;

	pt_buf_printf(&sql, UPSERT_SQL, qschema);
	for (int i = 0; ok && i < q->n; i++)
	{
		const pt_loss *l = &q->items[i];
		char		count[32];
		char		lsn[PT_LSN_BUFLEN];
		const char *params[6] = {l->schema_name, l->table_name, l->kind, l->detail, count, l->lsn ? lsn : NULL};
		PGresult   *res;

		snprintf(count, sizeof(count), "%lld", (long long) l->count);
		pt_lsn_format(l->lsn, lsn);
		res = pt_pq_exec_params(conn, sql.data, 6, params, PGRES_COMMAND_OK, PT_PQ_ANY, PT_PQ_ANY, err);
		ok = res != NULL;
		PQclear(res);
	}
	pt_buf_free(&sql);
	if (ok)
		pt_loss_queue_clear(q);
	return ok;
}

bool
pt_store_losses_last_lsn(PGconn *conn, const char *schema, const char *kind, pt_lsn *lsn, pt_err *err)
{
	const char *params[1] = {kind};
	pt_buf		sql = PT_BUF_INIT;
	char	   *qschema = pt_pq_ident(conn, schema, err);
	PGresult   *res;
	bool		ok;

	*lsn = 0;
	if (qschema == NULL)
		return false;
	pt_buf_printf(&sql, "SELECT coalesce(max(last_lsn), '0/0')::text FROM %s.losses WHERE kind = $1", qschema);
	PQfreemem(qschema);
	res = pt_pq_exec_params(conn, sql.data, 1, params, PGRES_TUPLES_OK, 1, 1, err);
	pt_buf_free(&sql);
	if (res == NULL)
		return false;
	ok = pt_lsn_parse(PQgetvalue(res, 0, 0), (size_t) PQgetlength(res, 0, 0), lsn) ||
		pt_err_set(err, PT_ERR_INTEGRITY, "malformed last_lsn in the losses table");
	PQclear(res);
	return ok;
}

/* One line for one row of the losses table. */
static char *
describe(const char *schema, const char *table, const char *kind, const char *detail, const char *count)
{
	pt_buf		b = PT_BUF_INIT;

	if (schema[0] != '\0')
		pt_buf_printf(&b, "table %s.%s: ", schema, table);
	if (strcmp(kind, PT_LOSS_NAN) == 0)
		pt_buf_printf(&b, "%s values of NOT NULL column \"%s\" arrived as null: NaN or Infinity at the source "
					  "(wal2json 2.5 cannot carry them)", count, detail);
	else if (strcmp(kind, PT_LOSS_MAYBE_NAN) == 0)
		pt_buf_printf(&b, "%s nulls of numeric or float column \"%s\" came from the stream: each may have been NaN "
					  "or Infinity (wal2json 2.5 sends them as null)", count, detail);
	else if (strcmp(kind, PT_LOSS_UNLOGGED) == 0)
		pt_buf_puts(&b, "unlogged: its changes never reach the WAL and were not captured");
	else if (strcmp(kind, PT_LOSS_NO_IDENTITY) == 0)
		pt_buf_puts(&b, "no replica identity: its UPDATEs and DELETEs were not captured");
	else if (strcmp(kind, PT_LOSS_NONTX_MESSAGE) == 0)
		pt_buf_printf(&b, "%s non-transactional logical messages with prefix \"%s\" were not captured", count, detail);
	else
		pt_buf_printf(&b, "%s (%s, count %s)", kind, detail, count);
	return b.data;
}

bool
pt_store_losses_describe(PGconn *conn, const char *schema, char ***lines, int *nlines, pt_err *err)
{
	const char *params[1] = {schema};
	char	   *qschema;
	pt_buf		sql = PT_BUF_INIT;
	PGresult   *res;

	*lines = NULL;
	*nlines = 0;
	res = pt_pq_exec_params(conn, "SELECT to_regclass(quote_ident($1) || '.losses') IS NOT NULL", 1, params,
							PGRES_TUPLES_OK, 1, 1, err);
	if (res == NULL)
		return false;
	if (strcmp(PQgetvalue(res, 0, 0), "t") != 0 || (qschema = pt_pq_ident(conn, schema, err)) == NULL)
	{
		bool		ok = strcmp(PQgetvalue(res, 0, 0), "t") != 0;

		PQclear(res);
		return ok;
	}
	PQclear(res);
	pt_buf_printf(&sql, "SELECT schema_name, table_name, kind, detail, count FROM %s.losses "
				  "ORDER BY schema_name, table_name, kind, detail", qschema);
	PQfreemem(qschema);
	res = pt_pq_exec(conn, sql.data, PGRES_TUPLES_OK, PT_PQ_ANY, 5, err);
	pt_buf_free(&sql);
	if (res == NULL)
		return false;
	*nlines = PQntuples(res);
	*lines = pt_malloc(sizeof(char *) * (size_t) (*nlines + 1));
	for (int i = 0; i < *nlines; i++)
		(*lines)[i] = describe(PQgetvalue(res, i, 0), PQgetvalue(res, i, 1), PQgetvalue(res, i, 2),
							   PQgetvalue(res, i, 3), PQgetvalue(res, i, 4));
	PQclear(res);
	return true;
}

void
pt_loss_lines_free(char **lines, int n)
{
	for (int i = 0; i < n; i++)
		free(lines[i]);
	free(lines);
}
