#!/usr/bin/env python3
"""pgtrail_check.py - verify a pgtrail event chain without pgtrail.

Written from docs/FORMAT.md alone (no pgtrail code is read or linked): it
recomputes canonical() and SHA-256 for every row of the events table, as
read by `psql --csv` with the query that page gives, and checks that ids
run 1..N without gaps and every prev_hash/hash links up (format 1, and
format 2 with its values commitment). Then it holds the schemas table to the
`schema` events of the chain (FORMAT.md, "Schema versions in the chain"):
each row's document, rebuilt here, must equal its event's row byte for byte.
Then every erased event to the erasure event that names it last (FORMAT.md,
"Erasure"): what it holds now must match the recorded digest. Erasure
signatures are not checked here (pgtrail-verify and openssl do that).

    pgtrail_check.py [--schema NAME] [--dsn CONNINFO]   # exit 0 ok, 1 broken, 2 usage, 3 psql failed
    pgtrail_check.py --self-test [--format-md PATH]     # the test vectors of FORMAT.md
"""
import argparse, csv, hashlib, io, json, os, re, struct, subprocess, sys

NULL = object()
MAGIC = b"PGTRAIL1"
MAGIC2 = b"PGTRAIL2"
HAS_SEAL_QUERY = """SELECT count(*) FROM pg_attribute WHERE attrelid = to_regclass('{schema}.events')
       AND attname = 'seal' AND NOT attisdropped"""
SEAL_COLUMNS = "encode(seal, 'hex'), encode(sealed, 'hex'), array_to_json(erased)::text"
NO_SEAL_COLUMNS = "NULL, NULL, '[]'"
QUERY = """SELECT id, lsn::text, commit_lsn::text, xid,
       (extract(epoch from committed_at) * 1000000)::bigint AS committed_at_us,
       schema_name IS NULL, schema_name, table_name IS NULL, table_name, schema_version, op,
       key IS NULL, key::text, row IS NULL, row::text, old IS NULL, old::text,
       array_to_json(unchanged)::text,
       actor IS NULL, actor, action IS NULL, action, metadata IS NULL, metadata::text,
       encode(prev_hash, 'hex'), encode(hash, 'hex'), {seal_columns}
FROM {schema}.events ORDER BY id"""
SCHEMAS_QUERY = """SELECT schema_name, table_name, version, first_event_id IS NULL, first_event_id,
       columns::text, array_to_json(primary_key)::text, details IS NULL, details::text
FROM {schema}.schemas"""


def field(value):
    """4-byte big-endian length and UTF-8 bytes; NULL is 0xFFFFFFFF."""
    if value is NULL:
        return struct.pack(">I", 0xFFFFFFFF)
    data = str(value).encode("utf-8")
    return struct.pack(">I", len(data)) + data


def array_form(items):
    """A 4-byte count, then each element as a field (the form of `unchanged`)."""
    return struct.pack(">I", len(items)) + b"".join(field(u) for u in items)


def values_commitment(seal, ev, with_erased=False):
    """Format 2: SHA-256(seal || key || row || old [|| erased])."""
    data = seal + field(ev["key"]) + field(ev["row"]) + field(ev["old"])
    if with_erased:
        data += array_form(ev["erased"])
    return hashlib.sha256(data).digest()


def canonical(ev):
    """ev maps column names to text (or NULL); unchanged is a list of str.
    Format 2 when the event has a seal or a sealed commitment."""
    v2 = ev.get("seal", NULL) is not NULL or ev.get("sealed", NULL) is not NULL
    out = [MAGIC2 if v2 else MAGIC]
    for name in ("id", "lsn", "commit_lsn", "xid", "committed_at_us", "schema_name",
                 "table_name", "schema_version", "op"):
        out.append(field(ev[name]))
    if v2:
        commitment = ev["sealed"] if ev["sealed"] is not NULL else values_commitment(ev["seal"], ev)
        out.append(struct.pack(">I", 32) + commitment)
    else:
        out.extend(field(ev[name]) for name in ("key", "row", "old"))
    out.append(array_form(ev["unchanged"]))
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
        "seal": bytes.fromhex(r[26]) if r[26] else NULL, "sealed": bytes.fromhex(r[27]) if r[27] else NULL,
        "erased": json.loads(r[28]) if r[28] else [],
    }


def json_string(s):
    """A JSON string escaped as FORMAT.md says, and no other way."""
    out = ['"']
    for ch in s:
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch in "\b\f\n\r\t":
            out.append({"\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}[ch])
        elif ord(ch) < 0x20:
            out.append("\\u%04x" % ord(ch))
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def version_document(columns, primary_key, details):
    """A schema version's document: the row of its schema event."""
    keys = "[" + ",".join(json_string(k) for k in primary_key) + "]"
    return '{"columns":' + columns + ',"primary_key":' + keys + ',"details":' + \
        ("null" if details is NULL else details) + "}"


def psql(dsn, sql):
    cmd = ["psql", "-X", "-q", "--csv", "-v", "ON_ERROR_STOP=1", "-c", sql]
    if dsn:
        cmd[1:1] = ["-d", dsn]
    env = dict(os.environ, PGCLIENTENCODING="UTF8")
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    rows = csv.reader(io.TextIOWrapper(proc.stdout, encoding="utf-8", newline=""))
    next(rows, None)  # header
    return proc, rows


def check_versions(ident, dsn, schema_events, next_other, first_row_event):
    """The schemas table against the chain's schema events (rules 1-4 of FORMAT.md)."""
    proc, rows = psql(dsn, SCHEMAS_QUERY.format(schema=ident))
    first_schema_event = min((i for i, _ in schema_events.values()), default=None)
    seen, unproven = set(), 0
    for r in rows:
        name = (r[0], r[1], r[2])
        first = NULL if r[3] == "t" else int(r[4])
        doc = version_document(r[5], json.loads(r[6]) if r[6] else [], NULL if r[7] == "t" else r[8])
        where = f'schema version {r[2]} of "{r[0]}"."{r[1]}"'
        if name not in schema_events:
            below = first is not NULL and first > 0 and (first_schema_event is None or first < first_schema_event)
            if below and first_row_event is not None and \
                    (first_schema_event is None or first_row_event < first_schema_event):
                unproven += 1
                continue
            return report(proc, 1, f"{where}: no schema event in the chain"), 0
        event_id, row = schema_events[name]
        seen.add(name)
        if row != doc:
            return report(proc, 1, f"{where}: differs from schema event {event_id}"), 0
        if first is NULL or first <= event_id or next_other.get(event_id, first) < first:
            return report(proc, 1, f"{where}: first_event_id does not follow schema event {event_id}"), 0
    if proc.wait() != 0:
        sys.stderr.write(proc.stderr.read().decode("utf-8", "replace"))
        return 3, 0
    for name, (event_id, _) in schema_events.items():
        if name not in seen:
            print(f"schema event {event_id}: no row in the schemas table")
            return 1, 0
    return 0, unproven


def check_database(schema, dsn):
    ident = '"' + schema.replace('"', '""') + '"'
    csv.field_size_limit(sys.maxsize)  # a value can be up to 1 GB
    proc, rows = psql(dsn, HAS_SEAL_QUERY.format(schema=ident.replace("'", "''")))
    has_seal = next(rows, ["0"])[0] != "0"
    if proc.wait() != 0:
        sys.stderr.write(proc.stderr.read().decode("utf-8", "replace"))
        return 3
    proc, rows = psql(dsn, QUERY.format(schema=ident, seal_columns=SEAL_COLUMNS if has_seal else NO_SEAL_COLUMNS))
    erased, named = {}, {}
    prev, expected_id, count = bytes(32), 1, 0
    schema_events, next_other, waiting, first_row_event = {}, {}, [], None
    for r in rows:
        ev = row_to_event(r)
        if int(ev["id"]) != expected_id:
            return report(proc, 1, f"event {ev['id']}: expected id {expected_id}")
        if ev["prev_hash"] != prev:
            return report(proc, 1, f"event {ev['id']}: prev_hash does not match the hash of event {expected_id - 1}")
        if chain_hash(prev, ev) != ev["hash"]:
            return report(proc, 1, f"event {ev['id']}: hash mismatch")
        if ev["sealed"] is not NULL:
            erased[int(ev["id"])] = values_commitment(ev["seal"], ev, True) if ev["seal"] is not NULL else None
        elif ev["erased"]:
            return report(proc, 1, f"event {ev['id']}: lists erased values but keeps no commitment")
        if ev["op"] == "erasure":
            for item in json.loads(ev["row"])["events"]:
                if not 0 < item["id"] < int(ev["id"]):
                    return report(proc, 1, f"erasure event {ev['id']}: names event {item['id']}, not before it")
                named[item["id"]] = (int(ev["id"]), bytes.fromhex(item["redacted"]))
        if first_row_event is None and ev["op"] in ("insert", "update", "delete", "truncate", "snapshot"):
            first_row_event = int(ev["id"])
        if ev["op"] == "schema":
            key = (ev["schema_name"], ev["table_name"], ev["schema_version"])
            if key in schema_events:
                return report(proc, 1, f"schema event {ev['id']}: a second one for version {key[2]} of "
                                       f"\"{key[0]}\".\"{key[1]}\"")
            schema_events[key] = (int(ev["id"]), ev["row"])
            waiting.append(int(ev["id"]))
        else:
            for w in waiting:
                next_other[w] = int(ev["id"])  # the first other event after schema event w
            waiting = []
        prev, expected_id, count = ev["hash"], expected_id + 1, count + 1
    if proc.wait() != 0:
        sys.stderr.write(proc.stderr.read().decode("utf-8", "replace"))
        return 3
    code, unproven = check_versions(ident, dsn, schema_events, next_other, first_row_event)
    if code:
        return code
    code = check_erasures(erased, named)
    if code:
        return code
    print(f"ok: {count} events, last hash {prev.hex() if count else '-'}; "
          f"{len(schema_events)} schema versions covered, {unproven} not covered; {len(erased)} events erased")
    return 0


def check_erasures(erased, named):
    """Every erased event against the last erasure naming it, and back."""
    for event_id, digest in sorted(erased.items()):
        if event_id not in named:
            print(f"event {event_id}: values removed without an erasure event")
            return 1
        if digest != named[event_id][1]:
            print(f"event {event_id}: changed after erasure event {named[event_id][0]}")
            return 1
    for event_id, (erasure_id, _) in sorted(named.items()):
        if event_id not in erased:
            print(f"erasure event {erasure_id}: names event {event_id}, which holds no erasure")
            return 1
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
        ev["erased"] = v.get("erased", [])
        for name in ("seal", "sealed"):
            ev[name] = bytes.fromhex(v[name]) if v.get(name) else NULL
        if "values" in v and values_commitment(ev["seal"], ev).hex() != v["values"]:
            print(f"self-test: vector {n}: values commitment differs")
            return 1
        if "redacted" in v and values_commitment(ev["seal"], ev, True).hex() != v["redacted"]:
            print(f"self-test: vector {n}: redaction digest differs")
            return 1
        if canonical(ev).hex() != v["canonical"]:
            print(f"self-test: vector {n}: canonical differs")
            return 1
        if chain_hash(bytes.fromhex(v["prev_hash"]), ev).hex() != v["hash"]:
            print(f"self-test: vector {n}: hash differs")
            return 1
    for block in re.findall(r"```version\n(.*?)```", text, re.S):
        v = {name: json.loads(value) for name, _, value in
             (line.partition(": ") for line in block.strip().split("\n"))}
        doc = version_document(v["columns"], v["primary_key"], NULL if v["details"] is None else v["details"])
        if doc != v["document"]:
            print("self-test: a version's document differs")
            return 1
        if not any(json.loads(l[5:]) == doc for vec in vectors for l in vec.split("\n") if l.startswith("row: ")):
            print("self-test: no vector's row is the version's document")
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
