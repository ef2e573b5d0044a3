/*
 * core/checkpoint.h — signed checkpoints and anchor lines.
 *
 * A checkpoint pins the chain at one event: its id, its hash, its commit
 * LSN and the time the checkpoint was made. Capture writes one every N
 * events or T seconds into the checkpoints table, signed with an Ed25519
 * key when it has one, and can append it as one JSON line to an anchor
 * file kept outside the database. pgtrail-verify checks the signatures
 * with the public key and that the chain still passes through every
 * checkpoint's hash: whoever can write the database but lacks the private
 * key cannot recompute a chain that still matches, and a cut tail still
 * misses the anchored checkpoints.
 *
 * What is signed is the text pt_checkpoint_message() makes, fixed in
 * docs/FORMAT.md so that any tool can check it.
 */
#ifndef PGTRAIL_CORE_CHECKPOINT_H
#define PGTRAIL_CORE_CHECKPOINT_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/event.h"
#include "core/lsn.h"

#define PT_SIG_LEN 64			/* Ed25519 */
#define PT_KEY_ID_LEN 16		/* hex characters */

typedef struct pt_checkpoint
{
	int64_t		event_id;
	uint8_t		hash[PT_HASH_LEN];
	pt_lsn		lsn;			/* commit LSN of the event */
	int64_t		created_at;		/* microseconds since the Unix epoch */
	bool		signed_;		/* signature and key_id are set */
	uint8_t		signature[PT_SIG_LEN];
	char		key_id[PT_KEY_ID_LEN + 1];
} pt_checkpoint;

/* The signed text of a checkpoint, appended to out (docs/FORMAT.md). */
void		pt_checkpoint_message(const pt_checkpoint *cp, pt_buf *out);

/* ---- signing (capture) ---- */

typedef struct pt_signing_key pt_signing_key;

/*
 * Load an Ed25519 private key from a PEM file (openssl genpkey -algorithm
 * ed25519). NULL with err (kind PT_ERR_CONFIG) when it cannot be read or
 * is not Ed25519. Free with pt_signing_key_free.
 */
pt_signing_key *pt_signing_key_load(const char *path, pt_err *err);
void		pt_signing_key_free(pt_signing_key *key);

/* Sign msg[0..len) with key: signature (PT_SIG_LEN bytes) and key_id (PT_KEY_ID_LEN + 1). */
bool		pt_sign_text(const pt_signing_key *key, const char *msg, size_t len, uint8_t *signature,
						 char *key_id);

/* Sign cp: sets signature, key_id and signed_. */
bool		pt_checkpoint_sign(const pt_signing_key *key, pt_checkpoint *cp, pt_err *err);

/* ---- checking (verify) ---- */

typedef struct pt_keyring pt_keyring;

/*
 * Load every Ed25519 public key in a PEM file (one or more "PUBLIC KEY"
 * blocks, so that checkpoints signed before a key rotation still check).
 * NULL with err (kind PT_ERR_CONFIG) otherwise; a private key is refused
 * with a hint to give verify only the public half. Free with
 * pt_keyring_free.
 */
pt_keyring *pt_keyring_load(const char *path, pt_err *err);
void		pt_keyring_free(pt_keyring *ring);

typedef enum pt_sign_check
{
	PT_SIGN_GOOD,
	PT_SIGN_BAD,
	PT_SIGN_UNKNOWN_KEY			/* no key of that key_id in the ring */
} pt_sign_check;

/* Check a signature of msg[0..len) made by the ring's key key_id. */
pt_sign_check pt_keyring_check(const pt_keyring *ring, const char *key_id, const char *msg, size_t len,
							   const uint8_t *signature);

/* The key ids in the ring, comma-separated, into out (for messages). */
void		pt_keyring_ids(const pt_keyring *ring, pt_buf *out);

/*
 * Check cp's signature with the ring's key of the same key_id. False with
 * err (kind PT_ERR_INTEGRITY) when it is unsigned, signed by a key not in
 * the ring, or the signature does not match.
 */
bool		pt_checkpoint_verify(const pt_keyring *ring, const pt_checkpoint *cp, pt_err *err);

/* ---- rows of the checkpoints table ---- */

/* The columns to SELECT, in the order pt_checkpoint_from_row takes them. */
#define PT_CHECKPOINT_COLUMNS "event_id, hash, lsn::text, created_at, signature, key_id"

/*
 * A checkpoint from one result row's text values (a connection from
 * pt_pq_connect: bytea as hex, times in UTC ISO), row's columns starting
 * at col as PT_CHECKPOINT_COLUMNS. False with err (PT_ERR_INTEGRITY) when
 * a value is malformed.
 */
bool		pt_checkpoint_from_row(const PGresult *res, int row, int col, pt_checkpoint *cp, pt_err *err);

/* ---- anchor lines ---- */

/* One anchor-file line for cp (JSON, ending in '\n'), appended to out. */
void		pt_checkpoint_anchor_line(const pt_checkpoint *cp, pt_buf *out);

/* Parse one anchor line (without its '\n'). False with err (PT_ERR_INTEGRITY). */
bool		pt_checkpoint_parse_anchor(const char *line, size_t len, pt_checkpoint *cp, pt_err *err);

#endif
