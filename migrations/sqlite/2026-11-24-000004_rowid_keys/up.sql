-- SQLite only: the log's and the custody events' `seq` become the tables' row ids. A
-- `BIGINT PRIMARY KEY` is an ordinary unique index beside SQLite's own row id, so every append
-- wrote one more B-tree per entry and every read by `seq` walked two. PostgreSQL is unchanged.
CREATE TABLE log_entries_by_rowid (
    seq INTEGER PRIMARY KEY NOT NULL,
    leaf_hash BLOB NOT NULL,
    body BLOB NOT NULL
);
INSERT INTO log_entries_by_rowid (seq, leaf_hash, body)
    SELECT seq, leaf_hash, body FROM log_entries ORDER BY seq;
DROP TABLE log_entries;
ALTER TABLE log_entries_by_rowid RENAME TO log_entries;

CREATE TABLE checkpoints_by_rowid (
    tree_size INTEGER PRIMARY KEY NOT NULL,
    root_hash BLOB NOT NULL,
    note TEXT NOT NULL,
    created_at TEXT NOT NULL
);
INSERT INTO checkpoints_by_rowid (tree_size, root_hash, note, created_at)
    SELECT tree_size, root_hash, note, created_at FROM checkpoints ORDER BY tree_size;
DROP TABLE checkpoints;
ALTER TABLE checkpoints_by_rowid RENAME TO checkpoints;

CREATE TABLE custody_events_by_rowid (
    seq INTEGER PRIMARY KEY NOT NULL,
    id TEXT NOT NULL UNIQUE,
    item_id TEXT NOT NULL REFERENCES evidence_items (id),
    event_type TEXT NOT NULL,
    actor_id TEXT NOT NULL,
    occurred_at TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    details TEXT NOT NULL
);
INSERT INTO custody_events_by_rowid
    (seq, id, item_id, event_type, actor_id, occurred_at, recorded_at, details)
    SELECT seq, id, item_id, event_type, actor_id, occurred_at, recorded_at, details
    FROM custody_events ORDER BY seq;
DROP TABLE custody_events;
ALTER TABLE custody_events_by_rowid RENAME TO custody_events;
-- An index's entries end with the row id, here `seq`: one per item, in log order.
CREATE INDEX custody_events_item ON custody_events (item_id);
