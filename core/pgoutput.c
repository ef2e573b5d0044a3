/*
 * core/pgoutput.c — pgoutput's logical replication messages into changes
 * (see pgoutput.h).
 *
 * Integers on the wire are big-endian; strings are NUL-terminated; a tuple
 * is Int16 n, then per column a kind byte: 'n' null, 'u' unchanged TOAST,
 * 't' Int32 length + text, 'b' Int32 length + binary (never asked for).
 * Relations live in an open-addressing table keyed by OID; a change finds
 * its relation there and its values are copied into one arena reserved
 * for the whole message first, so the pointers handed out never move.
 */
#include "core/pgoutput.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/mem.h"

typedef struct pgo_column
{
	char	   *name;
	size_t		name_len;
	char	   *type;			/* the name a schema version records */
	size_t		type_len;
	uint32_t	typeoid;
	bool		key;			/* in the replica identity key */
} pgo_column;

typedef struct pgo_relation
{
	uint32_t	relid;			/* 0: free slot */
	char	   *schema;
	size_t		schema_len;
	char	   *table;
	size_t		table_len;
	char		identity;		/* 'd' default, 'n' nothing, 'f' full, 'i' index */
	int			ncols;
	int			nkey;
	pgo_column *cols;
	pt_w2j_column *pk;			/* the key columns as a change's pk (no values), made once */
} pgo_relation;

/* A column list handed out: its items, reused across messages. */
typedef struct pgo_list
{
	pt_w2j_column *items;
	int			cap;
} pgo_list;

struct pt_pgo_decoder
{
	pt_pgo_type_name_fn type_name;
	void	   *type_arg;
	pgo_relation *rels;			/* open addressing; capacity a power of two */
	int			rel_cap;
	int			rel_count;
	pgo_list	new_row;
	pgo_list	old_row;
	pt_w2j_change *changes;		/* one per table of a TRUNCATE */
	int			change_cap;
	pt_buf		arena;			/* value and content bytes of the message */
	uint32_t	xid;			/* of the last Begin: Commit does not repeat it */
};

/* ---- reading the wire ---- */

typedef struct reader
{
	const unsigned char *p;
	const unsigned char *end;
	char		kind;			/* the message's type byte, for errors */
	pt_err	   *err;
	bool		ok;
} reader;

static bool
short_read(reader *r, const char *what)
{
	if (r->ok)
		pt_err_set(r->err, PT_ERR_CONFIG, "malformed pgoutput message '%c': %s cut short", r->kind, what);
	r->ok = false;
	return false;
}

static uint64_t
get_uint(reader *r, int bytes, const char *what)
{
	uint64_t	v = 0;

	if (!r->ok || r->end - r->p < bytes)
		return short_read(r, what), 0;
	for (int i = 0; i < bytes; i++)
		v = (v << 8) | *r->p++;
	return v;
}

static uint8_t
get_u8(reader *r, const char *what)
{
	return (uint8_t) get_uint(r, 1, what);
}

static uint32_t
get_u32(reader *r, const char *what)
{
	return (uint32_t) get_uint(r, 4, what);
}

static uint64_t
get_u64(reader *r, const char *what)
{
	return get_uint(r, 8, what);
}

/* A NUL-terminated string in the message: *s points into it. */
static bool
get_cstr(reader *r, const char **s, size_t *len, const char *what)
{
	const unsigned char *nul;

	if (!r->ok)
		return false;
	nul = memchr(r->p, '\0', (size_t) (r->end - r->p));
	if (nul == NULL)
		return short_read(r, what);
	*s = (const char *) r->p;
	*len = (size_t) (nul - r->p);
	r->p = nul + 1;
	return true;
}

/* Int32 length, then that many bytes: *s points into the message. */
static bool
get_counted(reader *r, const char **s, size_t *len, const char *what)
{
	uint32_t	n = get_u32(r, what);

	if (!r->ok || (size_t) (r->end - r->p) < n)
		return short_read(r, what);
	*s = (const char *) r->p;
	*len = n;
	r->p += n;
	return true;
}

static bool bad(reader *r, const char *fmt,...) PT_PRINTF(2, 3);

/* Malformed: "malformed pgoutput message 'U': <what>". */
static bool
bad(reader *r, const char *fmt,...)
{
	char		what[200];
	va_list		ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	pt_err_set(r->err, PT_ERR_CONFIG, "malformed pgoutput message '%c': %s", r->kind, what);
	r->ok = false;
	return false;
}

/*
 * A TimestampTz (microseconds since 2000-01-01), shifted to the Unix epoch.
 * PostgreSQL's own range ends in 294276 AD; a value past it could not be
 * shifted without overflow, so it is malformed, not wrapped.
 */
static int64_t
get_timestamp(reader *r, const char *what)
{
	int64_t		since_2000 = (int64_t) get_u64(r, what);

	if (since_2000 > INT64_MAX - PT_PG_EPOCH_OFFSET_US ||
		since_2000 < INT64_MIN + PT_PG_EPOCH_OFFSET_US)
		return bad(r, "%s %" PRId64 " is outside PostgreSQL's timestamp range", what, since_2000), 0;
	return since_2000 + PT_PG_EPOCH_OFFSET_US;
}

/* ---- relations ---- */

static void
relation_clear(pgo_relation *rel)
{
	for (int i = 0; i < rel->ncols; i++)
	{
		free(rel->cols[i].name);
		free(rel->cols[i].type);
	}
	free(rel->cols);
	free(rel->pk);
	free(rel->schema);
	free(rel->table);
	memset(rel, 0, sizeof *rel);
}

static pgo_relation *
slot_of(pgo_relation *rels, int cap, uint32_t relid)
{
	uint32_t	i = (relid * UINT32_C(2654435761)) & (uint32_t) (cap - 1);

	while (rels[i].relid != 0 && rels[i].relid != relid)
		i = (i + 1) & (uint32_t) (cap - 1);
	return &rels[i];
}

/* Room for one more relation: the table is kept at most half full. */
static void
grow_relations(pt_pgo_decoder *d)
{
	pgo_relation *old = d->rels;
	int			old_cap = d->rel_cap;

	if (2 * (d->rel_count + 1) <= d->rel_cap)
		return;
	d->rel_cap = old_cap ? 2 * old_cap : 64;
	d->rels = pt_calloc((size_t) d->rel_cap, sizeof(pgo_relation));
	for (int i = 0; i < old_cap; i++)
		if (old[i].relid != 0)
			*slot_of(d->rels, d->rel_cap, old[i].relid) = old[i];
	free(old);
}

static pgo_relation *
find_relation(pt_pgo_decoder *d, reader *r)
{
	uint32_t	relid = get_u32(r, "relation OID");
	pgo_relation *rel;

	if (!r->ok)
		return NULL;
	rel = relid != 0 && d->rel_cap ? slot_of(d->rels, d->rel_cap, relid) : NULL;
	if (rel == NULL || rel->relid == 0)
		return bad(r, "relation %u was not described by a Relation message before", relid), NULL;
	return rel;
}

static bool
read_column(pt_pgo_decoder *d, reader *r, pgo_column *col)
{
	const char *name;
	const char *type;
	size_t		len;
	uint8_t		flags = get_u8(r, "column flags");
	int32_t		typmod;

	if (!get_cstr(r, &name, &len, "column name"))
		return false;
	col->name = pt_strndup(name, len);
	col->name_len = len;
	col->typeoid = get_u32(r, "column type");
	typmod = (int32_t) get_u32(r, "column typmod");
	col->key = (flags & 1) != 0;
	if (!r->ok || !d->type_name(d->type_arg, col->typeoid, typmod, &type, r->err))
	{
		r->ok = false;
		return false;
	}
	col->type = pt_strndup(type, strlen(type));
	col->type_len = strlen(type);
	return true;
}

static pt_w2j_column
column_of(const pgo_column *col)
{
	return (pt_w2j_column) {
		.name = {col->name, col->name_len},
		.type = {col->type, col->type_len},
		.typeoid = col->typeoid,
		.optional = -1,
	};
}

/* The relation's key columns, counted and listed once as a change's pk. */
static void
key_columns(pgo_relation *rel)
{
	rel->pk = pt_calloc((size_t) rel->ncols + 1, sizeof(pt_w2j_column));
	for (int i = 0; i < rel->ncols; i++)
		if (rel->cols[i].key)
			rel->pk[rel->nkey++] = column_of(&rel->cols[i]);
}

/* R: Int32 relid, namespace, name, Int8 replica identity, Int16 n, n columns. */
static bool
on_relation(pt_pgo_decoder *d, reader *r)
{
	pgo_relation rel = {0};
	pgo_relation *at;
	const char *s;
	size_t		len;
	bool		ok;

	rel.relid = get_u32(r, "relation OID");
	/* the namespace is sent empty for pg_catalog */
	if (get_cstr(r, &s, &len, "namespace"))
		rel.schema = len ? pt_strndup(s, len) : pt_strndup("pg_catalog", strlen("pg_catalog"));
	if (get_cstr(r, &s, &len, "relation name"))
		rel.table = pt_strndup(s, len);
	rel.schema_len = rel.schema ? strlen(rel.schema) : 0;
	rel.table_len = rel.table ? len : 0;
	rel.identity = (char) get_u8(r, "replica identity");
	rel.ncols = (int) get_uint(r, 2, "column count");
	rel.cols = pt_calloc((size_t) rel.ncols + 1, sizeof(pgo_column));
	ok = r->ok && rel.relid != 0;
	for (int i = 0; ok && i < rel.ncols; i++)
		ok = read_column(d, r, &rel.cols[i]);
	if (ok)
		key_columns(&rel);
	if (!ok)
	{
		if (r->ok)
			bad(r, "a Relation message for OID %u", rel.relid);
		relation_clear(&rel);
		return false;
	}
	grow_relations(d);
	at = slot_of(d->rels, d->rel_cap, rel.relid);

	if (at->relid == 0)
		d->rel_count++;
	relation_clear(at);
	*at = rel;
	return true;
}

/* ---- tuples ---- */

static pt_w2j_column *
list_room(pgo_list *l, int n)
{
	if (l->cap < n)
	{
		l->cap = n;
		l->items = pt_realloc(l->items, sizeof(pt_w2j_column) * (size_t) n);
	}
	return l->items;
}

/*
 * Bytes of the message copied into the arena with a NUL after them. The
 * arena was reserved for the whole message, so it never moves while the
 * message is decoded and earlier pointers stay valid.
 */
static pt_w2j_str
arena_copy(pt_pgo_decoder *d, const char *s, size_t len)
{
	const char *at = d->arena.data + d->arena.len;

	pt_buf_append(&d->arena, s, len);
	pt_buf_putc(&d->arena, '\0');
	return (pt_w2j_str) {at, len};
}

/* One column's value; *keep false for an unchanged TOAST value. */
static bool
read_value(pt_pgo_decoder *d, reader *r, pt_w2j_column *out, bool *keep)
{
	uint8_t		kind = get_u8(r, "value kind");
	const char *s;
	size_t		len;

	*keep = kind != 'u';
	if (kind == 'n')
	{
		out->isnull = true;
		out->value = (pt_w2j_str) {NULL, 0};
		return true;
	}
	if (kind == 'u' || !r->ok)
		return r->ok;
	if (kind == 'b')
		return bad(r, "a binary value (capture asks for text: binary must be off)");
	if (kind != 't')
		return bad(r, "unknown value kind 0x%02x", kind);
	if (!get_counted(r, &s, &len, "value"))
		return false;
	out->isnull = false;
	out->value = arena_copy(d, s, len);
	return true;
}

/* TupleData into list: every column sent, or the key columns only. */
static bool
read_tuple(pt_pgo_decoder *d, reader *r, const pgo_relation *rel, bool key_only, pgo_list *list,
		   pt_w2j_columns *out)
{
	int			n = (int) get_uint(r, 2, "tuple column count");
	pt_w2j_column *items = list_room(list, rel->ncols + 1);
	int			count = 0;

	if (r->ok && n != rel->ncols)
		return bad(r, "a tuple of %u columns for a relation described with another number", (uint32_t) n);
	for (int i = 0; r->ok && i < n; i++)
	{
		bool		keep;

		items[count] = column_of(&rel->cols[i]);
		if (read_value(d, r, &items[count], &keep) && keep && (!key_only || rel->cols[i].key))
			count++;
	}
	*out = (pt_w2j_columns) {items, count, true};
	return r->ok;
}

/*
 * The key columns of a row already read (wal2json's identity when no old
 * key was logged). The row's columns are the relation's in order, some
 * left out (unchanged TOAST): one walk over both.
 */
static void
key_of(const pgo_relation *rel, const pt_w2j_columns *row, pgo_list *list, pt_w2j_columns *out)
{
	pt_w2j_column *items = list_room(list, rel->ncols + 1);
	int			count = 0;
	int			k = 0;

	for (int i = 0; i < row->count; i++)
	{
		while (k < rel->ncols && rel->cols[k].name != row->items[i].name.ptr)
			k++;
		if (k < rel->ncols && rel->cols[k].key)
			items[count++] = row->items[i];
	}
	*out = (pt_w2j_columns) {items, count, true};
}

/*
 * Under REPLICA IDENTITY DEFAULT the key columns are the primary key:
 * given; otherwise not said. The replica identity itself is said, and
 * under USING INDEX the index's columns.
 */
static void
primary_key(const pgo_relation *rel, pt_w2j_change *ch)
{
	if (rel->identity == 'd')
		ch->pk = (pt_w2j_columns) {rel->pk, rel->nkey, true};
	else
		ch->pk = (pt_w2j_columns) {NULL, 0, false};
	ch->replident = rel->identity;
	if (rel->identity == 'i')
		ch->ident_key = (pt_w2j_columns) {rel->pk, rel->nkey, true};
}

/* ---- messages ---- */

static pt_w2j_change *
one_change(pt_pgo_decoder *d, char action, pt_lsn lsn)
{
	if (d->change_cap < 1)
	{
		d->change_cap = 4;
		d->changes = pt_realloc(d->changes, sizeof(pt_w2j_change) * (size_t) d->change_cap);
	}
	memset(d->changes, 0, sizeof(pt_w2j_change));
	d->changes[0].action = action;
	d->changes[0].has_lsn = true;
	d->changes[0].lsn = lsn;
	return d->changes;
}

static void
name_table(pt_w2j_change *ch, const pgo_relation *rel)
{
	ch->schema = (pt_w2j_str) {rel->schema, rel->schema_len};
	ch->table = (pt_w2j_str) {rel->table, rel->table_len};
}

/* B: Int64 final (commit) LSN, Int64 commit time, Int32 xid. */
static bool
on_begin(pt_pgo_decoder *d, reader *r, pt_lsn lsn)
{
	pt_w2j_change *ch = one_change(d, 'B', lsn);

	ch->lsn = get_u64(r, "commit LSN");
	ch->commit_time = get_timestamp(r, "commit time");
	ch->has_commit_time = true;
	ch->xid = d->xid = get_u32(r, "xid");
	ch->has_xid = true;
	return r->ok;
}

/* C: Int8 flags, Int64 commit LSN, Int64 end LSN, Int64 commit time. */
static bool
on_commit(pt_pgo_decoder *d, reader *r, pt_lsn lsn)
{
	pt_w2j_change *ch = one_change(d, 'C', lsn);

	(void) get_u8(r, "flags");
	ch->lsn = get_u64(r, "commit LSN");
	ch->nextlsn = get_u64(r, "end LSN");
	ch->has_nextlsn = true;
	ch->commit_time = get_timestamp(r, "commit time");
	ch->has_commit_time = true;
	ch->xid = d->xid;
	ch->has_xid = true;
	return r->ok;
}

/* I: Int32 relid, 'N', TupleData. */
static bool
on_insert(pt_pgo_decoder *d, reader *r, pt_lsn lsn)
{
	pt_w2j_change *ch = one_change(d, 'I', lsn);
	const pgo_relation *rel = find_relation(d, r);

	if (rel == NULL)
		return false;
	if (get_u8(r, "tuple kind") != 'N' && r->ok)
		return bad(r, "an INSERT without its new row");
	name_table(ch, rel);
	primary_key(rel, ch);
	return read_tuple(d, r, rel, false, &d->new_row, &ch->columns);
}

/* The old row or key: 'O' all sent columns, 'K' the key columns. */
static bool
read_old(pt_pgo_decoder *d, reader *r, const pgo_relation *rel, uint8_t kind, pt_w2j_change *ch)
{
	if (kind != 'O' && kind != 'K')
		return bad(r, "unknown tuple kind 0x%02x", kind);
	return read_tuple(d, r, rel, kind == 'K', &d->old_row, &ch->identity);
}

/* U: Int32 relid, optional 'K'/'O' + TupleData, 'N' + TupleData. */
static bool
on_update(pt_pgo_decoder *d, reader *r, pt_lsn lsn)
{
	pt_w2j_change *ch = one_change(d, 'U', lsn);
	const pgo_relation *rel = find_relation(d, r);
	uint8_t		kind;

	if (rel == NULL)
		return false;
	name_table(ch, rel);
	primary_key(rel, ch);
	kind = get_u8(r, "tuple kind");
	if (r->ok && kind != 'N' && (!read_old(d, r, rel, kind, ch) || (kind = get_u8(r, "tuple kind")) != 'N'))
		return r->ok ? bad(r, "an UPDATE without its new row") : false;
	if (!read_tuple(d, r, rel, false, &d->new_row, &ch->columns))
		return false;
	if (!ch->identity.present)
		key_of(rel, &ch->columns, &d->old_row, &ch->identity);
	return true;
}

/* D: Int32 relid, 'K'/'O' + TupleData. */
static bool
on_delete(pt_pgo_decoder *d, reader *r, pt_lsn lsn)
{
	pt_w2j_change *ch = one_change(d, 'D', lsn);
	const pgo_relation *rel = find_relation(d, r);

	if (rel == NULL)
		return false;
	name_table(ch, rel);
	primary_key(rel, ch);
	return read_old(d, r, rel, get_u8(r, "tuple kind"), ch);
}

/* T: Int32 n, Int8 options, n x Int32 relid: one change per table. */
static bool
on_truncate(pt_pgo_decoder *d, reader *r, pt_lsn lsn, int *count)
{
	uint32_t	n = get_u32(r, "relation count");

	(void) get_u8(r, "options");
	if (!r->ok || (size_t) (r->end - r->p) < (size_t) n * 4)
		return short_read(r, "relation list");
	if (d->change_cap < (int) n)
	{
		d->change_cap = (int) n;
		d->changes = pt_realloc(d->changes, sizeof(pt_w2j_change) * n);
	}
	for (uint32_t i = 0; i < n; i++)
	{
		const pgo_relation *rel = find_relation(d, r);

		if (rel == NULL)
			return false;
		d->changes[i] = (pt_w2j_change) {.action = 'T', .has_lsn = true, .lsn = lsn};
		name_table(&d->changes[i], rel);
	}
	*count = (int) n;
	return true;
}

/* M: Int8 flags (1 transactional), Int64 LSN, prefix, Int32 length + content. */
static bool
on_message(pt_pgo_decoder *d, reader *r, pt_lsn lsn)
{
	pt_w2j_change *ch = one_change(d, 'M', lsn);
	const char *s;
	size_t		len;

	ch->transactional = (get_u8(r, "flags") & 1) != 0;
	ch->lsn = get_u64(r, "message LSN");
	if (!get_cstr(r, &s, &len, "prefix"))
		return false;
	ch->prefix = arena_copy(d, s, len);
	if (!get_counted(r, &s, &len, "content"))
		return false;
	ch->content = arena_copy(d, s, len);
	return true;
}

/* Y: a type's OID and name; names come from the catalog by OID instead. O: the origin. */
static bool
on_ignored(reader *r)
{
	(void) r;
	return true;
}

static bool
dispatch(pt_pgo_decoder *d, reader *r, pt_lsn lsn, int *count)
{
	*count = 1;
	switch (r->kind)
	{
		case 'B':
			return on_begin(d, r, lsn);
		case 'C':
			return on_commit(d, r, lsn);
		case 'I':
			return on_insert(d, r, lsn);
		case 'U':
			return on_update(d, r, lsn);
		case 'D':
			return on_delete(d, r, lsn);
		case 'T':
			return on_truncate(d, r, lsn, count);
		case 'M':
			return on_message(d, r, lsn);
	}
	*count = 0;
	if (r->kind == 'R')
		return on_relation(d, r);
	if (r->kind == 'Y' || r->kind == 'O')
		return on_ignored(r);
	pt_err_set(r->err, PT_ERR_CONFIG, "pgoutput message '%c' (0x%02x) is not one capture asked for", r->kind,
			   (unsigned char) r->kind);
	pt_err_hint(r->err, "capture starts pgoutput without streaming and two-phase decoding; "
				"is another client's option set on the slot?");
	return false;
}

bool
pt_pgo_decode(pt_pgo_decoder *d, const char *msg, size_t len, pt_lsn lsn, const pt_w2j_change **out, int *count,
			  pt_err *err)
{
	reader		r = {(const unsigned char *) msg + 1, (const unsigned char *) msg + len, 0, err, true};

	*out = NULL;
	*count = 0;
	if (len == 0)
		return pt_err_set(err, PT_ERR_CONFIG, "empty pgoutput message");
	r.kind = msg[0];
	/* every value (and a NUL each) fits in the message's own length */
	pt_buf_reset(&d->arena);
	pt_buf_reserve(&d->arena, len + 2);
	if (!dispatch(d, &r, lsn, count))
		return *count = 0, false;
	*out = d->changes;
	return true;
}

pt_pgo_decoder *
pt_pgo_new(pt_pgo_type_name_fn type_name, void *arg)
{
	pt_pgo_decoder *d = pt_calloc(1, sizeof(pt_pgo_decoder));

	d->type_name = type_name;
	d->type_arg = arg;
	pt_buf_init(&d->arena);
	return d;
}

void
pt_pgo_free(pt_pgo_decoder *d)
{
	if (d == NULL)
		return;
	for (int i = 0; i < d->rel_cap; i++)
		relation_clear(&d->rels[i]);
	free(d->rels);
	free(d->new_row.items);
	free(d->old_row.items);
	free(d->changes);
	pt_buf_free(&d->arena);
	free(d);
}
