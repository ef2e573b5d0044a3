-- replay sent a statement prepared before a flush outside the pipeline ("cannot enter pipeline mode, connection not idle"); found by seed 12
-- live capture: on
--@ session 2
CREATE TABLE "app"."order item 1" (id integer NOT NULL, k text NOT NULL, "a" tstzrange, "Mixed Case" app.floatrange, "c d" tsvector, "note" text[]) ; ALTER TABLE "app"."order item 1" ADD PRIMARY KEY (id, k);
--@ session 1
INSERT INTO "app"."order item 1" ("id", "k", "a", "Mixed Case", "c d", "note") VALUES (1, 'k'::text, NULL::tstzrange, 'empty'::app.floatrange, '''a'':1A ''cat'':2 ''fat'''::tsvector, NULL::text[]);
--@ session 1
UPDATE "app"."order item 1" SET "Mixed Case" = '[1.5,2.5)'::app.floatrange WHERE id = 1;
--@ session 1
BEGIN;
--@ session 1
UPDATE "app"."order item 1" SET id = 1001 WHERE id = 1;
--@ session 2
CREATE TABLE "Odd Schema"."t2" (id integer NOT NULL, k text NOT NULL, "a" real, "c d" "Odd Schema"."Mood"[], "b" line, "select" date) ; ALTER TABLE "Odd Schema"."t2" ADD PRIMARY KEY (id, k);
--@ session 1
COMMIT;
