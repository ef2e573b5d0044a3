-- a transaction prepared before a point and committed after it
-- live capture: off
--@ session 1
CREATE TABLE t (id int PRIMARY KEY, v text);
--@ session 1
BEGIN;
--@ session 1
INSERT INTO t VALUES (1, 'a');
--@ session 1
PREPARE TRANSACTION 'fz1';
--@ session 2
INSERT INTO t VALUES (2, 'b');
--@ point
--@ session 1
COMMIT PREPARED 'fz1';
--@ point
