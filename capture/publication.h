/*
 * capture/publication.h — the publication pgoutput reads through
 * ([capture] publication, with decoder = pgoutput).
 *
 * Made when missing, and only when no table lacks a replica identity (such
 * a publication makes the server refuse UPDATE and DELETE on those, which
 * would break the application): FOR ALL TABLES (which needs a superuser; an operator
 * may make it themselves, see docs/OPERATIONS.md), on PostgreSQL 18 with
 * publish_generated_columns = stored, so stored generated columns reach
 * the events as they do with wal2json. The event store's own tables are in
 * it when the store lives in the source; capture leaves them out itself
 * (its table filter never captures the store's schema).
 */
#ifndef PGTRAIL_CAPTURE_PUBLICATION_H
#define PGTRAIL_CAPTURE_PUBLICATION_H

#include <libpq-fe.h>
#include <stdbool.h>

#include "core/err.h"
#include "core/log.h"

/*
 * The publication exists (made now if it did not); *stored_generated: it
 * publishes stored generated columns (18+; an existing one without them is
 * said in a warning).
 */
bool		pt_publication_ensure(PGconn *conn, const char *name, bool *stored_generated, pt_log *log, pt_err *err);

/* publication_names' value for START_REPLICATION: the name double-quoted (allocated). */
char	   *pt_publication_option(const char *name);

#endif
