/*
 * core/store_seals.h — the seals of format 2 events (docs/FORMAT.md).
 *
 * A seal must be unguessable, and it must be the same when an event is
 * written again after a crash: capture may have sent the event to Kafka
 * before its batch committed, and the copy sent again must carry the same
 * hash. So each batch draws a random 32-byte key, and the seal of event id
 * is the first 16 bytes of SHA-256(key || id as 8 bytes big-endian). With
 * keep on (capture with Kafka), the key is written to the store's
 * seal_keys table, committed, before the batch's first event goes
 * anywhere, found again by a batch that starts at the same event, and
 * deleted in the transaction that commits the batch: once its events are
 * in, their seals are in their rows, and a key kept longer would let its
 * holder recompute the seal of an event whose values were erased.
 */
#ifndef PGTRAIL_CORE_STORE_SEALS_H
#define PGTRAIL_CORE_STORE_SEALS_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"
#include "core/event.h"

#define PT_SEAL_KEY_LEN 32

typedef struct pt_seals pt_seals;

/* Seals for the store in schema (quoted: qschema) of slot's chain. Free with pt_seals_free. */
pt_seals   *pt_seals_new(PGconn *conn, const char *qschema, const char *slot, pt_err *err);
void		pt_seals_free(pt_seals *s);

/* Keep each batch's key in the store until the batch commits (off: drawn and forgotten). */
void		pt_seals_keep(pt_seals *s, bool on);

/* The key of the batch whose first event is first_id (outside any transaction when keeping). */
bool		pt_seals_batch(pt_seals *s, int64_t first_id, pt_err *err);

/* A key drawn at random and never kept (a writer whose events go nowhere before they commit). */
void		pt_seals_random(pt_seals *s);

/* The seal of event id under the batch's key; valid until the next call. */
const uint8_t *pt_seals_of(pt_seals *s, int64_t id);

/* In the batch's own transaction, before its COMMIT: its key goes with it. */
bool		pt_seals_committing(pt_seals *s, pt_err *err);

#endif
