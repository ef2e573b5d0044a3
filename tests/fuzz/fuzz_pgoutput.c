/*
 * tests/fuzz/fuzz_pgoutput.c — libFuzzer target for core/pgoutput.c, the
 * decoder of pgoutput's logical replication messages.
 *
 * The input is a run of messages, each a big-endian 16-bit length and that
 * many bytes, decoded in order by one decoder (so Relation messages fill
 * its table for the changes after them). Any input: decode returns, never
 * crashes, reads out of bounds or leaks; a change it gives names a table
 * and every value it gives lies NUL-terminated within its length.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/pgoutput.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool
type_name(void *arg, uint32_t oid, int32_t typmod, const char **name, pt_err *err)
{
	(void) arg;
	(void) typmod;
	if (oid == 0)
		return pt_err_set(err, PT_ERR_CONFIG, "type 0");
	*name = oid % 2 ? "integer" : "\"My Schema\".\"Mood\"[]";
	return true;
}

static void
check_columns(const pt_w2j_columns *cols, bool values)
{
	for (int i = 0; i < cols->count; i++)
	{
		const pt_w2j_column *c = &cols->items[i];

		if (c->name.ptr == NULL || c->name.ptr[c->name.len] != '\0' ||
			(c->value.ptr && c->value.ptr[c->value.len] != '\0') || (values && (c->value.ptr == NULL) != c->isnull))
			__builtin_trap();
	}
}

static void
check(const pt_w2j_change *ch, int n)
{
	for (int i = 0; i < n; i++)
	{
		if (strchr("IUDT", ch[i].action) && ch[i].table.ptr == NULL)
			__builtin_trap();
		check_columns(&ch[i].columns, true);
		check_columns(&ch[i].identity, true);
		check_columns(&ch[i].pk, false);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	pt_pgo_decoder *d = pt_pgo_new(type_name, NULL);

	while (size >= 2)
	{
		size_t		len = ((size_t) data[0] << 8 | data[1]);
		const pt_w2j_change *ch;
		int			n;
		pt_err		err;

		data += 2;
		size -= 2;
		len = len < size ? len : size;
		if (pt_pgo_decode(d, (const char *) data, len, 0, &ch, &n, &err))
			check(ch, n);
		data += len;
		size -= len;
	}
	pt_pgo_free(d);
	return 0;
}
