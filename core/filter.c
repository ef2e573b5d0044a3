/*
 * core/filter.c — table include/exclude patterns (see filter.h).
 */
#include "core/filter.h"

#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/mem.h"

typedef struct pattern
{
	char	   *schema;			/* NULL = any schema */
	char	   *table;
} pattern;

typedef struct plist
{
	pattern    *items;
	int			n;
} plist;

struct pt_filter
{
	plist		include;
	plist		exclude;
	char	   *store_schema;
};

/* Read one name part at *p (quoted or not) up to '.', ',' or the end. */
static bool
read_part(const char **p, pt_buf *out)
{
	const char *s = *p;

	pt_buf_reset(out);
	while (*s == ' ')
		s++;
	if (*s == '"')
	{
		for (s++; *s; s++)
		{
			if (*s == '"' && s[1] == '"')
				pt_buf_putc(out, *s++);
			else if (*s == '"')
				break;
			else
				pt_buf_putc(out, *s);
		}
		if (*s++ != '"')
			return false;
	}
	else
		while (*s && *s != '.' && *s != ',' && *s != ' ')
			pt_buf_putc(out, *s++);
	while (*s == ' ')
		s++;
	*p = s;
	return out->len > 0;
}

static bool
parse_list(const char *text, plist *list, const char *what, pt_err *err)
{
	const char *p = text;
	pt_buf		a = PT_BUF_INIT,
				b = PT_BUF_INIT;
	bool		ok = true;

	while (ok && p && *p)
	{
		pattern		pat = {NULL, NULL};

		ok = read_part(&p, &a);
		if (ok && *p == '.')
		{
			p++;
			ok = read_part(&p, &b);
			pat.schema = ok ? pt_strdup(a.data) : NULL;
			pat.table = ok ? pt_strdup(b.data) : NULL;
		}
		else if (ok)
			pat.table = pt_strdup(a.data);
		if (ok && *p && *p != ',')
			ok = false;
		if (*p == ',')
			p++;
		if (!ok)
		{
			free(pat.schema);
			free(pat.table);
		}
		else
		{
			list->items = pt_realloc(list->items, sizeof(pattern) * (size_t) (list->n + 1));
			list->items[list->n++] = pat;
		}
	}
	if (!ok)
	{
		pt_err_set(err, PT_ERR_CONFIG, "invalid table pattern in %s: \"%s\"", what, text);
		pt_err_hint(err, "use comma-separated schema.table patterns with * wildcards, "
					"e.g. \"public.*, billing.invoices\"; quote names with dots: \"my.schema\".t");
	}
	pt_buf_free(&a);
	pt_buf_free(&b);
	return ok;
}

pt_filter *
pt_filter_new(const char *include, const char *exclude, const char *store_schema, pt_err *err)
{
	pt_filter  *f = pt_calloc(1, sizeof(*f));

	f->store_schema = pt_strdup(store_schema);
	if (!parse_list(include, &f->include, "tables", err) ||
		!parse_list(exclude, &f->exclude, "exclude_tables", err))
	{
		pt_filter_free(f);
		return NULL;
	}
	return f;
}

static void
free_list(plist *l)
{
	for (int i = 0; i < l->n; i++)
	{
		free(l->items[i].schema);
		free(l->items[i].table);
	}
	free(l->items);
}

void
pt_filter_free(pt_filter *f)
{
	if (f == NULL)
		return;
	free_list(&f->include);
	free_list(&f->exclude);
	free(f->store_schema);
	free(f);
}

/* Glob with '*' only, over s[0..len). */
static bool
glob(const char *pat, const char *s, size_t len)
{
	const char *star = NULL;
	size_t		i = 0,
				mark = 0;

	while (i < len)
	{
		if (*pat == '*')
		{
			star = pat++;
			mark = i;
		}
		else if (*pat && *pat == s[i])
		{
			pat++;
			i++;
		}
		else if (star)
		{
			pat = star + 1;
			i = ++mark;
		}
		else
			return false;
	}
	while (*pat == '*')
		pat++;
	return *pat == '\0';
}

static bool
list_match(const plist *l, const char *schema, size_t slen, const char *table, size_t tlen)
{
	for (int i = 0; i < l->n; i++)
		if ((l->items[i].schema == NULL || glob(l->items[i].schema, schema, slen)) &&
			glob(l->items[i].table, table, tlen))
			return true;
	return false;
}

bool
pt_filter_match(const pt_filter *f, const char *schema, size_t schema_len, const char *table, size_t table_len)
{
	if (strlen(f->store_schema) == schema_len && memcmp(f->store_schema, schema, schema_len) == 0)
		return false;
	if (f->include.n > 0 && !list_match(&f->include, schema, schema_len, table, table_len))
		return false;
	return !list_match(&f->exclude, schema, schema_len, table, table_len);
}

/* Is name already among the n first of names? */
static bool
listed(const char **names, int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (strcmp(names[i], name) == 0)
			return true;
	return false;
}

const char **
pt_filter_schemas(const pt_filter *f, int *n)
{
	const char **out;

	*n = 0;
	if (f->include.n == 0)
		return NULL;
	for (int i = 0; i < f->include.n; i++)
		if (f->include.items[i].schema == NULL || strchr(f->include.items[i].schema, '*') != NULL)
			return NULL;
	out = pt_calloc((size_t) f->include.n + 1, sizeof(char *));
	for (int i = 0; i < f->include.n; i++)
	{
		const char *schema = f->include.items[i].schema;

		if (strcmp(schema, f->store_schema) != 0 && !listed(out, *n, schema))
			out[(*n)++] = schema;
	}
	return out;
}
