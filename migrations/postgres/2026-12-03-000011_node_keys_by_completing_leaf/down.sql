-- Keys as migration 5 left them: levels 1 to 3 (completing_leaf << 2) | level, levels 4 and up
-- (level << 56) | index; through negative values, as the up migration.
UPDATE tree_nodes SET node_key = -(CASE
    WHEN (node_key & 63) >= 4
    THEN ((node_key & 63) << 56)
         | ((((node_key >> 6) + 1) >> ((node_key & 63)::int)) - 1)
    ELSE ((node_key >> 6) << 2) | (node_key & 63)
END);
UPDATE tree_nodes SET node_key = -node_key WHERE node_key < 0;
