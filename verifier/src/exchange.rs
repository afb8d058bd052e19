//! A dossier sent from one node to a peer (DESIGN §5, "Dossier exchange"): the transfer as it
//! travels, and what the receiver checks beyond the dossier itself — that the case was shared
//! with it, by an entry of the sender's own log proved to the same cosigned checkpoint, under
//! conditions that still hold. Pure: the node gives the peers' policy, who it is and the time;
//! this answers what to import, or why not in words a person reads.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::dossier::{self, Dossier, DossierEntry, Finding, Report};
use crate::entry::{DisclosureRecord, Entry, Event, ExchangeRecord};
use crate::i18n::Message;
use crate::merkle::{self, Hash};
use crate::model::Jurisdiction;
use crate::policy::Policy;
use crate::t;

/// The `format` of the transfers this version sends and accepts.
pub const TRANSFER_FORMAT: &str = "scelle-transfer/1";

/// The largest transfer a node sends or accepts: a dossier of some 100,000 events.
pub const MAX_TRANSFER_BYTES: usize = 256 << 20;

/// A dossier on its way to a peer, with the share that lets it go there.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Transfer {
    /// `scelle-transfer/1`.
    pub format: String,
    /// The transfer's id, chosen by the sender (a UUID): a transfer sent twice is received once.
    pub id: String,
    /// The receiver's log origin.
    pub to: String,
    /// The sender's `case.shared` entry the case goes under, with its inclusion proof to the
    /// dossier's checkpoint.
    pub share: DossierEntry,
    /// The case's dossier, proved to a checkpoint the sender's witnesses cosigned.
    pub dossier: Dossier,
}

/// The node receiving a transfer, as the share must name it.
#[derive(Debug, Clone, Copy)]
pub struct Receiver<'a> {
    /// Its log origin.
    pub origin: &'a str,
    /// Its state.
    pub state: Jurisdiction,
    /// The agencies it holds (a share may name one of them rather than the whole state).
    pub agencies: &'a [String],
}

/// A transfer that passed every check: what the receiver imports and records.
#[derive(Debug, Clone)]
pub struct Accepted {
    /// The dossier's verification, with no finding.
    pub report: Report,
    /// The conditions the sender attached, which the receiver's policies then enforce.
    pub share: DisclosureRecord,
    /// The receiver's `dossier.received` record.
    pub record: ExchangeRecord,
}

/// Why a receiver refuses a transfer; nothing of it is imported.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransferRefusal {
    /// `format` is not `scelle-transfer/1`.
    #[error("unsupported transfer format")]
    UnsupportedFormat,
    /// The id is not a lowercase UUID.
    #[error("malformed transfer id")]
    BadId,
    /// Addressed to another log.
    #[error("addressed to another node")]
    NotAddressedHere,
    /// The dossier's log is not the peer that sent it.
    #[error("the dossier is not of the sender's log")]
    NotTheSendersLog,
    /// The dossier does not verify under the receiver's policy; the first finding.
    #[error("the dossier does not verify")]
    DossierFails(Finding),
    /// The share's entry is not a `case.shared` entry of the sender's log proved to the dossier's
    /// checkpoint.
    #[error("the share is not proved")]
    ShareUnproven,
    /// The share is of another case.
    #[error("the share is of another case")]
    ShareOfAnotherCase,
    /// The share names neither this node's state nor one of its agencies.
    #[error("the share is not for this node")]
    NotSharedWithUs,
    /// The share has lapsed.
    #[error("the share has expired")]
    ShareExpired,
    /// A share across a border states no legal basis.
    #[error("no legal basis for a transfer across a border")]
    NoLegalBasis,
    /// An H3 share: its conditions are sealed in the sender's vault and do not travel yet, so
    /// the receiver could not follow them.
    #[error("H3 conditions do not travel")]
    ConditionsDoNotTravel,
}

impl TransferRefusal {
    /// The refusal's code: its key in the message catalogue, and what `dossier.refused` records.
    pub fn code(&self) -> &'static str {
        match self {
            TransferRefusal::UnsupportedFormat => "transfer-unsupported-format",
            TransferRefusal::BadId => "transfer-bad-id",
            TransferRefusal::NotAddressedHere => "transfer-not-addressed-here",
            TransferRefusal::NotTheSendersLog => "transfer-not-the-senders-log",
            TransferRefusal::DossierFails(_) => "transfer-dossier-fails",
            TransferRefusal::ShareUnproven => "transfer-share-unproven",
            TransferRefusal::ShareOfAnotherCase => "transfer-share-of-another-case",
            TransferRefusal::NotSharedWithUs => "transfer-not-shared-with-us",
            TransferRefusal::ShareExpired => "transfer-share-expired",
            TransferRefusal::NoLegalBasis => "transfer-no-legal-basis",
            TransferRefusal::ConditionsDoNotTravel => "transfer-conditions-do-not-travel",
        }
    }

    /// Whether the dossier verified before the refusal (from the sender's log, under the
    /// receiver's policy): only such a refusal says something of the sender worth recording.
    pub fn after_verification(&self) -> bool {
        matches!(
            self,
            TransferRefusal::ShareUnproven
                | TransferRefusal::ShareOfAnotherCase
                | TransferRefusal::NotSharedWithUs
                | TransferRefusal::ShareExpired
                | TransferRefusal::NoLegalBasis
                | TransferRefusal::ConditionsDoNotTravel
        )
    }

    /// The refusal in words, from the catalogue.
    pub fn message(&self) -> Message {
        match self {
            TransferRefusal::UnsupportedFormat => t!("transfer-unsupported-format"),
            TransferRefusal::BadId => t!("transfer-bad-id"),
            TransferRefusal::NotAddressedHere => t!("transfer-not-addressed-here"),
            TransferRefusal::NotTheSendersLog => t!("transfer-not-the-senders-log"),
            TransferRefusal::DossierFails(finding) => {
                t!("transfer-dossier-fails").nested("reason", finding.message())
            }
            TransferRefusal::ShareUnproven => t!("transfer-share-unproven"),
            TransferRefusal::ShareOfAnotherCase => t!("transfer-share-of-another-case"),
            TransferRefusal::NotSharedWithUs => t!("transfer-not-shared-with-us"),
            TransferRefusal::ShareExpired => t!("transfer-share-expired"),
            TransferRefusal::NoLegalBasis => t!("transfer-no-legal-basis"),
            TransferRefusal::ConditionsDoNotTravel => t!("transfer-conditions-do-not-travel"),
        }
    }
}

/// SHA-256 of a dossier's signed manifest note, lowercase hex: how both logs name the dossier.
pub fn manifest_digest(dossier: &Dossier) -> String {
    hex::encode(Sha256::digest(dossier.manifest.as_bytes()))
}

/// Checks a transfer that the peer whose log is `sender_origin` sent to `receiver` at `now`
/// (Unix seconds): the dossier verifies under `policy` (the receiver's peers and quorum), and
/// the sender's own log proves that it shared the case with the receiver, under conditions that
/// have not lapsed and, across a border, with a legal basis.
pub fn check(
    transfer: &Transfer,
    sender_origin: &str,
    policy: &Policy,
    receiver: &Receiver<'_>,
    now: i64,
) -> Result<Accepted, TransferRefusal> {
    if transfer.format != TRANSFER_FORMAT {
        return Err(TransferRefusal::UnsupportedFormat);
    }
    if !is_lowercase_uuid(&transfer.id) {
        return Err(TransferRefusal::BadId);
    }
    if transfer.to != receiver.origin {
        return Err(TransferRefusal::NotAddressedHere);
    }
    let dossier = &transfer.dossier;
    if dossier.origin != sender_origin {
        return Err(TransferRefusal::NotTheSendersLog);
    }
    let report = dossier::verify_with_policy(dossier, &[], &[], None, Some(policy));
    if let Some(first) = report.findings.first() {
        return Err(TransferRefusal::DossierFails(first.clone()));
    }
    let root: Hash = B64
        .decode(&report.root)
        .ok()
        .and_then(|r| r.try_into().ok())
        .ok_or(TransferRefusal::ShareUnproven)?;
    let share = proved_share(&transfer.share, sender_origin, report.tree_size, &root)?;
    if share.case != dossier.case.id {
        return Err(TransferRefusal::ShareOfAnotherCase);
    }
    let for_us = match (&share.agency, share.state) {
        (Some(agency), None) => receiver.agencies.contains(agency),
        (None, Some(state)) => state == receiver.state,
        _ => false,
    };
    if !for_us {
        return Err(TransferRefusal::NotSharedWithUs);
    }
    let expires = time::OffsetDateTime::parse(
        &share.expires,
        &time::format_description::well_known::Rfc3339,
    )
    .map(|t| t.unix_timestamp())
    .map_err(|_| TransferRefusal::ShareUnproven)?;
    if expires <= now {
        return Err(TransferRefusal::ShareExpired);
    }
    if share.handling.contains(&crate::model::HandlingCode::H3) {
        return Err(TransferRefusal::ConditionsDoNotTravel);
    }
    let sender_state = report
        .case
        .as_ref()
        .and_then(|c| Jurisdiction::parse(&c.jurisdiction).ok());
    if sender_state != Some(receiver.state) && share.legal_basis.is_none() {
        return Err(TransferRefusal::NoLegalBasis);
    }
    let record = ExchangeRecord {
        transfer: transfer.id.clone(),
        peer: sender_origin.to_owned(),
        case: dossier.case.id.clone(),
        share: share.id.clone(),
        manifest: manifest_digest(dossier),
        tree_size: report.tree_size,
        root: hex::encode(root),
        receipt: None,
        refused: None,
    };
    Ok(Accepted {
        report,
        share,
        record,
    })
}

/// Whether `id` is a UUID as the nodes write them: 36 characters, lowercase hex in groups of 8,
/// 4, 4, 4 and 12. Nothing else names a transfer (an id enters the receiver's log).
pub fn is_lowercase_uuid(id: &str) -> bool {
    id.len() == 36
        && id.bytes().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_digit() || (b'a'..=b'f').contains(&b),
        })
}

/// An entry's bytes and leaf hash, if its inclusion proof leads to the checkpoint of `size` and
/// `root`.
fn included(e: &DossierEntry, size: u64, root: &Hash) -> Option<(Vec<u8>, Hash)> {
    let bytes = B64.decode(&e.entry).ok()?;
    let leaf = merkle::leaf_hash(&bytes);
    let proof: Vec<Hash> = e
        .inclusion_proof
        .iter()
        .map(|h| B64.decode(h).ok().and_then(|h| h.try_into().ok()))
        .collect::<Option<_>>()?;
    merkle::verify_inclusion(e.seq, size, &leaf, &proof, root).ok()?;
    Some((bytes, leaf))
}

/// The share record of a `case.shared` entry of the log `origin`, if its inclusion proof leads
/// to the checkpoint of `size` and `root`.
fn proved_share(
    e: &DossierEntry,
    origin: &str,
    size: u64,
    root: &Hash,
) -> Result<DisclosureRecord, TransferRefusal> {
    let (bytes, _) = included(e, size, root).ok_or(TransferRefusal::ShareUnproven)?;
    let entry = Entry::parse(&bytes).map_err(|_| TransferRefusal::ShareUnproven)?;
    match entry.event {
        Event::CaseShared(share) if entry.origin == origin && entry.seq == e.seq => Ok(share),
        _ => Err(TransferRefusal::ShareUnproven),
    }
}

/// What a receiver answers a transfer it imported: its `dossier.received` entry, with the
/// entry's inclusion proof to a checkpoint it signed. The sender checks it under the receiver's
/// key (from its own policy) before it records the delivery.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransferReceipt {
    /// The transfer's id.
    pub transfer: String,
    /// The receiver's `dossier.received` entry, with its inclusion proof to `checkpoint`.
    pub entry: DossierEntry,
    /// A checkpoint of the receiver's log covering the entry (signed note).
    pub checkpoint: String,
}

/// Why a sender does not take a receipt as proof of delivery.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReceiptError {
    /// The checkpoint is not signed by a key the sender's policy gives the receiver's log.
    #[error("the receipt's checkpoint is not signed by the receiver's log: {0}")]
    Checkpoint(String),
    /// The entry is not included in that checkpoint.
    #[error("the receipt's entry is not in the receiver's checkpoint")]
    NotIncluded,
    /// The entry is not the receiver's `dossier.received` for this transfer and dossier.
    #[error("the receipt's entry does not record this transfer: {0}")]
    WrongEntry(&'static str),
}

/// What a sender knows of a transfer it sent, and its receipt must name.
#[derive(Debug, Clone, Copy)]
pub struct Sent<'a> {
    /// The transfer's id.
    pub id: &'a str,
    /// The receiver's log origin.
    pub to: &'a str,
    /// The sender's log origin.
    pub from: &'a str,
    /// The sender's case id.
    pub case: &'a str,
    /// The share's id.
    pub share: &'a str,
    /// [`manifest_digest`] of the dossier.
    pub manifest: &'a str,
}

/// Checks `receipt` for the transfer `sent` under `policy` (the sender's peers): the
/// receiver's log signed a checkpoint that includes a `dossier.received` entry naming this
/// transfer, the sender's log, case, share and dossier. Answers the link to that entry, which
/// `dossier.sent` records.
pub fn check_receipt(
    receipt: &TransferReceipt,
    sent: &Sent<'_>,
    policy: &Policy,
) -> Result<crate::entry::CaseLink, ReceiptError> {
    let origin = sent.to;
    let mut checkpoint = None;
    let mut why = format!("no key for the log {origin:?} in the policy");
    for log in policy.logs_of(origin) {
        match crate::note::Checkpoint::open(&receipt.checkpoint, &log.key, origin) {
            Ok(opened) => {
                checkpoint = Some(opened);
                break;
            }
            Err(e) => why = e.to_string(),
        }
    }
    let checkpoint = checkpoint.ok_or(ReceiptError::Checkpoint(why))?;
    let e = &receipt.entry;
    let (bytes, leaf) =
        included(e, checkpoint.size, &checkpoint.root).ok_or(ReceiptError::NotIncluded)?;
    let entry = Entry::parse(&bytes).map_err(|_| ReceiptError::WrongEntry("not an entry"))?;
    if entry.origin != origin || entry.seq != e.seq {
        return Err(ReceiptError::WrongEntry("of another log or position"));
    }
    let Event::DossierReceived(record) = entry.event else {
        return Err(ReceiptError::WrongEntry("not a dossier.received entry"));
    };
    if receipt.transfer != sent.id
        || record.transfer != sent.id
        || record.peer != sent.from
        || record.case != sent.case
        || record.share != sent.share
        || record.manifest != sent.manifest
    {
        return Err(ReceiptError::WrongEntry(
            "it names another transfer or dossier",
        ));
    }
    Ok(crate::entry::CaseLink { seq: e.seq, leaf })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_lowercase_uuids_name_a_transfer() {
        assert!(is_lowercase_uuid("0194f5c2-0000-7000-8000-00000000a001"));
        for bad in [
            "0194F5C2-0000-7000-8000-00000000A001",
            "0194f5c2-0000-7000-8000-00000000a00",
            "0194f5c2-0000-7000-8000-00000000a0011",
            "0194f5c200000-7000-8000-00000000a001",
            "Kofi.Mensah.ne.1987-05-12-aaaaaaaaaa",
            "0194f5c2-0000-7000-8000-00000000a0é",
            "",
        ] {
            assert!(!is_lowercase_uuid(bad), "{bad}");
        }
    }

    #[test]
    fn every_refusal_has_a_code_and_words_in_both_languages() {
        let all = [
            TransferRefusal::UnsupportedFormat,
            TransferRefusal::BadId,
            TransferRefusal::NotAddressedHere,
            TransferRefusal::NotTheSendersLog,
            TransferRefusal::DossierFails(Finding::CaseMissing),
            TransferRefusal::ShareUnproven,
            TransferRefusal::ShareOfAnotherCase,
            TransferRefusal::NotSharedWithUs,
            TransferRefusal::ShareExpired,
            TransferRefusal::NoLegalBasis,
            TransferRefusal::ConditionsDoNotTravel,
        ];
        let mut codes = std::collections::BTreeSet::new();
        for refusal in &all {
            assert!(codes.insert(refusal.code()), "{refusal:?}");
            assert_eq!(refusal.message().key(), refusal.code());
            let (fr, en) = (refusal.message().fr(), refusal.message().en());
            assert!(!fr.is_empty() && !en.is_empty() && fr != en, "{refusal:?}");
        }
    }
}
