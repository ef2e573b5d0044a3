/*
 * capture/dbz_number.c — numbers as Debezium's records hold them (see
 * dbz_number.h).
 */
#include "capture/dbz_number.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"

#define PUT_LIT(buf, lit) pt_buf_append((buf), (lit), sizeof(lit) - 1)

/* ---- decimal ---- */

/* A decimal text's sign and digits (no point), with how many were fraction digits. */
typedef struct digits
{
	bool		negative;
	pt_buf		all;			/* '0'..'9' */
	int			fraction;
} digits;

static bool
read_digits(const char *s, size_t len, digits *d)
{
	bool		point = false;
	size_t		i = 0;

	if (i < len && s[i] == '-')
		d->negative = true, i++;
	for (; i < len; i++)
	{
		char		c = s[i];

		if (c >= '0' && c <= '9')
		{
			pt_buf_putc(&d->all, c);
			d->fraction += point;
		}
		else if (c == '.' && !point)
			point = true;
		else if (c != '$' && c != ',')
			return false;
	}
	return d->all.len > 0;
}

/*
 * The digits as a little-endian array of 32-bit limbs, nine digits at a
 * time (limbs = limbs * 10^k + chunk). *n gets the limbs used.
 */
static uint32_t *
to_limbs(const char *dig, size_t ndig, int *n)
{
	int			cap = (int) (ndig / 9) + 2;
	uint32_t   *limbs = pt_calloc((size_t) cap, sizeof(uint32_t));
	size_t		i = 0;

	*n = 1;
	while (i < ndig)
	{
		size_t		k = ndig - i < 9 ? ndig - i : 9;
		uint64_t	mul = 1;
		uint64_t	carry = 0;

		for (size_t j = 0; j < k; j++)
		{
			carry = carry * 10 + (uint64_t) (dig[i + j] - '0');
			mul *= 10;
		}
		for (int l = 0; l < *n; l++)
		{
			uint64_t	v = (uint64_t) limbs[l] * mul + carry;

			limbs[l] = (uint32_t) v;
			carry = v >> 32;
		}
		if (carry)
			limbs[(*n)++] = (uint32_t) carry;
		i += k;
	}
	return limbs;
}

/* Two's complement of limbs in place (with one more limb of room at n). */
static void
negate(uint32_t *limbs, int n)
{
	uint64_t	carry = 1;

	for (int l = 0; l < n; l++)
	{
		uint64_t	v = (uint64_t) (uint32_t) ~limbs[l] + carry;

		limbs[l] = (uint32_t) v;
		carry = v >> 32;
	}
}

/* Big-endian bytes of limbs[0..n), the fewest that keep the sign bit right. */
static void
put_minimal(pt_buf *bytes, const uint32_t *limbs, int n, bool negative)
{
	uint8_t		fill = negative ? 0xff : 0x00;
	size_t		total = (size_t) n * 4;
	size_t		skip = 0;
	uint8_t    *be = pt_malloc(total);

	for (int l = 0; l < n; l++)
		for (int b = 0; b < 4; b++)
			be[total - 1 - ((size_t) l * 4 + (size_t) b)] = (uint8_t) (limbs[l] >> (8 * b));
	/* drop a leading fill byte while the next byte still carries the sign */
	while (skip + 1 < total && be[skip] == fill && ((be[skip + 1] & 0x80) != 0) == negative)
		skip++;
	pt_buf_append(bytes, be + skip, total - skip);
	free(be);
}

bool
pt_dbz_unscaled(const char *s, size_t len, int scale, pt_buf *bytes, int *out_scale)
{
	digits		d = {.negative = false, .fraction = 0};
	uint32_t   *limbs;
	int			n;
	bool		zero;

	pt_buf_init(&d.all);
	if (!read_digits(s, len, &d) || (scale >= 0 && d.fraction > scale))
	{
		pt_buf_free(&d.all);
		return false;
	}
	for (; scale > d.fraction; d.fraction++)
		pt_buf_putc(&d.all, '0');
	limbs = to_limbs(d.all.data, d.all.len, &n);
	zero = n == 1 && limbs[0] == 0;
	if (d.negative && !zero)
	{
		limbs[n++] = 0;			/* room for the sign: to_limbs left one limb spare */
		negate(limbs, n);
	}
	put_minimal(bytes, limbs, n, d.negative && !zero);
	*out_scale = d.fraction;
	free(limbs);
	pt_buf_free(&d.all);
	return true;
}

/* ---- floats ---- */

/* A float's sign, significant digits (no leading or trailing zeros) and
 * exponent: value = d[0].d[1..] x 10^exp. */
typedef struct sci
{
	bool		negative;
	char		dig[64];
	int			ndig;
	int			exp;
} sci;

static bool
read_exponent(const char *s, size_t len, int *exp)
{
	char		tmp[16];
	char	   *end;

	if (len == 0 || len >= sizeof(tmp))
		return false;
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	*exp = (int) strtol(tmp, &end, 10);
	return *end == '\0';
}

/* "-0.00123", "123.4", "1e+100", "1.5e-07" into f. */
static bool
read_sci(const char *s, size_t len, sci *f)
{
	char		all[64];
	int			nall = 0;
	int			before = -1;	/* digits before the point */
	int			lead = 0;
	int			e = 0;
	size_t		i = 0;

	memset(f, 0, sizeof(*f));
	if (i < len && s[i] == '-')
		f->negative = true, i++;
	for (; i < len && ((s[i] >= '0' && s[i] <= '9') || s[i] == '.'); i++)
	{
		if (s[i] == '.' && before >= 0)
			return false;
		if (s[i] == '.')
			before = nall;
		else if (nall < (int) sizeof(all))
			all[nall++] = s[i];
		else
			return false;
	}
	if (nall == 0 || (i < len && (s[i] != 'e' && s[i] != 'E')) ||
		(i < len && !read_exponent(s + i + 1, len - i - 1, &e)))
		return false;
	if (before < 0)
		before = nall;
	while (lead < nall && all[lead] == '0')
		lead++;
	f->ndig = nall - lead;
	while (f->ndig > 0 && all[lead + f->ndig - 1] == '0')
		f->ndig--;
	memcpy(f->dig, all + lead, (size_t) f->ndig);
	f->exp = before - lead - 1 + e;
	return true;
}

static void
put_zeros(pt_buf *out, int n)
{
	for (; n > 0; n--)
		pt_buf_putc(out, '0');
}

/* Java's Double.toString / Float.toString layout of f. */
static void
put_java(pt_buf *out, const sci *f)
{
	if (f->negative)
		pt_buf_putc(out, '-');
	if (f->ndig == 0)
		PUT_LIT(out, "0.0");
	else if (f->exp >= 0 && f->exp < 7)
	{
		int			whole = f->exp + 1;

		pt_buf_append(out, f->dig, (size_t) (f->ndig < whole ? f->ndig : whole));
		put_zeros(out, whole - f->ndig);
		pt_buf_putc(out, '.');
		if (f->ndig > whole)
			pt_buf_append(out, f->dig + whole, (size_t) (f->ndig - whole));
		else
			pt_buf_putc(out, '0');
	}
	else if (f->exp < 0 && f->exp >= -3)
	{
		PUT_LIT(out, "0.");
		put_zeros(out, -f->exp - 1);
		pt_buf_append(out, f->dig, (size_t) f->ndig);
	}
	else
	{
		pt_buf_putc(out, f->dig[0]);
		pt_buf_putc(out, '.');
		if (f->ndig > 1)
			pt_buf_append(out, f->dig + 1, (size_t) (f->ndig - 1));
		else
			pt_buf_putc(out, '0');
		pt_buf_putc(out, 'E');
		pt_buf_put_i64(out, f->exp);
	}
}

static bool
put_special(const char *s, size_t len, pt_buf *out)
{
	if (len == 3 && memcmp(s, "NaN", 3) == 0)
		PUT_LIT(out, "\"NaN\"");
	else if (len == 8 && memcmp(s, "Infinity", 8) == 0)
		PUT_LIT(out, "\"Infinity\"");
	else if (len == 9 && memcmp(s, "-Infinity", 9) == 0)
		PUT_LIT(out, "\"-Infinity\"");
	else
		return false;
	return true;
}

bool
pt_dbz_java_float(const char *s, size_t len, pt_buf *out)
{
	sci			f;

	if (put_special(s, len, out))
		return true;
	if (!read_sci(s, len, &f))
		return false;
	put_java(out, &f);
	return true;
}

bool
pt_dbz_decimal_as_double(const char *s, size_t len, pt_buf *out)
{
	char	   *text;
	char	   *end;
	double		v;
	char		shortest[40];
	sci			f;
	bool		ok;

	if (put_special(s, len, out))
		return true;
	text = pt_strndup(s, len);
	v = strtod(text, &end);
	ok = end != text && *end == '\0';
	free(text);
	if (!ok)
		return false;
	/* the shortest digits that read back as v: the same digits Java prints */
	for (int prec = 0; prec < 17; prec++)
	{
		snprintf(shortest, sizeof(shortest), "%.*e", prec, v);
		if (strtod(shortest, NULL) == v)
			break;
	}
	if (!read_sci(shortest, strlen(shortest), &f))
		return false;
	put_java(out, &f);
	return true;
}
