/*
 * core/schema_event.c — schema versions inside the hash chain (see
 * schema_event.h).
 *
 * The document is built here in C for the writer, and again in SQL from
 * the schemas row by the audit: PostgreSQL's array_to_json escapes key
 * names exactly as pt_json_put_string does (docs/FORMAT.md), so the two
 * texts are equal byte for byte when nothing was changed.
 */
#include "core/schema_event.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/mem.h"
#include "core/pq.h"

/*
 * One row per version and per schema event, with a verdict. "legacy" (a
 * version of a store written before schema events) needs all of: a first
 * event below the log's first schema event, and a row event below it too
 * (a store that began with schema events has none: there every version
 * must have its event).
 */
#define AUDIT_SQL \
	"WITH s AS (SELECT schema_name, table_name, version, first_event_id, " \
	"  '{\"columns\":' || columns::text || ',\"primary_key\":' || " \
	"  coalesce(array_to_json(primary_key)::text, '[]') || ',\"details\":' || " \
	"  coalesce(details::text, 'null') || '}' AS doc FROM %1$s.schemas), " \
	"e AS (SELECT id, schema_name, table_name, schema_version AS version, row::text AS doc, " \
	"  count(*) OVER (PARTITION BY schema_name, table_name, schema_version) AS copies " \
	"  FROM %1$s.events WHERE op = 'schema'), " \
	"f AS (SELECT coalesce(min(id), 9223372036854775807) AS id FROM e), " \
	"old AS (SELECT EXISTS (SELECT 1 FROM %1$s.events x, f WHERE x.id < f.id AND x.op IN " \
	"  ('insert', 'update', 'delete', 'truncate', 'snapshot')) AS rows_before) " \
	"SELECT CASE WHEN s.version IS NULL THEN 'orphan' " \
	"  WHEN e.id IS NULL THEN CASE WHEN s.first_event_id > 0 AND s.first_event_id < f.id AND old.rows_before " \
	"    THEN 'legacy' ELSE 'uncovered' END " \
	"  WHEN e.copies > 1 THEN 'duplicate' " \
	"  WHEN e.doc IS DISTINCT FROM s.doc THEN 'changed' " \
	"  WHEN s.first_event_id IS NULL OR s.first_event_id <= e.id OR EXISTS (SELECT 1 FROM %1$s.events x " \
	"    WHERE x.id > e.id AND x.id < s.first_event_id AND x.op <> 'schema') THEN 'moved' " \
	"  ELSE 'ok' END, " \
	"  coalesce(s.schema_name, e.schema_name), coalesce(s.table_name, e.table_name), " \
	"  coalesce(s.version, e.version), e.id, s.first_event_id " \
	"FROM s FULL JOIN e ON e.schema_name = s.schema_name AND e.table_name = s.table_name " \
	"  AND e.version = s.version CROSS JOIN f CROSS JOIN old ORDER BY 5 NULLS LAST, 6"

void
pt_schema_doc(pt_buf *out, const char *columns, const char *const *primary_key, int npk, const char *details)
{
	pt_buf_puts(out, "{\"columns\":");
	pt_buf_puts(out, columns);
	pt_buf_puts(out, ",\"primary_key\":[");
	for (int i = 0; i < npk; i++)
	{
		if (i > 0)
			pt_buf_putc(out, ',');
		pt_json_put_cstring(out, primary_key[i]);
	}
	pt_buf_puts(out, "],\"details\":");
	pt_buf_puts(out, details ? details : "null");
	pt_buf_putc(out, '}');
}

/* The primary key as a text[] literal, every element quoted. */
static char *
text_array_literal(const char *const *items, int n)
{
	pt_buf		b = PT_BUF_INIT;

	pt_buf_putc(&b, '{');
	for (int i = 0; i < n; i++)
	{
		if (i)
			pt_buf_putc(&b, ',');
		pt_buf_putc(&b, '"');
		for (const char *p = items[i]; *p; p++)
		{
			if (*p == '"' || *p == '\\')
				pt_buf_putc(&b, '\\');
			pt_buf_putc(&b, *p);
		}
		pt_buf_putc(&b, '"');
	}
	pt_buf_putc(&b, '}');
	return b.data;
}

void
pt_version_queue_add(pt_version_queue *q, const char *schema_name, const char *table_name, int version,
					 const char *columns, const char *const *primary_key, int npk, const char *details)
{
	pt_pending_version *pv;

	if (q->n == q->cap)
	{
		q->cap = q->cap ? 2 * q->cap : 4;
		q->items = pt_realloc(q->items, sizeof(*q->items) * (size_t) q->cap);
	}
	pv = &q->items[q->n++];
	pv->schema_name = pt_strdup(schema_name);
	pv->table_name = pt_strdup(table_name);
	pv->version = version;
	pv->columns = pt_strdup(columns);
	pv->details = details ? pt_strdup(details) : NULL;
	pv->primary_key = text_array_literal(primary_key, npk);
	pt_buf_init(&pv->doc);
	pt_schema_doc(&pv->doc, columns, primary_key, npk, details);
}

void
pt_version_queue_clear(pt_version_queue *q)
{
	for (int i = 0; i < q->n; i++)
	{
		pt_pending_version *pv = &q->items[i];

		free(pv->schema_name);
		free(pv->table_name);
		free(pv->columns);
		free(pv->details);
		free(pv->primary_key);
		pt_buf_free(&pv->doc);
	}
	q->n = 0;
}

void
pt_version_queue_free(pt_version_queue *q)
{
	pt_version_queue_clear(q);
	free(q->items);
	q->items = NULL;
	q->cap = 0;
}

/* What a verdict means, for the row's version (or schema event). */
static void
describe(char *out, size_t size, const char *verdict, const PGresult *res, int row)
{
	const char *table = PQgetvalue(res, row, 2);
	const char *schema = PQgetvalue(res, row, 1);
	const char *version = PQgetvalue(res, row, 3);
	const char *event = PQgetisnull(res, row, 4) ? "?" : PQgetvalue(res, row, 4);
	const char *first = PQgetisnull(res, row, 5) ? "none" : PQgetvalue(res, row, 5);

	if (strcmp(verdict, "changed") == 0)
		snprintf(out, size, "schema version %s of table \"%s\".\"%s\" differs from its schema event %s: "
				 "the schemas table was changed", version, schema, table, event);
	else if (strcmp(verdict, "uncovered") == 0)
		snprintf(out, size, "schema version %s of table \"%s\".\"%s\" (first event %s) has no schema event in "
				 "the chain: it was added to the schemas table outside capture", version, schema, table, first);
	else if (strcmp(verdict, "duplicate") == 0)
		snprintf(out, size, "schema version %s of table \"%s\".\"%s\" has more than one schema event (%s is one): "
				 "an event was put into the chain", version, schema, table, event);
	else if (strcmp(verdict, "moved") == 0)
		snprintf(out, size, "schema version %s of table \"%s\".\"%s\" opens at event %s, not right after its "
				 "schema event %s", version, schema, table, first, event);
	else
		snprintf(out, size, "schema event %s (version %s of table \"%s\".\"%s\") has no row in the schemas "
				 "table", event, version, schema, table);
}

static void
count(pt_version_audit *audit, const PGresult *res, int row)
{
	const char *verdict = PQgetvalue(res, row, 0);

	if (strcmp(verdict, "ok") == 0)
		audit->covered++;
	else if (strcmp(verdict, "legacy") == 0)
		audit->legacy++;
	else
	{
		audit->bad++;
		if (audit->nfindings < PT_AUDIT_MAX_FINDINGS)
			describe(audit->findings[audit->nfindings++], sizeof(audit->findings[0]), verdict, res, row);
	}
}

bool
pt_versions_audit(PGconn *conn, const char *schema, pt_version_audit *audit, pt_err *err)
{
	pt_buf		sql = PT_BUF_INIT;
	PGresult   *res = NULL;

	memset(audit, 0, sizeof(*audit));
	if (pt_pq_sql_with_ident(conn, AUDIT_SQL, schema, &sql, err))
		res = pt_pq_exec(conn, sql.data, PGRES_TUPLES_OK, PT_PQ_ANY, 6, err);
	pt_buf_free(&sql);
	if (res == NULL)
		return false;
	for (int i = 0; i < PQntuples(res); i++)
		count(audit, res, i);
	PQclear(res);
	return true;
}
