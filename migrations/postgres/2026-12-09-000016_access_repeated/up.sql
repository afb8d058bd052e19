-- How many refusals an access record stands for (issue 29): repeated refusals of one user and
-- action are counted into one entry per window, and the records of processing add them up in
-- SQL. NULL is one. Filled from the entries already in the log.
ALTER TABLE access_records ADD COLUMN repeated BIGINT;
UPDATE access_records a SET repeated = (
    convert_from(l.body, 'UTF8')::jsonb -> 'access' ->> 'repeated'
)::BIGINT
FROM log_entries l WHERE l.seq = a.seq AND a.decision = 'denied';
