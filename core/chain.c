/*
 * core/chain.c — canonical encoding and SHA-256 chain (see chain.h and
 * docs/FORMAT.md, which is the normative description of these bytes).
 */
#include "core/chain.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "core/pgtime.h"

struct pt_chain
{
	EVP_MD	   *md;				/* fetched once: no lookup per event */
	EVP_MD_CTX *ctx;
	pt_buf		canon;			/* scratch for canonical(ev) */
	pt_buf		values;			/* scratch for the values commitment (format 2) */
	int64_t		last_id;
	uint8_t		last_hash[PT_HASH_LEN];
};

static void
put_field(pt_buf *out, const char *s, size_t len)
{
	pt_buf_put_u32be(out, (uint32_t) len);
	pt_buf_append(out, s, len);
}

static void
put_text(pt_buf *out, pt_text t)
{
	if (t.ptr == NULL)
		pt_buf_put_u32be(out, PT_CANON_NULL);
	else
		put_field(out, t.ptr, t.len);
}

static void
put_int(pt_buf *out, int64_t v)
{
	char		tmp[24];
	char	   *p = pt_format_i64(v, tmp);

	put_field(out, p, (size_t) (tmp + sizeof(tmp) - p));
}

static void
put_lsn(pt_buf *out, pt_lsn lsn)
{
	char		tmp[PT_LSN_BUFLEN];
	int			n = pt_lsn_format(lsn, tmp);

	put_field(out, tmp, (size_t) n);
}

static void
put_texts(pt_buf *out, const pt_text *items, int n)
{
	pt_buf_put_u32be(out, (uint32_t) n);
	for (int i = 0; i < n; i++)
		put_text(out, items[i]);
}

/*
 * The bytes the values commitment covers (format 2): seal, then key, row
 * and old as fields; with with_erased (the redaction digest) the erased
 * member list after them, as unchanged is written.
 */
static void
values_bytes(const pt_event *ev, const uint8_t *seal, bool with_erased, pt_buf *out)
{
	pt_buf_append(out, (const char *) seal, PT_SEAL_LEN);
	put_text(out, ev->key);
	put_text(out, ev->row);
	put_text(out, ev->old);
	if (with_erased)
		put_texts(out, ev->erased, ev->nerased);
}

static void
digest(EVP_MD_CTX *ctx, const EVP_MD *md, const pt_buf *in, uint8_t *out)
{
	unsigned	outlen = PT_HASH_LEN;

	if (EVP_DigestInit_ex(ctx, md, NULL) != 1 ||
		EVP_DigestUpdate(ctx, in->data, in->len) != 1 ||
		EVP_DigestFinal_ex(ctx, out, &outlen) != 1)
	{
		fprintf(stderr, "pgtrail: fatal: SHA-256 failed\n");
		abort();
	}
}

/* canonical(ev); values is the values commitment in format 2, NULL in format 1. */
static void
encode(const pt_event *ev, const uint8_t *values, pt_buf *out)
{
	pt_buf_append(out, values ? PT_CANON_MAGIC2 : PT_CANON_MAGIC, strlen(PT_CANON_MAGIC));
	put_int(out, ev->id);
	put_lsn(out, ev->lsn);
	put_lsn(out, ev->commit_lsn);
	if (ev->has_xid)
		put_int(out, ev->xid);
	else
		pt_buf_put_u32be(out, PT_CANON_NULL);
	put_int(out, ev->committed_at);
	put_text(out, ev->schema_name);
	put_text(out, ev->table_name);
	if (ev->has_schema_version)
		put_int(out, ev->schema_version);
	else
		pt_buf_put_u32be(out, PT_CANON_NULL);
	put_field(out, pt_op_name(ev->op), strlen(pt_op_name(ev->op)));
	if (values)
		put_field(out, (const char *) values, PT_HASH_LEN);
	else
	{
		put_text(out, ev->key);
		put_text(out, ev->row);
		put_text(out, ev->old);
	}
	put_texts(out, ev->unchanged, ev->nunchanged);
	put_text(out, ev->actor);
	put_text(out, ev->action);
	put_text(out, ev->metadata);
}

static bool
is_format2(const pt_event *ev)
{
	return ev->seal != NULL || ev->sealed != NULL;
}

/* The values commitment of a format 2 event: sealed, or computed from its seal. */
static const uint8_t *
values_commitment(EVP_MD_CTX *ctx, const EVP_MD *md, pt_buf *scratch, const pt_event *ev, uint8_t *out)
{
	if (ev->sealed)
		return ev->sealed;
	pt_buf_reset(scratch);
	values_bytes(ev, ev->seal, false, scratch);
	digest(ctx, md, scratch, out);
	return out;
}

void
pt_canon_encode(const pt_event *ev, pt_buf *out)
{
	pt_chain   *chain;
	uint8_t		values[PT_HASH_LEN];

	if (!is_format2(ev))
	{
		encode(ev, NULL, out);
		return;
	}
	chain = pt_chain_new(0, NULL);
	encode(ev, values_commitment(chain->ctx, chain->md, &chain->values, ev, values), out);
	pt_chain_free(chain);
}

void
pt_chain_values(pt_chain *chain, const pt_event *ev, const uint8_t *seal, bool with_erased, uint8_t *out)
{
	pt_buf_reset(&chain->values);
	values_bytes(ev, seal, with_erased, &chain->values);
	digest(chain->ctx, chain->md, &chain->values, out);
}

pt_chain *
pt_chain_new(int64_t last_id, const uint8_t *last_hash)
{
	pt_chain   *chain = pt_calloc(1, sizeof(*chain));

	chain->md = EVP_MD_fetch(NULL, "SHA256", NULL);
	chain->ctx = EVP_MD_CTX_new();
	if (chain->md == NULL || chain->ctx == NULL)
	{
		fprintf(stderr, "pgtrail: fatal: OpenSSL has no SHA-256\n");
		abort();
	}
	pt_buf_init(&chain->canon);
	pt_buf_init(&chain->values);
	pt_chain_reset(chain, last_id, last_hash);
	return chain;
}

void
pt_chain_free(pt_chain *chain)
{
	if (chain == NULL)
		return;
	EVP_MD_CTX_free(chain->ctx);
	EVP_MD_free(chain->md);
	pt_buf_free(&chain->canon);
	pt_buf_free(&chain->values);
	free(chain);
}

int64_t
pt_chain_last_id(const pt_chain *chain)
{
	return chain->last_id;
}

const uint8_t *
pt_chain_last_hash(const pt_chain *chain)
{
	return chain->last_hash;
}

void
pt_chain_reset(pt_chain *chain, int64_t last_id, const uint8_t *last_hash)
{
	chain->last_id = last_id;
	if (last_hash)
		memcpy(chain->last_hash, last_hash, PT_HASH_LEN);
	else
		memset(chain->last_hash, 0, PT_HASH_LEN);
}

void
pt_chain_hash(pt_chain *chain, const uint8_t *prev, const pt_event *ev, uint8_t *out)
{
	uint8_t		values[PT_HASH_LEN];

	pt_buf_reset(&chain->canon);
	pt_buf_append(&chain->canon, (const char *) prev, PT_HASH_LEN);
	encode(ev, is_format2(ev) ? values_commitment(chain->ctx, chain->md, &chain->values, ev, values) : NULL,
		   &chain->canon);
	digest(chain->ctx, chain->md, &chain->canon, out);
}

void
pt_chain_append(pt_chain *chain, pt_event *ev)
{
	ev->id = chain->last_id + 1;
	memcpy(ev->prev_hash, chain->last_hash, PT_HASH_LEN);
	pt_chain_hash(chain, ev->prev_hash, ev, ev->hash);
	chain->last_id = ev->id;
	memcpy(chain->last_hash, ev->hash, PT_HASH_LEN);
}

bool
pt_chain_check(pt_chain *chain, const pt_event *ev, pt_err *err)
{
	uint8_t		hash[PT_HASH_LEN];

	if (ev->id != chain->last_id + 1)
	{
		pt_err_set(err, PT_ERR_INTEGRITY, "event %lld: expected id %lld",
				   (long long) ev->id, (long long) chain->last_id + 1);
		pt_err_detail(err, ev->id > chain->last_id + 1 ?
					  "events are missing before it (deleted rows or a gap in ids)" :
					  "ids are repeated or out of order");
		return false;
	}
	if (memcmp(ev->prev_hash, chain->last_hash, PT_HASH_LEN) != 0)
	{
		pt_err_set(err, PT_ERR_INTEGRITY, "event %lld: prev_hash does not match the hash of event %lld",
				   (long long) ev->id, (long long) chain->last_id);
		pt_err_detail(err, "an event before it was removed, inserted or rewritten");
		return false;
	}
	pt_chain_hash(chain, chain->last_hash, ev, hash);
	if (memcmp(hash, ev->hash, PT_HASH_LEN) != 0)
	{
		pt_err_set(err, PT_ERR_INTEGRITY, "event %lld: hash does not match its contents",
				   (long long) ev->id);
		pt_err_detail(err, "a column of this event was changed after it was written");
		return false;
	}
	chain->last_id = ev->id;
	memcpy(chain->last_hash, ev->hash, PT_HASH_LEN);
	return true;
}
