/*
 * core/event.c — op names and small helpers for pt_event (see event.h).
 */
#include "core/event.h"

#include <string.h>

static const char *const op_names[PT_OP_COUNT] = {
	"insert", "update", "delete", "truncate", "snapshot", "message", "ddl", "gap", "schema", "erasure"
};

const char *
pt_op_name(pt_op op)
{
	return (unsigned) op < PT_OP_COUNT ? op_names[op] : "?";
}

bool
pt_op_parse(const char *s, size_t len, pt_op *op)
{
	for (int i = 0; i < PT_OP_COUNT; i++)
	{
		if (strlen(op_names[i]) == len && memcmp(op_names[i], s, len) == 0)
		{
			*op = (pt_op) i;
			return true;
		}
	}
	return false;
}

pt_text
pt_text_c(const char *s)
{
	pt_text		t = {s, s ? strlen(s) : 0};

	return t;
}
