/*
 * capture/dbz_default.c — column defaults as Debezium's schemas carry them
 * (see dbz_default.h). The literal is rendered by dbz_value.c like any
 * value of the column.
 */
#include "capture/dbz_default.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

/* What a function default stands for, by type OID; NULL: the type has no default parser. */
static const char *
placeholder(uint32_t oid, const pt_dbz_type *t)
{
	switch (oid)
	{
		case 16: return "false";
		case 1560: return "00";
		case 1562: return "0";
		case 21: case 23: case 20: return "0";
		case 700: case 701: case 1700: return "0.0";
		case 25: case 1042: case 1043: case 142: return "";
		case 114: case 3802: return "{}";
		case 2950: return "00000000-0000-0000-0000-000000000000";
		case 1082: return "1970-01-01";
		case 1083: return "00:00:00";
		case 1114: return "1970-01-01 00:00:00";
		case 1184: return "1970-01-01 00:00:00+00";
		case 1186: return "00:00:00";
		default: return t->kind == PT_DBZ_ENUM && !t->array ? "" : NULL;
	}
}

/* "name(" at the start, after an optional "(": a function call. */
static bool
is_function_call(const char *expr)
{
	const char *p = expr + (expr[0] == '(');
	const char *start = p;

	while (isalnum((unsigned char) *p) || *p == '_' || *p == '.')
		p++;
	return p > start && *p == '(' && strchr(p, ')') != NULL;
}

static bool
is_current_datetime(const char *expr)
{
	static const char *const names[] = {"current_timestamp", "current_time", "current_date", "localtime",
	"localtimestamp"};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcasecmp(expr, names[i]) == 0)
			return true;
	return false;
}

/* The literal an expression holds, into text (reset); false for NULL::type. */
static bool
literal(const char *expr, const char *zero, pt_buf *text)
{
	const char *q = strchr(expr, '\'');

	pt_buf_reset(text);
	if (is_function_call(expr) || is_current_datetime(expr))
	{
		pt_buf_puts(text, zero);
		return true;
	}
	if (q == NULL)
	{
		if (strncmp(expr, "NULL::", 6) == 0)
			return false;
		pt_buf_puts(text, expr);
		return true;
	}
	/* the first quoted literal, '' as ' */
	for (q++; *q != '\0'; q++)
	{
		if (*q == '\'' && q[1] != '\'')
			break;
		if (*q == '\'')
			q++;
		pt_buf_putc(text, *q);
	}
	return true;
}

bool
pt_dbz_default_json(const char *expr, uint32_t oid, const pt_dbz_type *t, const pt_dbz_modes *m,
					pt_dbz_scratch *sc, pt_buf *out)
{
	const char *zero = placeholder(oid, t);
	pt_buf		text = PT_BUF_INIT;
	bool		ok;

	if (expr == NULL || zero == NULL || t->array)
		return false;
	if (t->kind == PT_DBZ_NUMERIC && t->length <= 0 && m->decimal == PT_DBZ_DECIMAL_PRECISE)
		return false;			/* a VariableScaleDecimal struct: Debezium drops it */
	ok = literal(expr, zero, &text);
	if (ok && t->kind == PT_DBZ_BOOL)
		pt_buf_puts(out, strcasecmp(text.data ? text.data : "", "true") == 0 ? "true" : "false");
	else if (ok)
		ok = pt_dbz_put_value(out, t, m, text.data ? text.data : "", text.len, sc);
	pt_buf_free(&text);
	return ok;
}
