/*
 * capture/dbz_txn.h — Debezium's transaction metadata
 * (provide.transaction.metadata): a BEGIN and an END record per source
 * transaction on <topic.prefix>.transaction, and in each data record the
 * block {"id","total_order","data_collection_order"}.
 *
 * Ids are "<xid>:<lsn>" as Debezium forms them: a data record's with its
 * own change LSN (exactly Debezium's), BEGIN's with the transaction's first
 * change LSN and END's with its commit LSN (Debezium's use the BEGIN
 * message's LSN and the end of the commit record, which pgtrail does not
 * keep). END lists the tables with their counts in the order Debezium's
 * java.util.HashMap iterates them (its capacity grows and is never shrunk,
 * as Debezium reuses the map). Only transactions with records are seen:
 * Debezium's BEGIN/END pairs for transactions whose every change it
 * filtered out have no counterpart.
 */
#ifndef PGTRAIL_CAPTURE_DBZ_TXN_H
#define PGTRAIL_CAPTURE_DBZ_TXN_H

#include <stdbool.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/event.h"
#include "core/lsn.h"

typedef struct pt_dbz_collection pt_dbz_collection;

typedef struct pt_dbz_txn
{
	bool		open;
	int64_t		xid;
	pt_lsn		commit_lsn;
	int64_t		committed_at;	/* microseconds */
	int64_t		total;			/* records so far */
	pt_dbz_collection *colls;	/* tables, in order of their first record */
	int			ncolls;
	int			cap_colls;
	uint32_t	map_cap;		/* the HashMap's buckets (16, doubled past 3/4 full, kept) */
} pt_dbz_txn;

void		pt_dbz_txn_free(pt_dbz_txn *t);

/* Does ev belong to another transaction than the open one? */
bool		pt_dbz_txn_other(const pt_dbz_txn *t, const pt_event *ev);

/* BEGIN of ev's transaction: key and value (schemas as asked) appended. */
void		pt_dbz_txn_begin(pt_dbz_txn *t, const pt_event *ev, bool key_schemas, bool value_schemas,
							 pt_buf *key, pt_buf *value);

/* The next record's block, of table schema.table, appended to out. */
void		pt_dbz_txn_block(pt_dbz_txn *t, pt_text schema, pt_text table, pt_lsn lsn, pt_buf *out);

/* END of the open transaction: key and value appended; the transaction closed. */
void		pt_dbz_txn_end(pt_dbz_txn *t, bool key_schemas, bool value_schemas, pt_buf *key, pt_buf *value);

#endif
