/*
 * core/redact.h — erasing values from one event: its key, row and old
 * JSON objects written again with the chosen members set to null, and the
 * list of what was erased ("row.email"), kept with the event.
 *
 * Members that stay are written back byte for byte as capture wrote them
 * (the one escaper of core/json.h), so what remains reads as before.
 */
#ifndef PGTRAIL_CORE_REDACT_H
#define PGTRAIL_CORE_REDACT_H

#include <stdbool.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/event.h"
#include "core/jsonobj.h"

/*
 * Names like "row.email": the erased list of one event, in order, no
 * repeats. Cleared and filled again per event; the strings' room is kept,
 * so [capture] withhold allocates nothing per event once it has grown.
 */
typedef struct pt_names
{
	char	  **items;
	size_t	   *room;			/* bytes allocated for items[i] */
	int			n;
	int			cap;			/* slots allocated (items[n..cap) keep their room) */
} pt_names;

void		pt_names_add(pt_names *names, const char *part, const char *name, size_t len);
void		pt_names_clear(pt_names *names);

/*
 * A redacted event: new texts for key, row and old (null stays null), the
 * event's erased list with this erasure's names added, and how many values
 * this erasure removed (members that were null already do not count).
 */
typedef struct pt_redacted
{
	pt_buf		text[3];		/* key, row, old */
	bool		isnull[3];
	pt_names	erased;
	int			values;
	pt_jsonobj	obj;			/* reused parser */
} pt_redacted;

void		pt_redacted_init(pt_redacted *red);
void		pt_redacted_free(pt_redacted *red);

/*
 * Redact ev into red: every member of key, row and old when ncolumns is 0,
 * else only the members named in columns. False with err (PT_ERR_INTEGRITY)
 * when one of them is not a JSON object.
 */
bool		pt_redact_event(pt_redacted *red, const pt_event *ev, const char *const *columns, int ncolumns,
							pt_err *err);

/* The redacted texts as an event's spans (valid until the next redaction). */
void		pt_redacted_apply(const pt_redacted *red, pt_event *ev, pt_text *erased_items);

#endif
