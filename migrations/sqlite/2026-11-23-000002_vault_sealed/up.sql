-- Personal data sealed at rest (DESIGN §4): salt and value encrypted with AES-256-GCM under a
-- per-record data key, itself wrapped by the node's vault key (a file outside the database).
-- Rows of the older clear-text `vault_records` are sealed into this table when a node opens.
CREATE TABLE vault_sealed (
    id TEXT PRIMARY KEY NOT NULL,
    sealed BLOB NOT NULL,
    wrapped_key BLOB NOT NULL,
    created_at TEXT NOT NULL
);
