/*
 * verify/erasures.h — erasures told apart from tampering (docs/FORMAT.md,
 * "Erasure").
 *
 * A lawful erasure leaves the chain valid (the hash covers a commitment to
 * the values, kept when they go) and is on the record as an erasure event.
 * This check holds every event whose values were erased to the last
 * erasure event that names it: the event must still match its hash, and
 * what it holds now must match the digest the erasure recorded. With
 * public keys, every erasure record must carry a good signature. Each
 * erasure is reported as a note (when, who, why, how many values), not a
 * finding; values gone without a record are a finding.
 *
 * It reads every erased event on every run (incremental runs too): an
 * erasure changes events the last run already verified.
 */
#ifndef PGTRAIL_VERIFY_ERASURES_H
#define PGTRAIL_VERIFY_ERASURES_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/checkpoint.h"
#include "core/err.h"
#include "verify/report.h"

/* Check the erasures up to event log_end (in conn's snapshot); false only when reading failed. */
bool		pt_verify_erasures(PGconn *conn, const char *schema, const pt_keyring *ring, int64_t log_end,
							   pt_report *rep, pt_err *err);

#endif
