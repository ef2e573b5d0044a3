/*
 * capture/dbz_schema.h — Kafka Connect schemas as JsonConverter writes them
 * with schemas.enable = true: a column's field schema and the fixed
 * structs of Debezium's PostgreSQL records (source, transaction block,
 * message key and value).
 *
 * JsonConverter's member order is fixed: "type", then "fields" / "items" /
 * "keys" and "values", then "optional", "name", "version", "doc",
 * "parameters", "default", and for a struct's field "field" last. No
 * whitespace anywhere.
 */
#ifndef PGTRAIL_CAPTURE_DBZ_SCHEMA_H
#define PGTRAIL_CAPTURE_DBZ_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>

#include "capture/dbz_type.h"
#include "core/buf.h"

/* io.debezium.connector.postgresql.Source (Debezium 3.5 and later), as the field "source" */
#define PT_DBZ_SOURCE_FIELD_SCHEMA \
	"{\"type\":\"struct\",\"fields\":[{\"type\":\"string\",\"optional\":false,\"field\":\"version\"}," \
	"{\"type\":\"string\",\"optional\":false,\"field\":\"connector\"}," \
	"{\"type\":\"string\",\"optional\":false,\"field\":\"name\"}," \
	"{\"type\":\"int64\",\"optional\":false,\"field\":\"ts_ms\"}," \
	"{\"type\":\"string\",\"optional\":true,\"name\":\"io.debezium.data.Enum\",\"version\":1," \
	"\"parameters\":{\"allowed\":\"true,first,first_in_data_collection,last_in_data_collection,last,false,incremental\"}," \
	"\"default\":\"false\",\"field\":\"snapshot\"}," \
	"{\"type\":\"string\",\"optional\":false,\"field\":\"db\"}," \
	"{\"type\":\"string\",\"optional\":true,\"field\":\"sequence\"}," \
	"{\"type\":\"int64\",\"optional\":true,\"field\":\"ts_us\"}," \
	"{\"type\":\"int64\",\"optional\":true,\"field\":\"ts_ns\"}," \
	"{\"type\":\"string\",\"optional\":false,\"field\":\"schema\"}," \
	"{\"type\":\"string\",\"optional\":false,\"field\":\"table\"}," \
	"{\"type\":\"int64\",\"optional\":true,\"field\":\"txId\"}," \
	"{\"type\":\"int64\",\"optional\":true,\"field\":\"lsn\"}," \
	"{\"type\":\"int64\",\"optional\":true,\"field\":\"xmin\"}," \
	"{\"type\":\"string\",\"optional\":true,\"field\":\"origin\"}," \
	"{\"type\":\"int64\",\"optional\":true,\"field\":\"origin_lsn\"}]," \
	"\"optional\":false,\"name\":\"io.debezium.connector.postgresql.Source\",\"version\":1,\"field\":\"source\"}"

/* the transaction block (event.block), as the field "transaction" */
#define PT_DBZ_TRANSACTION_FIELD_SCHEMA \
	"{\"type\":\"struct\",\"fields\":[{\"type\":\"string\",\"optional\":false,\"field\":\"id\"}," \
	"{\"type\":\"int64\",\"optional\":false,\"field\":\"total_order\"}," \
	"{\"type\":\"int64\",\"optional\":false,\"field\":\"data_collection_order\"}]," \
	"\"optional\":true,\"name\":\"event.block\",\"version\":1,\"field\":\"transaction\"}"

/* a logical decoding message's key */
#define PT_DBZ_MESSAGE_KEY_SCHEMA \
	"{\"type\":\"struct\",\"fields\":[{\"type\":\"string\",\"optional\":true,\"field\":\"prefix\"}]," \
	"\"optional\":false,\"name\":\"io.debezium.connector.postgresql.MessageKey\",\"version\":1}"

/*
 * The Connect schema of a column's values as a struct field named
 * field[0..field_len), appended to out. default_json (NULL: none) is the
 * column's default already in Connect JSON.
 */
void		pt_dbz_put_field_schema(pt_buf *out, const pt_dbz_type *t, const pt_dbz_modes *m, bool optional,
									const char *default_json, const char *field, size_t field_len);

/* The message value schema: op, ts_ms, source, transaction, message (content as binary.handling.mode). */
void		pt_dbz_put_message_value_schema(pt_buf *out, const pt_dbz_modes *m);

#endif
