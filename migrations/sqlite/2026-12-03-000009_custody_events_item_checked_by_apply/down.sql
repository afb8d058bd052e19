-- The table as migration 6 left it, with its foreign key to the item.
CREATE TABLE custody_events_linked (
    seq INTEGER PRIMARY KEY NOT NULL,
    id TEXT NOT NULL,
    item_id TEXT NOT NULL REFERENCES evidence_items (id),
    event_type TEXT NOT NULL,
    actor_id TEXT NOT NULL,
    occurred_at TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    item_prev_seq BIGINT
);
INSERT INTO custody_events_linked
    (seq, id, item_id, event_type, actor_id, occurred_at, recorded_at, item_prev_seq)
SELECT seq, id, item_id, event_type, actor_id, occurred_at, recorded_at, item_prev_seq
FROM custody_events ORDER BY seq;
DROP TABLE custody_events;
ALTER TABLE custody_events_linked RENAME TO custody_events;
