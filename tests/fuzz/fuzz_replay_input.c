/*
 * tests/fuzz/fuzz_replay_input.c — libFuzzer target for what replay parses:
 * an event's JSON objects and arrays as read back from the event store
 * (someone may have written anything there), and [replay] map rules.
 *
 * The first byte picks the parser; the rest is its input. Each must return
 * an error or a result, never crash, read out of bounds or leak; spans it
 * returns must lie inside the input or its arena.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/jsonobj.h"
#include "replay/mapping.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
touch(pt_text t)
{
	volatile char sink = 0;

	for (size_t i = 0; t.ptr && i < t.len; i++)
		sink ^= t.ptr[i];
	(void) sink;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static pt_jsonobj obj;
	static bool ready;
	pt_text    *items = NULL;
	int			cap = 0,
				n;
	pt_err		err;
	char	   *input;

	if (size == 0)
		return 0;
	if (!ready)
	{
		pt_jsonobj_init(&obj);
		ready = true;
	}
	/* a private, NUL-terminated copy: parsers must not read past size */
	input = malloc(size);
	memcpy(input, data + 1, size - 1);
	input[size - 1] = '\0';
	switch (data[0] % 3)
	{
		case 0:
			if (pt_jsonobj_parse(&obj, input, size - 1, &err))
				for (int k = 0; k < obj.n; k++)
				{
					touch(obj.names[k]);
					touch(obj.values[k]);
					(void) pt_jsonobj_find(&obj, obj.names[k].ptr, obj.names[k].len);
				}
			break;
		case 1:
			if (pt_json_array_items(input, size - 1, &items, &cap, &n, &err))
				for (int k = 0; k < n; k++)
					touch(items[k]);
			free(items);
			break;
		default:
			{
				pt_mapping *m = pt_mapping_parse(input, &err);
				const char *s,
						   *t,
						   *renamed;
				bool		dropped;

				pt_mapping_table(m, "app", "posts", 1, &s, &t);
				pt_mapping_column(m, "app", "posts", 1, "title", 5, &renamed, &dropped);
				pt_mapping_free(m);
			}
			break;
	}
	free(input);
	return 0;
}
