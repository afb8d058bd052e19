-- The vault as migration 7 left it: a WITHOUT ROWID table keyed by id, with no other index.
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
