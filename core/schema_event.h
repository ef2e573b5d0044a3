/*
 * core/schema_event.h — schema versions inside the hash chain.
 *
 * What replay --create-tables executes (column types, defaults, generated
 * expressions, partition bounds) is a table's schema version, kept in the
 * schemas table, which is outside the chain. So that nobody can change a
 * version unnoticed, every version is also an event of its own, op
 * "schema", written just before the version's first event, whose row is
 * the version's document:
 *
 *   {"columns":<columns>,"primary_key":<key names>,"details":<details|null>}
 *
 * with <columns> and <details> the exact JSON texts of the schemas row and
 * <key names> a JSON array of strings (docs/FORMAT.md). The schemas table
 * is then an index of the chain: each row must match its schema event byte
 * for byte, and pt_versions_audit says where one does not (verify reports
 * it, replay refuses). Versions written before schema events existed are
 * counted as not covered, never silently trusted.
 */
#ifndef PGTRAIL_CORE_SCHEMA_EVENT_H
#define PGTRAIL_CORE_SCHEMA_EVENT_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"

/* Append a version's document (details may be NULL) to out. */
void		pt_schema_doc(pt_buf *out, const char *columns, const char *const *primary_key, int npk,
						  const char *details);

/*
 * Versions recorded in an open batch, waiting for the event they open at:
 * their schema events take that event's LSNs, transaction and time, and
 * their first_event_id is its id (docs/FORMAT.md). Strings are copied.
 */
typedef struct pt_pending_version
{
	char	   *schema_name;
	char	   *table_name;
	int			version;
	char	   *columns;
	char	   *details;		/* NULL: none */
	char	   *primary_key;	/* text[] literal */
	pt_buf		doc;			/* the schema event's row */
} pt_pending_version;

typedef struct pt_version_queue
{
	pt_pending_version *items;
	int			n;
	int			cap;
} pt_version_queue;

void		pt_version_queue_add(pt_version_queue *q, const char *schema_name, const char *table_name,
								 int version, const char *columns, const char *const *primary_key, int npk,
								 const char *details);
/* Forget every queued version (keeps the array for reuse). */
void		pt_version_queue_clear(pt_version_queue *q);
void		pt_version_queue_free(pt_version_queue *q);

#define PT_AUDIT_MAX_FINDINGS 8

/* The schemas table against the chain. */
typedef struct pt_version_audit
{
	int64_t		covered;		/* versions matching their schema event */
	int64_t		legacy;			/* recorded before the log's first schema event: not covered */
	int64_t		bad;			/* findings: a version the chain does not prove */
	int			nfindings;		/* the first PT_AUDIT_MAX_FINDINGS of them, described */
	char		findings[PT_AUDIT_MAX_FINDINGS][320];
} pt_version_audit;

/*
 * Compare every row of the store's schemas table with the schema events
 * of its events table (one query, in the caller's snapshot). A finding is
 * a version whose row differs from its event, a version without one that
 * is not of a store written before schema events (docs/FORMAT.md), two
 * events for one version, a first_event_id that does not follow its event,
 * or a schema event without a row. False only when the query
 * could not run.
 */
bool		pt_versions_audit(PGconn *conn, const char *schema, pt_version_audit *audit, pt_err *err);

#endif
