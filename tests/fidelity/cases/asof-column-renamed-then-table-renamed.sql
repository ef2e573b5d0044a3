-- --as-of printed a column renamed before the table was (RENAME COLUMN, then RENAME TO) under its old name, and the new name again as null; found by seed 363 (17)
-- live capture: on
--@ session 1
CREATE TABLE "app"."t1" (id integer PRIMARY KEY, "b" text, "note" text);
--@ session 1
INSERT INTO "app"."t1" (id, "b", "note") VALUES (1, 'x', 'y');
--@ session 1
ALTER TABLE "app"."t1" RENAME COLUMN "b" TO "ren 2";
--@ session 1
ALTER TABLE "app"."t1" RENAME TO "t1~4";
--@ point
