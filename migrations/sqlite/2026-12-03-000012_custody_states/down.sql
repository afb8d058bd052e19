-- The items' table as migrations 1 and 4 left it, each item with its state again. SQLite adds a
-- column only at the end, so the table is made again, column for column, and its indexes too.
CREATE TABLE evidence_items_with_state (
    id TEXT PRIMARY KEY NOT NULL,
    case_id TEXT NOT NULL REFERENCES cases (id),
    exhibit_number TEXT NOT NULL,
    seal_number TEXT NOT NULL,
    kind TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    sha512 TEXT,
    sha1 TEXT,
    md5 TEXT,
    size_bytes BIGINT,
    collected_at TEXT NOT NULL,
    collector_id TEXT NOT NULL,
    description_record TEXT,
    location_record TEXT,
    acquisition_tool TEXT,
    acquisition_version TEXT,
    acquisition_settings TEXT,
    parent_id TEXT REFERENCES evidence_items (id),
    holder_id TEXT NOT NULL,
    custody_status TEXT NOT NULL,
    pending_to TEXT,
    pending_event TEXT,
    integrity TEXT NOT NULL,
    registered_seq BIGINT NOT NULL, last_event_seq BIGINT,
    UNIQUE (case_id, seal_number),
    UNIQUE (case_id, exhibit_number)
);
INSERT INTO evidence_items_with_state
SELECT i.id, i.case_id, i.exhibit_number, i.seal_number, i.kind, i.sha256, i.sha512, i.sha1,
    i.md5, i.size_bytes, i.collected_at, i.collector_id, i.description_record,
    i.location_record, i.acquisition_tool, i.acquisition_version, i.acquisition_settings,
    i.parent_id, s.holder_id, s.custody_status, s.pending_to, s.pending_event, s.integrity,
    i.registered_seq, s.last_event_seq
FROM evidence_items i JOIN custody_states s ON s.item_id = i.id ORDER BY i.rowid;
DROP TABLE custody_states;
DROP TABLE evidence_items;
ALTER TABLE evidence_items_with_state RENAME TO evidence_items;
CREATE INDEX evidence_items_sha256 ON evidence_items (sha256);
CREATE INDEX evidence_items_parent ON evidence_items (parent_id);
