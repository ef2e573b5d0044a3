-- --as-of printed null for rows written before ALTER TABLE ... SET SCHEMA (events under the old schema); found by seed 54
-- live capture: on
--@ session 1
CREATE TABLE "app"."Tab1" (id integer NOT NULL, "c d" pg_lsn, "v" inet, "Mixed Case" boolean, "select" pg_lsn) ; ALTER TABLE "app"."Tab1" ADD PRIMARY KEY (id) DEFERRABLE INITIALLY IMMEDIATE ; ALTER TABLE "app"."Tab1" REPLICA IDENTITY FULL;
--@ session 1
INSERT INTO "app"."Tab1" ("id", "c d", "v", "Mixed Case", "select") VALUES (225, '16/B374D848'::pg_lsn, '192.168.0.1/24'::inet, 't'::boolean, '16/B374D848'::pg_lsn), (70, '16/B374D848'::pg_lsn, '::1'::inet, 't'::boolean, '16/B374D848'::pg_lsn), (227, '16/B374D848'::pg_lsn, '::1'::inet, 'f'::boolean, '0/0'::pg_lsn);
--@ session 1
COPY "app"."Tab1" ("id", "c d", "v", "Mixed Case", "select") FROM STDIN;
228	16/B374D848	192.168.0.1/24	f	0/0
23	0/0	::1	f	0/0
51	0/0	::1	t	0/0
\.
--@ session 1
BEGIN;
--@ session 1
COMMIT;
--@ session 1
BEGIN;
--@ session 1
INSERT INTO "app"."Tab1" ("id", "c d", "v", "Mixed Case", "select") VALUES (262, '0/0'::pg_lsn, '192.168.0.1/24'::inet, NULL::boolean, '0/0'::pg_lsn), (20, '16/B374D848'::pg_lsn, '192.168.0.1/24'::inet, 't'::boolean, '0/0'::pg_lsn);
--@ session 1
COMMIT;
--@ session 1
UPDATE "app"."Tab1" SET "c d" = '0/0'::pg_lsn WHERE id = 262;
--@ session 1
UPDATE "app"."Tab1" SET "c d" = '16/B374D848'::pg_lsn WHERE id = 85;
--@ point
--@ session 1
ALTER TABLE "app"."Tab1" SET SCHEMA "public";
--@ session 1
UPDATE "public"."Tab1" SET id = 261 - id WHERE id IN (238, 23);
--@ session 1
PREPARE TRANSACTION 'fz1';
--@ session 1
COMMIT PREPARED 'fz1';
--@ point
