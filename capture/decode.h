/*
 * capture/decode.h — the slot's messages into changes, through the decoder
 * [capture] decoder names: wal2json's JSON lines (core/wal2json.h) or
 * pgoutput's binary messages of the logical replication protocol
 * (core/pgoutput.h). One event model, two decoders: the rest of capture
 * sees the same pt_w2j_change from either.
 *
 * pgoutput names a table's column types by OID once per Relation message;
 * the names a schema version records come from the catalog
 * (pt_schemas_type_name), read through the capture's schemas, which may be
 * opened after the decoder: hence a pointer to where they will be.
 */
#ifndef PGTRAIL_CAPTURE_DECODE_H
#define PGTRAIL_CAPTURE_DECODE_H

#include <stdbool.h>
#include <stddef.h>

#include "capture/schema.h"
#include "core/err.h"
#include "core/lsn.h"
#include "core/wal2json.h"

typedef struct pt_decode pt_decode;

/* decoder: "wal2json" or "pgoutput" (the slot's plugin). */
pt_decode  *pt_decode_new(const char *decoder, pt_schemas *const *schemas);
void		pt_decode_free(pt_decode *d);

/* Does the decoder carry every value exactly (pgoutput: NaN is NaN)? */
bool		pt_decode_exact_values(const pt_decode *d);

/*
 * One message of the slot (lsn: its XLogData start) into *n changes at
 * *changes, valid until the next call: wal2json gives one per line;
 * pgoutput none for a Relation, Type or Origin message, one per table for
 * a TRUNCATE. False with err filled on malformed input.
 */
bool		pt_decode_message(pt_decode *d, const char *data, size_t len, pt_lsn lsn,
							  const pt_w2j_change **changes, int *n, pt_err *err);

#endif
