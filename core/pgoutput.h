/*
 * core/pgoutput.h — one message of PostgreSQL's own logical replication
 * protocol (the built-in pgoutput plugin) in, the typed change wal2json's
 * parser gives out (core/wal2json.h): one event model, two decoders.
 *
 * The messages are those of PostgreSQL's documentation, "Logical
 * Replication Message Formats", in text mode (binary off), without
 * streaming of in-progress transactions and without two-phase decoding:
 *   B Begin, C Commit, O Origin, R Relation, Y Type, I Insert, U Update,
 *   D Delete, T Truncate, M Message.
 * A Relation message describes a table once (and again after it changed):
 * the decoder keeps it by OID, with each column's name, type OID and
 * typmod and whether it is in the replica identity key, and asks its
 * caller once per column for the type's name as a schema version records
 * it (capture/types.h). Changes then name the table and carry each value
 * as the type's own text output, exactly.
 *
 * What comes out is what wal2json (format-version 2, with the options
 * capture asks for) gives for the same WAL, field for field, so the event
 * builder cannot tell them apart:
 *   - Begin: lsn = the commit record's LSN; the end LSN is not in the
 *     message (has_nextlsn false). Commit: lsn and nextlsn as wal2json.
 *   - Each row change's lsn is the one the caller passes (the XLogData
 *     header's start, i.e. the change record's LSN).
 *   - Unchanged TOAST values ('u') are left out, as wal2json leaves them.
 *   - identity: the old row ('O'), or the old key ('K', key columns only),
 *     or when the key did not change (no old tuple) the key columns of the
 *     new row, as wal2json sends them.
 *   - pk: under REPLICA IDENTITY DEFAULT the key columns are the primary
 *     key, and are given; otherwise the message does not say which
 *     columns are the primary key, and pk is left absent (present false):
 *     the caller reads it from the catalog, as it does for a new table.
 *   - Truncate: one change per table, in the message's order.
 *   - Message: content with its length, every byte (a NUL included).
 * Values pgoutput has and wal2json lacks are not invented either way: no
 * nullability (optional -1), no attnum (position 0), no defaults.
 *
 * Allocation-light: the decoder owns reusable buffers; decoding a change
 * allocates nothing once they have grown. Every pointer handed out is valid
 * until the next pt_pgo_decode() on the same decoder. Malformed input is
 * an error (PT_ERR_CONFIG) naming the message and what is wrong.
 */
#ifndef PGTRAIL_CORE_PGOUTPUT_H
#define PGTRAIL_CORE_PGOUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/lsn.h"
#include "core/wal2json.h"

/*
 * The name of type oid with typmod as a schema version records it. *name
 * need only stay valid until the call returns (the decoder copies it).
 */
typedef bool (*pt_pgo_type_name_fn) (void *arg, uint32_t oid, int32_t typmod, const char **name, pt_err *err);

typedef struct pt_pgo_decoder pt_pgo_decoder;

/* A new decoder naming types through type_name(arg, ...); free with pt_pgo_free. */
pt_pgo_decoder *pt_pgo_new(pt_pgo_type_name_fn type_name, void *arg);
void		pt_pgo_free(pt_pgo_decoder *d);

/*
 * Decode one message (the payload of one XLogData, or one row of
 * pg_logical_slot_get_binary_changes); lsn is the message's LSN. *out is
 * set to *count changes: none for Relation, Type and Origin, one per table
 * for Truncate, one otherwise. False with err filled on malformed input.
 */
bool		pt_pgo_decode(pt_pgo_decoder *d, const char *msg, size_t len, pt_lsn lsn,
						  const pt_w2j_change **out, int *count, pt_err *err);

/* Microseconds between 2000-01-01 (PostgreSQL's epoch) and 1970-01-01. */
#define PT_PG_EPOCH_OFFSET_US INT64_C(946684800000000)

#endif
