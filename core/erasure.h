/*
 * core/erasure.h — what pgtrail-erase signs and pgtrail-verify checks.
 *
 * An erasure event's record (its row) is signed together with the hash of
 * the event before it, so a signed record is valid in its place in the
 * chain only. The text is fixed in docs/FORMAT.md ("Erasure").
 */
#ifndef PGTRAIL_CORE_ERASURE_H
#define PGTRAIL_CORE_ERASURE_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

/* "pgtrail erasure 1\nprev_hash <64 hex>\n<row>\n", appended to out. */
void		pt_erasure_signed_text(const uint8_t *prev_hash, const char *row, size_t len, pt_buf *out);

#endif
