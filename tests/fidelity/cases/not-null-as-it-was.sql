-- NOT NULL as the source had it at each point: a column's own, SET and DROP NOT NULL, ADD COLUMN NOT NULL DEFAULT, a partition's beyond its parent's
-- live capture: off
--@ session 1
CREATE TABLE t (id int PRIMARY KEY, a text NOT NULL, b text);
--@ session 1
CREATE TABLE p (id int PRIMARY KEY, v text, w text) PARTITION BY LIST (id); CREATE TABLE p1 PARTITION OF p FOR VALUES IN (1); CREATE TABLE p2 PARTITION OF p FOR VALUES IN (2);
--@ session 1
INSERT INTO t VALUES (1, 'x', 'y');
--@ session 1
INSERT INTO p VALUES (1, 'v', 'w'), (2, NULL, 'w');
--@ point
--@ session 1
ALTER TABLE t ALTER COLUMN b SET NOT NULL;
--@ session 1
ALTER TABLE p1 ALTER COLUMN v SET NOT NULL;
--@ session 1
ALTER TABLE t ADD COLUMN c int NOT NULL DEFAULT 7;
--@ point
--@ session 1
ALTER TABLE t ALTER COLUMN a DROP NOT NULL;
--@ session 1
INSERT INTO t VALUES (2, NULL, 'z', 8);
--@ session 1
ALTER TABLE p ALTER COLUMN w SET NOT NULL;
--@ session 1
ALTER TABLE p1 ALTER COLUMN v DROP NOT NULL;
--@ point
