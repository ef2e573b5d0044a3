/*
 * capture/dbz_table.h — one version of a table's column set, compiled for
 * Debezium's records: each column's kind, optionality and default, the key
 * columns, and the Connect schemas Debezium sends with every record of the
 * version (the key's and the envelope's), written once here.
 *
 * The input is the version as pgtrail records it (the schemas table:
 * columns JSON with each column's name, type name and type OID, the key
 * columns, the catalog details with not_null and default). Types are
 * resolved by OID: built-in ones directly, the database's own through
 * resolve (the source's catalog; dbz_catalog.h).
 */
#ifndef PGTRAIL_CAPTURE_DBZ_TABLE_H
#define PGTRAIL_CAPTURE_DBZ_TABLE_H

#include <stdbool.h>
#include <stdint.h>

#include "capture/dbz_type.h"
#include "core/buf.h"
#include "core/err.h"

typedef struct pt_dbz_column
{
	char	   *name;
	size_t		name_len;
	char	   *member;			/* "name": as the JSON member's start, escaped once */
	size_t		member_len;
	pt_dbz_type type;
	bool		optional;		/* nullable */
	char	   *default_json;	/* Connect JSON of its default, NULL: none */
} pt_dbz_column;

typedef struct pt_dbz_table
{
	char	   *schema_name;
	char	   *table_name;
	int			version;
	pt_dbz_column *cols;		/* the columns Debezium writes, in table order */
	int			ncols;
	int		   *key;			/* indexes into cols, in primary key order */
	int			nkey;
	char	   *omitted;		/* names of the columns left out, ", "-separated (NULL: none) */
	pt_buf		name;			/* <prefix>.<schema>.<table>, as a topic name: the schemas' prefix */
	pt_buf		key_schema;		/* empty without a key */
	pt_buf		envelope_schema;
} pt_dbz_table;

/* A type the built-in table does not know: resolve it (false with err on failure). */
typedef bool (*pt_dbz_resolve_fn) (void *ctx, uint32_t oid, pt_dbz_type *out, pt_err *err);

typedef struct pt_dbz_version_in
{
	const char *schema_name;
	const char *table_name;
	int			version;
	const char *columns;		/* JSON array, as in the schemas table */
	const char *const *primary_key;
	int			npk;
	const char *details;		/* JSON object or NULL */
} pt_dbz_version_in;

bool		pt_dbz_table_compile(pt_dbz_table *tab, const pt_dbz_version_in *in, const char *prefix,
								 const pt_dbz_modes *m, pt_dbz_resolve_fn resolve, void *ctx, pt_err *err);
void		pt_dbz_table_free(pt_dbz_table *tab);

#endif
