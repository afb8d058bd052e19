//! Every error a person can see, in one place: its stable code, HTTP status, and its French and
//! English messages.
//!
//! Layers keep their own `thiserror` enums (`core::*Error`, `StorageError`, `ServiceError`); the
//! outer layers (HTTP, CLI) turn a `ServiceError` into a [`PublicError`] here and nowhere else.
//! Internal details (SQL text, paths) go to the server log, never to the client.

use serde::Serialize;

use crate::core::custody::CustodyError;
use crate::core::dossier::Finding;
use crate::core::model::FieldError;
use crate::service::ServiceError;

/// The policy whose denial means "state a purpose" (its own error code, `purpose_required`).
const PURPOSE_POLICY: &str = "personal-data-needs-a-purpose";

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct PublicError {
    #[serde(skip)]
    pub status: u16,
    pub code: &'static str,
    pub message_fr: String,
    pub message_en: String,
    /// Seconds before trying again (429), sent as `Retry-After`.
    #[serde(skip)]
    pub retry_after: Option<u64>,
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
            retry_after: None,
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
            ServiceError::TokenExpired => PublicError::new(
                401,
                "token_expired",
                "Ce jeton a expiré : demandez-en un nouveau à l'administrateur.",
                "This token has expired: ask the administrator for a new one.",
            ),
            ServiceError::TokenRevoked => PublicError::new(
                401,
                "token_revoked",
                "Ce jeton a été révoqué.",
                "This token has been revoked.",
            ),
            ServiceError::Forbidden(why) => PublicError::new(
                403,
                "forbidden",
                format!("Action non autorisée : {}.", why.fr()),
                format!("Action not allowed: {}.", why.en()),
            ),
            ServiceError::PolicyDenied {
                action,
                policies,
                reason,
            } => {
                let code = if policies.iter().any(|p| p == PURPOSE_POLICY) {
                    "purpose_required"
                } else {
                    "forbidden"
                };
                let (fr, en) = match reason {
                    Some((fr, en)) => (
                        format!("Accès refusé ({action}) : {fr}."),
                        format!("Access denied ({action}): {en}."),
                    ),
                    None => (
                        format!(
                            "Accès refusé ({action}) : aucune règle n'accorde cette action à votre rôle sur cette ressource."
                        ),
                        format!(
                            "Access denied ({action}): no policy grants this action to your role on this resource."
                        ),
                    ),
                };
                PublicError::new(403, code, fr, en)
            }
            ServiceError::BadCredentials => PublicError::new(
                401,
                "bad_credentials",
                "Identifiant ou mot de passe incorrect.",
                "Wrong login or password.",
            ),
            ServiceError::TooManyAttempts { retry_after_secs } => PublicError {
                retry_after: Some(*retry_after_secs),
                ..PublicError::new(
                    429,
                    "too_many_attempts",
                    format!(
                        "Trop de tentatives de connexion échouées ; réessayez dans {retry_after_secs} s."
                    ),
                    format!("Too many failed login attempts; try again in {retry_after_secs} s."),
                )
            },
            ServiceError::Policy(e) => PublicError::new(
                500,
                "policy_error",
                format!("Les règles d'accès sont invalides : {e}"),
                format!("The access policies are invalid: {e}"),
            ),
            ServiceError::BadProofRequest(detail) => PublicError::new(
                400,
                "bad_proof_request",
                format!("Demande de preuve invalide : {detail}."),
                format!("Invalid proof request: {detail}."),
            ),
            ServiceError::BadEarlierCheckpoint(detail) => PublicError::new(
                400,
                "bad_earlier_checkpoint",
                format!(
                    "Le point de contrôle antérieur fourni n'est pas valide pour ce journal : {detail}."
                ),
                format!("The earlier checkpoint given is not valid for this log: {detail}."),
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

/// What a dossier verification finding means, in French and in English (for `scelle verify`,
/// its JSON report and the court report).
pub fn finding_text(f: &Finding) -> (String, String) {
    use Finding as F;
    match f {
        F::UnsupportedFormat { format } => (
            format!("Format de dossier non pris en charge : « {format} »."),
            format!("Unsupported dossier format: \"{format}\"."),
        ),
        F::BadVerifierKey { reason } => (
            format!("La clé de vérification du dossier est illisible : {reason}."),
            format!("The dossier's verifier key cannot be read: {reason}."),
        ),
        F::KeyNotTrusted { key } => (
            format!(
                "Le point de contrôle n'est signé par aucune clé de confiance fournie (--trusted-key). Clé du dossier : {key} — comparez-la à la clé publiée par le nœud."
            ),
            format!(
                "The checkpoint is not signed by any trusted key given (--trusted-key). Key in the dossier: {key} — compare it with the key the node published."
            ),
        ),
        F::CheckpointInvalid { reason } => (
            format!("Point de contrôle invalide : {reason}."),
            format!("Invalid checkpoint: {reason}."),
        ),
        F::ManifestInvalid { reason } => (
            format!("Le manifeste signé du dossier est invalide : {reason}."),
            format!("The dossier's signed manifest is invalid: {reason}."),
        ),
        F::ManifestMismatch { what } => (
            format!(
                "Le dossier ne correspond pas à son manifeste signé ({what}) : des entrées ont été retirées, ajoutées ou modifiées."
            ),
            format!(
                "The dossier does not match its signed manifest ({what}): entries were removed, added or changed."
            ),
        ),
        F::EntriesOutOfOrder { seq } => (
            format!("Entrée {seq} : les entrées ne sont pas dans l'ordre du journal."),
            format!("Entry {seq}: the entries are not in log order."),
        ),
        F::EntryUndecodable { seq } => (
            format!("Entrée {seq} : les octets ne sont pas du base64 valide."),
            format!("Entry {seq}: the bytes are not valid base64."),
        ),
        F::LeafHashMismatch { seq } => (
            format!("Entrée {seq} : l'empreinte de feuille ne correspond pas aux octets."),
            format!("Entry {seq}: the leaf hash does not match the bytes."),
        ),
        F::InclusionProofFails { seq } => (
            format!(
                "Entrée {seq} : la preuve d'inclusion ne mène pas au point de contrôle signé (entrée ou preuve modifiée)."
            ),
            format!(
                "Entry {seq}: the inclusion proof does not lead to the signed checkpoint (entry or proof changed)."
            ),
        ),
        F::EntryMalformed { seq, reason } => (
            format!("Entrée {seq} : mal formée ({reason})."),
            format!("Entry {seq}: malformed ({reason})."),
        ),
        F::EntryOtherLog { seq } => (
            format!("Entrée {seq} : elle appartient à un autre journal."),
            format!("Entry {seq}: it belongs to another log."),
        ),
        F::PrevLinkBroken { seq } => (
            format!("Entrée {seq} : le chaînage `prev` avec l'entrée précédente est rompu."),
            format!("Entry {seq}: the `prev` link to the previous entry is broken."),
        ),
        F::CaseMissing => (
            "L'ouverture de l'affaire ne figure pas dans le dossier.".into(),
            "The case's opening entry is not in the dossier.".into(),
        ),
        F::ForeignEntry { seq } => (
            format!("Entrée {seq} : elle ne concerne pas cette affaire."),
            format!("Entry {seq}: it does not belong to this case."),
        ),
        F::UnknownItem { seq, item } => (
            format!("Entrée {seq} : le scellé {item} n'a pas été enregistré avant."),
            format!("Entry {seq}: item {item} was not registered before."),
        ),
        F::CustodyViolation { seq, item, rule } => {
            let (fr, en) = match rule.as_str() {
                "not_holder" => (
                    "par quelqu'un qui ne le détenait pas",
                    "by someone who did not hold it",
                ),
                "after_destruction" => ("après sa destruction", "after its destruction"),
                "after_return" => ("après sa restitution", "after its return"),
                "in_transit" => (
                    "pendant un transfert non réceptionné",
                    "while a transfer was not yet received",
                ),
                "no_pending_transfer" => (
                    "réception sans transfert en attente",
                    "receipt with no pending transfer",
                ),
                "not_recipient" => (
                    "réception par un autre que le destinataire",
                    "receipt by someone other than the recipient",
                ),
                _ => (
                    "transfert sans destinataire valable",
                    "transfer without a valid recipient",
                ),
            };
            (
                format!(
                    "Entrée {seq} : chaîne de possession rompue pour le scellé {item} — événement {fr}."
                ),
                format!("Entry {seq}: chain of custody broken for item {item} — event {en}."),
            )
        }
        F::AmendsUnknownEvent { seq, event } => (
            format!(
                "Entrée {seq} : corrige l'événement {event}, absent du dossier pour ce scellé."
            ),
            format!(
                "Entry {seq}: amends event {event}, which the dossier does not hold for this item."
            ),
        ),
        F::OpeningFails { record } => (
            format!(
                "La donnée ouverte {record} ne correspond pas à son engagement dans le journal."
            ),
            format!("Opened value {record} does not match its commitment in the log."),
        ),
        F::OpeningUnknown { record } => (
            format!("La donnée ouverte {record} ne correspond à aucun engagement du dossier."),
            format!("Opened value {record} matches no commitment in the dossier."),
        ),
        F::ConsistencyFails { reason } => (
            format!(
                "Le journal n'est pas une extension du point de contrôle antérieur fourni : {reason}."
            ),
            format!("The log does not extend the earlier checkpoint given: {reason}."),
        ),
        F::FileNotRegistered { file, sha256 } => (
            format!(
                "Le fichier {file} (SHA-256 {sha256}) ne correspond à aucun scellé enregistré."
            ),
            format!("File {file} (SHA-256 {sha256}) matches no registered item."),
        ),
    }
}
