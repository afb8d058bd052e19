-- Entries are keyed by their `seq` itself. Declared `BIGINT PRIMARY KEY`, `seq` was a unique
-- index beside the table (whose row ids happened to follow it), so every append batch wrote
-- both B-trees and every read by `seq` (a proof's leaf, the audit's scan, a dossier's entries)
-- went through the index and then the table; as `INTEGER PRIMARY KEY` it is the row id, one
-- B-tree. (PostgreSQL has no such migration: its primary key is already the table's one index.)
CREATE TABLE log_entries_keyed (
    seq INTEGER PRIMARY KEY NOT NULL,
    leaf_hash BLOB NOT NULL,
    body BLOB NOT NULL
);
INSERT INTO log_entries_keyed (seq, leaf_hash, body)
SELECT seq, leaf_hash, body FROM log_entries ORDER BY seq;
DROP TABLE log_entries;
ALTER TABLE log_entries_keyed RENAME TO log_entries;
