-- Sealed vault rows are found by id (the table's key). Their case index served only the
-- records-of-processing and retention listings of a whole state, which read every record of
-- the state anyway; each append batch wrote it. (The checkpoints' key is already their only
-- index here: a PostgreSQL primary key is the table's one index.)
DROP INDEX vault_sealed_case;
