-- An item's custody state (holder, status, pending transfer, integrity, latest event) in a narrow
-- table of its own, apart from the facts registered with the item, which never change (the same
-- layout as SQLite's migration 12). The sequencer rewrites one state per item touched in every
-- batch; in `evidence_items` each update wrote a new version of a row of 25 columns, here of 7.
-- The updates never change the key, so they stay heap-only as the items' were.
CREATE TABLE custody_states (
    item_id TEXT PRIMARY KEY NOT NULL REFERENCES evidence_items (id),
    holder_id TEXT NOT NULL,
    custody_status TEXT NOT NULL,
    pending_to TEXT,
    pending_event TEXT,
    integrity TEXT NOT NULL,
    last_event_seq BIGINT
);
INSERT INTO custody_states
    (item_id, holder_id, custody_status, pending_to, pending_event, integrity, last_event_seq)
SELECT id, holder_id, custody_status, pending_to, pending_event, integrity, last_event_seq
FROM evidence_items ORDER BY id;
ALTER TABLE evidence_items
    DROP COLUMN holder_id,
    DROP COLUMN custody_status,
    DROP COLUMN pending_to,
    DROP COLUMN pending_event,
    DROP COLUMN integrity,
    DROP COLUMN last_event_seq;
