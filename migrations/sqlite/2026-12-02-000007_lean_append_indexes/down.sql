CREATE INDEX vault_sealed_case ON vault_sealed (case_id);

CREATE TABLE checkpoints_indexed (
    tree_size BIGINT PRIMARY KEY NOT NULL,
    root_hash BLOB NOT NULL,
    note TEXT NOT NULL,
    created_at TEXT NOT NULL
);
INSERT INTO checkpoints_indexed (tree_size, root_hash, note, created_at)
SELECT tree_size, root_hash, note, created_at FROM checkpoints ORDER BY tree_size;
DROP TABLE checkpoints;
ALTER TABLE checkpoints_indexed RENAME TO checkpoints;
