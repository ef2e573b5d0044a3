/*
 * core/mem.c — allocation that never returns NULL (see mem.h).
 */
#include "core/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
pt_mem_oom(size_t size)
{
	fprintf(stderr, "pgtrail: fatal: out of memory (requested %zu bytes)\n", size);
	exit(3);
}

void *
pt_malloc(size_t size)
{
	void	   *p = malloc(size ? size : 1);

	if (p == NULL)
		pt_mem_oom(size);
	return p;
}

void *
pt_calloc(size_t n, size_t size)
{
	void	   *p = calloc(n ? n : 1, size ? size : 1);

	if (p == NULL)
		pt_mem_oom(n * size);
	return p;
}

void *
pt_realloc(void *ptr, size_t size)
{
	void	   *p = realloc(ptr, size ? size : 1);

	if (p == NULL)
		pt_mem_oom(size);
	return p;
}

char *
pt_strdup(const char *s)
{
	return pt_strndup(s, strlen(s));
}

char *
pt_strndup(const char *s, size_t len)
{
	char	   *p = pt_malloc(len + 1);

	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}
