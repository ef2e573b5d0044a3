/*
 * capture/ddl.c — DDL capture (see ddl.h): the event triggers installed in
 * the source, and the parsing of the messages they emit.
 *
 * Every piece of SQL that runs inside the source's DDL lives here. The
 * trigger functions pin the settings that shape text output and run with
 * search_path = pg_catalog, so the names they write are schema-qualified
 * where needed and nothing in a user's schema can stand in for a catalog
 * function. They run as the role that issued the DDL (no SECURITY
 * DEFINER), so "role" is who did it. The store schema's own objects are
 * ignored.
 *
 * Messages are parsed with jsmn into token spans; strings are unescaped
 * into one arena reserved up front for the whole message, so the spans
 * handed out stay put while later ones are written.
 */
#include "capture/ddl.h"

#include <stdlib.h>
#include <string.h>

#define JSMN_STRICT
#define JSMN_STATIC
#include <jsmn.h>

#include <openssl/evp.h>

#include "core/buf.h"
#include "core/hex.h"
#include "core/json.h"
#include "core/mem.h"
#include "core/pq.h"
#include "core/utf8.h"

/* Bump when any SQL below changes: an older install is then replaced. */
#define DDL_VERSION "pgtrail ddl capture 8"

/* The settings that shape text output, as the replication connection pins them. */
#define PINNED \
	" SET DateStyle = 'ISO' SET IntervalStyle = 'postgres' SET TimeZone = 'UTC'" \
	" SET extra_float_digits = 3 SET bytea_output = 'hex' SET lc_monetary = 'C'" \
	" SET search_path = pg_catalog "

/*
 * Templates: @S@ is the quoted store schema, @L@ its name as a literal
 * (quoted by the server), @T@ a dollar-quote tag neither of them contains,
 * @N1@..@N5@ the quoted event trigger names.
 *
 * Sealing. Any role may call pg_logical_emit_message, so a message with
 * our prefix proves nothing by itself. The functions that write messages
 * run as their owner (the superuser who installed them: SECURITY
 * DEFINER, EXECUTE revoked from PUBLIC, and event trigger functions
 * cannot be called directly anyway) and put in front of each message
 * SHA-256(secret || content) in hex; the secret is in a table only its
 * owner (and roles granted SELECT, like capture's) can read. Capture
 * checks the seal and ignores, with a warning, any message without a
 * good one. Who ran the DDL is taken by a small invoker-rights trigger
 * that fires just before (triggers of one event fire in name order) and
 * leaves current_user in a transaction-local setting.
 */

/*
 * The secret, made once; readable by its owner only. Written once and never
 * updated, but given a replica identity so that a publication of every
 * table (pgoutput's) can be made while it exists.
 */
#define SEAL_TABLE \
	"CREATE TABLE IF NOT EXISTS @S@.ddl_seal (secret text NOT NULL); " \
	"ALTER TABLE @S@.ddl_seal REPLICA IDENTITY FULL; " \
	"INSERT INTO @S@.ddl_seal SELECT encode(sha256(convert_to(gen_random_uuid()::text || gen_random_uuid()::text " \
	"  || clock_timestamp()::text, 'UTF8')), 'hex') WHERE NOT EXISTS (SELECT FROM @S@.ddl_seal); " \
	"REVOKE ALL ON TABLE @S@.ddl_seal FROM PUBLIC; "

/* Emit a sealed message: hex SHA-256(secret || content), then the content. */
#define EMIT_FN \
	"CREATE OR REPLACE FUNCTION @S@.ddl_emit(prefix text, content text) RETURNS void LANGUAGE sql VOLATILE " \
	"SECURITY DEFINER" PINNED "AS @T@ " \
	"SELECT pg_logical_emit_message(true, prefix, " \
	"  encode(sha256(convert_to(s.secret || content, 'UTF8')), 'hex') || content) FROM @S@.ddl_seal s @T@; "

/* Who runs the DDL, for the sealed message (see above). */
#define ROLE_FN \
	"CREATE OR REPLACE FUNCTION @S@.ddl_role() RETURNS event_trigger LANGUAGE plpgsql" PINNED "AS @T@ " \
	"BEGIN PERFORM set_config('pgtrail.ddl_role', current_user::text, true); END @T@; "

/* The role ddl_role left, in the definer functions. */
#define DDL_ROLE "coalesce(nullif(current_setting('pgtrail.ddl_role', true), ''), session_user::text)"

/*
 * A column in a ddl message; PostgreSQL 18's virtual generated ones also
 * say "virtual": true, stored generated ones "stored": true (pgoutput
 * before 18 does not send those).
 */
#define COLUMN_KEYS \
	"'name', a.attname, 'type', format_type(a.atttypid, a.atttypmod), 'typeoid', a.atttypid::bigint, " \
	"'attnum', a.attnum"

/* One table as a ddl message describes it (details: schema.h's expression). */
#define TABLE_FN \
	"CREATE OR REPLACE FUNCTION @S@.ddl_table(rel oid) RETURNS json LANGUAGE sql STABLE SECURITY DEFINER" PINNED \
	"AS @T@ " \
	"SELECT json_build_object('schema', n.nspname, 'table', c.relname, 'oid', c.oid::bigint, " \
	"'columns', coalesce((SELECT json_agg(CASE a.attgenerated " \
	"  WHEN 'v' THEN json_build_object(" COLUMN_KEYS ", 'virtual', true) " \
	"  WHEN 's' THEN json_build_object(" COLUMN_KEYS ", 'stored', true) ELSE json_build_object(" COLUMN_KEYS ") END " \
	"  ORDER BY a.attnum) FROM pg_attribute a " \
	"  WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped), '[]'::json), " \
	"'primary_key', coalesce((SELECT json_agg(a.attname ORDER BY array_position(i.indkey::int2[], a.attnum)) " \
	"  FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey) " \
	"  WHERE i.indrelid = c.oid AND i.indisprimary), '[]'::json), " \
	"'replica_identity', c.relreplident::text, " \
	"'identity_key', coalesce((SELECT json_agg(a.attname ORDER BY array_position(i.indkey::int2[], a.attnum)) " \
	"  FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey) " \
	"  WHERE i.indrelid = c.oid AND i.indisreplident AND c.relreplident = 'i'), '[]'::json), " \
	"'details', " PT_SCHEMAS_DETAILS_EXPR ") " \
	"FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = rel @T@; "

/*
 * Every row of a rewritten table, one "pgtrail.row" message each. Each
 * value is its type's output text, as wal2json and COPY print it: format's
 * %s calls the output function, where a cast to text may not (boolean::text
 * is "false", not "f"; inet::text keeps "/32"; bpchar::text drops trailing
 * blanks). num_nulls tells SQL NULL from a composite whose fields are all
 * NULL, which IS NULL would take for NULL.
 */
#define ROWS_FN \
	"CREATE OR REPLACE FUNCTION @S@.ddl_emit_rows(rel oid) RETURNS bigint LANGUAGE plpgsql VOLATILE SECURITY DEFINER" \
	PINNED "AS @T@ " \
	"DECLARE nsp text; tbl text; cols text[]; vals text; emitted bigint; " \
	"BEGIN " \
	"  SELECT ns.nspname, c.relname INTO nsp, tbl FROM pg_class c JOIN pg_namespace ns ON ns.oid = c.relnamespace " \
	"   WHERE c.oid = rel AND c.relkind = 'r'; " \
	"  IF NOT FOUND THEN RETURN 0; END IF; " \
	"  SELECT coalesce(array_agg(a.attname::text ORDER BY a.attnum), '{}'), " \
	"         coalesce(string_agg(format('CASE WHEN num_nulls(t.%1$I) = 0 THEN format(%2$L, t.%1$I) END', " \
	"                                    a.attname, '%s'), ', ' ORDER BY a.attnum), '') " \
	"    INTO cols, vals FROM pg_attribute a WHERE a.attrelid = rel AND a.attnum > 0 AND NOT a.attisdropped " \
	"    AND a.attgenerated <> 'v'; " \
	"  EXECUTE format('SELECT count(%I.ddl_emit(%L, json_build_object(%L, $2, %L, $3, %L, " \
	"    json_object($1, ARRAY[%s]::text[]))::text)) FROM ONLY %I.%I AS t', " \
	"    @L@, 'pgtrail.row', 'schema', 'table', 'row', vals, nsp, tbl) INTO emitted USING cols, nsp, tbl; " \
	"  RETURN emitted; " \
	"END @T@; "

/* table_rewrite: remember the table (transaction-local setting) for ddl_command_end. */
#define REWRITE_FN \
	"CREATE OR REPLACE FUNCTION @S@.ddl_table_rewrite() RETURNS event_trigger LANGUAGE plpgsql SECURITY DEFINER" \
	PINNED "AS @T@ " \
	"DECLARE rel oid := pg_event_trigger_table_rewrite_oid(); " \
	"  store oid := (SELECT ns.oid FROM pg_namespace ns WHERE ns.nspname = @L@); " \
	"  k text := 'pgtrail.ddl_rewritten_' || store; " \
	"BEGIN " \
	"  IF EXISTS (SELECT FROM pg_class c WHERE c.oid = rel AND c.relnamespace = store) THEN RETURN; END IF; " \
	"  PERFORM set_config(k, (coalesce(nullif(current_setting(k, true), ''), '{}')::oid[] || rel)::text, true); " \
	"END @T@; "

/*
 * ddl_command_end: one message per command; "tables" is the command's table
 * and, for ALTER TABLE (which recurses), its inheritance children and
 * partitions. A rewritten table's rows follow its command's message.
 */
#define COMMAND_END_FN \
	"CREATE OR REPLACE FUNCTION @S@.ddl_command_end() RETURNS event_trigger LANGUAGE plpgsql SECURITY DEFINER" \
	PINNED "AS @T@ " \
	"DECLARE store oid := (SELECT ns.oid FROM pg_namespace ns WHERE ns.nspname = @L@); " \
	"  k text := 'pgtrail.ddl_rewritten_' || store; " \
	"  rewritten oid[] := coalesce(nullif(current_setting(k, true), ''), '{}')::oid[]; " \
	"  cmd record; rels oid[]; rel oid; is_rewrite boolean; " \
	"BEGIN " \
	"  FOR cmd IN SELECT * FROM pg_event_trigger_ddl_commands() LOOP " \
	"    CONTINUE WHEN cmd.schema_name = @L@ OR cmd.schema_name = 'pg_temp' " \
	"      OR cmd.schema_name LIKE 'pg\\_temp\\_%' OR cmd.schema_name LIKE 'pg\\_toast%' " \
	"      OR (cmd.object_type = 'schema' AND cmd.objid = store); " \
	"    rels := '{}'; " \
	"    IF cmd.classid = 'pg_class'::regclass THEN " \
	"      SELECT coalesce(array_agg(c.oid ORDER BY t.depth, ns.nspname, c.relname), '{}') INTO rels " \
	"      FROM (WITH RECURSIVE tree(relid, depth) AS (SELECT cmd.objid, 0 " \
	"              UNION ALL SELECT i.inhrelid, tree.depth + 1 FROM pg_inherits i JOIN tree ON i.inhparent = tree.relid " \
	"              WHERE cmd.command_tag = 'ALTER TABLE') " \
	"            SELECT tree.relid, min(tree.depth) AS depth FROM tree GROUP BY tree.relid) t " \
	"      JOIN pg_class c ON c.oid = t.relid JOIN pg_namespace ns ON ns.oid = c.relnamespace " \
	"      WHERE c.relkind IN ('r', 'p') AND c.relpersistence = 'p'; " \
	"    END IF; " \
	"    is_rewrite := rels && rewritten; " \
	"    PERFORM @S@.ddl_emit('pgtrail.ddl', json_build_object(" \
	"      'command_tag', cmd.command_tag, 'object_type', cmd.object_type, " \
	"      'object_identity', cmd.object_identity, 'statement', current_query(), " \
	"      'role', " DDL_ROLE ", 'rewrite', is_rewrite, " \
	"      'tables', (SELECT coalesce(json_agg(@S@.ddl_table(u.relid) ORDER BY u.ord), '[]'::json) " \
	"                 FROM unnest(rels) WITH ORDINALITY u(relid, ord)), " \
	"      'dropped', '[]'::json, " \
	"      'rewritten', (SELECT coalesce(json_agg(json_build_object('schema', ns.nspname, 'table', c.relname, " \
	"                   'oid', c.oid::bigint) ORDER BY u.ord), '[]'::json) " \
	"                 FROM unnest(rels) WITH ORDINALITY u(relid, ord) JOIN pg_class c ON c.oid = u.relid " \
	"                 JOIN pg_namespace ns ON ns.oid = c.relnamespace WHERE u.relid = ANY (rewritten)))::text); " \
	"    IF is_rewrite THEN " \
	"      FOREACH rel IN ARRAY rels LOOP " \
	"        IF rel = ANY (rewritten) THEN " \
	"          PERFORM @S@.ddl_emit_rows(rel); " \
	"          rewritten := array_remove(rewritten, rel); " \
	"        END IF; " \
	"      END LOOP; " \
	"    END IF; " \
	"  END LOOP; " \
	"  IF current_setting(k, true) <> '' THEN PERFORM set_config(k, '', true); END IF; " \
	"END @T@; "

/* sql_drop: one message per DROP command, listing the tables it dropped. */
#define SQL_DROP_FN \
	"CREATE OR REPLACE FUNCTION @S@.ddl_sql_drop() RETURNS event_trigger LANGUAGE plpgsql SECURITY DEFINER" \
	PINNED "AS @T@ " \
	"DECLARE head record; " \
	"BEGIN " \
	"  IF TG_TAG NOT LIKE 'DROP %' THEN RETURN; END IF; " \
	"  SELECT d.object_type, d.object_identity INTO head " \
	"    FROM pg_event_trigger_dropped_objects() WITH ORDINALITY d " \
	"   WHERE d.original AND NOT d.is_temporary AND d.schema_name IS DISTINCT FROM @L@ " \
	"     AND NOT (d.object_type = 'schema' AND d.object_identity = quote_ident(@L@)) " \
	"   ORDER BY d.ordinality LIMIT 1; " \
	"  IF NOT FOUND THEN RETURN; END IF; " \
	"  PERFORM @S@.ddl_emit('pgtrail.ddl', json_build_object(" \
	"    'command_tag', TG_TAG, 'object_type', head.object_type, 'object_identity', head.object_identity, " \
	"    'statement', current_query(), 'role', " DDL_ROLE ", 'rewrite', false, 'tables', '[]'::json, " \
	"    'dropped', (SELECT coalesce(json_agg(json_build_object('schema', d.schema_name, 'table', d.object_name, " \
	"                 'oid', d.objid::bigint) ORDER BY d.ordinality), '[]'::json) " \
	"               FROM pg_event_trigger_dropped_objects() WITH ORDINALITY d " \
	"               WHERE d.object_type = 'table' AND NOT d.is_temporary " \
	"                 AND d.schema_name IS DISTINCT FROM @L@))::text); " \
	"END @T@; "

#define INSTALL_SQL \
	"CREATE SCHEMA IF NOT EXISTS @S@; " \
	"DROP EVENT TRIGGER IF EXISTS @N1@; DROP EVENT TRIGGER IF EXISTS @N2@; DROP EVENT TRIGGER IF EXISTS @N3@; " \
	"DROP EVENT TRIGGER IF EXISTS @N4@; DROP EVENT TRIGGER IF EXISTS @N5@; " \
	SEAL_TABLE EMIT_FN ROLE_FN TABLE_FN ROWS_FN REWRITE_FN COMMAND_END_FN SQL_DROP_FN \
	"REVOKE ALL ON FUNCTION @S@.ddl_emit(text, text), @S@.ddl_table(oid), @S@.ddl_emit_rows(oid), " \
	"  @S@.ddl_table_rewrite(), @S@.ddl_command_end(), @S@.ddl_sql_drop(), @S@.ddl_role() FROM PUBLIC; " \
	"COMMENT ON FUNCTION @S@.ddl_command_end() IS '" DDL_VERSION "'; " \
	"GRANT USAGE ON SCHEMA @S@ TO PUBLIC; " \
	"CREATE EVENT TRIGGER @N4@ ON ddl_command_end EXECUTE FUNCTION @S@.ddl_role(); " \
	"CREATE EVENT TRIGGER @N5@ ON sql_drop EXECUTE FUNCTION @S@.ddl_role(); " \
	"CREATE EVENT TRIGGER @N1@ ON ddl_command_end EXECUTE FUNCTION @S@.ddl_command_end(); " \
	"CREATE EVENT TRIGGER @N2@ ON sql_drop EXECUTE FUNCTION @S@.ddl_sql_drop(); " \
	"CREATE EVENT TRIGGER @N3@ ON table_rewrite EXECUTE FUNCTION @S@.ddl_table_rewrite()"

/* $1 schema, $2..$4, $6, $7 trigger names, $5 the version: how many of ours are in place. */
#define INSTALLED_SQL \
	"SELECT count(*) FILTER (WHERE obj_description(p.oid, 'pg_proc') IS NOT DISTINCT FROM $5 " \
	"  OR p.proname <> 'ddl_command_end'), count(*) " \
	"FROM pg_event_trigger e JOIN pg_proc p ON p.oid = e.evtfoid " \
	"JOIN pg_namespace n ON n.oid = p.pronamespace " \
	"WHERE n.nspname = $1 AND e.evtenabled <> 'D' AND (e.evtname::text, e.evtevent::text, p.proname::text) IN " \
	"(($2, 'ddl_command_end', 'ddl_command_end'), ($3, 'sql_drop', 'ddl_sql_drop'), " \
	"($4, 'table_rewrite', 'ddl_table_rewrite'), ($6, 'ddl_command_end', 'ddl_role'), ($7, 'sql_drop', 'ddl_role'))"

struct pt_ddl
{
	jsmntok_t  *toks;
	unsigned	ntoks_cap;
	int			ntoks;
	const char *json;
	pt_buf		arena;			/* unescaped strings, reserved per message */
	/* grow-only arrays, at least one entry per token */
	int			cap;
	pt_ddl_table *tables;
	pt_text    *names;
	pt_text    *values;
	const char **types;
	uint32_t   *typeoids;
	int		   *attnums;
	bool	   *virtuals;
	bool	   *storeds;
	const char **pk;
	bool	   *is_key;
	pt_buf		columns;		/* pt_ddl_columns_json */
	char	   *secret;			/* seals the messages (pt_ddl_load_seal) */
	EVP_MD_CTX *md_ctx;
};

pt_ddl *
pt_ddl_new(void)
{
	pt_ddl	   *d = pt_calloc(1, sizeof(*d));

	pt_buf_init(&d->arena);
	pt_buf_init(&d->columns);
	return d;
}

void
pt_ddl_free(pt_ddl *d)
{
	if (d == NULL)
		return;
	free(d->toks);
	free(d->tables);
	free(d->names);
	free(d->values);
	free(d->types);
	free(d->typeoids);
	free(d->attnums);
	free(d->virtuals);
	free(d->storeds);
	free(d->pk);
	free(d->is_key);
	pt_buf_free(&d->arena);
	pt_buf_free(&d->columns);
	free(d->secret);
	EVP_MD_CTX_free(d->md_ctx);
	free(d);
}

bool
pt_ddl_load_seal(pt_ddl *d, PGconn *conn, const char *schema, pt_err *err)
{
	char	   *q = pt_pq_ident(conn, schema, err);
	pt_buf		sql = PT_BUF_INIT;
	PGresult   *res;

	if (q == NULL)
		return false;
	pt_buf_printf(&sql, "SELECT secret FROM %s.ddl_seal LIMIT 1", q);
	PQfreemem(q);
	res = pt_pq_exec(conn, sql.data, PGRES_TUPLES_OK, 1, 1, err);
	pt_buf_free(&sql);
	if (res == NULL)
	{
		if (strcmp(err->sqlstate, PT_SQLSTATE_INSUFFICIENT_PRIVILEGE) == 0)
		{
			err->kind = PT_ERR_CONFIG;
			pt_err_hint(err, "the capture role must read the secret that seals DDL messages: "
						"GRANT SELECT ON \"%s\".ddl_seal TO %s", schema, PQuser(conn));
		}
		pt_err_prefix(err, "could not read DDL capture's seal");
		return false;
	}
	free(d->secret);
	d->secret = pt_strdup(PQgetvalue(res, 0, 0));
	PQclear(res);
	if (d->md_ctx == NULL)
		d->md_ctx = EVP_MD_CTX_new();
	return true;
}

bool
pt_ddl_unseal(pt_ddl *d, const char *content, size_t len, const char **body, size_t *body_len)
{
	uint8_t		digest[EVP_MAX_MD_SIZE];
	unsigned	dlen = 0;
	char		hex[2 * EVP_MAX_MD_SIZE + 1];

	if (d->secret == NULL || d->md_ctx == NULL || len < 64 ||
		!EVP_DigestInit_ex(d->md_ctx, EVP_sha256(), NULL) ||
		!EVP_DigestUpdate(d->md_ctx, d->secret, strlen(d->secret)) ||
		!EVP_DigestUpdate(d->md_ctx, content + 64, len - 64) ||
		!EVP_DigestFinal_ex(d->md_ctx, digest, &dlen) || dlen != 32)
		return false;
	pt_hex_encode(digest, dlen, hex);
	if (memcmp(hex, content, 64) != 0)
		return false;
	*body = content + 64;
	*body_len = len - 64;
	return true;
}

/* ---- installing ---- */

/* Copy tpl to out, replacing each @NAME@ by its value in subst (name, value pairs). */
static void
put_template(pt_buf *out, const char *tpl, const char *const *subst)
{
	for (const char *p = tpl; *p; p++)
	{
		bool		done = false;

		for (int i = 0; *p == '@' && subst[i] && !done; i += 2)
		{
			size_t		n = strlen(subst[i]);

			if (strncmp(p + 1, subst[i], n) == 0 && p[1 + n] == '@')
			{
				pt_buf_puts(out, subst[i + 1]);
				p += n + 1;
				done = true;
			}
		}
		if (!done)
			pt_buf_putc(out, *p);
	}
}

#define NTRIGGERS 5

/* The event trigger names: "<schema>_ddl_command_end" etc. The role takers
 * sort before the triggers they serve (same event: name order). */
static void
trigger_names(const char *schema, char names[NTRIGGERS][192])
{
	snprintf(names[0], 192, "%s_ddl_command_end", schema);
	snprintf(names[1], 192, "%s_ddl_sql_drop", schema);
	snprintf(names[2], 192, "%s_ddl_table_rewrite", schema);
	snprintf(names[3], 192, "%s_ddl_a_role", schema);
	snprintf(names[4], 192, "%s_ddl_a_role_drop", schema);
}

/* How many of the triggers exist, and how many at this version. */
static bool
count_installed(PGconn *conn, const char *schema, int *current, int *any, pt_err *err)
{
	char		names[NTRIGGERS][192];
	const char *params[7];
	PGresult   *res;

	trigger_names(schema, names);
	params[0] = schema;
	params[1] = names[0];
	params[2] = names[1];
	params[3] = names[2];
	params[4] = DDL_VERSION;
	params[5] = names[3];
	params[6] = names[4];
	res = pt_pq_exec_params(conn, INSTALLED_SQL, 7, params, PGRES_TUPLES_OK, 1, 2, err);
	if (res == NULL)
		return false;
	*current = atoi(PQgetvalue(res, 0, 0));
	*any = atoi(PQgetvalue(res, 0, 1));
	PQclear(res);
	return true;
}

bool
pt_ddl_installed(PGconn *conn, const char *schema, bool *installed, pt_err *err)
{
	int			current,
				any;

	if (!count_installed(conn, schema, &current, &any, err))
		return false;
	*installed = any > 0;
	return true;
}

/*
 * The install script, with every name quoted: identifiers by
 * PQescapeIdentifier, the schema as a literal by the server (quote_literal,
 * as snapshot.c quotes a snapshot name), and a dollar-quote tag that
 * neither contains.
 */
static bool
build_install(PGconn *conn, const char *schema, pt_buf *sql, pt_err *err)
{
	const char *params[1] = {schema};
	char		names[NTRIGGERS][192];
	char	   *q[NTRIGGERS + 1] = {NULL, NULL, NULL, NULL, NULL, NULL};
	char		tag[64] = "$pgtrail$";
	PGresult   *res = NULL;
	bool		ok = false;

	trigger_names(schema, names);
	if ((q[0] = pt_pq_ident(conn, schema, err)) == NULL)
		goto done;
	for (int i = 0; i < NTRIGGERS; i++)
		if ((q[i + 1] = pt_pq_ident(conn, names[i], err)) == NULL)
			goto done;
	res = pt_pq_exec_params(conn, "SELECT quote_literal($1)", 1, params, PGRES_TUPLES_OK, 1, 1, err);
	if (res == NULL)
		goto done;
	for (int n = 0; strstr(PQgetvalue(res, 0, 0), tag) || strstr(q[0], tag); n++)
		snprintf(tag, sizeof(tag), "$pgtrail%d$", n);
	{
		const char *subst[] = {"S", q[0], "L", PQgetvalue(res, 0, 0), "T", tag,
		"N1", q[1], "N2", q[2], "N3", q[3], "N4", q[4], "N5", q[5], NULL};

		put_template(sql, INSTALL_SQL, subst);
	}
	ok = true;
done:
	PQclear(res);
	for (int i = 0; i < NTRIGGERS + 1; i++)
		PQfreemem(q[i]);
	return ok;
}

bool
pt_ddl_install(PGconn *conn, const char *schema, pt_err *err)
{
	const char *params[1] = {schema};
	pt_buf		sql = PT_BUF_INIT;
	PGresult   *res = NULL;
	int			current,
				any;
	bool		ok = false;

	if (!count_installed(conn, schema, &current, &any, err))
		return false;
	if (current == NTRIGGERS)
		return true;
	if (!pt_pq_command(conn, "BEGIN", err))
		goto done;
	res = pt_pq_exec_params(conn, "SELECT pg_advisory_xact_lock(hashtext('pgtrail.ddl.' || $1))",
							1, params, PGRES_TUPLES_OK, 1, 1, err);
	if (res == NULL || !build_install(conn, schema, &sql, err) ||
		!pt_pq_command(conn, sql.data, err) || !pt_pq_command(conn, "COMMIT", err))
		goto done;
	ok = true;
done:
	PQclear(res);
	pt_buf_free(&sql);
	if (!ok)
	{
		bool		denied = strcmp(err->sqlstate, PT_SQLSTATE_INSUFFICIENT_PRIVILEGE) == 0;

		if (PQtransactionStatus(conn) != PQTRANS_IDLE)
		{
			res = PQexec(conn, "ROLLBACK");
			PQclear(res);
		}
		if (denied)
		{
			pt_err_set(err, PT_ERR_CONFIG, "could not install DDL capture in schema \"%s\": "
					   "creating event triggers needs a superuser", schema);
			pt_err_hint(err, "have a superuser run pgtrail-capture once with --ddl on (it installs the "
						"event triggers, later runs need no superuser), or run without --ddl on");
		}
		else
			pt_err_prefix(err, "could not install DDL capture in schema \"%s\"", schema);
	}
	return ok;
}

/* ---- parsing ---- */

/* Index of the token after the value at i (and everything inside it). */
static int
skip(const pt_ddl *d, int i)
{
	int			end = d->toks[i].end;

	for (i++; i < d->ntoks && d->toks[i].start < end; i++)
		;
	return i;
}

static bool
tok_is(const pt_ddl *d, int i, const char *s)
{
	size_t		n = strlen(s);

	return d->toks[i].type == JSMN_STRING && (size_t) (d->toks[i].end - d->toks[i].start) == n &&
		memcmp(d->json + d->toks[i].start, s, n) == 0;
}

/*
 * JSON string body to text, into the arena (reserved for the whole message
 * by tokenize, so it never moves). The server escapes only '"', '\\' and
 * control characters; every \u escape is decoded all the same.
 */
static bool
unescape_into(pt_ddl *d, int i, pt_text *out)
{
	const char *s = d->json + d->toks[i].start;
	size_t		len = (size_t) (d->toks[i].end - d->toks[i].start);
	pt_buf	   *a = &d->arena;
	size_t		start = a->len;

	if (d->toks[i].type != JSMN_STRING)
		return false;
	for (size_t k = 0; k < len; k++)
	{
		unsigned	cp = 0;

		if (s[k] != '\\')
		{
			a->data[a->len++] = s[k];
			continue;
		}
		switch (s[++k])
		{
			case 'b': a->data[a->len++] = '\b'; break;
			case 'f': a->data[a->len++] = '\f'; break;
			case 'n': a->data[a->len++] = '\n'; break;
			case 'r': a->data[a->len++] = '\r'; break;
			case 't': a->data[a->len++] = '\t'; break;
			case 'u':
				for (int h = 1; h <= 4; h++)
					cp = (cp << 4) | (unsigned) pt_hex_digit(s[k + (size_t) h]);
				k += 4;
				if (cp >= 0xD800 && cp <= 0xDBFF && k + 6 < len && s[k + 1] == '\\' && s[k + 2] == 'u')
				{
					unsigned	lo = 0;

					for (int h = 3; h <= 6; h++)
						lo = (lo << 4) | (unsigned) pt_hex_digit(s[k + (size_t) h]);
					if (lo < 0xDC00 || lo > 0xDFFF)
						return false;
					cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
					k += 6;
				}
				else if ((cp >= 0xD800 && cp <= 0xDFFF) || cp == 0)
					return false;
				a->len += (size_t) pt_utf8_encode(cp, a->data + a->len);
				break;
			default: a->data[a->len++] = s[k]; break;
		}
	}
	a->data[a->len++] = '\0';
	out->ptr = a->data + start;
	out->len = a->len - start - 1;
	return true;
}

/*
 * A value's exact bytes, NUL-terminated, into the arena. Only for values
 * whose strings are not unescaped as well (details), so the arena's
 * reservation still holds.
 */
static void
copy_raw(pt_ddl *d, int i, pt_text *out)
{
	pt_buf	   *a = &d->arena;
	size_t		len = (size_t) (d->toks[i].end - d->toks[i].start);

	out->ptr = a->data + a->len;
	out->len = len;
	memcpy(a->data + a->len, d->json + d->toks[i].start, len);
	a->len += len;
	a->data[a->len++] = '\0';
}

static void
grow(pt_ddl *d, int n)
{
	if (n <= d->cap)
		return;
	d->cap = n;
	d->tables = pt_realloc(d->tables, sizeof(*d->tables) * (size_t) n);
	d->names = pt_realloc(d->names, sizeof(*d->names) * (size_t) n);
	d->values = pt_realloc(d->values, sizeof(*d->values) * (size_t) n);
	d->types = pt_realloc(d->types, sizeof(*d->types) * (size_t) n);
	d->typeoids = pt_realloc(d->typeoids, sizeof(*d->typeoids) * (size_t) n);
	d->attnums = pt_realloc(d->attnums, sizeof(*d->attnums) * (size_t) n);
	d->virtuals = pt_realloc(d->virtuals, sizeof(*d->virtuals) * (size_t) n);
	d->storeds = pt_realloc(d->storeds, sizeof(*d->storeds) * (size_t) n);
	d->pk = pt_realloc(d->pk, sizeof(*d->pk) * (size_t) n);
	d->is_key = pt_realloc(d->is_key, sizeof(*d->is_key) * (size_t) n);
}

/* Tokenize an object; reserve the arena and the arrays for it. */
static bool
tokenize(pt_ddl *d, const char *json, size_t len, pt_err *err)
{
	jsmn_parser p;
	int			n;

	jsmn_init(&p);
	n = jsmn_parse(&p, json, len, NULL, 0);
	if (n <= 0)
		return pt_err_set(err, PT_ERR_CONFIG, "message content is not valid JSON");
	if ((unsigned) n > d->ntoks_cap)
	{
		d->ntoks_cap = (unsigned) n;
		d->toks = pt_realloc(d->toks, sizeof(jsmntok_t) * (size_t) n);
	}
	jsmn_init(&p);
	if (jsmn_parse(&p, json, len, d->toks, d->ntoks_cap) != n || d->toks[0].type != JSMN_OBJECT)
		return pt_err_set(err, PT_ERR_CONFIG, "message content is not a JSON object");
	d->ntoks = n;
	d->json = json;
	grow(d, n);
	pt_buf_reset(&d->arena);
	pt_buf_reserve(&d->arena, len + (size_t) n + 1);
	return true;
}

static uint32_t
tok_u32(const pt_ddl *d, int i)
{
	return (uint32_t) strtoul(d->json + d->toks[i].start, NULL, 10);
}

/* {"name":..,"type":..,"typeoid":N,"attnum":N} into column c of the arrays. */
static bool
parse_column(pt_ddl *d, int i, int c)
{
	int			end = skip(d, i);

	if (d->toks[i].type != JSMN_OBJECT)
		return false;
	d->names[c].ptr = NULL;
	d->types[c] = "";
	d->typeoids[c] = 0;
	d->attnums[c] = 0;
	d->virtuals[c] = false;
	d->storeds[c] = false;
	for (int k = i + 1; k < end; k = skip(d, k + 1))
	{
		pt_text		t;

		if (tok_is(d, k, "name") && !unescape_into(d, k + 1, &d->names[c]))
			return false;
		if (tok_is(d, k, "type"))
		{
			if (!unescape_into(d, k + 1, &t))
				return false;
			d->types[c] = t.ptr;
		}
		if (tok_is(d, k, "typeoid"))
			d->typeoids[c] = tok_u32(d, k + 1);
		if (tok_is(d, k, "attnum"))
			d->attnums[c] = (int) tok_u32(d, k + 1);
		if (tok_is(d, k, "virtual"))
			d->virtuals[c] = d->toks[k + 1].type == JSMN_PRIMITIVE && d->json[d->toks[k + 1].start] == 't';
		if (tok_is(d, k, "stored"))
			d->storeds[c] = d->toks[k + 1].type == JSMN_PRIMITIVE && d->json[d->toks[k + 1].start] == 't';
	}
	return d->names[c].ptr != NULL;
}

/* The array of names at token v into the name array at *used on: *names, *n. */
static bool
parse_names(pt_ddl *d, int v, const char ***names, int *n, int *used)
{
	*names = d->pk + *used;
	for (int c = v + 1, vend = skip(d, v); c < vend; c = skip(d, c))
	{
		pt_text		name;

		if (!unescape_into(d, c, &name))
			return false;
		(*names)[(*n)++] = name.ptr;
	}
	*used += *n;
	return true;
}

/* One entry of "tables" or "dropped"; columns go at *ncol on in the arrays. */
static bool
parse_table(pt_ddl *d, int i, pt_ddl_table *t, int *ncol, int *npk)
{
	int			end = skip(d, i);

	memset(t, 0, sizeof(*t));
	if (d->toks[i].type != JSMN_OBJECT)
		return false;
	for (int k = i + 1; k < end; k = skip(d, k + 1))
	{
		int			v = k + 1;

		if (tok_is(d, k, "schema") && !unescape_into(d, v, &t->schema))
			return false;
		if (tok_is(d, k, "table") && !unescape_into(d, v, &t->table))
			return false;
		if (tok_is(d, k, "oid"))
			t->oid = tok_u32(d, v);
		if (tok_is(d, k, "columns") && d->toks[v].type == JSMN_ARRAY)
		{
			t->names = d->names + *ncol;
			t->types = d->types + *ncol;
			t->typeoids = d->typeoids + *ncol;
			t->attnums = d->attnums + *ncol;
			t->virtuals = d->virtuals + *ncol;
			t->storeds = d->storeds + *ncol;
			for (int c = v + 1, vend = skip(d, v); c < vend; c = skip(d, c))
				if (!parse_column(d, c, *ncol + t->ncols++))
					return false;
			*ncol += t->ncols;
		}
		if (tok_is(d, k, "primary_key") && d->toks[v].type == JSMN_ARRAY &&
			!parse_names(d, v, &t->pk, &t->npk, npk))
			return false;
		if (tok_is(d, k, "replica_identity") && d->toks[v].type == JSMN_STRING && d->toks[v].end > d->toks[v].start)
			t->replident = d->json[d->toks[v].start];
		if (tok_is(d, k, "identity_key") && d->toks[v].type == JSMN_ARRAY &&
			!parse_names(d, v, &t->ident, &t->nident, npk))
			return false;
		if (tok_is(d, k, "details") && d->toks[v].type == JSMN_OBJECT)
			copy_raw(d, v, &t->details);
	}
	return t->schema.ptr != NULL && t->table.ptr != NULL;
}

bool
pt_ddl_parse(pt_ddl *d, const char *content, size_t len, pt_ddl_msg *out, pt_err *err)
{
	int			ncol = 0,
				npk = 0,
				ntab = 0;

	memset(out, 0, sizeof(*out));
	if (!tokenize(d, content, len, err))
		return false;
	for (int k = 1; k < d->ntoks; k = skip(d, k + 1))
	{
		int			v = k + 1;
		bool		tables = tok_is(d, k, "tables");

		if (tok_is(d, k, "rewrite"))
			out->rewrite = d->toks[v].type == JSMN_PRIMITIVE && content[d->toks[v].start] == 't';
		if ((tables || tok_is(d, k, "dropped")) && d->toks[v].type == JSMN_ARRAY)
		{
			pt_ddl_table *first = d->tables + ntab;
			int			n = 0;

			for (int c = v + 1, vend = skip(d, v); c < vend; c = skip(d, c), n++)
				if (!parse_table(d, c, &d->tables[ntab++], &ncol, &npk))
					return pt_err_set(err, PT_ERR_CONFIG, "malformed table entry in a DDL message");
			if (tables)
			{
				out->tables = first;
				out->ntables = n;
			}
			else
			{
				out->dropped = first;
				out->ndropped = n;
			}
		}
	}
	return true;
}

bool
pt_ddl_parse_row(pt_ddl *d, const char *content, size_t len, pt_ddl_row *out, pt_err *err)
{
	memset(out, 0, sizeof(*out));
	if (!tokenize(d, content, len, err))
		return false;
	for (int k = 1; k < d->ntoks; k = skip(d, k + 1))
	{
		int			v = k + 1;

		if (tok_is(d, k, "schema") && !unescape_into(d, v, &out->schema))
			return pt_err_set(err, PT_ERR_CONFIG, "malformed \"schema\" in a row message");
		if (tok_is(d, k, "table") && !unescape_into(d, v, &out->table))
			return pt_err_set(err, PT_ERR_CONFIG, "malformed \"table\" in a row message");
		if (tok_is(d, k, "row") && d->toks[v].type == JSMN_OBJECT)
		{
			out->names = d->names;
			out->values = d->values;
			for (int c = v + 1, vend = skip(d, v); c < vend; c = skip(d, c + 1))
			{
				int			n = out->ncols++;
				bool		isnull = d->toks[c + 1].type == JSMN_PRIMITIVE && content[d->toks[c + 1].start] == 'n';

				out->values[n].ptr = NULL;
				out->values[n].len = 0;
				if (!unescape_into(d, c, &out->names[n]) ||
					(!isnull && !unescape_into(d, c + 1, &out->values[n])))
					return pt_err_set(err, PT_ERR_CONFIG, "malformed column in a row message");
			}
		}
	}
	if (out->schema.ptr == NULL || out->table.ptr == NULL || out->names == NULL)
		return pt_err_set(err, PT_ERR_CONFIG, "row message without \"schema\", \"table\" and \"row\"");
	return true;
}

const char *
pt_ddl_columns_json(pt_ddl *d, const pt_ddl_table *t)
{
	pt_buf	   *b = &d->columns;

	pt_buf_reset(b);
	pt_buf_putc(b, '[');
	for (int i = 0; i < t->ncols; i++)
	{
		pt_buf_puts(b, i ? ",{\"name\":" : "{\"name\":");
		pt_json_put_string(b, t->names[i].ptr, t->names[i].len);
		pt_buf_puts(b, ",\"type\":");
		pt_json_put_cstring(b, t->types[i]);
		pt_buf_printf(b, ",\"typeoid\":%u,\"attnum\":%d", t->typeoids[i], t->attnums[i]);
		pt_buf_puts(b, t->virtuals[i] ? ",\"virtual\":true}" : "}");
	}
	pt_buf_putc(b, ']');
	return b->data;
}

void
pt_ddl_row_event(pt_ddl *d, pt_builder *b, const pt_txn *txn, const pt_ddl_row *row,
				 const pt_table_version *tv, pt_event *ev)
{
	for (int i = 0; i < row->ncols; i++)
	{
		d->is_key[i] = false;
		for (int k = 0; k < tv->npk && !d->is_key[i]; k++)
			d->is_key[i] = strlen(tv->pk[k]) == row->names[i].len &&
				memcmp(tv->pk[k], row->names[i].ptr, row->names[i].len) == 0;
	}
	pt_builder_snapshot_event(b, txn, row->schema, row->table, row->names, row->values, d->is_key,
							  row->ncols, ev);
}
