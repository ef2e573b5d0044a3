/*
 * core/withhold.h — [capture] withhold: columns that never enter the log.
 *
 * For data that should never be in an audit trail, capture writes such a
 * column's values as null from the start, as if pgtrail-erase had erased
 * them the moment they were written: the event's hash covers its original
 * values only through the commitment kept in sealed (format 2), its seal is
 * a second one, and its erased list names the columns. The events of a
 * batch that had values withheld are named by one erasure event at the
 * batch's end (request "[capture] withhold", signed with capture's key), so
 * pgtrail-verify holds them to the same rules as any erasure and reports
 * them apart from tampering. No value of such a column reaches the event
 * table or Kafka.
 */
#ifndef PGTRAIL_CORE_WITHHOLD_H
#define PGTRAIL_CORE_WITHHOLD_H

#include <stdbool.h>

#include "core/buf.h"
#include "core/chain.h"
#include "core/err.h"
#include "core/event.h"

#define PT_WITHHOLD_REQUEST "[capture] withhold"

typedef struct pt_withhold pt_withhold;

/* "schema.table.column, ..." (NULL or empty: none). NULL with err (PT_ERR_CONFIG) when malformed. */
pt_withhold *pt_withhold_new(const char *list, pt_err *err);
void		pt_withhold_free(pt_withhold *wh);

/*
 * If ev (a row event with its seal set) holds a value of a withheld column,
 * redact it in place: key, row and old point into wh's buffers (valid until
 * the next call), sealed is the commitment to the original values, seal
 * becomes seal2 (PT_SEAL_LEN bytes, copied), erased names the columns; the
 * batch's record gains the event. False with err on a malformed object.
 */
bool		pt_withhold_event(pt_withhold *wh, pt_chain *chain, pt_event *ev, const uint8_t *seal2, pt_err *err);

/* Events withheld since the last pt_withhold_record / pt_withhold_reset. */
bool		pt_withhold_pending(const pt_withhold *wh);

/* The erasure record naming them into row; then none is pending. */
void		pt_withhold_record(pt_withhold *wh, pt_buf *row);

/* Forget the pending events (a batch rolled back). */
void		pt_withhold_reset(pt_withhold *wh);

#endif
