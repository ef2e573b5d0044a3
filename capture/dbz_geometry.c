/*
 * capture/dbz_geometry.c — geometric values and schemas as Debezium's
 * (see dbz_geometry.h). The coordinates are read once as text spans: each
 * prints from its own text (Java's digits are PostgreSQL's shortest ones)
 * and goes into the WKB as the double strtod reads.
 */
#include "capture/dbz_geometry.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "capture/dbz_number.h"
#include "core/base64.h"
#include "core/hex.h"
#include "core/mem.h"

#define MAX_POINTS_INLINE 64

typedef struct span
{
	const char *p;
	size_t		len;
	double		v;
} span;

typedef struct numbers
{
	span	   *n;
	int			count;
	int			cap;
	span		inline_n[MAX_POINTS_INLINE * 2];
} numbers;

static bool
number_start(char c)
{
	return (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'I' || c == 'N';
}

static void
push(numbers *ns, span s)
{
	if (ns->count == ns->cap)
	{
		int			cap = ns->cap * 2;
		span	   *n = pt_malloc((size_t) cap * sizeof(span));

		memcpy(n, ns->n, (size_t) ns->count * sizeof(span));
		if (ns->n != ns->inline_n)
			free(ns->n);
		ns->n = n;
		ns->cap = cap;
	}
	ns->n[ns->count++] = s;
}

/* Every number of the text, in order (brackets, commas and spaces between). */
static bool
read_numbers(const char *s, size_t len, numbers *ns)
{
	char		tmp[64];

	ns->n = ns->inline_n;
	ns->cap = MAX_POINTS_INLINE * 2;
	ns->count = 0;
	for (size_t i = 0; i < len;)
	{
		size_t		j = i;
		char	   *end;

		if (!number_start(s[i]))
		{
			i++;
			continue;
		}
		while (j < len && s[j] != ',' && s[j] != ')' && s[j] != ']' && s[j] != '>' && s[j] != '}' && s[j] != ' ')
			j++;
		if (j - i >= sizeof(tmp))
			return false;
		memcpy(tmp, s + i, j - i);
		tmp[j - i] = '\0';
		push(ns, (span) {s + i, j - i, strtod(tmp, &end)});
		if (*end != '\0')
			return false;
		i = j;
	}
	return true;
}

static void
free_numbers(numbers *ns)
{
	if (ns->n != ns->inline_n)
		free(ns->n);
}

static void
put_u32le(pt_buf *b, uint32_t v)
{
	char		le[4] = {(char) v, (char) (v >> 8), (char) (v >> 16), (char) (v >> 24)};

	pt_buf_append(b, le, 4);
}

static void
put_f64le(pt_buf *b, double d)
{
	uint64_t	u;
	char		le[8];

	memcpy(&u, &d, 8);
	for (int i = 0; i < 8; i++)
		le[i] = (char) (u >> (8 * i));
	pt_buf_append(b, le, 8);
}

static void
put_points(pt_buf *wkb, const span *n, int npoints, bool close)
{
	put_u32le(wkb, (uint32_t) (npoints + (close ? 1 : 0)));
	for (int i = 0; i < npoints; i++)
	{
		put_f64le(wkb, n[2 * i].v);
		put_f64le(wkb, n[2 * i + 1].v);
	}
	if (close)
	{
		put_f64le(wkb, n[0].v);
		put_f64le(wkb, n[1].v);
	}
}

static void
put_wkb(pt_buf *out, const pt_buf *wkb)
{
	pt_buf_putc(out, '"');
	pt_base64_put(out, (const uint8_t *) wkb->data, wkb->len);
	pt_buf_putc(out, '"');
}

static bool
put_double(pt_buf *out, const span *s)
{
	return pt_dbz_java_float(s->p, s->len, out);
}

/* io.debezium.data.geometry.Point's struct of the point n[0], n[1]. */
static bool
put_point(pt_buf *out, const span *n, pt_buf *wkb)
{
	pt_buf_reset(wkb);
	pt_buf_append(wkb, "\x01\x01\x00\x00\x00", 5);
	put_f64le(wkb, n[0].v);
	put_f64le(wkb, n[1].v);
	pt_buf_puts(out, "{\"x\":");
	if (!put_double(out, &n[0]))
		return false;
	pt_buf_puts(out, ",\"y\":");
	if (!put_double(out, &n[1]))
		return false;
	pt_buf_puts(out, ",\"wkb\":");
	put_wkb(out, wkb);
	pt_buf_puts(out, ",\"srid\":null}");
	return true;
}

/* The WKB of a box, lseg, path or polygon into wkb, and its extensions' JSON. */
static bool
shape_wkb(pt_dbz_kind k, const char *s, const numbers *ns, pt_buf *wkb, const char **ext)
{
	int			np = ns->count / 2;
	const span *n = ns->n;

	pt_buf_reset(wkb);
	pt_buf_putc(wkb, '\x01');
	if (k == PT_DBZ_BOX)
	{
		span		ring[8] = {n[0], n[1], n[0], n[3], n[2], n[3], n[2], n[1]};

		if (ns->count != 4)
			return false;
		put_u32le(wkb, 3);
		put_u32le(wkb, 1);
		put_points(wkb, ring, 4, true);
		*ext = "{\"type\":\"box\"}";
		return true;
	}
	if (k == PT_DBZ_POLYGON)
	{
		bool		closed = np > 0 && n[0].v == n[2 * np - 2].v && n[1].v == n[2 * np - 1].v;

		put_u32le(wkb, 3);
		put_u32le(wkb, 1);
		put_points(wkb, n, np, !closed);
		*ext = "{\"type\":\"polygon\"}";
		return np > 0;
	}
	put_u32le(wkb, 2);
	put_points(wkb, n, np, false);
	if (k == PT_DBZ_LSEG)
		*ext = "{\"type\":\"lseg\"}";
	else
		*ext = s[0] == '(' ? "{\"type\":\"path\",\"closed\":\"true\"}" : "{\"type\":\"path\",\"closed\":\"false\"}";
	return np > 0;
}

static uint32_t
read_u32(const uint8_t *b, bool little)
{
	return little ? (uint32_t) b[0] | (uint32_t) b[1] << 8 | (uint32_t) b[2] << 16 | (uint32_t) b[3] << 24
		: (uint32_t) b[3] | (uint32_t) b[2] << 8 | (uint32_t) b[1] << 16 | (uint32_t) b[0] << 24;
}

/*
 * A PostGIS value: its hex EWKB as the WKB (unchanged, SRID and all, as
 * Debezium's PostgisGeometry keeps it) and the SRID when the type word
 * says it has one.
 */
static bool
put_postgis(pt_buf *out, pt_dbz_kind k, const char *s, size_t len, pt_dbz_scratch *sc)
{
	const uint8_t *b;
	bool		little;

	if (len < 10 || len % 2 != 0)
		return false;
	pt_buf_reset(&sc->bytes);
	pt_buf_reserve(&sc->bytes, len / 2 + 1);
	if (!pt_hex_decode(s, len / 2, (uint8_t *) sc->bytes.data))
		return false;
	sc->bytes.len = len / 2;
	b = (const uint8_t *) sc->bytes.data;
	little = b[0] == 1;
	pt_buf_puts(out, "{\"wkb\":");
	put_wkb(out, &sc->bytes);
	if ((read_u32(b + 1, little) & 0x20000000) != 0 && sc->bytes.len >= 9)
		pt_buf_printf(out, ",\"srid\":%d", (int32_t) read_u32(b + 5, little));
	else
		pt_buf_puts(out, ",\"srid\":null");
	pt_buf_puts(out, k == PT_DBZ_POSTGIS_GEOMETRY ? ",\"extensions\":null}" : "}");
	return true;
}

bool
pt_dbz_put_geometry(pt_buf *out, pt_dbz_kind k, const char *s, size_t len, pt_dbz_scratch *sc)
{
	numbers		ns;
	const char *ext = NULL;
	bool		ok;

	if (k == PT_DBZ_POSTGIS_GEOMETRY || k == PT_DBZ_POSTGIS_GEOGRAPHY)
		return put_postgis(out, k, s, len, sc);
	ok = read_numbers(s, len, &ns) && ns.count % 2 == (k == PT_DBZ_CIRCLE || k == PT_DBZ_LINE);

	if (ok && k == PT_DBZ_POINT)
		ok = ns.count == 2 && put_point(out, ns.n, &sc->bytes);
	else if (ok && k == PT_DBZ_CIRCLE)
	{
		pt_buf_puts(out, "{\"center\":");
		ok = ns.count == 3 && put_point(out, ns.n, &sc->bytes);
		pt_buf_puts(out, ",\"radius\":");
		ok = ok && put_double(out, &ns.n[2]);
		pt_buf_putc(out, '}');
	}
	else if (ok && k == PT_DBZ_LINE)
	{
		ok = ns.count == 3;
		pt_buf_puts(out, "{\"a\":");
		ok = ok && put_double(out, &ns.n[0]);
		pt_buf_puts(out, ",\"b\":");
		ok = ok && put_double(out, &ns.n[1]);
		pt_buf_puts(out, ",\"c\":");
		ok = ok && put_double(out, &ns.n[2]);
		pt_buf_putc(out, '}');
	}
	else if (ok && (ok = shape_wkb(k, s, &ns, &sc->bytes, &ext)))
	{
		pt_buf_puts(out, "{\"wkb\":");
		put_wkb(out, &sc->bytes);
		pt_buf_puts(out, ",\"srid\":null,\"extensions\":");
		pt_buf_puts(out, ext);
		pt_buf_putc(out, '}');
	}
	free_numbers(&ns);
	return ok;
}

#define POINT_FIELDS \
	"\"fields\":[{\"type\":\"double\",\"optional\":false,\"field\":\"x\"}," \
	"{\"type\":\"double\",\"optional\":false,\"field\":\"y\"}," \
	"{\"type\":\"bytes\",\"optional\":true,\"field\":\"wkb\"}," \
	"{\"type\":\"int32\",\"optional\":true,\"field\":\"srid\"}]"
#define POINT_NAME "\"name\":\"io.debezium.data.geometry.Point\",\"version\":1,\"doc\":\"Geometry (POINT)\""

void
pt_dbz_put_geometry_schema(pt_buf *out, pt_dbz_kind k, bool optional)
{
	switch (k)
	{
		case PT_DBZ_POINT:
			pt_buf_puts(out, "{\"type\":\"struct\"," POINT_FIELDS);
			pt_buf_puts(out, optional ? ",\"optional\":true," POINT_NAME : ",\"optional\":false," POINT_NAME);
			break;
		case PT_DBZ_CIRCLE:
			pt_buf_puts(out, "{\"type\":\"struct\",\"fields\":[{\"type\":\"struct\"," POINT_FIELDS
						",\"optional\":false," POINT_NAME ",\"field\":\"center\"},"
						"{\"type\":\"double\",\"optional\":false,\"field\":\"radius\"}],\"optional\":true,"
						"\"name\":\"io.debezium.data.geometry.Circle\",\"version\":1,\"doc\":\"Geometry (CIRCLE)\"");
			break;
		case PT_DBZ_POSTGIS_GEOGRAPHY:
			pt_buf_puts(out, "{\"type\":\"struct\",\"fields\":[{\"type\":\"bytes\",\"optional\":false,\"field\":\"wkb\"},"
						"{\"type\":\"int32\",\"optional\":true,\"field\":\"srid\"}]");
			pt_buf_puts(out, optional ? ",\"optional\":true" : ",\"optional\":false");
			pt_buf_puts(out, ",\"name\":\"io.debezium.data.geometry.Geography\",\"version\":1,\"doc\":\"Geography\"");
			break;
		case PT_DBZ_LINE:
			pt_buf_puts(out, "{\"type\":\"struct\",\"fields\":[{\"type\":\"double\",\"optional\":false,\"field\":\"a\"},"
						"{\"type\":\"double\",\"optional\":false,\"field\":\"b\"},"
						"{\"type\":\"double\",\"optional\":false,\"field\":\"c\"}],\"optional\":true,"
						"\"name\":\"io.debezium.data.geometry.Line\",\"version\":1,\"doc\":\"Geometry (LINE)\"");
			break;
		default:
			pt_buf_puts(out, "{\"type\":\"struct\",\"fields\":[{\"type\":\"bytes\",\"optional\":false,\"field\":\"wkb\"},"
						"{\"type\":\"int32\",\"optional\":true,\"field\":\"srid\"},"
						"{\"type\":\"map\",\"keys\":{\"type\":\"string\",\"optional\":false},"
						"\"values\":{\"type\":\"string\",\"optional\":false},\"optional\":true,\"field\":\"extensions\"}],"
						"\"optional\":true,\"name\":\"io.debezium.data.geometry.Geometry\",\"version\":2,\"doc\":\"Geometry\"");
	}
}
