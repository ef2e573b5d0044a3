/*
 * core/pgcaps.c — server capabilities by major version (see pgcaps.h).
 */
#include "core/pgcaps.h"

pt_pgcaps
pt_pgcaps_from_num(int version_num)
{
	pt_pgcaps	caps;

	caps.version_num = version_num;
	caps.failover_slots = version_num >= 170000;
	caps.virtual_generated = version_num >= 180000;
	caps.publish_generated = version_num >= 180000;
	caps.pgoutput_proto = version_num >= 160000 ? 4 : version_num >= 150000 ? 3 : version_num >= 140000 ? 2 : 1;
	return caps;
}

pt_pgcaps
pt_pgcaps_of(const PGconn *conn)
{
	return pt_pgcaps_from_num(PQserverVersion(conn));
}
