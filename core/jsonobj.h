/*
 * core/jsonobj.h — every member of a JSON object, for reading events back.
 *
 * Replay and the point queries read an event's key, row and old objects
 * ({"col":"text",...}) member by member. A pt_jsonobj is reused across
 * events: its token array and unescape arena grow once and are kept, so
 * parsing an event allocates nothing in the steady state. String values
 * without escapes point straight into the input; the others into the arena.
 * Values that are not strings (nested objects, arrays, numbers, true/false)
 * are given as their exact bytes; JSON null is a pt_text with ptr NULL.
 */
#ifndef PGTRAIL_CORE_JSONOBJ_H
#define PGTRAIL_CORE_JSONOBJ_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/event.h"
#include "core/json.h"

typedef struct pt_jsonobj
{
	int			n;				/* members */
	pt_text    *names;			/* unescaped (not NUL-terminated) */
	pt_text    *values;			/* ptr NULL: JSON null */
	pt_json_kind *kinds;
	/* internal, reused */
	int			cap;
	size_t	   *alen;			/* arena lengths while parsing */
	void	   *toks;
	unsigned	tokcap;
	pt_buf		arena;
} pt_jsonobj;

void		pt_jsonobj_init(pt_jsonobj *o);
void		pt_jsonobj_free(pt_jsonobj *o);

/*
 * Parse json[0..len) as one object. Member spans stay valid until the next
 * parse (they may point into json: keep it alive). False with err (kind
 * PT_ERR_INTEGRITY) when it is not a well-formed object.
 */
bool		pt_jsonobj_parse(pt_jsonobj *o, const char *json, size_t len, pt_err *err);

/*
 * The elements of a JSON array json[0..len) as raw spans (strings keep
 * their quotes), into *items (grown as needed, *cap its size; free it).
 * False with err when it is not a well-formed array.
 */
bool		pt_json_array_items(const char *json, size_t len, pt_text **items, int *cap, int *n, pt_err *err);

/* Index of the member named name (len bytes), or -1. */
int			pt_jsonobj_find(const pt_jsonobj *o, const char *name, size_t len);

#endif
