#!/usr/bin/env python3
"""forge.py - what an attacker who can write the database but lacks the
signing key can do: after an edit of event FROM, recompute every hash from
FROM to the end so the chain is valid again, fix the state row, and
optionally rewrite the checkpoints' hashes too (their signatures cannot be
redone). Uses the independent checker's canonical() (written from
docs/FORMAT.md), not pgtrail's code.

    forge.py SCHEMA FROM_ID [--checkpoints]
"""
import csv, io, os, subprocess, sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "checker"))
import pgtrail_check as pc  # noqa: E402


def main():
    schema, start = sys.argv[1], int(sys.argv[2])
    rewrite_checkpoints = "--checkpoints" in sys.argv[3:]
    ident = '"' + schema.replace('"', '""') + '"'
    out = subprocess.run(["psql", "-X", "-q", "--csv", "-v", "ON_ERROR_STOP=1", "-c",
                          pc.QUERY.format(schema=ident, seal_columns=pc.SEAL_COLUMNS)], check=True, capture_output=True,
                         env=dict(os.environ, PGCLIENTENCODING="UTF8")).stdout.decode("utf-8")
    csv.field_size_limit(sys.maxsize)
    rows = list(csv.reader(io.StringIO(out, newline="")))[1:]
    prev = bytes(32)
    sql = ["BEGIN;"]
    for r in rows:
        ev = pc.row_to_event(r)
        if int(ev["id"]) >= start:
            h = pc.chain_hash(prev, ev)
            sql.append(f"UPDATE {ident}.events SET prev_hash = '\\x{prev.hex()}', hash = '\\x{h.hex()}' "
                       f"WHERE id = {int(ev['id'])};")
            if rewrite_checkpoints:
                sql.append(f"UPDATE {ident}.checkpoints SET hash = '\\x{h.hex()}' WHERE event_id = {int(ev['id'])};")
            prev = h
        else:
            prev = ev["hash"]
    sql.append(f"UPDATE {ident}.state SET last_hash = e.hash FROM {ident}.events e WHERE e.id = last_event_id;")
    sql.append("COMMIT;")
    subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1"], input="\n".join(sql).encode(), check=True)
    print(f"forged: hashes of events {start}..{rows[-1][0]} recomputed")


if __name__ == "__main__":
    main()
