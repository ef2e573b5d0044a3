-- a partitioned parent renamed, dropped, and a plain table made under its new name: --create-tables took the new table for the old parent (exit 3: "has no column v", "invalid input syntax for type pg_lsn"); found by seed 28
-- live capture: off
--@ session 1
CREATE TABLE "public"."t2" (id integer NOT NULL, "Mixed Case" box, "b" text[], "select" pg_lsn, PRIMARY KEY (id)) PARTITION BY HASH (id) ; CREATE TABLE "public"."t2_h0" PARTITION OF "public"."t2" FOR VALUES WITH (MODULUS 3, REMAINDER 0) ; CREATE TABLE "public"."t2_h1" PARTITION OF "public"."t2" FOR VALUES WITH (MODULUS 3, REMAINDER 1) ; CREATE TABLE "public"."t2_h2" PARTITION OF "public"."t2" FOR VALUES WITH (MODULUS 3, REMAINDER 2);
--@ session 1
ALTER TABLE "public"."t2" RENAME TO "t2~3";
--@ session 1
DROP TABLE "public"."t2~3" CASCADE;
--@ session 1
CREATE TABLE "public"."t2~3" (id integer NOT NULL, "Mixed Case" uuid, "v" polygon, "select" xml, "b" integer) ; ALTER TABLE "public"."t2~3" REPLICA IDENTITY FULL;
--@ session 1
COPY "public"."t2~3" ("id", "Mixed Case", "v", "select", "b") FROM STDIN;
1	\N	((0,0),(1,1),(2,0))	<b/>	2147483647
2	00000000-0000-0000-0000-000000000000	\N	text only	-2147483648
3	00000000-0000-0000-0000-000000000000	((0,0),(1,1),(2,0))	<a x="1">t &amp; u</a>	-2147483648
31	a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11	((0,0),(1,1),(2,0))	text only	2147483647
\.
