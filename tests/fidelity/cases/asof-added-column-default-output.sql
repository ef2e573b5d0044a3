-- --as-of gave a column added with a constant default the default cast to text, not the type's output ("true" for t, "10.0.0.1/32" for 10.0.0.1)
-- live capture: off
--@ session 1
CREATE TABLE "public"."Tab1" (id integer PRIMARY KEY, a text);
--@ session 1
INSERT INTO "public"."Tab1" (id, a) VALUES (1, 'x');
--@ session 1
ALTER TABLE "public"."Tab1" ADD COLUMN "select" boolean DEFAULT true;
--@ session 1
ALTER TABLE "public"."Tab1" ADD COLUMN "v" inet DEFAULT '10.0.0.1';
--@ point
