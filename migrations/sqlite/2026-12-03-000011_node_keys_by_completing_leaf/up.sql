-- Every interior node keyed by the leaf that completes it, (completing_leaf << 6) | level with
-- completing_leaf = ((index + 1) << level) - 1, in a row-id table (node_key INTEGER PRIMARY KEY).
-- Migration 5 did this for levels 1 to 3 only; levels 4 and up kept (level << 56) | index, one
-- key range per level, so each append batch wrote at the tail of a dozen ranges: 5.9 of a
-- 22-entry commit's 23 WAL pages were tree nodes. Keyed this way the nodes a batch completes
-- come in increasing key order at the end of the table, which SQLite appends to a row-id table
-- without rebalancing siblings.
-- Old keys: levels 4 and up are at or above 4 << 56 (288230376151711744), the level in the top
-- byte and the index in the low 56 bits (72057594037927935); levels 1 to 3 are
-- (completing_leaf << 2) | level.
CREATE TABLE tree_nodes_by_leaf (
    node_key INTEGER PRIMARY KEY NOT NULL,
    hash BLOB NOT NULL
);
INSERT INTO tree_nodes_by_leaf (node_key, hash)
SELECT CASE
    WHEN node_key >= 288230376151711744
    THEN ((((node_key & 72057594037927935) + 1) << (node_key >> 56)) - 1) * 64 + (node_key >> 56)
    ELSE (node_key >> 2) * 64 + (node_key & 3)
END AS new_key, hash
FROM tree_nodes ORDER BY new_key;
DROP TABLE tree_nodes;
ALTER TABLE tree_nodes_by_leaf RENAME TO tree_nodes;
