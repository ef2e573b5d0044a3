-- --as-of printed columns dropped before the table moved (DROP COLUMN, then SET SCHEMA twice) for a row updated under the new schema; found by seed 411 (17)
-- live capture: on
--@ session 1
CREATE TABLE "Odd Schema"."t1" (id integer NOT NULL, k text NOT NULL, "note" text, "a" text, "select" text) ; ALTER TABLE "Odd Schema"."t1" ADD PRIMARY KEY (id, k);
--@ session 1
INSERT INTO "Odd Schema"."t1" (id, k, "note", "a", "select") VALUES (3, 'k', 'x y', 'z', 's');
--@ session 1
ALTER TABLE "Odd Schema"."t1" DROP COLUMN "note";
--@ session 1
ALTER TABLE "Odd Schema"."t1" DROP COLUMN "select";
--@ session 1
ALTER TABLE "Odd Schema"."t1" SET SCHEMA "public";
--@ session 1
ALTER TABLE "public"."t1" SET SCHEMA "app";
--@ session 1
UPDATE "app"."t1" SET "a" = NULL WHERE id = 3;
--@ point
