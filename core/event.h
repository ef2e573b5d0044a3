/*
 * core/event.h — the event: one row change (or message, gap...) in the log.
 *
 * Mirrors one row of the event table (docs/FORMAT.md). Text fields are
 * borrowed spans (ptr NULL = SQL NULL): whoever fills an event owns the
 * bytes and keeps them alive while the event is used, so building an event
 * allocates nothing. key/row/old/metadata hold JSON text exactly as stored.
 */
#ifndef PGTRAIL_CORE_EVENT_H
#define PGTRAIL_CORE_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/lsn.h"

#define PT_HASH_LEN 32

typedef enum pt_op
{
	PT_OP_INSERT = 0,
	PT_OP_UPDATE,
	PT_OP_DELETE,
	PT_OP_TRUNCATE,
	PT_OP_SNAPSHOT,
	PT_OP_MESSAGE,
	PT_OP_DDL,
	PT_OP_GAP,
	PT_OP_SCHEMA,				/* a schema version, hashed into the chain (schema_event.h) */
	PT_OP_ERASURE				/* values erased by pgtrail-erase (erase/), format 2 */
} pt_op;

#define PT_OP_COUNT 10
#define PT_SEAL_LEN 16

typedef struct pt_text
{
	const char *ptr;			/* NULL for SQL NULL */
	size_t		len;
} pt_text;

typedef struct pt_event
{
	int64_t		id;				/* position in the chain, from 1, gapless */
	pt_lsn		lsn;			/* the change's own LSN */
	pt_lsn		commit_lsn;		/* its transaction's commit LSN */
	bool		has_xid;
	int64_t		xid;
	int64_t		committed_at;	/* microseconds since the Unix epoch, UTC */
	pt_text		schema_name;
	pt_text		table_name;
	bool		has_schema_version;
	int32_t		schema_version;
	pt_op		op;
	pt_text		key;			/* JSON object text, or NULL */
	pt_text		row;
	pt_text		old;
	const pt_text *unchanged;	/* column names; nunchanged == 0 for none */
	int			nunchanged;
	pt_text		actor;
	pt_text		action;
	pt_text		metadata;		/* JSON text, or NULL */
	/*
	 * Format 2 (docs/FORMAT.md): seal is the event's random secret (NULL in
	 * format 1); sealed, once values were erased, the commitment to the
	 * original key, row and old that the chain covers (NULL otherwise);
	 * erased the members erased ("row.email"), borrowed like unchanged.
	 */
	const uint8_t *seal;
	const uint8_t *sealed;
	const pt_text *erased;
	int			nerased;
	uint8_t		prev_hash[PT_HASH_LEN];
	uint8_t		hash[PT_HASH_LEN];
} pt_event;

/* "insert", "update", ... as stored in the op column. */
const char *pt_op_name(pt_op op);

/* Parse an op name; false when unknown. */
bool		pt_op_parse(const char *s, size_t len, pt_op *op);

/* A pt_text over a C string (NULL stays NULL). */
pt_text		pt_text_c(const char *s);

#endif
