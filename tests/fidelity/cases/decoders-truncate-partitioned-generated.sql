-- pgoutput sends a TRUNCATE of a partitioned table as its partitions only (wal2json names the table too), and before 18 no stored generated column: the two differences --decoders both allows, and nothing else
-- live capture: off
--@ session 1
CREATE TABLE "public"."Tab1" (id integer NOT NULL, b text, PRIMARY KEY (id)) PARTITION BY RANGE (id); CREATE TABLE "public"."Tab1_lo" PARTITION OF "public"."Tab1" FOR VALUES FROM (MINVALUE) TO (100); CREATE TABLE "public"."Tab1_hi" PARTITION OF "public"."Tab1" DEFAULT;
--@ session 1
CREATE TABLE "public"."g" (id integer PRIMARY KEY, b integer, s integer GENERATED ALWAYS AS (b * 3) STORED);
--@ session 1
INSERT INTO "public"."Tab1" (id, b) SELECT g, 'x' || g FROM generate_series(90, 110) g;
--@ session 1
INSERT INTO "public"."g" (id, b) VALUES (1, 10), (2, 20);
--@ point
--@ session 1
TRUNCATE "public"."Tab1";
--@ session 1
UPDATE "public"."g" SET b = 11 WHERE id = 1;
--@ session 1
INSERT INTO "public"."Tab1" (id, b) VALUES (5, 'after');
