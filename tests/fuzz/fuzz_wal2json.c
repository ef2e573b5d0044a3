/*
 * tests/fuzz/fuzz_wal2json.c — libFuzzer target for the wal2json parser.
 *
 * Any byte string goes in; the parser must return an error or a change,
 * never crash, read out of bounds or leak (ASan/UBSan/LSan watch). Changes
 * that parse are also turned into events and canonically encoded, so the
 * builder and the chain see whatever the parser lets through.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/build.h"
#include "core/chain.h"
#include "core/wal2json.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static pt_w2j_parser *parser;
	static pt_builder *builder;
	static pt_chain *chain;
	pt_w2j_change ch;
	pt_event	ev;
	pt_err		err;
	pt_txn		txn = {0};
	static const pt_text all[] = {{"id", 2}, {"big", 3}};
	/* a private copy: the parser must not read past size */
	char	   *line = malloc(size ? size : 1);

	if (parser == NULL)
	{
		parser = pt_w2j_parser_new();
		builder = pt_builder_new();
		chain = pt_chain_new(0, NULL);
	}
	memcpy(line, data, size);
	if (pt_w2j_parse(parser, line, size, &ch, &err))
	{
		if (ch.action == 'B')
			(void) pt_builder_begin(&txn, &ch, &err);
		else if (strchr("IUDT", ch.action) &&
				 pt_builder_row_event(builder, &txn, &ch, all, 2, &ev, &err))
			pt_chain_append(chain, &ev);
	}
	free(line);
	return 0;
}
