/*
 * replay/trust.c — what replay believes before it executes anything (see
 * run.h).
 *
 * Replay turns the event store into SQL in the target: rows, and with
 * --create-tables column types, defaults, generated expressions and
 * partition bounds. It believes only what the hash chain covers. Schema
 * versions are checked against their schema events here (a schemas table
 * changed outside capture is refused, as verify reports it); versions of
 * stores written before schema events existed are said, loudly, to be
 * unproven.
 */
#include "replay/run.h"

#include "core/schema_event.h"

bool
pt_trust_versions(replay *r, pt_err *err)
{
	pt_version_audit a;

	if (!pt_versions_audit(r->events, r->opts->schema, &a, err))
		return false;
	if (a.legacy > 0 && !r->legacy_said)
	{
		pt_log_warning(r->log, "%lld schema versions of this event store were recorded before schema versions "
					   "were hashed into the chain: nothing proves them, and replay uses them as the schemas "
					   "table holds them", (long long) a.legacy);
		r->legacy_said = true;
	}
	if (a.bad == 0)
		return true;
	pt_err_set(err, PT_ERR_INTEGRITY, "%s", a.findings[0]);
	if (a.bad > 1)
		pt_err_detail(err, "%lld schema versions are not what the chain recorded; the next: %s", (long long) a.bad,
					  a.findings[1]);
	pt_err_hint(err, "replay builds tables only from what the hash chain proves; run pgtrail-verify, and restore "
				"the schemas table from a backup (each row must match its schema event)");
	return false;
}
