-- fidelity seed 51 (--decoders both): a table keyed by its replica identity index, renamed after the changes: pgoutput's catch-up read the identity from the catalog by the old name, found nothing and logged key null; the Relation message says the index (wal2json, running live, read the catalog in time)
-- live capture: on
--@ session 1
CREATE TABLE "public"."t1" (id integer NOT NULL, v text); CREATE UNIQUE INDEX "t1_uq" ON "public"."t1" (id); ALTER TABLE "public"."t1" REPLICA IDENTITY USING INDEX "t1_uq";
--@ session 1
INSERT INTO "public"."t1" (id, v) VALUES (1, 'a'), (2, 'b');
--@ session 1
UPDATE "public"."t1" SET v = 'c' WHERE id = 1;
--@ session 1
DELETE FROM "public"."t1" WHERE id = 2;
--@ session 1
SELECT pg_sleep(2);
--@ point
--@ session 1
ALTER TABLE "public"."t1" RENAME TO "t1~4";
