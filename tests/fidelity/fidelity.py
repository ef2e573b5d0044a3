#!/usr/bin/env python3
"""fidelity.py - the differential fidelity fuzzer: does the log give the source back?

For each seed: a random workload (workload.py) runs against a fresh source
database with pgtrail-capture attached from before its first statement
(now and then capture runs alongside, otherwise it catches up at the end);
the source's state is recorded at the workload's points (LSN, time, every
table's columns and rows). Then:

  verify     pgtrail-verify --full passes
  full       replay into the final schema (pg_dump --schema-only) equals the final source
  pit        --create-tables replay --until-lsn each point equals the source at that point
  as-of      --as-of each point, for sampled keys, prints the row as it was
             (the columns the table had then, in its order)
  losses     pgtrail.losses holds only losses the workload can have, and every
             table it leaves without a replica identity
  decoders   (--decoders both) a second capture through pgoutput into its own
             store database wrote the same events, every column of every
             event (hash included), and the same schema versions
  capture    capture exits 0 (a stop is a finding too)

Equality is byte for byte: tables, column names, types (format_type) and
NOT NULL, partition parent and bounds, and every row's COPY text under fixed
session settings, sorted. A failing seed is shrunk to a minimal list of statements
(ddmin over the steps) and written as a ready SQL case; tests/fidelity/cases/
keeps those as regression cases (--case FILE runs one); a case that needs
a newer server says so in a line "-- postgresql: 18" (skipped on older ones).

Run inside tests/harness/with_pg.sh (it exports PGHOST etc.); run.sh does that.

    fidelity.py --bin DIR --seeds 1-100 [--size N] [--shrink] [--out DIR]
    fidelity.py --bin DIR --case FILE
exit 0 all clean, 1 a finding, 2 usage, 3 could not run
"""
import argparse
import json
import os
import random
import re
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pq  # noqa: E402
import values  # noqa: E402
import workload  # noqa: E402

SETTINGS = ("SET DateStyle = ISO; SET IntervalStyle = postgres; SET TimeZone = 'UTC'; "
            "SET extra_float_digits = 3; SET bytea_output = hex; SET lc_monetary = 'C'; "
            "SET client_min_messages = error")
RELATIONS = """
SELECT n.nspname, c.relname, c.relkind,
       (SELECT json_agg(json_build_array(a.attname, format_type(a.atttypid, a.atttypmod), a.attgenerated,
                                           a.attnotnull)
                         ORDER BY a.attnum)::text
          FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped),
       CASE WHEN c.relispartition THEN
         (SELECT quote_ident(pn.nspname) || '.' || quote_ident(p.relname)
            FROM pg_inherits i JOIN pg_class p ON p.oid = i.inhparent JOIN pg_namespace pn ON pn.oid = p.relnamespace
           WHERE i.inhrelid = c.oid) || ' ' || pg_get_expr(c.relpartbound, c.oid) END,
       (SELECT json_agg(a.attname ORDER BY array_position(i.indkey::int2[], a.attnum))::text
          FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
         WHERE i.indrelid = c.oid AND i.indisprimary)
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind IN ('r', 'p')
   AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pgtrail', 'pgtrail_replay')
   AND n.nspname NOT LIKE 'pg_toast%'
"""
# the tables whose UPDATEs and DELETEs the server does not decode (no key, no
# replica identity), as capture/losses.c finds them, named as in pgtrail.losses
NO_IDENTITY = """
SELECT n.nspname || '.' || c.relname
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind = 'r' AND c.relpersistence = 'p'
   AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pgtrail', 'pgtrail_replay')
   AND n.nspname NOT LIKE 'pg_toast%'
   AND (c.relreplident = 'n'
        OR (c.relreplident = 'd' AND NOT EXISTS (SELECT 1 FROM pg_index i
                                                  WHERE i.indrelid = c.oid AND i.indisprimary))
        OR (c.relreplident = 'i' AND NOT EXISTS (SELECT 1 FROM pg_index i
                                                  WHERE i.indrelid = c.oid AND i.indisreplident)))
"""


ADMIN = [None]  # one connection to the postgres database, for the whole run


class Finding(Exception):
    def __init__(self, check, detail):
        super().__init__(f"{check}: {detail}")
        self.check, self.detail = check, detail


def qi(name):
    return workload.qi(name)


def state(dsn):
    """{(schema, table): (columns, partition, key, sorted COPY lines)}"""
    c = pq.Conn(dsn)
    try:
        c.q(SETTINGS + "; SET lock_timeout = '60s'")
        out = {}
        for nsp, rel, kind, cols, part, key in c.q(RELATIONS):
            rows = []
            if kind == "r":
                rows, err = c.exec(f"COPY (SELECT * FROM ONLY {qi(nsp)}.{qi(rel)}) TO STDOUT")
                if err:
                    raise pq.Error(err)
            out[(nsp, rel)] = (cols, part, key, sorted(rows))
        return out
    finally:
        c.close()


def unescape_copy(field):
    if field == b"\\N":
        return None
    out, i, s = bytearray(), 0, field
    esc = {ord("t"): 9, ord("n"): 10, ord("r"): 13, ord("b"): 8, ord("f"): 12, ord("v"): 11, ord("\\"): 92}
    while i < len(s):
        if s[i] == 92 and i + 1 < len(s):
            i += 1
            out.append(esc.get(s[i], s[i]))
        else:
            out.append(s[i])
        i += 1
    return out.decode()


def diff_states(check, want, got, columns_only=False):
    for t in sorted(set(want) | set(got)):
        name = ".".join(t)
        if t not in got:
            raise Finding(check, f"table {name} missing from the target")
        if t not in want:
            raise Finding(check, f"table {name} in the target but not in the source")
        w, g = want[t], got[t]
        if w[0] != g[0]:
            raise Finding(check, f"table {name} columns differ: source ({w[0]}) target ({g[0]})")
        if w[1] != g[1]:
            raise Finding(check + "-partition", f"table {name} partition differs: source {w[1]} target {g[1]}")
        if not columns_only and w[3] != g[3]:
            missing = [r for r in w[3] if r not in g[3]][:2]
            extra = [r for r in g[3] if r not in w[3]][:2]
            raise Finding(check, f"table {name} rows differ ({len(w[3])} vs {len(g[3])}): "
                                 f"only in source {missing}, only in target {extra}")


class Run:
    """One workload against one source database, and every check of it."""

    def __init__(self, steps, tag, opts):
        self.steps, self.tag, self.opts = steps, tag, opts
        self.src = tag
        self.tgt = f"fzt{os.getpid()}"  # targets are reused from run to run
        self.points = []
        self.errors = 0
        self.no_identity_ever = set()  # tables left without a replica identity by some commit
        self.no_identity_end = set()  # and at the end of the workload
        self.log = os.path.join(opts.work, tag + ".log")

    def dsn(self, db):
        return f"dbname={db}"

    def prog(self, name, *args, ok=(0,)):
        t0 = time.time()
        p = subprocess.run([os.path.join(self.opts.bin, name), *args], capture_output=True, text=True)
        with open(self.log, "a") as f:
            f.write(f"$ {name} {' '.join(args)}\n-> {p.returncode} in {time.time() - t0:.2f} s\n"
                    f"{p.stdout[-3000:]}{p.stderr[-3000:]}\n")
        if p.returncode not in ok:
            raise Finding(name.replace("pgtrail-", ""), f"exit {p.returncode}: {p.stderr.strip()[-600:]}")
        return p

    def admin(self, sql):
        if ADMIN[0] is None:
            ADMIN[0] = pq.Conn("dbname=postgres")
        return ADMIN[0].q(sql)

    def createdb(self, db, prelude=True):
        """A fresh database; a target left by an earlier run is emptied
        instead (much cheaper than dropping and creating it again)."""
        if self.admin(f"SELECT 1 FROM pg_database WHERE datname = '{db}'") and db != self.src:
            c = pq.Conn(self.dsn(db))
            schemas = c.q("SELECT nspname FROM pg_namespace WHERE nspname NOT LIKE 'pg\\_%' "
                          "AND nspname <> 'information_schema'")
            c.q("; ".join(f"DROP SCHEMA {qi(s)} CASCADE" for s, in schemas) + "; CREATE SCHEMA public")
        else:
            self.admin(f"DROP DATABASE IF EXISTS {qi(db)} WITH (FORCE)")
            self.admin(f"CREATE DATABASE {qi(db)} TEMPLATE template0 STRATEGY file_copy")
            c = pq.Conn(self.dsn(db))
        if prelude:
            for sql in values.PRELUDE:
                c.q(sql)
        c.close()

    def capture_args(self):
        return ["--source", self.dsn(self.src), "--slot", self.src, "--ddl", "on", "--messages",
                "--log-level", "warning"]

    # ---- the source ------------------------------------------------------
    def run_workload(self):
        sessions = {}
        watch = pq.Conn(self.dsn(self.src))
        for st in self.steps:
            if st.point:
                self.points.append(self.record())
                continue
            c = sessions.get(st.session)
            if c is None:
                c = sessions[st.session] = pq.Conn(self.dsn(self.src))
                c.q("SET lock_timeout = '300ms'; SET client_min_messages = error")
            _, err = c.exec(st.sql, st.copy_data)
            if err is not None:
                self.errors += 1
                with open(self.log, "a") as f:
                    f.write(f"session {st.session}: {st.sql[:300]}\n  failed: {err.splitlines()[0]}\n")
            self.watch_identity(watch)
        for c in sessions.values():
            c.exec("ROLLBACK")
            c.close()
        self.no_identity_end = self.watch_identity(watch)
        watch.close()
        self.final = self.record() if not self.steps or not self.steps[-1].point else self.points[-1]
        if not self.points:
            self.points.append(self.final)

    def watch_identity(self, watch):
        """The committed tables without a replica identity now (a workload step
        commits at most once: read after each, these are all the states capture
        could have read)."""
        now = {r[0] for r in watch.q(NO_IDENTITY)}
        self.no_identity_ever |= now
        return now

    def record(self):
        c = pq.Conn(self.dsn(self.src))
        try:
            # --until-lsn, like PostgreSQL's recovery_target_lsn, includes a commit
            # record that starts at the LSN; one that starts at the insert position
            # read here is written after this point: the point is one byte before
            (lsn, ts), = c.q("SELECT (pg_current_wal_lsn() - 1)::text, clock_timestamp()::text")
        finally:
            c.close()
        return {"lsn": lsn, "time": ts, "state": state(self.dsn(self.src))}

    def pgoutput_args(self):
        """The second capture of --decoders both: the same source, through
        pgoutput, into a store database of its own."""
        return ["--source", self.dsn(self.src), "--sink", self.dsn(self.src + "_pgo"), "--slot", self.src + "_pgo",
                "--decoder", "pgoutput", "--publication", self.src, "--ddl", "on", "--messages",
                "--log-level", "warning"]

    def wait_streaming(self, live):
        """Until the live capture reads its slot: its signal handler is in
        place by then, so the SIGTERM at the end stops it cleanly (a capture
        starved of CPU was seen to die of a SIGTERM sent before that)."""
        for _ in range(600):
            if live.poll() is not None:
                return
            if self.admin(f"SELECT 1 FROM pg_replication_slots WHERE slot_name = '{self.src}' AND active"):
                return
            time.sleep(0.05)
        raise Finding("capture", "capture running alongside did not start streaming in 30 s")

    def capture(self):
        self.createdb(self.src)
        if self.opts.decoders == "both":  # first: its CREATE PUBLICATION is before both slots
            self.createdb(self.src + "_pgo", prelude=False)
            self.prog("pgtrail-capture", *self.pgoutput_args(), "--endpos", "0/1")
        self.prog("pgtrail-capture", *self.capture_args(), "--endpos", "0/1")
        live = None
        if self.opts.live:
            live = subprocess.Popen([os.path.join(self.opts.bin, "pgtrail-capture"), *self.capture_args()],
                                    stdout=subprocess.DEVNULL, stderr=open(self.log + ".live", "w"))
            self.wait_streaming(live)
        try:
            self.run_workload()
        finally:
            if live:
                live.send_signal(signal.SIGTERM)
                if live.wait(60) != 0:
                    raise Finding("capture", f"capture running alongside exited {live.returncode}: "
                                             + open(self.log + ".live").read()[-600:])
        (end,), = self.admin("SELECT pg_current_wal_lsn()::text")
        self.prog("pgtrail-capture", *self.capture_args(), "--endpos", end)
        if self.opts.decoders == "both":
            self.prog("pgtrail-capture", *self.pgoutput_args(), "--endpos", end)

    # ---- the checks ------------------------------------------------------
    def check_verify(self):
        self.prog("pgtrail-verify", "--events", self.dsn(self.src), "--full")

    def check_full(self):
        tgt = self.tgt + "_f"
        self.createdb(tgt, prelude=False)
        dump = subprocess.run(["pg_dump", "--schema-only", "--no-publications", "--exclude-schema=pgtrail", "-d", self.src],
                              capture_output=True, text=True, check=True).stdout
        subprocess.run(["psql", "-qX", "-d", tgt], input=dump, capture_output=True, text=True)
        self.prog("pgtrail-replay", "--events", self.dsn(self.src), "--target", self.dsn(tgt),
                  "--log-level", "warning")
        diff_states("full", self.final["state"], state(self.dsn(tgt)))

    def check_pit(self, i, point):
        tgt = f"{self.tgt}_p{i}"
        self.createdb(tgt)
        # point-in-time replays go through --jobs (replay/window_jobs.h): batches of a few
        # thousand events leave many without DDL, whose windows two connections write
        self.prog("pgtrail-replay", "--events", self.dsn(self.src), "--target", self.dsn(tgt),
                  "--create-tables", "--until-lsn", point["lsn"], "--jobs", "2", "--batch-size", "3000",
                  "--log-level", "warning")
        diff_states(f"pit", point["state"], state(self.dsn(tgt)))

    def check_as_of(self, point, rng):
        keyed = [(t, v) for t, v in point["state"].items() if v[2] and v[3]]
        for t, (cols, _, key, rows) in rng.sample(keyed, min(3, len(keyed))):
            columns = json.loads(cols)
            line = rng.choice(rows)
            vals = [unescape_copy(f) for f in line.rstrip(b"\n").split(b"\t")]
            # a virtual generated column (18) is computed, never stored: not in the log
            want = {c[0]: v for c, v in zip(columns, vals) if c[2] != "v"}
            keyjson = json.dumps({k: want[k] for k in json.loads(key)})
            p = self.prog("pgtrail-replay", "--events", self.dsn(self.src), "--as-of", point["time"],
                          "--table", f"{qi(t[0])}.{qi(t[1])}", "--key", keyjson, "--format", "json")
            got = json.loads(p.stdout)
            # the columns the table had then, in its order
            if got != want or list(got or {}) != list(want):
                raise Finding("as-of", f"{'.'.join(t)} key {keyjson} at {point['time']}: "
                                       f"want {json.dumps(want)[:400]} got {p.stdout.strip()[:400]}")

    def check_losses(self):
        """Capture reports only losses the workload can have, and every
        table it leaves without a replica identity. The workload makes no
        unlogged table and no NaN (a null in a nullable numeric column is
        counted as a possible NaN, which is right). Its tables have a key or
        a replica identity, except one made for ATTACH PARTITION (CREATE
        TABLE ... (LIKE ...)): it has none until the ATTACH commits, and for
        ever when the ATTACH fails (a lock timeout). wal2json sends nothing of
        such a table's UPDATEs and DELETEs, so capture says the table itself
        (no_replica_identity) when it finds it so in the catalog, which it
        reads now and then: it may say one that some commit left so, and must
        say one left so at the end (the catch-up run reads the catalog at
        start)."""
        c = pq.Conn(self.dsn(self.src))
        try:
            rows = c.q("SELECT schema_name || '.' || table_name, kind FROM pgtrail.losses "
                       "WHERE kind <> 'maybe_nan_as_null' ORDER BY 1, 2")
        finally:
            c.close()
        said = {t for t, kind in rows if kind == "no_replica_identity"}
        wrong = [f"{t}: {kind}" for t, kind in rows
                 if kind != "no_replica_identity" or t not in self.no_identity_ever]
        if wrong:
            raise Finding("losses", "capture reported losses the workload cannot have: " + ", ".join(wrong))
        unsaid = sorted(self.no_identity_end - said)
        if unsaid:
            raise Finding("losses", "capture did not report tables the workload left without a replica "
                                    "identity: " + ", ".join(unsaid))

    def check_decoders(self):
        """Both stores hold the same events and schema versions, byte for byte
        (every column but the hashes and seals, which format 2 draws at
        random per store), except for the stored generated columns pgoutput before 18 does not
        send, which its store counts as losses: those are left out of the
        wal2json store's rows, and hashes compared only up to the first
        event that had one (the chains part there); and except for a
        TRUNCATE of a partitioned table, which pgoutput sends as one of its
        partitions only (wal2json names the table too): that event is left
        out of the wal2json store's list, ids and hashes compared only
        before it."""
        got, unsent = [], {}
        # every column but the hashes and the seal, which are drawn at random per store (format 2)
        for what, sql in (("events", "SELECT id, lsn, commit_lsn, xid, committed_at, schema_name, table_name, "
                                     "schema_version, op, key, row, old, unchanged, actor, action, metadata, "
                                     "sealed, erased FROM pgtrail.events ORDER BY id"),
                          ("schema versions", "SELECT schema_name, table_name, version, columns, primary_key, first_event_id, "
                                             "details FROM pgtrail.schemas ORDER BY schema_name, table_name, version"),
                          ("losses", "SELECT schema_name, table_name, detail FROM pgtrail.losses "
                                     "WHERE kind = 'generated_not_sent'"),
                          ("partitioned", "SELECT schema_name, table_name, version::text FROM pgtrail.schemas "
                                          "WHERE details->>'partition_key' IS NOT NULL")):
            for db in (self.src, self.src + "_pgo"):
                c = pq.Conn(self.dsn(db))
                try:
                    got.append(c.q(sql))
                finally:
                    c.close()
        for schema, table, column in got[5]:
            unsent.setdefault((schema, table), set()).add(column)
        got = [[tuple(r) for r in rows] for rows in got]
        roots = set(got[6])
        got[0], at = without_root_truncates(got[0], roots)
        if at is not None:  # ids part there: so do the versions' first event ids
            got[1] = [ev if i < at else (None, *ev[1:16], None, None) for i, ev in enumerate(got[1])]
            got[2], got[3] = ([(*v[:5], None, *v[6:]) for v in got[k]] for k in (2, 3))
        if unsent:
            got[0], parted_at = without_unsent(got[0], unsent)
            got[1], _ = without_unsent(got[1], unsent, parted_at if parted_at is not None else len(got[1]))
        for what, (a, b) in (("events", got[0:2]), ("schema versions", got[2:4])):
            if a != b:
                raise Finding("decoders", f"{what} differ ({len(a)} from wal2json, {len(b)} from "
                                          f"pgoutput): " + first_difference(a, b))

    def check(self, rng):
        if self.opts.decoders == "both":
            self.check_decoders()
        self.check_verify()
        self.check_losses()
        self.check_full()
        sample = sorted(rng.sample(range(len(self.points)), min(self.opts.points, len(self.points))))
        if len(self.points) - 1 not in sample:
            sample[-1:] = [len(self.points) - 1]
        for k, i in enumerate(sample):
            self.check_pit(k, self.points[i])
            self.check_as_of(self.points[i], rng)

    def cleanup(self):
        for (gid, db) in self.admin(f"SELECT gid, database FROM pg_prepared_xacts WHERE database = '{self.src}'"):
            c = pq.Conn(self.dsn(db))
            c.exec(f"ROLLBACK PREPARED '{gid}'")
            c.close()
        dbs = [r[0] for r in self.admin(f"SELECT datname FROM pg_database WHERE datname LIKE '{self.src}%'")]
        self.admin(f"SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots "
                   f"WHERE slot_name IN ('{self.src}', '{self.src}_pgo') AND NOT active")
        for db in dbs:
            if db == self.src or db.startswith(self.src + "_"):
                self.admin(f"DROP DATABASE IF EXISTS {qi(db)} WITH (FORCE)")
        for (name,) in self.admin("SELECT roname FROM pg_replication_origin"):
            ADMIN[0].exec(f"SELECT pg_replication_origin_drop('{name}')")

    def go(self, seed):
        try:
            self.capture()
            self.check(random.Random(seed))
            return None
        except Finding as f:
            return f
        finally:
            if not self.opts.keep:
                self.cleanup()


def without_root_truncates(events, roots):
    """Events without the TRUNCATE events of the partitioned tables roots
    ((schema, table, version): a name may be a partitioned table in one
    version and a plain one in another),
    ids and hashes left out from the first one on. Returns (events, the
    first one's index or None)."""
    out, at = [], None
    for ev in events:
        if ev[8] == "truncate" and (ev[5], ev[6], ev[7]) in roots:
            at = len(out) if at is None else at
            continue
        out.append(tuple(ev) if at is None else (None, *ev[1:16], None, None))
    return out, at


def without_unsent(events, unsent, parted_at=None):
    """Events as pgoutput before 18 gives them: without the stored generated
    columns of unsent ({(schema, table): columns}) in row and old (both
    parsed and written again, for either store), and without hashes from
    the first event that had one (parted_at: that event's index, found in
    the wal2json store's events when None). Returns (events, parted_at)."""
    out = []
    for i, ev in enumerate(events):
        cols = unsent.get((ev[5], ev[6]))
        if cols and ev[8] != "schema":
            ev = list(ev)
            for k in (10, 11):
                if ev[k] is not None:
                    obj = json.loads(ev[k])
                    if parted_at is None and any(c in obj for c in cols):
                        parted_at = i
                    ev[k] = json.dumps({n: v for n, v in obj.items() if n not in cols}, ensure_ascii=False)
        if parted_at is not None and i >= parted_at:
            ev = list(ev[:16]) + [None, None]
        out.append(tuple(ev))
    return out, parted_at


def first_difference(rows_a, rows_b):
    """The first row where two lists of rows differ: its first column, and
    the differing columns of each."""
    i = next((i for i, (a, b) in enumerate(zip(rows_a, rows_b)) if a != b), min(len(rows_a), len(rows_b)))
    if i == len(rows_a) or i == len(rows_b):
        return f"row {i} only in {'pgoutput' if i == len(rows_a) else 'wal2json'}"
    cols = [k for k, (x, y) in enumerate(zip(rows_a[i], rows_b[i])) if x != y]
    return (f"row {i} ({rows_a[i][0]}), columns {cols}: wal2json {[rows_a[i][k] for k in cols]!s:.300} "
            f"pgoutput {[rows_b[i][k] for k in cols]!s:.300}")


def signature(f):
    """What makes two failures the same one: the check, and the detail's
    start without numbers (LSNs, ids and counts move as the workload shrinks)."""
    return f.check, re.sub(r"[0-9A-F]+/[0-9A-F]+|\d+", "#", f.detail)[:50]


def shrink(steps, seed, failure, opts):
    """ddmin over the steps: the smallest list that still fails the same check."""
    attempt = [0]

    def fails(cand):
        attempt[0] += 1
        f = Run(cand, f"fz{seed}x{attempt[0]}", opts).go(seed)
        return f is not None and signature(f) == signature(failure)

    n = 2
    while len(steps) >= 2:
        chunk = max(1, len(steps) // n)
        reduced = False
        for i in range(0, len(steps), chunk):
            cand = steps[:i] + steps[i + chunk:]
            if [s for s in cand if not s.point] and fails(cand):
                steps, n, reduced = cand, max(n - 1, 2), True
                break
        if not reduced:
            if chunk == 1:
                break
            n = min(len(steps), n * 2)
    return steps


def run_seed(seed, opts):
    steps = workload.generate(seed, opts.size, int(os.environ.get("PGTRAIL_TEST_PG_VERSION", "15")))
    opts.live = seed % 3 == 0 if opts.live_mode == "auto" else opts.live_mode == "on"
    t0 = time.time()
    r = Run(steps, f"fz{seed}", opts)
    f = r.go(seed)
    took = time.time() - t0
    if f is None and any(k[:2] == (os.environ.get("PGTRAIL_TEST_PG_VERSION", "15"), seed) for k in opts.known):
        print(f"seed {seed}: ok, and listed in --known: that finding is fixed, take it out", flush=True)
    if f is None:
        print(f"seed {seed}: ok ({len(steps)} steps, {r.errors} failed statements, "
              f"{len(r.points)} points, {'live' if opts.live else 'catch-up'}, {took:.1f} s)", flush=True)
        return True
    known = opts.known.get((os.environ.get("PGTRAIL_TEST_PG_VERSION", "15"), seed, f.check))
    if known:
        print(f"seed {seed}: KNOWN {f} (open finding: {known})", flush=True)
        return True
    print(f"seed {seed}: FAIL {f}", flush=True)
    path = os.path.join(opts.out, f"seed-{seed}.sql")
    if opts.shrink:
        steps = shrink(steps, seed, f, opts)
    with open(path, "w") as out:
        out.write(f"-- fidelity seed {seed}: {f.check}: {f.detail[:300]}\n"
                  f"-- live capture: {'on' if opts.live else 'off'}\n" + workload.to_sql(steps))
    print(f"seed {seed}: {'minimal' if opts.shrink else 'whole'} workload ({len(steps)} steps) in {path}", flush=True)
    return False


def run_case(path, opts):
    text = open(path).read()
    needs = re.search(r"^-- postgresql: (\d+)$", text, re.M)
    pg = int(os.environ.get("PGTRAIL_TEST_PG_VERSION", "15"))
    if needs and pg < int(needs.group(1)):
        print(f"case {path}: skipped (needs PostgreSQL {needs.group(1)}, this is {pg})", flush=True)
        return True
    opts.live = "-- live capture: on" in text
    name = "fz" + "".join(ch for ch in os.path.basename(path).split(".")[0] if ch.isalnum()).lower()[:40]
    steps = workload.from_sql(text)
    f = Run(steps, name, opts).go(0)
    print(f"case {path}: {'ok' if f is None else 'FAIL ' + str(f)}", flush=True)
    if f is not None and opts.shrink:
        steps = shrink(steps, 0, f, opts)
        out = os.path.join(opts.out, os.path.basename(path))
        with open(out, "w") as w:
            w.write(f"-- fidelity case {path}: {f.check}: {f.detail[:300]}\n"
                    f"-- live capture: {'on' if opts.live else 'off'}\n" + workload.to_sql(steps))
        print(f"case {path}: minimal workload ({len(steps)} steps) in {out}", flush=True)
    return f is None


def read_known(path):
    """{(pg, seed, check): why} from a known-findings file (see cases/../known.txt)."""
    known = {}
    for line in open(path).read().splitlines() if path else []:
        words = line.split("#", 1)[0].split()
        if len(words) == 3:
            known[(words[0], int(words[1]), words[2])] = line.split("#", 1)[-1].strip()
    return known


def seed_list(spec):
    out = []
    for part in spec.split(","):
        a, _, b = part.partition("-")
        out += list(range(int(a), int(b or a) + 1))
    return out


def main():
    ap = argparse.ArgumentParser(description="differential fidelity fuzzer (see the top of this file)")
    ap.add_argument("--bin", required=True, help="directory of pgtrail-capture, -replay, -verify")
    ap.add_argument("--seeds", help="seeds: 1-100,200")
    ap.add_argument("--case", action="append", default=[], help="a SQL case file (repeatable)")
    ap.add_argument("--cases-dir", help="run every *.sql case in this directory too")
    ap.add_argument("--size", type=int, default=60, help="statements per workload")
    ap.add_argument("--points", type=int, default=3, help="points checked with --create-tables and --as-of")
    ap.add_argument("--live", dest="live_mode", choices=["auto", "on", "off"], default="auto",
                    help="capture alongside the workload (auto: every third seed)")
    ap.add_argument("--decoders", choices=["wal2json", "both"], default="wal2json",
                    help="both: a second capture through pgoutput must write the same events")
    ap.add_argument("--known", help="open findings (lines 'PG SEED CHECK # why'): reported, not failed")
    ap.add_argument("--shrink", action="store_true", help="shrink a failing workload to a minimal one")
    ap.add_argument("--keep", action="store_true", help="keep the databases of each run")
    ap.add_argument("--out", default=os.environ.get("PGTRAIL_TEST_DIR", "."), help="where failing workloads are written")
    ap.add_argument("--work", default=os.environ.get("PGTRAIL_TEST_DIR", "/tmp"), help="logs")
    opts = ap.parse_args()
    opts.known = read_known(opts.known)
    if opts.cases_dir:
        opts.case += sorted(os.path.join(opts.cases_dir, n) for n in os.listdir(opts.cases_dir) if n.endswith(".sql"))
    if not opts.seeds and not opts.case:
        ap.error("give --seeds or --case")
    os.makedirs(opts.out, exist_ok=True)
    ok = True
    try:
        for path in opts.case:
            ok = run_case(path, opts) and ok
        for seed in seed_list(opts.seeds) if opts.seeds else []:
            ok = run_seed(seed, opts) and ok
    except (pq.Error, subprocess.CalledProcessError, OSError) as e:
        print(f"fidelity: could not run: {e}", file=sys.stderr)
        return 3
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
