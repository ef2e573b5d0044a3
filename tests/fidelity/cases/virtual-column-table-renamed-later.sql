-- capture catching up after a table with a virtual generated column was renamed took the virtual columns from the catalog, where the old name is gone: an INSERT opened a version without them or the table's oid, and replay into the final schema wanted the old name (fidelity seed 879 on 18)
-- postgresql: 18
-- live capture: off
--@ session 1
CREATE TABLE "public"."Tab2" (id integer NOT NULL, k text NOT NULL, "v" integer[], "gen" bigint GENERATED ALWAYS AS (id * 2 + 1) VIRTUAL) ; ALTER TABLE "public"."Tab2" ADD PRIMARY KEY (id, k);
--@ session 1
INSERT INTO "public"."Tab2" ("id", "k", "v") VALUES (1, 'k'::text, '{{1,2},{3,4}}'::integer[]), (2, 'é'::text, '{}'::integer[]);
--@ point
--@ session 1
ALTER TABLE "public"."Tab2" RENAME TO "Tab2~5";
--@ session 1
INSERT INTO "public"."Tab2~5" ("id", "k", "v") VALUES (3, 'k'::text, NULL);
--@ point
