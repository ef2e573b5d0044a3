/*
 * verify/verify.h — pgtrail-verify's work, below main().
 *
 * pt_verify_run() audits an event store in one read-only snapshot: it
 * rehashes the chain (all of it with --full, else from the last verified
 * point kept in the store's verified table), checks that ids are gapless,
 * checks every checkpoint's signature and that the chain passes through
 * it, checks that the table still holds every checkpoint of the anchor
 * file and that the state rows agree with the table's end, and, with
 * --drift, compares the state the log describes with the live tables.
 * What it finds goes into a pt_report; only a failure to run at all is an
 * error.
 */
#ifndef PGTRAIL_VERIFY_VERIFY_H
#define PGTRAIL_VERIFY_VERIFY_H

#include <signal.h>
#include <stdbool.h>

#include "core/err.h"
#include "core/log.h"
#include "verify/report.h"

typedef struct pt_verify_opts
{
	const char *events_dsn;		/* event store */
	const char *schema;			/* event store schema */
	bool		full;			/* rehash everything, not only what is new */
	bool		save;			/* record the verified point when clean */
	const char *public_key;		/* PEM file of public keys, "" = none */
	const char *anchor;			/* anchor file, "" = none */
	bool		drift;
	const char *source_dsn;		/* live tables, for drift */
	const char *drift_scratch;	/* "" = a temporary database */
	int			drift_wait_s;
	int			drift_max_rows;
} pt_verify_opts;

/* Run every check asked for; false with err only when it could not run. */
bool		pt_verify_run(const pt_verify_opts *opts, pt_log *log, volatile sig_atomic_t *stop,
						  pt_report *rep, pt_err *err);

#endif
