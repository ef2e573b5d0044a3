/*
 * capture/context.c — application context from logical messages (see context.h).
 */
#include "capture/context.h"

#include <string.h>

#include "core/json.h"
#include "core/pq.h"
#include "core/utf8.h"

#define PREFIX_PGTRAIL "pgtrail"
#define PREFIX_BEMI "_bemi"
#define PREFIX_SEQUIN_SET "sequin:transaction_annotations.set"
#define PREFIX_SEQUIN_CLEAR "sequin:transaction_annotations.clear"

void
pt_context_init(pt_context *ctx)
{
	memset(ctx, 0, sizeof(*ctx));
	pt_buf_init(&ctx->actor);
	pt_buf_init(&ctx->action);
	pt_buf_init(&ctx->metadata);
}

void
pt_context_free(pt_context *ctx)
{
	pt_buf_free(&ctx->actor);
	pt_buf_free(&ctx->action);
	pt_buf_free(&ctx->metadata);
}

void
pt_context_reset(pt_context *ctx)
{
	ctx->has_actor = ctx->has_action = ctx->has_metadata = false;
	pt_buf_reset(&ctx->actor);
	pt_buf_reset(&ctx->action);
	pt_buf_reset(&ctx->metadata);
}

/* Read one member into buf; *present false for absent or null. */
static bool
member(const char *content, size_t len, const char *key, bool want_string,
	   pt_buf *buf, bool *present, pt_err *err)
{
	bool		found;
	pt_json_kind kind;

	pt_buf_reset(buf);
	if (!pt_json_object_get(content, len, key, &found, &kind, buf, err))
		return false;
	*present = found && kind != PT_JSON_NULL;
	if (*present && want_string && kind != PT_JSON_STRING)
		return pt_err_set(err, PT_ERR_CONFIG, "\"%s\" is not a string", key);
	if (*present && !want_string && kind == PT_JSON_STRING)
	{
		/* metadata given as a JSON string: keep it as that string */
		pt_buf		tmp = PT_BUF_INIT;

		pt_json_put_string(&tmp, buf->data, buf->len);
		pt_buf_reset(buf);
		pt_buf_append(buf, tmp.data, tmp.len);
		pt_buf_free(&tmp);
	}
	return true;
}

static void
keep_malformed(pt_context *ctx, const char *prefix, const char *content, size_t len,
			   const pt_err *err, pt_log *log)
{
	pt_log_warning(log, "logical message \"%s\" has malformed context (%s); kept in metadata",
				   prefix, err->message);
	pt_context_reset(ctx);
	pt_buf_puts(&ctx->metadata, "{\"malformed_context\":");
	if (pt_utf8_is_text(content, len))
		pt_json_put_string(&ctx->metadata, content, len);
	else
		pt_json_put_bytea(&ctx->metadata, content, len);
	if (!pt_utf8_is_text(content, len))
		pt_buf_puts(&ctx->metadata, ",\"encoding\":\"bytea\"");
	pt_buf_putc(&ctx->metadata, '}');
	ctx->has_metadata = true;
}

/* A whole JSON object becomes metadata, exactly as sent. */
static bool
object_as_metadata(pt_context *ctx, const char *content, size_t len, pt_err *err)
{
	bool		found;
	pt_json_kind kind;
	pt_buf		scratch = PT_BUF_INIT;
	bool		ok = pt_json_object_get(content, len, "", &found, &kind, &scratch, err);

	pt_buf_free(&scratch);
	if (!ok)
		return false;
	pt_buf_reset(&ctx->metadata);
	pt_buf_append(&ctx->metadata, content, len);
	ctx->has_metadata = true;
	return true;
}

/* The prefixes whose content is read as a JSON object. */
static bool
is_context_prefix(const char *prefix)
{
	return strcmp(prefix, PREFIX_PGTRAIL) == 0 || strcmp(prefix, PREFIX_BEMI) == 0 ||
		strcmp(prefix, PREFIX_SEQUIN_SET) == 0;
}

void
pt_context_message(pt_context *ctx, const char *prefix, const char *content, size_t len,
				   bool *handled, pt_log *log)
{
	pt_err		err;
	bool		ok = true;

	*handled = true;
	if (!pt_utf8_is_text(content, len) && is_context_prefix(prefix))
	{
		pt_err_set(&err, PT_ERR_CONFIG, "content is not UTF-8 text");
		ok = false;
	}
	else if (strcmp(prefix, PREFIX_PGTRAIL) == 0)
		ok = member(content, len, "actor", true, &ctx->actor, &ctx->has_actor, &err) &&
			member(content, len, "action", true, &ctx->action, &ctx->has_action, &err) &&
			member(content, len, "metadata", false, &ctx->metadata, &ctx->has_metadata, &err);
	else if (strcmp(prefix, PREFIX_BEMI) == 0 || strcmp(prefix, PREFIX_SEQUIN_SET) == 0)
		ok = object_as_metadata(ctx, content, len, &err);
	else if (strcmp(prefix, PREFIX_SEQUIN_CLEAR) == 0)
		pt_context_reset(ctx);
	else
		*handled = false;
	if (!ok)
		keep_malformed(ctx, prefix, content, len, &err, log);
}

static pt_text
text_of(bool present, const pt_buf *b)
{
	pt_text		t = {NULL, 0};

	if (present)
	{
		t.ptr = b->data ? b->data : "";
		t.len = b->len;
	}
	return t;
}

void
pt_context_apply(const pt_context *ctx, pt_event *ev)
{
	ev->actor = text_of(ctx->has_actor, &ctx->actor);
	ev->action = text_of(ctx->has_action, &ctx->action);
	ev->metadata = text_of(ctx->has_metadata, &ctx->metadata);
}

#define SET_CONTEXT_SQL \
	"CREATE FUNCTION %1$s.set_context(actor text, action text DEFAULT NULL, metadata json DEFAULT NULL) " \
	"RETURNS void LANGUAGE sql VOLATILE AS $pgtrail$ " \
	"SELECT pg_logical_emit_message(true, 'pgtrail', " \
	"json_build_object('actor', actor, 'action', action, 'metadata', metadata)::text) $pgtrail$; " \
	"COMMENT ON FUNCTION %1$s.set_context(text, text, json) IS " \
	"'pgtrail: who did it. Call inside a transaction; its later changes carry this context.'; " \
	"GRANT USAGE ON SCHEMA %1$s TO PUBLIC"

bool
pt_context_install(PGconn *conn, const char *schema, pt_err *err)
{
	const char *params[1] = {schema};
	char	   *qschema = pt_pq_ident(conn, schema, err);
	PGresult   *res;
	pt_buf		sql = PT_BUF_INIT;
	bool		exists,
				ok;

	if (qschema == NULL)
		return false;
	res = pt_pq_exec_params(conn, "SELECT to_regprocedure(quote_ident($1) || '.set_context(text,text,json)') IS NOT NULL",
							1, params, PGRES_TUPLES_OK, 1, 1, err);
	ok = res != NULL;
	exists = ok && strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	if (ok && !exists)
	{
		pt_buf_printf(&sql, SET_CONTEXT_SQL, qschema);
		ok = pt_pq_create_schema(conn, schema, err) && pt_pq_command(conn, sql.data, err);
		if (!ok)
			pt_err_hint(err, "the capture role needs CREATE on the source database once, to install "
						"%s.set_context(); or create it as a superuser (docs/OPERATIONS.md)", schema);
	}
	pt_buf_free(&sql);
	PQfreemem(qschema);
	return ok;
}
