-- a renamed partitioned parent: --create-tables to a later point re-attached the leaves to a new parent under the new name before renaming the old one, which stayed behind ("table Odd Schema.order item 1 in the target but not in the source"); found by seed 7
-- live capture: off
--@ session 1
CREATE TABLE "Odd Schema"."order item 1" (id integer NOT NULL, "a" boolean, "select" smallint, PRIMARY KEY (id)) PARTITION BY RANGE (id) ; CREATE TABLE "Odd Schema"."order item 1_lo" PARTITION OF "Odd Schema"."order item 1" FOR VALUES FROM (MINVALUE) TO (100) ; CREATE TABLE "Odd Schema"."order item 1_mid" PARTITION OF "Odd Schema"."order item 1" FOR VALUES FROM (100) TO (200) ; CREATE TABLE "Odd Schema"."order item 1_def" PARTITION OF "Odd Schema"."order item 1" DEFAULT;
--@ session 1
ALTER TABLE "Odd Schema"."order item 1" RENAME TO "order item 1~2";
