/*
 * capture/publication.h — the publication pgoutput reads through
 * ([capture] publication, with decoder = pgoutput).
 *
 * Made when missing, and only when no table it would cover lacks a
 * replica identity (such a publication makes the server refuse UPDATE and
 * DELETE on those, which would break the application). When every
 * [capture] tables pattern names its schema (shop.*, billing.invoices),
 * FOR TABLES IN SCHEMA those schemas: the store's own tables and every
 * other schema stay out of decoding, and new tables in those schemas are
 * in it at once. Otherwise FOR ALL TABLES; the store's tables are then in
 * it when the store lives in the source, and capture leaves them out
 * itself. Both need a superuser (an operator may make it themselves, see
 * docs/OPERATIONS.md). On PostgreSQL 18 with publish_generated_columns =
 * stored, so stored generated columns reach the events as with wal2json.
 *
 * A publication capture made is marked by its comment and kept in step:
 * when the patterns name other schemas, capture SETs it to them at start
 * (after the same replica identity check); when they no longer name
 * schemas, it stops with a hint, since a publication cannot be widened to
 * all tables in place. One capture did not make is never changed.
 */
#ifndef PGTRAIL_CAPTURE_PUBLICATION_H
#define PGTRAIL_CAPTURE_PUBLICATION_H

#include <libpq-fe.h>
#include <stdbool.h>

#include "core/err.h"
#include "core/filter.h"
#include "core/log.h"

/*
 * The publication exists (made now if it did not); *stored_generated: it
 * publishes stored generated columns (18+; an existing one without them is
 * said in a warning).
 */
bool		pt_publication_ensure(PGconn *conn, const char *name, const pt_filter *filter, bool *stored_generated,
								  pt_log *log, pt_err *err);

/* publication_names' value for START_REPLICATION: the name double-quoted (allocated). */
char	   *pt_publication_option(const char *name);

#endif
