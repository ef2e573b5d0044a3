/*
 * core/store_losses.h — known losses, counted per table, kept in the event
 * store's losses table (docs/FORMAT.md).
 *
 * Some changes cannot reach pgtrail whole, and pgtrail can see that they
 * did not: wal2json 2.5 sends numeric/float NaN and ±Infinity as null, the
 * server decodes no UPDATE or DELETE of a table without a replica identity
 * and nothing of an unlogged table, and non-transactional logical messages
 * belong to no transaction. Capture counts each kind by table (and column,
 * or message prefix: "detail") and adds the counts to the losses table in
 * the sink transaction that holds the events they concern, so a count is
 * neither lost nor doubled across restarts. verify and replay read it back.
 * The queue owns copies of its strings; freed with pt_loss_queue_free.
 */
#ifndef PGTRAIL_CORE_STORE_LOSSES_H
#define PGTRAIL_CORE_STORE_LOSSES_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"
#include "core/lsn.h"

/* The kinds (losses.kind). */
#define PT_LOSS_NAN "nan_as_null"				/* a NOT NULL numeric/float column arrived null */
#define PT_LOSS_MAYBE_NAN "maybe_nan_as_null"	/* a nullable one did: NULL, or NaN/Infinity */
#define PT_LOSS_UNLOGGED "unlogged"				/* nothing of the table reaches the WAL */
#define PT_LOSS_NO_IDENTITY "no_replica_identity"	/* UPDATE and DELETE are not decoded */
#define PT_LOSS_NONTX_MESSAGE "non_transactional_message"	/* detail: the prefix */
#define PT_LOSS_GENERATED "generated_not_sent"	/* pgoutput before 18: a stored generated column's value */

typedef struct pt_loss
{
	char	   *schema_name;	/* "" for losses of no table */
	char	   *table_name;
	char	   *kind;
	char	   *detail;			/* column, prefix, or "" */
	int64_t		count;			/* 0 for a table-wide state (unlogged, no identity) */
	pt_lsn		lsn;			/* where the last one counted was (0: not known) */
} pt_loss;

typedef struct pt_loss_queue
{
	pt_loss    *items;
	int			n;
	int			cap;
} pt_loss_queue;

/* Add count to the queued entry of (schema, table, kind, detail), or queue one; lsn 0: not known. */
void		pt_loss_queue_add(pt_loss_queue *q, const char *schema, const char *table, const char *kind,
							  const char *detail, int64_t count, pt_lsn lsn);
void		pt_loss_queue_clear(pt_loss_queue *q);
void		pt_loss_queue_free(pt_loss_queue *q);

/* Add the queued counts to qschema.losses (in the caller's transaction), then clear the queue. */
bool		pt_loss_queue_write(pt_loss_queue *q, PGconn *conn, const char *qschema, pt_err *err);

/*
 * The losses recorded in the store, one line each, as
 * "table S.T: what" (or "what" for losses of no table), for verify and
 * replay to say. A store without the table (older) has none. *lines is
 * malloc'd, each line too (free with pt_loss_lines_free).
 */
/* The last LSN counted of kind in schema.losses (0: none), so a resent message is not counted again. */
bool		pt_store_losses_last_lsn(PGconn *conn, const char *schema, const char *kind, pt_lsn *lsn, pt_err *err);

bool		pt_store_losses_describe(PGconn *conn, const char *schema, char ***lines, int *nlines, pt_err *err);
void		pt_loss_lines_free(char **lines, int n);

#endif
