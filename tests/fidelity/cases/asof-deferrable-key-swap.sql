-- --as-of printed null for a row whose deferrable key was swapped with another's in one UPDATE (REPLICA IDENTITY FULL; the row leaving the key was taken for the one that had just come to it); found by seeds 485 and 547 (pg17)
-- live capture: off
--@ session 1
CREATE TABLE "public"."Tab1" (id integer NOT NULL, a text) ; ALTER TABLE "public"."Tab1" ADD PRIMARY KEY (id) DEFERRABLE INITIALLY IMMEDIATE ; ALTER TABLE "public"."Tab1" REPLICA IDENTITY FULL;
--@ session 1
INSERT INTO "public"."Tab1" (id, a) VALUES (1, 'one'), (2, 'two');
--@ session 1
UPDATE "public"."Tab1" SET id = 3 - id WHERE id IN (1, 2);
--@ session 1
DELETE FROM "public"."Tab1" WHERE id = 1;
--@ point
