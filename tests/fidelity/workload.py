"""workload.py - a random but valid workload from a seed, as a list of steps.

A workload is a prelude (schemas and types, made before capture starts and
again in every --create-tables target, where user-defined types must
exist) and steps: (session, sql, copy_data) or a point where the source's
state is recorded. Sessions interleave statement by statement; a point
falls only where no session has a transaction open (prepared ones may be
pending). The generator keeps a rough model of the tables (columns, keys,
ids in use) so most statements succeed; the ones that fail (a duplicate
key, a lock timeout) are part of the workload too: the fuzzer compares
against the source as it really is, never against the model.

Written out (to_sql) a workload is a SQL file that reads as the session
ran it, with "--@" lines for sessions and points; from_sql reads it back,
so a shrunk failure is a ready regression case (tests/fidelity/cases/).
"""
import random

import values

COLNAMES = ["a", "b", "Mixed Case", "c d", "select", "x_1", "note", "v"]
KEYS = ["pk", "composite", "uniqidx", "deferrable", "full", "pkfull"]
PARTS = ["range", "list", "hash", "twolevel"]


def qi(name):
    return '"' + name.replace('"', '""') + '"'


class Table:
    def __init__(self, schema, name, key, cols, part=None):
        self.schema, self.name, self.key, self.cols, self.part = schema, name, key, cols, part
        self.ids = set()
        self.next_id = 1
        self.leaves = []
        self.renamed = 0

    @property
    def q(self):
        return f"{qi(self.schema)}.{qi(self.name)}"

    def keycols(self):
        return {"composite": ["id", "k"], "full": []}.get(self.key, ["id"]) if not self.part == "list" \
            else ["id", "g"]


class Step:
    def __init__(self, session, sql, copy_data=None, point=False):
        self.session, self.sql, self.copy_data, self.point = session, sql, copy_data, point


class Generator:
    def __init__(self, seed, size):
        self.rng = random.Random(seed)
        self.size = size
        self.tables = []
        self.serial = 0
        self.gid = 0
        self.prepared = []

    def uniq(self, stem):
        self.serial += 1
        return f"{stem}{self.serial}"

    # ---- tables ---------------------------------------------------------
    def columns(self, n):
        names = self.rng.sample(COLNAMES, n)
        return [(c, values.random_type(self.rng)) for c in names]

    def create_table(self):
        r = self.rng
        schema = r.choice(["public", "Odd Schema", "app"])
        name = self.uniq(r.choice(["t", "Tab", "order item "]))
        if r.random() < 0.2:
            return self.create_partitioned(schema, name)
        key = r.choice(KEYS)
        t = Table(schema, name, key, self.columns(r.randint(1, 4)))
        cols = ["id integer NOT NULL"] + (["k text NOT NULL"] if key == "composite" else [])
        cols += [f"{qi(c)} {typ}" for c, typ in t.cols]
        stmts = [f"CREATE TABLE {t.q} ({', '.join(cols)})"]
        stmts += self.key_ddl(t)
        self.tables.append(t)
        return [" ; ".join(stmts)]

    def key_ddl(self, t):
        idx = qi(t.name + "_uq")
        return {
            "pk": [f"ALTER TABLE {t.q} ADD PRIMARY KEY (id)"],
            "composite": [f"ALTER TABLE {t.q} ADD PRIMARY KEY (id, k)"],
            "uniqidx": [f"CREATE UNIQUE INDEX {idx} ON {t.q} (id)",
                        f"ALTER TABLE {t.q} REPLICA IDENTITY USING INDEX {idx}"],
            "deferrable": [f"ALTER TABLE {t.q} ADD PRIMARY KEY (id) DEFERRABLE INITIALLY IMMEDIATE",
                           f"ALTER TABLE {t.q} REPLICA IDENTITY FULL"],
            "full": [f"ALTER TABLE {t.q} REPLICA IDENTITY FULL"],
            "pkfull": [f"ALTER TABLE {t.q} ADD PRIMARY KEY (id)", f"ALTER TABLE {t.q} REPLICA IDENTITY FULL"],
        }[t.key]

    def create_partitioned(self, schema, name):
        r = self.rng
        part = r.choice(PARTS)
        t = Table(schema, name, "pk", self.columns(r.randint(1, 3)), part)
        cols = ", ".join(["id integer NOT NULL"] + (["g text NOT NULL"] if part == "list" else [])
                         + [f"{qi(c)} {typ}" for c, typ in t.cols])
        pk = "id, g" if part == "list" else "id"
        how = {"range": "RANGE (id)", "list": "LIST (g)", "hash": "HASH (id)", "twolevel": "RANGE (id)"}[part]
        stmts = [f"CREATE TABLE {t.q} ({cols}, PRIMARY KEY ({pk})) PARTITION BY {how}"]
        stmts += self.partitions(t)
        self.tables.append(t)
        return [" ; ".join(stmts)]

    def leaf(self, t, suffix):
        name = f"{t.name}_{suffix}"
        t.leaves.append(name)
        return f"{qi(t.schema)}.{qi(name)}"

    def partitions(self, t):
        if t.part == "range":
            return [f"CREATE TABLE {self.leaf(t, 'lo')} PARTITION OF {t.q} FOR VALUES FROM (MINVALUE) TO (100)",
                    f"CREATE TABLE {self.leaf(t, 'mid')} PARTITION OF {t.q} FOR VALUES FROM (100) TO (200)",
                    f"CREATE TABLE {self.leaf(t, 'def')} PARTITION OF {t.q} DEFAULT"]
        if t.part == "list":
            return [f"CREATE TABLE {self.leaf(t, 'ab')} PARTITION OF {t.q} FOR VALUES IN ('a', 'b')",
                    f"CREATE TABLE {self.leaf(t, 'c')} PARTITION OF {t.q} FOR VALUES IN ('c', NULL)",
                    f"CREATE TABLE {self.leaf(t, 'def')} PARTITION OF {t.q} DEFAULT"]
        if t.part == "hash":
            return [f"CREATE TABLE {self.leaf(t, f'h{i}')} PARTITION OF {t.q} FOR VALUES WITH (MODULUS 3, REMAINDER {i})"
                    for i in range(3)]
        sub = self.leaf(t, "sub")
        return [f"CREATE TABLE {sub} PARTITION OF {t.q} FOR VALUES FROM (MINVALUE) TO (150) PARTITION BY HASH (id)",
                f"CREATE TABLE {self.leaf(t, 's0')} PARTITION OF {sub} FOR VALUES WITH (MODULUS 2, REMAINDER 0)",
                f"CREATE TABLE {self.leaf(t, 's1')} PARTITION OF {sub} FOR VALUES WITH (MODULUS 2, REMAINDER 1)",
                f"CREATE TABLE {self.leaf(t, 'hi')} PARTITION OF {t.q} FOR VALUES FROM (150) TO (MAXVALUE)"]

    # ---- rows -----------------------------------------------------------
    def new_id(self, t):
        r = self.rng
        if t.ids and r.random() < 0.03:
            return r.choice(sorted(t.ids))          # a duplicate now and then
        i = t.next_id if r.random() < 0.7 else r.randint(1, 300)
        t.next_id = max(t.next_id, i) + 1
        t.ids.add(i)
        return i

    def some_id(self, t):
        return self.rng.choice(sorted(t.ids)) if t.ids else 1

    def row(self, t, i):
        vals = [str(i)]
        if t.key == "composite":
            vals.append(self.rng.choice(["k", "K 2", "é"]))
        if t.part == "list":
            vals.append(self.rng.choice(["a", "b", "c", "z"]))
        return vals + [values.value(self.rng, typ) for _, typ in t.cols]

    def colnames(self, t):
        extra = (["k"] if t.key == "composite" else []) + (["g"] if t.part == "list" else [])
        return ["id"] + extra + [c for c, _ in t.cols]

    def coltypes(self, t):
        extra = (["text"] if t.key == "composite" else []) + (["text"] if t.part == "list" else [])
        return ["integer"] + extra + [typ for _, typ in t.cols]

    def insert(self, t):
        rows = [self.row(t, self.new_id(t)) for _ in range(self.rng.randint(1, 4))]
        types = self.coltypes(t)
        tuples = ", ".join("(" + ", ".join(values.literal(v, typ) if k else v for k, (v, typ)
                                          in enumerate(zip(row, types))) + ")" for row in rows)
        names = ", ".join(qi(c) for c in self.colnames(t))
        sql = f"INSERT INTO {t.q} ({names}) VALUES {tuples}"
        if t.key in ("pk", "pkfull") and not t.part and self.rng.random() < 0.3:
            sql += self.on_conflict(t)
        return [sql]

    def on_conflict(self, t):
        if not t.cols or self.rng.random() < 0.3:
            return " ON CONFLICT DO NOTHING"
        c = qi(self.rng.choice(t.cols)[0])
        return f" ON CONFLICT (id) DO UPDATE SET {c} = EXCLUDED.{c}"

    def copy(self, t):
        rows = [self.row(t, self.new_id(t)) for _ in range(self.rng.randint(1, 5))]
        data = "".join("\t".join(values.copy_field(v) for v in row) + "\n" for row in rows)
        names = ", ".join(qi(c) for c in self.colnames(t))
        return [(f"COPY {t.q} ({names}) FROM STDIN", data)]

    def where(self, t):
        if self.rng.random() < 0.25:
            return f"id % {self.rng.randint(2, 5)} = {self.rng.randint(0, 1)}"
        return f"id = {self.some_id(t)}"

    def update(self, t):
        r = self.rng
        if not t.cols or r.random() < 0.2:
            return self.key_change(t)
        c, typ = r.choice(t.cols)
        return [f"UPDATE {t.q} SET {qi(c)} = {values.literal(values.value(r, typ), typ)} WHERE {self.where(t)}"]

    def key_change(self, t):
        r = self.rng
        if t.key == "deferrable" and len(t.ids) >= 2:
            return self.swap(t)
        a = self.some_id(t)
        b = a + r.choice([1000, 50, 100, -1])
        t.ids.add(b)
        return [f"UPDATE {t.q} SET id = {b} WHERE id = {a}"]

    def swap(self, t):
        a, b = self.rng.sample(sorted(t.ids), 2)
        if self.rng.random() < 0.5:
            return ["SET CONSTRAINTS ALL DEFERRED", f"UPDATE {t.q} SET id = {a + b} - id WHERE id IN ({a}, {b})"]
        c = 100000 + a
        return ["SET CONSTRAINTS ALL DEFERRED", f"UPDATE {t.q} SET id = {c} WHERE id = {a}",
                f"UPDATE {t.q} SET id = {a} WHERE id = {b}", f"UPDATE {t.q} SET id = {b} WHERE id = {c}"]

    def delete(self, t):
        return [f"DELETE FROM {t.q} WHERE {self.where(t)}"]

    def truncate(self, t):
        t.ids.clear()
        return [f"TRUNCATE {t.q}" + self.rng.choice(["", " RESTART IDENTITY", " CASCADE"])]

    def bulk(self, t):
        n = self.rng.randint(2000, 12000)
        base = t.next_id + 1000
        t.next_id = base + n + 1
        names = ["id"] + (["k"] if t.key == "composite" else []) + (["g"] if t.part == "list" else [])
        exprs = ["g"] + (["'bulk'"] if t.key == "composite" else []) + (["'c'"] if t.part == "list" else [])
        text = [c for c, typ in t.cols if typ == "text"]
        if text:
            names.append(text[0])
            exprs.append("md5(g::text)")
        return [f"INSERT INTO {t.q} ({', '.join(qi(c) for c in names)}) "
                f"SELECT {', '.join(exprs)} FROM generate_series({base}, {base + n}) g"]

    # ---- schema changes -------------------------------------------------
    def ddl(self, t):
        r = self.rng
        choices = [self.add_column, self.add_column, self.rename_column, self.rename_table,
                   self.set_schema, self.recreate]
        if t.cols:
            choices += [self.drop_column, self.change_type]
        if t.part in ("range",):
            choices += [self.attach, self.detach]
        return r.choice(choices)(t)

    def add_column(self, t):
        r = self.rng
        c = self.uniq(r.choice(["n", "New Col "]))
        typ = values.random_type(r)
        if r.random() < 0.2:
            t.cols.append((c, "double precision"))
            return [f"ALTER TABLE {t.q} ADD COLUMN {qi(c)} double precision DEFAULT random()"]
        default = ""
        if r.random() < 0.4:
            default = " DEFAULT " + values.literal(values.value(r, typ), typ)
        t.cols.append((c, typ))
        return [f"ALTER TABLE {t.q} ADD COLUMN {qi(c)} {typ}{default}"]

    def drop_column(self, t):
        c, _ = t.cols.pop(self.rng.randrange(len(t.cols)))
        return [f"ALTER TABLE {t.q} DROP COLUMN {qi(c)}"]

    def rename_column(self, t):
        if not t.cols:
            return self.add_column(t)
        i = self.rng.randrange(len(t.cols))
        new = self.uniq("ren ")
        old = t.cols[i][0]
        t.cols[i] = (new, t.cols[i][1])
        return [f"ALTER TABLE {t.q} RENAME COLUMN {qi(old)} TO {qi(new)}"]

    def change_type(self, t):
        i = self.rng.randrange(len(t.cols))
        c, typ = t.cols[i]
        t.cols[i] = (c, "text")
        return [f"ALTER TABLE {t.q} ALTER COLUMN {qi(c)} TYPE text USING {qi(c)}::text"]

    def rename_table(self, t):
        old = t.q
        t.name = self.uniq(t.name.split("~")[0] + "~")
        return [f"ALTER TABLE {old} RENAME TO {qi(t.name)}"]

    def set_schema(self, t):
        old = t.q
        t.schema = self.rng.choice([s for s in ["public", "Odd Schema", "app"] if s != t.schema])
        moves = [f"ALTER TABLE {old} SET SCHEMA {qi(t.schema)}"]
        return moves

    def recreate(self, t):
        self.tables.remove(t)
        stmts = [f"DROP TABLE {t.q} CASCADE"]
        keep = self.tables
        new = self.create_table()
        nt = self.tables[-1]
        self.tables = keep if nt in keep else keep + [nt]
        # the new table takes the dropped one's name
        first = new[0].replace(nt.q, t.q) if not nt.part else new[0]
        if not nt.part:
            nt.schema, nt.name = t.schema, t.name
        return stmts + [first]

    def detach(self, t):
        mid = f"{qi(t.schema)}.{qi(t.name + '_mid')}"
        return [f"ALTER TABLE {t.q} DETACH PARTITION {mid}"]

    def attach(self, t):
        lo, hi = 200 + 100 * self.serial, 300 + 100 * self.serial
        name = f"{qi(t.schema)}.{qi(self.uniq(t.name + '_att'))}"
        cols = ", ".join(qi(c) for c in self.colnames(t))
        return [f"DELETE FROM {t.q} WHERE id >= {lo} AND id < {hi}",
                f"CREATE TABLE {name} (LIKE {t.q})",
                f"INSERT INTO {name} ({cols}) SELECT {cols} FROM {t.q} LIMIT 0",
                f"INSERT INTO {name} (id) VALUES ({lo + 1})",
                f"ALTER TABLE {t.q} ATTACH PARTITION {name} FOR VALUES FROM ({lo}) TO ({hi})"]

    # ---- transactions ---------------------------------------------------
    def change(self, t):
        r = self.rng.random()
        if r < 0.35:
            return self.insert(t)
        if r < 0.45:
            return self.copy(t)
        if r < 0.70:
            return self.update(t)
        if r < 0.85:
            return self.delete(t)
        if r < 0.88:
            return self.truncate(t)
        return self.insert(t)

    def unit(self, alone):
        """One transaction of one session, as a list of statements. Schema
        changes only when no other session is inside a transaction: one
        that waited for a lock would fail, and the model would go astray."""
        r = self.rng
        if not self.tables or (alone and r.random() < 0.06):
            return self.create_table()
        t = r.choice(self.tables)
        x = r.random()
        if x < 0.08 and alone:
            return self.ddl(t)
        if x < 0.10:
            return ["BEGIN"] + self.bulk(t) + ["COMMIT"]
        if x < 0.13:
            return [f"SELECT pg_logical_emit_message(true, 'fuzz', {values.literal(values.text_value(r), 'text')})"]
        if x < 0.45:
            return self.change(t)
        return self.transaction(t)

    def transaction(self, t):
        r = self.rng
        body = []
        for _ in range(r.randint(1, 4)):
            tt = r.choice(self.tables) if r.random() < 0.3 else t
            if r.random() < 0.15:
                body += ["SAVEPOINT s"] + self.change(tt) + ["ROLLBACK TO SAVEPOINT s"]
            else:
                body += self.change(tt)
        if t.key == "deferrable" and r.random() < 0.5 and len(t.ids) >= 2:
            body += self.swap(t)
        end = r.random()
        if end < 0.1:
            return ["BEGIN"] + body + ["ROLLBACK"]
        if end < 0.18:
            self.gid += 1
            gid = f"fz{self.gid}"
            self.prepared.append(gid)
            return ["BEGIN"] + body + [f"PREPARE TRANSACTION '{gid}'"]
        return ["BEGIN"] + body + ["COMMIT"]

    def finish_prepared(self):
        gid = self.prepared.pop(0)
        how = "COMMIT" if self.rng.random() < 0.8 else "ROLLBACK"
        return [f"{how} PREPARED '{gid}'"]

    # ---- the workload ---------------------------------------------------
    def generate(self, nsessions):
        steps, queues = [], {s: [] for s in range(1, nsessions + 1)}
        emitted = 0
        while emitted < self.size or any(queues.values()):
            idle = [s for s, q in queues.items() if not q]
            if idle and emitted < self.size:
                s = self.rng.choice(idle)
                if self.prepared and self.rng.random() < 0.3:
                    queues[s] = self.finish_prepared()
                else:
                    queues[s] = self.unit(alone=not any(queues.values()))
            busy = [s for s, q in queues.items() if q]
            s = self.rng.choice(busy)
            item = queues[s].pop(0)
            sql, data = item if isinstance(item, tuple) else (item, None)
            steps.append(Step(s, sql, data))
            emitted += 1
            if not any(queues.values()) and self.rng.random() < 0.12:
                steps.append(Step(0, "", point=True))
        for gid in self.prepared:
            steps.append(Step(1, f"COMMIT PREPARED '{gid}'"))
        steps.append(Step(0, "", point=True))
        return steps


def generate(seed, size=60):
    g = Generator(seed, size)
    return g.generate(g.rng.randint(1, 3))


def to_sql(steps):
    out = []
    for st in steps:
        if st.point:
            out.append("--@ point\n")
            continue
        out.append(f"--@ session {st.session}\n{st.sql};\n")
        if st.copy_data is not None:
            out.append(st.copy_data + "\\.\n")
    return "".join(out)


def from_sql(text):
    steps, lines, i = [], text.split("\n"), 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if line == "--@ point":
            steps.append(Step(0, "", point=True))
        elif line.startswith("--@ session "):
            session = int(line.split()[2])
            sql = []
            while i < len(lines) and not lines[i].startswith("--@ "):
                sql.append(lines[i])
                i += 1
            body = "\n".join(sql).rstrip("\n")
            data = None
            if body.startswith("COPY ") and "FROM STDIN" in body.split("\n", 1)[0]:
                head, _, rest = body.partition(";\n")
                data = rest[: rest.rfind("\\.")]
                body = head + ";"
            steps.append(Step(session, body[:-1] if body.endswith(";") else body, data))
    return steps
