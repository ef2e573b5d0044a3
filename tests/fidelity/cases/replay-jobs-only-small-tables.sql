-- a --jobs window whose tables are all small (the point's replay runs with --jobs 2
-- --batch-size 3000: the second batch holds one row; it was sorted through a null array)
-- live capture: off
--@ session 1
CREATE TABLE t (id int PRIMARY KEY, v text);
--@ session 1
INSERT INTO t SELECT g, 'x' || g FROM generate_series(1, 3500) g;
--@ session 1
INSERT INTO t VALUES (100000, 'y');
--@ point
