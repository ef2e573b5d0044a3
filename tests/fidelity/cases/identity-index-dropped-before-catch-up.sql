-- found by --decoders both (seed 32 on 18): under wal2json, a keyless table keyed by its replica identity index and dropped before capture caught up was logged with key null (the catalog no longer has it); now the identity its DDL message recorded stands
-- live capture: off
--@ session 1
CREATE TABLE "public"."t1" (id integer NOT NULL, v text); CREATE UNIQUE INDEX "t1_uq" ON "public"."t1" (id); ALTER TABLE "public"."t1" REPLICA IDENTITY USING INDEX "t1_uq";
--@ session 1
INSERT INTO "public"."t1" (id, v) VALUES (1, 'a'), (2, 'b');
--@ session 1
UPDATE "public"."t1" SET v = 'c' WHERE id = 1;
--@ point
--@ session 1
DROP TABLE "public"."t1";
