-- How many refusals an access record stands for (issue 29): repeated refusals of one user and
-- action are counted into one entry per window, and the records of processing add them up in
-- SQL. NULL is one. Filled from the entries already in the log.
ALTER TABLE access_records ADD COLUMN repeated BIGINT;
UPDATE access_records SET repeated = (
    SELECT json_extract(CAST(l.body AS TEXT), '$.access.repeated')
    FROM log_entries l WHERE l.seq = access_records.seq
) WHERE decision = 'denied';
