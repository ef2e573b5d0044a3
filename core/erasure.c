/*
 * core/erasure.c — the erasure record and its signature (see erasure.h).
 */
#include "core/erasure.h"

#include "core/event.h"
#include "core/hex.h"
#include "core/json.h"

void
pt_erasure_signed_text(const uint8_t *prev_hash, const char *row, size_t len, pt_buf *out)
{
	char		hex[2 * PT_HASH_LEN + 1];

	pt_hex_encode(prev_hash, PT_HASH_LEN, hex);
	pt_buf_printf(out, "pgtrail erasure 1\nprev_hash %s\n", hex);
	pt_buf_append(out, row, len);
	pt_buf_putc(out, '\n');
}

void
pt_record_init(pt_erasure_record *rec)
{
	pt_buf_init(&rec->events);
	rec->nevents = 0;
	rec->values = 0;
}

void
pt_record_free(pt_erasure_record *rec)
{
	pt_buf_free(&rec->events);
}

void
pt_record_add(pt_erasure_record *rec, int64_t id, const pt_names *erased, int values, const uint8_t *redacted)
{
	char		hex[2 * PT_HASH_LEN + 1];

	pt_hex_encode(redacted, PT_HASH_LEN, hex);
	pt_buf_printf(&rec->events, "%s{\"id\":%lld,\"erased\":[", rec->nevents ? "," : "", (long long) id);
	for (int i = 0; i < erased->n; i++)
	{
		if (i)
			pt_buf_putc(&rec->events, ',');
		pt_json_put_cstring(&rec->events, erased->items[i]);
	}
	pt_buf_printf(&rec->events, "],\"redacted\":\"%s\"}", hex);
	rec->nevents++;
	rec->values += values;
}

void
pt_record_finish(const pt_erasure_record *rec, const char *request, const char *reason, const char *scope_json,
				 pt_buf *row)
{
	pt_buf_reset(row);
	pt_buf_puts(row, "{\"request\":");
	pt_json_put_cstring(row, request);
	pt_buf_puts(row, ",\"reason\":");
	pt_json_put_cstring(row, reason);
	pt_buf_printf(row, ",\"scope\":%s,\"values\":%lld,\"events\":[", scope_json, (long long) rec->values);
	pt_buf_append(row, rec->events.data ? rec->events.data : "", rec->events.len);
	pt_buf_puts(row, "]}");
}

bool
pt_record_sign(const pt_signing_key *key, const uint8_t *prev_hash, const pt_buf *row, pt_buf *metadata,
			   pt_err *err)
{
	pt_buf		msg = PT_BUF_INIT;
	uint8_t		sig[PT_SIG_LEN];
	char		key_id[PT_KEY_ID_LEN + 1];
	char		hex[2 * PT_SIG_LEN + 1];
	bool		ok;

	pt_erasure_signed_text(prev_hash, row->data, row->len, &msg);
	ok = pt_sign_text(key, msg.data, msg.len, sig, key_id);
	pt_buf_free(&msg);
	if (!ok)
		return pt_err_set(err, PT_ERR_RUNTIME, "could not sign the erasure record");
	pt_hex_encode(sig, PT_SIG_LEN, hex);
	pt_buf_reset(metadata);
	pt_buf_printf(metadata, "{\"signature\":\"%s\",\"key_id\":\"%s\"}", hex, key_id);
	return true;
}
