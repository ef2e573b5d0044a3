-- --as-of printed a row written before SET SCHEMA under the old names of columns renamed before and after the move, and the new names as null; found by seed 678 (17)
-- live capture: on
--@ session 1
CREATE TABLE "public"."Tab1" (id integer NOT NULL, k text NOT NULL, "a" character varying(10), "v" text, "gen" bigint GENERATED ALWAYS AS (id * 2 + 1) STORED) ; ALTER TABLE "public"."Tab1" ADD PRIMARY KEY (id, k);
--@ session 1
INSERT INTO "public"."Tab1" (id, k, "a", "v") VALUES (142, 'k', 'héllo', 'w');
--@ session 1
ALTER TABLE "public"."Tab1" RENAME COLUMN "a" TO "ren 2";
--@ session 1
ALTER TABLE "public"."Tab1" SET SCHEMA "app";
--@ session 1
ALTER TABLE "app"."Tab1" RENAME COLUMN "v" TO "ren 3";
--@ point
