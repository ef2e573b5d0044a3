/*
 * capture/anchor.c — appending checkpoints to the anchor file, and making
 * sure at start-up that it can (see anchor.h). A file capture may not
 * create or append to is a setting to fix (exit 2), not a failure to run.
 */
#include "capture/anchor.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/mem.h"
#include "core/pq.h"

struct pt_anchor
{
	int			fd;
	char	   *path;
	pt_buf		line;
};

#define ANCHOR_HINT "[capture] anchor_file (--anchor-file) names a file pgtrail-capture may create or append to, " \
	"in a directory that exists"

/* An errno that says the setting is wrong (no such directory, a directory, not allowed), not that I/O failed. */
static bool
is_config_errno(int e)
{
	return e == ENOENT || e == ENOTDIR || e == EISDIR || e == EACCES || e == EPERM || e == EROFS ||
		e == ENAMETOOLONG || e == ELOOP;
}

static bool
io_error(const char *what, const char *path, pt_err *err)
{
	int			e = errno;

	pt_err_set(err, is_config_errno(e) ? PT_ERR_CONFIG : PT_ERR_RUNTIME, "could not %s anchor file \"%s\": %s",
			   what, path, strerror(e));
	pt_err_hint(err, ANCHOR_HINT);
	return false;
}

static bool
unusable(const char *path, const char *why, pt_err *err)
{
	pt_err_set(err, PT_ERR_CONFIG, "cannot use anchor file \"%s\": %s", path, why);
	pt_err_hint(err, ANCHOR_HINT);
	return false;
}

/* A file that does not exist yet: its directory must exist and take a new file. */
static bool
check_new_file(const char *path, pt_err *err)
{
	char	   *dir = pt_strdup(path);
	char	   *slash = strrchr(dir, '/');
	struct stat st;
	pt_buf		why = PT_BUF_INIT;
	bool		ok;

	if (slash == dir)
		slash[1] = '\0';		/* "/anchor.jsonl": the root */
	else if (slash != NULL)
		*slash = '\0';
	else
		strcpy(dir, ".");
	if (stat(dir, &st) != 0)
		pt_buf_printf(&why, "its directory \"%s\" does not exist", dir);
	else if (!S_ISDIR(st.st_mode))
		pt_buf_printf(&why, "\"%s\" is not a directory", dir);
	else if (access(dir, W_OK | X_OK) != 0)
		pt_buf_printf(&why, "no permission to create a file in directory \"%s\"", dir);
	ok = why.len == 0 || unusable(path, why.data, err);
	free(dir);
	pt_buf_free(&why);
	return ok;
}

bool
pt_anchor_check(const char *path, pt_err *err)
{
	struct stat st;
	int			fd;

	if (stat(path, &st) != 0)
		return errno == ENOENT ? check_new_file(path, err) : io_error("use", path, err);
	if (S_ISDIR(st.st_mode))
		return unusable(path, "it is a directory", err);
	if (!S_ISREG(st.st_mode) && !S_ISCHR(st.st_mode))
		return unusable(path, "it is not a regular file", err);
	/* what pt_anchor_open will do, without creating anything */
	fd = open(path, O_RDWR | O_APPEND | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return io_error("open", path, err);
	close(fd);
	return true;
}

/* Append bytes, all of them. */
static bool
append(pt_anchor *a, const char *bytes, size_t len, pt_err *err)
{
	size_t		off = 0;

	while (off < len)
	{
		ssize_t		n = write(a->fd, bytes + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return io_error("append to", a->path, err);
		off += (size_t) n;
	}
	return true;
}

/*
 * End a half-written last line (a crash in the middle of a write) with a
 * newline, so what follows starts on a line of its own; pgtrail-verify
 * takes the fragment for what it is. Appending rather than truncating
 * works on an append-only file (chattr +a). Then find the event id of the
 * last whole checkpoint line (0 when none) in the file's last few lines.
 */
static bool
repair_tail(pt_anchor *a, int64_t *last_id, pt_err *err)
{
	struct stat st;
	char		tail[4096];
	off_t		start;
	ssize_t		n;
	char	   *line;
	pt_checkpoint cp;
	pt_err		bad;

	*last_id = 0;
	if (fstat(a->fd, &st) != 0)
		return io_error("stat", a->path, err);
	if (st.st_size == 0)
		return true;
	start = st.st_size > (off_t) sizeof(tail) - 1 ? st.st_size - (off_t) sizeof(tail) + 1 : 0;
	n = pread(a->fd, tail, (size_t) (st.st_size - start), start);
	if (n != st.st_size - start)
		return io_error("read", a->path, err);
	tail[n] = '\0';
	if (tail[n - 1] != '\n' && !append(a, "\n", 1, err))
		return false;
	/* from the last line back: the first that is a checkpoint */
	while (n > 0)
	{
		tail[n] = '\0';
		if (n > 0 && tail[n - 1] == '\n')
			tail[--n] = '\0';
		line = strrchr(tail, '\n');
		line = line ? line + 1 : tail;
		if ((start == 0 || line != tail) && pt_checkpoint_parse_anchor(line, strlen(line), &cp, &bad))
		{
			*last_id = cp.event_id;
			return true;
		}
		n = line - tail;
	}
	return true;
}

/* Append the checkpoints committed after after_id (a crash came between commit and append). */
static bool
catch_up(pt_anchor *a, PGconn *conn, const char *schema, int64_t after_id, pt_err *err)
{
	pt_buf		sql = PT_BUF_INIT;
	char		id[24];
	const char *params[1] = {id};
	char	   *qschema = pt_pq_ident(conn, schema, err);
	PGresult   *res;
	bool		ok = true;
	pt_checkpoint cp;

	if (qschema == NULL)
		return false;
	snprintf(id, sizeof(id), "%lld", (long long) after_id);
	pt_buf_printf(&sql, "SELECT " PT_CHECKPOINT_COLUMNS " FROM %s.checkpoints WHERE event_id > $1 ORDER BY event_id",
				  qschema);
	PQfreemem(qschema);
	res = pt_pq_exec_params(conn, sql.data, 1, params, PGRES_TUPLES_OK, PT_PQ_ANY, 6, err);
	pt_buf_free(&sql);
	if (res == NULL)
		return false;
	for (int i = 0; ok && i < PQntuples(res); i++)
		ok = pt_checkpoint_from_row(res, i, 0, &cp, err) && pt_anchor_append(a, &cp, err);
	PQclear(res);
	return ok;
}

pt_anchor *
pt_anchor_open(const char *path, PGconn *conn, const char *schema, pt_err *err)
{
	pt_anchor  *a = pt_calloc(1, sizeof(*a));
	int64_t		last_id;

	a->path = pt_strdup(path);
	pt_buf_init(&a->line);
	a->fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0644);	/* append-only files welcome */
	if (a->fd < 0)
	{
		io_error("open", path, err);
		pt_anchor_close(a);
		return NULL;
	}
	if (!repair_tail(a, &last_id, err) || !catch_up(a, conn, schema, last_id, err))
	{
		pt_anchor_close(a);
		return NULL;
	}
	return a;
}

bool
pt_anchor_append(pt_anchor *a, const pt_checkpoint *cp, pt_err *err)
{
	pt_buf_reset(&a->line);
	pt_checkpoint_anchor_line(cp, &a->line);
	if (!append(a, a->line.data, a->line.len, err))
		return false;
	if (fsync(a->fd) != 0)
		return io_error("fsync", a->path, err);
	return true;
}

void
pt_anchor_close(pt_anchor *a)
{
	if (a == NULL)
		return;
	if (a->fd >= 0)
		close(a->fd);
	free(a->path);
	pt_buf_free(&a->line);
	free(a);
}
