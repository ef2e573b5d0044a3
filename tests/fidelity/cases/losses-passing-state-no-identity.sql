-- a table created without a key and given one in the same transaction: DDL capture opens a version for each state, and capture reported "no replica identity" for the first (a false loss); found by seed 1
-- live capture: off
--@ session 1
CREATE TABLE "Odd Schema"."t1" (id integer NOT NULL, "note" xml) ; ALTER TABLE "Odd Schema"."t1" ADD PRIMARY KEY (id);
--@ session 1
INSERT INTO "Odd Schema"."t1" VALUES (1, '<b/>'), (2, NULL);
--@ session 1
DELETE FROM "Odd Schema"."t1" WHERE id = 2;
--@ point
