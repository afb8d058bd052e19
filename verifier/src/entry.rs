//! The log entry format (DESIGN §2): common envelope plus one event, in canonical JSON.
//!
//! `kind` names the event (`case.opened`, `custody.transferred`, …) and one object field carries
//! its data. The same types parse entries back, which is how `scelle rebuild` replays the log.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::borrow::Cow;

use crate::commitment::Commitment;
use crate::jcs::{self, JcsError};
use crate::merkle::{Hash, leaf_hash};
use crate::model::{
    CustodyEventType, EvidenceKind, HandlingCode, IntegrityResult, Jurisdiction, Purpose, Role,
};

/// The entry format version every new entry is written in: its `v`. Format 2 added the link of
/// each entry of a case's custody record to the case's previous one (`case_prev`, DESIGN §8) and
/// `dossier.issued`.
pub const FORMAT_VERSION: u64 = 2;

/// The format of the entries written before the per-case chain; they still verify.
pub const FIRST_FORMAT_VERSION: u64 = 1;

/// A link to the previous entry of a case's custody record (DESIGN §8): its `seq` and leaf hash.
/// Written `{"leaf": lowercase hex, "seq": n}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CaseLink {
    /// The previous entry's position in the log.
    pub seq: u64,
    /// Its RFC 9162 leaf hash.
    pub leaf: Hash,
}

/// [`CaseLink`] as written.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct CaseLinkWire {
    leaf: String,
    seq: u64,
}

impl Serialize for CaseLink {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        CaseLinkWire {
            leaf: hex::encode(self.leaf),
            seq: self.seq,
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for CaseLink {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let wire = CaseLinkWire::deserialize(deserializer)?;
        let leaf = lowercase_hash(&wire.leaf)
            .ok_or_else(|| serde::de::Error::custom("`leaf` must be 64 lowercase hex digits"))?;
        Ok(CaseLink {
            seq: wire.seq,
            leaf,
        })
    }
}

/// Bytes written as lowercase hex (the format's only hex); `None` for anything else.
pub fn lowercase_hex(text: &str) -> Option<Vec<u8>> {
    if text
        .bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        hex::decode(text).ok()
    } else {
        None
    }
}

/// A hash written as 64 lowercase hex digits.
pub fn lowercase_hash(text: &str) -> Option<Hash> {
    if text.len() != 64 || text.bytes().any(|b| b.is_ascii_uppercase()) {
        return None;
    }
    hex::decode(text).ok()?.try_into().ok()
}

/// Who made an entry: the user, their agency and their role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Actor {
    /// The user's id (`system` when the node acts on its own).
    pub user: String,
    /// The id of the user's agency.
    pub agency: String,
    /// The user's role.
    pub role: Role,
}

/// An agency registered on the node (`agency.registered`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgencyRecord {
    /// The agency id (`tg.police.dcpj`); its prefix names the state.
    pub id: String,
    /// The member state the agency belongs to.
    pub state: Jurisdiction,
    /// The agency's name.
    pub name: String,
    /// A forensic lab rather than a police service.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub lab: bool,
}

/// A user as the log knows them: no name (personal data stays out of the log).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserRecord {
    /// The user's id.
    pub id: String,
    /// The user's role.
    pub role: Role,
    /// The id of the user's agency.
    pub agency: String,
}

/// A case opened (`case.opened`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseRecord {
    /// The case's id.
    pub id: String,
    /// The case reference, unique on the node.
    pub reference: String,
    /// The state whose law applies.
    pub jurisdiction: Jurisdiction,
    /// The offence (Budapest Convention article or national category).
    pub offence: String,
    /// The requisition or warrant the case rests on.
    pub legal_basis: String,
    /// The id of the agency that opened it.
    pub agency: String,
    /// The id of the user who opened it.
    pub officer: String,
    /// The commitment to the case's title, if it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<Commitment>,
    /// The commitment to the legal basis on which the case is under another state's law than
    /// its agency's (a transfer of proceedings, a joint investigation team...), if it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jurisdiction_basis: Option<Commitment>,
}

/// An item's digests, lowercase hex: SHA-256 always, the others when given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Hashes {
    /// SHA-256, lowercase hex.
    pub sha256: String,
    /// SHA-512, lowercase hex.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha512: Option<String>,
    /// SHA-1, lowercase hex.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha1: Option<String>,
    /// MD5, lowercase hex.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub md5: Option<String>,
}

/// How an item was acquired: the tool, its version and its settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Acquisition {
    /// The tool's name.
    pub tool: String,
    /// The tool's version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The settings it ran with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settings: Option<String>,
}

/// An evidence item registered in a case (`evidence.registered`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvidenceRecord {
    /// The item's id.
    pub id: String,
    /// The case's id.
    pub case: String,
    /// The exhibit number, unique in the case.
    pub exhibit_number: String,
    /// The number of the seal on the item, unique in the case.
    pub seal_number: String,
    /// What the item is.
    pub kind: EvidenceKind,
    /// Its digests.
    pub hashes: Hashes,
    /// Size in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size_bytes: Option<u64>,
    /// When it was collected, RFC 3339 with the zone where it happened.
    pub collected_at: String,
    /// The id of the user who collected it: its first holder.
    pub collector: String,
    /// The commitment to its description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<Commitment>,
    /// The commitment to where it was collected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<Commitment>,
    /// How it was acquired, when a tool made it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acquisition: Option<Acquisition>,
    /// The id of the item this one was copied or imaged from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
}

/// A custody event on an item (`custody.<type>`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustodyRecord {
    /// The event's id.
    pub id: String,
    /// The item's id.
    pub item: String,
    /// The id of the item's case.
    pub case: String,
    /// The custody event type.
    #[serde(rename = "type")]
    pub event_type: CustodyEventType,
    /// When it happened, with the zone where it happened.
    pub at: String,
    /// The commitment to where it happened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub place: Option<Commitment>,
    /// The commitment to why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<Commitment>,
    /// The tool used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool: Option<String>,
    /// The order or warrant that authorized it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization: Option<String>,
    /// The receiving user's id (`transferred`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_user: Option<String>,
    /// Whether the seal arrived intact (`received`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seal_intact: Option<bool>,
    /// The SHA-256 found (`integrity_checked`), lowercase hex.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// Whether it matches the item's registered SHA-256 (`integrity_checked`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<IntegrityResult>,
    /// The id of the earlier event of the same item it corrects (`corrected`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amends: Option<String>,
    /// The id of an item this event made (a copy or an image).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub derived_item: Option<String>,
}

impl CustodyRecord {
    /// What the registry reads of it, borrowed.
    pub fn facts(&self) -> CustodyFacts<'_> {
        CustodyFacts {
            id: &self.id,
            item: &self.item,
            case: &self.case,
            event_type: self.event_type,
            at: &self.at,
            to_user: self.to_user.as_deref(),
            sha256: self.sha256.as_deref(),
            result: self.result,
            amends: self.amends.as_deref(),
            derived_item: self.derived_item.as_deref(),
        }
    }
}

/// What the registry reads of a custody event, borrowed: from a [`CustodyRecord`] on the append
/// path ([`CustodyRecord::facts`]), straight from an entry's bytes on the audit's
/// ([`EntryView`]). The commitments, tool and authorization are the entry's alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CustodyFacts<'a> {
    /// The event's id.
    pub id: &'a str,
    /// The item's id.
    pub item: &'a str,
    /// The id of the item's case.
    pub case: &'a str,
    /// The custody event type.
    pub event_type: CustodyEventType,
    /// When it happened, with the zone where it happened.
    pub at: &'a str,
    /// The receiving user's id (`transferred`).
    pub to_user: Option<&'a str>,
    /// The SHA-256 found (`integrity_checked`).
    pub sha256: Option<&'a str>,
    /// Whether the hash found matches (`integrity_checked`).
    pub result: Option<IntegrityResult>,
    /// The id of the earlier event it corrects.
    pub amends: Option<&'a str>,
    /// The id of an item this event made.
    pub derived_item: Option<&'a str>,
}

/// An entry as the audit's registry replay reads it: its place, time, actor and, for a custody
/// event, what the registry reads of it, borrowed from the bytes wherever no escape needs
/// undoing. Other members are skipped unread: the audit holds the bytes to their hash, and
/// parses the other kinds whole ([`Entry::parse_content`]).
#[derive(Debug, Deserialize)]
pub struct EntryView<'a> {
    /// Its format.
    pub v: u64,
    /// 0-based position in the log.
    pub seq: u64,
    /// The case's previous entry, for an entry of a case's custody record (format 2 on).
    #[serde(default)]
    pub case_prev: Option<CaseLink>,
    /// When the node recorded it.
    #[serde(borrow)]
    pub time: Cow<'a, str>,
    /// The entry's kind.
    #[serde(borrow)]
    pub kind: Cow<'a, str>,
    /// Who made it.
    #[serde(borrow)]
    pub actor: ActorView<'a>,
    /// The custody event, for a custody entry.
    #[serde(borrow, default)]
    pub custody: Option<CustodyView<'a>>,
}

impl EntryView<'_> {
    /// The view of `bytes`.
    pub fn parse(bytes: &[u8]) -> Result<EntryView<'_>, EntryError> {
        serde_json::from_slice(bytes).map_err(|e| EntryError::Malformed(e.to_string()))
    }

    /// The custody event's facts, when the entry is one whose kind says so.
    pub fn custody_facts(&self) -> Option<CustodyFacts<'_>> {
        let custody = self.custody.as_ref()?;
        if self.kind.strip_prefix("custody.") != Some(custody.event_type.as_str()) {
            return None;
        }
        Some(CustodyFacts {
            id: &custody.id,
            item: &custody.item,
            case: &custody.case,
            event_type: custody.event_type,
            at: &custody.at,
            to_user: custody.to_user.as_deref(),
            sha256: custody.sha256.as_deref(),
            result: custody.result,
            amends: custody.amends.as_deref(),
            derived_item: custody.derived_item.as_deref(),
        })
    }
}

/// The actor of an [`EntryView`].
#[derive(Debug, Deserialize)]
pub struct ActorView<'a> {
    /// The user's id.
    #[serde(borrow)]
    pub user: Cow<'a, str>,
}

/// The custody member of an [`EntryView`].
#[derive(Debug, Deserialize)]
pub struct CustodyView<'a> {
    /// The event's id.
    #[serde(borrow)]
    pub id: Cow<'a, str>,
    /// The item's id.
    #[serde(borrow)]
    pub item: Cow<'a, str>,
    /// The id of the item's case.
    #[serde(borrow)]
    pub case: Cow<'a, str>,
    /// The custody event type.
    #[serde(rename = "type")]
    pub event_type: CustodyEventType,
    /// When it happened.
    #[serde(borrow)]
    pub at: Cow<'a, str>,
    /// The receiving user's id.
    #[serde(borrow, default)]
    pub to_user: Option<Cow<'a, str>>,
    /// The SHA-256 found.
    #[serde(borrow, default)]
    pub sha256: Option<Cow<'a, str>>,
    /// Whether the hash found matches.
    #[serde(default)]
    pub result: Option<IntegrityResult>,
    /// The id of the earlier event it corrects.
    #[serde(borrow, default)]
    pub amends: Option<Cow<'a, str>>,
    /// The id of an item this event made.
    #[serde(borrow, default)]
    pub derived_item: Option<Cow<'a, str>>,
}

/// A dossier of a case issued (`dossier.issued`, DESIGN §8): the case's custody record up to and
/// including this entry went out, for `purpose`. The export is itself an entry so that what the
/// node said was the whole record can be checked against the log later, by its audit and by peers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DossierRecord {
    /// The case's id.
    pub case: String,
    /// What the dossier is for, as the person who asked for it stated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purpose: Option<Purpose>,
    /// Whether the dossier carries openings of personal data.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub personal_data: bool,
    /// The peer's log origin, when the dossier is issued to go to a peer (DESIGN §5): the log
    /// says where it goes before it leaves.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
}

/// A dossier that went from one node to a peer (DESIGN §5): the sender's `dossier.sent`, the
/// receiver's `dossier.received` or `dossier.refused`. Each log names the other's record, so
/// each anchors the other.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExchangeRecord {
    /// The transfer's id, chosen by the sender: the same in both logs.
    pub transfer: String,
    /// The other node's log origin: the receiver's on `dossier.sent`, the sender's otherwise.
    pub peer: String,
    /// The sender's case id.
    pub case: String,
    /// The share the dossier went under: the id of its `case.shared` record in the sender's log.
    pub share: String,
    /// SHA-256 of the dossier's signed manifest note, lowercase hex.
    pub manifest: String,
    /// The size of the sender's (cosigned) checkpoint the dossier is proved to.
    pub tree_size: u64,
    /// That checkpoint's root hash, lowercase hex.
    pub root: String,
    /// On `dossier.sent`: the receiver's `dossier.received` entry, verified under its key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receipt: Option<CaseLink>,
    /// On `dossier.refused`: why, as a code (`transfer-…` in the message catalogue).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refused: Option<String>,
}

/// A vault record erased (DESIGN §4): its value, salt and key are gone; the commitment stays.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ErasureRecord {
    /// The id of the vault record erased.
    pub record: String,
    /// The legal reason for the erasure: committed when a person stated it, in clear when a
    /// retention run wrote it from its rule (and in entries written before 2026-12-07).
    pub legal_reason: Reason,
}

/// A reason an entry gives: the commitment to a text a person wrote (sealed in the vault like
/// every free text), or a text in clear — one the node wrote from its own rules, or any reason
/// in entries written before free text left the log (they still verify).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Reason {
    /// The commitment to the text; the text is in the vault.
    Committed(Commitment),
    /// The text itself.
    Clear(String),
}

/// A case shared with another agency or a whole state, with the conditions that travel with it.
/// Exactly one of `agency` and `state` names the recipient.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DisclosureRecord {
    /// The share's id.
    pub id: String,
    /// The shared case's id.
    pub case: String,
    /// The receiving agency's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agency: Option<String>,
    /// The receiving state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<Jurisdiction>,
    /// The handling codes the recipient must follow.
    pub handling: Vec<HandlingCode>,
    /// What the recipient may use the case for.
    pub purposes: Vec<Purpose>,
    /// Budapest Convention Art. 28(2)(a): kept confidential by the receiver.
    pub confidential: bool,
    /// For H1: the sending state consents to use in court.
    pub consent_for_court: bool,
    /// When the share lapses (RFC 3339).
    pub expires: String,
    /// The legal basis the sender states (required by the policies across a border).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legal_basis: Option<String>,
    /// H3 conditions in free text (may name persons, so committed and sealed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conditions: Option<Commitment>,
}

/// A share withdrawn by its sender: from this entry on it reaches no one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RevocationRecord {
    /// The share's id (the `id` of its `case.shared` record).
    pub share: String,
    /// The shared case's id.
    pub case: String,
    /// Why the sender withdrew it: committed (in clear in entries written before 2026-12-07).
    pub reason: Reason,
}

/// What a witness saw a peer's log do that no honest log does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Misbehavior {
    /// Another tree of a size this node had cosigned: two histories (a fork, a split view),
    /// both under the log's own signature.
    SplitView,
}

/// A peer's log caught contradicting itself (DESIGN §5): the evidence, both signed checkpoints
/// (public: an origin, a size and a root under the peer's own signature), kept in this node's
/// log so it cannot be quietly forgotten.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeerMisbehaviorRecord {
    /// The peer log's origin.
    pub log: String,
    /// What it did.
    pub seen: Misbehavior,
    /// The checkpoint this node had cosigned, as the log submitted it (signed note).
    pub cosigned: String,
    /// The checkpoint that contradicts it, signed by the same log (signed note).
    pub offered: String,
    /// The consistency proof offered with it (base64 hashes), if any.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub proof: Vec<String>,
}

/// A person linked to a case: role, name, birth date and identifiers are sealed in the vault;
/// the log holds only their commitment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PersonRecord {
    /// The person's id.
    pub id: String,
    /// The case's id.
    pub case: String,
    /// The commitment to the person's data (a JCS object: role, name, …).
    pub data: Commitment,
}

/// What the policies answered to an access request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AccessDecision {
    /// The request was allowed.
    Allowed,
    /// The request was denied.
    Denied,
}

/// Who asked to see what, why, and what the policies answered (DESIGN §4: every read of
/// personal data is recorded, and so is every denied request).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccessRecord {
    /// The policy action asked for (`person.read`).
    pub action: String,
    /// What it was asked on (`case:<id>`, `case:<id>/persons`, …).
    pub resource: String,
    /// The case's id, when the request is about a case.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case: Option<String>,
    /// The purpose the user stated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purpose: Option<Purpose>,
    /// What the policies answered.
    pub decision: AccessDecision,
    /// The policies that decided (for a denial without any, the default deny).
    pub policies: Vec<String>,
    /// When the entry stands for several refusals of the same user and action counted in one
    /// window rather than appended one by one: how many (it describes the last of them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repeated: Option<u64>,
}

/// What an entry records: one event, named by the entry's `kind`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// An agency registered (`agency.registered`).
    AgencyRegistered(AgencyRecord),
    /// A user registered (`user.registered`).
    UserRegistered(UserRecord),
    /// A case opened (`case.opened`).
    CaseOpened(CaseRecord),
    /// An evidence item registered (`evidence.registered`).
    EvidenceRegistered(EvidenceRecord),
    /// A custody event on an item (`custody.<type>`).
    Custody(CustodyRecord),
    /// A vault record erased (`vault.erased`).
    VaultErased(ErasureRecord),
    /// A case shared (`case.shared`).
    CaseShared(DisclosureRecord),
    /// A share revoked (`case.share_revoked`).
    ShareRevoked(RevocationRecord),
    /// A person linked to a case (`person.recorded`).
    PersonRecorded(PersonRecord),
    /// An access request and the answer (`access.allowed` or `access.denied`).
    Access(AccessRecord),
    /// A dossier of a case issued (`dossier.issued`).
    DossierIssued(DossierRecord),
    /// A peer's log caught contradicting itself (`peer.misbehaved`).
    PeerMisbehaved(PeerMisbehaviorRecord),
    /// A dossier of one of this node's cases delivered to a peer (`dossier.sent`).
    DossierSent(ExchangeRecord),
    /// A peer's dossier verified and imported (`dossier.received`).
    DossierReceived(ExchangeRecord),
    /// A peer's dossier refused, nothing imported (`dossier.refused`).
    DossierRefused(ExchangeRecord),
}

impl Event {
    /// The entry's `kind` (`case.opened`, `custody.transferred`, …).
    pub fn kind(&self) -> String {
        match self {
            Event::AgencyRegistered(_) => "agency.registered".into(),
            Event::UserRegistered(_) => "user.registered".into(),
            Event::CaseOpened(_) => "case.opened".into(),
            Event::EvidenceRegistered(_) => "evidence.registered".into(),
            Event::Custody(c) => format!("custody.{}", c.event_type),
            Event::VaultErased(_) => "vault.erased".into(),
            Event::CaseShared(_) => "case.shared".into(),
            Event::ShareRevoked(_) => "case.share_revoked".into(),
            Event::PersonRecorded(_) => "person.recorded".into(),
            Event::Access(r) => format!("access.{}", serde_decision(r.decision)),
            Event::DossierIssued(_) => "dossier.issued".into(),
            Event::PeerMisbehaved(_) => "peer.misbehaved".into(),
            Event::DossierSent(_) => "dossier.sent".into(),
            Event::DossierReceived(_) => "dossier.received".into(),
            Event::DossierRefused(_) => "dossier.refused".into(),
        }
    }

    /// The case whose custody record (its chain of entries, DESIGN §8) the entry belongs to: a
    /// case's opening, its items' registrations and custody events, and its dossiers. Shares,
    /// persons and access records are about a case but are not its custody record.
    pub fn case_chain(&self) -> Option<&str> {
        match self {
            Event::CaseOpened(r) => Some(&r.id),
            Event::EvidenceRegistered(r) => Some(&r.case),
            Event::Custody(r) => Some(&r.case),
            Event::DossierIssued(r) => Some(&r.case),
            Event::DossierSent(r) => Some(&r.case),
            Event::AgencyRegistered(_)
            | Event::UserRegistered(_)
            | Event::VaultErased(_)
            | Event::CaseShared(_)
            | Event::ShareRevoked(_)
            | Event::PersonRecorded(_)
            | Event::Access(_)
            | Event::PeerMisbehaved(_)
            | Event::DossierReceived(_)
            | Event::DossierRefused(_) => None,
        }
    }

    /// The case the entry is about, if any: its custody record (`case_chain`), and its shares,
    /// share withdrawals and persons. Access records, agencies, users and erasures name none.
    pub fn about_case(&self) -> Option<&str> {
        match self {
            Event::CaseShared(r) => Some(&r.case),
            Event::ShareRevoked(r) => Some(&r.case),
            Event::PersonRecorded(r) => Some(&r.case),
            _ => self.case_chain(),
        }
    }

    /// Whether the entry links to its case's previous entry (`case_prev`, from format 2 on):
    /// every entry of a case's custody record but its opening.
    pub fn links_to_case(&self) -> bool {
        self.case_chain().is_some() && !matches!(self, Event::CaseOpened(_))
    }

    /// The entry member the event's record goes in, and the record's canonical text (written
    /// straight from the record: see `jcs::push_serialized`).
    fn field_and_canonical(&self) -> Result<(&'static str, String), jcs::JcsError> {
        let mut out = String::with_capacity(256);
        let (field, written) = match self {
            Event::AgencyRegistered(r) => ("agency", jcs::push_serialized(&mut out, r)),
            Event::UserRegistered(r) => ("user", jcs::push_serialized(&mut out, r)),
            Event::CaseOpened(r) => ("case", jcs::push_serialized(&mut out, r)),
            Event::EvidenceRegistered(r) => ("evidence", jcs::push_serialized(&mut out, r)),
            Event::Custody(r) => ("custody", jcs::push_serialized(&mut out, r)),
            Event::VaultErased(r) => ("erasure", jcs::push_serialized(&mut out, r)),
            Event::CaseShared(r) => ("disclosure", jcs::push_serialized(&mut out, r)),
            Event::ShareRevoked(r) => ("revocation", jcs::push_serialized(&mut out, r)),
            Event::PersonRecorded(r) => ("person", jcs::push_serialized(&mut out, r)),
            Event::Access(r) => ("access", jcs::push_serialized(&mut out, r)),
            Event::DossierIssued(r) => ("dossier", jcs::push_serialized(&mut out, r)),
            Event::PeerMisbehaved(r) => ("peer", jcs::push_serialized(&mut out, r)),
            Event::DossierSent(r) | Event::DossierReceived(r) | Event::DossierRefused(r) => {
                ("exchange", jcs::push_serialized(&mut out, r))
            }
        };
        written?;
        Ok((field, out))
    }

    fn field_and_value(&self) -> Result<(&'static str, Value), serde_json::Error> {
        Ok(match self {
            Event::AgencyRegistered(r) => ("agency", serde_json::to_value(r)?),
            Event::UserRegistered(r) => ("user", serde_json::to_value(r)?),
            Event::CaseOpened(r) => ("case", serde_json::to_value(r)?),
            Event::EvidenceRegistered(r) => ("evidence", serde_json::to_value(r)?),
            Event::Custody(r) => ("custody", serde_json::to_value(r)?),
            Event::VaultErased(r) => ("erasure", serde_json::to_value(r)?),
            // Field names sort before `prev` (see `chain_link_matches`).
            Event::CaseShared(r) => ("disclosure", serde_json::to_value(r)?),
            Event::ShareRevoked(r) => ("revocation", serde_json::to_value(r)?),
            Event::PersonRecorded(r) => ("person", serde_json::to_value(r)?),
            Event::Access(r) => ("access", serde_json::to_value(r)?),
            Event::DossierIssued(r) => ("dossier", serde_json::to_value(r)?),
            Event::PeerMisbehaved(r) => ("peer", serde_json::to_value(r)?),
            Event::DossierSent(r) | Event::DossierReceived(r) | Event::DossierRefused(r) => {
                ("exchange", serde_json::to_value(r)?)
            }
        })
    }
}

fn serde_decision(d: AccessDecision) -> &'static str {
    match d {
        AccessDecision::Allowed => "allowed",
        AccessDecision::Denied => "denied",
    }
}

/// A complete entry: what the sequencer assigns (`seq`, `prev`, `case_prev`, `time`, `origin`)
/// plus the event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Its format: [`FORMAT_VERSION`] for every new entry, [`FIRST_FORMAT_VERSION`] for older ones.
    pub version: u64,
    /// 0-based position in the log.
    pub seq: u64,
    /// The leaf hash of entry `seq - 1` (zeros for entry 0).
    pub prev: Hash,
    /// The case's previous entry, for an entry of a case's custody record but its opening
    /// (format 2 on).
    pub case_prev: Option<CaseLink>,
    /// When the node recorded it: RFC 3339, UTC, to the microsecond.
    pub time: String,
    /// The log's name (`tg.police.dcpj/scelle`).
    pub origin: String,
    /// Who made it.
    pub actor: Actor,
    /// What it records.
    pub event: Event,
}

/// An entry as the projections read it (`service::apply`): borrowed, so the sequencer applies
/// a writer's event without copying it into an owned `Entry`.
#[derive(Debug, Clone, Copy)]
pub struct AppliedEntry<'a> {
    /// 0-based position in the log.
    pub seq: u64,
    /// When the node recorded it: RFC 3339, UTC, to the microsecond.
    pub time: &'a str,
    /// Who made it.
    pub actor: &'a Actor,
    /// What it records.
    pub event: &'a Event,
}

impl Entry {
    /// The entry, borrowed, as the projections apply it.
    pub fn applied(&self) -> AppliedEntry<'_> {
        AppliedEntry {
            seq: self.seq,
            time: &self.time,
            actor: &self.actor,
            event: &self.event,
        }
    }
}

/// Why bytes are not an entry, or an entry cannot be encoded.
#[derive(Debug, thiserror::Error)]
pub enum EntryError {
    /// The bytes are not the RFC 8785 canonical form of their JSON.
    #[error("entry is not canonical JSON (RFC 8785)")]
    NotCanonical,
    /// The entry could not be serialized or canonicalized.
    #[error("entry cannot be encoded: {0}")]
    Encode(String),
    /// The bytes are not JSON, or not an entry of this format.
    #[error("entry is malformed: {0}")]
    Malformed(String),
    /// The entry's `v` is neither [`FIRST_FORMAT_VERSION`] nor [`FORMAT_VERSION`].
    #[error("unsupported entry format version {0}")]
    Version(u64),
}

impl From<JcsError> for EntryError {
    fn from(e: JcsError) -> Self {
        EntryError::Encode(e.to_string())
    }
}

/// An entry's members that do not depend on where it lands in the log (`actor`, the event,
/// `kind`, `origin`, `v`), canonicalized on the writer's own thread before it queues for the
/// sequencer, which then only splices in `prev`, `seq` and `time`. `bytes` equals
/// `Entry::to_canonical_bytes` for the same entry (tested below and on every event kind).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreparedEntry {
    /// `(key, canonical value)`, sorted by key. Every key is lower-case ASCII, so byte order is
    /// RFC 8785's order of UTF-16 code units.
    members: Vec<(&'static str, String)>,
}

/// The canonical text of one entry member.
fn canonical_text<T: Serialize + ?Sized>(value: &T) -> Result<String, EntryError> {
    let mut out = String::with_capacity(64);
    jcs::push_serialized(&mut out, value).map_err(|e| EntryError::Encode(e.to_string()))?;
    Ok(out)
}

/// The members the sequencer assigns, in key order (`case_prev` only on the entries that link to
/// their case's previous one).
const PLACED_MEMBERS: [&str; 4] = ["case_prev", "prev", "seq", "time"];

impl PreparedEntry {
    /// The members of the entry for `event` by `actor` on the log `origin`, canonicalized now.
    pub fn new(origin: &str, actor: &Actor, event: &Event) -> Result<Self, EntryError> {
        // Each member straight from its Rust value to canonical text; `Entry::to_canonical_bytes`
        // goes through `serde_json::Value` and the tests hold the two to the same bytes.
        let (field, record) = event
            .field_and_canonical()
            .map_err(|e| EntryError::Encode(e.to_string()))?;
        if PLACED_MEMBERS.contains(&field) || !field.bytes().all(|b| b.is_ascii_lowercase()) {
            return Err(EntryError::Encode(format!("event field `{field}`")));
        }
        let mut members = vec![
            ("actor", canonical_text(actor)?),
            (field, record),
            ("kind", canonical_text(&event.kind())?),
            ("origin", canonical_text(origin)?),
            ("v", canonical_text(&FORMAT_VERSION)?),
        ];
        members.sort_unstable_by(|a, b| a.0.cmp(b.0));
        Ok(Self { members })
    }

    /// The canonical bytes of the entry placed at `seq`, after `prev`, at `time`, and after
    /// `case_prev` in its case's custody record when it links to it.
    pub fn bytes(
        &self,
        seq: u64,
        prev: &Hash,
        time: &str,
        case_prev: Option<&CaseLink>,
    ) -> Result<Vec<u8>, EntryError> {
        // Written straight into the text, in their canonical forms, rather than through
        // `serde_json::Value`s: the sequencer does this for every entry.
        let push_placed = |out: &mut String, key: &str| match key {
            "case_prev" => {
                if let Some(link) = case_prev {
                    out.push_str("{\"leaf\":");
                    jcs::push_hex_string(out, &link.leaf);
                    out.push_str(",\"seq\":");
                    jcs::push_u64(out, link.seq);
                    out.push('}');
                }
            }
            "prev" => jcs::push_hex_string(out, prev),
            "seq" => jcs::push_u64(out, seq),
            _ => jcs::push_string(out, time),
        };
        let length: usize = self
            .members
            .iter()
            .map(|(k, v)| k.len() + v.len() + 4)
            .sum();
        let mut out = String::with_capacity(length + 160);
        out.push('{');
        let mut placed_members = PLACED_MEMBERS
            .iter()
            .filter(|key| case_prev.is_some() || **key != "case_prev")
            .peekable();
        let mut first = true;
        let mut push_key = |out: &mut String, key: &str| {
            if !first {
                out.push(',');
            }
            first = false;
            out.push('"');
            out.push_str(key);
            out.push_str("\":");
        };
        for (key, value) in &self.members {
            while let Some(placed_key) = placed_members.next_if(|placed_key| **placed_key < *key) {
                push_key(&mut out, placed_key);
                push_placed(&mut out, placed_key);
            }
            push_key(&mut out, key);
            out.push_str(value);
        }
        for placed_key in placed_members {
            push_key(&mut out, placed_key);
            push_placed(&mut out, placed_key);
        }
        out.push('}');
        Ok(out.into_bytes())
    }
}

impl Entry {
    /// The canonical bytes that are stored, served and hashed.
    pub fn to_canonical_bytes(&self) -> Result<Vec<u8>, EntryError> {
        let mut map = Map::new();
        map.insert("v".into(), self.version.into());
        map.insert("seq".into(), self.seq.into());
        map.insert("prev".into(), hex::encode(self.prev).into());
        if let Some(link) = &self.case_prev {
            map.insert(
                "case_prev".into(),
                serde_json::to_value(link).map_err(|e| EntryError::Encode(e.to_string()))?,
            );
        }
        map.insert("time".into(), self.time.clone().into());
        map.insert("origin".into(), self.origin.clone().into());
        map.insert(
            "actor".into(),
            serde_json::to_value(&self.actor).map_err(|e| EntryError::Encode(e.to_string()))?,
        );
        map.insert("kind".into(), self.event.kind().into());
        let (field, value) = self
            .event
            .field_and_value()
            .map_err(|e| EntryError::Encode(e.to_string()))?;
        map.insert(field.into(), value);
        Ok(jcs::canonicalize(&Value::Object(map))?)
    }

    /// The RFC 9162 leaf hash of an entry's bytes.
    pub fn leaf_hash(bytes: &[u8]) -> Hash {
        leaf_hash(bytes)
    }

    /// Parses stored bytes, insisting that they are exactly canonical.
    pub fn parse(bytes: &[u8]) -> Result<Self, EntryError> {
        let value: Value =
            serde_json::from_slice(bytes).map_err(|e| EntryError::Malformed(e.to_string()))?;
        if jcs::canonicalize(&value)? != bytes {
            return Err(EntryError::NotCanonical);
        }
        if !value.is_object() {
            return Err(EntryError::Malformed("not an object".into()));
        }
        from_value::<WireEntry>(value)?.into_entry()
    }

    /// Parses the bytes of an entry whose hash is checked elsewhere (the audit holds each
    /// stored entry to its leaf hash and the signed tree), without checking that they are
    /// canonical: straight from the bytes to the entry, at a fraction of [`Entry::parse`]'s cost.
    /// Both read the same members with the same rules ([`WireEntry`]).
    pub fn parse_content(bytes: &[u8]) -> Result<Self, EntryError> {
        serde_json::from_slice::<WireEntry>(bytes)
            .map_err(|e| EntryError::Malformed(e.to_string()))?
            .into_entry()
    }
}

/// An entry's members as they are written: the envelope and one event member, named after the
/// kind. Any other member is refused.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WireEntry {
    v: u64,
    seq: u64,
    prev: String,
    case_prev: Option<CaseLink>,
    time: String,
    origin: String,
    actor: Actor,
    kind: String,
    agency: Option<AgencyRecord>,
    user: Option<UserRecord>,
    case: Option<CaseRecord>,
    evidence: Option<EvidenceRecord>,
    custody: Option<CustodyRecord>,
    erasure: Option<ErasureRecord>,
    disclosure: Option<DisclosureRecord>,
    revocation: Option<RevocationRecord>,
    person: Option<PersonRecord>,
    access: Option<AccessRecord>,
    dossier: Option<DossierRecord>,
    peer: Option<PeerMisbehaviorRecord>,
    exchange: Option<ExchangeRecord>,
}

impl WireEntry {
    /// The entry, if its version is one of the formats, its one event member is its kind's, and
    /// it links to its case's previous entry exactly when its format and kind say so.
    fn into_entry(self) -> Result<Entry, EntryError> {
        if self.v != FORMAT_VERSION && self.v != FIRST_FORMAT_VERSION {
            return Err(EntryError::Version(self.v));
        }
        let prev =
            lowercase_hash(&self.prev).ok_or_else(|| EntryError::Malformed("`prev`".into()))?;
        let members = [
            self.agency.is_some(),
            self.user.is_some(),
            self.case.is_some(),
            self.evidence.is_some(),
            self.custody.is_some(),
            self.erasure.is_some(),
            self.disclosure.is_some(),
            self.revocation.is_some(),
            self.person.is_some(),
            self.access.is_some(),
            self.dossier.is_some(),
            self.peer.is_some(),
            self.exchange.is_some(),
        ];
        if members.iter().filter(|present| **present).count() != 1 {
            return Err(EntryError::Malformed(
                "an entry carries exactly one event member".into(),
            ));
        }
        let missing = |member: &str| EntryError::Malformed(format!("missing `{member}`"));
        let kind = self.kind.as_str();
        let event = match kind {
            "agency.registered" => Event::AgencyRegistered(self.agency.ok_or(missing("agency"))?),
            "user.registered" => Event::UserRegistered(self.user.ok_or(missing("user"))?),
            "case.opened" => Event::CaseOpened(self.case.ok_or(missing("case"))?),
            "evidence.registered" => {
                Event::EvidenceRegistered(self.evidence.ok_or(missing("evidence"))?)
            }
            "vault.erased" => Event::VaultErased(self.erasure.ok_or(missing("erasure"))?),
            "case.shared" => Event::CaseShared(self.disclosure.ok_or(missing("disclosure"))?),
            "case.share_revoked" => {
                Event::ShareRevoked(self.revocation.ok_or(missing("revocation"))?)
            }
            "person.recorded" => Event::PersonRecorded(self.person.ok_or(missing("person"))?),
            "access.allowed" | "access.denied" => {
                let record = self.access.ok_or(missing("access"))?;
                if kind.strip_prefix("access.") != Some(serde_decision(record.decision)) {
                    return Err(EntryError::Malformed(
                        "kind does not match access decision".into(),
                    ));
                }
                Event::Access(record)
            }
            k if k.starts_with("custody.") => {
                let record = self.custody.ok_or(missing("custody"))?;
                if k.strip_prefix("custody.") != Some(record.event_type.as_str()) {
                    return Err(EntryError::Malformed(
                        "kind does not match custody type".into(),
                    ));
                }
                Event::Custody(record)
            }
            "dossier.issued" if self.v >= FORMAT_VERSION => {
                Event::DossierIssued(self.dossier.ok_or(missing("dossier"))?)
            }
            "peer.misbehaved" if self.v >= FORMAT_VERSION => {
                Event::PeerMisbehaved(self.peer.ok_or(missing("peer"))?)
            }
            "dossier.sent" | "dossier.received" | "dossier.refused" if self.v >= FORMAT_VERSION => {
                let record = self.exchange.ok_or(missing("exchange"))?;
                // A delivery names the receiver's receipt, a refusal its reason, a receipt neither.
                let shape = (record.receipt.is_some(), record.refused.is_some());
                match (kind, shape) {
                    ("dossier.sent", (true, false)) => Event::DossierSent(record),
                    ("dossier.received", (false, false)) => Event::DossierReceived(record),
                    ("dossier.refused", (false, true)) => Event::DossierRefused(record),
                    _ => {
                        return Err(EntryError::Malformed(
                            "`receipt` or `refused` does not match the kind".into(),
                        ));
                    }
                }
            }
            other => return Err(EntryError::Malformed(format!("unknown kind `{other}`"))),
        };
        // From format 2 on, every entry of a case's custody record but its opening links to the
        // case's previous entry, and no other entry does.
        let links = self.v >= FORMAT_VERSION && event.links_to_case();
        if self.case_prev.is_some() != links {
            return Err(EntryError::Malformed(
                if links {
                    "missing `case_prev`"
                } else {
                    "unexpected `case_prev`"
                }
                .into(),
            ));
        }
        Ok(Entry {
            version: self.v,
            seq: self.seq,
            prev,
            case_prev: self.case_prev,
            time: self.time,
            origin: self.origin,
            actor: self.actor,
            event,
        })
    }
}

fn from_value<T: for<'de> Deserialize<'de>>(v: Value) -> Result<T, EntryError> {
    serde_json::from_value(v).map_err(|e| EntryError::Malformed(e.to_string()))
}

/// Whether canonical entry bytes say `seq` and link to `prev`, without parsing the JSON.
///
/// RFC 8785 sorts an object's keys. Of the top-level members, only the event member
/// `revocation` (`case.share_revoked`) sorts between `prev` and `seq`, and only `user` and `v`
/// after `time`; no event record has a `prev` key, and inside JSON strings a quote is always
/// escaped, so the last `,"prev":"` in the bytes is the top-level one. It is followed by the
/// hash, then `"seq":<n>,"time":"` — with the `revocation` object in between for that one kind,
/// which is skipped whole. The audit checks the chain this way (a JSON parse costs more than
/// hashing the entry); `Entry::parse`, used by `rebuild` and the dossier verifier, checks the
/// whole entry. The tests check it on every event kind, with and without its optional members.
pub fn chain_link_matches(body: &[u8], seq: u64, prev: &[u8; 32]) -> bool {
    const PREV_KEY: &[u8] = b",\"prev\":\"";
    // The key is near the end (only `seq` and `time` sort after it). A vectorized backward
    // search for its rare letter `p` (hex digits, numbers and times have none) finds it in a
    // step or two; a general substring search was measured at a third of the leaf hash's cost.
    let Some(at) = memchr::memrchr_iter(b'p', body)
        .filter_map(|p| p.checked_sub(2))
        .find(|&start| body[start..].starts_with(PREV_KEY))
    else {
        return false;
    };
    let mut prev_hex = [0u8; 64];
    if hex::encode_to_slice(prev, &mut prev_hex).is_err() {
        return false;
    }
    let mut seq_digits = [0u8; 20];
    let mut n = seq;
    let mut start = seq_digits.len();
    loop {
        start -= 1;
        seq_digits[start] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    let Some(rest) = body[at + PREV_KEY.len()..].strip_prefix(&prev_hex[..]) else {
        return false;
    };
    let Some(mut rest) = rest.strip_prefix(b"\"") else {
        return false;
    };
    if let Some(object) = rest.strip_prefix(b",\"revocation\":") {
        match skip_object(object) {
            Some(after) => rest = after,
            None => return false,
        }
    }
    let pieces: [&[u8]; 3] = [b",\"seq\":", &seq_digits[start..], b",\"time\":\""];
    for piece in pieces {
        match rest.strip_prefix(piece) {
            Some(after) => rest = after,
            None => return false,
        }
    }
    true
}

/// The bytes after the JSON object at the start of `bytes` (strings and nesting respected), or
/// `None` if there is no whole object there.
fn skip_object(bytes: &[u8]) -> Option<&[u8]> {
    if bytes.first() != Some(&b'{') {
        return None;
    }
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for (i, &byte) in bytes.iter().enumerate() {
        if in_string {
            match (escaped, byte) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match byte {
            b'"' => in_string = true,
            b'{' | b'[' => depth += 1,
            b'}' | b']' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return bytes.get(i + 1..);
                }
            }
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The link the samples carry to their case's previous entry.
    const LINK: CaseLink = CaseLink {
        seq: 5,
        leaf: [0xcd; 32],
    };

    fn sample() -> Entry {
        Entry {
            version: FORMAT_VERSION,
            seq: 7,
            prev: [0xab; 32],
            case_prev: Some(LINK),
            time: "2026-11-23T10:00:00.123456Z".into(),
            origin: "tg.police.dcpj/scelle".into(),
            actor: Actor {
                user: "u1".into(),
                agency: "tg.police.dcpj".into(),
                role: Role::Investigator,
            },
            event: Event::Custody(CustodyRecord {
                id: "e1".into(),
                item: "i1".into(),
                case: "c1".into(),
                event_type: CustodyEventType::Transferred,
                at: "2026-11-23T09:00:00+00:00".into(),
                place: None,
                reason: Some(Commitment {
                    record: "r1".into(),
                    hmac: "00".repeat(32),
                }),
                tool: None,
                authorization: None,
                to_user: Some("u2".into()),
                seal_intact: None,
                sha256: None,
                result: None,
                amends: None,
                derived_item: None,
            }),
        }
    }

    /// The sample with `event`, linking to its case's previous entry where the event does.
    fn with_event(event: Event) -> Entry {
        Entry {
            case_prev: event.links_to_case().then_some(LINK),
            event,
            ..sample()
        }
    }

    /// The writer-side canonical members plus the sequencer's three equal the whole entry's
    /// canonical form, whether the event's field sorts before `prev` (`custody`), between
    /// `prev` and `seq` (`revocation`) or after `time` (`user`), for any place in the log and
    /// any time text (escapes included).
    #[test]
    fn prepared_entries_equal_canonical_entries_wherever_they_land() {
        let custody = sample();
        let revocation = with_event(Event::ShareRevoked(RevocationRecord {
            share: "s1".into(),
            case: "c1".into(),
            reason: Reason::Clear("fin de l'entraide \u{e9}\"\\ / end of assistance".into()),
        }));
        let user = with_event(Event::UserRegistered(UserRecord {
            id: "u9".into(),
            role: Role::Prosecutor,
            agency: "bj.police.ocrc".into(),
        }));
        let places: [(u64, Hash, &str); 5] = [
            (0, [0; 32], "2026-11-24T08:00:00Z"),
            (1, [0xff; 32], "2026-11-24T08:00:00.000001Z"),
            (9_007_199_254_740_992, [0x5a; 32], "\u{1f600} \u{7f}\t"),
            (123_456_789, [0x01; 32], ""),
            (u64::from(u32::MAX), [0x80; 32], "z"),
        ];
        for base in [custody, revocation, user] {
            let prepared = PreparedEntry::new(&base.origin, &base.actor, &base.event).unwrap();
            for (seq, prev, time) in places {
                let entry = Entry {
                    seq,
                    prev,
                    time: time.into(),
                    ..base.clone()
                };
                let expected = entry.to_canonical_bytes().unwrap();
                assert_eq!(
                    String::from_utf8(
                        prepared
                            .bytes(seq, &prev, time, entry.case_prev.as_ref())
                            .unwrap()
                    )
                    .unwrap(),
                    String::from_utf8(expected).unwrap()
                );
            }
        }
    }

    /// One event of every kind, each record with all its optional members and with none, and
    /// every custody event type. A new kind fails to compile `kind_number` until it is listed
    /// there, and then `every_kind_is_sampled` until it is sampled here.
    fn every_kind_of_event() -> Vec<Event> {
        let commitment = |record: &str| Commitment {
            record: record.into(),
            hmac: "ab".repeat(32),
        };
        let mut events = vec![
            Event::UserRegistered(UserRecord {
                id: "u9".into(),
                role: Role::Prosecutor,
                agency: "bj.police.ocrc".into(),
            }),
            Event::ShareRevoked(RevocationRecord {
                share: "s1".into(),
                case: "c1".into(),
                reason: Reason::Clear("fin de l'entraide {\"a\":[1]} \\ }".into()),
            }),
            Event::ShareRevoked(RevocationRecord {
                share: "s2".into(),
                case: "c1".into(),
                reason: Reason::Committed(commitment("r-revocation")),
            }),
            Event::VaultErased(ErasureRecord {
                record: "r2".into(),
                legal_reason: Reason::Committed(commitment("r-erasure")),
            }),
            Event::CaseOpened(CaseRecord {
                id: "c2".into(),
                reference: "TG/2026/002".into(),
                jurisdiction: Jurisdiction::ALL[4],
                offence: "o".into(),
                legal_basis: "l".into(),
                agency: "tg.police".into(),
                officer: "u1".into(),
                title: None,
                jurisdiction_basis: None,
            }),
            Event::EvidenceRegistered(EvidenceRecord {
                id: "i2".into(),
                case: "c2".into(),
                exhibit_number: "P-2".into(),
                seal_number: "S-2".into(),
                kind: EvidenceKind::ALL[1],
                hashes: Hashes {
                    sha256: "4".repeat(64),
                    sha512: None,
                    sha1: None,
                    md5: None,
                },
                size_bytes: None,
                collected_at: "2026-11-23T09:00:00+00:00".into(),
                collector: "u1".into(),
                description: None,
                location: None,
                acquisition: None,
                parent: None,
            }),
            Event::CaseShared(DisclosureRecord {
                id: "s2".into(),
                case: "c2".into(),
                agency: None,
                state: Some(Jurisdiction::ALL[3]),
                handling: vec![],
                purposes: vec![Purpose::ALL[0]],
                confidential: false,
                consent_for_court: true,
                expires: "2027-01-01T00:00:00Z".into(),
                legal_basis: None,
                conditions: None,
            }),
            Event::Access(AccessRecord {
                action: "case.read".into(),
                resource: "log".into(),
                case: None,
                purpose: None,
                decision: AccessDecision::Allowed,
                policies: vec![],
                repeated: None,
            }),
            Event::AgencyRegistered(AgencyRecord {
                id: "bj.police".into(),
                state: Jurisdiction::ALL[0],
                name: "Office central \"OCRC\" — Cotonou".into(),
                lab: true,
            }),
            Event::AgencyRegistered(AgencyRecord {
                id: "tg.police".into(),
                state: Jurisdiction::ALL[4],
                name: "Lomé".into(),
                lab: false,
            }),
            Event::CaseOpened(CaseRecord {
                id: "c1".into(),
                reference: "BJ/2026/001".into(),
                jurisdiction: Jurisdiction::ALL[1],
                offence: "escroquerie en ligne".into(),
                legal_basis: "Code du numérique, art. 550".into(),
                agency: "bj.police".into(),
                officer: "u1".into(),
                title: Some(commitment("r-title")),
                jurisdiction_basis: Some(commitment("r-jurisdiction")),
            }),
            Event::EvidenceRegistered(EvidenceRecord {
                id: "i1".into(),
                case: "c1".into(),
                exhibit_number: "PC-1".into(),
                seal_number: "S-1".into(),
                kind: EvidenceKind::ALL[0],
                hashes: Hashes {
                    sha256: "0".repeat(64),
                    sha512: Some("1".repeat(128)),
                    sha1: Some("2".repeat(40)),
                    md5: Some("3".repeat(32)),
                },
                size_bytes: Some(crate::model::MAX_SIZE_BYTES),
                collected_at: "2026-11-23T09:00:00+00:00".into(),
                collector: "u1".into(),
                description: Some(commitment("r-description")),
                location: Some(commitment("r-location")),
                acquisition: Some(Acquisition {
                    tool: "ftk imager".into(),
                    version: Some("4.7".into()),
                    settings: Some("E01, niveau 6".into()),
                }),
                parent: Some("i0".into()),
            }),
            Event::VaultErased(ErasureRecord {
                record: "r1".into(),
                legal_reason: Reason::Clear("décision de justice".into()),
            }),
            Event::CaseShared(DisclosureRecord {
                id: "s1".into(),
                case: "c1".into(),
                agency: Some("ci.lab".into()),
                state: Some(Jurisdiction::ALL[2]),
                handling: HandlingCode::ALL.to_vec(),
                purposes: Purpose::ALL.to_vec(),
                confidential: true,
                consent_for_court: false,
                expires: "2027-01-01T00:00:00Z".into(),
                legal_basis: Some("Budapest, art. 25".into()),
                conditions: Some(commitment("r-conditions")),
            }),
            Event::PersonRecorded(PersonRecord {
                id: "p1".into(),
                case: "c1".into(),
                data: commitment("r-person"),
            }),
            Event::Access(AccessRecord {
                action: "dossier.export".into(),
                resource: "case:c1".into(),
                case: Some("c1".into()),
                purpose: Some(Purpose::ALL[1]),
                decision: AccessDecision::Denied,
                policies: vec!["share-expired".into(), "H1".into()],
                repeated: Some(12),
            }),
        ];
        for (i, event_type) in CustodyEventType::ALL.iter().enumerate() {
            let full = i % 2 == 0;
            let some = |text: &str| full.then(|| text.to_owned());
            events.push(Event::Custody(CustodyRecord {
                id: format!("e{i}"),
                item: "i1".into(),
                case: "c1".into(),
                event_type: *event_type,
                at: "2026-11-23T09:00:00+00:00".into(),
                place: full.then(|| commitment("r-place")),
                reason: full.then(|| commitment("r-reason")),
                tool: some("cellebrite"),
                authorization: some("ordonnance 12/2026"),
                to_user: some("u2"),
                seal_intact: full.then_some(i % 4 == 0),
                sha256: some(&"f".repeat(64)),
                result: full.then_some(IntegrityResult::ALL[i % IntegrityResult::ALL.len()]),
                amends: some("e0"),
                derived_item: some("i2"),
            }));
        }
        for (purpose, personal_data, to) in [
            (None, false, None),
            (Some(Purpose::Prosecution), true, None),
            (None, false, Some("tg.police.dcpj/scelle".to_owned())),
        ] {
            events.push(Event::DossierIssued(DossierRecord {
                case: "c1".into(),
                purpose,
                personal_data,
                to,
            }));
        }
        for (seen, proof) in [
            (Misbehavior::SplitView, vec![]),
            (
                Misbehavior::SplitView,
                vec!["AwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwM=".into()],
            ),
        ] {
            events.push(Event::PeerMisbehaved(PeerMisbehaviorRecord {
                log: "bj.police.ocrc/scelle".into(),
                seen,
                cosigned: "bj.police.ocrc/scelle\n5\nAAAA\n\n\u{2014} bj AAAA\n".into(),
                offered: "bj.police.ocrc/scelle\n5\nBBBB\n\n\u{2014} bj BBBB\n".into(),
                proof,
            }));
        }
        let exchange = |receipt: Option<CaseLink>, refused: Option<&str>| ExchangeRecord {
            transfer: "t1".into(),
            peer: "tg.police.dcpj/scelle".into(),
            case: "c1".into(),
            share: "s1".into(),
            manifest: "a".repeat(64),
            tree_size: 12,
            root: "b".repeat(64),
            receipt,
            refused: refused.map(str::to_owned),
        };
        events.push(Event::DossierSent(exchange(
            Some(CaseLink {
                seq: 4,
                leaf: [7; 32],
            }),
            None,
        )));
        events.push(Event::DossierReceived(exchange(None, None)));
        events.push(Event::DossierRefused(exchange(
            None,
            Some("transfer-share-expired"),
        )));
        events
    }

    /// A number per event kind; the match has no wildcard, so a new kind must be added here.
    fn kind_number(event: &Event) -> usize {
        match event {
            Event::AgencyRegistered(_) => 0,
            Event::UserRegistered(_) => 1,
            Event::CaseOpened(_) => 2,
            Event::EvidenceRegistered(_) => 3,
            Event::Custody(_) => 4,
            Event::VaultErased(_) => 5,
            Event::CaseShared(_) => 6,
            Event::ShareRevoked(_) => 7,
            Event::PersonRecorded(_) => 8,
            Event::Access(_) => 9,
            Event::DossierIssued(_) => 10,
            Event::PeerMisbehaved(_) => 11,
            Event::DossierSent(_) => 12,
            Event::DossierReceived(_) => 13,
            Event::DossierRefused(_) => 14,
        }
    }

    #[test]
    fn every_kind_is_sampled() {
        let sampled: std::collections::BTreeSet<usize> =
            every_kind_of_event().iter().map(kind_number).collect();
        assert_eq!(sampled, (0..15).collect());
    }

    /// What a string member of an entry holds (issue #28 item 6: free text that may name a person
    /// enters the log only as a commitment).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
    enum StringMember {
        /// An id the node made (UUID, agency id) or a reference to one.
        Id,
        /// A code from a closed list (role, state, kind, type, purpose, policy id).
        Code,
        /// A label the node normalizes and checks (no mixed scripts, no look-alikes).
        Label,
        /// A hash or HMAC in lowercase hex.
        Hex,
        /// An RFC 3339 time.
        Time,
        /// A reason in clear: only in format 1 entries and in a retention run's, which the node
        /// writes from its rule and which names no one.
        LegacyOrRuleReason,
        /// Free text still in clear. Each is listed in `STILL_IN_CLEAR`, with why.
        FreeText,
        /// A peer's signed checkpoint or a proof hash (base64): the evidence of a fork.
        SignedNote,
    }

    /// Free text that still enters the log in clear, and why: not yet a commitment. Moving one
    /// to a commitment removes it here; adding one fails `every_string_member_is_classified`.
    const STILL_IN_CLEAR: &[(&str, &str)] = &[
        (
            "agency.name",
            "an organisation's name, set by the node's administrator",
        ),
        (
            "case.offence",
            "the offence's legal qualification (the court report shows it)",
        ),
        (
            "case.legal_basis",
            "the instrument the case rests on (the court report shows it)",
        ),
        (
            "disclosure.legal_basis",
            "the instrument a share rests on (policies require it)",
        ),
        ("evidence.acquisition.tool", "a forensic tool's name"),
        ("evidence.acquisition.version", "a forensic tool's version"),
        (
            "evidence.acquisition.settings",
            "a forensic tool's settings",
        ),
        ("custody.tool", "a forensic tool's name"),
        ("custody.authorization", "the reference of an authorization"),
    ];

    fn classify(path: &str) -> Option<StringMember> {
        use StringMember::*;
        if path.ends_with(".record") {
            return Some(Id);
        }
        if path.ends_with(".hmac") || path.starts_with("evidence.hashes.") {
            return Some(Hex);
        }
        if STILL_IN_CLEAR.iter().any(|(p, _)| *p == path) {
            return Some(FreeText);
        }
        Some(match path {
            "agency.id"
            | "user.id"
            | "user.agency"
            | "case.id"
            | "case.agency"
            | "case.officer"
            | "evidence.id"
            | "evidence.case"
            | "evidence.collector"
            | "evidence.parent"
            | "custody.id"
            | "custody.item"
            | "custody.case"
            | "custody.to_user"
            | "custody.amends"
            | "custody.derived_item"
            | "disclosure.id"
            | "disclosure.case"
            | "disclosure.agency"
            | "revocation.share"
            | "revocation.case"
            | "person.id"
            | "person.case"
            | "access.case"
            | "access.resource"
            | "dossier.case" => Id,
            "agency.state"
            | "user.role"
            | "case.jurisdiction"
            | "evidence.kind"
            | "custody.type"
            | "custody.result"
            | "disclosure.state"
            | "disclosure.handling[]"
            | "disclosure.purposes[]"
            | "access.action"
            | "access.decision"
            | "access.policies[]"
            | "access.purpose"
            | "dossier.purpose" => Code,
            "case.reference" | "evidence.exhibit_number" | "evidence.seal_number" => Label,
            "peer.log" | "peer.seen" => Code,
            "exchange.transfer" | "exchange.case" | "exchange.share" => Id,
            // The other node's log origin, and a refusal's code from the catalogue.
            "exchange.peer" | "exchange.refused" | "dossier.to" => Code,
            "exchange.manifest" | "exchange.root" | "exchange.receipt.leaf" => Hex,
            // Signed checkpoints of a peer (origin, size, root, signatures) and proof hashes:
            // public, and what the evidence is.
            "peer.cosigned" | "peer.offered" | "peer.proof[]" => SignedNote,
            "custody.sha256" => Hex,
            "evidence.collected_at" | "custody.at" | "disclosure.expires" => Time,
            "revocation.reason" | "erasure.legal_reason" => LegacyOrRuleReason,
            _ => return None,
        })
    }

    fn string_members(value: &Value, path: String, out: &mut Vec<String>) {
        match value {
            Value::String(_) => out.push(path),
            Value::Array(items) => {
                for item in items {
                    string_members(item, format!("{path}[]"), out);
                }
            }
            Value::Object(members) => {
                for (name, member) in members {
                    let inner = if path.is_empty() {
                        name.clone()
                    } else {
                        format!("{path}.{name}")
                    };
                    string_members(member, inner, out);
                }
            }
            _ => {}
        }
    }

    /// Walks every string member of every entry kind, with every optional member: each is an
    /// id, a code, a checked label, hex, a time, a commitment's part, or listed as free text
    /// still in clear — a new free-text member cannot slip into the log unnoticed.
    #[test]
    fn every_string_member_is_classified() {
        let mut seen = std::collections::BTreeSet::new();
        for event in every_kind_of_event() {
            let (field, _) = event.field_and_canonical().unwrap();
            let record: Value =
                serde_json::from_str(&event.field_and_canonical().unwrap().1).unwrap();
            let mut paths = Vec::new();
            string_members(&record, field.to_owned(), &mut paths);
            for path in paths {
                let class = classify(&path);
                assert!(
                    class.is_some(),
                    "`{path}` is a string member no one classified: if it is free text that may \
                     name a person, make it a commitment"
                );
                seen.insert((path, class));
            }
        }
        // Every entry of the list is still real (the samples carry every optional member).
        for (path, _) in STILL_IN_CLEAR {
            assert!(
                seen.iter().any(|(p, _)| p == path),
                "`{path}` is listed as free text in clear but no entry has it"
            );
        }
        // Reasons a person states are commitments; only the legacy or rule form is a string.
        for (path, class) in &seen {
            if matches!(class, Some(StringMember::LegacyOrRuleReason)) {
                assert!(path == "revocation.reason" || path == "erasure.legal_reason");
            }
        }
    }

    /// What the sequencer writes from the writer's prepared members equals, byte for byte, the
    /// whole entry canonicalized through `serde_json::Value`.
    #[test]
    fn every_event_kind_prepares_to_the_bytes_of_its_value() {
        for event in every_kind_of_event() {
            let entry = with_event(event);
            let prepared = PreparedEntry::new(&entry.origin, &entry.actor, &entry.event).unwrap();
            assert_eq!(
                String::from_utf8(
                    prepared
                        .bytes(
                            entry.seq,
                            &entry.prev,
                            &entry.time,
                            entry.case_prev.as_ref()
                        )
                        .unwrap()
                )
                .unwrap(),
                String::from_utf8(entry.to_canonical_bytes().unwrap()).unwrap(),
                "{:?}",
                entry.event
            );
        }
    }

    /// The audit's chain check holds for every kind (the `revocation` member sorts between
    /// `prev` and `seq`), and fails for another seq or prev.
    #[test]
    fn every_event_kind_links_to_its_prev_and_seq() {
        for event in every_kind_of_event() {
            for (seq, prev) in [
                (0, [0u8; 32]),
                (41, [0x7f; 32]),
                ((1 << 53) - 1, [0xff; 32]),
            ] {
                let entry = Entry {
                    seq,
                    prev,
                    ..with_event(event.clone())
                };
                let bytes = entry.to_canonical_bytes().unwrap();
                assert!(chain_link_matches(&bytes, seq, &prev), "{:?}", entry.event);
                assert!(!chain_link_matches(&bytes, seq.wrapping_add(1), &prev));
                let mut other = prev;
                other[31] ^= 1;
                assert!(!chain_link_matches(&bytes, seq, &other));
            }
        }
        assert_eq!(skip_object(b"{\"a\":\"}\\\"{\"}x"), Some(&b"x"[..]));
        assert_eq!(skip_object(b"{\"a\":{"), None);
        assert_eq!(skip_object(b"[1]"), None);
    }

    #[test]
    fn entries_round_trip_through_canonical_bytes() {
        let entry = sample();
        let bytes = entry.to_canonical_bytes().unwrap();
        assert!(jcs::is_canonical(&bytes));
        let text = std::str::from_utf8(&bytes).unwrap();
        assert!(text.starts_with("{\"actor\":{"), "{text}");
        assert!(text.contains("\"kind\":\"custody.transferred\""));
        assert_eq!(Entry::parse(&bytes).unwrap(), entry);
        assert!(chain_link_matches(&bytes, 7, &[0xab; 32]));
    }

    #[test]
    fn chain_link_check_fails_on_any_other_link_or_shape() {
        let bytes = sample().to_canonical_bytes().unwrap();
        assert!(!chain_link_matches(&bytes, 8, &[0xab; 32]));
        assert!(!chain_link_matches(&bytes, 70, &[0xab; 32]));
        assert!(!chain_link_matches(&bytes, 7, &[0xac; 32]));
        let text = String::from_utf8(bytes.clone()).unwrap();
        // An escaped look-alike inside a string is not the member.
        let fake = text.replace(
            &format!(",\"prev\":\"{}\"", "ab".repeat(32)),
            &format!(
                ",\"prev\":\"{}\",\"x\":\"\\\",\\\"prev\\\":\\\"{}\"",
                "cd".repeat(32),
                "ab".repeat(32)
            ),
        );
        assert!(!chain_link_matches(fake.as_bytes(), 7, &[0xab; 32]));
        // A user entry: `user` sorts after `time`, and the check still finds the chain.
        let user = with_event(Event::UserRegistered(UserRecord {
            id: "u9".into(),
            role: Role::Prosecutor,
            agency: "tg.justice".into(),
        }));
        let bytes = user.to_canonical_bytes().unwrap();
        assert!(chain_link_matches(&bytes, 7, &[0xab; 32]));
        assert!(!chain_link_matches(&bytes, 7, &[0xaa; 32]));
        assert!(!chain_link_matches(b"}", 7, &[0xab; 32]));
        assert!(!chain_link_matches(b"", 7, &[0xab; 32]));
    }

    /// The audit's parse reads every kind as the dossier verifier's does, and refuses the same
    /// shapes (bytes aside: it does not check canonical form).
    #[test]
    fn every_event_kind_parses_the_same_without_the_canonical_check() {
        for event in every_kind_of_event() {
            let entry = with_event(event);
            let bytes = entry.to_canonical_bytes().unwrap();
            assert_eq!(Entry::parse_content(&bytes).unwrap(), entry);
            assert_eq!(Entry::parse(&bytes).unwrap(), entry);
        }
        let text = String::from_utf8(sample().to_canonical_bytes().unwrap()).unwrap();
        for bad in [
            text.replace("\"kind\":", "\"person\":{\"id\":\"p\",\"case\":\"c\",\"data\":{\"record\":\"r\",\"hmac\":\"00\"}},\"kind\":"),
            text.replace("\"kind\":", "\"extra\":1,\"kind\":"),
            text.replace(&"ab".repeat(32), &"AB".repeat(32)),
            text.replace("\"seq\":7", "\"seq\":7.0"),
            text.replace("custody.transferred", "custody.received"),
        ] {
            assert!(
                matches!(Entry::parse_content(bad.as_bytes()), Err(EntryError::Malformed(_))),
                "{bad}"
            );
            assert!(Entry::parse(bad.as_bytes()).is_err(), "{bad}");
        }
    }

    /// The audit's view of a custody entry reads the same facts as the whole parse, escapes
    /// included; other kinds have none.
    #[test]
    fn the_view_reads_the_facts_the_whole_parse_reads() {
        let mut custody_kinds = 0;
        for event in every_kind_of_event() {
            let entry = with_event(event);
            let bytes = entry.to_canonical_bytes().unwrap();
            let view = EntryView::parse(&bytes).unwrap();
            assert_eq!(
                (view.seq, view.time.as_ref()),
                (entry.seq, entry.time.as_str())
            );
            assert_eq!(view.actor.user, entry.actor.user);
            match &entry.event {
                Event::Custody(record) => {
                    custody_kinds += 1;
                    assert_eq!(view.custody_facts(), Some(record.facts()));
                }
                _ => assert_eq!(view.custody_facts(), None),
            }
        }
        assert!(custody_kinds > 1);
        let mut escaped = sample();
        if let Event::Custody(record) = &mut escaped.event {
            record.item = "i\"1\u{e9}\\".into();
        }
        let bytes = escaped.to_canonical_bytes().unwrap();
        let view = EntryView::parse(&bytes).unwrap();
        assert_eq!(view.custody_facts().map(|f| f.item), Some("i\"1\u{e9}\\"));
        let text = String::from_utf8(bytes).unwrap();
        let lying = text.replace("custody.transferred", "custody.received");
        assert_eq!(
            EntryView::parse(lying.as_bytes()).unwrap().custody_facts(),
            None
        );
    }

    /// Format 2 entries of a case's custody record link to the case's previous entry, and no
    /// other does; format 1 entries never link, and know no `dossier.issued`; no other format.
    #[test]
    fn the_case_link_is_there_exactly_where_the_format_and_kind_say() {
        let parsed = |entry: &Entry| {
            let bytes = entry.to_canonical_bytes().unwrap();
            (Entry::parse(&bytes), Entry::parse_content(&bytes))
        };
        let refused = |entry: &Entry| {
            let (strict, content) = parsed(entry);
            strict.is_err() && content.is_err()
        };
        for event in every_kind_of_event() {
            let entry = with_event(event.clone());
            let (strict, content) = parsed(&entry);
            assert_eq!(strict.unwrap(), entry);
            assert_eq!(content.unwrap(), entry);
            let flipped = Entry {
                case_prev: if entry.case_prev.is_some() {
                    None
                } else {
                    Some(LINK)
                },
                ..entry.clone()
            };
            assert!(refused(&flipped), "{flipped:?}");
            let old = Entry {
                version: FIRST_FORMAT_VERSION,
                case_prev: None,
                ..entry.clone()
            };
            if matches!(
                event,
                Event::DossierIssued(_)
                    | Event::PeerMisbehaved(_)
                    | Event::DossierSent(_)
                    | Event::DossierReceived(_)
                    | Event::DossierRefused(_)
            ) {
                assert!(refused(&old), "{old:?}");
            } else {
                assert_eq!(parsed(&old).0.unwrap(), old);
                let old_linked = Entry {
                    case_prev: Some(LINK),
                    ..old
                };
                assert!(refused(&old_linked), "{old_linked:?}");
            }
        }
        let future = Entry {
            version: 3,
            ..sample()
        };
        assert!(matches!(parsed(&future).0, Err(EntryError::Version(3))));
        let text = String::from_utf8(sample().to_canonical_bytes().unwrap()).unwrap();
        let upper_leaf = text.replace(&"cd".repeat(32), &"CD".repeat(32));
        assert!(Entry::parse(upper_leaf.as_bytes()).is_err());
        let view = EntryView::parse(text.as_bytes()).unwrap();
        assert_eq!((view.v, view.case_prev), (FORMAT_VERSION, Some(LINK)));
    }

    #[test]
    fn parse_rejects_non_canonical_and_mismatched_entries() {
        let bytes = sample().to_canonical_bytes().unwrap();
        let mut spaced = bytes.clone();
        spaced.insert(1, b' ');
        assert!(matches!(
            Entry::parse(&spaced),
            Err(EntryError::NotCanonical)
        ));
        let text = String::from_utf8(bytes).unwrap();
        let wrong_kind = text.replace("custody.transferred", "custody.received");
        assert!(matches!(
            Entry::parse(wrong_kind.as_bytes()),
            Err(EntryError::Malformed(_))
        ));
        let wrong_version = text.replace("\"v\":2", "\"v\":9");
        assert!(matches!(
            Entry::parse(wrong_version.as_bytes()),
            Err(EntryError::Version(9))
        ));
    }
}
