/*
 * core/mem.h — allocation that never returns NULL.
 *
 * Out of memory is handled in exactly one place (pt_mem_oom, as PostgreSQL's
 * pg_malloc does), so call sites stay readable. It is the one spot in core/
 * that ends the process: there is nothing sensible a caller could do instead.
 */
#ifndef PGTRAIL_CORE_MEM_H
#define PGTRAIL_CORE_MEM_H

#include <stddef.h>

/* All return memory the caller frees with free(). */
void	   *pt_malloc(size_t size);
void	   *pt_calloc(size_t n, size_t size);
void	   *pt_realloc(void *ptr, size_t size);
char	   *pt_strdup(const char *s);
char	   *pt_strndup(const char *s, size_t len);

#endif
