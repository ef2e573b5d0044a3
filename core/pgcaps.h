/*
 * core/pgcaps.h — what a PostgreSQL server can do, by major version.
 *
 * Version differences live here, in one struct filled from the server's
 * server_version_num, so callers ask "can it" (caps.failover_slots) rather
 * than compare version numbers of their own. Tested on 15, 17 and 18; 16
 * behaves as 17 for all pgtrail uses except failover slots.
 */
#ifndef PGTRAIL_CORE_PGCAPS_H
#define PGTRAIL_CORE_PGCAPS_H

#include <libpq-fe.h>
#include <stdbool.h>

typedef struct pt_pgcaps
{
	int			version_num;		/* server_version_num: 170012 */
	bool		failover_slots;		/* 17+: CREATE_REPLICATION_SLOT ... (FAILOVER) */
	bool		virtual_generated;	/* 18+: GENERATED ALWAYS AS (...) VIRTUAL */
	bool		publish_generated;	/* 18+: publications can carry stored generated columns */
	int			pgoutput_proto;		/* newest pgoutput protocol: 1 (10+), 2 (14+), 3 (15+), 4 (16+) */
} pt_pgcaps;

/* The capabilities of the server conn is connected to. */
pt_pgcaps	pt_pgcaps_of(const PGconn *conn);

/* The same, from a server_version_num (unit tests, a number read elsewhere). */
pt_pgcaps	pt_pgcaps_from_num(int version_num);

#endif
