-- a deferrable key swapped in one statement on a REPLICA IDENTITY FULL table whose other column is dropped later: the full replay into the final schema (key column only) matched the swap by key alone and changed both rows holding it; found by seeds 326 and 692
-- live capture: off
--@ session 1
CREATE TABLE "Odd Schema"."t1" (id integer NOT NULL, "b" integer[]) ; ALTER TABLE "Odd Schema"."t1" ADD PRIMARY KEY (id) DEFERRABLE INITIALLY IMMEDIATE ; ALTER TABLE "Odd Schema"."t1" REPLICA IDENTITY FULL;
--@ session 1
INSERT INTO "Odd Schema"."t1" ("id", "b") VALUES (1, '{}'::integer[]), (285, '{}'::integer[]), (278, '{NULL}'::integer[]), (147, '{}'::integer[]);
--@ session 1
UPDATE "Odd Schema"."t1" SET id = 432 - id WHERE id IN (285, 147);
--@ session 1
ALTER TABLE "Odd Schema"."t1" DROP COLUMN "b";
