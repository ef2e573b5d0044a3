/*
 * capture/kafka_message.c — an event as a Kafka message in pgtrail's own
 * form: topic, key, value, headers (see kafka_message.h).
 *
 * Runs once per event on the capture hot path: output goes into the
 * caller's reused buffers with pt_buf_append and hand-made number text, no
 * printf and no allocation once the buffers have grown. Stored JSON (key,
 * row, old, metadata) is copied verbatim, never parsed.
 */
#include "capture/kafka_message.h"

#include <string.h>

#include "core/hex.h"
#include "core/json.h"
#include "core/lsn.h"
#include "core/pgtime.h"
#include "core/version.h"

#define PUT_LIT(buf, lit) pt_buf_append((buf), (lit), sizeof(lit) - 1)

bool
pt_kafka_format_parse(const char *s, pt_kafka_format *fmt)
{
	if (s != NULL && strcmp(s, "native") == 0)
		*fmt = PT_KAFKA_NATIVE;
	else if (s != NULL && strcmp(s, "debezium") == 0)
		*fmt = PT_KAFKA_DEBEZIUM;
	else
		return false;
	return true;
}

/* ---- topic ---- */

static bool
topic_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		c == '.' || c == '_' || c == '-';
}

void
pt_kafka_put_topic_part(pt_buf *out, pt_text name)
{
	const unsigned char *s = (const unsigned char *) name.ptr;
	size_t		run = 0;

	for (size_t i = 0; i < name.len; i++)
	{
		if (topic_char(s[i]))
			continue;
		pt_buf_append(out, name.ptr + run, i - run);
		/* continuation bytes (10xxxxxx) belong to the character just replaced */
		if ((s[i] & 0xC0) != 0x80)
			pt_buf_putc(out, '_');
		run = i + 1;
	}
	pt_buf_append(out, name.ptr + run, name.len - run);
}

void
pt_kafka_topic(const char *tmpl, const char *other_topic, const pt_event *ev, pt_buf *out)
{
	const char *p = tmpl;

	if (ev->table_name.ptr == NULL)
	{
		if (other_topic != NULL)
			pt_buf_puts(out, other_topic);
		return;
	}
	for (;;)
	{
		const char *brace = strchr(p, '{');

		if (brace == NULL)
			break;
		pt_buf_append(out, p, (size_t) (brace - p));
		if (strncmp(brace, "{schema}", 8) == 0)
		{
			pt_kafka_put_topic_part(out, ev->schema_name);
			p = brace + 8;
		}
		else if (strncmp(brace, "{table}", 7) == 0)
		{
			pt_kafka_put_topic_part(out, ev->table_name);
			p = brace + 7;
		}
		else
		{
			pt_buf_putc(out, '{');
			p = brace + 1;
		}
	}
	pt_buf_puts(out, p);
}

/* ---- key ---- */

const char *
pt_kafka_key(const pt_event *ev, size_t *len)
{
	switch (ev->op)
	{
		case PT_OP_INSERT:
		case PT_OP_UPDATE:
		case PT_OP_DELETE:
		case PT_OP_SNAPSHOT:
			if (ev->key.ptr != NULL)
			{
				*len = ev->key.len;
				return ev->key.ptr;
			}
			break;
		default:
			break;
	}
	*len = 0;
	return NULL;
}

/* ---- pieces of JSON ---- */

/* A text as a JSON string, or null. */
static void
put_text(pt_buf *out, pt_text t)
{
	if (t.ptr == NULL)
		PUT_LIT(out, "null");
	else
		pt_json_put_string(out, t.ptr, t.len);
}

/* Stored JSON text verbatim, or null. */
static void
put_json(pt_buf *out, pt_text t)
{
	if (t.ptr == NULL)
		PUT_LIT(out, "null");
	else
		pt_buf_append(out, t.ptr, t.len);
}

static void
put_lsn_string(pt_buf *out, pt_lsn lsn)
{
	char		tmp[PT_LSN_BUFLEN];
	int			n = pt_lsn_format(lsn, tmp);

	pt_buf_putc(out, '"');
	pt_buf_append(out, tmp, (size_t) n);
	pt_buf_putc(out, '"');
}

static void
put_hash(pt_buf *out, const uint8_t *hash)
{
	char		hex[PT_HASH_LEN * 2 + 1];

	pt_hex_encode(hash, PT_HASH_LEN, hex);
	pt_buf_putc(out, '"');
	pt_buf_append(out, hex, PT_HASH_LEN * 2);
	pt_buf_putc(out, '"');
}

/* ---- native ---- */

static void
put_native(pt_buf *out, const pt_event *ev)
{
	char		tmp[PT_TIME_BUFLEN];
	int			n;

	PUT_LIT(out, "{\"id\":");
	pt_buf_put_i64(out, ev->id);
	PUT_LIT(out, ",\"lsn\":");
	put_lsn_string(out, ev->lsn);
	PUT_LIT(out, ",\"commit_lsn\":");
	put_lsn_string(out, ev->commit_lsn);
	PUT_LIT(out, ",\"xid\":");
	if (ev->has_xid)
		pt_buf_put_i64(out, ev->xid);
	else
		PUT_LIT(out, "null");
	PUT_LIT(out, ",\"committed_at\":\"");
	n = pt_time_format(ev->committed_at, tmp);
	pt_buf_append(out, tmp, (size_t) n);
	PUT_LIT(out, "\",\"schema_name\":");
	put_text(out, ev->schema_name);
	PUT_LIT(out, ",\"table_name\":");
	put_text(out, ev->table_name);
	PUT_LIT(out, ",\"schema_version\":");
	if (ev->has_schema_version)
		pt_buf_put_i64(out, ev->schema_version);
	else
		PUT_LIT(out, "null");
	PUT_LIT(out, ",\"op\":\"");
	pt_buf_puts(out, pt_op_name(ev->op));
	PUT_LIT(out, "\",\"key\":");
	put_json(out, ev->key);
	PUT_LIT(out, ",\"row\":");
	put_json(out, ev->row);
	PUT_LIT(out, ",\"old\":");
	put_json(out, ev->old);
	PUT_LIT(out, ",\"unchanged\":[");
	for (int i = 0; i < ev->nunchanged; i++)
	{
		if (i > 0)
			pt_buf_putc(out, ',');
		put_text(out, ev->unchanged[i]);
	}
	PUT_LIT(out, "],\"actor\":");
	put_text(out, ev->actor);
	PUT_LIT(out, ",\"action\":");
	put_text(out, ev->action);
	PUT_LIT(out, ",\"metadata\":");
	put_json(out, ev->metadata);
	PUT_LIT(out, ",\"prev_hash\":");
	put_hash(out, ev->prev_hash);
	PUT_LIT(out, ",\"hash\":");
	put_hash(out, ev->hash);
	pt_buf_putc(out, '}');
}

void
pt_kafka_value(const pt_event *ev, pt_buf *out)
{
	put_native(out, ev);
}

/* ---- headers ---- */

int
pt_kafka_headers(const pt_event *ev, pt_buf *scratch, const char **names,
				 const char **values, size_t *value_lens)
{
	size_t		starts[PT_KAFKA_MAX_HEADERS];
	char		tmp[PT_HASH_LEN * 2 + 1];
	int			n = 0;
	int			len;

	/* offsets first: scratch may move while it grows */
	pt_buf_reset(scratch);

#define BEGIN(name) (names[n] = (name), starts[n] = scratch->len)
#define END() (value_lens[n] = scratch->len - starts[n], pt_buf_putc(scratch, '\0'), n++)

	BEGIN("pgtrail.event_id");
	pt_buf_put_i64(scratch, ev->id);
	END();
	BEGIN("pgtrail.lsn");
	len = pt_lsn_format(ev->lsn, tmp);
	pt_buf_append(scratch, tmp, (size_t) len);
	END();
	if (ev->has_xid)
	{
		BEGIN("pgtrail.xid");
		pt_buf_put_i64(scratch, ev->xid);
		END();
	}
	BEGIN("pgtrail.hash");
	pt_hex_encode(ev->hash, PT_HASH_LEN, tmp);
	pt_buf_append(scratch, tmp, PT_HASH_LEN * 2);
	END();
	if (ev->has_schema_version)
	{
		BEGIN("pgtrail.schema_version");
		pt_buf_put_i64(scratch, ev->schema_version);
		END();
	}

#undef BEGIN
#undef END

	for (int i = 0; i < n; i++)
		values[i] = scratch->data + starts[i];
	return n;
}
