-- Sealed vault rows in a row-id table found by id through its index, instead of the WITHOUT
-- ROWID table keyed by id that migration 6 made. SQLite appends at the end of a row-id table by
-- moving the new cell to a fresh page (`balance_quick`); an index-shaped table rebalances three
-- sibling pages at every split, and when it puts them back in page order it swaps two through a
-- temporary page number far past the end of the file, after which the commit walks the
-- connection's whole page cache. A batch of custody events split the vault about once, so nearly
-- every commit paid for both. Four alternations (scelle bench): the sequencer's CPU per append
-- 16.2-17.0 us against 17.8-18.3, 41,658-45,220 appends/s against 40,552-42,796, for about 4%
-- more WAL bytes per append (the id index is a B-tree of its own).
CREATE TABLE vault_sealed_rowid (
    id TEXT PRIMARY KEY NOT NULL,
    sealed BLOB NOT NULL,
    wrapped_key BLOB NOT NULL,
    created_at TEXT NOT NULL,
    case_id TEXT,
    category TEXT NOT NULL DEFAULT 'case_text'
);
INSERT INTO vault_sealed_rowid (id, sealed, wrapped_key, created_at, case_id, category)
SELECT id, sealed, wrapped_key, created_at, case_id, category FROM vault_sealed ORDER BY id;
DROP TABLE vault_sealed;
ALTER TABLE vault_sealed_rowid RENAME TO vault_sealed;
