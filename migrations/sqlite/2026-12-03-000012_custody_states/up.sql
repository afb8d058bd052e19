-- An item's custody state (holder, status, pending transfer, integrity, latest event) in a narrow
-- table of its own, apart from the facts registered with the item, which never change. The
-- sequencer rewrites the state of every item a batch touches: in `evidence_items` that was an
-- `UPDATE … FROM (VALUES …)` re-encoding rows of 25 columns (13% of the sequencer's thread);
-- here it is one multi-row `INSERT OR REPLACE` of 7-column rows keyed by the item's id (7%), and
-- items registered together, the ones in use together, share pages (ids are UUID v7). No foreign
-- key to the item, as for custody events (migration 9): only the sequencer writes states, for
-- items `apply` has found in the same transaction, and each row written would probe the items'
-- index again; `scelle rebuild` deletes the states before the items.
CREATE TABLE custody_states (
    item_id TEXT PRIMARY KEY NOT NULL,
    holder_id TEXT NOT NULL,
    custody_status TEXT NOT NULL,
    pending_to TEXT,
    pending_event TEXT,
    integrity TEXT NOT NULL,
    last_event_seq BIGINT
) WITHOUT ROWID;
INSERT INTO custody_states
    (item_id, holder_id, custody_status, pending_to, pending_event, integrity, last_event_seq)
SELECT id, holder_id, custody_status, pending_to, pending_event, integrity, last_event_seq
FROM evidence_items ORDER BY id;
ALTER TABLE evidence_items DROP COLUMN holder_id;
ALTER TABLE evidence_items DROP COLUMN custody_status;
ALTER TABLE evidence_items DROP COLUMN pending_to;
ALTER TABLE evidence_items DROP COLUMN pending_event;
ALTER TABLE evidence_items DROP COLUMN integrity;
ALTER TABLE evidence_items DROP COLUMN last_event_seq;
