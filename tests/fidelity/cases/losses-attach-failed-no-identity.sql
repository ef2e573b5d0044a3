-- a table made for ATTACH PARTITION (CREATE TABLE ... (LIKE parent), no key) whose ATTACH failed on a lock timeout stays without a replica identity: capture rightly reports it as no_replica_identity, and the fuzzer took that for a false alarm; found by seed 824 (PostgreSQL 18)
-- live capture: off
--@ session 1
CREATE TABLE "app"."Tab1" (id integer NOT NULL, "a" circle, PRIMARY KEY (id)) PARTITION BY RANGE (id) ; CREATE TABLE "app"."Tab1_lo" PARTITION OF "app"."Tab1" FOR VALUES FROM (MINVALUE) TO (100) ; CREATE TABLE "app"."Tab1_def" PARTITION OF "app"."Tab1" DEFAULT;
--@ session 1
INSERT INTO "app"."Tab1" (id, "a") VALUES (1, '<(1,2),3>'), (2, NULL);
--@ session 1
CREATE TABLE "app"."Tab1_att2" (LIKE "app"."Tab1");
--@ session 1
INSERT INTO "app"."Tab1_att2" (id) VALUES (301);
--@ session 2
BEGIN;
--@ session 2
UPDATE "app"."Tab1" SET "a" = NULL WHERE id % 2 = 0;
--@ session 1
ALTER TABLE "app"."Tab1" ATTACH PARTITION "app"."Tab1_att2" FOR VALUES FROM (300) TO (400);
--@ session 2
COMMIT;
--@ point
