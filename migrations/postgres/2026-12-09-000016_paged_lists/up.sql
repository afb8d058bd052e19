-- How many refusals an access record stands for (issue 29): repeated refusals of one user and
-- action are counted into one entry per window, and the records of processing add them up in
-- SQL. NULL is one. Filled from the entries already in the log.
ALTER TABLE access_records ADD COLUMN repeated BIGINT;
UPDATE access_records a SET repeated = (
    convert_from(l.body, 'UTF8')::json -> 'access' ->> 'repeated'
)::BIGINT
FROM log_entries l WHERE l.seq = a.seq AND a.decision = 'denied';
-- Every list is read a page at a time in log order (issue 29): the indexes that give a page
-- without sorting all of a case's items, an item's derivations, a case's persons or a user's
-- access records.
DROP INDEX evidence_items_parent;
CREATE INDEX evidence_items_parent ON evidence_items (parent_id, registered_seq);
CREATE INDEX evidence_items_case_order ON evidence_items (case_id, registered_seq);
DROP INDEX persons_case;
CREATE INDEX persons_case ON persons (case_id, seq);
CREATE INDEX access_records_actor ON access_records (actor_id, seq);
