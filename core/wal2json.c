/*
 * core/wal2json.c — wal2json format-version 2 parser (see wal2json.h).
 *
 * jsmn tokenizes the line into spans (no allocation, no number conversion);
 * we then walk the tokens in order, checking the shape wal2json produces,
 * and copy each string we need into one arena, unescaping it and checking
 * that it is valid UTF-8 as we go. The arena and the token and column arrays
 * belong to the parser and are reused for every line.
 */
#include "core/wal2json.h"

#include <stdlib.h>
#include <string.h>

#define JSMN_STRICT
#define JSMN_PARENT_LINKS
#define JSMN_STATIC
#include <jsmn.h>

#include "core/hex.h"
#include "core/mem.h"
#include "core/utf8.h"
#include "core/w2j_repair.h"
#include "core/pgtime.h"

struct pt_w2j_parser
{
	jsmntok_t  *toks;
	unsigned	tokcap;
	int			ntoks;
	const char *js;				/* the line being parsed */
	size_t		len;
	char	   *arena;			/* unescaped strings live here */
	size_t		arena_cap;
	size_t		arena_used;
	pt_buf		mended;			/* the line with its type names re-escaped */
	pt_w2j_column *cols;		/* columns, identity and pk share this */
	int			colcap;
	int			colused;
	pt_err	   *err;
};

pt_w2j_parser *
pt_w2j_parser_new(void)
{
	pt_w2j_parser *p = pt_calloc(1, sizeof(*p));

	p->tokcap = 256;
	p->toks = pt_malloc(sizeof(jsmntok_t) * p->tokcap);
	p->colcap = 64;
	p->cols = pt_malloc(sizeof(pt_w2j_column) * (size_t) p->colcap);
	return p;
}

void
pt_w2j_parser_free(pt_w2j_parser *p)
{
	if (p == NULL)
		return;
	free(p->toks);
	free(p->arena);
	free(p->cols);
	pt_buf_free(&p->mended);
	free(p);
}

static bool
fail(pt_w2j_parser *p, int tok, const char *what)
{
	if (tok >= 0 && tok < p->ntoks)
		return pt_err_set(p->err, PT_ERR_CONFIG,
						  "malformed wal2json message: %s at byte %d", what, p->toks[tok].start);
	return pt_err_set(p->err, PT_ERR_CONFIG, "malformed wal2json message: %s", what);
}

/* Tokenize the whole line, growing the token array as jsmn asks for more. */
static bool
tokenize(pt_w2j_parser *p)
{
	jsmn_parser jp;
	int			r;
	size_t		end = p->len;

	jsmn_init(&jp);
	for (;;)
	{
		r = jsmn_parse(&jp, p->js, p->len, p->toks, p->tokcap);
		if (r != JSMN_ERROR_NOMEM)
			break;
		if (p->tokcap >= (1u << 28))
			return fail(p, -1, "too many JSON tokens");
		p->tokcap *= 2;
		p->toks = pt_realloc(p->toks, sizeof(jsmntok_t) * p->tokcap);
	}
	if (r == JSMN_ERROR_INVAL)
		return pt_err_set(p->err, PT_ERR_CONFIG,
						  "malformed wal2json message: invalid JSON at byte %u", jp.pos);
	if (r == JSMN_ERROR_PART || r == 0)
		return fail(p, -1, "truncated JSON");
	if (r < 0)
		return fail(p, -1, "invalid JSON");
	p->ntoks = r;
	if (p->toks[0].type != JSMN_OBJECT)
		return fail(p, 0, "expected a JSON object");
	while (end > 0 && strchr(" \t\r\n", p->js[end - 1]) != NULL)
		end--;
	if ((size_t) p->toks[0].end != end)
		return fail(p, -1, "unexpected data after the JSON object (or a NUL byte)");
	return true;
}

/* Index of the token after tok and everything nested in it. */
static int
skip(const pt_w2j_parser *p, int tok)
{
	int			end = p->toks[tok].end;
	int			i = tok + 1;

	if (p->toks[tok].type == JSMN_STRING || p->toks[tok].type == JSMN_PRIMITIVE)
		return i;
	while (i < p->ntoks && p->toks[i].start < end)
		i++;
	return i;
}

/* A value token: not itself followed by ':' (jsmn gives such a string size 1). */
static bool
is_plain_value(const pt_w2j_parser *p, int tok)
{
	return p->toks[tok].type != JSMN_STRING || p->toks[tok].size == 0;
}

static bool
tok_is(const pt_w2j_parser *p, int tok, const char *lit)
{
	size_t		n = strlen(lit);
	const jsmntok_t *t = &p->toks[tok];

	return (size_t) (t->end - t->start) == n && memcmp(p->js + t->start, lit, n) == 0;
}

static int
hex4(const char *s)
{
	int			v = 0;

	for (int i = 0; i < 4; i++)
	{
		int			d = pt_hex_digit(s[i]);

		if (d < 0)
			return -1;
		v = v * 16 + d;
	}
	return v;
}

/* Decode a \u escape at s (pointing at 'u'), maybe a surrogate pair. */
static bool
decode_u_escape(pt_w2j_parser *p, int tok, const char **sp, const char *end, char **op)
{
	const char *s = *sp;
	int			cp;

	if (end - s < 5 || (cp = hex4(s + 1)) < 0)
		return fail(p, tok, "bad \\u escape");
	s += 5;
	if (cp == 0)
		return fail(p, tok, "\\u0000 cannot be represented in PostgreSQL text");
	if (cp >= 0xDC00 && cp <= 0xDFFF)
		return fail(p, tok, "lone low surrogate \\u escape");
	if (cp >= 0xD800 && cp <= 0xDBFF)
	{
		int			lo;

		if (end - s < 6 || s[0] != '\\' || s[1] != 'u' || (lo = hex4(s + 2)) < 0 ||
			lo < 0xDC00 || lo > 0xDFFF)
			return fail(p, tok, "lone high surrogate \\u escape");
		cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
		s += 6;
	}
	*op += pt_utf8_encode((unsigned) cp, *op);
	*sp = s;
	return true;
}

/*
 * Copy string token tok into the arena, unescaped and NUL-terminated, after
 * prefix (e.g. "\\x" for bytea). The output is never longer than the input
 * plus the prefix, so the arena (sized for the whole line) always has room.
 * With raw, bytes that are not UTF-8 are kept as they are instead of
 * refused: a logical message's content is whatever a client wrote, and
 * wal2json copies it into the JSON unchecked.
 */
static bool
copy_bytes(pt_w2j_parser *p, int tok, const char *prefix, bool raw, pt_w2j_str *out)
{
	const jsmntok_t *t = &p->toks[tok];
	const char *s = p->js + t->start;
	const char *end = p->js + t->end;
	char	   *start = p->arena + p->arena_used;
	char	   *o = start;

	if (t->type != JSMN_STRING)
		return fail(p, tok, "expected a string");
	while (prefix && *prefix)
		*o++ = *prefix++;
	while (s < end)
	{
		unsigned char c = (unsigned char) *s;

		if (c == '\\')
		{
			char		e = s[1];	/* jsmn guarantees a character follows */

			s++;
			switch (e)
			{
				case '"': *o++ = '"'; s++; break;
				case '\\': *o++ = '\\'; s++; break;
				case '/': *o++ = '/'; s++; break;
				case 'b': *o++ = '\b'; s++; break;
				case 'f': *o++ = '\f'; s++; break;
				case 'n': *o++ = '\n'; s++; break;
				case 'r': *o++ = '\r'; s++; break;
				case 't': *o++ = '\t'; s++; break;
				case 'u':
					if (!decode_u_escape(p, tok, &s, end, &o))
						return false;
					break;
				default:
					return fail(p, tok, "bad escape");
			}
		}
		else if (c < 0x20)
			return fail(p, tok, "control character in a string");
		else if (c < 0x80)
			*o++ = *s++;
		else
		{
			int			n = pt_utf8_seq_len((const unsigned char *) s, (size_t) (end - s));

			if (n == 0 && raw)
				n = 1;
			else if (n == 0)
				return fail(p, tok, "invalid UTF-8 in a string");
			memcpy(o, s, (size_t) n);
			o += n;
			s += n;
		}
	}
	*o++ = '\0';
	out->ptr = start;
	out->len = (size_t) (o - start - 1);
	p->arena_used += (size_t) (o - start);
	return true;
}

static bool
copy_string(pt_w2j_parser *p, int tok, const char *prefix, pt_w2j_str *out)
{
	return copy_bytes(p, tok, prefix, false, out);
}

/* JSON number grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static bool
is_json_number(const char *s, size_t len)
{
	size_t		i = 0;

	if (i < len && s[i] == '-')
		i++;
	if (i >= len)
		return false;
	if (s[i] == '0')
		i++;
	else if (s[i] >= '1' && s[i] <= '9')
		while (i < len && s[i] >= '0' && s[i] <= '9')
			i++;
	else
		return false;
	if (i < len && s[i] == '.')
	{
		size_t		d = ++i;

		while (i < len && s[i] >= '0' && s[i] <= '9')
			i++;
		if (i == d)
			return false;
	}
	if (i < len && (s[i] == 'e' || s[i] == 'E'))
	{
		size_t		d;

		i++;
		if (i < len && (s[i] == '+' || s[i] == '-'))
			i++;
		d = i;
		while (i < len && s[i] >= '0' && s[i] <= '9')
			i++;
		if (i == d)
			return false;
	}
	return i == len;
}

typedef enum prim_kind
{
	PRIM_NUMBER,
	PRIM_TRUE,
	PRIM_FALSE,
	PRIM_NULL
} prim_kind;

static bool
primitive(pt_w2j_parser *p, int tok, prim_kind *kind)
{
	const jsmntok_t *t = &p->toks[tok];

	if (t->type != JSMN_PRIMITIVE)
		return fail(p, tok, "expected a number, true, false or null");
	if (tok_is(p, tok, "true"))
		*kind = PRIM_TRUE;
	else if (tok_is(p, tok, "false"))
		*kind = PRIM_FALSE;
	else if (tok_is(p, tok, "null"))
		*kind = PRIM_NULL;
	else if (is_json_number(p->js + t->start, (size_t) (t->end - t->start)))
		*kind = PRIM_NUMBER;
	else
		return fail(p, tok, "invalid JSON literal");
	return true;
}

/* An unsigned 32-bit integer (xid, oid, origin); null allowed when nullable. */
static bool
get_uint32(pt_w2j_parser *p, int tok, bool nullable, bool *present, uint32_t *out)
{
	const jsmntok_t *t = &p->toks[tok];
	prim_kind	kind;
	uint64_t	v = 0;

	if (!primitive(p, tok, &kind))
		return false;
	if (kind == PRIM_NULL && nullable)
	{
		*present = false;
		return true;
	}
	if (kind != PRIM_NUMBER || t->end - t->start > 10)
		return fail(p, tok, "expected an unsigned 32-bit integer");
	for (int i = t->start; i < t->end; i++)
	{
		char		c = p->js[i];

		if (c < '0' || c > '9')
			return fail(p, tok, "expected an unsigned 32-bit integer");
		v = v * 10 + (uint64_t) (c - '0');
	}
	if (v > UINT32_MAX)
		return fail(p, tok, "integer out of range");
	*out = (uint32_t) v;
	*present = true;
	return true;
}

static bool
get_bool(pt_w2j_parser *p, int tok, bool *out)
{
	prim_kind	kind;

	if (!primitive(p, tok, &kind))
		return false;
	if (kind != PRIM_TRUE && kind != PRIM_FALSE)
		return fail(p, tok, "expected true or false");
	*out = kind == PRIM_TRUE;
	return true;
}

static bool
get_lsn(pt_w2j_parser *p, int tok, bool *present, pt_lsn *out)
{
	pt_w2j_str	s;

	if (!copy_string(p, tok, NULL, &s))
		return false;
	if (!pt_lsn_parse(s.ptr, s.len, out))
		return fail(p, tok, "invalid LSN");
	*present = true;
	return true;
}

static bool
is_bytea(const pt_w2j_column *col)
{
	if (col->typeoid != 0)
		return col->typeoid == PT_BYTEAOID;
	return col->type.ptr != NULL && strcmp(col->type.ptr, "bytea") == 0;
}

static bool
check_hex(pt_w2j_parser *p, int tok, const pt_w2j_str *s)
{
	if (s->len % 2 != 0)
		return fail(p, tok, "bytea value has an odd number of hex digits");
	for (size_t i = 2; i < s->len; i++)
		if (pt_hex_digit(s->ptr[i]) < 0)
			return fail(p, tok, "bytea value is not hex");
	return true;
}

/*
 * A column value. Its JSON kind tells how wal2json wrote it: a number's bytes
 * are the value's text; true/false is a boolean; strings are the type's
 * text output, except plain bytea, whose "\x" wal2json stripped.
 */
static bool
column_value(pt_w2j_parser *p, int tok, pt_w2j_column *col)
{
	const jsmntok_t *t = &p->toks[tok];
	prim_kind	kind;

	if (t->type == JSMN_STRING)
	{
		if (!is_bytea(col))
			return copy_string(p, tok, NULL, &col->value);
		return copy_string(p, tok, "\\x", &col->value) && check_hex(p, tok, &col->value);
	}
	if (!primitive(p, tok, &kind))
		return false;
	switch (kind)
	{
		case PRIM_NULL:
			col->isnull = true;
			col->value.ptr = NULL;
			col->value.len = 0;
			return true;
		case PRIM_TRUE:
		case PRIM_FALSE:
			{
				char	   *o = p->arena + p->arena_used;

				o[0] = kind == PRIM_TRUE ? 't' : 'f';
				o[1] = '\0';
				col->value.ptr = o;
				col->value.len = 1;
				p->arena_used += 2;
				return true;
			}
		case PRIM_NUMBER:
			{
				char	   *o = p->arena + p->arena_used;
				size_t		n = (size_t) (t->end - t->start);

				memcpy(o, p->js + t->start, n);
				o[n] = '\0';
				col->value.ptr = o;
				col->value.len = n;
				p->arena_used += n + 1;
				return true;
			}
	}
	return false;
}

/*
 * One column object: {"name":..,"type":..,"typeoid":..,"value":..,...}.
 * "value" may come before "type"/"typeoid" in principle, so remember its
 * token and convert it once the whole object is read.
 */
static bool
parse_column(pt_w2j_parser *p, int tok, bool want_value, pt_w2j_column *col)
{
	int			i = tok + 1;
	int			value_tok = -1;
	bool		present;

	if (p->toks[tok].type != JSMN_OBJECT)
		return fail(p, tok, "expected a column object");
	memset(col, 0, sizeof(*col));
	col->optional = -1;
	for (int k = 0; k < p->toks[tok].size; k++)
	{
		int			key = i,
					val = i + 1;

		if (p->toks[key].type != JSMN_STRING || p->toks[key].size != 1 || val >= p->ntoks ||
			!is_plain_value(p, val))
			return fail(p, key, "expected a key");
		if (tok_is(p, key, "name"))
		{
			if (!copy_string(p, val, NULL, &col->name))
				return false;
		}
		else if (tok_is(p, key, "type"))
		{
			if (!copy_string(p, val, NULL, &col->type))
				return false;
		}
		else if (tok_is(p, key, "typeoid"))
		{
			if (!get_uint32(p, val, false, &present, &col->typeoid))
				return false;
		}
		else if (tok_is(p, key, "value"))
			value_tok = val;
		else if (tok_is(p, key, "optional"))
		{
			bool		b = false;

			if (!get_bool(p, val, &b))
				return false;
			col->optional = b ? 1 : 0;
		}
		else if (tok_is(p, key, "position"))
		{
			uint32_t	v;

			if (!get_uint32(p, val, false, &present, &v) || v > INT16_MAX)
				return fail(p, val, "bad column position");
			col->position = (int) v;
		}
		else if (tok_is(p, key, "default"))
		{
			if (p->toks[val].type == JSMN_STRING && !copy_string(p, val, NULL, &col->default_expr))
				return false;
		}
		i = skip(p, val);
	}
	if (col->name.ptr == NULL)
		return fail(p, tok, "column without \"name\"");
	if (want_value && value_tok < 0)
		return fail(p, tok, "column without \"value\"");
	if (!want_value && value_tok >= 0)
		return fail(p, tok, "unexpected \"value\" in \"pk\"");
	return value_tok < 0 || column_value(p, value_tok, col);
}

static bool
parse_columns(pt_w2j_parser *p, int tok, bool want_value, pt_w2j_columns *out)
{
	const jsmntok_t *t = &p->toks[tok];
	int			i = tok + 1;

	if (t->type != JSMN_ARRAY)
		return fail(p, tok, "expected an array of columns");
	if (out->present)
		return fail(p, tok, "duplicate column array");
	if (p->colused + t->size > p->colcap)
	{
		/* cannot realloc: earlier arrays of this line point into cols */
		return fail(p, tok, "internal: column array not reserved");
	}
	out->items = p->cols + p->colused;
	out->count = t->size;
	out->present = true;
	p->colused += t->size;
	for (int k = 0; k < t->size; k++)
	{
		if (i >= p->ntoks)
			return fail(p, tok, "truncated column array");
		if (!parse_column(p, i, want_value, &out->items[k]))
			return false;
		i = skip(p, i);
	}
	return true;
}

/* Make room before walking: arena for every string, columns for every array. */
static void
reserve(pt_w2j_parser *p)
{
	size_t		need = p->len + 3 * (size_t) p->ntoks + 16;
	int			ncols = 0;

	if (need > p->arena_cap)
	{
		free(p->arena);
		p->arena_cap = need + need / 2;
		p->arena = pt_malloc(p->arena_cap);
	}
	p->arena_used = 0;
	for (int i = 1; i < p->ntoks; i++)
		if (p->toks[i].type == JSMN_ARRAY)
			ncols += p->toks[i].size;
	if (ncols > p->colcap)
	{
		p->colcap = ncols * 2;
		p->cols = pt_realloc(p->cols, sizeof(pt_w2j_column) * (size_t) p->colcap);
	}
	p->colused = 0;
}

static bool
parse_action(pt_w2j_parser *p, int val, pt_w2j_change *out)
{
	const jsmntok_t *t = &p->toks[val];
	char		a;

	if (t->type != JSMN_STRING || t->end - t->start != 1)
		return fail(p, val, "bad \"action\"");
	a = p->js[t->start];
	if (strchr("BCIUDTM", a) == NULL)
		return fail(p, val, "unknown \"action\"");
	out->action = a;
	return true;
}

static bool
parse_timestamp(pt_w2j_parser *p, int val, pt_w2j_change *out)
{
	if (p->toks[val].type == JSMN_PRIMITIVE && tok_is(p, val, "null"))
		return true;			/* non-transactional message */
	if (!copy_string(p, val, NULL, &out->timestamp))
		return false;
	if (!pt_time_parse(out->timestamp.ptr, out->timestamp.len, &out->commit_time))
		return fail(p, val, "invalid timestamp");
	out->has_commit_time = true;
	return true;
}

static bool
parse_member(pt_w2j_parser *p, int key, int val, pt_w2j_change *out)
{
	if (tok_is(p, key, "action"))
		return parse_action(p, val, out);
	if (tok_is(p, key, "xid"))
		return get_uint32(p, val, true, &out->has_xid, &out->xid);
	if (tok_is(p, key, "timestamp"))
		return parse_timestamp(p, val, out);
	if (tok_is(p, key, "origin"))
		return get_uint32(p, val, true, &out->has_origin, &out->origin);
	if (tok_is(p, key, "lsn"))
		return get_lsn(p, val, &out->has_lsn, &out->lsn);
	if (tok_is(p, key, "nextlsn"))
		return get_lsn(p, val, &out->has_nextlsn, &out->nextlsn);
	if (tok_is(p, key, "schema"))
		return copy_string(p, val, NULL, &out->schema);
	if (tok_is(p, key, "table"))
		return copy_string(p, val, NULL, &out->table);
	if (tok_is(p, key, "columns"))
		return parse_columns(p, val, true, &out->columns);
	if (tok_is(p, key, "identity"))
		return parse_columns(p, val, true, &out->identity);
	if (tok_is(p, key, "pk"))
		return parse_columns(p, val, false, &out->pk);
	if (tok_is(p, key, "transactional"))
		return get_bool(p, val, &out->transactional);
	if (tok_is(p, key, "prefix"))
		return copy_string(p, val, NULL, &out->prefix);
	if (tok_is(p, key, "content"))
		return copy_bytes(p, val, NULL, true, &out->content);
	return true;				/* a key a later wal2json may add: ignored */
}

/* What each action must carry to be usable. */
static bool
check_required(pt_w2j_parser *p, const pt_w2j_change *out)
{
	switch (out->action)
	{
		case 0:
			return fail(p, 0, "no \"action\"");
		case 'I':
		case 'U':
			if (!out->columns.present)
				return fail(p, 0, "row change without \"columns\"");
			/* fall through */
		case 'D':
		case 'T':
			if (out->table.ptr == NULL || out->schema.ptr == NULL)
				return fail(p, 0, "change without \"schema\" and \"table\"");
			if (out->action == 'D' && !out->identity.present)
				return fail(p, 0, "delete without \"identity\"");
			break;
		case 'M':
			if (out->prefix.ptr == NULL || out->content.ptr == NULL)
				return fail(p, 0, "message without \"prefix\" and \"content\"");
			break;
		default:
			break;
	}
	return true;
}

/*
 * wal2json's one known kind of invalid JSON, a type name it did not
 * escape: tokenize the mended line instead. When it still fails (or there
 * was nothing to mend), the error is the one of the line as sent.
 */
static bool
tokenize_mended(pt_w2j_parser *p)
{
	pt_err		first = *p->err;

	if (!pt_w2j_repair(p->js, p->len, &p->mended))
		return false;
	pt_err_clear(p->err);
	p->js = p->mended.data;
	p->len = p->mended.len;
	if (tokenize(p))
		return true;
	*p->err = first;
	return false;
}

bool
pt_w2j_parse(pt_w2j_parser *p, const char *line, size_t len, pt_w2j_change *out, pt_err *err)
{
	int			i = 1;

	memset(out, 0, sizeof(*out));
	p->err = err;
	p->js = line;
	p->len = len;
	p->ntoks = 0;
	if (len > PT_W2J_MAX_LINE)
		return fail(p, -1, "line too long");
	if (!tokenize(p) && !tokenize_mended(p))
		return false;
	reserve(p);
	for (int k = 0; k < p->toks[0].size; k++)
	{
		int			key = i,
					val = i + 1;

		if (key >= p->ntoks || p->toks[key].type != JSMN_STRING ||
			p->toks[key].size != 1 || val >= p->ntoks || !is_plain_value(p, val))
			return fail(p, key < p->ntoks ? key : -1, "expected a key");
		if (!parse_member(p, key, val, out))
			return false;
		i = skip(p, val);
	}
	return check_required(p, out);
}
