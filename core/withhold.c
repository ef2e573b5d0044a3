/*
 * core/withhold.c — values of configured columns kept out of the log from
 * the start (see withhold.h).
 */
#include "core/withhold.h"

#include <stdlib.h>
#include <string.h>

#include "core/erasure.h"
#include "core/mem.h"
#include "core/redact.h"

typedef struct rule
{
	char	   *schema;
	char	   *table;
	char	   *column;
} rule;

struct pt_withhold
{
	rule	   *rules;
	int			n;
	const char **columns;		/* the columns of one event's table (room for every rule) */
	pt_redacted red;
	pt_erasure_record rec;
	pt_text    *items;			/* the erased list as spans */
	int			items_cap;
	uint8_t		seal[PT_SEAL_LEN];
	uint8_t		sealed[PT_HASH_LEN];
};

/* One "schema.table.column" (len bytes) as a rule; false when it is not three names. */
static bool
parse_rule(const char *s, size_t len, rule *r)
{
	const char *dot1 = memchr(s, '.', len);
	const char *dot2 = dot1 ? memchr(dot1 + 1, '.', len - (size_t) (dot1 + 1 - s)) : NULL;

	if (dot1 == NULL || dot2 == NULL || dot1 == s || dot2 == dot1 + 1 || dot2 + 1 == s + len ||
		memchr(dot2 + 1, '.', len - (size_t) (dot2 + 1 - s)) != NULL)
		return false;
	r->schema = pt_strndup(s, (size_t) (dot1 - s));
	r->table = pt_strndup(dot1 + 1, (size_t) (dot2 - dot1 - 1));
	r->column = pt_strndup(dot2 + 1, len - (size_t) (dot2 + 1 - s));
	return true;
}

pt_withhold *
pt_withhold_new(const char *list, pt_err *err)
{
	pt_withhold *wh = pt_calloc(1, sizeof(*wh));
	const char *p = list ? list : "";

	pt_redacted_init(&wh->red);
	pt_record_init(&wh->rec);
	while (*p)
	{
		size_t		len;

		p += strspn(p, " ,");
		len = strcspn(p, ",");
		while (len > 0 && p[len - 1] == ' ')
			len--;
		if (len == 0)
			break;
		wh->rules = pt_realloc(wh->rules, (size_t) (wh->n + 1) * sizeof(rule));
		if (!parse_rule(p, len, &wh->rules[wh->n]))
		{
			pt_err_set(err, PT_ERR_CONFIG, "[capture] withhold: \"%.*s\" is not schema.table.column", (int) len, p);
			pt_err_hint(err, "list the columns to keep out of the log, e.g. withhold = shop.customers.email, shop.customers.phone");
			pt_withhold_free(wh);
			return NULL;
		}
		wh->n++;
		wh->columns = pt_realloc(wh->columns, (size_t) wh->n * sizeof(char *));
		p += len;
		p += strcspn(p, ",");
	}
	return wh;
}

void
pt_withhold_free(pt_withhold *wh)
{
	if (wh == NULL)
		return;
	for (int i = 0; i < wh->n; i++)
	{
		free(wh->rules[i].schema);
		free(wh->rules[i].table);
		free(wh->rules[i].column);
	}
	free(wh->rules);
	free(wh->columns);
	free(wh->items);
	pt_redacted_free(&wh->red);
	pt_record_free(&wh->rec);
	free(wh);
}

static bool
same(pt_text t, const char *s)
{
	return t.ptr != NULL && t.len == strlen(s) && memcmp(t.ptr, s, t.len) == 0;
}

/* Redact ev's members named by the rules of its table into wh->red (values counts them). */
static bool
redact_rules(pt_withhold *wh, const pt_event *ev, pt_err *err)
{
	int			n = 0;

	wh->red.values = 0;
	for (int i = 0; i < wh->n; i++)
		if (same(ev->schema_name, wh->rules[i].schema) && same(ev->table_name, wh->rules[i].table))
			wh->columns[n++] = wh->rules[i].column;
	return n == 0 || pt_redact_event(&wh->red, ev, wh->columns, n, err);
}

bool
pt_withhold_event(pt_withhold *wh, pt_chain *chain, pt_event *ev, const uint8_t *seal2, pt_err *err)
{
	uint8_t		redacted[PT_HASH_LEN];

	if (wh->n == 0 || ev->seal == NULL ||
		(ev->op != PT_OP_INSERT && ev->op != PT_OP_UPDATE && ev->op != PT_OP_DELETE && ev->op != PT_OP_SNAPSHOT))
		return true;
	if (!redact_rules(wh, ev, err))
		return false;
	if (wh->red.values == 0)
		return true;
	pt_chain_values(chain, ev, ev->seal, false, wh->sealed);
	if (wh->red.erased.n > wh->items_cap)
	{
		wh->items_cap = wh->red.erased.n;
		wh->items = pt_realloc(wh->items, (size_t) wh->items_cap * sizeof(pt_text));
	}
	pt_redacted_apply(&wh->red, ev, wh->items);
	memcpy(wh->seal, seal2, PT_SEAL_LEN);
	ev->seal = wh->seal;
	ev->sealed = wh->sealed;
	pt_chain_values(chain, ev, ev->seal, true, redacted);
	pt_record_add(&wh->rec, ev->id, &wh->red.erased, wh->red.values, redacted);
	return true;
}

bool
pt_withhold_pending(const pt_withhold *wh)
{
	return wh->rec.nevents > 0;
}

void
pt_withhold_record(pt_withhold *wh, pt_buf *row)
{
	pt_record_finish(&wh->rec, PT_WITHHOLD_REQUEST, "kept out of the log by configuration",
					 "{\"by\":\"capture\"}", row);
	pt_withhold_reset(wh);
}

void
pt_withhold_reset(pt_withhold *wh)
{
	pt_buf_reset(&wh->rec.events);
	wh->rec.nevents = 0;
	wh->rec.values = 0;
}
