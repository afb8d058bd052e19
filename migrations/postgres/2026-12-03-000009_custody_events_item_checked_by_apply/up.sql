-- Custody events are a projection that only the sequencer writes, after `apply` has found their
-- item in the same transaction (an event for an unknown item is refused before it reaches the
-- log), and that `scelle rebuild` makes again from the log; evidence items are deleted only by
-- that rebuild, which deletes the events first. The foreign key checked the same thing again for
-- every row of every batch: a trigger running a locking query per row, about a tenth of a
-- batch's time on the server (bench: 20,170 and 19,479 appends/s with it, 21,758 and 21,887
-- without, alternating).
ALTER TABLE custody_events DROP CONSTRAINT custody_events_item_id_fkey;
