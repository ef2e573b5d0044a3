/*
 * capture/context.h — who did it: application context from logical messages.
 *
 * An application calls SELECT pgtrail.set_context(actor, action, metadata)
 * inside a transaction (installed by capture; it emits a transactional
 * logical message with prefix "pgtrail"); the events of that transaction
 * after the call carry the context, and it is hashed with them. The
 * conventions of tools users may already run are read too: Bemi's "_bemi"
 * messages and Sequin's "sequin:transaction_annotations.set" / ".clear"
 * (their JSON becomes metadata). Context ends with the transaction.
 */
#ifndef PGTRAIL_CAPTURE_CONTEXT_H
#define PGTRAIL_CAPTURE_CONTEXT_H

#include <libpq-fe.h>
#include <stdbool.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/event.h"
#include "core/log.h"

typedef struct pt_context
{
	bool		has_actor,
				has_action,
				has_metadata;
	pt_buf		actor;
	pt_buf		action;
	pt_buf		metadata;		/* JSON text */
} pt_context;

void		pt_context_init(pt_context *ctx);
void		pt_context_free(pt_context *ctx);
void		pt_context_reset(pt_context *ctx);

/*
 * A transactional message: when its prefix is a context convention, update
 * the context and set *handled. Malformed content from an application is
 * kept (as a JSON string in metadata) and warned about, never dropped.
 */
void		pt_context_message(pt_context *ctx, const char *prefix, const char *content, size_t len,
							   bool *handled, pt_log *log);

/* Put the current context on an event (spans point into ctx). */
void		pt_context_apply(const pt_context *ctx, pt_event *ev);

/* Create schema.set_context(actor text, action text, metadata json) if missing. */
bool		pt_context_install(PGconn *conn, const char *schema, pt_err *err);

#endif
