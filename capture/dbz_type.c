/*
 * capture/dbz_type.c — column types as Debezium's kinds (see dbz_type.h).
 *
 * The tables follow Debezium's PostgresValueConverter: which built-in OIDs
 * it maps to which Connect type, and which arrays it leaves out.
 */
#include "capture/dbz_type.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

typedef struct oid_kind
{
	uint32_t	oid;
	pt_dbz_kind kind;
} oid_kind;

static const oid_kind scalars[] = {
	{16, PT_DBZ_BOOL}, {17, PT_DBZ_BYTEA}, {18, PT_DBZ_STRING}, {19, PT_DBZ_NULL_STRING},
	{20, PT_DBZ_INT64}, {21, PT_DBZ_INT16}, {23, PT_DBZ_INT32}, {25, PT_DBZ_STRING},
	{26, PT_DBZ_INT64}, {114, PT_DBZ_JSON}, {142, PT_DBZ_XML}, {650, PT_DBZ_STRING},
	{700, PT_DBZ_FLOAT32}, {701, PT_DBZ_FLOAT64}, {774, PT_DBZ_STRING}, {790, PT_DBZ_MONEY},
	{829, PT_DBZ_STRING}, {869, PT_DBZ_STRING}, {1042, PT_DBZ_STRING}, {1043, PT_DBZ_STRING},
	{1082, PT_DBZ_DATE}, {1083, PT_DBZ_TIME}, {1114, PT_DBZ_TIMESTAMP}, {1184, PT_DBZ_TIMESTAMPTZ},
	{1186, PT_DBZ_INTERVAL}, {1266, PT_DBZ_TIMETZ}, {1560, PT_DBZ_BIT}, {1562, PT_DBZ_BIT},
	{1700, PT_DBZ_NUMERIC}, {2950, PT_DBZ_UUID}, {3614, PT_DBZ_TSVECTOR}, {3802, PT_DBZ_JSON},
	{3904, PT_DBZ_STRING}, {3906, PT_DBZ_STRING}, {3908, PT_DBZ_STRING}, {3910, PT_DBZ_STRING},
	{3912, PT_DBZ_STRING}, {3926, PT_DBZ_STRING},
	/* left out by Debezium unless include.unknown.datatypes (not offered) */
	{600, PT_DBZ_POINT}, {601, PT_DBZ_LSEG}, {602, PT_DBZ_PATH}, {603, PT_DBZ_BOX},
	{604, PT_DBZ_POLYGON}, {628, PT_DBZ_LINE}, {718, PT_DBZ_CIRCLE}, {3615, PT_DBZ_OMITTED},
	{3220, PT_DBZ_OMITTED}, {4072, PT_DBZ_OMITTED},
};

/* Array types and their elements; element 0: an array Debezium leaves out. */
typedef struct array_of
{
	uint32_t	oid;
	uint32_t	elem;
} array_of;

static const array_of arrays[] = {
	{1000, 16}, {1001, 17}, {1002, 18}, {1005, 21}, {1007, 23}, {1009, 25}, {1028, 26},
	{199, 114}, {651, 650}, {1021, 700}, {1022, 701}, {775, 774}, {1040, 829}, {1041, 869},
	{1014, 1042}, {1015, 1043}, {1182, 1082}, {1183, 1083}, {1115, 1114}, {1185, 1184},
	{1270, 1266}, {1231, 1700}, {2951, 2950}, {3643, 3614}, {3807, 3802}, {3905, 3904},
	{3907, 3906}, {3909, 3908}, {3911, 3910}, {3913, 3912}, {3927, 3926}, {1016, 20},
	/* money[], name[], interval[], varbit[], bit[], xml[], the geometric arrays ...: left out */
	{791, 0}, {1003, 0}, {1187, 0}, {1563, 0}, {1561, 0}, {143, 0}, {1017, 0}, {1018, 0},
	{1019, 0}, {1020, 0}, {1027, 0}, {629, 0}, {719, 0}, {2201, 0},
};

static bool
scalar_kind(uint32_t oid, pt_dbz_kind *kind)
{
	for (size_t i = 0; i < sizeof(scalars) / sizeof(scalars[0]); i++)
		if (scalars[i].oid == oid)
		{
			*kind = scalars[i].kind;
			return true;
		}
	return false;
}

void
pt_dbz_modes_default(pt_dbz_modes *m)
{
	memset(m, 0, sizeof(*m));
	m->money_digits = 2;
}

static bool
pick(const char *value, const char *const *names, int n, int *out)
{
	for (int i = 0; i < n; i++)
		if (strcmp(value, names[i]) == 0)
		{
			*out = i;
			return true;
		}
	return false;
}

bool
pt_dbz_modes_set(pt_dbz_modes *m, const char *name, const char *value)
{
	static const char *const decimal[] = {"precise", "string", "double"};
	static const char *const time[] = {"adaptive", "adaptive_time_microseconds", "connect", "isostring"};
	static const char *const binary[] = {"bytes", "base64", "hex"};
	static const char *const interval[] = {"numeric", "string"};
	static const char *const hstore[] = {"json", "map"};
	int			v;

	if (strcmp(name, "decimal.handling.mode") == 0 && pick(value, decimal, 3, &v))
		m->decimal = (pt_dbz_decimal_mode) v;
	else if (strcmp(name, "time.precision.mode") == 0 && pick(value, time, 4, &v))
		m->time = (pt_dbz_time_mode) v;
	else if (strcmp(name, "binary.handling.mode") == 0 && pick(value, binary, 3, &v))
		m->binary = (pt_dbz_binary_mode) v;
	else if (strcmp(name, "interval.handling.mode") == 0 && pick(value, interval, 2, &v))
		m->interval_string = v == 1;
	else if (strcmp(name, "hstore.handling.mode") == 0 && pick(value, hstore, 2, &v))
		m->hstore_map = v == 1;
	else
		return false;
	return true;
}

static bool
is_time_kind(pt_dbz_kind k)
{
	return k == PT_DBZ_TIME || k == PT_DBZ_TIMETZ || k == PT_DBZ_TIMESTAMP || k == PT_DBZ_TIMESTAMPTZ;
}

/* Length and scale before any typmod: a column of the type without one. */
static void
unmodified(pt_dbz_type *t, uint32_t oid)
{
	t->length = -1;
	t->scale = is_time_kind(t->kind) ? 6 : -1;
	if (t->kind == PT_DBZ_BIT)
		t->length = oid == 1560 ? 1 : INT_MAX;
}

/* "(a)" or "(a,b)" after the type's name, if any. */
static int
name_typmod(const char *name, int *a, int *b)
{
	const char *paren = name ? strchr(name, '(') : NULL;
	char	   *end;

	if (paren == NULL)
		return 0;
	*a = (int) strtol(paren + 1, &end, 10);
	if (*end != ',')
		return 1;
	*b = (int) strtol(end + 1, NULL, 10);
	return 2;
}

static void
apply_name(pt_dbz_type *t, const char *name)
{
	int			a = 0,
				b = 0;
	int			n = name_typmod(name, &a, &b);

	if (n == 0)
		return;
	if (t->kind == PT_DBZ_NUMERIC)
	{
		t->length = a;
		t->scale = n == 2 ? b : 0;
	}
	else if (is_time_kind(t->kind))
		t->scale = a;
	else if (t->kind == PT_DBZ_BIT)
		t->length = a;
}

bool
pt_dbz_type_builtin(uint32_t oid, const char *type_name, pt_dbz_type *out)
{
	uint32_t	elem = oid;

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < sizeof(arrays) / sizeof(arrays[0]); i++)
		if (arrays[i].oid == oid)
		{
			out->array = true;
			elem = arrays[i].elem;
			if (elem == 0)
				return true;	/* PT_DBZ_OMITTED */
			break;
		}
	if (!scalar_kind(elem, &out->kind))
		return false;
	unmodified(out, elem);
	apply_name(out, type_name);
	return true;
}

bool
pt_dbz_type_extension(const char *typname, pt_dbz_type *out)
{
	static const struct
	{
		const char *name;
		pt_dbz_kind kind;
	}			known[] = {
		{"hstore", PT_DBZ_HSTORE}, {"citext", PT_DBZ_STRING}, {"ltree", PT_DBZ_LTREE},
		{"isbn", PT_DBZ_STRING}, {"isbn13", PT_DBZ_STRING}, {"ean13", PT_DBZ_STRING},
		{"ismn", PT_DBZ_STRING}, {"ismn13", PT_DBZ_STRING}, {"issn", PT_DBZ_STRING},
		{"issn13", PT_DBZ_STRING}, {"upc", PT_DBZ_STRING}, {"geometry", PT_DBZ_POSTGIS_GEOMETRY},
		{"geography", PT_DBZ_POSTGIS_GEOGRAPHY},
	};

	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (strcmp(typname, known[i].name) == 0)
		{
			out->kind = known[i].kind;
			out->length = out->scale = -1;
			return true;
		}
	return false;
}

void
pt_dbz_type_apply_typmod(pt_dbz_type *t, uint32_t oid, int32_t typmod)
{
	unmodified(t, oid);
	if (typmod < 0)
		return;
	if (t->kind == PT_DBZ_NUMERIC)
	{
		t->length = ((typmod - 4) >> 16) & 0xffff;
		t->scale = (typmod - 4) & 0xffff;
	}
	else if (is_time_kind(t->kind))
		t->scale = typmod;
	else if (t->kind == PT_DBZ_BIT)
		t->length = typmod;
}

void
pt_dbz_type_free(pt_dbz_type *t)
{
	free(t->enum_allowed);
	t->enum_allowed = NULL;
}
