-- capture catching up after a table was dropped and created again under its name with a virtual generated column took the new table's virtual columns and oid for the old one's changes: each opened a version of the new table, and replay lost the old rows' key "id" (fidelity seed 829 on 18)
-- postgresql: 18
-- live capture: off
--@ session 1
CREATE TABLE "Odd Schema"."t1" (id integer NOT NULL, "a" text, "note" inet) ; ALTER TABLE "Odd Schema"."t1" ADD PRIMARY KEY (id);
--@ session 1
INSERT INTO "Odd Schema"."t1" ("id", "a", "note") VALUES (1, 'x', '10.0.0.1'::inet), (24, NULL, '::1'::inet);
--@ session 1
UPDATE "Odd Schema"."t1" SET "a" = 'y' WHERE id = 24;
--@ session 1
TRUNCATE "Odd Schema"."t1";
--@ session 1
INSERT INTO "Odd Schema"."t1" ("id", "a", "note") VALUES (2, 'w', NULL);
--@ point
--@ session 1
DROP TABLE "Odd Schema"."t1" CASCADE;
--@ session 1
CREATE TABLE "Odd Schema"."t1" (id integer NOT NULL, "note" text, "gen" bigint GENERATED ALWAYS AS (id * 2 + 1) VIRTUAL) ; ALTER TABLE "Odd Schema"."t1" REPLICA IDENTITY FULL;
--@ session 1
INSERT INTO "Odd Schema"."t1" ("id", "note") VALUES (274, 'z');
--@ point
