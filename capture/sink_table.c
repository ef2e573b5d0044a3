/*
 * capture/sink_table.c — the event table sink (see sink_table.h).
 */
#include "capture/sink_table.h"

static bool
table_begin(void *state, pt_err *err)
{
	return pt_store_writer_begin(state, err);
}

static bool
table_add(void *state, pt_event *ev, pt_err *err)
{
	return pt_store_writer_add(state, ev, err);
}

static bool
table_commit(void *state, pt_lsn confirmed, pt_err *err)
{
	return pt_store_writer_commit(state, confirmed, err);
}

static bool
table_schema_version(void *state, const char *schema_name, const char *table_name, int version,
					 const char *columns, const char *const *primary_key, int npk,
					 const char *details, pt_err *err)
{
	return pt_store_writer_add_schema(state, schema_name, table_name, version, columns,
									  primary_key, npk, details, err);
}

static void
table_abort(void *state)
{
	pt_store_writer_abort(state);
}

static void
table_close(void *state)
{
	pt_store_writer_free(state);
}

static const pt_sink_ops table_ops = {
	"event table", table_begin, table_add, table_commit, table_schema_version, table_abort, table_close
};

bool
pt_sink_table_open(pt_sink *sink, PGconn *conn, const char *schema, const char *slot, pt_err *err)
{
	pt_store_writer *w = pt_store_writer_new(conn, schema, slot, err);

	if (w == NULL)
		return false;
	sink->ops = &table_ops;
	sink->state = w;
	return true;
}

const pt_store_state *
pt_sink_table_state(const pt_sink *sink)
{
	return pt_store_writer_state(sink->state);
}
