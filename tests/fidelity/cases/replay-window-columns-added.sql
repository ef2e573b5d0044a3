-- replay's window kept a table's slot array sized for its old column count after ADD COLUMN: the next window of more than 170 rows wrote past it (heap overflow, replay aborted; seeds 114, 167, 183)
-- live capture: off
--@ session 1
CREATE TABLE "public"."grow" (id integer PRIMARY KEY, a text);
--@ session 1
INSERT INTO "public"."grow" (id, a) SELECT g, 'x' || g FROM generate_series(1, 10) g;
--@ session 1
ALTER TABLE "public"."grow" ADD COLUMN b text;
--@ session 1
INSERT INTO "public"."grow" (id, a, b) SELECT g, 'y' || g, 'z' || g FROM generate_series(11, 400) g;
--@ point
