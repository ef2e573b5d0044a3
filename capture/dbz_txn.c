/*
 * capture/dbz_txn.c — Debezium's transaction metadata (see dbz_txn.h).
 */
#include "capture/dbz_txn.h"

#include <stdlib.h>
#include <string.h>

#include "capture/dbz_hstore.h"
#include "capture/dbz_value.h"
#include "core/mem.h"

struct pt_dbz_collection
{
	pt_buf		name;			/* schema.table, as TableId prints it */
	int64_t		count;
	uint32_t	bucket;
	int			arrival;
};

#define KEY_SCHEMA \
	"{\"type\":\"struct\",\"fields\":[{\"type\":\"string\",\"optional\":false,\"field\":\"id\"}]," \
	"\"optional\":false,\"name\":\"io.debezium.connector.common.TransactionMetadataKey\",\"version\":1}"
#define VALUE_SCHEMA \
	"{\"type\":\"struct\",\"fields\":[{\"type\":\"string\",\"optional\":false,\"field\":\"status\"}," \
	"{\"type\":\"string\",\"optional\":false,\"field\":\"id\"}," \
	"{\"type\":\"int64\",\"optional\":true,\"field\":\"event_count\"}," \
	"{\"type\":\"array\",\"items\":{\"type\":\"struct\",\"fields\":[{\"type\":\"string\",\"optional\":false," \
	"\"field\":\"data_collection\"},{\"type\":\"int64\",\"optional\":false,\"field\":\"event_count\"}]," \
	"\"optional\":true,\"name\":\"event.collection\",\"version\":1},\"optional\":true,\"field\":\"data_collections\"}," \
	"{\"type\":\"int64\",\"optional\":false,\"field\":\"ts_ms\"}],\"optional\":false," \
	"\"name\":\"io.debezium.connector.common.TransactionMetadataValue\",\"version\":1}"

void
pt_dbz_txn_free(pt_dbz_txn *t)
{
	for (int i = 0; i < t->cap_colls; i++)
		pt_buf_free(&t->colls[i].name);
	free(t->colls);
	memset(t, 0, sizeof(*t));
}

bool
pt_dbz_txn_other(const pt_dbz_txn *t, const pt_event *ev)
{
	return t->open && (ev->commit_lsn != t->commit_lsn || ev->xid != t->xid);
}

static void
put_id(pt_buf *out, int64_t xid, pt_lsn lsn)
{
	pt_buf_printf(out, "\"%lld:%llu\"", (long long) xid, (unsigned long long) lsn);
}

static void
put_key(pt_buf *key, bool schemas, int64_t xid, pt_lsn lsn)
{
	if (schemas)
		pt_buf_puts(key, "{\"schema\":" KEY_SCHEMA ",\"payload\":");
	pt_buf_puts(key, "{\"id\":");
	put_id(key, xid, lsn);
	pt_buf_puts(key, schemas ? "}}" : "}");
}

static int64_t
ms(int64_t usec)
{
	return usec / 1000 - (usec % 1000 < 0);
}

void
pt_dbz_txn_begin(pt_dbz_txn *t, const pt_event *ev, bool key_schemas, bool value_schemas,
				 pt_buf *key, pt_buf *value)
{
	t->open = true;
	t->xid = ev->xid;
	t->commit_lsn = ev->commit_lsn;
	t->committed_at = ev->committed_at;
	t->total = 0;
	t->ncolls = 0;
	if (t->map_cap == 0)
		t->map_cap = 16;
	put_key(key, key_schemas, ev->xid, ev->lsn);
	if (value_schemas)
		pt_buf_puts(value, "{\"schema\":" VALUE_SCHEMA ",\"payload\":");
	pt_buf_puts(value, "{\"status\":\"BEGIN\",\"id\":");
	put_id(value, ev->xid, ev->lsn);
	pt_buf_printf(value, ",\"event_count\":null,\"data_collections\":null,\"ts_ms\":%lld}", (long long) ms(t->committed_at));
	if (value_schemas)
		pt_buf_putc(value, '}');
}

/* The table's entry, added on its first record (the map grows as Java's does). */
static pt_dbz_collection *
collection(pt_dbz_txn *t, pt_text schema, pt_text table)
{
	pt_dbz_collection *c;

	for (int i = 0; i < t->ncolls; i++)
	{
		c = &t->colls[i];
		if (c->name.len == schema.len + 1 + table.len && memcmp(c->name.data, schema.ptr, schema.len) == 0 &&
			memcmp(c->name.data + schema.len + 1, table.ptr, table.len) == 0 && c->name.data[schema.len] == '.')
			return c;
	}
	if (t->ncolls == t->cap_colls)
	{
		int			cap = t->cap_colls ? t->cap_colls * 2 : 8;

		t->colls = pt_realloc(t->colls, (size_t) cap * sizeof(pt_dbz_collection));
		memset(t->colls + t->cap_colls, 0, (size_t) (cap - t->cap_colls) * sizeof(pt_dbz_collection));
		t->cap_colls = cap;
	}
	c = &t->colls[t->ncolls];
	pt_buf_reset(&c->name);
	pt_buf_append(&c->name, schema.ptr, schema.len);
	pt_buf_putc(&c->name, '.');
	pt_buf_append(&c->name, table.ptr, table.len);
	c->count = 0;
	c->arrival = t->ncolls++;
	while ((double) t->ncolls > 0.75 * t->map_cap)
		t->map_cap *= 2;
	return c;
}

void
pt_dbz_txn_block(pt_dbz_txn *t, pt_text schema, pt_text table, pt_lsn lsn, pt_buf *out)
{
	pt_dbz_collection *c = collection(t, schema, table);

	pt_buf_puts(out, "{\"id\":");
	put_id(out, t->xid, lsn);
	pt_buf_printf(out, ",\"total_order\":%lld,\"data_collection_order\":%lld}", (long long) ++t->total,
				  (long long) ++c->count);
}

static int
by_bucket(const void *a, const void *b)
{
	const pt_dbz_collection *x = a;
	const pt_dbz_collection *y = b;

	if (x->bucket != y->bucket)
		return x->bucket < y->bucket ? -1 : 1;
	return x->arrival - y->arrival;
}

void
pt_dbz_txn_end(pt_dbz_txn *t, bool key_schemas, bool value_schemas, pt_buf *key, pt_buf *value)
{
	for (int i = 0; i < t->ncolls; i++)
		t->colls[i].bucket = pt_dbz_hashmap_bucket(t->colls[i].name.data, t->colls[i].name.len, t->map_cap);
	qsort(t->colls, (size_t) t->ncolls, sizeof(pt_dbz_collection), by_bucket);
	put_key(key, key_schemas, t->xid, t->commit_lsn);
	if (value_schemas)
		pt_buf_puts(value, "{\"schema\":" VALUE_SCHEMA ",\"payload\":");
	pt_buf_puts(value, "{\"status\":\"END\",\"id\":");
	put_id(value, t->xid, t->commit_lsn);
	pt_buf_printf(value, ",\"event_count\":%lld,\"data_collections\":[", (long long) t->total);
	for (int i = 0; i < t->ncolls; i++)
	{
		pt_buf_puts(value, i ? ",{\"data_collection\":" : "{\"data_collection\":");
		pt_dbz_put_string(value, t->colls[i].name.data, t->colls[i].name.len);
		pt_buf_printf(value, ",\"event_count\":%lld}", (long long) t->colls[i].count);
	}
	pt_buf_printf(value, "],\"ts_ms\":%lld}", (long long) ms(t->committed_at));
	if (value_schemas)
		pt_buf_putc(value, '}');
	t->open = false;
}
