/*
 * capture/dbz_geometry.h — PostgreSQL's geometric types as Debezium writes
 * them: point as io.debezium.data.geometry.Point {x, y, wkb, srid}; box,
 * lseg, path and polygon as io.debezium.data.geometry.Geometry {wkb, srid,
 * extensions} with the shape's type in extensions; circle as
 * io.debezium.data.geometry.Circle {center, radius}; line as
 * io.debezium.data.geometry.Line {a, b, c}.
 *
 * WKB is little-endian: byte order 01, the uint32 type (1 point,
 * 2 linestring, 3 polygon), counts as uint32, coordinates as doubles.
 * A box is the polygon (x1,y1),(x1,y2),(x2,y2),(x2,y1),(x1,y1) of the
 * corners PostgreSQL prints; a polygon's ring is closed with its first
 * point when open. Coordinates print as Java's Double.toString.
 */
#ifndef PGTRAIL_CAPTURE_DBZ_GEOMETRY_H
#define PGTRAIL_CAPTURE_DBZ_GEOMETRY_H

#include <stdbool.h>
#include <stddef.h>

#include "capture/dbz_value.h"

/* The value of geometric text s[0..len) of kind k into out; false when malformed. */
bool		pt_dbz_put_geometry(pt_buf *out, pt_dbz_kind k, const char *s, size_t len, pt_dbz_scratch *sc);

/* The schema of kind k (without a closing brace, as dbz_schema.c writes scalars). */
void		pt_dbz_put_geometry_schema(pt_buf *out, pt_dbz_kind k, bool optional);

#endif
