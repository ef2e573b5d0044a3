/*
 * verify/report.h — what pgtrail-verify found, and how it is told.
 *
 * The checks (chain.c, checkpoints.c, drift.c) add figures and findings
 * here and never print; main() prints the report once, as text for people
 * or as one JSON object for machines (--format json), and writes the
 * Prometheus textfile (--metrics-file). A finding is one integrity
 * failure: a kind (a fixed word a script can match), the event it names
 * (0 when none), a one-line message and an optional detail.
 */
#ifndef PGTRAIL_VERIFY_REPORT_H
#define PGTRAIL_VERIFY_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "core/err.h"

/* Finding kinds (the "kind" field of the JSON output). */
#define PT_FIND_CHANGED "changed"		/* an event's content no longer matches its hash */
#define PT_FIND_MISSING "missing"		/* events are gone (ids skip, or the tail was cut) */
#define PT_FIND_INSERTED "inserted"		/* an event was put into the chain */
#define PT_FIND_REORDERED "reordered"	/* events' ids were swapped */
#define PT_FIND_BROKEN "broken link"	/* prev_hash does not follow, no simpler story fits */
#define PT_FIND_BAD_SIGNATURE "bad signature"	/* a checkpoint's signature does not verify */
#define PT_FIND_CHECKPOINT "checkpoint mismatch"	/* the chain does not pass through a checkpoint */
#define PT_FIND_ANCHOR "missing anchored checkpoint"	/* the anchor file names what the table lacks */
#define PT_FIND_ANCHOR_FILE "bad anchor file"	/* a line that is not a checkpoint, or none while the table has some */
#define PT_FIND_DRIFT "drift"			/* a live row differs from the log's state */
#define PT_FIND_SCHEMA "schema version"	/* the schemas table says what no schema event does */
#define PT_FIND_ERASURE "erasure"		/* an erasure record that is malformed or not signed by a given key */
#define PT_FIND_ERASED "erased without record"	/* values gone from an event, no erasure event names it */

typedef struct pt_report pt_report;

pt_report  *pt_report_new(void);
void		pt_report_free(pt_report *rep);

/* Add a finding (copied). */
void		pt_report_finding(pt_report *rep, const char *kind, int64_t event_id,
							  const char *detail, const char *fmt,...) PT_PRINTF(5, 6);

/* Number of findings so far. */
int			pt_report_nfindings(const pt_report *rep);

/* A finding from an integrity pt_err (message and detail). */
void		pt_report_err(pt_report *rep, const char *kind, int64_t event_id, const pt_err *err);

/* Figures (each replaces the previous value). */
typedef struct pt_report_figures
{
	bool		full;				/* --full, or no verified point to go on from */
	int64_t		first_id;			/* first event checked (0: none) */
	int64_t		last_id;			/* last event checked */
	int64_t		events_checked;		/* events read and rehashed in this run */
	int64_t		log_events;			/* events in the log (its last id) */
	int64_t		checkpoints_checked;
	int64_t		signatures_checked;
	int64_t		anchors_checked;
	int64_t		versions_covered;	/* schema versions that match their schema event */
	int64_t		versions_unproven;	/* recorded before schema events existed */
	int64_t		drift_tables;		/* tables compared (--drift) */
	int64_t		drift_rows;			/* rows listed as drift */
	double		seconds;
} pt_report_figures;

pt_report_figures *pt_report_figures_of(pt_report *rep);

/* A note for the reader that is not a failure (e.g. "no checkpoints yet"). */
void		pt_report_note(pt_report *rep, const char *fmt,...) PT_PRINTF(2, 3);

/* One drift row: kind "changed" | "missing" (in the log, not live) | "extra" (live, not in the log). */
void		pt_report_drift(pt_report *rep, const char *schema, const char *table, const char *kind,
							const char *key, const char *live_row, const char *log_row);

/* Print as text or JSON. */
void		pt_report_print_text(const pt_report *rep, FILE *out);
void		pt_report_print_json(const pt_report *rep, FILE *out);

/*
 * Write the Prometheus textfile (node_exporter's textfile collector):
 * written to path.tmp and renamed, so a scrape never sees half a file.
 * ok: the run completed (exit 0 or 1); the last-success time is kept from
 * the previous file when this run found failures or could not run.
 */
bool		pt_report_write_metrics(const pt_report *rep, const char *path, bool ran, pt_err *err);

#endif
