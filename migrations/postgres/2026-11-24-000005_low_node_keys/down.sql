UPDATE tree_nodes
SET node_key = -(((node_key & 3) << 56) | ((((node_key >> 2) + 1) >> ((node_key & 3)::int)) - 1))
WHERE node_key > 0 AND node_key < 288230376151711744;
UPDATE tree_nodes SET node_key = -node_key WHERE node_key < 0;
