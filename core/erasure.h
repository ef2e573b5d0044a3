/*
 * core/erasure.h — the erasure event's record: what an erasure removed,
 * from which events, at whose request and why, and the digest of what
 * each event holds after it; no erased value is in it (the scope names a
 * table or a column, never a key's values). pgtrail-erase writes one per
 * erasure, capture one per batch whose values [capture] withhold kept out.
 *
 * With a signing key the record is signed (Ed25519, in the event's
 * metadata) together with the hash of the event before it, so a signed
 * record is valid in its place in the chain only, and nobody without the
 * key can pass a change of values off as an erasure. The record and the
 * signed text are fixed in docs/FORMAT.md ("Erasure").
 */
#ifndef PGTRAIL_CORE_ERASURE_H
#define PGTRAIL_CORE_ERASURE_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/checkpoint.h"
#include "core/err.h"
#include "core/redact.h"

/* "pgtrail erasure 1\nprev_hash <64 hex>\n<row>\n", appended to out. */
void		pt_erasure_signed_text(const uint8_t *prev_hash, const char *row, size_t len, pt_buf *out);

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
