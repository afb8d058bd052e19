-- The log: exact canonical entry bytes and their RFC 9162 leaf hashes.
CREATE TABLE log_entries (
    seq BIGINT PRIMARY KEY NOT NULL,
    leaf_hash BLOB NOT NULL,
    body BLOB NOT NULL
);

-- Every complete interior subtree hash (level >= 1), keyed by level << 56 | index, so that one
-- query fetches all the nodes a proof needs and each level is one contiguous key range.
CREATE TABLE tree_nodes (
    node_key BIGINT PRIMARY KEY NOT NULL,
    hash BLOB NOT NULL
) WITHOUT ROWID;

CREATE TABLE checkpoints (
    tree_size BIGINT PRIMARY KEY NOT NULL,
    root_hash BLOB NOT NULL,
    note TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE node_settings (
    name TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);

CREATE TABLE agencies (
    id TEXT PRIMARY KEY NOT NULL,
    state TEXT NOT NULL,
    name TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE users (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    agency_id TEXT NOT NULL REFERENCES agencies (id),
    created_at TEXT NOT NULL
);

CREATE TABLE api_tokens (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    secret_hash BLOB NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT,
    revoked_at TEXT
);

-- Free text that may name persons: kept out of the log, which holds only its commitment.
CREATE TABLE vault_records (
    id TEXT PRIMARY KEY NOT NULL,
    salt BLOB NOT NULL,
    value TEXT NOT NULL,
    created_at TEXT NOT NULL
);

-- Projections of the log, rebuilt from it by `scelle rebuild`.
CREATE TABLE cases (
    id TEXT PRIMARY KEY NOT NULL,
    reference TEXT NOT NULL UNIQUE,
    jurisdiction TEXT NOT NULL,
    offence TEXT NOT NULL,
    legal_basis TEXT NOT NULL,
    agency_id TEXT NOT NULL,
    officer_id TEXT NOT NULL,
    title_record TEXT,
    opened_at TEXT NOT NULL,
    opened_seq BIGINT NOT NULL
);

CREATE TABLE evidence_items (
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
    registered_seq BIGINT NOT NULL,
    UNIQUE (case_id, seal_number),
    UNIQUE (case_id, exhibit_number)
);
CREATE INDEX evidence_items_sha256 ON evidence_items (sha256);
CREATE INDEX evidence_items_parent ON evidence_items (parent_id);

CREATE TABLE custody_events (
    id TEXT PRIMARY KEY NOT NULL,
    item_id TEXT NOT NULL REFERENCES evidence_items (id),
    seq BIGINT NOT NULL UNIQUE,
    event_type TEXT NOT NULL,
    actor_id TEXT NOT NULL,
    occurred_at TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    details TEXT NOT NULL
);
CREATE INDEX custody_events_item ON custody_events (item_id, seq);

-- The row the sequencer writes first in every append transaction, to take SQLite's write lock.
INSERT INTO node_settings (name, value) VALUES ('append_lock', '');
