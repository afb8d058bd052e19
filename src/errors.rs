//! Every error a person can see, in one place: its stable code, HTTP status, and its French and
//! English messages.
//!
//! Layers keep their own `thiserror` enums (`core::*Error`, `StorageError`, `ServiceError`); the
//! outer layers (HTTP, CLI) turn a `ServiceError` into a [`PublicError`] here and nowhere else.
//! Internal details (SQL text, paths) go to the server log, never to the client.

use serde::Serialize;

use crate::core::custody::CustodyError;
use crate::core::model::FieldError;
use crate::service::ServiceError;

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct PublicError {
    #[serde(skip)]
    pub status: u16,
    pub code: &'static str,
    pub message_fr: String,
    pub message_en: String,
}

impl PublicError {
    pub fn new(
        status: u16,
        code: &'static str,
        fr: impl Into<String>,
        en: impl Into<String>,
    ) -> Self {
        Self {
            status,
            code,
            message_fr: fr.into(),
            message_en: en.into(),
        }
    }
}

fn field_reason_fr(reason: &str) -> String {
    match reason {
        "must not be empty" => "ne doit pas être vide".into(),
        "too long" => "est trop long".into(),
        "must be hexadecimal" => "doit être en hexadécimal".into(),
        "wrong length for this digest" => "n'a pas la longueur de cette empreinte".into(),
        "must not contain control characters" => {
            "ne doit pas contenir de caractères de contrôle".into()
        }
        "only letters, digits and - _ . / : # ° are allowed" => {
            "n'accepte que lettres, chiffres et - _ . / : # °".into()
        }
        "cannot be represented" => "ne peut pas être représenté".into(),
        "is required for this event type" => "est obligatoire pour ce type d'événement".into(),
        "is not allowed for this event type" => "n'est pas permis pour ce type d'événement".into(),
        "is too large" => "est trop grand".into(),
        r if r.starts_with("must be one of:") => {
            format!("doit être l'une des valeurs :{}", &r[15..])
        }
        r if r.starts_with("must be an RFC 3339") => {
            "doit être une date RFC 3339 avec fuseau, p. ex. 2026-03-01T14:05:00+00:00".into()
        }
        r => r.to_owned(),
    }
}

pub fn field_error(e: &FieldError) -> PublicError {
    PublicError::new(
        400,
        "invalid_field",
        format!(
            "Champ « {} » invalide : {}.",
            e.field,
            field_reason_fr(e.reason)
        ),
        format!("Invalid field `{}`: {}.", e.field, e.reason),
    )
}

fn custody_error(e: &CustodyError) -> PublicError {
    let (code, fr, en) = match e {
        CustodyError::NotHolder => (
            "not_holder",
            "Seul le détenteur actuel du scellé peut enregistrer cet événement.",
            "Only the current holder of the item may record this event.",
        ),
        CustodyError::Destroyed => (
            "item_destroyed",
            "Le scellé a été détruit : aucun événement ne peut suivre.",
            "The item was destroyed: no event may follow.",
        ),
        CustodyError::Returned => (
            "item_returned",
            "Le scellé a été restitué et n'est plus sous garde.",
            "The item was returned and is no longer in custody.",
        ),
        CustodyError::InTransit => (
            "item_in_transit",
            "Le scellé est en cours de transfert : le destinataire doit d'abord en accuser réception.",
            "The item is in transit: the recipient must first acknowledge receipt.",
        ),
        CustodyError::NoPendingTransfer => (
            "no_pending_transfer",
            "Aucun transfert en attente ne correspond à cette réception.",
            "There is no pending transfer for this receipt.",
        ),
        CustodyError::NotRecipient => (
            "not_recipient",
            "Seul le destinataire désigné par le transfert peut en accuser réception.",
            "Only the recipient named in the transfer may acknowledge it.",
        ),
        CustodyError::BadRecipient => (
            "bad_recipient",
            "Un transfert exige un destinataire autre que le détenteur.",
            "A transfer needs a recipient other than the holder.",
        ),
    };
    PublicError::new(409, code, fr, en)
}

impl From<&ServiceError> for PublicError {
    fn from(e: &ServiceError) -> Self {
        match e {
            ServiceError::Field(f) => field_error(f),
            ServiceError::Custody(c) => custody_error(c),
            ServiceError::NotFound(what) => PublicError::new(
                404,
                "not_found",
                format!("{} introuvable.", what.fr()),
                format!("{} not found.", what.en()),
            ),
            ServiceError::Conflict(what) => {
                let (code, fr, en) = what.messages();
                PublicError::new(409, code, fr, en)
            }
            ServiceError::Unauthenticated => PublicError::new(
                401,
                "unauthenticated",
                "Authentification requise : jeton absent, invalide, expiré ou révoqué.",
                "Authentication required: the token is missing, invalid, expired or revoked.",
            ),
            ServiceError::Forbidden(why) => PublicError::new(
                403,
                "forbidden",
                format!("Action non autorisée : {}.", why.fr()),
                format!("Action not allowed: {}.", why.en()),
            ),
            ServiceError::BadProofRequest(detail) => PublicError::new(
                400,
                "bad_proof_request",
                format!("Demande de preuve invalide : {detail}."),
                format!("Invalid proof request: {detail}."),
            ),
            ServiceError::Unavailable => PublicError::new(
                503,
                "unavailable",
                "Le registre est momentanément indisponible ; réessayez.",
                "The ledger is temporarily unavailable; try again.",
            ),
            ServiceError::Storage(_) | ServiceError::Internal(_) => PublicError::new(
                500,
                "internal",
                "Erreur interne du serveur ; rien n'a été enregistré. L'incident est journalisé.",
                "Internal server error; nothing was recorded. The incident is logged.",
            ),
        }
    }
}

/// Request-shape errors detected before the service is reached (HTTP layer).
pub fn malformed_body(detail: &str) -> PublicError {
    PublicError::new(
        400,
        "malformed_request",
        format!("Requête mal formée : {detail}"),
        format!("Malformed request: {detail}"),
    )
}

pub fn body_too_large(limit: usize) -> PublicError {
    PublicError::new(
        413,
        "body_too_large",
        format!("Corps de requête trop volumineux (maximum {limit} octets)."),
        format!("Request body too large (limit {limit} bytes)."),
    )
}

pub fn route_not_found() -> PublicError {
    PublicError::new(
        404,
        "no_such_route",
        "Cette adresse n'existe pas.",
        "No such endpoint.",
    )
}
