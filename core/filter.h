/*
 * core/filter.h — which tables are captured (or replayed): include and exclude patterns.
 *
 * A pattern list is comma-separated; each pattern is schema.table where
 * either part may use * (any run of characters) and may be double-quoted to
 * hold dots, commas or capitals literally ("My Schema"."T*"). A bare name
 * means that table in any schema. A table is captured when it matches the
 * include list (empty = everything) and not the exclude list. The event
 * store's own schema is always excluded.
 */
#ifndef PGTRAIL_CORE_FILTER_H
#define PGTRAIL_CORE_FILTER_H

#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"

typedef struct pt_filter pt_filter;

/* Parse both lists (NULL or "" = none). NULL and err (PT_ERR_CONFIG) if malformed. */
pt_filter  *pt_filter_new(const char *include, const char *exclude, const char *store_schema, pt_err *err);
void		pt_filter_free(pt_filter *f);

bool		pt_filter_match(const pt_filter *f, const char *schema, size_t schema_len,
							const char *table, size_t table_len);

/*
 * The schemas the include list names, when every include pattern names one
 * literally (schema.table, no * in the schema part): every table captured
 * lies in them. The store's schema is left out; each appears once, in
 * the list's order. NULL (with *n = 0) when the list is empty or a pattern
 * could match a table in any schema. The array is malloc'd (free it); its
 * strings are the filter's.
 */
const char **pt_filter_schemas(const pt_filter *f, int *n);

#endif
