/*
 * erase/erase.h — one erasure: the chosen values removed from the event
 * store and the erasure appended to the chain, in one transaction.
 *
 * The event table is locked against capture's writer for that
 * transaction (SHARE ROW EXCLUSIVE): capture waits, then finds the chain
 * longer than it left it and starts its session again from the store's
 * state, as after any lost connection (nothing is lost or repeated).
 */
#ifndef PGTRAIL_ERASE_ERASE_H
#define PGTRAIL_ERASE_ERASE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"
#include "core/log.h"

typedef struct pt_erase_opts
{
	const char *events_dsn;
	const char *schema;
	const char *slot;
	const char *signing_key;	/* "" : the record is not signed */
	const char *table;			/* with key */
	const char *key;
	const char *column;			/* schema.table.column */
	const char *event;			/* an event id */
	const char *reason;
	const char *request;
	const char *by;				/* "" : session_user */
} pt_erase_opts;

typedef struct pt_erase_result
{
	int64_t		erasure_id;		/* the (first) erasure event; 0 when nothing matched */
	int64_t		erasure_last;	/* the last one: an erasure event names at most 1000 events (256 KB) */
	int64_t		events;
	int64_t		values;
} pt_erase_result;

/* Check the options (PT_ERR_CONFIG), erase, append the erasure event. */
bool		pt_erase_run(const pt_erase_opts *o, pt_log *log, pt_erase_result *result, pt_err *err);

#endif
