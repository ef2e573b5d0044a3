/*
 * replay/mapping.h — mapping rules: where events land when the target's
 * schema is not the source's ([replay] map).
 *
 * Without DDL capture, replay cannot know that a table or column was
 * renamed; the operator says so. Rules, separated by ';':
 *     table app.posts = app.articles        events of app.posts go to app.articles
 *     column app.posts.title = name         the title column lands in name
 *     drop app.posts.legacy                 the legacy column is not written
 * Each may end in @V or @V1-V2: it then applies only to events of those
 * schema versions of the table (version-1 events with title land in
 * today's name; later ones already say name). Names are matched exactly;
 * double-quote a name that holds '.', '=', '@', ';' or spaces.
 */
#ifndef PGTRAIL_REPLAY_MAPPING_H
#define PGTRAIL_REPLAY_MAPPING_H

#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"

typedef struct pt_mapping pt_mapping;

/* Parse the rules (NULL or "" = none); NULL with err (PT_ERR_CONFIG) if malformed. */
pt_mapping *pt_mapping_parse(const char *rules, pt_err *err);
void		pt_mapping_free(pt_mapping *m);

/* The target table of events of (schema, table) version v (borrowed strings). */
void		pt_mapping_table(const pt_mapping *m, const char *schema, const char *table, int version,
							 const char **to_schema, const char **to_table);

/*
 * The target column of column (len bytes) of such events: col itself
 * (*dropped false, *renamed NULL), a new name (*renamed), or *dropped.
 */
void		pt_mapping_column(const pt_mapping *m, const char *schema, const char *table, int version,
							  const char *col, size_t len, const char **renamed, bool *dropped);

/* Number of rules (for the summary). */
int			pt_mapping_count(const pt_mapping *m);

#endif
