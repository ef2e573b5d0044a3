/*
 * capture/publication.c — the publication pgoutput reads through (see
 * publication.h).
 *
 * Which tables it covers is a JSON array of schema names (NULL: all
 * tables), handed to the catalog queries as one parameter so no name is
 * ever spliced into SQL text but through pt_pq_ident.
 */
#include "capture/publication.h"

#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/json.h"
#include "core/mem.h"
#include "core/pgcaps.h"
#include "core/pq.h"

/* The comment that marks a publication capture made and keeps in step. */
#define OURS "made by pgtrail-capture; kept in step with [capture] tables"

typedef struct pubstate
{
	bool		found;
	bool		stored_generated;	/* 18+: publishes stored generated columns */
	bool		all_tables;
	bool		ours;
	bool		same_schemas;	/* covers exactly the schemas wanted */
} pubstate;

#define STATE_SQL(gencols) \
	"SELECT count(*), bool_or(" gencols "), bool_or(p.puballtables), " \
	"bool_or(obj_description(p.oid, 'pg_publication') = $2), " \
	"bool_or(coalesce((SELECT array_agg(n.nspname::text ORDER BY n.nspname) FROM pg_publication_namespace pn " \
	"  JOIN pg_namespace n ON n.oid = pn.pnnspid WHERE pn.pnpubid = p.oid), '{}') = " \
	"  coalesce((SELECT array_agg(x ORDER BY x) FROM json_array_elements_text($3::json) x), '{}')) " \
	"FROM pg_publication p WHERE p.pubname = $1"

static bool
read_state(PGconn *conn, const char *name, const char *schemas, pubstate *st, pt_err *err)
{
	const char *params[3] = {name, OURS, schemas};
	const char *sql = pt_pgcaps_of(conn).publish_generated ? STATE_SQL("p.pubgencols = 's'") : STATE_SQL("false");
	PGresult   *res = pt_pq_exec_params(conn, sql, 3, params, PGRES_TUPLES_OK, 1, 5, err);

	if (res == NULL)
		return false;
	st->found = strcmp(PQgetvalue(res, 0, 0), "0") != 0;
	st->stored_generated = strcmp(PQgetvalue(res, 0, 1), "t") == 0;
	st->all_tables = strcmp(PQgetvalue(res, 0, 2), "t") == 0;
	st->ours = strcmp(PQgetvalue(res, 0, 3), "t") == 0;
	st->same_schemas = strcmp(PQgetvalue(res, 0, 4), "t") == 0;
	PQclear(res);
	return true;
}

/*
 * Tables (not partitions) of the schemas (all when $1 is null) whose UPDATE
 * and DELETE a publication would make fail: no replica identity, or (18+)
 * a FULL one holding a virtual generated column, which no publication can
 * carry.
 */
#define NO_IDENTITY_SQL \
	"SELECT count(*), string_agg(format('%I.%I', n.nspname, c.relname), ', ' ORDER BY n.nspname, c.relname) " \
	"FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace " \
	"WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition AND c.relpersistence = 'p' " \
	"AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%' " \
	"AND ($1::json IS NULL OR n.nspname IN (SELECT json_array_elements_text($1::json))) " \
	"AND (c.relreplident = 'n' OR (c.relreplident = 'd' AND NOT EXISTS " \
	"  (SELECT FROM pg_index i WHERE i.indrelid = c.oid AND i.indisprimary)) " \
	"  OR (c.relreplident = 'f' AND EXISTS (SELECT FROM pg_attribute a " \
	"      WHERE a.attrelid = c.oid AND a.attgenerated = 'v' AND NOT a.attisdropped)))"

/*
 * A publication that publishes UPDATE and DELETE makes the server refuse
 * them on a table without a replica identity: made (or widened) only when
 * there is none, else the application would start failing.
 */
static bool
refuse_if_breaking(PGconn *conn, const char *name, const char *schemas, pt_err *err)
{
	const char *params[1] = {schemas};
	PGresult   *res = pt_pq_exec_params(conn, NO_IDENTITY_SQL, 1, params, PGRES_TUPLES_OK, 1, 2, err);
	bool		ok;

	if (res == NULL)
		return false;
	ok = strcmp(PQgetvalue(res, 0, 0), "0") == 0;
	if (!ok)
	{
		pt_err_set(err, PT_ERR_CONFIG, "publication \"%s\" would make UPDATE and DELETE fail on "
				   "%s table(s) without a usable replica identity: %.400s", name, PQgetvalue(res, 0, 0),
				   PQgetvalue(res, 0, 1));
		pt_err_hint(err, "give each a primary key or a REPLICA IDENTITY (FULL only without virtual generated "
					"columns); or create the publication yourself FOR TABLE the tables to capture; or use "
					"decoder = wal2json");
	}
	PQclear(res);
	return ok;
}

/* " ALL TABLES" or " TABLES IN SCHEMA a, b" onto sql (schemas NULL: all). */
static bool
put_tables(PGconn *conn, pt_buf *sql, const char *const *schemas, int n, pt_err *err)
{
	if (schemas == NULL)
	{
		pt_buf_puts(sql, " ALL TABLES");
		return true;
	}
	for (int i = 0; i < n; i++)
	{
		char	   *ident = pt_pq_ident(conn, schemas[i], err);

		if (ident == NULL)
			return false;
		pt_buf_puts(sql, i ? ", " : " TABLES IN SCHEMA ");
		pt_buf_puts(sql, ident);
		PQfreemem(ident);
	}
	return true;
}

/*
 * Run "VERB PUBLICATION name MIDDLE" + tables + tail (MIDDLE: " FOR", " SET");
 * a permission error becomes a configuration one.
 */
static bool
publication_command(PGconn *conn, const char *verb, const char *name, const char *middle,
					const char *const *schemas, int n, const char *tail, pt_err *err)
{
	char	   *ident = pt_pq_ident(conn, name, err);
	pt_buf		sql = PT_BUF_INIT;
	bool		ok;

	if (ident == NULL)
		return false;
	pt_buf_printf(&sql, "%s PUBLICATION %s%s", verb, ident, middle);
	PQfreemem(ident);
	ok = put_tables(conn, &sql, schemas, n, err);
	pt_buf_puts(&sql, tail);
	ok = ok && pt_pq_command(conn, sql.data, err);
	if (!ok && strcmp(err->sqlstate, "42501") == 0)
	{
		err->kind = PT_ERR_CONFIG;
		pt_err_hint(err, "have a superuser run: %s; or set [capture] publication to one that exists", sql.data);
	}
	pt_buf_free(&sql);
	return ok;
}

static bool
create(PGconn *conn, const char *name, const char *const *schemas, int n, pt_err *err)
{
	char	   *ident;
	pt_buf		sql = PT_BUF_INIT;
	bool		ok = publication_command(conn, "CREATE", name, " FOR", schemas, n,
										 pt_pgcaps_of(conn).publish_generated
										 ? " WITH (publish_generated_columns = stored)" : "", err);

	if (!ok || (ident = pt_pq_ident(conn, name, err)) == NULL)
		return false;
	pt_buf_printf(&sql, "COMMENT ON PUBLICATION %s IS '" OURS "'", ident);
	PQfreemem(ident);
	ok = pt_pq_command(conn, sql.data, err);
	pt_buf_free(&sql);
	return ok;
}

/* The schemas wanted as a JSON array (NULL: all tables); names missing from the catalog in *missing. */
static char *
schemas_json(PGconn *conn, const char *const *schemas, int n, bool *missing, pt_err *err)
{
	pt_buf		json = PT_BUF_INIT;
	const char *params[1];
	PGresult   *res;

	*missing = false;
	if (schemas == NULL)
		return NULL;
	pt_buf_putc(&json, '[');
	for (int i = 0; i < n; i++)
	{
		pt_buf_puts(&json, i ? "," : "");
		pt_json_put_cstring(&json, schemas[i]);
	}
	pt_buf_putc(&json, ']');
	params[0] = json.data;
	res = pt_pq_exec_params(conn, "SELECT count(*) FROM json_array_elements_text($1::json) x "
							"WHERE NOT EXISTS (SELECT FROM pg_namespace WHERE nspname = x)", 1, params,
							PGRES_TUPLES_OK, 1, 1, err);
	if (res == NULL)
	{
		pt_buf_free(&json);
		return NULL;
	}
	*missing = strcmp(PQgetvalue(res, 0, 0), "0") != 0;
	PQclear(res);
	return json.data;
}

/* Make it: FOR TABLES IN SCHEMA when the patterns name their schemas, else FOR ALL TABLES. */
static bool
make(PGconn *conn, const char *name, const char *json, const char *const *schemas, int n, pt_log *log,
	 pt_err *err)
{
	if (!refuse_if_breaking(conn, name, json, err))
		return false;
	if (!create(conn, name, json ? schemas : NULL, n, err))
	{
		pt_err_prefix(err, "could not create publication \"%s\"", name);
		return false;
	}
	pt_log_info(log, "created publication \"%s\" %s", name,
				json ? "FOR TABLES IN SCHEMA the schemas [capture] tables names" : "FOR ALL TABLES");
	return true;
}

/* A publication capture made for schemas: the schemas the patterns name now. */
static bool
keep_in_step(PGconn *conn, const char *name, const char *json, const char *const *schemas, int n,
			 pt_log *log, pt_err *err)
{
	if (json == NULL)
	{
		pt_err_set(err, PT_ERR_CONFIG, "publication \"%s\" covers the schemas [capture] tables named, and the "
				   "patterns now select tables in any schema (or in a schema that does not exist yet)", name);
		pt_err_hint(err, "name each table's schema in [capture] tables (schema.table), or have a superuser "
					"ALTER PUBLICATION \"%s\" ADD TABLES IN SCHEMA each schema to capture", name);
		return false;
	}
	if (!refuse_if_breaking(conn, name, json, err) ||
		!publication_command(conn, "ALTER", name, " SET", schemas, n, "", err))
	{
		pt_err_prefix(err, "could not keep publication \"%s\" in step with [capture] tables", name);
		return false;
	}
	pt_log_info(log, "publication \"%s\" now covers the schemas [capture] tables names", name);
	return true;
}

bool
pt_publication_ensure(PGconn *conn, const char *name, const pt_filter *filter, bool *stored_generated,
					  pt_log *log, pt_err *err)
{
	int			n;
	const char **schemas = pt_filter_schemas(filter, &n);
	bool		missing;
	char	   *json = schemas_json(conn, schemas, n, &missing, err);
	pubstate	st;
	bool		ok;

	if (schemas != NULL && json == NULL)
	{
		free(schemas);
		return false;
	}
	if (missing || n == 0)		/* a schema to come, or only the store's named */
	{
		free(json);
		json = NULL;
	}
	ok = read_state(conn, name, json, &st, err);
	if (ok && !st.found)
		ok = make(conn, name, json, schemas, n, log, err) && read_state(conn, name, json, &st, err);
	else if (ok && st.ours && !st.all_tables && !st.same_schemas)
		ok = keep_in_step(conn, name, json, schemas, n, log, err);
	if (ok && !st.stored_generated && pt_pgcaps_of(conn).publish_generated)
		pt_log_warning(log, "publication \"%s\" does not publish stored generated columns: their values are "
					   "not in the events (counted as losses); hint: ALTER PUBLICATION \"%s\" SET "
					   "(publish_generated_columns = stored)", name, name);
	*stored_generated = st.stored_generated;
	free(schemas);
	free(json);
	return ok;
}

char *
pt_publication_option(const char *name)
{
	pt_buf		b = PT_BUF_INIT;

	pt_buf_putc(&b, '"');
	for (const char *p = name; *p; p++)
	{
		if (*p == '"')
			pt_buf_putc(&b, '"');
		pt_buf_putc(&b, *p);
	}
	pt_buf_putc(&b, '"');
	return b.data;
}
