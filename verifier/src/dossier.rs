//! The dossier (DESIGN §5, docs/FORMAT.md): a case's log entries with inclusion proofs to a
//! signed checkpoint, a manifest the node signs to say "these are all of the case's entries",
//! and the commitment openings the recipient may see — and its verification.
//!
//! Verification is pure and shared: `scelle verify` (offline), the tests and the benchmark all
//! call `verify`. It trusts nothing in the file but what the trusted key signed, and it reports
//! every finding, not just the first, so a court report can say exactly what held and what did not.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};

use crate::commitment::{self, Commitment};
use crate::custody::{CustodyError, CustodyState, ProposedEvent};
use crate::entry::{CaseLink, Entry, Event, FORMAT_VERSION};
use crate::i18n::Message;
use crate::merkle::{self, Hash};
use crate::model::{CustodyEventType, IntegrityResult};
use crate::note::{Checkpoint, NoteError, NoteVerifier};
use crate::policy::Policy;
use crate::t;

/// The `format` of the dossiers this version writes and verifies.
pub const DOSSIER_FORMAT: &str = "scelle-dossier/1";

/// First line of a manifest note; never a valid log origin, so a manifest is never a checkpoint.
const MANIFEST_HEADER: &str = "scelle-dossier/1 manifest";

/// A case's dossier, as exported and verified (docs/FORMAT.md).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Dossier {
    /// `scelle-dossier/1`.
    pub format: String,
    /// The log's origin.
    pub origin: String,
    /// The node's verifier key (C2SP signed-note form). Informative, and not read: trust comes
    /// from the keys the verifier is given; this is only shown when none of them fits.
    pub verifier_key: String,
    /// Signed checkpoint note that every inclusion proof leads to.
    pub checkpoint: String,
    /// Signed manifest note: case, checkpoint, and a digest of the list of entries.
    pub manifest: String,
    /// The case it is about.
    pub case: CaseRef,
    /// The case's entries in log order, each with its inclusion proof.
    pub entries: Vec<DossierEntry>,
    /// Openings of the commitments the recipient may see.
    #[serde(default)]
    pub openings: Vec<Opening>,
    /// Proof that it extends a checkpoint the recipient already held, if one was given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consistency: Option<ConsistencyFrom>,
}

/// The case a dossier is about: its id and reference.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseRef {
    /// The case's id.
    pub id: String,
    /// The case reference.
    pub reference: String,
}

/// One log entry of a dossier, with its inclusion proof.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DossierEntry {
    /// The entry's position in the log.
    pub seq: u64,
    /// Base64 of the exact canonical entry bytes.
    pub entry: String,
    /// Base64 of the RFC 9162 leaf hash (informative; recomputed from `entry`).
    pub leaf_hash: String,
    /// RFC 9162 inclusion proof to the checkpoint's size, base64 hashes.
    pub inclusion_proof: Vec<String>,
}

/// An opened commitment: the vault record's value and salt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Opening {
    /// The vault record's id.
    pub record: String,
    /// The commitment's salt, hex.
    pub salt: String,
    /// The committed value (today always a string).
    pub value: Value,
}

/// Proof that the dossier's checkpoint extends one the recipient already held.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsistencyFrom {
    /// The signed checkpoint note the recipient held.
    pub checkpoint: String,
    /// RFC 9162 consistency proof from it to the dossier's checkpoint, base64 hashes.
    pub proof: Vec<String>,
}

/// The manifest's content, signed by the node as a C2SP signed note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    /// The log's origin.
    pub origin: String,
    /// The id of the case the dossier covers.
    pub case_id: String,
    /// The checkpoint's tree size.
    pub tree_size: u64,
    /// The checkpoint's root hash.
    pub root: Hash,
    /// How many entries the dossier holds.
    pub entry_count: u64,
    /// [`Manifest::digest_entries`] over the dossier's entries.
    pub entries_digest: Hash,
}

impl Manifest {
    /// SHA-256 over each entry's 8-byte big-endian `seq` then its 32-byte leaf hash, in order.
    pub fn digest_entries<'a>(entries: impl IntoIterator<Item = (u64, &'a Hash)>) -> Hash {
        let mut h = Sha256::new();
        for (seq, leaf) in entries {
            h.update(seq.to_be_bytes());
            h.update(leaf);
        }
        h.finalize().into()
    }

    /// The manifest's note text.
    pub fn body(&self) -> String {
        format!(
            "{MANIFEST_HEADER}\norigin {}\ncase {}\ncheckpoint {} {}\nentries {} {}\n",
            self.origin,
            self.case_id,
            self.tree_size,
            B64.encode(self.root),
            self.entry_count,
            B64.encode(self.entries_digest)
        )
    }

    /// Parses a manifest's note text; `None` unless it is exactly one.
    pub fn parse_body(text: &str) -> Option<Self> {
        let mut lines = text.strip_suffix('\n')?.split('\n');
        if lines.next()? != MANIFEST_HEADER {
            return None;
        }
        let origin = lines.next()?.strip_prefix("origin ")?.to_owned();
        let case_id = lines.next()?.strip_prefix("case ")?.to_owned();
        let (size, root) = lines.next()?.strip_prefix("checkpoint ")?.split_once(' ')?;
        let (count, digest) = lines.next()?.strip_prefix("entries ")?.split_once(' ')?;
        if lines.next().is_some() {
            return None;
        }
        Some(Self {
            origin,
            case_id,
            tree_size: crate::note::parse_decimal(size)?,
            root: decode_hash(root)?,
            entry_count: crate::note::parse_decimal(count)?,
            entries_digest: decode_hash(digest)?,
        })
    }
}

fn decode_hash(b64: &str) -> Option<Hash> {
    B64.decode(b64).ok()?.try_into().ok()
}

/// One thing the verifier found wrong. `seq` names the entry where it has one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum Finding {
    /// `format` is not `scelle-dossier/1`.
    UnsupportedFormat {
        /// The dossier's `format`, as found.
        format: String,
    },
    /// No trusted key for the origin signed the checkpoint.
    KeyNotTrusted {
        /// The dossier's own verifier key.
        key: String,
    },
    /// A trusted key's signature fails, or the note is not a checkpoint for the origin.
    CheckpointInvalid {
        /// Why the checkpoint was refused.
        reason: String,
    },
    /// The manifest is not signed by the checkpoint's key, or is not a manifest.
    ManifestInvalid {
        /// Why the manifest was refused.
        reason: String,
    },
    /// The manifest disagrees with the dossier.
    ManifestMismatch {
        /// What differs: `origin`, `case`, `checkpoint` or `entries`.
        what: String,
    },
    /// An entry's seq is not greater than the one before it.
    EntriesOutOfOrder {
        /// The entry's seq.
        seq: u64,
    },
    /// An entry's `entry` is not base64.
    EntryUndecodable {
        /// The entry's seq.
        seq: u64,
    },
    /// An entry's `leaf_hash` is not the leaf hash of its bytes.
    LeafHashMismatch {
        /// The entry's seq.
        seq: u64,
    },
    /// An entry's inclusion proof does not lead to the checkpoint's root.
    InclusionProofFails {
        /// The entry's seq.
        seq: u64,
    },
    /// An entry's bytes are not a canonical entry, or give another seq.
    EntryMalformed {
        /// The entry's seq.
        seq: u64,
        /// What is wrong with them.
        reason: String,
    },
    /// An entry's `origin` is not the dossier's.
    EntryOtherLog {
        /// The entry's seq.
        seq: u64,
    },
    /// An entry's `prev` is not the leaf hash of the entry before it.
    PrevLinkBroken {
        /// The entry's seq.
        seq: u64,
    },
    /// No `case.opened` entry for the dossier's case.
    /// No `case.opened` entry of the dossier's case.
    CaseMissing,
    /// The dossier names its case by another reference than the signed opening does.
    CaseReferenceMismatch {
        /// The reference the dossier's unsigned header claims.
        claimed: String,
        /// The reference in the signed `case.opened` entry.
        signed: String,
    },
    /// An entry that is not the case's opening, or a registration or custody event in it.
    ForeignEntry {
        /// The entry's seq.
        seq: u64,
    },
    /// A custody event's item, or a registration's parent, not registered earlier.
    UnknownItem {
        /// The entry's seq.
        seq: u64,
        /// The unknown item's id.
        item: String,
    },
    /// A custody event that breaks the custody state machine.
    CustodyViolation {
        /// The entry's seq.
        seq: u64,
        /// The item's id.
        item: String,
        /// The rule broken, as [`custody_rule_code`] names it.
        rule: String,
    },
    /// A correction whose `amends` names no earlier event of the same item.
    AmendsUnknownEvent {
        /// The entry's seq.
        seq: u64,
        /// The event id it names.
        event: String,
    },
    /// An opening that does not check out against its commitment.
    OpeningFails {
        /// The opening's vault record id.
        record: String,
    },
    /// An opening that names no commitment of the dossier's entries.
    OpeningUnknown {
        /// The opening's vault record id.
        record: String,
    },
    /// The earlier checkpoint or the consistency proof from it does not verify.
    ConsistencyFails {
        /// Why it fails.
        reason: String,
    },
    /// A format-2 entry of the case's custody record that does not link to the entry before it
    /// in the dossier: an entry of the case was left out before it (DESIGN §8).
    CaseChainBroken {
        /// The entry's seq.
        seq: u64,
    },
    /// The dossier's last entry is not the `dossier.issued` entry of its case: its end may have
    /// been cut off.
    DossierNotIssued,
    /// A policy was given (`--policy`) and the checkpoint does not satisfy it: not signed by
    /// one of its logs, or not cosigned by a quorum of its witnesses (another view of the log
    /// may have been shown to this reader alone).
    CheckpointNotCosigned {
        /// Why it does not.
        reason: String,
    },
    /// A second `case.opened` of the case.
    CaseOpenedTwice {
        /// The entry's seq.
        seq: u64,
    },
    /// A second `evidence.registered` of the same item.
    ItemRegisteredTwice {
        /// The entry's seq.
        seq: u64,
        /// The item's id.
        item: String,
    },
    /// An integrity check whose result is not what its hash says against the registered one.
    IntegrityResultWrong {
        /// The entry's seq.
        seq: u64,
        /// The item's id.
        item: String,
    },
    /// The checkpoint the recipient holds (`--known-checkpoint`) is not one of this log's, or
    /// has another root at the dossier's size: the log forked.
    KnownCheckpointInvalid {
        /// Why it was refused.
        reason: String,
    },
    /// The recipient holds a newer checkpoint than the dossier's: later events of the case may
    /// exist that the dossier does not show.
    OlderThanKnownCheckpoint {
        /// The size of the checkpoint the recipient holds.
        known: u64,
        /// The size of the dossier's checkpoint.
        dossier: u64,
    },
    /// The dossier carries no consistency proof from the checkpoint the recipient holds.
    KnownCheckpointNotProven {
        /// The size of the checkpoint the recipient holds.
        known: u64,
    },
    /// A file given whose SHA-256 is no registered item's.
    FileNotRegistered {
        /// The file's name, as given.
        file: String,
        /// The file's SHA-256, lowercase hex.
        sha256: String,
    },
}

/// What the verifier could establish about one evidence item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ItemVerdict {
    /// The item's id.
    pub id: String,
    /// The exhibit number.
    pub exhibit_number: String,
    /// The seal number.
    pub seal_number: String,
    /// The evidence kind (`device`, `forensic_image`, …).
    pub kind: String,
    /// The registered SHA-256, lowercase hex.
    pub sha256: String,
    /// SHA-512, SHA-1, MD5 as registered for tool compatibility: (algorithm, hex).
    pub other_hashes: Vec<(String, String)>,
    /// The seq of its `evidence.registered` entry.
    pub registered_seq: u64,
    /// The id of the item it was copied or imaged from.
    pub parent: Option<String>,
    /// The vault record of its description.
    pub description_record: Option<String>,
    /// The vault record of where it was collected.
    pub location_record: Option<String>,
    /// Its registration, then its custody events, in log order.
    pub events: Vec<TimelineEvent>,
    /// Holder and status after the last event, when the custody story replayed cleanly.
    pub holder: String,
    /// `in_custody`, `in_transit`, `returned` or `destroyed`.
    pub status: String,
    /// Whether every custody event replayed without breaking a rule.
    pub custody_unbroken: bool,
    /// Whether an integrity check recorded a hash that differs from the registered one.
    pub integrity_mismatch_recorded: bool,
    /// Files given to the verifier whose SHA-256 is this item's.
    pub matching_files: Vec<String>,
}

/// One event of an item's custody story, as the report shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TimelineEvent {
    /// The entry's seq.
    pub seq: u64,
    /// `registered`, or the custody event type.
    pub event_type: String,
    /// The id of the user who recorded it.
    pub actor: String,
    /// When it happened, RFC 3339 with its zone.
    pub at: String,
    /// When the log recorded it (RFC 3339, UTC).
    pub recorded_at: String,
    /// The receiving user's id (`transferred`).
    pub to_user: Option<String>,
    /// The tool, the integrity check's result or the seal's state, as the event type has it.
    pub detail: Option<String>,
    /// Vault records of the place and reason (their text is in `Report::opened` if opened).
    pub place_record: Option<String>,
    /// The vault record of the reason.
    pub reason_record: Option<String>,
}

/// What `verify` established about a dossier, and every finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    /// Whether there is no finding.
    pub ok: bool,
    /// The dossier's origin.
    pub origin: String,
    /// The id of the trusted key that signed the checkpoint, hex.
    pub key_id: String,
    /// The case's id.
    pub case_id: String,
    /// The case reference.
    pub case_reference: String,
    /// The checkpoint's tree size.
    pub tree_size: u64,
    /// The checkpoint's root hash, base64.
    pub root: String,
    /// Entries in the dossier.
    pub entries: u64,
    /// Openings that checked out against their commitments.
    pub openings_checked: u64,
    /// Clear values of the commitments whose openings checked out, by vault record.
    pub opened: BTreeMap<String, Value>,
    /// The size of the earlier checkpoint the dossier proved it extends.
    pub consistent_with_earlier: Option<u64>,
    /// The witnesses (names in the policy given) whose cosignatures on the checkpoint verified,
    /// with their times (Unix seconds); empty when no policy was given.
    pub cosigned_by: Vec<Cosigned>,
    /// As of when the dossier speaks: its own `dossier.issued` entry, the case's newest when it
    /// was issued. Events after it are not in the dossier.
    pub as_of: Option<AsOf>,
    /// What the links between the case's entries prove about what is left out.
    pub completeness: Completeness,
    /// Where earlier dossiers of the case went: each `dossier.sent` of its record, with the
    /// receiver's entry it names.
    pub sent_to: Vec<SentTo>,
    /// The case, as its `case.opened` entry records it.
    pub case: Option<CaseSummary>,
    /// What could be established about each item, in the order they were registered.
    pub items: Vec<ItemVerdict>,
    /// Every problem found.
    pub findings: Vec<Finding>,
}

/// One witness's verified cosignature on the dossier's checkpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Cosigned {
    /// The witness's name in the policy.
    pub witness: String,
    /// When it cosigned (Unix seconds).
    pub time: u64,
}

/// A dossier of the case delivered to a peer, as its `dossier.sent` entry records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SentTo {
    /// The `dossier.sent` entry.
    pub seq: u64,
    /// The receiver's log origin.
    pub peer: String,
    /// The transfer's id.
    pub transfer: String,
    /// The receiver's `dossier.received` entry.
    pub received_seq: Option<u64>,
}

/// The moment a dossier speaks of: its `dossier.issued` entry and the checkpoint it is proved to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AsOf {
    /// The seq of the `dossier.issued` entry.
    pub seq: u64,
    /// When the log recorded it (RFC 3339, UTC): signed, through the entry's inclusion proof.
    pub time: String,
    /// The size of the checkpoint the dossier is proved to.
    pub tree_size: u64,
}

/// What a dossier's links prove about entries of the case left out (DESIGN §8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "proven", rename_all = "snake_case")]
pub enum Completeness {
    /// Every entry of the case's custody record after its opening links to the one before it,
    /// up to the dossier's own issue: none was left out.
    Whole,
    /// From entry `seq` on (entries before it were written in format 1, with no links).
    From {
        /// The first entry of the part proven whole.
        seq: u64,
    },
    /// Nothing: entries of format 1 only, or links that break (see the findings).
    Nothing,
}

/// A case as its `case.opened` entry records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CaseSummary {
    /// The case reference.
    pub reference: String,
    /// The state whose law applies (`BJ`, `BF`, `CI`, `NE` or `TG`).
    pub jurisdiction: String,
    /// The offence.
    pub offence: String,
    /// The requisition or warrant the case rests on.
    pub legal_basis: String,
    /// The id of the agency that opened it.
    pub agency: String,
    /// When the log recorded the opening (RFC 3339, UTC).
    pub opened_at: String,
    /// The title, if its commitment was opened and checks out.
    pub title: Option<String>,
}

/// A file the caller hashed, by the name it gave.
pub struct FileDigest {
    /// The file's name, as the caller gave it.
    pub name: String,
    /// The file's SHA-256.
    pub sha256: Hash,
}

/// Verifies `dossier` against `trusted` keys (at least one must have signed it) and optional
/// file digests. Everything is checked and every finding reported; `Report::ok` is true only
/// when there are none.
pub fn verify(dossier: &Dossier, trusted: &[NoteVerifier], files: &[FileDigest]) -> Report {
    verify_against(dossier, trusted, files, None)
}

/// [`verify`], and, given the signed checkpoint the recipient already holds (`known`), that the
/// dossier is proved consistent with it and no older than it.
pub fn verify_against(
    dossier: &Dossier,
    trusted: &[NoteVerifier],
    files: &[FileDigest],
    known: Option<&str>,
) -> Report {
    verify_with_policy(dossier, trusted, files, known, None)
}

/// [`verify_against`], and, given a C2SP tlog-policy (the Entente's peers and quorum), that
/// the checkpoint is signed by one of its logs (which are then trusted keys too) and cosigned
/// by a quorum of its witnesses.
pub fn verify_with_policy(
    dossier: &Dossier,
    trusted: &[NoteVerifier],
    files: &[FileDigest],
    known: Option<&str>,
    policy: Option<&Policy>,
) -> Report {
    let mut trusted = trusted.to_vec();
    if let Some(policy) = policy {
        trusted.extend(policy.logs().iter().map(|log| log.key.clone()));
    }
    let trusted = trusted.as_slice();
    let mut findings = Vec::new();
    let mut report = Report {
        ok: false,
        origin: dossier.origin.clone(),
        key_id: String::new(),
        case_id: dossier.case.id.clone(),
        case_reference: dossier.case.reference.clone(),
        tree_size: 0,
        root: String::new(),
        entries: dossier.entries.len() as u64,
        openings_checked: 0,
        opened: BTreeMap::new(),
        consistent_with_earlier: None,
        cosigned_by: Vec::new(),
        as_of: None,
        completeness: Completeness::Nothing,
        sent_to: Vec::new(),
        case: None,
        items: Vec::new(),
        findings: Vec::new(),
    };
    if dossier.format != DOSSIER_FORMAT {
        findings.push(Finding::UnsupportedFormat {
            format: dossier.format.clone(),
        });
        report.findings = findings;
        return report;
    }

    // 1. The checkpoint, signed by a trusted key for this origin.
    let Some((verifier, checkpoint)) = open_checkpoint(dossier, trusted, &mut findings) else {
        report.findings = findings;
        return report;
    };
    report.key_id = verifier.key_id_hex();
    report.tree_size = checkpoint.size;
    report.root = B64.encode(checkpoint.root);
    if let Some(policy) = policy {
        match policy.verify(&dossier.checkpoint) {
            Ok(cosigned) => {
                report.cosigned_by = cosigned
                    .cosigned_by
                    .into_iter()
                    .map(|(witness, time)| Cosigned { witness, time })
                    .collect();
            }
            Err(e) => findings.push(Finding::CheckpointNotCosigned {
                reason: e.to_string(),
            }),
        }
    }

    // 2. Each entry: bytes, leaf hash, inclusion proof, form, origin, order.
    let decoded = check_entries(dossier, &checkpoint, &mut findings);

    // 3. The manifest: the node's word that these are all of the case's entries.
    check_manifest(dossier, &verifier, &checkpoint, &decoded, &mut findings);

    // 4. `prev` links between consecutive entries.
    let leaves: HashMap<u64, Hash> = decoded.iter().map(|d| (d.seq, d.leaf)).collect();
    for d in &decoded {
        if let (Some(entry), Some(prev_leaf)) =
            (&d.entry, d.seq.checked_sub(1).and_then(|p| leaves.get(&p)))
            && entry.prev != *prev_leaf
        {
            findings.push(Finding::PrevLinkBroken { seq: d.seq });
        }
    }

    // 5. The case's custody record: each entry links to the one before, to its own issue.
    check_case_record(dossier, &decoded, &checkpoint, &mut report, &mut findings);

    // 6. The custody story and the commitments.
    let commitments = replay(dossier, &decoded, &mut report, &mut findings);
    check_openings(dossier, &commitments, &mut report, &mut findings);

    // 7. Consistency with a checkpoint the recipient already held.
    let mut proved_from = None;
    if let Some(from) = &dossier.consistency {
        match check_consistency(from, &verifier, dossier, &checkpoint) {
            Ok(old) => {
                report.consistent_with_earlier = Some(old.size);
                proved_from = Some(old);
            }
            Err(reason) => findings.push(Finding::ConsistencyFails { reason }),
        }
    }
    if let Some(known) = known {
        check_known(
            known,
            &verifier,
            dossier,
            &checkpoint,
            proved_from.as_ref(),
            &mut findings,
        );
    }

    // 8. Files: each must be a registered item.
    for file in files {
        let hex = hex::encode(file.sha256);
        let mut matched = false;
        for item in report.items.iter_mut().filter(|i| i.sha256 == hex) {
            item.matching_files.push(file.name.clone());
            matched = true;
        }
        if !matched {
            findings.push(Finding::FileNotRegistered {
                file: file.name.clone(),
                sha256: hex,
            });
        }
    }

    report.ok = findings.is_empty();
    report.findings = findings;
    report
}

fn open_checkpoint(
    dossier: &Dossier,
    trusted: &[NoteVerifier],
    findings: &mut Vec<Finding>,
) -> Option<(NoteVerifier, Checkpoint)> {
    let candidates: Vec<&NoteVerifier> = trusted
        .iter()
        .filter(|k| k.name() == dossier.origin)
        .collect();
    if candidates.is_empty() {
        findings.push(Finding::KeyNotTrusted {
            key: dossier.verifier_key.clone(),
        });
        return None;
    }
    let mut last_error = String::new();
    for key in candidates {
        match Checkpoint::open(&dossier.checkpoint, key, &dossier.origin) {
            Ok(cp) => return Some((key.clone(), cp)),
            Err(NoteError::NotSignedBy(_)) => {}
            Err(e) => last_error = e.to_string(),
        }
    }
    if last_error.is_empty() {
        findings.push(Finding::KeyNotTrusted {
            key: dossier.verifier_key.clone(),
        });
    } else {
        findings.push(Finding::CheckpointInvalid { reason: last_error });
    }
    None
}

struct Decoded {
    seq: u64,
    leaf: Hash,
    entry: Option<Entry>,
}

fn check_entries(
    dossier: &Dossier,
    checkpoint: &Checkpoint,
    findings: &mut Vec<Finding>,
) -> Vec<Decoded> {
    // Entries are independent until the replay: both cores check them.
    let (first, second) = dossier.entries.split_at(dossier.entries.len() / 2);
    let check_all = |part: &[DossierEntry]| -> Vec<(Option<Decoded>, Vec<Finding>)> {
        part.iter()
            .map(|e| check_entry(e, dossier, checkpoint))
            .collect()
    };
    let results = std::thread::scope(|scope| {
        let other = scope.spawn(|| check_all(second));
        let mut out = check_all(first);
        match other.join() {
            Ok(rest) => out.extend(rest),
            Err(_) => out.extend(check_all(second)),
        }
        out
    });
    let mut decoded = Vec::with_capacity(results.len());
    let mut last_seq: Option<u64> = None;
    for (d, f) in results {
        findings.extend(f);
        if let Some(d) = d {
            if last_seq.is_some_and(|last| d.seq <= last) {
                findings.push(Finding::EntriesOutOfOrder { seq: d.seq });
            }
            last_seq = Some(d.seq);
            decoded.push(d);
        }
    }
    decoded
}

fn check_entry(
    e: &DossierEntry,
    dossier: &Dossier,
    checkpoint: &Checkpoint,
) -> (Option<Decoded>, Vec<Finding>) {
    let mut findings = Vec::new();
    let seq = e.seq;
    let Ok(bytes) = B64.decode(&e.entry) else {
        findings.push(Finding::EntryUndecodable { seq });
        return (None, findings);
    };
    let leaf = merkle::leaf_hash(&bytes);
    if decode_hash(&e.leaf_hash) != Some(leaf) {
        findings.push(Finding::LeafHashMismatch { seq });
    }
    let proof: Option<Vec<Hash>> = e.inclusion_proof.iter().map(|h| decode_hash(h)).collect();
    let included = proof.is_some_and(|p| {
        merkle::verify_inclusion(seq, checkpoint.size, &leaf, &p, &checkpoint.root).is_ok()
    });
    if !included {
        findings.push(Finding::InclusionProofFails { seq });
    }
    let entry = match Entry::parse(&bytes) {
        Ok(entry) => {
            if entry.seq != seq {
                findings.push(Finding::EntryMalformed {
                    seq,
                    reason: format!("entry bytes say seq {}", entry.seq),
                });
            }
            if entry.origin != dossier.origin {
                findings.push(Finding::EntryOtherLog { seq });
            }
            Some(entry)
        }
        Err(err) => {
            findings.push(Finding::EntryMalformed {
                seq,
                reason: err.to_string(),
            });
            None
        }
    };
    (Some(Decoded { seq, leaf, entry }), findings)
}

fn check_manifest(
    dossier: &Dossier,
    verifier: &NoteVerifier,
    checkpoint: &Checkpoint,
    decoded: &[Decoded],
    findings: &mut Vec<Finding>,
) {
    let text = match verifier.open(&dossier.manifest) {
        Ok(text) => text,
        Err(e) => {
            findings.push(Finding::ManifestInvalid {
                reason: e.to_string(),
            });
            return;
        }
    };
    let Some(manifest) = Manifest::parse_body(text) else {
        findings.push(Finding::ManifestInvalid {
            reason: "not a scelle-dossier/1 manifest".into(),
        });
        return;
    };
    let mut mismatch = |what: &str| {
        findings.push(Finding::ManifestMismatch { what: what.into() });
    };
    if manifest.origin != dossier.origin {
        mismatch("origin");
    }
    if manifest.case_id != dossier.case.id {
        mismatch("case");
    }
    if manifest.tree_size != checkpoint.size || manifest.root != checkpoint.root {
        mismatch("checkpoint");
    }
    let digest = Manifest::digest_entries(decoded.iter().map(|d| (d.seq, &d.leaf)));
    if manifest.entry_count != dossier.entries.len() as u64 || manifest.entries_digest != digest {
        mismatch("entries");
    }
}

/// Replays the case's entries: the case, each item's registration and custody events through
/// the same state machine the node enforces. Returns the commitments the entries hold.
fn replay(
    dossier: &Dossier,
    decoded: &[Decoded],
    report: &mut Report,
    findings: &mut Vec<Finding>,
) -> Commitments {
    let mut commitments: HashMap<String, String> = HashMap::new();
    let mut note = |c: &Option<Commitment>| {
        if let Some(c) = c {
            commitments.insert(c.record.clone(), c.hmac.clone());
        }
    };
    let mut items: BTreeMap<String, (ItemVerdict, CustodyState)> = BTreeMap::new();
    let mut order: Vec<String> = Vec::new();
    let mut event_items: HashMap<String, String> = HashMap::new();
    let mut case_title_record = None;
    for d in decoded {
        let Some(entry) = &d.entry else { continue };
        let seq = d.seq;
        match &entry.event {
            Event::CaseOpened(case) if case.id == dossier.case.id => {
                if report.case.is_some() {
                    findings.push(Finding::CaseOpenedTwice { seq });
                    continue;
                }
                note(&case.title);
                note(&case.jurisdiction_basis);
                // The reference shown is the signed one; the dossier's own claim must agree.
                if case.reference != dossier.case.reference {
                    findings.push(Finding::CaseReferenceMismatch {
                        claimed: dossier.case.reference.clone(),
                        signed: case.reference.clone(),
                    });
                }
                report.case_reference = case.reference.clone();
                case_title_record = case.title.as_ref().map(|t| t.record.clone());
                report.case = Some(CaseSummary {
                    reference: case.reference.clone(),
                    jurisdiction: case.jurisdiction.as_str().to_owned(),
                    offence: case.offence.clone(),
                    legal_basis: case.legal_basis.clone(),
                    agency: case.agency.clone(),
                    opened_at: entry.time.clone(),
                    title: None,
                });
            }
            Event::EvidenceRegistered(ev) if ev.case == dossier.case.id => {
                if items.contains_key(&ev.id) {
                    findings.push(Finding::ItemRegisteredTwice {
                        seq,
                        item: ev.id.clone(),
                    });
                    continue;
                }
                note(&ev.description);
                note(&ev.location);
                if let Some(parent) = &ev.parent
                    && !items.contains_key(parent)
                {
                    findings.push(Finding::UnknownItem {
                        seq,
                        item: parent.clone(),
                    });
                }
                let verdict = ItemVerdict {
                    id: ev.id.clone(),
                    exhibit_number: ev.exhibit_number.clone(),
                    seal_number: ev.seal_number.clone(),
                    kind: ev.kind.as_str().to_owned(),
                    sha256: ev.hashes.sha256.clone(),
                    other_hashes: [
                        ("SHA-512", &ev.hashes.sha512),
                        ("SHA-1", &ev.hashes.sha1),
                        ("MD5", &ev.hashes.md5),
                    ]
                    .into_iter()
                    .filter_map(|(name, h)| h.as_ref().map(|h| (name.to_owned(), h.clone())))
                    .collect(),
                    registered_seq: seq,
                    parent: ev.parent.clone(),
                    description_record: ev.description.as_ref().map(|c| c.record.clone()),
                    location_record: ev.location.as_ref().map(|c| c.record.clone()),
                    events: vec![TimelineEvent {
                        seq,
                        event_type: "registered".into(),
                        actor: entry.actor.user.clone(),
                        at: ev.collected_at.clone(),
                        recorded_at: entry.time.clone(),
                        to_user: None,
                        detail: ev.acquisition.as_ref().map(|a| a.tool.clone()),
                        place_record: ev.location.as_ref().map(|c| c.record.clone()),
                        reason_record: None,
                    }],
                    holder: entry.actor.user.clone(),
                    status: "in_custody".into(),
                    custody_unbroken: true,
                    integrity_mismatch_recorded: false,
                    matching_files: Vec::new(),
                };
                order.push(ev.id.clone());
                items.insert(
                    ev.id.clone(),
                    (verdict, CustodyState::registered(&entry.actor.user)),
                );
            }
            Event::Custody(ev) if ev.case == dossier.case.id => {
                note(&ev.place);
                note(&ev.reason);
                let Some((verdict, state)) = items.get_mut(&ev.item) else {
                    findings.push(Finding::UnknownItem {
                        seq,
                        item: ev.item.clone(),
                    });
                    continue;
                };
                if let Some(amended) = &ev.amends
                    && event_items.get(amended) != Some(&ev.item)
                {
                    findings.push(Finding::AmendsUnknownEvent {
                        seq,
                        event: amended.clone(),
                    });
                }
                event_items.insert(ev.id.clone(), ev.item.clone());
                verdict.events.push(TimelineEvent {
                    seq,
                    event_type: ev.event_type.as_str().to_owned(),
                    actor: entry.actor.user.clone(),
                    at: ev.at.clone(),
                    recorded_at: entry.time.clone(),
                    to_user: ev.to_user.clone(),
                    detail: custody_detail(
                        ev.event_type,
                        ev.tool.as_deref(),
                        ev.result,
                        ev.seal_intact,
                    ),
                    place_record: ev.place.as_ref().map(|c| c.record.clone()),
                    reason_record: ev.reason.as_ref().map(|c| c.record.clone()),
                });
                if ev.result == Some(IntegrityResult::Mismatch) {
                    verdict.integrity_mismatch_recorded = true;
                }
                // The result an integrity check records is what its hash says.
                if let Some(found) = &ev.sha256
                    && ev.result
                        != Some(if *found == verdict.sha256 {
                            IntegrityResult::Match
                        } else {
                            IntegrityResult::Mismatch
                        })
                {
                    findings.push(Finding::IntegrityResultWrong {
                        seq,
                        item: ev.item.clone(),
                    });
                }
                if !verdict.custody_unbroken {
                    continue;
                }
                let proposed = ProposedEvent {
                    event_id: &ev.id,
                    actor: &entry.actor.user,
                    event_type: ev.event_type,
                    to_user: ev.to_user.as_deref(),
                };
                match state.apply(&proposed) {
                    Ok(next) => {
                        verdict.holder = next.holder.clone();
                        verdict.status = next.status.as_str().to_owned();
                        *state = next;
                    }
                    Err(rule) => {
                        verdict.custody_unbroken = false;
                        findings.push(Finding::CustodyViolation {
                            seq,
                            item: ev.item.clone(),
                            rule: custody_rule_code(&rule).into(),
                        });
                    }
                }
            }
            // Its place and the links are checked with the case's record.
            Event::DossierIssued(issued) if issued.case == dossier.case.id => {}
            // Where the case went before (a peer's receipt): part of its record, nothing to replay.
            Event::DossierSent(sent) if sent.case == dossier.case.id => {
                report.sent_to.push(SentTo {
                    seq,
                    peer: sent.peer.clone(),
                    transfer: sent.transfer.clone(),
                    received_seq: sent.receipt.map(|r| r.seq),
                });
            }
            _ => findings.push(Finding::ForeignEntry { seq }),
        }
    }
    if report.case.is_none() {
        findings.push(Finding::CaseMissing);
    }
    report.items = order
        .into_iter()
        .filter_map(|id| items.remove(&id).map(|(v, _)| v))
        .collect();
    Commitments {
        hmac_by_record: commitments,
        case_title_record,
    }
}

fn custody_detail(
    t: CustodyEventType,
    tool: Option<&str>,
    result: Option<IntegrityResult>,
    seal_intact: Option<bool>,
) -> Option<String> {
    match t {
        CustodyEventType::IntegrityChecked => result.map(|r| r.as_str().to_owned()),
        CustodyEventType::Received => {
            seal_intact.map(|s| if s { "seal_intact" } else { "seal_broken" }.to_owned())
        }
        _ => tool.map(str::to_owned),
    }
}

/// A value as a verdict may show it: control and bidirectional characters escaped (`\n`,
/// `\u{202e}`), so that no value can write a line or reorder what a reader sees.
pub fn shown(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        let bidi = matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}');
        if c.is_control() || bidi {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// A stable code for a custody rule, for the report and the bilingual text.
pub fn custody_rule_code(e: &CustodyError) -> &'static str {
    match e {
        CustodyError::NotHolder => "not_holder",
        CustodyError::Destroyed => "after_destruction",
        CustodyError::Returned => "after_return",
        CustodyError::InTransit => "in_transit",
        CustodyError::NoPendingTransfer => "no_pending_transfer",
        CustodyError::NotRecipient => "not_recipient",
        CustodyError::BadRecipient => "bad_recipient",
    }
}

/// The words for a custody rule's code, as a finding shows it ("event …").
fn custody_rule_message(code: &str) -> Message {
    match code {
        "not_holder" => t!("custody-rule-not-holder"),
        "after_destruction" => t!("custody-rule-after-destruction"),
        "after_return" => t!("custody-rule-after-return"),
        "in_transit" => t!("custody-rule-in-transit"),
        "no_pending_transfer" => t!("custody-rule-no-pending-transfer"),
        "not_recipient" => t!("custody-rule-not-recipient"),
        _ => t!("custody-rule-bad-recipient"),
    }
}

impl Finding {
    /// What the finding means, for a person (text verdict, JSON report, court report).
    pub fn message(&self) -> Message {
        use Finding as F;
        match self {
            F::UnsupportedFormat { format } => {
                t!("finding-unsupported-format", format = shown(format))
            }
            F::KeyNotTrusted { key } => t!("finding-key-not-trusted", key = shown(key)),
            F::CheckpointInvalid { reason } => {
                t!("finding-checkpoint-invalid", reason = shown(reason))
            }
            F::ManifestInvalid { reason } => t!("finding-manifest-invalid", reason = shown(reason)),
            F::ManifestMismatch { what } => t!("finding-manifest-mismatch", what = shown(what)),
            F::EntriesOutOfOrder { seq } => t!("finding-entries-out-of-order", seq = seq),
            F::EntryUndecodable { seq } => t!("finding-entry-undecodable", seq = seq),
            F::LeafHashMismatch { seq } => t!("finding-leaf-hash-mismatch", seq = seq),
            F::InclusionProofFails { seq } => t!("finding-inclusion-proof-fails", seq = seq),
            F::EntryMalformed { seq, reason } => {
                t!("finding-entry-malformed", seq = seq, reason = shown(reason))
            }
            F::EntryOtherLog { seq } => t!("finding-entry-other-log", seq = seq),
            F::PrevLinkBroken { seq } => t!("finding-prev-link-broken", seq = seq),
            F::CaseMissing => t!("finding-case-missing"),
            F::CaseReferenceMismatch { claimed, signed } => t!(
                "finding-case-reference-mismatch",
                claimed = shown(claimed),
                signed = shown(signed)
            ),
            F::ForeignEntry { seq } => t!("finding-foreign-entry", seq = seq),
            F::UnknownItem { seq, item } => {
                t!("finding-unknown-item", seq = seq, item = shown(item))
            }
            F::CustodyViolation { seq, item, rule } => {
                t!("finding-custody-violation", seq = seq, item = shown(item))
                    .nested("rule", custody_rule_message(rule))
            }
            F::AmendsUnknownEvent { seq, event } => {
                t!(
                    "finding-amends-unknown-event",
                    seq = seq,
                    event = shown(event)
                )
            }
            F::OpeningFails { record } => t!("finding-opening-fails", record = shown(record)),
            F::OpeningUnknown { record } => t!("finding-opening-unknown", record = shown(record)),
            F::ConsistencyFails { reason } => {
                t!("finding-consistency-fails", reason = shown(reason))
            }
            F::CaseChainBroken { seq } => t!("finding-case-chain-broken", seq = seq),
            F::DossierNotIssued => t!("finding-dossier-not-issued"),
            F::CheckpointNotCosigned { reason } => {
                t!("finding-checkpoint-not-cosigned", reason = shown(reason))
            }
            F::CaseOpenedTwice { seq } => t!("finding-case-opened-twice", seq = seq),
            F::ItemRegisteredTwice { seq, item } => {
                t!(
                    "finding-item-registered-twice",
                    seq = seq,
                    item = shown(item)
                )
            }
            F::IntegrityResultWrong { seq, item } => {
                t!(
                    "finding-integrity-result-wrong",
                    seq = seq,
                    item = shown(item)
                )
            }
            F::KnownCheckpointInvalid { reason } => {
                t!("finding-known-checkpoint-invalid", reason = shown(reason))
            }
            F::OlderThanKnownCheckpoint { known, dossier } => t!(
                "finding-older-than-known-checkpoint",
                known = known,
                dossier = dossier
            ),
            F::KnownCheckpointNotProven { known } => {
                t!("finding-known-checkpoint-not-proven", known = known)
            }
            F::FileNotRegistered { file, sha256 } => {
                t!(
                    "finding-file-not-registered",
                    file = shown(file),
                    sha256 = shown(sha256)
                )
            }
        }
    }
}

/// The commitments a dossier's entries hold, by vault record id.
struct Commitments {
    hmac_by_record: HashMap<String, String>,
    case_title_record: Option<String>,
}

fn check_openings(
    dossier: &Dossier,
    commitments: &Commitments,
    report: &mut Report,
    findings: &mut Vec<Finding>,
) {
    for opening in &dossier.openings {
        let Some(hmac) = commitments.hmac_by_record.get(&opening.record) else {
            findings.push(Finding::OpeningUnknown {
                record: opening.record.clone(),
            });
            continue;
        };
        // Lowercase hex, as everywhere in the format (docs/FORMAT.md §4).
        let salt = crate::entry::lowercase_hex(&opening.salt).unwrap_or_default();
        if commitment::verify_opening(hmac, &salt, &opening.value) {
            report.openings_checked += 1;
            report
                .opened
                .insert(opening.record.clone(), opening.value.clone());
            if commitments.case_title_record.as_deref() == Some(opening.record.as_str())
                && let (Some(case), Value::String(title)) = (report.case.as_mut(), &opening.value)
            {
                case.title = Some(title.clone());
            }
        } else {
            findings.push(Finding::OpeningFails {
                record: opening.record.clone(),
            });
        }
    }
}

fn check_consistency(
    from: &ConsistencyFrom,
    verifier: &NoteVerifier,
    dossier: &Dossier,
    checkpoint: &Checkpoint,
) -> Result<Checkpoint, String> {
    let old =
        Checkpoint::open(&from.checkpoint, verifier, &dossier.origin).map_err(|e| e.to_string())?;
    let proof: Vec<Hash> = from
        .proof
        .iter()
        .map(|h| decode_hash(h).ok_or_else(|| "bad proof hash".to_owned()))
        .collect::<Result<_, _>>()?;
    merkle::verify_consistency(
        old.size,
        checkpoint.size,
        &old.root,
        &checkpoint.root,
        &proof,
    )
    .map_err(|e| e.to_string())?;
    Ok(old)
}

/// The checkpoint the recipient holds: one of this log's, no newer than the dossier's, and the
/// same as the dossier's or proved to be extended by it.
fn check_known(
    known: &str,
    verifier: &NoteVerifier,
    dossier: &Dossier,
    checkpoint: &Checkpoint,
    proved_from: Option<&Checkpoint>,
    findings: &mut Vec<Finding>,
) {
    let known = match Checkpoint::open(known, verifier, &dossier.origin) {
        Ok(known) => known,
        Err(e) => {
            findings.push(Finding::KnownCheckpointInvalid {
                reason: e.to_string(),
            });
            return;
        }
    };
    if known.size > checkpoint.size {
        findings.push(Finding::OlderThanKnownCheckpoint {
            known: known.size,
            dossier: checkpoint.size,
        });
    } else if known.size == checkpoint.size {
        if known.root != checkpoint.root {
            findings.push(Finding::KnownCheckpointInvalid {
                reason: format!("another root at size {}: the log forked", known.size),
            });
        }
    } else if !proved_from.is_some_and(|old| old.size == known.size && old.root == known.root) {
        findings.push(Finding::KnownCheckpointNotProven { known: known.size });
    }
}

/// The case's custody record as the dossier holds it (DESIGN §8): from format 2 on, each of the
/// case's entries but its opening links to the case's entry before it, which must be the
/// dossier's entry before it — so one left out in the middle breaks a link — and the last is the
/// dossier's own `dossier.issued`, which the node recorded before exporting — so the end cannot
/// be cut unseen.
fn check_case_record(
    dossier: &Dossier,
    decoded: &[Decoded],
    checkpoint: &Checkpoint,
    report: &mut Report,
    findings: &mut Vec<Finding>,
) {
    let case = dossier.case.id.as_str();
    let mut newest: Option<CaseLink> = None;
    let mut proven_from: Option<u64> = None;
    let mut unlinked = false;
    let mut broken = false;
    let mut any_linked = false;
    let mut last: Option<(&Decoded, &Entry)> = None;
    for d in decoded {
        let Some(entry) = &d.entry else { continue };
        if entry.event.case_chain() != Some(case) {
            continue;
        }
        if entry.version >= FORMAT_VERSION && entry.event.links_to_case() {
            any_linked = true;
            if entry.case_prev != newest {
                findings.push(Finding::CaseChainBroken { seq: d.seq });
                broken = true;
            }
            if proven_from.is_none() {
                proven_from = entry.case_prev.map(|link| link.seq);
            }
        } else if !matches!(entry.event, Event::CaseOpened(_)) {
            unlinked = true;
        }
        newest = Some(CaseLink {
            seq: d.seq,
            leaf: d.leaf,
        });
        last = Some((d, entry));
    }
    match last {
        Some((d, entry)) if matches!(&entry.event, Event::DossierIssued(r) if r.case == case) => {
            report.as_of = Some(AsOf {
                seq: d.seq,
                time: entry.time.clone(),
                tree_size: checkpoint.size,
            });
        }
        _ if any_linked => {
            findings.push(Finding::DossierNotIssued);
            broken = true;
        }
        _ => {}
    }
    report.completeness = match (any_linked && !broken, unlinked, proven_from) {
        (false, _, _) => Completeness::Nothing,
        (true, false, _) => Completeness::Whole,
        (true, true, Some(seq)) => Completeness::From { seq },
        (true, true, None) => Completeness::Nothing,
    };
}
