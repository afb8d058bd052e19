-- Custody events keep only what a timeline walks and filters on. The event itself is read from
-- its log entry, the source of truth, so the row no longer repeats it (`details`). The log
-- position is the row id, and a correction finds the event it amends on its item's chain, so
-- neither `seq` nor `id` needs an index of its own: each append batch writes two B-trees fewer.
CREATE TABLE custody_events_lean (
    seq INTEGER PRIMARY KEY NOT NULL,
    id TEXT NOT NULL,
    item_id TEXT NOT NULL REFERENCES evidence_items (id),
    event_type TEXT NOT NULL,
    actor_id TEXT NOT NULL,
    occurred_at TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    item_prev_seq BIGINT
);
INSERT INTO custody_events_lean
    (seq, id, item_id, event_type, actor_id, occurred_at, recorded_at, item_prev_seq)
SELECT seq, id, item_id, event_type, actor_id, occurred_at, recorded_at, item_prev_seq
FROM custody_events;
DROP TABLE custody_events;
ALTER TABLE custody_events_lean RENAME TO custody_events;

-- Sealed vault rows are found by id: the table is its own id index (one B-tree fewer).
DROP INDEX vault_sealed_case;
CREATE TABLE vault_sealed_keyed (
    id TEXT PRIMARY KEY NOT NULL,
    sealed BLOB NOT NULL,
    wrapped_key BLOB NOT NULL,
    created_at TEXT NOT NULL,
    case_id TEXT,
    category TEXT NOT NULL DEFAULT 'case_text'
) WITHOUT ROWID;
INSERT INTO vault_sealed_keyed (id, sealed, wrapped_key, created_at, case_id, category)
SELECT id, sealed, wrapped_key, created_at, case_id, category FROM vault_sealed;
DROP TABLE vault_sealed;
ALTER TABLE vault_sealed_keyed RENAME TO vault_sealed;
CREATE INDEX vault_sealed_case ON vault_sealed (case_id);
