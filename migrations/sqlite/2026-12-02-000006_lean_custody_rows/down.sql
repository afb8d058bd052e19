-- The earlier shapes: custody events keyed by id with their record repeated in `details`
-- (taken back from each event's log entry), and sealed vault rows in a rowid table.
CREATE TABLE custody_events_full (
    id TEXT PRIMARY KEY NOT NULL,
    item_id TEXT NOT NULL REFERENCES evidence_items (id),
    seq BIGINT NOT NULL UNIQUE,
    event_type TEXT NOT NULL,
    actor_id TEXT NOT NULL,
    occurred_at TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    details TEXT NOT NULL,
    item_prev_seq BIGINT
);
INSERT INTO custody_events_full
    (id, item_id, seq, event_type, actor_id, occurred_at, recorded_at, details, item_prev_seq)
SELECT e.id, e.item_id, e.seq, e.event_type, e.actor_id, e.occurred_at, e.recorded_at,
       json_extract(CAST(l.body AS TEXT), '$.custody'), e.item_prev_seq
FROM custody_events e JOIN log_entries l ON l.seq = e.seq;
DROP TABLE custody_events;
ALTER TABLE custody_events_full RENAME TO custody_events;

DROP INDEX vault_sealed_case;
CREATE TABLE vault_sealed_rowid (
    id TEXT PRIMARY KEY NOT NULL,
    sealed BLOB NOT NULL,
    wrapped_key BLOB NOT NULL,
    created_at TEXT NOT NULL,
    case_id TEXT,
    category TEXT NOT NULL DEFAULT 'case_text'
);
INSERT INTO vault_sealed_rowid (id, sealed, wrapped_key, created_at, case_id, category)
SELECT id, sealed, wrapped_key, created_at, case_id, category FROM vault_sealed;
DROP TABLE vault_sealed;
ALTER TABLE vault_sealed_rowid RENAME TO vault_sealed;
CREATE INDEX vault_sealed_case ON vault_sealed (case_id);
