-- wal2json 2.5 writes a type name that needs quoting unescaped ("type":"Odd Schema"."Mood"): capture stopped with "malformed wal2json message"; found by seed 1
-- live capture: off
--@ session 1
CREATE TABLE "Odd Schema"."t2" (id integer NOT NULL PRIMARY KEY, "a" "Odd Schema"."Mood", "b" "Odd Schema"."Mood"[]);
--@ session 1
INSERT INTO "Odd Schema"."t2" VALUES (1, 'Happy Day', '{sad,"Happy Day"}'), (2, NULL, NULL);
--@ session 1
UPDATE "Odd Schema"."t2" SET a = 'ok' WHERE id = 2;
--@ point
