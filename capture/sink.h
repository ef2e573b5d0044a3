/*
 * capture/sink.h — where events go: an ops table, as walmethods.h does for
 * WAL writers. The stream loop calls begin/add/commit on every sink in
 * order and does not know which sinks exist. The event table sink comes
 * first: it numbers and hashes the events, the others publish them as
 * numbered. The slot is confirmed only after every sink committed.
 */
#ifndef PGTRAIL_CAPTURE_SINK_H
#define PGTRAIL_CAPTURE_SINK_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/checkpoint.h"

#include "core/err.h"
#include "core/event.h"
#include "core/lsn.h"
#include "capture/metrics.h"

typedef struct pt_sink_ops
{
	const char *name;
	/* start a batch */
	bool		(*begin) (void *state, pt_err *err);
	/* add one event (may set id and hashes) */
	bool		(*add) (void *state, pt_event *ev, pt_err *err);
	/* make the batch durable; confirmed is the source LSN it covers */
	bool		(*commit) (void *state, pt_lsn confirmed, pt_err *err);
	/* a new version of a table's column set, from the next event on
	 * (optional: NULL for sinks that keep no schema history) */
	bool		(*schema_version) (void *state, const char *schema_name, const char *table_name,
								   int version, const char *columns, const char *const *primary_key,
								   int npk, const char *details, pt_err *err);
	/* drop the batch */
	void		(*abort) (void *state);
	/* free everything (the batch must be committed or aborted) */
	void		(*close) (void *state);

	/*
	 * Optional, for sinks that deliver in the background (NULL otherwise:
	 * such a sink is durable once commit returned).
	 */
	/* serve callbacks for up to timeout_ms; false on a delivery that failed for good */
	bool		(*poll) (void *state, int timeout_ms, pt_err *err);
	/* how far it is durable, given every batch up to committed was committed */
	pt_lsn		(*durable) (void *state, pt_lsn committed);
	/* so much is queued that capture should stop reading the stream for now */
	bool		(*busy) (void *state);
	/* at start, the slot confirmed up to slot_confirmed: send again what may be missing */
	bool		(*resume) (void *state, pt_lsn slot_confirmed, pt_err *err);
	/* a checkpoint the event table just committed */
	bool		(*checkpoint) (void *state, const pt_checkpoint *cp, pt_err *err);
	/* at a clean stop: wait until everything is delivered (or *stop is set again) */
	bool		(*drain) (void *state, volatile sig_atomic_t *stop, pt_err *err);
	/* its figures for --metrics (Kafka's; NULL for sinks without) */
	void		(*figures) (void *state, pt_kafka_figures *figures);
} pt_sink_ops;

typedef struct pt_sink
{
	const pt_sink_ops *ops;
	void	   *state;
} pt_sink;

#endif
