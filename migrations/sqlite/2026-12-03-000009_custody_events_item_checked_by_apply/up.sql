-- Custody events are a projection that only the sequencer writes, after `apply` has found their
-- item in the same transaction (an event for an unknown item is refused before it reaches the
-- log), and that `scelle rebuild` makes again from the log; evidence items are deleted only by
-- that rebuild, which deletes the events first. The foreign key checked the same thing again for
-- every row of every batch. SQLite cannot drop a constraint, so the table is made again without
-- it (the same columns and key as migration 6 left).
CREATE TABLE custody_events_unlinked (
    seq INTEGER PRIMARY KEY NOT NULL,
    id TEXT NOT NULL,
    item_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    actor_id TEXT NOT NULL,
    occurred_at TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    item_prev_seq BIGINT
);
INSERT INTO custody_events_unlinked
    (seq, id, item_id, event_type, actor_id, occurred_at, recorded_at, item_prev_seq)
SELECT seq, id, item_id, event_type, actor_id, occurred_at, recorded_at, item_prev_seq
FROM custody_events ORDER BY seq;
DROP TABLE custody_events;
ALTER TABLE custody_events_unlinked RENAME TO custody_events;
