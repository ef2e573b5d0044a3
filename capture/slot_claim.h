/*
 * capture/slot_claim.h — the event store's record of the slots capture
 * created itself, so that a slot left behind by a first start that died
 * before its snapshot was committed (kill -9, a crash, a power cut) can be
 * told apart from a slot someone else made, and dropped safely.
 */
#ifndef PGTRAIL_CAPTURE_SLOT_CLAIM_H
#define PGTRAIL_CAPTURE_SLOT_CLAIM_H

#include <libpq-fe.h>
#include <stdbool.h>

#include "capture/slot.h"
#include "core/err.h"
#include "core/lsn.h"

/*
 * Before creating slot: write down (committed, in the store on sink_conn)
 * that capture is about to create it, with the source's current WAL
 * position, read on source_conn.
 */
bool		pt_slot_claim(PGconn *sink_conn, PGconn *source_conn, const char *schema, const char *slot,
						  pt_err *err);

/* After creating it: its consistent point, which is where the slot stands until it is first confirmed. */
bool		pt_slot_claim_created(PGconn *sink_conn, const char *schema, const char *slot, pt_lsn created,
								  pt_err *err);

/*
 * Is the existing slot (info) one capture claimed and created after the
 * source position "after", and never used? True in *ours when the store has
 * a claim for it made after that position (0: any), and the slot has not
 * moved since: its confirmed position is the recorded consistent point, or,
 * when capture died between creating it and recording that point, the slot
 * is not older than the claim. Whether its snapshot was committed is the
 * caller's to know (the store's state row).
 */
bool		pt_slot_claim_matches(PGconn *sink_conn, const char *schema, const char *slot,
								  const pt_slot_info *info, pt_lsn after, bool *ours, pt_err *err);

#endif
