/*
 * capture/dbz_hstore.h — an hstore text as Debezium writes it: a JSON
 * object of its pairs (hstore.handling.mode = map) or that object's text as
 * a JSON string (json, the default).
 *
 * Debezium reads the pairs into a java.util.HashMap, so its JSON lists them
 * in that map's iteration order: by bucket (String.hashCode of the key over
 * UTF-16 units, spread as h ^ (h >>> 16), masked by the table size: 16,
 * doubled past three quarters full), keys of one bucket in the order they
 * came (PostgreSQL's, shortest key first). Buckets the map turns into trees
 * (eight colliding keys or more in a table of 64 or more) are listed in
 * their order of arrival here; Java's tree order may differ.
 */
#ifndef PGTRAIL_CAPTURE_DBZ_HSTORE_H
#define PGTRAIL_CAPTURE_DBZ_HSTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "capture/dbz_value.h"

/* The Connect JSON of hstore text s[0..len) into out; false when malformed. */
bool		pt_dbz_put_hstore(pt_buf *out, const char *s, size_t len, bool as_map, pt_dbz_scratch *sc);

/*
 * The bucket of key in a java.util.HashMap of cap buckets (a power of
 * two): the rule above, also the order of a transaction's data
 * collections (dbz_txn.c).
 */
uint32_t	pt_dbz_hashmap_bucket(const char *key, size_t len, uint32_t cap);

#endif
