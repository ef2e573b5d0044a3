#!/usr/bin/env python3
"""pgtrail_check.py - verify a pgtrail event chain without pgtrail.

Written from docs/FORMAT.md alone (no pgtrail code is read or linked): it
recomputes canonical() and SHA-256 for every row of the events table, as
read by `psql --csv` with the query that page gives, and checks that ids
run 1..N without gaps and every prev_hash/hash links up.

    pgtrail_check.py [--schema NAME] [--dsn CONNINFO]   # exit 0 ok, 1 broken, 2 usage, 3 psql failed
    pgtrail_check.py --self-test [--format-md PATH]     # the test vectors of FORMAT.md
"""
import argparse, csv, hashlib, io, json, os, re, struct, subprocess, sys

NULL = object()
MAGIC = b"PGTRAIL1"
QUERY = """SELECT id, lsn::text, commit_lsn::text, xid,
       (extract(epoch from committed_at) * 1000000)::bigint AS committed_at_us,
       schema_name IS NULL, schema_name, table_name IS NULL, table_name, schema_version, op,
       key IS NULL, key::text, row IS NULL, row::text, old IS NULL, old::text,
       array_to_json(unchanged)::text,
       actor IS NULL, actor, action IS NULL, action, metadata IS NULL, metadata::text,
       encode(prev_hash, 'hex'), encode(hash, 'hex')
FROM {schema}.events ORDER BY id"""


def field(value):
    """4-byte big-endian length and UTF-8 bytes; NULL is 0xFFFFFFFF."""
    if value is NULL:
        return struct.pack(">I", 0xFFFFFFFF)
    data = str(value).encode("utf-8")
    return struct.pack(">I", len(data)) + data


def canonical(ev):
    """ev maps column names to text (or NULL); unchanged is a list of str."""
    out = [MAGIC]
    for name in ("id", "lsn", "commit_lsn", "xid", "committed_at_us", "schema_name",
                 "table_name", "schema_version", "op", "key", "row", "old"):
        out.append(field(ev[name]))
    out.append(struct.pack(">I", len(ev["unchanged"])))
    out.extend(field(u) for u in ev["unchanged"])
    for name in ("actor", "action", "metadata"):
        out.append(field(ev[name]))
    return b"".join(out)


def chain_hash(prev, ev):
    return hashlib.sha256(prev + canonical(ev)).digest()


def row_to_event(r):
    def opt(flag, value):
        return NULL if flag == "t" else value
    return {
        "id": r[0], "lsn": r[1], "commit_lsn": r[2], "xid": r[3] if r[3] != "" else NULL,
        "committed_at_us": r[4], "schema_name": opt(r[5], r[6]), "table_name": opt(r[7], r[8]),
        "schema_version": r[9] if r[9] != "" else NULL, "op": r[10],
        "key": opt(r[11], r[12]), "row": opt(r[13], r[14]), "old": opt(r[15], r[16]),
        "unchanged": json.loads(r[17]) if r[17] else [],
        "actor": opt(r[18], r[19]), "action": opt(r[20], r[21]), "metadata": opt(r[22], r[23]),
        "prev_hash": bytes.fromhex(r[24]), "hash": bytes.fromhex(r[25]),
    }


def check_database(schema, dsn):
    ident = '"' + schema.replace('"', '""') + '"'
    cmd = ["psql", "-X", "-q", "--csv", "-v", "ON_ERROR_STOP=1", "-c", QUERY.format(schema=ident)]
    if dsn:
        cmd[1:1] = ["-d", dsn]
    csv.field_size_limit(sys.maxsize)  # a value can be up to 1 GB
    env = dict(os.environ, PGCLIENTENCODING="UTF8")
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    rows = csv.reader(io.TextIOWrapper(proc.stdout, encoding="utf-8", newline=""))
    prev, expected_id, count = bytes(32), 1, 0
    next(rows, None)  # header
    for r in rows:
        ev = row_to_event(r)
        if int(ev["id"]) != expected_id:
            return report(proc, 1, f"event {ev['id']}: expected id {expected_id}")
        if ev["prev_hash"] != prev:
            return report(proc, 1, f"event {ev['id']}: prev_hash does not match the hash of event {expected_id - 1}")
        if chain_hash(prev, ev) != ev["hash"]:
            return report(proc, 1, f"event {ev['id']}: hash mismatch")
        prev, expected_id, count = ev["hash"], expected_id + 1, count + 1
    if proc.wait() != 0:
        sys.stderr.write(proc.stderr.read().decode("utf-8", "replace"))
        return 3
    print(f"ok: {count} events, last hash {prev.hex() if count else '-'}")
    return 0


def report(proc, code, message):
    proc.kill()
    proc.wait()
    print(message)
    return code


def self_test(path):
    text = open(path, encoding="utf-8").read()
    vectors = re.findall(r"```vector\n(.*?)```", text, re.S)
    if not vectors:
        print("self-test: no test vectors found")
        return 1
    for n, block in enumerate(vectors, 1):
        v = {}
        for line in block.strip().split("\n"):
            name, _, value = line.partition(": ")
            v[name] = json.loads(value)
        ev = {k: (NULL if v[k] is None else v[k]) for k in v}
        ev["unchanged"] = v["unchanged"]
        if canonical(ev).hex() != v["canonical"]:
            print(f"self-test: vector {n}: canonical differs")
            return 1
        if chain_hash(bytes.fromhex(v["prev_hash"]), ev).hex() != v["hash"]:
            print(f"self-test: vector {n}: hash differs")
            return 1
    print(f"self-test: {len(vectors)} vectors ok")
    return 0


def main():
    ap = argparse.ArgumentParser(description="verify a pgtrail event chain (docs/FORMAT.md)")
    ap.add_argument("--schema", default="pgtrail")
    ap.add_argument("--dsn")
    ap.add_argument("--self-test", action="store_true")
    ap.add_argument("--format-md", default=os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                          "..", "..", "docs", "FORMAT.md"))
    try:
        args = ap.parse_args()
    except SystemExit as e:
        return 2 if e.code else 0
    return self_test(args.format_md) if args.self_test else check_database(args.schema, args.dsn)


if __name__ == "__main__":
    sys.exit(main())
