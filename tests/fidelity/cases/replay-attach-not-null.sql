-- a table made without a key (CREATE TABLE ... (LIKE parent)) and then attached under a parent whose key column is NOT NULL: --create-tables had made it with every column nullable and could not ATTACH it ("column "id" in child table must be marked NOT NULL", exit 3); found with seed 824's case; capture says no loss for it (its identity came with the ATTACH, before the catch-up run read the catalog)
-- live capture: off
--@ session 1
CREATE TABLE "app"."Tab1" (id integer NOT NULL, "a" circle, PRIMARY KEY (id)) PARTITION BY RANGE (id) ; CREATE TABLE "app"."Tab1_lo" PARTITION OF "app"."Tab1" FOR VALUES FROM (MINVALUE) TO (100) ; CREATE TABLE "app"."Tab1_def" PARTITION OF "app"."Tab1" DEFAULT;
--@ session 1
INSERT INTO "app"."Tab1" (id, "a") VALUES (1, '<(1,2),3>'), (2, NULL);
--@ session 1
CREATE TABLE "app"."Tab1_att3" (LIKE "app"."Tab1");
--@ session 1
INSERT INTO "app"."Tab1_att3" (id) VALUES (401);
--@ point
--@ session 1
ALTER TABLE "app"."Tab1" ATTACH PARTITION "app"."Tab1_att3" FOR VALUES FROM (400) TO (500);
--@ session 1
UPDATE "app"."Tab1" SET "a" = '<(0,0),1>' WHERE id = 401;
--@ point
