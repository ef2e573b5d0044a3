/*
 * core/conninfo.h — connection strings checked and shown without their secrets.
 *
 * Every pgtrail program takes libpq connection strings (key=value or a
 * postgresql:// URI) from flags, the environment and the INI file, and
 * prints them in errors. libpq's own parse errors quote the offending text
 * (`invalid percent-encoded token: "Hunter2%zz"`), so they are never shown
 * as they are: pt_conninfo_check says in its own words what is wrong, and
 * pt_conninfo_redact shows a connection string with every password
 * removed, or nothing of it when it does not parse. Both live here so that
 * the three programs, the config dump and every connect use one set of
 * rules.
 */
#ifndef PGTRAIL_CORE_CONNINFO_H
#define PGTRAIL_CORE_CONNINFO_H

#include <stdbool.h>

#include "core/err.h"

/*
 * Whether conninfo is something libpq will accept as PQconnectdbParams'
 * expanded dbname: empty (libpq defaults), a bare database name (no "="
 * and no URI prefix), a key=value list or a URI that PQconninfoParse
 * takes. Stricter than libpq where a password would otherwise reach an
 * error message: a URI with an "@" after the one that ends its user info
 * (a password's unencoded "@" or "/" makes libpq read the rest as a host
 * or database name), and a "database name" with "://" or "@" (a URI
 * with another scheme, "jdbc:postgresql://u:pw@h/db", or none), are
 * refused.
 * False with a PT_ERR_CONFIG err ("invalid connection string for WHAT:
 * REASON", or without "for WHAT" when what is NULL) and a hint; neither
 * quotes any part of conninfo.
 */
bool		pt_conninfo_check(const char *conninfo, const char *what, pt_err *err);

/*
 * conninfo as text safe to print: a URI keeps its form with the user
 * info's password and any password query parameter as "***"; a key=value
 * list is rewritten from its parsed options with every password as "***";
 * a bare database name is "dbname=NAME"; empty is "(libpq defaults)". A
 * connection string that pt_conninfo_check rejects is not shown at all
 * ("(a connection string that does not parse)"). Secret keywords are those
 * containing "password" or "secret" (password, sslpassword, and newer
 * libpq's oauth_client_secret). Returns a new string the caller frees.
 */
char	   *pt_conninfo_redact(const char *conninfo);

/* Whether conninfo parses and sets a secret keyword to a non-empty value. */
bool		pt_conninfo_has_password(const char *conninfo);

#endif
