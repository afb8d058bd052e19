-- Custody events keep only what a timeline walks and filters on. The event itself is read from
-- its log entry, the source of truth, so the row no longer repeats it (`details`). The log
-- position is the key, and a correction finds the event it amends on its item's chain, so the
-- id needs no index of its own: each append batch writes one index fewer.
ALTER TABLE custody_events DROP COLUMN details;
ALTER TABLE custody_events DROP CONSTRAINT custody_events_pkey;
ALTER TABLE custody_events DROP CONSTRAINT custody_events_seq_key;
ALTER TABLE custody_events ADD PRIMARY KEY (seq);
