/*
 * replay/window_int.h — the window's insides, shared by window.c (taking
 * changes in), window_flush.c (writing the net effect) and window_jobs.c
 * (writing it on several connections). Private to those files.
 *
 * Per table, one wrow per key the window touched, its key bytes and the
 * current image's column values in the table's arena, and an open-addressed
 * index from key hash to row (holding half the hash, so a probe that
 * misses rarely touches the row). A row's image is ncols slots: a value, SQL
 * NULL, or not set (the window knows nothing of that column: the target
 * keeps its value).
 */
#ifndef PGTRAIL_REPLAY_WINDOW_INT_H
#define PGTRAIL_REPLAY_WINDOW_INT_H

#include "core/buf.h"
#include "replay/window.h"

#define SLOT_NULL (-1)
#define SLOT_UNSET (-2)

typedef struct wslot
{
	size_t		off;			/* into the table's arena */
	int64_t		len;			/* or SLOT_NULL, SLOT_UNSET */
} wslot;

typedef struct wrow
{
	uint64_t	hash;
	size_t		key_off;		/* key bytes in the arena: each key column's length (4 bytes) and text */
	uint32_t	key_len;
	bool		existed;		/* the target held the key before the window */
	bool		present;		/* the target holds it after the window */
	bool		replaced;		/* existed, left, and a whole new row came to the key */
	int64_t		event_id;		/* the last change to it */
} wrow;

/*
 * Where a set-based flush writes: a connection, inside a transaction, with
 * its own buffers and staging names (a --jobs lane has one of its own, so
 * lanes share nothing while they write), and what it wrote.
 */
typedef struct wsink
{
	PGconn	   *conn;
	pt_buf		sql;
	pt_buf		copy;
	int64_t		stage_names;	/* staging tables made on conn (their names) */
	int64_t		rows;			/* rows written */
} wsink;

/* A staging table made in the target's open transaction, for a set of columns. */
typedef struct wstage
{
	bool	   *cols;			/* ncols flags */
	char		name[64];
} wstage;

typedef struct wtable
{
	pt_ttable  *tt;
	int			ncols;			/* tt->ncols when the first change came */
	wrow	   *rows;
	int			nrows;
	int			rowcap;
	wslot	   *slots;			/* nrows * ncols */
	uint64_t   *index;			/* the hash's high 32 bits, row + 1 below (0 empty); indexcap a power of two */
	uint32_t	indexcap;
	pt_buf		arena;
	wstage	   *stages;			/* made in this target transaction (dropped at its end) */
	int			nstages;
	struct wtable *next;
} wtable;

struct pt_window
{
	wsink		out;			/* the main connection: set-based tables */
	pt_apply   *ap;				/* small tables' statements */
	size_t		max_bytes;
	size_t		bytes;			/* in use: arenas, rows, slots and indexes (their capacity may be twice that) */
	wtable	   *tables;
	pt_buf		key;			/* the key being looked up */
	pt_buf		old_key;		/* a key change's old key */
	int64_t		changes;
	int64_t		rows;			/* rows written as apply's statements */
	int64_t		rows_set_based;	/* rows written through staging tables and COPY */
	int64_t		flushes;
	int64_t		flush_us;		/* time spent writing */
	pt_values	set;			/* a row's values, for apply's statements */
	pt_values	where;
};

/* Slot c of row i. */
static inline wslot *
wt_slot(wtable *wt, int i, int c)
{
	return &wt->slots[(size_t) i * (size_t) wt->ncols + (size_t) c];
}

/* ---- window.c ---- */

/* Every table has the columns it had when its first change came (false: err). */
bool		pt_window_steady(const pt_window *w, pt_err *err);

/* The window was written (since start_us): count it, empty it. */
void		pt_window_written(pt_window *w, int64_t start_us);

/* ---- window_flush.c ---- */

/* Forget wt's staging tables (the transaction that made them ended, or its columns changed). */
void		pt_window_forget_stages(wtable *wt);

/* Rows of wt that change the target (deletes, updates, inserts). */
int64_t		pt_window_table_rows(const wtable *wt);

/* Write wt's net effect set-based into out: deletes, updates, inserts (see window.h). */
bool		pt_window_flush_table(wsink *out, wtable *wt, pt_err *err);

/* Free out's buffers (not its connection). */
void		pt_window_sink_free(wsink *out);

/* Tables with fewer rows to write go as apply's statements (pt_window_send_table). */
#define PT_WINDOW_SMALL_TABLE_ROWS 200

/* Queue wt's net effect as apply's pipelined statements, one per row. */
bool		pt_window_send_table(pt_window *w, wtable *wt, pt_err *err);

#endif
