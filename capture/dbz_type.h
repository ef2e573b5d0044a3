/*
 * capture/dbz_type.h — what Debezium makes of a column type: the kind of
 * value it writes, from the type's OID (never its printed name) and the
 * typmod, plus the settings that shape values.
 *
 * Built-in types are known by OID here. Types of the database's own
 * (enums, domains, extension types such as hstore, citext and ltree, and
 * arrays of them) are read from the source's catalog by dbz_catalog.c and
 * described with the same struct. A kind of PT_DBZ_OMITTED is a type
 * Debezium's PostgreSQL connector leaves out of its records (tsquery,
 * pg_lsn, money[], interval[], arrays of the geometric types, ...; said
 * once per table at start).
 */
#ifndef PGTRAIL_CAPTURE_DBZ_TYPE_H
#define PGTRAIL_CAPTURE_DBZ_TYPE_H

#include <stdbool.h>
#include <stdint.h>

typedef enum pt_dbz_kind
{
	PT_DBZ_OMITTED = 0,
	PT_DBZ_BOOL,
	PT_DBZ_INT16,
	PT_DBZ_INT32,
	PT_DBZ_INT64,
	PT_DBZ_FLOAT32,
	PT_DBZ_FLOAT64,
	PT_DBZ_NUMERIC,
	PT_DBZ_MONEY,
	PT_DBZ_STRING,
	PT_DBZ_JSON,
	PT_DBZ_XML,
	PT_DBZ_UUID,
	PT_DBZ_LTREE,
	PT_DBZ_TSVECTOR,
	PT_DBZ_ENUM,
	PT_DBZ_BYTEA,
	PT_DBZ_BIT,
	PT_DBZ_DATE,
	PT_DBZ_TIME,
	PT_DBZ_TIMETZ,
	PT_DBZ_TIMESTAMP,
	PT_DBZ_TIMESTAMPTZ,
	PT_DBZ_INTERVAL,
	PT_DBZ_HSTORE,
	PT_DBZ_POINT,
	PT_DBZ_BOX,
	PT_DBZ_LSEG,
	PT_DBZ_PATH,
	PT_DBZ_POLYGON,
	PT_DBZ_CIRCLE,
	PT_DBZ_LINE,
	PT_DBZ_POSTGIS_GEOMETRY,	/* PostGIS geometry and geography: hex EWKB */
	PT_DBZ_POSTGIS_GEOGRAPHY,
	PT_DBZ_NULL_STRING			/* name: a string field whose streamed value is always null */
} pt_dbz_kind;

typedef struct pt_dbz_type
{
	pt_dbz_kind kind;
	bool		array;			/* an array of kind (one dimension) */
	int			length;			/* numeric precision, bit length; -1 none */
	int			scale;			/* numeric scale, fraction digits of times; -1 none */
	char	   *enum_allowed;	/* enum labels joined by ',' (owned), else NULL */
} pt_dbz_type;

/* The settings of [kafka] that shape values, Debezium's names. */
typedef enum { PT_DBZ_DECIMAL_PRECISE, PT_DBZ_DECIMAL_STRING, PT_DBZ_DECIMAL_DOUBLE } pt_dbz_decimal_mode;
typedef enum { PT_DBZ_TIME_ADAPTIVE, PT_DBZ_TIME_ADAPTIVE_US, PT_DBZ_TIME_CONNECT, PT_DBZ_TIME_ISOSTRING } pt_dbz_time_mode;
typedef enum { PT_DBZ_BINARY_BYTES, PT_DBZ_BINARY_BASE64, PT_DBZ_BINARY_HEX } pt_dbz_binary_mode;

typedef struct pt_dbz_modes
{
	pt_dbz_decimal_mode decimal;
	pt_dbz_time_mode time;
	pt_dbz_binary_mode binary;
	bool		interval_string;	/* interval.handling.mode = string */
	bool		hstore_map;		/* hstore.handling.mode = map */
	int			money_digits;	/* money.fraction.digits */
} pt_dbz_modes;

/* Debezium's defaults. */
void		pt_dbz_modes_default(pt_dbz_modes *m);

/* Parse one setting's value into m; false when it is not one of the setting's values. */
bool		pt_dbz_modes_set(pt_dbz_modes *m, const char *name, const char *value);

/*
 * A built-in type by OID, with the column's typmod read from its recorded
 * name (format_type's "numeric(12,2)", "timestamp(3) with time zone",
 * "bit varying(24)", "numeric(10,2)[]"). False when oid is not built in
 * (a type of the database's own: ask the catalog).
 */
bool		pt_dbz_type_builtin(uint32_t oid, const char *type_name, pt_dbz_type *out);

/*
 * A type of an extension known by its name (hstore, citext, ltree, isbn,
 * ...), kind set in *out; false when the name is none of them.
 */
bool		pt_dbz_type_extension(const char *typname, pt_dbz_type *out);

/* The (length, scale) a typmod gives type oid's kind, into *t. */
void		pt_dbz_type_apply_typmod(pt_dbz_type *t, uint32_t oid, int32_t typmod);

void		pt_dbz_type_free(pt_dbz_type *t);

#endif
