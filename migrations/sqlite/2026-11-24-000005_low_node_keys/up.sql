-- Interior nodes of levels 1 to 3 are keyed by the leaf that completes them,
-- (completing_leaf << 2) | level with completing_leaf = ((index + 1) << level) - 1, so the nodes
-- one append batch completes share a page or two; levels 4 and up keep (level << 56) | index.
-- Old keys of levels 1 to 3 lie in [1 << 56, 4 << 56). The new keys go through negative values
-- first so that no key ever collides with one not yet moved.
UPDATE tree_nodes
SET node_key = -(((((node_key & 72057594037927935) + 1) << (node_key >> 56)) - 1) * 4 + (node_key >> 56))
WHERE node_key >= 72057594037927936 AND node_key < 288230376151711744;
UPDATE tree_nodes SET node_key = -node_key WHERE node_key < 0;
