CREATE TABLE log_entries_indexed (
    seq BIGINT PRIMARY KEY NOT NULL,
    leaf_hash BLOB NOT NULL,
    body BLOB NOT NULL
);
INSERT INTO log_entries_indexed (seq, leaf_hash, body)
SELECT seq, leaf_hash, body FROM log_entries ORDER BY seq;
DROP TABLE log_entries;
ALTER TABLE log_entries_indexed RENAME TO log_entries;
