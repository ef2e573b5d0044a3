/*
 * replay/mapping.c — parsing and applying mapping rules (see mapping.h).
 */
#include "replay/mapping.h"

#include <ctype.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/mem.h"

typedef enum rule_kind
{
	RULE_TABLE,
	RULE_COLUMN,
	RULE_DROP
} rule_kind;

typedef struct rule
{
	rule_kind	kind;
	char	   *schema;
	char	   *table;
	char	   *column;			/* RULE_COLUMN, RULE_DROP */
	char	   *to_schema;		/* RULE_TABLE */
	char	   *to;				/* new table or column name */
	int			vmin,
				vmax;
} rule;

struct pt_mapping
{
	int			n;
	rule	   *rules;
};

typedef struct cursor
{
	const char *s;
	const char *text;			/* the whole rule, for messages */
	pt_err	   *err;
} cursor;

static void
skip_space(cursor *c)
{
	while (*c->s == ' ' || *c->s == '\t' || *c->s == '\n' || *c->s == '\r')
		c->s++;
}

static bool
bad(cursor *c, const char *what)
{
	pt_err_set(c->err, PT_ERR_CONFIG, "[replay] map: %s in rule \"%s\"", what, c->text);
	pt_err_hint(c->err, "rules: 'table S.T = S.NEW', 'column S.T.C = NEW', 'drop S.T.C', "
				"each optionally ending in @V or @V1-V2; separate rules with ';'");
	return false;
}

/* One name: "quoted" (with "" for a quote) or bare up to . = @ ; or space. */
static char *
name(cursor *c)
{
	pt_buf		out = PT_BUF_INIT;

	skip_space(c);
	if (*c->s == '"')
	{
		for (c->s++; *c->s; c->s++)
		{
			if (*c->s == '"' && c->s[1] == '"')
				c->s++;
			else if (*c->s == '"')
				break;
			pt_buf_putc(&out, *c->s);
		}
		if (*c->s != '"')
		{
			pt_buf_free(&out);
			bad(c, "unterminated quoted name");
			return NULL;
		}
		c->s++;
	}
	else
		while (*c->s && !strchr(".=@; \t\r\n", *c->s))
			pt_buf_putc(&out, *c->s++);
	if (out.len == 0)
	{
		pt_buf_free(&out);
		bad(c, "a name is missing");
		return NULL;
	}
	return out.data;
}

/* n dot-separated names into parts[]. */
static bool
qualified(cursor *c, int n, char **parts)
{
	for (int i = 0; i < n; i++)
	{
		if (i > 0)
		{
			if (*c->s != '.')
				return bad(c, n == 2 ? "expected schema.table" : "expected schema.table.column");
			c->s++;
		}
		if ((parts[i] = name(c)) == NULL)
			return false;
	}
	return true;
}

static bool
expect_char(cursor *c, char ch, const char *what)
{
	skip_space(c);
	if (*c->s != ch)
		return bad(c, what);
	c->s++;
	return true;
}

static bool
versions(cursor *c, rule *r)
{
	char	   *end;

	r->vmin = 1;
	r->vmax = INT_MAX;
	skip_space(c);
	if (*c->s != '@')
		return true;
	c->s++;
	r->vmin = r->vmax = (int) strtol(c->s, &end, 10);
	if (end == c->s || r->vmin < 1)
		return bad(c, "expected a version number after @");
	c->s = end;
	if (*c->s == '-')
	{
		r->vmax = (int) strtol(c->s + 1, &end, 10);
		if (end == c->s + 1 || r->vmax < r->vmin)
			return bad(c, "expected @V1-V2 with V1 <= V2");
		c->s = end;
	}
	return true;
}

static bool
keyword(cursor *c, const char *kw)
{
	size_t		n = strlen(kw);

	skip_space(c);
	if (strncasecmp(c->s, kw, n) != 0 || !isspace((unsigned char) c->s[n]))
		return false;
	c->s += n;
	return true;
}

static bool
parse_rule(cursor *c, rule *r)
{
	char	   *parts[3] = {NULL, NULL, NULL};
	char	   *to[2] = {NULL, NULL};

	if (keyword(c, "table"))
	{
		r->kind = RULE_TABLE;
		if (!qualified(c, 2, parts) || !expect_char(c, '=', "expected '=' after the table") || !qualified(c, 2, to))
			goto fail;
	}
	else if (keyword(c, "column"))
	{
		r->kind = RULE_COLUMN;
		if (!qualified(c, 3, parts) || !expect_char(c, '=', "expected '=' after the column") ||
			(to[1] = name(c)) == NULL)
			goto fail;
	}
	else if (keyword(c, "drop"))
	{
		r->kind = RULE_DROP;
		if (!qualified(c, 3, parts))
			goto fail;
	}
	else
	{
		bad(c, "a rule starts with table, column or drop");
		goto fail;
	}
	r->schema = parts[0];
	r->table = parts[1];
	r->column = parts[2];
	r->to_schema = to[0];
	r->to = to[1];
	if (!versions(c, r))
		return false;
	skip_space(c);
	return *c->s == '\0' || bad(c, "unexpected text at the end");
fail:
	for (int i = 0; i < 3; i++)
		free(parts[i]);
	free(to[0]);
	free(to[1]);
	return false;
}

static void
free_rule(rule *r)
{
	free(r->schema);
	free(r->table);
	free(r->column);
	free(r->to_schema);
	free(r->to);
}

pt_mapping *
pt_mapping_parse(const char *rules, pt_err *err)
{
	pt_mapping *m = pt_calloc(1, sizeof(*m));
	char	   *copy = pt_strdup(rules ? rules : "");
	bool		quoted = false;

	/* ';' inside a quoted name is not a separator: split by hand */
	for (char *p = copy, *start = copy;; p++)
	{
		if (*p == '"')
			quoted = !quoted;
		if (*p == '\0' || (*p == ';' && !quoted))
		{
			char		end = *p;
			cursor		c;
			rule		r;

			*p = '\0';
			c = (cursor) {start, start, err};
			skip_space(&c);
			if (*c.s)
			{
				memset(&r, 0, sizeof(r));
				if (!parse_rule(&c, &r))
				{
					free_rule(&r);
					free(copy);
					pt_mapping_free(m);
					return NULL;
				}
				m->rules = pt_realloc(m->rules, sizeof(rule) * (size_t) (m->n + 1));
				m->rules[m->n++] = r;
			}
			if (end == '\0')
				break;
			start = p + 1;
		}
	}
	free(copy);
	return m;
}

void
pt_mapping_free(pt_mapping *m)
{
	if (m == NULL)
		return;
	for (int i = 0; i < m->n; i++)
		free_rule(&m->rules[i]);
	free(m->rules);
	free(m);
}

int
pt_mapping_count(const pt_mapping *m)
{
	return m ? m->n : 0;
}

static bool
applies(const rule *r, rule_kind kind, const char *schema, const char *table, int version)
{
	return r->kind == kind && version >= r->vmin && version <= r->vmax &&
		strcmp(r->schema, schema) == 0 && strcmp(r->table, table) == 0;
}

void
pt_mapping_table(const pt_mapping *m, const char *schema, const char *table, int version,
				 const char **to_schema, const char **to_table)
{
	*to_schema = schema;
	*to_table = table;
	for (int i = 0; m && i < m->n; i++)
		if (applies(&m->rules[i], RULE_TABLE, schema, table, version))
		{
			*to_schema = m->rules[i].to_schema;
			*to_table = m->rules[i].to;
			return;
		}
}

void
pt_mapping_column(const pt_mapping *m, const char *schema, const char *table, int version,
				  const char *col, size_t len, const char **renamed, bool *dropped)
{
	*renamed = NULL;
	*dropped = false;
	for (int i = 0; m && i < m->n; i++)
	{
		const rule *r = &m->rules[i];

		if ((r->kind == RULE_COLUMN || r->kind == RULE_DROP) && applies(r, r->kind, schema, table, version) &&
			strlen(r->column) == len && memcmp(r->column, col, len) == 0)
		{
			*dropped = r->kind == RULE_DROP;
			*renamed = r->kind == RULE_COLUMN ? r->to : NULL;
			return;
		}
	}
}
