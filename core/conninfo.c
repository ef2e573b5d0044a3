/*
 * core/conninfo.c — connection strings checked and redacted (see conninfo.h).
 *
 * libpq has no error codes for a connection string it cannot parse, only a
 * message that quotes the text at fault, which may be a password. The
 * table below turns the start of each of libpq 15's parse messages into
 * our own words; a message it does not know (another libpq version) gets a
 * generic reason. Either way not one byte of the connection string or of
 * libpq's message is shown. The words of the message choose only what we
 * say, never whether it is an error.
 *
 * A URI is split here by libpq's own rules (fe-connect.c,
 * conninfo_uri_parse_options): the user info ends at the first "@" that
 * comes before any "/", the password is what follows the first ":" in it,
 * the query starts at the "?" after the hosts (a host in brackets may hold
 * a "?") and the path, parameters are separated by "&" and their names
 * are percent-decoded. tests/fuzz/fuzz_conninfo.c checks that what is
 * shown parses back to the same options, every secret "***".
 */
#include "core/conninfo.h"

#include <libpq-fe.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/hex.h"
#include "core/mem.h"

#define HINT_ENCODE "percent-encode \"%\", \"@\", \"/\" and \":\" in a URI's user name and password " \
	"(%25, %40, %2F, %3A), or use key=value form; better, keep the password out of the " \
	"connection string (~/.pgpass, see docs/OPERATIONS.md)"
#define HINT_ENCODE_QUERY "percent-encode \"@\" in a URI's query parameters (%40), or use key=value form"
#define HINT_IPV6 "write an IPv6 address in brackets: postgresql://user@[::1]:5432/dbname"
#define HINT_KEYWORDS "connection keywords are libpq's (host, port, dbname, user, sslmode, passfile, ...), " \
	"in key=value form or as URI query parameters"
#define HINT_NAME "a URI starts with postgresql:// or postgres://; a database name with \"@\" or \"://\" " \
	"goes in key=value form: dbname='a@b'"
#define HINT_GENERIC "give key=value pairs (host=db dbname=app user=capture) or a URI " \
	"(postgresql://capture@db:5432/app), as psql takes"

/* One of libpq's parse messages, by how it starts, in our words. */
typedef struct parse_error
{
	const char *libpq;
	const char *reason;
	const char *hint;
} parse_error;

static const parse_error parse_errors[] = {
	{"invalid percent-encoded token", "invalid percent-encoded token", HINT_ENCODE},
	{"forbidden value %00", "forbidden value %00 in a percent-encoded value", HINT_ENCODE},
	{"end of string reached when looking for matching \"]\"", "unclosed \"[\" around an IPv6 host address",
	HINT_IPV6},
	{"IPv6 host address may not be empty", "empty IPv6 host address \"[]\"", HINT_IPV6},
	{"unexpected character", "unexpected character after a host address in brackets (expected \":\" or \"/\")",
	HINT_IPV6},
	{"extra key/value separator", "extra \"=\" in a URI query parameter", HINT_ENCODE},
	{"missing key/value separator", "URI query parameter without \"=\"",
	"query parameters are name=value pairs separated by \"&\""},
	{"invalid URI query parameter", "unknown URI query parameter", HINT_KEYWORDS},
	{"invalid connection option", "unknown connection keyword", HINT_KEYWORDS},
	{"missing \"=\" after", "a word without \"=\"",
	"write key=value pairs separated by spaces, and quote a value that holds spaces: password='a b'"},
	{"unterminated quoted string", "unterminated quoted string",
	"close the quote; inside a quoted value write \\' for a quote and \\\\ for a backslash"},
};

static const parse_error unknown_error = {"", "libpq cannot parse it", HINT_GENERIC};

/* Length of a URI's "postgresql://" or "postgres://", or 0 (libpq: uri_prefix_length). */
static size_t
uri_prefix(const char *s)
{
	if (strncmp(s, "postgresql://", 13) == 0)
		return 13;
	if (strncmp(s, "postgres://", 11) == 0)
		return 11;
	return 0;
}

/* libpq reads a string with "=" or a URI prefix as a connection string,
 * anything else as a database name (recognized_connection_string). */
static bool
is_connection_string(const char *s)
{
	return uri_prefix(s) != 0 || strchr(s, '=') != NULL;
}

/* The "@" that ends a URI's user info (the first "@" before any "/"), or NULL. */
static const char *
userinfo_end(const char *auth)
{
	size_t		n = strcspn(auth, "@/");

	return auth[n] == '@' ? auth + n : NULL;
}

/*
 * The "?" that starts the query of a URI's rest (what follows the user
 * info), or NULL: after the hosts, each "[...]" (which may hold a "?") or
 * up to ":/?,", with an optional ":port" up to "/?,", separated by ",",
 * then an optional "/dbname" up to "?".
 */
static const char *
uri_query(const char *rest)
{
	const char *p = rest;

	for (;;)
	{
		if (*p == '[')
		{
			if ((p = strchr(p, ']')) == NULL)
				return NULL;
			p++;
		}
		else
			p += strcspn(p, ":/?,");
		if (*p == ':')
			p += 1 + strcspn(p + 1, "/?,");
		if (*p != ',')
			break;
		p++;
	}
	if (*p == '/')
		p += strcspn(p, "?");
	return *p == '?' ? p : NULL;
}

/*
 * An "@" in the query of a URI without user info: libpq ends the user
 * info at the first "@" before any "/", so whether it takes
 * "host:port?...&x=a" for a user name and
 * password depends on a "/" inside some value; the redaction, which hides
 * values, could then change what the string means (found by fuzz.conninfo).
 */
static bool
at_in_query(const char *uri)
{
	const char *auth = uri + uri_prefix(uri);
	const char *query;

	if (userinfo_end(auth) != NULL)
		return false;			/* the user info ends earlier: libpq stops there */
	query = uri_query(auth);
	return query != NULL && strchr(query, '@') != NULL;
}

/* An "@" after the user info and before the query: a password's "@" or
 * "/" left unencoded, which libpq would read as part of a host or dbname. */
static bool
stray_at(const char *uri)
{
	const char *auth = uri + uri_prefix(uri);
	const char *at = userinfo_end(auth);
	const char *rest = at ? at + 1 : auth;
	const char *query = uri_query(rest);

	return memchr(rest, '@', query ? (size_t) (query - rest) : strlen(rest)) != NULL;
}

static bool
is_secret_keyword(const char *keyword)
{
	return strstr(keyword, "password") != NULL || strstr(keyword, "secret") != NULL;
}

static const parse_error *
known_error(const char *libpq_message)
{
	for (size_t i = 0; libpq_message && i < sizeof(parse_errors) / sizeof(parse_errors[0]); i++)
		if (strncmp(libpq_message, parse_errors[i].libpq, strlen(parse_errors[i].libpq)) == 0)
			return &parse_errors[i];
	return &unknown_error;
}

static bool
invalid(pt_err *err, const char *what, const char *reason, const char *hint)
{
	if (what)
		pt_err_set(err, PT_ERR_CONFIG, "invalid connection string for %s: %s", what, reason);
	else
		pt_err_set(err, PT_ERR_CONFIG, "invalid connection string: %s", reason);
	pt_err_hint(err, "%s", hint);
	return false;
}

bool
pt_conninfo_check(const char *conninfo, const char *what, pt_err *err)
{
	PQconninfoOption *opts;
	char	   *errmsg = NULL;
	const parse_error *pe;

	if (conninfo == NULL)
		return true;
	/* libpq would take "jdbc:postgresql://u:pw@h/db" or "u:pw@h/db" for a
	 * database name, and the server's error would quote it */
	if (!is_connection_string(conninfo))
		return strstr(conninfo, "://") == NULL && strchr(conninfo, '@') == NULL ? true :
			invalid(err, what, "neither a postgresql:// URI nor key=value pairs nor a database name", HINT_NAME);
	if (uri_prefix(conninfo) && stray_at(conninfo))
		return invalid(err, what, "\"@\" in the host or database part of the URI", HINT_ENCODE);
	if (uri_prefix(conninfo) && at_in_query(conninfo))
		return invalid(err, what, "\"@\" in the query part of the URI", HINT_ENCODE_QUERY);
	if ((opts = PQconninfoParse(conninfo, &errmsg)) != NULL)
	{
		PQconninfoFree(opts);
		return true;
	}
	pe = known_error(errmsg);
	PQfreemem(errmsg);
	return invalid(err, what, pe->reason, pe->hint);
}

/* A value as libpq's key=value syntax reads it back: quoted when it must be. */
static void
put_value(pt_buf *out, const char *v)
{
	if (v[0] != '\0' && strpbrk(v, " \t\n\r\f\v'\\") == NULL)
	{
		pt_buf_puts(out, v);
		return;
	}
	pt_buf_putc(out, '\'');
	for (; *v; v++)
	{
		if (*v == '\\' || *v == '\'')
			pt_buf_putc(out, '\\');
		pt_buf_putc(out, *v);
	}
	pt_buf_putc(out, '\'');
}

/* s[0..len) percent-decoded (an invalid escape is kept as it is). Caller frees. */
static char *
percent_decode(const char *s, size_t len)
{
	char	   *out = pt_malloc(len + 1);
	size_t		n = 0;

	for (size_t i = 0; i < len; i++)
	{
		if (s[i] == '%' && i + 2 < len && pt_hex_digit(s[i + 1]) >= 0 && pt_hex_digit(s[i + 2]) >= 0)
		{
			out[n++] = (char) (pt_hex_digit(s[i + 1]) * 16 + pt_hex_digit(s[i + 2]));
			i += 2;
		}
		else
			out[n++] = s[i];
	}
	out[n] = '\0';
	return out;
}

/* A URI's query parameters (after "?"), each secret one's value as "***". */
static void
redact_query(pt_buf *out, const char *query)
{
	while (*query)
	{
		size_t		len = strcspn(query, "&");
		size_t		klen = strcspn(query, "=&");
		char	   *name = percent_decode(query, klen);

		if (is_secret_keyword(name) && query[klen] == '=')
		{
			pt_buf_append(out, query, klen);
			pt_buf_puts(out, "=***");
		}
		else
			pt_buf_append(out, query, len);
		free(name);
		query += len;
		if (*query == '&')
			pt_buf_putc(out, *query++);
	}
}

/* A URI that pt_conninfo_check accepted, its form kept, its passwords out. */
static char *
redact_uri(const char *uri)
{
	pt_buf		out = PT_BUF_INIT;
	size_t		plen = uri_prefix(uri);
	const char *auth = uri + plen;
	const char *at = userinfo_end(auth);
	const char *rest = at ? at + 1 : auth;
	const char *query = uri_query(rest);
	size_t		hostlen = query ? (size_t) (query - rest) : strlen(rest);

	pt_buf_append(&out, uri, plen);
	if (at)
	{
		size_t		ulen = strcspn(auth, ":@");

		pt_buf_append(&out, auth, ulen);
		if (auth[ulen] == ':')
			pt_buf_puts(&out, ":***");
		pt_buf_putc(&out, '@');
	}
	pt_buf_append(&out, rest, hostlen);
	if (rest[hostlen] == '?')
	{
		pt_buf_putc(&out, '?');
		redact_query(&out, rest + hostlen + 1);
	}
	return out.data;
}

/* A key=value list that pt_conninfo_check accepted, rewritten from its
 * parsed options (so no quoting trick can hide a password from us). */
static char *
redact_keywords(const char *conninfo)
{
	PQconninfoOption *opts = PQconninfoParse(conninfo, NULL);
	pt_buf		out = PT_BUF_INIT;

	for (PQconninfoOption *o = opts; o && o->keyword; o++)
	{
		if (o->val == NULL)
			continue;
		if (out.len)
			pt_buf_putc(&out, ' ');
		pt_buf_printf(&out, "%s=", o->keyword);
		if (is_secret_keyword(o->keyword))
			pt_buf_puts(&out, "***");
		else
			put_value(&out, o->val);
	}
	PQconninfoFree(opts);
	return out.data ? out.data : pt_strdup("(libpq defaults)");
}

char *
pt_conninfo_redact(const char *conninfo)
{
	pt_buf		out = PT_BUF_INIT;

	if (conninfo == NULL || conninfo[0] == '\0')
		return pt_strdup("(libpq defaults)");
	if (!pt_conninfo_check(conninfo, NULL, NULL))
		return pt_strdup("(a connection string that does not parse)");
	if (uri_prefix(conninfo))
		return redact_uri(conninfo);
	if (is_connection_string(conninfo))
		return redact_keywords(conninfo);
	pt_buf_puts(&out, "dbname=");
	put_value(&out, conninfo);
	return out.data;
}

bool
pt_conninfo_has_password(const char *conninfo)
{
	PQconninfoOption *opts;
	bool		found = false;

	if (conninfo == NULL || !is_connection_string(conninfo) || !pt_conninfo_check(conninfo, NULL, NULL))
		return false;
	opts = PQconninfoParse(conninfo, NULL);
	for (PQconninfoOption *o = opts; o && o->keyword; o++)
		if (o->val && o->val[0] && is_secret_keyword(o->keyword))
			found = true;
	PQconninfoFree(opts);
	return found;
}
