-- --as-of printed a rewritten table's values as casts to text, not the type's output ("false" for f, "10.0.0.1/32" for 10.0.0.1, char(5) without its blanks): capture's rewrite rows used ::text; found by seeds 274 and 334 (pg15)
-- live capture: off
--@ session 1
CREATE TABLE "public"."Tab1" (id integer PRIMARY KEY, "select" boolean, "v" inet, "c" character(5), n integer);
--@ session 1
INSERT INTO "public"."Tab1" (id, "select", "v", "c", n) VALUES (1, false, '10.0.0.1', 'ab', 1);
--@ point
--@ session 1
ALTER TABLE "public"."Tab1" ALTER COLUMN n TYPE bigint USING n + 1;
--@ point
