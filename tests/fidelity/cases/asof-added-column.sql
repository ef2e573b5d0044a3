-- --as-of left out columns added after the row's last event (NULL, or the constant fast default ADD COLUMN gave); found by seeds 39 and 55
-- live capture: on
--@ session 1
CREATE TABLE "public"."Tab1" (id integer PRIMARY KEY, a text);
--@ session 1
INSERT INTO "public"."Tab1" (id, a) VALUES (1, 'x');
--@ point
--@ session 1
ALTER TABLE "public"."Tab1" ADD COLUMN n4 integer DEFAULT 7;
--@ session 1
ALTER TABLE "public"."Tab1" ADD COLUMN n5 text;
--@ point
