-- Dossier exchange between nodes (issue 30 items 7 and 8).
--
-- `outbox`: what this node owes its peers, durable before the sender is answered, delivered in
-- `id` order per peer when the link is up. A row leaves `queued` once: `delivered` in the same
-- transaction as the `dossier.sent` entry naming the receiver's receipt, `refused` with the
-- receiver's reason, or `withdrawn` when its share was revoked first; a transfer is therefore
-- never recorded as sent twice. `as_of_seq`: the dossier's own `dossier.issued` entry (later
-- events of the case go as an update).
CREATE TABLE outbox (
    id BIGSERIAL PRIMARY KEY NOT NULL,
    transfer_id TEXT NOT NULL UNIQUE,
    peer TEXT NOT NULL,
    peer_origin TEXT NOT NULL,
    case_id TEXT NOT NULL,
    share_id TEXT NOT NULL,
    as_of_seq BIGINT NOT NULL,
    manifest TEXT NOT NULL,
    tree_size BIGINT NOT NULL,
    root TEXT NOT NULL,
    body TEXT NOT NULL,
    queued_at TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    last_error TEXT,
    receipt TEXT,
    sent_seq BIGINT,
    done_at TEXT
);
CREATE INDEX outbox_queued ON outbox (state, peer, id);
CREATE INDEX outbox_by_case ON outbox (case_id, peer);
-- `inbox`: every transfer a peer sent, by sender and id (a transfer sent again is answered from
-- here, not recorded twice): imported with its dossier and the sender's conditions, or refused
-- with the reason and nothing of it kept. An id names one imported dossier only.
CREATE TABLE inbox (
    transfer_id TEXT NOT NULL,
    sender TEXT NOT NULL,
    case_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    received_at TEXT NOT NULL,
    refused TEXT,
    reference TEXT,
    owner_agency TEXT,
    owner_state TEXT,
    share_id TEXT,
    recipient_agency TEXT,
    recipient_state TEXT,
    handling TEXT,
    purposes TEXT,
    confidential BOOLEAN,
    consent_for_court BOOLEAN,
    expires_at TEXT,
    manifest TEXT,
    tree_size BIGINT,
    dossier TEXT,
    receipt TEXT,
    PRIMARY KEY (sender, transfer_id)
);
CREATE UNIQUE INDEX inbox_imported ON inbox (transfer_id) WHERE refused IS NULL;
CREATE INDEX inbox_by_seq ON inbox (seq);
CREATE INDEX inbox_by_manifest ON inbox (sender, manifest);
