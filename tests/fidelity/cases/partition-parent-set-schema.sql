-- a partitioned parent moved with SET SCHEMA: --create-tables to a later point left the parent under its old schema ("table app.Tab1 in the target but not in the source"); found by seed 59
-- live capture: off
--@ session 1
CREATE TABLE "app"."Tab1" (id integer NOT NULL, "a" integer, "x_1" xml, "select" inet, PRIMARY KEY (id)) PARTITION BY HASH (id) ; CREATE TABLE "app"."Tab1_h0" PARTITION OF "app"."Tab1" FOR VALUES WITH (MODULUS 3, REMAINDER 0) ; CREATE TABLE "app"."Tab1_h1" PARTITION OF "app"."Tab1" FOR VALUES WITH (MODULUS 3, REMAINDER 1) ; CREATE TABLE "app"."Tab1_h2" PARTITION OF "app"."Tab1" FOR VALUES WITH (MODULUS 3, REMAINDER 2);
--@ session 1
ALTER TABLE "app"."Tab1" SET SCHEMA "public";
