CREATE TABLE custody_events_by_key (
    id TEXT PRIMARY KEY NOT NULL,
    item_id TEXT NOT NULL REFERENCES evidence_items (id),
    seq BIGINT NOT NULL UNIQUE,
    event_type TEXT NOT NULL,
    actor_id TEXT NOT NULL,
    occurred_at TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    details TEXT NOT NULL
);
INSERT INTO custody_events_by_key
    (id, item_id, seq, event_type, actor_id, occurred_at, recorded_at, details)
    SELECT id, item_id, seq, event_type, actor_id, occurred_at, recorded_at, details
    FROM custody_events ORDER BY seq;
DROP TABLE custody_events;
ALTER TABLE custody_events_by_key RENAME TO custody_events;
CREATE INDEX custody_events_item ON custody_events (item_id, seq);

CREATE TABLE checkpoints_by_key (
    tree_size BIGINT PRIMARY KEY NOT NULL,
    root_hash BLOB NOT NULL,
    note TEXT NOT NULL,
    created_at TEXT NOT NULL
);
INSERT INTO checkpoints_by_key (tree_size, root_hash, note, created_at)
    SELECT tree_size, root_hash, note, created_at FROM checkpoints ORDER BY tree_size;
DROP TABLE checkpoints;
ALTER TABLE checkpoints_by_key RENAME TO checkpoints;

CREATE TABLE log_entries_by_key (
    seq BIGINT PRIMARY KEY NOT NULL,
    leaf_hash BLOB NOT NULL,
    body BLOB NOT NULL
);
INSERT INTO log_entries_by_key (seq, leaf_hash, body)
    SELECT seq, leaf_hash, body FROM log_entries ORDER BY seq;
DROP TABLE log_entries;
ALTER TABLE log_entries_by_key RENAME TO log_entries;
