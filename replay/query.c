/*
 * replay/query.c — point queries from the event log alone: a row as it was
 * at a time (--as-of), and every version of it (--history).
 *
 * The row's events are found by their key text through the event store's
 * hash index on key::text: the key is written as capture writes it (key
 * columns in the table's column order, values as JSON strings, so
 * '{"id": 42}' finds '{"id":"42"}'), the updates that moved it to
 * another key through a GIN index on old::jsonb (containment: an old row
 * of REPLICA IDENTITY FULL holds the key too), plus the few events that
 * end every row at once (truncate, gap, DROP TABLE) through a small
 * partial index.
 * They are folded in id order: an insert or snapshot sets the row, an
 * update overwrites the columns it sent (unchanged TOAST columns keep
 * their earlier value), a delete, a key change away, a truncate or a gap
 * ends it. Under a deferrable key two rows may hold the key for a while
 * (a swap: UPDATE ... SET id = 3 - id): a row that comes to the key while
 * one holds it is folded as the row, the one it joined kept aside, and a
 * row leaving then is told apart by the event's old row. Memory: one
 * row's columns, and the few rows sharing its key mid-swap.
 *
 * The row's column names follow the table's schema versions from event to
 * event (versions.h), through every version of its oid under whatever name
 * the table had (RENAME TO, SET SCHEMA): renamed by attnum, dropped, added
 * with their default. --as-of prints the columns of the version in force
 * at the time asked.
 *
 * A row that never existed is an answer (null, or no history line). A
 * question that could only get that answer is refused first, from the
 * schemas table: a table the store has never seen, a key naming a column
 * that is not one of the table's key columns or leaving one out, a value
 * that is an array or an object.
 */
#include "replay/replay.h"
#include "replay/run.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/json.h"
#include "core/jsonobj.h"
#include "core/mem.h"
#include "core/pq.h"
#include "core/schema_event.h"
#include "replay/versions.h"

/*
 * The table's events are those of its identity (oid): under each name it
 * had, between the first version of it under that name and the rename away
 * ($1..$8: arrays of schema, table, first event id, end event id; NULL: open).
 */
#define IDENTITY_SQL \
	"EXISTS (SELECT FROM unnest($1::text[], $2::text[], $7::bigint[], $8::bigint[]) u(s, t, lo, hi) WHERE schema_name = u.s AND table_name = u.t AND (u.lo IS NULL OR id >= u.lo) AND (u.hi IS NULL OR id < u.hi))"

#define EVENTS_SQL \
	"SELECT id, committed_at, op, actor, action, metadata::text, row::text, false AS away, schema_version, " \
	"  CASE WHEN op = 'update' AND unchanged <> '{}' AND old IS NOT NULL AND NOT old::jsonb @> $3::text::jsonb " \
	"       THEN old::text END AS moved_in_from, schema_name, table_name, old::text, " \
	"  op = 'insert' OR (op = 'update' AND old IS NOT NULL AND NOT old::jsonb @> $3::text::jsonb) AS arrives " \
	"FROM %1$s.events WHERE (key::text = $3::text OR key::text = $6::text) AND " IDENTITY_SQL " " \
	"  AND ($4::timestamptz IS NULL OR committed_at <= $4::timestamptz) AND ($5::bigint IS NULL OR id < $5::bigint) " \
	"UNION ALL " \
	"SELECT id, committed_at, op, actor, action, metadata::text, row::text, true, schema_version, NULL, schema_name, table_name, " \
	"  old::text, false " \
	"FROM %1$s.events WHERE op = 'update' AND old IS NOT NULL AND old::text <> key::text " \
	"  AND old::jsonb @> $3::text::jsonb AND NOT key::jsonb @> $3::text::jsonb AND " IDENTITY_SQL " " \
	"  AND ($4::timestamptz IS NULL OR committed_at <= $4::timestamptz) AND ($5::bigint IS NULL OR id < $5::bigint) " \
	"UNION ALL " \
	"SELECT id, committed_at, op, actor, action, metadata::text, NULL, true, schema_version, NULL, schema_name, table_name, " \
	"  NULL, false " \
	"FROM %1$s.events WHERE op IN ('truncate', 'gap', 'ddl') " \
	"  AND (op = 'gap' OR (" IDENTITY_SQL " AND " \
	"       (op = 'truncate' OR row->>'command_tag' = 'DROP TABLE'))) " \
	"  AND ($4::timestamptz IS NULL OR committed_at <= $4::timestamptz) AND ($5::bigint IS NULL OR id < $5::bigint) " \
	"ORDER BY 1"

#define MAX_KEY_CHANGES 32		/* how far back a row's key changes are followed */

/* The table's version as of a time: the newest one opened by an event then. */
#define VERSION_AT_SQL \
	"SELECT coalesce(max(s.version), 0) FROM %1$s.schemas s JOIN %1$s.events e ON e.id = s.first_event_id " \
	"WHERE s.schema_name = $1 AND s.table_name = $2 AND e.committed_at <= $3::timestamptz"

/* The row as folded so far: column names and values (NULL = SQL NULL). */
typedef struct rowstate
{
	bool		exists;
	int			version;		/* the table version the names follow (0: unknown) */
	const pt_rtable *rt;		/* the table (name) that version is of */
	const pt_versions *all;		/* every table, to find an event's by its name */
	int			n;
	int			cap;
	char	  **names;
	char	  **values;
	int			nshared;		/* rows holding the key too (mid-swap), oldest first */
	struct rowstate *shared;
} rowstate;

#define MAX_SHARED 64			/* rows kept aside for one key; the oldest go first */

static void
row_clear(rowstate *s)
{
	for (int i = 0; i < s->n; i++)
	{
		free(s->names[i]);
		free(s->values[i]);
	}
	s->n = 0;
	s->exists = false;
}

/* The index of column name in the row, or s->n when it has none. */
static int
row_index(const rowstate *s, pt_text name)
{
	int			i;

	for (i = 0; i < s->n; i++)
		if (strlen(s->names[i]) == name.len && memcmp(s->names[i], name.ptr, name.len) == 0)
			break;
	return i;
}

static void
row_set(rowstate *s, pt_text name, pt_text value)
{
	int			i = row_index(s, name);

	if (i == s->n)
	{
		if (s->n == s->cap)
		{
			s->cap = s->cap ? s->cap * 2 : 16;
			s->names = pt_realloc(s->names, sizeof(char *) * (size_t) s->cap);
			s->values = pt_realloc(s->values, sizeof(char *) * (size_t) s->cap);
		}
		s->names[s->n] = pt_strndup(name.ptr, name.len);
		s->values[s->n] = NULL;
		s->n++;
	}
	free(s->values[i]);
	s->values[i] = value.ptr ? pt_strndup(value.ptr, value.len) : NULL;
}

/* Free the row's columns and their arrays (s itself is the caller's). */
static void
row_free(rowstate *s)
{
	row_clear(s);
	free(s->names);
	free(s->values);
	s->names = s->values = NULL;
	s->cap = 0;
}

/* Has the row every column of old (an event's old row) with the same value? */
static bool
row_matches(const rowstate *s, const pt_jsonobj *old)
{
	for (int k = 0; k < old->n; k++)
	{
		int			i = row_index(s, old->names[k]);
		const char *v = i < s->n ? s->values[i] : NULL;

		if (i == s->n || (v == NULL) != (old->values[k].ptr == NULL))
			return false;
		if (v && (strlen(v) != old->values[k].len || memcmp(v, old->values[k].ptr, old->values[k].len) != 0))
			return false;
	}
	return true;
}

/* Forget the rows kept aside (a snapshot, truncate or gap ends them all). */
static void
shared_clear(rowstate *s)
{
	for (int i = 0; i < s->nshared; i++)
		row_free(&s->shared[i]);
	free(s->shared);
	s->shared = NULL;
	s->nshared = 0;
}

/* Drop kept row i (its columns are freed). */
static void
shared_drop(rowstate *s, int i)
{
	row_free(&s->shared[i]);
	memmove(&s->shared[i], &s->shared[i + 1], sizeof(rowstate) * (size_t) (s->nshared - i - 1));
	s->nshared--;
}

/*
 * Another row comes to the key while the row holds it: the row's columns
 * move aside into s->shared (newest last), and s starts empty for the
 * newcomer.
 */
static void
shared_push(rowstate *s)
{
	rowstate   *kept;

	if (s->nshared == MAX_SHARED)
		shared_drop(s, 0);
	s->shared = pt_realloc(s->shared, sizeof(rowstate) * (size_t) (s->nshared + 1));
	kept = &s->shared[s->nshared++];
	memset(kept, 0, sizeof(*kept));
	kept->exists = true;
	kept->n = s->n;
	kept->cap = s->cap;
	kept->names = s->names;
	kept->values = s->values;
	s->n = s->cap = 0;
	s->names = s->values = NULL;
	s->exists = false;
}

/*
 * One of the rows sharing the key leaves it (a delete, a key change away):
 * the oldest whose columns match old (the event's old row: whole under
 * REPLICA IDENTITY FULL, else the key; NULL: unknown), else the row when
 * it matches, else the oldest kept. When the row leaves, the newest kept
 * one becomes the row.
 */
static void
shared_leave(rowstate *s, const pt_jsonobj *old)
{
	int			i;
	rowstate	newest;

	for (i = 0; i < s->nshared && !(old && row_matches(&s->shared[i], old)); i++)
		;
	if (i == s->nshared && !(old && row_matches(s, old)))
		i = 0;
	if (i < s->nshared)
	{
		shared_drop(s, i);
		return;
	}
	newest = s->shared[--s->nshared];
	row_free(s);
	s->exists = true;
	s->n = newest.n;
	s->cap = newest.cap;
	s->names = newest.names;
	s->values = newest.values;
}

static void
row_json(const rowstate *s, pt_buf *out)
{
	if (!s->exists)
	{
		pt_buf_puts(out, "null");
		return;
	}
	pt_buf_putc(out, '{');
	for (int i = 0; i < s->n; i++)
	{
		if (i)
			pt_buf_putc(out, ',');
		pt_json_put_cstring(out, s->names[i]);
		pt_buf_putc(out, ':');
		if (s->values[i])
			pt_json_put_cstring(out, s->values[i]);
		else
			pt_buf_puts(out, "null");
	}
	pt_buf_putc(out, '}');
}

/*
 * The value a column added by version rv has on a row written before: its
 * constant default (PostgreSQL's fast default: no row event), else NULL.
 * A default that cannot be evaluated here (a volatile one rewrote the
 * table, so the row's snapshot follows) reads NULL. The text is the type's
 * output, as the log holds values (format's %s; a cast to text is not
 * always that: boolean::text is "true", inet::text keeps "/32").
 */
static char *
added_value(PGconn *conn, const pt_rcolumn *c)
{
	pt_buf		sql = PT_BUF_INIT;
	pt_err		err;
	PGresult   *res = NULL;
	char	   *value = NULL;

	pt_err_clear(&err);
	if (conn == NULL || c->default_expr == NULL || !pt_pq_command(conn, "SAVEPOINT pt_added", &err))
		return NULL;
	pt_buf_printf(&sql, "SELECT CASE WHEN num_nulls(v) = 0 THEN format('%%s', v) END FROM (SELECT CAST((%s) AS %s) AS v) d",
				  c->default_expr, c->type);
	res = pt_pq_exec_params(conn, sql.data, 0, NULL, PGRES_TUPLES_OK, 1, 1, &err);
	if (res != NULL && !PQgetisnull(res, 0, 0))
		value = pt_strdup(PQgetvalue(res, 0, 0));
	PQclear(res);
	pt_pq_command(conn, res ? "RELEASE SAVEPOINT pt_added" : "ROLLBACK TO SAVEPOINT pt_added", &err);
	pt_buf_free(&sql);
	pt_err_clear(&err);
	return value;
}

/* Give an existing row the columns version rv has that it lacks (added since). */
static void
row_add_columns(rowstate *s, PGconn *conn, const pt_rversion *rv)
{
	for (int c = 0; s->exists && rv != NULL && c < rv->ncols; c++)
	{
		const pt_rcolumn *col = &rv->cols[c];
		pt_text		name = {col->name, strlen(col->name)};
		int			i;

		for (i = 0; i < s->n && strcmp(s->names[i], col->name) != 0; i++)
			;
		if (i < s->n || col->is_virtual || col->generated || col->identity)
			continue;
		row_set(s, name, (pt_text) {NULL, 0});
		s->values[s->n - 1] = added_value(conn, col);
	}
}

/*
 * The name the row's column `name` of version prev has in version next (NULL:
 * dropped). A table dropped and created again under its name (another oid)
 * is another table: its columns are not the old ones, the names stay.
 */
static const char *
step_name(const pt_rversion *prev, const char *name, const pt_rversion *next)
{
	if (prev->oid != 0 && next->oid != 0 && prev->oid != next->oid)
		return name;
	return pt_versions_step(prev, name, next);
}

/* Rename and drop the row's columns as the table changed from version prev to next (one step). */
static void
row_step(rowstate *s, const pt_rversion *prev, const pt_rversion *next)
{
	int			kept = 0;

	for (int i = 0; i < s->n; i++)
	{
		const char *name = step_name(prev, s->names[i], next);

		if (name == NULL)
		{
			free(s->names[i]);
			free(s->values[i]);
			continue;
		}
		if (strcmp(name, s->names[i]) != 0)
		{
			free(s->names[i]);
			s->names[i] = pt_strdup(name);
		}
		s->names[kept] = s->names[i];
		s->values[kept] = s->values[i];
		kept++;
	}
	s->n = kept;
}

/*
 * Follow the row's columns from version from to version end of the same
 * incarnation (oid), through every version of it in between under
 * whichever name the table had (RENAME TO, SET SCHEMA): each column
 * renamed, dropped, and the ones added given their default (or NULL).
 */
static void
row_follow_oid(rowstate *s, PGconn *conn, const pt_rversion *from, const pt_rversion *end)
{
	const pt_rversion *next;

	for (const pt_rversion *rv = from;
		 rv != end && (next = pt_versions_next_of_oid(s->all, rv)) != NULL &&
		 next->first_event_id <= end->first_event_id;
		 rv = next)
	{
		row_step(s, rv, next);
		row_add_columns(s, conn, next);
	}
}

/*
 * Follow the row's columns version by version up to version to of table
 * rt: renamed, dropped, and the ones added since given their default (or
 * NULL). Across a rename of the table by its oid; a version without an
 * oid (an older store) only within one name.
 */
static void
row_follow(rowstate *s, const pt_rtable *rt, PGconn *conn, int to)
{
	const pt_rversion *from = s->rt != NULL && s->version != 0 ? pt_versions_get(s->rt, s->version) : NULL;
	const pt_rversion *end = rt != NULL ? pt_versions_get(rt, to) : NULL;
	const pt_rversion *prev = from;

	if (from != NULL && end != NULL && from->oid != 0 && from->oid == end->oid && s->all != NULL)
	{
		if (from->first_event_id <= end->first_event_id)
		{
			row_follow_oid(s, conn, from, end);
			s->rt = rt;
			s->version = to;
		}
		return;
	}
	if (rt != NULL && s->rt != NULL && rt != s->rt)
	{
		/* renamed, no oid to follow: the columns are as they were; any new ones added */
		s->rt = rt;
		s->version = to;
		row_add_columns(s, conn, end);
		return;
	}
	s->rt = rt ? rt : s->rt;
	if (rt == NULL || s->version == 0 || to <= s->version)
	{
		s->version = to > s->version ? to : s->version;
		return;
	}
	for (int v = 0; v < rt->nversions; v++)
	{
		if (rt->versions[v].version <= s->version || rt->versions[v].version > to)
			continue;
		if (prev != NULL)
			row_step(s, prev, &rt->versions[v]);
		row_add_columns(s, conn, &rt->versions[v]);
		prev = &rt->versions[v];
	}
	s->version = to;
}

/* The position of the row's column i in version rv (after all of rv's when rv lacks it). */
static int
column_rank(const rowstate *s, int i, const pt_rversion *rv)
{
	int			c = pt_rversion_column(rv, s->names[i], strlen(s->names[i]));

	return c >= 0 ? c : rv->ncols;
}

/* Put the row's columns in version rv's order (an insertion sort: a row has few columns). */
static void
row_order(rowstate *s, const pt_rversion *rv)
{
	for (int i = 1; rv != NULL && i < s->n; i++)
		for (int j = i; j > 0 && column_rank(s, j - 1, rv) > column_rank(s, j, rv); j--)
		{
			char	   *name = s->names[j],
					   *value = s->values[j];

			s->names[j] = s->names[j - 1];
			s->values[j] = s->values[j - 1];
			s->names[j - 1] = name;
			s->values[j - 1] = value;
		}
}

/* The table of event i by its name (a table renamed has its events under each name). */
static const pt_rtable *
event_table(const pt_versions *all, const PGresult *res, int i, const pt_rtable *fallback)
{
	const pt_rtable *t = NULL;

	if (all != NULL && !PQgetisnull(res, i, 10))
		t = pt_versions_table(all, PQgetvalue(res, i, 10), (size_t) PQgetlength(res, i, 10),
							  PQgetvalue(res, i, 11), (size_t) PQgetlength(res, i, 11));
	return t ? t : fallback;
}

/* A row leaves the key others share: which one, the event's old row tells. */
static bool
leave_shared(rowstate *s, const PGresult *res, int i, pt_jsonobj *obj, pt_err *err)
{
	if (PQgetisnull(res, i, 12))
	{
		shared_leave(s, NULL);
		return true;
	}
	if (!pt_jsonobj_parse(obj, PQgetvalue(res, i, 12), (size_t) PQgetlength(res, i, 12), err))
		return false;
	shared_leave(s, obj);
	return true;
}

/* Fold one event into the row. */
static bool
fold(rowstate *s, const pt_rtable *rt, PGconn *conn, const PGresult *res, int i, pt_jsonobj *obj, pt_err *err)
{
	/* the version is one of the table under the name the event has */
	rt = rt ? event_table(s->all, res, i, rt) : NULL;
	const char *op = PQgetvalue(res, i, 2);
	bool		away = strcmp(PQgetvalue(res, i, 7), "t") == 0;

	if (!PQgetisnull(res, i, 8))
		row_follow(s, rt, conn, atoi(PQgetvalue(res, i, 8)));

	if ((away && PQgetisnull(res, i, 6)) || strcmp(op, "snapshot") == 0)
		shared_clear(s);		/* a truncate, gap, DROP TABLE or rewrite ends every row */
	if ((away || strcmp(op, "delete") == 0) && s->nshared > 0)
		return leave_shared(s, res, i, obj, err);
	if (away || strcmp(op, "delete") == 0)
	{
		int			version = s->version;

		row_clear(s);
		s->version = version;
		return true;
	}
	if (strcmp(op, "insert") == 0 || strcmp(op, "snapshot") == 0)
	{
		int			version = s->version;

		row_clear(s);
		s->version = version;
	}
	if (PQgetisnull(res, i, 6))
		return true;
	if (!pt_jsonobj_parse(obj, PQgetvalue(res, i, 6), (size_t) PQgetlength(res, i, 6), err))
		return false;
	for (int k = 0; k < obj->n; k++)
		row_set(s, obj->names[k], obj->values[k]);
	s->exists = true;
	return true;
}

/* "schema.table" (double quotes allowed) into two strings. */
static bool
split_table(const char *qualified, pt_buf *schema, pt_buf *table, pt_err *err)
{
	pt_buf	   *part = schema;
	bool		quoted = false;

	for (const char *p = qualified; *p; p++)
	{
		if (*p == '"' && quoted && p[1] == '"')
			pt_buf_putc(part, *++p);
		else if (*p == '"')
			quoted = !quoted;
		else if (*p == '.' && !quoted && part == schema)
			part = table;
		else
			pt_buf_putc(part, *p);
	}
	if (part == schema)
	{
		/* no schema given: public */
		pt_buf_append(table, schema->data, schema->len);
		pt_buf_reset(schema);
		pt_buf_puts(schema, "public");
	}
	if (table->len == 0 || schema->len == 0)
	{
		pt_err_set(err, PT_ERR_CONFIG, "--table \"%s\" is not schema.table", qualified);
		pt_err_hint(err, "e.g. --table public.accounts, or --table '\"My Schema\".\"My Table\"'");
		return false;
	}
	return true;
}

/* The user's key with every value as JSON string text, as events store it. */
static bool
key_json(const char *key, pt_jsonobj *obj, pt_buf *out, pt_err *err)
{
	if (!pt_jsonobj_parse(obj, key, strlen(key), err) || obj->n == 0)
	{
		pt_err_set(err, PT_ERR_CONFIG, "--key is not a JSON object of key columns: %s", key);
		pt_err_hint(err, "e.g. --key '{\"id\": 42}' or --key '{\"tenant\": \"a\", \"id\": \"7\"}'");
		return false;
	}
	for (int k = 0; k < obj->n; k++)
		if (obj->kinds[k] == PT_JSON_RAW && (obj->values[k].ptr[0] == '{' || obj->values[k].ptr[0] == '['))
		{
			pt_err_set(err, PT_ERR_CONFIG, "--key value of column \"%.*s\" is not a single value: %.*s",
					   (int) obj->names[k].len, obj->names[k].ptr, (int) obj->values[k].len, obj->values[k].ptr);
			pt_err_hint(err, "give each key column one value, as a JSON string or number, "
						"e.g. --key '{\"id\": 42}'");
			return false;
		}
	pt_buf_putc(out, '{');
	for (int k = 0; k < obj->n; k++)
	{
		pt_buf_puts(out, k ? "," : "");
		pt_json_put_string(out, obj->names[k].ptr, obj->names[k].len);
		pt_buf_putc(out, ':');
		if (obj->values[k].ptr)
			pt_json_put_string(out, obj->values[k].ptr, obj->values[k].len);
		else
			pt_buf_puts(out, "null");
	}
	pt_buf_putc(out, '}');
	return true;
}

static void
put_text_or_null(pt_buf *out, const PGresult *res, int i, int col, bool raw)
{
	if (PQgetisnull(res, i, col))
		pt_buf_puts(out, "null");
	else if (raw)
		pt_buf_puts(out, PQgetvalue(res, i, col));
	else
		pt_json_put_cstring(out, PQgetvalue(res, i, col));
}

static void
print_history_line(FILE *out, const PGresult *res, int i, const rowstate *s, bool table_format, pt_buf *line)
{
	pt_buf_reset(line);
	if (table_format)
	{
		row_json(s, line);
		fprintf(out, "%-8s  %-29s  %-10s  %-24s  %-18s  %s\n", PQgetvalue(res, i, 0), PQgetvalue(res, i, 1),
				strcmp(PQgetvalue(res, i, 7), "t") == 0 && strcmp(PQgetvalue(res, i, 2), "update") == 0 ?
				"key-change" : PQgetvalue(res, i, 2),
				PQgetisnull(res, i, 3) ? "" : PQgetvalue(res, i, 3),
				PQgetisnull(res, i, 4) ? "" : PQgetvalue(res, i, 4), line->data);
		return;
	}
	pt_buf_printf(line, "{\"event_id\":%s,\"committed_at\":", PQgetvalue(res, i, 0));
	pt_json_put_cstring(line, PQgetvalue(res, i, 1));
	pt_buf_puts(line, ",\"op\":");
	pt_json_put_cstring(line, PQgetvalue(res, i, 2));
	pt_buf_puts(line, ",\"actor\":");
	put_text_or_null(line, res, i, 3, false);
	pt_buf_puts(line, ",\"action\":");
	put_text_or_null(line, res, i, 4, false);
	pt_buf_puts(line, ",\"metadata\":");
	put_text_or_null(line, res, i, 5, true);
	pt_buf_puts(line, ",\"row\":");
	row_json(s, line);
	pt_buf_putc(line, '}');
	fprintf(out, "%s\n", line->data);
}

static void
print_row(FILE *out, const rowstate *s, bool table_format, pt_buf *line)
{
	pt_buf_reset(line);
	if (!table_format)
	{
		row_json(s, line);
		fprintf(out, "%s\n", line->data);
		return;
	}
	if (!s->exists)
	{
		fprintf(out, "(no such row at that time)\n");
		return;
	}
	for (int i = 0; i < s->n; i++)
		fprintf(out, "%-24s  %s\n", s->names[i], s->values[i] ? s->values[i] : "(null)");
}

/* The version of the table at the as-of time (0 when none is known). */
static bool
version_at(PGconn *conn, const char *store, const char *schema, const char *table, const char *as_of,
		   int *version, pt_err *err)
{
	const char *params[3] = {schema, table, as_of};
	pt_buf		sql = PT_BUF_INIT;
	PGresult   *res = NULL;

	if (pt_pq_sql_with_ident(conn, VERSION_AT_SQL, store, &sql, err))
		res = pt_pq_exec_params(conn, sql.data, 3, params, PGRES_TUPLES_OK, 1, 1, err);
	pt_buf_free(&sql);
	if (res == NULL)
		return false;
	*version = atoi(PQgetvalue(res, 0, 0));
	PQclear(res);
	return true;
}

/* One point query: its connection, table, versions and output. */
typedef struct query
{
	PGconn	   *conn;
	const pt_query_opts *q;
	const char *schema;
	const char *table;
	const pt_rtable *rt;
	pt_buf		sql;
	pt_buf		line;
	FILE	   *out;
	pt_buf		ident[4];		/* the identity's names: schema, table, from, to event ids (array literals) */
} query;

/* One element of an array literal: a quoted text, or NULL. */
static void
array_put(pt_buf *a, const char *text)
{
	pt_buf_puts(a, a->len > 1 ? "," : "");
	if (text == NULL)
	{
		pt_buf_puts(a, "NULL");
		return;
	}
	pt_buf_putc(a, '"');
	for (const char *p = text; *p; p++)
	{
		if (*p == '"' || *p == '\\')
			pt_buf_putc(a, '\\');
		pt_buf_putc(a, *p);
	}
	pt_buf_putc(a, '"');
}

/* One name of the identity, from its event id lo up to hi (0: open). */
static void
ident_put(query *qr, const pt_rtable *t, int64_t lo, int64_t hi)
{
	char		lo_text[24],
				hi_text[24];

	snprintf(lo_text, sizeof(lo_text), "%lld", (long long) lo);
	snprintf(hi_text, sizeof(hi_text), "%lld", (long long) hi);
	array_put(&qr->ident[0], t->schema);
	array_put(&qr->ident[1], t->table);
	array_put(&qr->ident[2], lo ? lo_text : NULL);
	array_put(&qr->ident[3], hi ? hi_text : NULL);
}

/* The version of oid opened first after event `after`, and its table (NULL: none). */
static const pt_rversion *
next_of_oid(const pt_versions *versions, int64_t oid, int64_t after, const pt_rtable **table)
{
	const pt_rversion *first = NULL;

	for (int i = 0; i < pt_versions_count(versions); i++)
	{
		const pt_rtable *t = pt_versions_at(versions, i);

		for (int j = 0; j < t->nversions; j++)
			if (t->versions[j].oid == oid && t->versions[j].first_event_id > after &&
				(first == NULL || t->versions[j].first_event_id < first->first_event_id))
			{
				first = &t->versions[j];
				*table = t;
			}
	}
	return first;
}

/*
 * The names the table of version `version` had (same oid): each from the
 * version that took the name until the one that took the next, in order.
 * Without an oid, the name alone.
 */
static void
identity_names(query *qr, const pt_versions *versions, int version)
{
	const pt_rversion *rv = pt_versions_get(qr->rt, version);
	const pt_rversion *f;
	const pt_rtable *prev = NULL,
			   *t = NULL;
	int64_t		prev_lo = 0;

	if (rv == NULL && qr->rt->nversions > 0)
		rv = &qr->rt->versions[qr->rt->nversions - 1];
	for (int i = 0; i < 4; i++)
		pt_buf_putc(&qr->ident[i], '{');
	for (int64_t after = 0; rv != NULL && rv->oid != 0 && (f = next_of_oid(versions, rv->oid, after, &t)) != NULL;
		 after = f->first_event_id)
	{
		if (t == prev)
			continue;
		if (prev != NULL)
			ident_put(qr, prev, prev_lo, f->first_event_id);
		prev_lo = prev ? f->first_event_id : 0;
		prev = t;
	}
	ident_put(qr, prev ? prev : qr->rt, prev_lo, 0);
	for (int i = 0; i < 4; i++)
		pt_buf_putc(&qr->ident[i], '}');
}

/* Is name one of rv's key columns? */
static bool
is_key_column(const pt_rversion *rv, const char *name)
{
	for (int k = 0; k < rv->npk; k++)
		if (strcmp(rv->pk[k], name) == 0)
			return true;
	return false;
}

/*
 * A key as capture writes it: the key columns of version rv in the table's
 * column order, each value from obj as a JSON string. Empty when obj lacks
 * one of them.
 */
static void
key_text(const pt_rversion *rv, const pt_jsonobj *obj, pt_buf *key)
{
	bool		first = true;

	pt_buf_reset(key);
	pt_buf_putc(key, '{');
	for (int c = 0; c < rv->ncols; c++)
	{
		int			m;

		if (!is_key_column(rv, rv->cols[c].name))
			continue;
		if ((m = pt_jsonobj_find(obj, rv->cols[c].name, strlen(rv->cols[c].name))) < 0)
		{
			pt_buf_reset(key);
			return;
		}
		pt_buf_puts(key, first ? "" : ",");
		first = false;
		pt_json_put_cstring(key, rv->cols[c].name);
		pt_buf_putc(key, ':');
		if (obj->values[m].ptr)
			pt_json_put_string(key, obj->values[m].ptr, obj->values[m].len);
		else
			pt_buf_puts(key, "null");
	}
	pt_buf_putc(key, '}');
}

/* The key of old (an update's old key or old row) as the row's key. */
static void
old_key(const query *qr, int version, const char *old, pt_jsonobj *obj, pt_buf *key, pt_err *err)
{
	const pt_rversion *rv = qr->rt ? pt_versions_get(qr->rt, version) : NULL;

	pt_buf_reset(key);
	if (rv == NULL || rv->npk == 0 || !pt_jsonobj_parse(obj, old, strlen(old), err))
		return;
	key_text(rv, obj, key);
}

/*
 * Fold the events of the row with this key (before event `before`, 0 = no
 * limit) into s, printing history lines when asked. An update that moved
 * the row here from another key without resending unchanged TOAST columns
 * starts from that key's row just before it (followed recursively).
 */
static bool
fold_key(query *qr, const char *key, const char *alt, int64_t before, int depth, rowstate *s, bool print,
		 pt_err *err)
{
	char		before_text[24];
	const char *params[8] = {qr->ident[0].data, qr->ident[1].data, key, qr->q->as_of, before ? before_text : NULL, alt,
	qr->ident[2].data, qr->ident[3].data};
	pt_jsonobj	obj;
	pt_buf		from = PT_BUF_INIT;
	PGresult   *res;
	bool		ok = true;

	snprintf(before_text, sizeof(before_text), "%lld", (long long) before);
	res = pt_pq_exec_params(qr->conn, qr->sql.data, 8, params, PGRES_TUPLES_OK, PT_PQ_ANY, 14, err);
	if (res == NULL)
		return false;
	pt_jsonobj_init(&obj);
	for (int i = 0; ok && i < PQntuples(res); i++)
	{
		bool		resets = PQgetisnull(res, i, 6) && strcmp(PQgetvalue(res, i, 7), "t") == 0;
		bool		had = s->exists;

		if (s->exists && strcmp(PQgetvalue(res, i, 13), "t") == 0)
			shared_push(s);		/* another row comes to the key (a deferrable key mid-swap) */
		if (!PQgetisnull(res, i, 9) && !s->exists && depth < MAX_KEY_CHANGES)
		{
			/* moved in from another key: start from that row as it was */
			old_key(qr, atoi(PQgetvalue(res, i, 8)), PQgetvalue(res, i, 9), &obj, &from, err);
			if (from.len > 0)
				ok = fold_key(qr, from.data, from.data, strtoll(PQgetvalue(res, i, 0), NULL, 10), depth + 1, s,
							  false, err);
		}
		ok = ok && fold(s, qr->rt, qr->conn, res, i, &obj, err);
		if (ok && print && (!resets || had))
			print_history_line(qr->out, res, i, s, qr->q->table_format, &qr->line);
	}
	pt_jsonobj_free(&obj);
	pt_buf_free(&from);
	PQclear(res);
	return ok;
}

/* Hint for a table the store has no version of: a table of that name elsewhere, and how to list them. */
static void
hint_tables(const pt_versions *versions, const char *store, const char *table, pt_err *err)
{
	for (int i = 0; i < pt_versions_count(versions); i++)
	{
		const pt_rtable *t = pt_versions_at(versions, i);

		if (strcmp(t->table, table) == 0)
		{
			pt_err_hint(err, "did you mean --table %s.%s? SELECT DISTINCT schema_name, table_name FROM %s.schemas "
						"lists the captured tables", t->schema, t->table, store);
			return;
		}
	}
	pt_err_hint(err, "SELECT DISTINCT schema_name, table_name FROM %s.schemas lists the captured tables "
				"(--schema names the event store's schema)", store);
}

/* Does any version of t have a column (key: a key column) of that name? */
static bool
has_column(const pt_rtable *t, pt_text name, bool key)
{
	for (int v = 0; v < t->nversions; v++)
	{
		const pt_rversion *rv = &t->versions[v];

		if (!key && pt_rversion_column(rv, name.ptr, name.len) >= 0)
			return true;
		for (int k = 0; key && k < rv->npk; k++)
			if (strlen(rv->pk[k]) == name.len && memcmp(rv->pk[k], name.ptr, name.len) == 0)
				return true;
	}
	return false;
}

/* Is the user's key exactly version rv's key columns? */
static bool
is_whole_key(const pt_rversion *rv, const pt_jsonobj *user_key)
{
	if (rv->npk == 0 || rv->npk != user_key->n)
		return false;
	for (int k = 0; k < rv->npk; k++)
		if (pt_jsonobj_find(user_key, rv->pk[k], strlen(rv->pk[k])) < 0)
			return false;
	return true;
}

/* The newest version that has a key, or NULL when none has. */
static const pt_rversion *
newest_keyed(const pt_rtable *t)
{
	for (int v = t->nversions - 1; v >= 0; v--)
		if (t->versions[v].npk > 0)
			return &t->versions[v];
	return NULL;
}

/* "its key columns are "a", "b"" as the hint of a key that does not fit. */
static void
hint_key_columns(const pt_rversion *rv, pt_err *err)
{
	pt_buf		cols = PT_BUF_INIT;

	for (int k = 0; k < rv->npk; k++)
		pt_buf_printf(&cols, "%s\"%s\"", k ? ", " : "", rv->pk[k]);
	pt_err_hint(err, "its key column%s %s %s; --key gives each of them a value, e.g. --key '{\"%s\": 42}'",
				rv->npk > 1 ? "s" : "", rv->npk > 1 ? "are" : "is", cols.data, rv->pk[0]);
	pt_buf_free(&cols);
}

/*
 * The user's key names columns of the table, and (when the store recorded
 * a key for the table) exactly the key columns of one of its versions.
 * A key that cannot match any event would only answer "no row".
 */
static bool
check_key(const pt_rtable *t, const pt_jsonobj *user_key, pt_err *err)
{
	const pt_rversion *rv = newest_keyed(t);

	for (int k = 0; k < user_key->n; k++)
	{
		pt_text		name = user_key->names[k];

		if (!has_column(t, name, false))
			pt_err_set(err, PT_ERR_CONFIG, "--key names column \"%.*s\", which table \"%s.%s\" does not have",
					   (int) name.len, name.ptr, t->schema, t->table);
		else if (rv != NULL && !has_column(t, name, true))
			pt_err_set(err, PT_ERR_CONFIG, "--key names column \"%.*s\", which is not a key column of table \"%s.%s\"",
					   (int) name.len, name.ptr, t->schema, t->table);
		else
			continue;
		if (rv != NULL)
			hint_key_columns(rv, err);
		return false;
	}
	for (int v = 0; rv != NULL && v < t->nversions; v++)
		if (is_whole_key(&t->versions[v], user_key))
			return true;
	if (rv == NULL)
		return true;
	pt_err_set(err, PT_ERR_CONFIG, "--key does not give every key column of table \"%s.%s\"", t->schema, t->table);
	hint_key_columns(rv, err);
	return false;
}

/* The table is one the store knows, the key one it can have. */
static bool
check_query(const pt_versions *versions, const pt_rtable *t, const pt_query_opts *q, const char *schema,
			const char *table, const pt_jsonobj *user_key, pt_err *err)
{
	if (t == NULL || t->nversions == 0)
	{
		pt_err_set(err, PT_ERR_CONFIG, "table \"%s.%s\" is not in the event log", schema, table);
		hint_tables(versions, q->schema, table, err);
		return false;
	}
	return check_key(t, user_key, err);
}

static bool
run_query(PGconn *conn, const pt_query_opts *q, const char *schema, const char *table, const char *key,
		  pt_jsonobj *user_key, FILE *out, pt_err *err)
{
	pt_buf		ordered = PT_BUF_INIT;
	query		qr = {conn, q, schema, table, NULL, PT_BUF_INIT, PT_BUF_INIT, out,
		{PT_BUF_INIT, PT_BUF_INIT, PT_BUF_INIT, PT_BUF_INIT}};
	pt_versions *versions = NULL;
	rowstate	s;
	int			final_version = 0;
	bool		ok;

	ok = pt_pq_sql_with_ident(conn, EVENTS_SQL, q->schema, &qr.sql, err) &&
		(!q->as_of || version_at(conn, q->schema, schema, table, q->as_of, &final_version, err)) &&
		(versions = pt_versions_load(conn, q->schema, err)) != NULL;
	memset(&s, 0, sizeof(s));
	if (ok)
	{
		qr.rt = pt_versions_table(versions, schema, strlen(schema), table, strlen(table));
		ok = check_query(versions, qr.rt, q, schema, table, user_key, err);
	}
	if (ok)
	{
		identity_names(&qr, versions, q->as_of ? final_version : INT_MAX);
		s.all = versions;
	}
	if (ok)
	{
		if (q->table_format && !q->as_of)
			fprintf(out, "%-8s  %-29s  %-10s  %-24s  %-18s  %s\n", "event", "committed_at", "op", "actor", "action",
					"row");
		/* as capture wrote it (the table's column order), or else as the user gave it */
		if (qr.rt && qr.rt->nversions > 0 && qr.rt->versions[qr.rt->nversions - 1].npk > 0)
			key_text(&qr.rt->versions[qr.rt->nversions - 1], user_key, &ordered);
		ok = fold_key(&qr, ordered.len ? ordered.data : key, key, 0, 0, &s, !q->as_of, err);
	}
	if (ok && q->as_of)
	{
		row_follow(&s, qr.rt, conn, final_version);
		row_order(&s, pt_versions_get(qr.rt, final_version));
		print_row(out, &s, q->table_format, &qr.line);
	}
	shared_clear(&s);
	row_free(&s);
	pt_buf_free(&qr.sql);
	pt_buf_free(&qr.line);
	for (int i = 0; i < 4; i++)
		pt_buf_free(&qr.ident[i]);
	pt_buf_free(&ordered);
	pt_versions_free(versions);
	return ok;
}

/* The versions the answer's column names follow must be the chain's. */
static bool
versions_proven(PGconn *conn, const pt_query_opts *q, pt_err *err)
{
	pt_version_audit a;

	if (!pt_versions_audit(conn, q->schema, &a, err))
		return false;
	if (a.bad == 0)
		return true;
	pt_err_set(err, PT_ERR_INTEGRITY, "%s", a.findings[0]);
	pt_err_hint(err, "run pgtrail-verify; point queries answer only from schema versions the chain proves");
	return false;
}

bool
pt_replay_query(const pt_query_opts *q, FILE *out, pt_err *err)
{
	pt_buf		schema = PT_BUF_INIT,
				table = PT_BUF_INIT,
				key = PT_BUF_INIT;
	pt_jsonobj	obj;
	PGconn	   *conn = NULL;
	bool		ok;

	pt_jsonobj_init(&obj);
	ok = split_table(q->table, &schema, &table, err) && key_json(q->key, &obj, &key, err);
	if (ok && (conn = pt_pq_connect(q->events_dsn, "pgtrail-replay", err)) == NULL)
	{
		pt_err_prefix(err, "event store");
		ok = false;
	}
	/* one snapshot: what is proven is what is answered */
	if (ok)
		ok = pt_pq_command(conn, "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY", err) && versions_proven(conn, q, err);
	if (ok && ((q->public_key && q->public_key[0]) || (q->anchor && q->anchor[0])))
		ok = pt_trust_prove_log(conn, q->schema, q->public_key, q->anchor, q->log, err);
	if (ok)
		ok = run_query(conn, q, schema.data, table.data, key.data, &obj, out, err) &&
			pt_pq_command(conn, "COMMIT", err);
	pt_pq_close(conn);
	pt_jsonobj_free(&obj);
	pt_buf_free(&schema);
	pt_buf_free(&table);
	pt_buf_free(&key);
	return ok;
}
