CREATE INDEX vault_sealed_case ON vault_sealed (case_id);
