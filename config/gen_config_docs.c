/*
 * config/gen_config_docs.c — writes docs/CONFIG.md and
 * config/pgtrail.conf.example from the key table.
 *
 *     build/bin/gen_config_docs REPOSITORY_ROOT
 */
#include <stdio.h>

#include "config/config.h"

static int
write_file(const char *root, const char *rel, void (*writer) (FILE *))
{
	char		path[4096];
	FILE	   *f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	if ((f = fopen(path, "w")) == NULL)
	{
		perror(path);
		return 1;
	}
	writer(f);
	return fclose(f) != 0;
}

int
main(int argc, char **argv)
{
	if (argc != 2)
	{
		fprintf(stderr, "usage: gen_config_docs REPOSITORY_ROOT\n");
		return 2;
	}
	return write_file(argv[1], "docs/CONFIG.md", pt_config_write_markdown) |
		write_file(argv[1], "config/pgtrail.conf.example", pt_config_write_example);
}
