/*
 * capture/publication.c — the publication pgoutput reads through (see
 * publication.h).
 */
#include "capture/publication.h"

#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/mem.h"
#include "core/pgcaps.h"
#include "core/pq.h"

/* Does it exist, and does it publish stored generated columns (18+: pubgencols)? */
static bool
exists(PGconn *conn, const char *name, bool *found, bool *stored_generated, pt_err *err)
{
	const char *params[1] = {name};
	const char *sql = pt_pgcaps_of(conn).publish_generated
		? "SELECT count(*), bool_or(pubgencols = 's') FROM pg_publication WHERE pubname = $1"
		: "SELECT count(*), false FROM pg_publication WHERE pubname = $1";
	PGresult   *res = pt_pq_exec_params(conn, sql, 1, params, PGRES_TUPLES_OK, 1, 2, err);

	if (res == NULL)
		return false;
	*found = strcmp(PQgetvalue(res, 0, 0), "0") != 0;
	*stored_generated = strcmp(PQgetvalue(res, 0, 1), "t") == 0;
	PQclear(res);
	return true;
}

/*
 * Tables (not partitions) whose UPDATE and DELETE a FOR ALL TABLES
 * publication would make fail: no replica identity, or (18+) a FULL one
 * holding a virtual generated column, which no publication can carry.
 */
#define NO_IDENTITY_SQL \
	"SELECT count(*), string_agg(format('%I.%I', n.nspname, c.relname), ', ' ORDER BY n.nspname, c.relname) " \
	"FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace " \
	"WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition AND c.relpersistence = 'p' " \
	"AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%' " \
	"AND (c.relreplident = 'n' OR (c.relreplident = 'd' AND NOT EXISTS " \
	"  (SELECT FROM pg_index i WHERE i.indrelid = c.oid AND i.indisprimary)) " \
	"  OR (c.relreplident = 'f' AND EXISTS (SELECT FROM pg_attribute a " \
	"      WHERE a.attrelid = c.oid AND a.attgenerated = 'v' AND NOT a.attisdropped)))"

/*
 * A publication of every table that publishes UPDATE and DELETE makes the
 * server refuse them on a table without a replica identity: made only
 * when there is none, else the application would start failing.
 */
static bool
refuse_if_breaking(PGconn *conn, const char *name, pt_err *err)
{
	PGresult   *res = pt_pq_exec(conn, NO_IDENTITY_SQL, PGRES_TUPLES_OK, 1, 2, err);
	bool		ok;

	if (res == NULL)
		return false;
	ok = strcmp(PQgetvalue(res, 0, 0), "0") == 0;
	if (!ok)
	{
		pt_err_set(err, PT_ERR_CONFIG, "publication \"%s\" FOR ALL TABLES would make UPDATE and DELETE fail on "
				   "%s table(s) without a usable replica identity: %.400s", name, PQgetvalue(res, 0, 0),
				   PQgetvalue(res, 0, 1));
		pt_err_hint(err, "give each a primary key or a REPLICA IDENTITY (FULL only without virtual generated "
					"columns); or create the "
					"publication yourself FOR TABLE the tables to capture; or use decoder = wal2json");
	}
	PQclear(res);
	return ok;
}

static bool
create(PGconn *conn, const char *name, pt_err *err)
{
	char	   *ident = pt_pq_ident(conn, name, err);
	pt_buf		sql = PT_BUF_INIT;
	bool		ok;

	if (ident == NULL)
		return false;
	pt_buf_printf(&sql, "CREATE PUBLICATION %s FOR ALL TABLES%s", ident,
				  pt_pgcaps_of(conn).publish_generated ? " WITH (publish_generated_columns = stored)" : "");
	PQfreemem(ident);
	ok = pt_pq_command(conn, sql.data, err);
	pt_buf_free(&sql);
	if (!ok && strcmp(err->sqlstate, "42501") == 0)
	{
		err->kind = PT_ERR_CONFIG;
		pt_err_hint(err, "have a superuser run: CREATE PUBLICATION \"%s\" FOR ALL TABLES; "
					"or set [capture] publication to one that exists", name);
	}
	return ok;
}

bool
pt_publication_ensure(PGconn *conn, const char *name, bool *stored_generated, pt_log *log, pt_err *err)
{
	bool		found;

	if (!exists(conn, name, &found, stored_generated, err))
		return false;
	if (found && !*stored_generated && pt_pgcaps_of(conn).publish_generated)
		pt_log_warning(log, "publication \"%s\" does not publish stored generated columns: their values are "
					   "not in the events (counted as losses); hint: ALTER PUBLICATION \"%s\" SET "
					   "(publish_generated_columns = stored)", name, name);
	if (found)
		return true;
	if (!refuse_if_breaking(conn, name, err))
		return false;
	if (!create(conn, name, err))
	{
		pt_err_prefix(err, "could not create publication \"%s\"", name);
		return false;
	}
	pt_log_info(log, "created publication \"%s\" FOR ALL TABLES", name);
	*stored_generated = pt_pgcaps_of(conn).publish_generated;
	return true;
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
