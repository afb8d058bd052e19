//! Diesel table definitions, one for both backends (types chosen to map the same on each).

diesel::table! {
    log_entries (seq) {
        seq -> BigInt,
        leaf_hash -> Binary,
        body -> Binary,
    }
}

diesel::table! {
    tree_nodes (node_key) {
        node_key -> BigInt,
        hash -> Binary,
    }
}

diesel::table! {
    checkpoints (tree_size) {
        tree_size -> BigInt,
        root_hash -> Binary,
        note -> Text,
        created_at -> Text,
    }
}

diesel::table! {
    node_settings (name) {
        name -> Text,
        value -> Text,
    }
}

diesel::table! {
    agencies (id) {
        id -> Text,
        state -> Text,
        name -> Text,
        created_at -> Text,
        is_lab -> Bool,
    }
}

diesel::table! {
    users (id) {
        id -> Text,
        name -> Text,
        role -> Text,
        agency_id -> Text,
        created_at -> Text,
        login -> Nullable<Text>,
        password_hash -> Nullable<Text>,
        disabled_at -> Nullable<Text>,
    }
}

diesel::table! {
    web_sessions (id_hash) {
        id_hash -> Binary,
        user_id -> Text,
        created_at -> Text,
        expires_at -> BigInt,
    }
}

diesel::table! {
    api_tokens (id) {
        id -> Text,
        user_id -> Text,
        secret_hash -> Binary,
        created_at -> Text,
        expires_at -> Nullable<Text>,
        revoked_at -> Nullable<Text>,
    }
}

diesel::table! {
    vault_records (id) {
        id -> Text,
        salt -> Binary,
        value -> Text,
        created_at -> Text,
    }
}

diesel::table! {
    vault_epoch_floor (id) {
        id -> Integer,
        floor -> Binary,
    }
}

diesel::table! {
    vault_sealed (id) {
        id -> Text,
        sealed -> Binary,
        wrapped_key -> Binary,
        created_at -> Text,
        case_id -> Nullable<Text>,
        category -> Text,
    }
}

diesel::table! {
    case_shares (id) {
        id -> Text,
        case_id -> Text,
        seq -> BigInt,
        shared_by -> Text,
        recipient_agency -> Nullable<Text>,
        recipient_state -> Nullable<Text>,
        handling -> Text,
        purposes -> Text,
        confidential -> Bool,
        consent_for_court -> Bool,
        expires_at -> Text,
        conditions_record -> Nullable<Text>,
        shared_at -> Text,
        revoked_at -> Nullable<Text>,
    }
}

diesel::table! {
    persons (id) {
        id -> Text,
        case_id -> Text,
        data_record -> Text,
        seq -> BigInt,
        recorded_at -> Text,
    }
}

diesel::table! {
    access_records (seq) {
        seq -> BigInt,
        actor_id -> Text,
        agency_id -> Text,
        role -> Text,
        action -> Text,
        resource -> Text,
        case_id -> Nullable<Text>,
        purpose -> Nullable<Text>,
        decision -> Text,
        policies -> Text,
        at -> Text,
        repeated -> Nullable<BigInt>,
    }
}

diesel::table! {
    cases (id) {
        id -> Text,
        reference -> Text,
        jurisdiction -> Text,
        offence -> Text,
        legal_basis -> Text,
        agency_id -> Text,
        officer_id -> Text,
        title_record -> Nullable<Text>,
        opened_at -> Text,
        opened_seq -> BigInt,
    }
}

diesel::table! {
    evidence_items (id) {
        id -> Text,
        case_id -> Text,
        exhibit_number -> Text,
        seal_number -> Text,
        kind -> Text,
        sha256 -> Text,
        sha512 -> Nullable<Text>,
        sha1 -> Nullable<Text>,
        md5 -> Nullable<Text>,
        size_bytes -> Nullable<BigInt>,
        collected_at -> Text,
        collector_id -> Text,
        description_record -> Nullable<Text>,
        location_record -> Nullable<Text>,
        acquisition_tool -> Nullable<Text>,
        acquisition_version -> Nullable<Text>,
        acquisition_settings -> Nullable<Text>,
        parent_id -> Nullable<Text>,
        registered_seq -> BigInt,
    }
}

diesel::table! {
    custody_states (item_id) {
        item_id -> Text,
        holder_id -> Text,
        custody_status -> Text,
        pending_to -> Nullable<Text>,
        pending_event -> Nullable<Text>,
        integrity -> Text,
        last_event_seq -> Nullable<BigInt>,
    }
}

diesel::table! {
    custody_events (seq) {
        seq -> BigInt,
        id -> Text,
        item_id -> Text,
        event_type -> Text,
        actor_id -> Text,
        occurred_at -> Text,
        recorded_at -> Text,
        item_prev_seq -> Nullable<BigInt>,
    }
}

diesel::table! {
    case_heads (case_id) {
        case_id -> Text,
        seq -> BigInt,
        leaf -> Binary,
    }
}

diesel::table! {
    witnessed_logs (origin) {
        origin -> Text,
        size -> BigInt,
        root -> Binary,
        checkpoint -> Text,
        updated_at -> Text,
    }
}

diesel::table! {
    peer_alerts (offered_digest) {
        offered_digest -> Binary,
        log -> Text,
        seen -> Text,
        seq -> BigInt,
        at -> Text,
    }
}

diesel::table! {
    cosigned_checkpoints (tree_size) {
        tree_size -> BigInt,
        note -> Text,
        created_at -> Text,
    }
}

diesel::table! {
    outbox (id) {
        id -> BigInt,
        transfer_id -> Text,
        peer -> Text,
        peer_origin -> Text,
        case_id -> Text,
        share_id -> Text,
        as_of_seq -> BigInt,
        manifest -> Text,
        tree_size -> BigInt,
        root -> Text,
        body -> Text,
        queued_at -> Text,
        state -> Text,
        attempts -> BigInt,
        last_error -> Nullable<Text>,
        receipt -> Nullable<Text>,
        sent_seq -> Nullable<BigInt>,
        done_at -> Nullable<Text>,
    }
}

diesel::table! {
    inbox (sender, transfer_id) {
        transfer_id -> Text,
        sender -> Text,
        case_id -> Text,
        seq -> BigInt,
        received_at -> Text,
        refused -> Nullable<Text>,
        reference -> Nullable<Text>,
        owner_agency -> Nullable<Text>,
        owner_state -> Nullable<Text>,
        share_id -> Nullable<Text>,
        recipient_agency -> Nullable<Text>,
        recipient_state -> Nullable<Text>,
        handling -> Nullable<Text>,
        purposes -> Nullable<Text>,
        confidential -> Nullable<Bool>,
        consent_for_court -> Nullable<Bool>,
        expires_at -> Nullable<Text>,
        manifest -> Nullable<Text>,
        tree_size -> Nullable<BigInt>,
        dossier -> Nullable<Text>,
        receipt -> Nullable<Text>,
    }
}

diesel::joinable!(api_tokens -> users (user_id));
diesel::joinable!(users -> agencies (agency_id));
diesel::joinable!(evidence_items -> cases (case_id));
diesel::joinable!(custody_events -> evidence_items (item_id));
diesel::joinable!(custody_states -> evidence_items (item_id));

diesel::joinable!(web_sessions -> users (user_id));
diesel::allow_tables_to_appear_in_same_query!(api_tokens, users, agencies, web_sessions);
diesel::allow_tables_to_appear_in_same_query!(
    evidence_items,
    cases,
    custody_events,
    custody_states
);
diesel::joinable!(case_shares -> cases (case_id));
diesel::joinable!(persons -> cases (case_id));
diesel::allow_tables_to_appear_in_same_query!(vault_sealed, cases);
diesel::allow_tables_to_appear_in_same_query!(case_shares, cases);
diesel::allow_tables_to_appear_in_same_query!(case_shares, users);
diesel::allow_tables_to_appear_in_same_query!(persons, cases);
diesel::allow_tables_to_appear_in_same_query!(access_records, cases);
