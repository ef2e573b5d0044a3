/*
 * capture/sink_table.c — the event table sink (see sink_table.h).
 */
#include "capture/sink_table.h"

#include <stdlib.h>

#include "capture/anchor.h"
#include "core/mem.h"

typedef struct table_sink
{
	pt_store_writer *w;
	pt_anchor  *anchor;			/* NULL: no anchor file */
} table_sink;

/* Append the checkpoint the last commit wrote, if any, to the anchor file. */
static bool
anchor_new_checkpoint(table_sink *ts, pt_err *err)
{
	const pt_checkpoint *cp = pt_store_writer_new_checkpoint(ts->w);

	return cp == NULL || ts->anchor == NULL || pt_anchor_append(ts->anchor, cp, err);
}

static bool
table_begin(void *state, pt_err *err)
{
	return pt_store_writer_begin(((table_sink *) state)->w, err);
}

static bool
table_add(void *state, pt_event *ev, pt_err *err)
{
	return pt_store_writer_add(((table_sink *) state)->w, ev, err);
}

static bool
table_commit(void *state, pt_lsn confirmed, pt_err *err)
{
	table_sink *ts = state;

	return pt_store_writer_commit(ts->w, confirmed, err) && anchor_new_checkpoint(ts, err);
}

static bool
table_schema_version(void *state, const char *schema_name, const char *table_name, int version,
					 const char *columns, const char *const *primary_key, int npk,
					 const char *details, pt_err *err)
{
	return pt_store_writer_add_schema(((table_sink *) state)->w, schema_name, table_name, version, columns,
									  primary_key, npk, details, err);
}

static void
table_abort(void *state)
{
	pt_store_writer_abort(((table_sink *) state)->w);
}

static void
table_close(void *state)
{
	table_sink *ts = state;

	pt_store_writer_free(ts->w);
	pt_anchor_close(ts->anchor);
	free(ts);
}

static const pt_sink_ops table_ops = {
	.name = "event table",
	.begin = table_begin,
	.add = table_add,
	.commit = table_commit,
	.schema_version = table_schema_version,
	.abort = table_abort,
	.close = table_close,
};

bool
pt_checkpoints_wanted(const pt_checkpoint_opts *cpo)
{
	return cpo->key != NULL || (cpo->anchor_file != NULL && cpo->anchor_file[0] != '\0');
}

bool
pt_sink_table_open(pt_sink *sink, PGconn *conn, const char *schema, const char *slot,
				   const pt_checkpoint_opts *cpo, pt_err *err)
{
	table_sink *ts = pt_calloc(1, sizeof(*ts));

	ts->w = pt_store_writer_new(conn, schema, slot, err);
	if (ts->w == NULL)
		goto error;
	if (pt_checkpoints_wanted(cpo))
	{
		if (!pt_store_writer_set_checkpoints(ts->w, cpo->key, cpo->every_events, cpo->every_us, err))
			goto error;
		if (cpo->anchor_file && cpo->anchor_file[0] &&
			(ts->anchor = pt_anchor_open(cpo->anchor_file, conn, schema, err)) == NULL)
			goto error;
	}
	sink->ops = &table_ops;
	sink->state = ts;
	return true;

error:
	table_close(ts);
	return false;
}

bool
pt_sink_table_withhold(pt_sink *sink, const char *columns, pt_err *err)
{
	return pt_store_writer_withhold(((table_sink *) sink->state)->w, columns, err);
}

void
pt_sink_table_keep_seal_keys(pt_sink *sink, bool on)
{
	pt_store_writer_keep_seal_keys(((table_sink *) sink->state)->w, on);
}

const pt_store_state *
pt_sink_table_state(const pt_sink *sink)
{
	return pt_store_writer_state(((const table_sink *) sink->state)->w);
}

bool
pt_sink_table_checkpoint(pt_sink *sink, pt_err *err)
{
	table_sink *ts = sink->state;

	return pt_store_writer_checkpoint(ts->w, err) && anchor_new_checkpoint(ts, err);
}

const pt_checkpoint *
pt_sink_table_new_checkpoint(const pt_sink *sink)
{
	return pt_store_writer_new_checkpoint(((const table_sink *) sink->state)->w);
}

bool
pt_sink_table_loss(pt_sink *sink, const char *schema_name, const char *table_name, const char *kind,
				   const char *detail, int64_t count, pt_lsn lsn, pt_err *err)
{
	return pt_store_writer_loss(((table_sink *) sink->state)->w, schema_name, table_name, kind, detail, count,
								lsn, err);
}
