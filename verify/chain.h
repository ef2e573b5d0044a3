/*
 * verify/chain.h — rehashing the event chain and naming what broke it.
 *
 * The events are streamed in id order (one in memory) and each is checked
 * against the previous one: its id follows, its prev_hash is the previous
 * hash, and its hash is SHA-256(prev_hash || canonical(event)). At the
 * first event that fails, a look at its neighbours tells the story: events
 * missing (the ids skip), an event inserted (the next one chains to the
 * event before it), two events swapped, or an event changed.
 */
#ifndef PGTRAIL_VERIFY_CHAIN_H
#define PGTRAIL_VERIFY_CHAIN_H

#include <libpq-fe.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"
#include "core/event.h"
#include "verify/report.h"

/* Where a chain walk starts, and where it ended. */
typedef struct pt_chain_pos
{
	int64_t		id;				/* last event checked (0: before the first) */
	uint8_t		hash[PT_HASH_LEN];	/* its hash (zeros before the first) */
} pt_chain_pos;

/*
 * Check the events after pos->id (read in conn's open
 * transaction); pos moves to the last good event. A break is a finding in
 * rep (and the walk stops there); false with err only when reading failed.
 */
bool		pt_verify_chain(PGconn *conn, const char *schema, pt_chain_pos *pos,
							volatile sig_atomic_t *stop, pt_report *rep, pt_err *err);

#endif
