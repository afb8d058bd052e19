-- Every interior node keyed by the leaf that completes it, (completing_leaf << 6) | level with
-- completing_leaf = ((index + 1) << level) - 1. Migration 5 did this for levels 1 to 3 only;
-- levels 4 and up kept (level << 56) | index, one key range per level, so each append batch
-- inserted at the tail of a dozen ranges of the primary key. Keyed this way the nodes a batch
-- completes come in increasing key order at the right edge of the index.
-- Old keys: levels 4 and up are at or above 4 << 56 (288230376151711744), the level in the top
-- byte and the index in the low 56 bits (72057594037927935); levels 1 to 3 are
-- (completing_leaf << 2) | level. Every key is positive: the new ones go through negative
-- values first so that no key collides with one not yet moved.
UPDATE tree_nodes SET node_key = -(CASE
    WHEN node_key >= 288230376151711744
    THEN ((((node_key & 72057594037927935) + 1) << ((node_key >> 56)::int)) - 1) * 64
         + (node_key >> 56)
    ELSE (node_key >> 2) * 64 + (node_key & 3)
END);
UPDATE tree_nodes SET node_key = -node_key WHERE node_key < 0;
