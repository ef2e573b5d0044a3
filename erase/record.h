/*
 * erase/record.h — the erasure event's record: what an erasure removed,
 * from which events, at whose request and why, and the digest of what
 * each event holds after it. No erased value is in it (the scope names a
 * table or a column, never a key's values).
 *
 * With a signing key the record is signed (Ed25519, in the event's
 * metadata), so that nobody without the key can pass a change of values
 * off as a lawful erasure. The record and the signed text are fixed in
 * docs/FORMAT.md ("Erasure").
 */
#ifndef PGTRAIL_ERASE_RECORD_H
#define PGTRAIL_ERASE_RECORD_H

#include <stdint.h>

#include "core/buf.h"
#include "core/checkpoint.h"
#include "core/err.h"
#include "erase/redact.h"

typedef struct pt_erasure_record
{
	pt_buf		events;			/* the "events" array's members so far */
	int64_t		nevents;
	int64_t		values;
} pt_erasure_record;

void		pt_record_init(pt_erasure_record *rec);
void		pt_record_free(pt_erasure_record *rec);

/* One erased event: its id, its erased list after this erasure, its redaction digest. */
void		pt_record_add(pt_erasure_record *rec, int64_t id, const pt_names *erased, int values,
						  const uint8_t *redacted);

/*
 * The record's JSON into row: request, reason, scope (scope_json is
 * {"by":...} written by the caller), values, events.
 */
void		pt_record_finish(const pt_erasure_record *rec, const char *request, const char *reason,
							 const char *scope_json, pt_buf *row);

/* Sign pt_erasure_signed_text (core/erasure.h): {"signature":"<128 hex>","key_id":"<16 hex>"} for row after prev_hash, into metadata. */
bool		pt_record_sign(const pt_signing_key *key, const uint8_t *prev_hash, const pt_buf *row,
						   pt_buf *metadata, pt_err *err);

#endif
