/*
 * capture/dbz_schema.c — Connect schemas of columns and of Debezium's fixed
 * structs (see dbz_schema.h).
 *
 * A column's schema is described by a small struct (type, logical name,
 * version, doc, parameters) chosen by kind and mode, then written in
 * JsonConverter's member order; structs and maps (VariableScaleDecimal,
 * hstore as a map) are whole texts.
 */
#include "capture/dbz_schema.h"

#include <string.h>

#include "capture/dbz_geometry.h"
#include "capture/dbz_value.h"

typedef struct logical
{
	const char *type;			/* Connect type; for a struct or map also its fields, keys, values */
	const char *name;			/* NULL: none */
	int			version;		/* 0: none */
} logical;

#define VARIABLE_SCALE_DECIMAL \
	"struct\",\"fields\":[{\"type\":\"int32\",\"optional\":false,\"field\":\"scale\"}," \
	"{\"type\":\"bytes\",\"optional\":false,\"field\":\"value\"}]"

static logical
numeric_logical(const pt_dbz_type *t, const pt_dbz_modes *m)
{
	if (m->decimal == PT_DBZ_DECIMAL_STRING)
		return (logical) {"string", NULL, 0};
	if (m->decimal == PT_DBZ_DECIMAL_DOUBLE)
		return (logical) {"double", NULL, 0};
	if (t->kind == PT_DBZ_NUMERIC && t->length <= 0)
		return (logical) {VARIABLE_SCALE_DECIMAL, "io.debezium.data.VariableScaleDecimal", 1};
	return (logical) {"bytes", "org.apache.kafka.connect.data.Decimal", 1};
}

static logical
date_logical(const pt_dbz_modes *m)
{
	if (m->time == PT_DBZ_TIME_ISOSTRING)
		return (logical) {"string", "io.debezium.time.IsoDate", 1};
	if (m->time == PT_DBZ_TIME_CONNECT)
		return (logical) {"int32", "org.apache.kafka.connect.data.Date", 1};
	return (logical) {"int32", "io.debezium.time.Date", 1};
}

static logical
time_logical(const pt_dbz_type *t, const pt_dbz_modes *m)
{
	if (m->time == PT_DBZ_TIME_ISOSTRING)
		return (logical) {"string", "io.debezium.time.IsoTime", 1};
	if (m->time == PT_DBZ_TIME_CONNECT)
		return (logical) {"int32", "org.apache.kafka.connect.data.Time", 1};
	if (m->time == PT_DBZ_TIME_ADAPTIVE && t->scale <= 3)
		return (logical) {"int32", "io.debezium.time.Time", 1};
	return (logical) {"int64", "io.debezium.time.MicroTime", 1};
}

static logical
timestamp_logical(const pt_dbz_type *t, const pt_dbz_modes *m)
{
	if (m->time == PT_DBZ_TIME_ISOSTRING)
		return (logical) {"string", "io.debezium.time.IsoTimestamp", 1};
	if (m->time == PT_DBZ_TIME_CONNECT)
		return (logical) {"int64", "org.apache.kafka.connect.data.Timestamp", 1};
	if (t->scale <= 3)
		return (logical) {"int64", "io.debezium.time.Timestamp", 1};
	return (logical) {"int64", "io.debezium.time.MicroTimestamp", 1};
}

static logical
scalar_logical(const pt_dbz_type *t, const pt_dbz_modes *m)
{
	switch (t->kind)
	{
		case PT_DBZ_BOOL: return (logical) {"boolean", NULL, 0};
		case PT_DBZ_INT16: return (logical) {"int16", NULL, 0};
		case PT_DBZ_INT32: return (logical) {"int32", NULL, 0};
		case PT_DBZ_INT64: return (logical) {"int64", NULL, 0};
		case PT_DBZ_FLOAT32: return (logical) {"float", NULL, 0};
		case PT_DBZ_FLOAT64: return (logical) {"double", NULL, 0};
		case PT_DBZ_NUMERIC:
		case PT_DBZ_MONEY: return numeric_logical(t, m);
		case PT_DBZ_JSON: return (logical) {"string", "io.debezium.data.Json", 1};
		case PT_DBZ_XML: return (logical) {"string", "io.debezium.data.Xml", 1};
		case PT_DBZ_UUID: return (logical) {"string", "io.debezium.data.Uuid", 1};
		case PT_DBZ_LTREE: return (logical) {"string", "io.debezium.data.Ltree", 1};
		case PT_DBZ_TSVECTOR: return (logical) {"string", "io.debezium.data.Tsvector", 1};
		case PT_DBZ_ENUM: return (logical) {"string", "io.debezium.data.Enum", 1};
		case PT_DBZ_BYTEA: return (logical) {m->binary == PT_DBZ_BINARY_BYTES ? "bytes" : "string", NULL, 0};
		case PT_DBZ_BIT:
			return t->length <= 1 ? (logical) {"boolean", NULL, 0} : (logical) {"bytes", "io.debezium.data.Bits", 1};
		case PT_DBZ_DATE: return date_logical(m);
		case PT_DBZ_TIME: return time_logical(t, m);
		case PT_DBZ_TIMETZ: return (logical) {"string", "io.debezium.time.ZonedTime", 1};
		case PT_DBZ_TIMESTAMP: return timestamp_logical(t, m);
		case PT_DBZ_TIMESTAMPTZ: return (logical) {"string", "io.debezium.time.ZonedTimestamp", 1};
		case PT_DBZ_INTERVAL:
			return m->interval_string ? (logical) {"string", "io.debezium.time.Interval", 1}
				: (logical) {"int64", "io.debezium.time.MicroDuration", 1};
		case PT_DBZ_HSTORE:
			return m->hstore_map ? (logical) {"map\",\"keys\":{\"type\":\"string\",\"optional\":false},"
											  "\"values\":{\"type\":\"string\",\"optional\":true}", NULL, 0}
				: (logical) {"string", "io.debezium.data.Json", 1};
		default: return (logical) {"string", NULL, 0};
	}
}

/* "parameters":{...} of a scalar, if it has any. */
static void
put_parameters(pt_buf *out, const pt_dbz_type *t, const pt_dbz_modes *m)
{
	if ((t->kind == PT_DBZ_NUMERIC && t->length > 0 && m->decimal == PT_DBZ_DECIMAL_PRECISE))
		pt_buf_printf(out, ",\"parameters\":{\"scale\":\"%d\",\"connect.decimal.precision\":\"%d\"}",
					  t->scale, t->length);
	else if (t->kind == PT_DBZ_MONEY && m->decimal == PT_DBZ_DECIMAL_PRECISE)
		pt_buf_printf(out, ",\"parameters\":{\"scale\":\"%d\"}", m->money_digits);
	else if (t->kind == PT_DBZ_BIT && t->length > 1)
		pt_buf_printf(out, ",\"parameters\":{\"length\":\"%d\"}", t->length);
	else if (t->kind == PT_DBZ_ENUM)
	{
		pt_buf_puts(out, ",\"parameters\":{\"allowed\":");
		pt_dbz_put_string(out, t->enum_allowed ? t->enum_allowed : "",
						  t->enum_allowed ? strlen(t->enum_allowed) : 0);
		pt_buf_putc(out, '}');
	}
}

static bool
geometric(pt_dbz_kind k)
{
	return k == PT_DBZ_POINT || k == PT_DBZ_BOX || k == PT_DBZ_LSEG || k == PT_DBZ_PATH || k == PT_DBZ_POLYGON ||
		k == PT_DBZ_CIRCLE || k == PT_DBZ_LINE || k == PT_DBZ_POSTGIS_GEOMETRY || k == PT_DBZ_POSTGIS_GEOGRAPHY;
}

/* A scalar's schema object without its closing brace. */
static void
put_scalar_schema(pt_buf *out, const pt_dbz_type *t, const pt_dbz_modes *m, bool optional)
{
	logical		l;

	if (geometric(t->kind))
	{
		pt_dbz_put_geometry_schema(out, t->kind, optional);
		return;
	}
	l = scalar_logical(t, m);

	pt_buf_puts(out, "{\"type\":\"");
	pt_buf_puts(out, l.type);
	if (strchr(l.type, '"') == NULL)	/* a struct's or map's text ends with its own last member */
		pt_buf_putc(out, '"');
	pt_buf_puts(out, optional ? ",\"optional\":true" : ",\"optional\":false");
	if (l.name != NULL)
	{
		pt_buf_puts(out, ",\"name\":\"");
		pt_buf_puts(out, l.name);
		pt_buf_putc(out, '"');
	}
	if (l.version > 0)
		pt_buf_printf(out, ",\"version\":%d", l.version);
	if (t->kind == PT_DBZ_NUMERIC && l.version > 0 && t->length <= 0)
		pt_buf_puts(out, ",\"doc\":\"Variable scaled decimal\"");
	put_parameters(out, t, m);
}

void
pt_dbz_put_field_schema(pt_buf *out, const pt_dbz_type *t, const pt_dbz_modes *m, bool optional,
						const char *default_json, const char *field, size_t field_len)
{
	if (t->array)
	{
		/* elements are optional, except an enum's */
		pt_buf_puts(out, "{\"type\":\"array\",\"items\":");
		put_scalar_schema(out, t, m, t->kind != PT_DBZ_ENUM);
		pt_buf_puts(out, optional ? "},\"optional\":true" : "},\"optional\":false");
	}
	else
		put_scalar_schema(out, t, m, optional);
	if (default_json != NULL)
	{
		pt_buf_puts(out, ",\"default\":");
		pt_buf_puts(out, default_json);
	}
	pt_buf_puts(out, ",\"field\":");
	pt_dbz_put_string(out, field, field_len);
	pt_buf_putc(out, '}');
}

void
pt_dbz_put_message_value_schema(pt_buf *out, const pt_dbz_modes *m)
{
	pt_buf_puts(out, "{\"type\":\"struct\",\"fields\":[{\"type\":\"string\",\"optional\":false,\"field\":\"op\"},"
				"{\"type\":\"int64\",\"optional\":true,\"field\":\"ts_ms\"}," PT_DBZ_SOURCE_FIELD_SCHEMA ","
				PT_DBZ_TRANSACTION_FIELD_SCHEMA ",{\"type\":\"struct\",\"fields\":["
				"{\"type\":\"string\",\"optional\":true,\"field\":\"prefix\"},{\"type\":\"");
	pt_buf_puts(out, m->binary == PT_DBZ_BINARY_BYTES ? "bytes" : "string");
	pt_buf_puts(out, "\",\"optional\":true,\"field\":\"content\"}],\"optional\":false,"
				"\"name\":\"io.debezium.connector.postgresql.Message\",\"version\":1,\"field\":\"message\"}],"
				"\"optional\":false,\"name\":\"io.debezium.connector.postgresql.MessageValue\",\"version\":1}");
}
