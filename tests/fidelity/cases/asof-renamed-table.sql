-- --as-of with the name a table had at the time printed null for rows written under its old name (RENAME TO); found by seed 8
-- live capture: on
--@ session 1
CREATE TABLE "public"."Tab2" (id integer PRIMARY KEY, a text);
--@ session 1
INSERT INTO "public"."Tab2" (id, a) VALUES (1, 'x');
--@ point
--@ session 1
ALTER TABLE "public"."Tab2" RENAME TO "Tab2~3";
--@ point
