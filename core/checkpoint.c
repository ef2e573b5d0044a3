/*
 * core/checkpoint.c — checkpoint text, Ed25519 signatures (OpenSSL) and
 * anchor lines (see checkpoint.h; the bytes are fixed in docs/FORMAT.md).
 */
#include "core/checkpoint.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>

#include "core/hex.h"
#include "core/json.h"
#include "core/jsonobj.h"
#include "core/mem.h"
#include "core/pgtime.h"

#define MAX_KEYS 64

struct pt_signing_key
{
	EVP_PKEY   *pkey;
	char		key_id[PT_KEY_ID_LEN + 1];
};

struct pt_keyring
{
	int			n;
	EVP_PKEY   *pkeys[MAX_KEYS];
	char		key_ids[MAX_KEYS][PT_KEY_ID_LEN + 1];
};

void
pt_checkpoint_message(const pt_checkpoint *cp, pt_buf *out)
{
	char		hex[PT_HASH_LEN * 2 + 1];
	char		lsn[PT_LSN_BUFLEN];
	char		when[PT_TIME_BUFLEN];

	pt_hex_encode(cp->hash, PT_HASH_LEN, hex);
	pt_lsn_format(cp->lsn, lsn);
	pt_time_format(cp->created_at, when);
	pt_buf_printf(out, "pgtrail checkpoint 1\nevent_id %lld\nhash %s\nlsn %s\ncreated_at %s\n",
				  (long long) cp->event_id, hex, lsn, when);
}

/* key id: hex of the first 8 bytes of SHA-256 of the raw 32-byte public key. */
static bool
key_id_of(EVP_PKEY *pkey, char *out)
{
	uint8_t		raw[64];
	size_t		rawlen = sizeof(raw);
	uint8_t		digest[SHA256_DIGEST_LENGTH];

	if (EVP_PKEY_get_raw_public_key(pkey, raw, &rawlen) != 1)
		return false;
	SHA256(raw, rawlen, digest);
	pt_hex_encode(digest, PT_KEY_ID_LEN / 2, out);
	return true;
}

pt_signing_key *
pt_signing_key_load(const char *path, pt_err *err)
{
	FILE	   *f = fopen(path, "r");
	EVP_PKEY   *pkey;
	pt_signing_key *key;

	if (f == NULL)
	{
		pt_err_set(err, PT_ERR_CONFIG, "could not open signing key \"%s\": %m", path);
		pt_err_hint(err, "make one with: openssl genpkey -algorithm ed25519 -out %s", path);
		return NULL;
	}
	pkey = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	if (pkey == NULL || EVP_PKEY_get_base_id(pkey) != EVP_PKEY_ED25519)
	{
		EVP_PKEY_free(pkey);
		pt_err_set(err, PT_ERR_CONFIG, "signing key \"%s\" is not an Ed25519 private key in PEM", path);
		pt_err_hint(err, "make one with: openssl genpkey -algorithm ed25519 -out FILE");
		return NULL;
	}
	key = pt_calloc(1, sizeof(*key));
	key->pkey = pkey;
	if (!key_id_of(pkey, key->key_id))
	{
		pt_signing_key_free(key);
		pt_err_set(err, PT_ERR_CONFIG, "could not read the public half of signing key \"%s\"", path);
		return NULL;
	}
	return key;
}

void
pt_signing_key_free(pt_signing_key *key)
{
	if (key == NULL)
		return;
	EVP_PKEY_free(key->pkey);
	free(key);
}

bool
pt_sign_text(const pt_signing_key *key, const char *msg, size_t len, uint8_t *signature, char *key_id)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	size_t		siglen = PT_SIG_LEN;
	bool		ok;

	ok = ctx != NULL &&
		EVP_DigestSignInit(ctx, NULL, NULL, NULL, key->pkey) == 1 &&
		EVP_DigestSign(ctx, signature, &siglen, (const unsigned char *) msg, len) == 1 &&
		siglen == PT_SIG_LEN;
	EVP_MD_CTX_free(ctx);
	if (ok)
		memcpy(key_id, key->key_id, PT_KEY_ID_LEN + 1);
	return ok;
}

bool
pt_checkpoint_sign(const pt_signing_key *key, pt_checkpoint *cp, pt_err *err)
{
	pt_buf		msg = PT_BUF_INIT;
	bool		ok;

	pt_checkpoint_message(cp, &msg);
	ok = pt_sign_text(key, msg.data, msg.len, cp->signature, cp->key_id);
	pt_buf_free(&msg);
	if (!ok)
		return pt_err_set(err, PT_ERR_RUNTIME, "could not sign the checkpoint at event %lld",
						  (long long) cp->event_id);
	cp->signed_ = true;
	return true;
}

/* Add the PEM block's public key to ring; false with err when it is not one we take. */
static bool
add_public_key(pt_keyring *ring, const char *path, const char *name,
			   const unsigned char *data, long len, pt_err *err)
{
	const unsigned char *p = data;
	EVP_PKEY   *pkey;

	if (strstr(name, "PRIVATE KEY") != NULL)
	{
		pt_err_set(err, PT_ERR_CONFIG, "\"%s\" holds a private key", path);
		pt_err_hint(err, "give pgtrail-verify only the public key: openssl pkey -in PRIVATE.pem -pubout -out public.pem");
		return false;
	}
	if (strcmp(name, "PUBLIC KEY") != 0)
		return pt_err_set(err, PT_ERR_CONFIG, "\"%s\" holds a \"%s\" block, not a PUBLIC KEY", path, name);
	pkey = d2i_PUBKEY(NULL, &p, len);
	if (pkey == NULL || EVP_PKEY_get_base_id(pkey) != EVP_PKEY_ED25519)
	{
		EVP_PKEY_free(pkey);
		return pt_err_set(err, PT_ERR_CONFIG, "a public key in \"%s\" is not Ed25519", path);
	}
	if (ring->n == MAX_KEYS || !key_id_of(pkey, ring->key_ids[ring->n]))
	{
		EVP_PKEY_free(pkey);
		return pt_err_set(err, PT_ERR_CONFIG, "\"%s\": more than %d keys or an unreadable key", path, MAX_KEYS);
	}
	ring->pkeys[ring->n++] = pkey;
	return true;
}

pt_keyring *
pt_keyring_load(const char *path, pt_err *err)
{
	FILE	   *f = fopen(path, "r");
	pt_keyring *ring;
	char	   *name = NULL;
	char	   *header = NULL;
	unsigned char *data = NULL;
	long		len;
	bool		ok = true;

	if (f == NULL)
	{
		pt_err_set(err, PT_ERR_CONFIG, "could not open public key \"%s\": %m", path);
		return NULL;
	}
	ring = pt_calloc(1, sizeof(*ring));
	while (ok && PEM_read(f, &name, &header, &data, &len) == 1)
	{
		ok = add_public_key(ring, path, name, data, len, err);
		OPENSSL_free(name);
		OPENSSL_free(header);
		OPENSSL_free(data);
	}
	fclose(f);
	if (ok && ring->n == 0)
	{
		ok = pt_err_set(err, PT_ERR_CONFIG, "no public key found in \"%s\"", path);
		pt_err_hint(err, "make it from the signing key: openssl pkey -in PRIVATE.pem -pubout -out %s", path);
	}
	if (!ok)
	{
		pt_keyring_free(ring);
		return NULL;
	}
	return ring;
}

void
pt_keyring_free(pt_keyring *ring)
{
	if (ring == NULL)
		return;
	for (int i = 0; i < ring->n; i++)
		EVP_PKEY_free(ring->pkeys[i]);
	free(ring);
}

void
pt_keyring_ids(const pt_keyring *ring, pt_buf *out)
{
	for (int i = 0; i < ring->n; i++)
		pt_buf_printf(out, "%s%s", i ? ", " : "", ring->key_ids[i]);
}

pt_sign_check
pt_keyring_check(const pt_keyring *ring, const char *key_id, const char *msg, size_t len,
				 const uint8_t *signature)
{
	EVP_PKEY   *pkey = NULL;
	EVP_MD_CTX *ctx;
	bool		ok;

	for (int i = 0; i < ring->n && pkey == NULL; i++)
		if (strcmp(ring->key_ids[i], key_id) == 0)
			pkey = ring->pkeys[i];
	if (pkey == NULL)
		return PT_SIGN_UNKNOWN_KEY;
	ctx = EVP_MD_CTX_new();
	ok = ctx != NULL &&
		EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, pkey) == 1 &&
		EVP_DigestVerify(ctx, signature, PT_SIG_LEN, (const unsigned char *) msg, len) == 1;
	EVP_MD_CTX_free(ctx);
	return ok ? PT_SIGN_GOOD : PT_SIGN_BAD;
}

bool
pt_checkpoint_verify(const pt_keyring *ring, const pt_checkpoint *cp, pt_err *err)
{
	pt_buf		msg = PT_BUF_INIT;
	pt_sign_check check;

	if (!cp->signed_)
		return pt_err_set(err, PT_ERR_INTEGRITY, "checkpoint at event %lld is not signed",
						  (long long) cp->event_id);
	pt_checkpoint_message(cp, &msg);
	check = pt_keyring_check(ring, cp->key_id, msg.data, msg.len, cp->signature);
	pt_buf_reset(&msg);
	if (check == PT_SIGN_UNKNOWN_KEY)
	{
		pt_keyring_ids(ring, &msg);
		pt_err_set(err, PT_ERR_INTEGRITY, "checkpoint at event %lld is signed by key \"%s\", not by a given public key",
				   (long long) cp->event_id, cp->key_id);
		pt_err_detail(err, "the given keys are: %s", msg.data);
	}
	else if (check == PT_SIGN_BAD)
	{
		pt_err_set(err, PT_ERR_INTEGRITY, "checkpoint at event %lld: bad signature", (long long) cp->event_id);
		pt_err_detail(err, "its event id, hash, LSN or time was changed after it was signed, or the signature was forged");
	}
	pt_buf_free(&msg);
	return check == PT_SIGN_GOOD;
}

bool
pt_checkpoint_from_row(const PGresult *res, int row, int col, pt_checkpoint *cp, pt_err *err)
{
	const char *lsn = PQgetvalue(res, row, col + 2);
	const char *when = PQgetvalue(res, row, col + 3);
	char	   *end;
	bool		ok;

	memset(cp, 0, sizeof(*cp));
	cp->event_id = strtoll(PQgetvalue(res, row, col), &end, 10);
	ok = *end == '\0' && pt_hex_decode_bytea(PQgetvalue(res, row, col + 1), PT_HASH_LEN, cp->hash) &&
		pt_lsn_parse(lsn, strlen(lsn), &cp->lsn) && pt_time_parse(when, strlen(when), &cp->created_at);
	if (ok && !PQgetisnull(res, row, col + 4))
	{
		ok = pt_hex_decode_bytea(PQgetvalue(res, row, col + 4), PT_SIG_LEN, cp->signature) &&
			strlen(PQgetvalue(res, row, col + 5)) == PT_KEY_ID_LEN;
		if (ok)
			memcpy(cp->key_id, PQgetvalue(res, row, col + 5), PT_KEY_ID_LEN + 1);
		cp->signed_ = ok;
	}
	if (!ok)
		pt_err_set(err, PT_ERR_INTEGRITY, "checkpoint row for event %s is malformed", PQgetvalue(res, row, col));
	return ok;
}

void
pt_checkpoint_anchor_line(const pt_checkpoint *cp, pt_buf *out)
{
	char		hex[PT_SIG_LEN * 2 + 1];
	char		lsn[PT_LSN_BUFLEN];
	char		when[PT_TIME_BUFLEN];

	pt_hex_encode(cp->hash, PT_HASH_LEN, hex);
	pt_lsn_format(cp->lsn, lsn);
	pt_time_format(cp->created_at, when);
	pt_buf_printf(out, "{\"event_id\":%lld,\"hash\":\"%s\",\"lsn\":\"%s\",\"created_at\":\"%s\",",
				  (long long) cp->event_id, hex, lsn, when);
	if (cp->signed_)
	{
		pt_hex_encode(cp->signature, PT_SIG_LEN, hex);
		pt_buf_printf(out, "\"signature\":\"%s\",\"key_id\":\"%s\"}\n", hex, cp->key_id);
	}
	else
		pt_buf_puts(out, "\"signature\":null,\"key_id\":null}\n");
}

/* The member's value when it is a string of exactly len bytes (len 0: any). */
static const pt_text *
member(const pt_jsonobj *o, const char *name, size_t len)
{
	int			i = pt_jsonobj_find(o, name, strlen(name));

	if (i < 0 || o->values[i].ptr == NULL || o->kinds[i] != PT_JSON_STRING)
		return NULL;
	if (len && o->values[i].len != len)
		return NULL;
	return &o->values[i];
}

/* signature and key_id both present and JSON null (an unsigned checkpoint) */
static bool
unsigned_fields(const pt_jsonobj *o)
{
	int			sig = pt_jsonobj_find(o, "signature", 9);
	int			key_id = pt_jsonobj_find(o, "key_id", 6);

	return sig >= 0 && key_id >= 0 && o->values[sig].ptr == NULL && o->values[key_id].ptr == NULL;
}

static bool
parse_id(const pt_jsonobj *o, int64_t *id)
{
	int			i = pt_jsonobj_find(o, "event_id", 8);
	char		tmp[24];
	char	   *end;

	if (i < 0 || o->kinds[i] != PT_JSON_RAW || o->values[i].len >= sizeof(tmp))
		return false;
	memcpy(tmp, o->values[i].ptr, o->values[i].len);
	tmp[o->values[i].len] = '\0';
	*id = strtoll(tmp, &end, 10);
	return *end == '\0' && *id > 0;
}

bool
pt_checkpoint_parse_anchor(const char *line, size_t len, pt_checkpoint *cp, pt_err *err)
{
	pt_jsonobj	o;
	const pt_text *hash, *lsn, *when, *sig, *key_id;
	bool		ok;

	memset(cp, 0, sizeof(*cp));
	pt_jsonobj_init(&o);
	ok = pt_jsonobj_parse(&o, line, len, err);
	if (ok)
	{
		hash = member(&o, "hash", PT_HASH_LEN * 2);
		lsn = member(&o, "lsn", 0);
		when = member(&o, "created_at", 0);
		sig = member(&o, "signature", PT_SIG_LEN * 2);
		key_id = member(&o, "key_id", PT_KEY_ID_LEN);
		ok = parse_id(&o, &cp->event_id) && hash && lsn && when &&
			pt_hex_decode(hash->ptr, PT_HASH_LEN, cp->hash) &&
			pt_lsn_parse(lsn->ptr, lsn->len, &cp->lsn) &&
			pt_time_parse(when->ptr, when->len, &cp->created_at);
		if (ok && sig && key_id)
		{
			ok = pt_hex_decode(sig->ptr, PT_SIG_LEN, cp->signature);
			memcpy(cp->key_id, key_id->ptr, PT_KEY_ID_LEN);
			cp->signed_ = true;
		}
		else if (ok)
			ok = unsigned_fields(&o);	/* both null; anything else is a broken line */
		if (!ok)
			pt_err_set(err, PT_ERR_INTEGRITY, "not an anchor line: needs event_id, hash (64 hex), lsn and created_at");
	}
	pt_jsonobj_free(&o);
	return ok;
}
