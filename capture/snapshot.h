/*
 * capture/snapshot.h — the initial copy of the captured tables.
 *
 * On first start the slot is created with an exported snapshot; this module
 * opens its own connection, imports that snapshot (so it sees exactly the
 * data the stream will continue from), and copies every captured table's
 * rows with COPY ... TO STDOUT, one row in memory at a time, as "snapshot"
 * events handed to emit(). Progress is logged per table and every 10 s.
 */
#ifndef PGTRAIL_CAPTURE_SNAPSHOT_H
#define PGTRAIL_CAPTURE_SNAPSHOT_H

#include <stdbool.h>
#include <stdint.h>

#include "core/filter.h"
#include "core/err.h"
#include "core/event.h"
#include "core/log.h"
#include "core/lsn.h"
#include "capture/metrics.h"

typedef bool (*pt_snapshot_emit) (void *arg, pt_event *ev, pt_err *err);

/*
 * Copy the tables that filter matches, as of snapshot_name. Events carry
 * lsn = commit_lsn = consistent (where the stream continues). *events gets
 * the number of rows copied. Progress (tables, rows) goes to metrics (NULL: off).
 */
bool		pt_snapshot_copy(const char *source_dsn, const char *snapshot_name, pt_lsn consistent,
							 const pt_filter *filter, pt_snapshot_emit emit, void *arg,
							 pt_log *log, pt_metrics *metrics, int64_t *events, pt_err *err);

#endif
