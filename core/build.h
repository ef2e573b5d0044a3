/*
 * core/build.h — turning a parsed wal2json change into an event.
 *
 * key, row and old become JSON objects mapping column names to the values'
 * PostgreSQL text (JSON null for SQL NULL), in the order wal2json sent them
 * (the table's column order). The builder owns one reused buffer for that
 * JSON, so building an event allocates nothing once it has grown.
 *
 * The transaction context (commit LSN, xid, commit time) comes from the
 * BEGIN line: wal2json decodes a transaction at its commit, and BEGIN's
 * "lsn" is already the commit LSN.
 */
#ifndef PGTRAIL_CORE_BUILD_H
#define PGTRAIL_CORE_BUILD_H

#include <stdbool.h>

#include "core/err.h"
#include "core/event.h"
#include "core/wal2json.h"

typedef struct pt_txn
{
	pt_lsn		commit_lsn;
	bool		has_xid;
	int64_t		xid;
	int64_t		committed_at;
} pt_txn;

typedef struct pt_builder pt_builder;

pt_builder *pt_builder_new(void);
void		pt_builder_free(pt_builder *b);

/* Start a transaction from its BEGIN change; false if BEGIN lacks lsn/timestamp. */
bool		pt_builder_begin(pt_txn *txn, const pt_w2j_change *begin, pt_err *err);

/*
 * Fill ev from an I, U, D or T change of transaction txn. all_columns, when
 * not NULL, is the table's full column list: the ones an UPDATE did not send
 * (unchanged TOAST) are listed in ev->unchanged. Spans in ev point into the
 * builder and the change; valid until the next call or the next parse.
 * ev->id and hashes are left for the writer.
 */
bool		pt_builder_row_event(pt_builder *b, const pt_txn *txn, const pt_w2j_change *ch,
								 const pt_text *all_columns, int ncolumns,
								 pt_event *ev, pt_err *err);

/*
 * Fill ev as a snapshot event (op "snapshot") of one row: names[i] and
 * values[i] (ptr NULL = SQL NULL) for n columns; is_key[i] marks primary-key
 * columns (no key column: key is NULL). lsn/commit_lsn/committed_at come
 * from txn. Spans point into the builder and the inputs.
 */
void		pt_builder_snapshot_event(pt_builder *b, const pt_txn *txn, pt_text schema, pt_text table,
									  const pt_text *names, const pt_text *values, const bool *is_key,
									  int n, pt_event *ev);

#endif
