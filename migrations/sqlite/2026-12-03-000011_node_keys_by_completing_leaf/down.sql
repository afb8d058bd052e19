-- The node table as migration 5 left it: WITHOUT ROWID, levels 1 to 3 keyed
-- (completing_leaf << 2) | level, levels 4 and up (level << 56) | index.
CREATE TABLE tree_nodes_level_major (
    node_key BIGINT PRIMARY KEY NOT NULL,
    hash BLOB NOT NULL
) WITHOUT ROWID;
INSERT INTO tree_nodes_level_major (node_key, hash)
SELECT CASE
    WHEN (node_key & 63) >= 4
    THEN ((node_key & 63) << 56) | ((((node_key >> 6) + 1) >> (node_key & 63)) - 1)
    ELSE ((node_key >> 6) << 2) | (node_key & 63)
END, hash
FROM tree_nodes;
DROP TABLE tree_nodes;
ALTER TABLE tree_nodes_level_major RENAME TO tree_nodes;
