/*
 * capture/decode.c — one slot message through wal2json's parser or the
 * pgoutput decoder (see decode.h).
 */
#include "capture/decode.h"

#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "core/pgoutput.h"

struct pt_decode
{
	pt_w2j_parser *w2j;			/* one of the two */
	pt_pgo_decoder *pgo;
	pt_w2j_change change;		/* wal2json's one change of a line */
	pt_schemas *const *schemas;
};

static bool
type_name(void *arg, uint32_t oid, int32_t typmod, const char **name, pt_err *err)
{
	pt_decode  *d = arg;

	if (*d->schemas == NULL)
		return pt_err_set(err, PT_ERR_RUNTIME, "a pgoutput Relation message before the table catalog was open");
	return pt_schemas_type_name(*d->schemas, oid, typmod, name, err);
}

pt_decode *
pt_decode_new(const char *decoder, pt_schemas *const *schemas)
{
	pt_decode  *d = pt_calloc(1, sizeof(pt_decode));

	d->schemas = schemas;
	if (strcmp(decoder, "pgoutput") == 0)
		d->pgo = pt_pgo_new(type_name, d);
	else
		d->w2j = pt_w2j_parser_new();
	return d;
}

void
pt_decode_free(pt_decode *d)
{
	if (d == NULL)
		return;
	pt_w2j_parser_free(d->w2j);
	pt_pgo_free(d->pgo);
	free(d);
}

bool
pt_decode_exact_values(const pt_decode *d)
{
	return d->pgo != NULL;
}

bool
pt_decode_message(pt_decode *d, const char *data, size_t len, pt_lsn lsn, const pt_w2j_change **changes, int *n,
				  pt_err *err)
{
	bool		ok;

	if (d->pgo)
		ok = pt_pgo_decode(d->pgo, data, len, lsn, changes, n, err);
	else
	{
		ok = pt_w2j_parse(d->w2j, data, len, &d->change, err);
		*changes = &d->change;
		*n = ok ? 1 : 0;
	}
	if (!ok)
		pt_err_prefix(err, "at %X/%X", (unsigned) (lsn >> 32), (unsigned) lsn);
	return ok;
}
