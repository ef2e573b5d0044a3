/*
 * core/store_seals.c — per-batch seal keys, kept until their batch commits
 * (see store_seals.h).
 */
#include "core/store_seals.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/hex.h"
#include "core/mem.h"
#include "core/pq.h"

/* The key of the batch at first_event_id: the one kept for it, else the new one given. */
#define KEEP_SQL \
	"INSERT INTO %s.seal_keys AS k (slot, first_event_id, key) VALUES ($1, $2, decode($3, 'hex')) " \
	"ON CONFLICT (slot) DO UPDATE SET " \
	" key = CASE WHEN k.first_event_id = excluded.first_event_id THEN k.key ELSE excluded.key END, " \
	" first_event_id = excluded.first_event_id RETURNING encode(key, 'hex')"
#define FORGET_SQL "DELETE FROM %s.seal_keys WHERE slot = $1"

struct pt_seals
{
	PGconn	   *conn;			/* borrowed */
	char	   *slot;
	char	   *keep_sql;
	char	   *forget_sql;
	bool		keep;
	bool		kept;			/* this batch's key is in seal_keys */
	EVP_MD	   *md;
	EVP_MD_CTX *ctx;
	uint8_t		key[PT_SEAL_KEY_LEN];
	uint8_t		seal[PT_HASH_LEN];	/* the last seal given (its first PT_SEAL_LEN bytes) */
};

pt_seals *
pt_seals_new(PGconn *conn, const char *qschema, const char *slot, pt_err *err)
{
	pt_seals   *s = pt_calloc(1, sizeof(*s));
	pt_buf		sql = PT_BUF_INIT;

	(void) err;
	s->conn = conn;
	s->slot = pt_strdup(slot);
	pt_buf_printf(&sql, KEEP_SQL, qschema);
	s->keep_sql = sql.data;
	pt_buf_init(&sql);
	pt_buf_printf(&sql, FORGET_SQL, qschema);
	s->forget_sql = sql.data;
	s->md = EVP_MD_fetch(NULL, "SHA256", NULL);
	s->ctx = EVP_MD_CTX_new();
	if (s->md == NULL || s->ctx == NULL)
	{
		fprintf(stderr, "pgtrail: fatal: OpenSSL has no SHA-256\n");
		abort();
	}
	pt_seals_random(s);
	return s;
}

void
pt_seals_free(pt_seals *s)
{
	if (s == NULL)
		return;
	free(s->slot);
	free(s->keep_sql);
	free(s->forget_sql);
	EVP_MD_CTX_free(s->ctx);
	EVP_MD_free(s->md);
	free(s);
}

void
pt_seals_keep(pt_seals *s, bool on)
{
	s->keep = on;
}

void
pt_seals_random(pt_seals *s)
{
	if (RAND_bytes(s->key, sizeof(s->key)) != 1)
	{
		fprintf(stderr, "pgtrail: fatal: OpenSSL could not draw random bytes for seals\n");
		abort();
	}
	s->kept = false;
}

bool
pt_seals_batch(pt_seals *s, int64_t first_id, pt_err *err)
{
	char		id[24], hex[2 * PT_SEAL_KEY_LEN + 1];
	const char *params[3] = {s->slot, id, hex};
	PGresult   *res;
	bool		ok;

	pt_seals_random(s);
	if (!s->keep)
		return true;
	snprintf(id, sizeof(id), "%lld", (long long) first_id);
	pt_hex_encode(s->key, sizeof(s->key), hex);
	res = pt_pq_exec_params(s->conn, s->keep_sql, 3, params, PGRES_TUPLES_OK, 1, 1, err);
	if (res == NULL)
		return false;
	ok = pt_hex_decode(PQgetvalue(res, 0, 0), sizeof(s->key), s->key) ||
		pt_err_set(err, PT_ERR_INTEGRITY, "the seal key kept for slot \"%s\" is not %d bytes", s->slot,
				   PT_SEAL_KEY_LEN);
	PQclear(res);
	s->kept = ok;
	return ok;
}

const uint8_t *
pt_seals_of(pt_seals *s, int64_t id)
{
	uint8_t		be[8];
	unsigned	len = PT_HASH_LEN;

	for (int i = 0; i < 8; i++)
		be[i] = (uint8_t) ((uint64_t) id >> (56 - 8 * i));
	if (EVP_DigestInit_ex(s->ctx, s->md, NULL) != 1 ||
		EVP_DigestUpdate(s->ctx, s->key, sizeof(s->key)) != 1 ||
		EVP_DigestUpdate(s->ctx, be, sizeof(be)) != 1 ||
		EVP_DigestFinal_ex(s->ctx, s->seal, &len) != 1)
	{
		fprintf(stderr, "pgtrail: fatal: SHA-256 failed\n");
		abort();
	}
	return s->seal;
}

bool
pt_seals_committing(pt_seals *s, pt_err *err)
{
	const char *params[1] = {s->slot};
	PGresult   *res;

	if (!s->kept)
		return true;
	res = pt_pq_exec_params(s->conn, s->forget_sql, 1, params, PGRES_COMMAND_OK, PT_PQ_ANY, PT_PQ_ANY, err);
	PQclear(res);
	return res != NULL;
}
