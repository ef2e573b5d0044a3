-- a standalone table (LIKE the parent: NOT NULL, no key) ATTACHed under a parent with a primary key: --create-tables made it without its NOT NULL, which ATTACH needs (found by seeds 420, 427, 566)
-- live capture: off
--@ session 1
CREATE TABLE "Odd Schema"."Tab1" (id integer NOT NULL, "x_1" xml, PRIMARY KEY (id)) PARTITION BY RANGE (id) ; CREATE TABLE "Odd Schema"."Tab1_lo" PARTITION OF "Odd Schema"."Tab1" FOR VALUES FROM (MINVALUE) TO (100) ; CREATE TABLE "Odd Schema"."Tab1_mid" PARTITION OF "Odd Schema"."Tab1" FOR VALUES FROM (100) TO (200) ; CREATE TABLE "Odd Schema"."Tab1_def" PARTITION OF "Odd Schema"."Tab1" DEFAULT;
--@ session 1
CREATE TABLE "Odd Schema"."Tab1_att2" (LIKE "Odd Schema"."Tab1");
--@ session 1
ALTER TABLE "Odd Schema"."Tab1" ATTACH PARTITION "Odd Schema"."Tab1_att2" FOR VALUES FROM (300) TO (400);
