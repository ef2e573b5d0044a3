/*
 * core/chain.h — canonical encoding of an event and the SHA-256 hash chain.
 *
 *   hash = SHA-256(prev_hash || canonical(event))
 *
 * canonical() is specified byte for byte in docs/FORMAT.md (formats 1 and 2): a fixed magic,
 * then every column but prev_hash and hash, each as a 4-byte big-endian
 * length and its text (0xFFFFFFFF for SQL NULL). It depends on no session
 * setting: times are integer microseconds, LSNs are formatted here.
 * The first event's prev_hash is 32 zero bytes.
 */
#ifndef PGTRAIL_CORE_CHAIN_H
#define PGTRAIL_CORE_CHAIN_H

#include <stdbool.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/event.h"
#include "core/hex.h"

#define PT_CANON_MAGIC "PGTRAIL1"
#define PT_CANON_MAGIC2 "PGTRAIL2"	/* format 2: key, row, old under a salted commitment */
#define PT_CANON_NULL 0xFFFFFFFFu

/*
 * Append canonical(ev) to out (out is not reset first). An event with a
 * seal or a sealed commitment is format 2: key, row and old are replaced by
 * the values commitment, SHA-256(seal || key || row || old), or by sealed.
 */
void		pt_canon_encode(const pt_event *ev, pt_buf *out);

/* A hasher with its reusable digest context and scratch buffer. */
typedef struct pt_chain pt_chain;

/* New chain positioned after (last_id, last_hash); NULL last_hash = zeros. */
pt_chain   *pt_chain_new(int64_t last_id, const uint8_t *last_hash);
void		pt_chain_free(pt_chain *chain);

/* Where the chain stands: the last event's id and hash. */
int64_t		pt_chain_last_id(const pt_chain *chain);
const uint8_t *pt_chain_last_hash(const pt_chain *chain);

/* Move back to a position (after a rolled-back batch). */
void		pt_chain_reset(pt_chain *chain, int64_t last_id, const uint8_t *last_hash);

/* Compute SHA-256(prev || canonical(ev)) into out. */
void		pt_chain_hash(pt_chain *chain, const uint8_t *prev, const pt_event *ev, uint8_t *out);

/*
 * SHA-256(seal || key || row || old), the values commitment of format 2;
 * with with_erased the erased list follows (the redaction digest an
 * erasure event records for what remains of the event).
 */
void		pt_chain_values(pt_chain *chain, const pt_event *ev, const uint8_t *seal, bool with_erased,
							uint8_t *out);

/* Writing: set ev->id, ev->prev_hash and ev->hash, and advance. */
void		pt_chain_append(pt_chain *chain, pt_event *ev);

/*
 * Checking: ev must be the next event (id, prev_hash) and its hash must be
 * the recomputed one; then advance. On mismatch, fills err (kind
 * PT_ERR_INTEGRITY) with what is wrong and does not advance.
 */
bool		pt_chain_check(pt_chain *chain, const pt_event *ev, pt_err *err);

#endif
