//! Dossier export (DESIGN §5): everything a prosecutor or a defence expert needs to check a
//! case offline, taken from the log as of the latest signed checkpoint.
//!
//! The node fetches the case's entries and every interior node their inclusion proofs need in
//! a few bulk queries, computes the proofs in memory, and signs a manifest naming the case, the
//! checkpoint and a digest of the entry list, so that a removed or added entry shows.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::Value;
use std::collections::{HashMap, HashSet};

use scelle_verifier::commitment::Commitment;
use scelle_verifier::dossier::{
    CaseRef, ConsistencyFrom, DOSSIER_FORMAT, Dossier, DossierEntry, Manifest, Opening,
};
use scelle_verifier::entry::{Actor, DossierRecord, Entry, Event};
use scelle_verifier::merkle::{self, Hash};
use scelle_verifier::model::{self, Purpose};
use scelle_verifier::note::Checkpoint;

use crate::authz::{self, Ask, AuthUser, Target};
use crate::error::ServiceError;
use crate::ledger::checkpoints;
use crate::ledger::error::Missing;
use crate::ledger::proofs::{consistency_proof_hashes, proof_error};
use crate::ledger::sequencer::{Pending, SideWrites};
use crate::ledger::vouch;
use crate::node::Node;
use crate::policy::cedar::Action;
use crate::storage::{DbConnection, StorageError, log_store, registry};
use crate::usecases::admin::system_actor;

/// What a dossier holds beyond the case's entries.
#[derive(Debug, Clone, Default)]
pub struct ExportOptions {
    /// Include the openings of personal-data commitments (where policy lets the recipient see them).
    pub personal_data: bool,
    /// A signed checkpoint the recipient already holds: the dossier then proves it extends it.
    pub since_checkpoint: Option<String>,
    /// On a node whose peers must cosign what it publishes: how long to wait for a checkpoint
    /// a quorum cosigned that covers the dossier's own entry (the dossier is proved to it).
    pub cosigned_within: Option<std::time::Duration>,
    /// The peer's log origin, when the dossier is issued to be sent there (`dossier.issued`
    /// then names it).
    pub to_peer: Option<String>,
}

/// A case's dossier for `user`: the export must be allowed (a dossier is for court), and the
/// openings of personal data need a purpose the policies accept; that read is recorded.
pub fn export_for(
    node: &Node,
    user: &AuthUser,
    case: &str,
    opts: &ExportOptions,
    purpose: Option<Purpose>,
) -> Result<Dossier, ServiceError> {
    let case_id = model::parse_label("case_id", case, 64)?;
    authz::authorize(
        node,
        user,
        Action::DossierExport,
        Target::Case(&case_id),
        &Ask::purpose(purpose),
    )?;
    if opts.personal_data {
        authz::authorize_personal_read(
            node,
            user,
            Target::Case(&case_id),
            &case_id,
            purpose,
            format!("case:{case_id}/dossier"),
        )?;
    }
    issue(node, &user.actor(), &case_id, opts, purpose)
}

/// The dossier of the case with this id, with no policy check (the node's operator, CLI): issued
/// in the name of the node for the case's agency.
pub fn export(node: &Node, case_id: &str, opts: &ExportOptions) -> Result<Dossier, ServiceError> {
    let agency = node.case_facts(case_id)?.agency;
    issue(node, &system_actor(&agency), case_id, opts, None)
}

/// Issues the dossier: the export is first recorded in the log (`dossier.issued`, the case's
/// newest entry), then the dossier is the case's custody record walked back from that entry along
/// its links (DESIGN §8), with every entry's inclusion proof to a checkpoint that covers it. The
/// registry's tables only say where to read: an entry the chain names that they do not is read
/// too, and what they list off the chain is left out.
fn issue(
    node: &Node,
    actor: &Actor,
    case_id: &str,
    opts: &ExportOptions,
    purpose: Option<Purpose>,
) -> Result<Dossier, ServiceError> {
    let mut c = node.connection()?;
    let case =
        registry::case_by_id(&mut c, case_id)?.ok_or(ServiceError::NotFound(Missing::Case))?;
    // Nothing is signed on a row the log does not vouch for: the case against its opening,
    // each item and its events against their entries.
    vouch::case(&mut c, &case)?;
    let items = registry::evidence_of_case(&mut c, &case.id)?;
    let mut read = vouch::items_of_case(&mut c, &case.id, &items)?;
    drop(c);
    let issued = node.sequencer().append(Pending {
        actor: actor.clone(),
        event: Event::DossierIssued(DossierRecord {
            case: case.id.clone(),
            purpose,
            personal_data: opts.personal_data,
            to: opts.to_peer.clone(),
        }),
        side: SideWrites::default(),
    })?;
    // Waiting for the cosignatures holds no connection (a poll takes one for its query).
    let (checkpoint_note, size, root) = match opts.cosigned_within {
        Some(wait) => cosigned_covering(node, issued.seq, wait)?,
        None => {
            let row = checkpoints::publishable(&mut *node.connection()?, node.sequencer())?
                .ok_or(ServiceError::NotFound(Missing::Entry))?;
            let root: Hash = log_store::to_hash(&row.root_hash)?;
            (row.note, row.tree_size as u64, root)
        }
    };
    let mut c = node.connection()?;
    if size <= issued.seq {
        return Err(ServiceError::Internal(
            "no durable checkpoint covers the dossier's own entry".into(),
        ));
    }
    for seq in [case.opened_seq as u64, issued.seq] {
        if let Some(body) = log_store::entry_body(&mut c, seq)? {
            read.insert(seq, (merkle::leaf_hash(&body), body));
        }
    }
    let rows = case_record(&mut c, &case.id, issued.seq, read)?;
    let seqs: Vec<u64> = rows.iter().map(|(seq, _, _)| *seq).collect();
    let mut needed: HashSet<merkle::NodeId> = HashSet::new();
    for seq in &seqs {
        needed.extend(
            merkle::needed_nodes_for_inclusion(*seq, size)
                .map_err(|e| ServiceError::from(proof_error(e)))?,
        );
    }
    let needed: Vec<merkle::NodeId> = needed.into_iter().collect();
    let mut nodes = log_store::fetch_nodes(&mut c, &needed)?;
    let mut entries = Vec::with_capacity(rows.len());
    let mut leaves = Vec::with_capacity(rows.len());
    let mut records: Vec<String> = Vec::new();
    for (seq, leaf, body) in rows {
        nodes.insert(merkle::NodeId::new(0, seq), leaf);
        if opts.personal_data {
            let entry = Entry::parse(&body)
                .map_err(|e| StorageError::Corrupt(format!("entry {seq}: {e}")))?;
            records.extend(commitments_of(&entry.event).map(|c| c.record.clone()));
        }
        let proof = merkle::inclusion_proof(&nodes, seq, size)
            .map_err(|e| ServiceError::from(proof_error(e)))?;
        entries.push(DossierEntry {
            seq,
            entry: B64.encode(&body),
            leaf_hash: B64.encode(leaf),
            inclusion_proof: proof.iter().map(|h| B64.encode(h)).collect(),
        });
        leaves.push((seq, leaf));
    }

    let manifest = Manifest {
        origin: node.origin().to_owned(),
        case_id: case.id.clone(),
        tree_size: size,
        root,
        entry_count: entries.len() as u64,
        entries_digest: Manifest::digest_entries(leaves.iter().map(|(s, l)| (*s, l))),
    };
    let manifest = node.sign_note(&manifest.body())?;

    let openings = registry::sealed_rows(&mut c, &records)?
        .into_iter()
        .map(|row| {
            let (salt, value) = node.vault().open(&row)?;
            Ok(Opening {
                record: row.id,
                salt: hex::encode(salt),
                value: Value::String(value),
            })
        })
        .collect::<Result<Vec<_>, ServiceError>>()?;

    let consistency = match &opts.since_checkpoint {
        None => None,
        Some(note) => {
            let verifier = node.note_verifier()?;
            let old = Checkpoint::open(note, &verifier, node.origin())
                .map_err(|e| ServiceError::BadEarlierCheckpoint(e.to_string()))?;
            if old.size > size {
                return Err(ServiceError::BadEarlierCheckpoint(format!(
                    "it covers {} entries, more than the latest checkpoint ({size})",
                    old.size
                )));
            }
            let proof = consistency_proof_hashes(&mut c, node.proofs(), old.size, size)?;
            Some(ConsistencyFrom {
                checkpoint: note.clone(),
                proof: proof.iter().map(|h| B64.encode(h)).collect(),
            })
        }
    };

    Ok(Dossier {
        format: DOSSIER_FORMAT.into(),
        origin: node.origin().to_owned(),
        verifier_key: node.verifier_key().to_owned(),
        checkpoint: checkpoint_note,
        manifest,
        case: CaseRef {
            id: case.id,
            reference: case.reference,
        },
        entries,
        openings,
        consistency,
    })
}

/// The oldest quorum-cosigned checkpoint covering entry `seq`, as (note, size, root), waited
/// for up to `wait` (the node's witnesses cosign each new checkpoint within a round).
fn cosigned_covering(
    node: &Node,
    seq: u64,
    wait: std::time::Duration,
) -> Result<(String, u64, Hash), ServiceError> {
    let deadline = std::time::Instant::now() + wait;
    let covering = i64::try_from(seq + 1).map_err(|_| ServiceError::Internal("seq".into()))?;
    loop {
        let found = crate::storage::peers::cosigned_covering(&mut *node.connection()?, covering)?;
        if let Some((_, note)) = found {
            let text = scelle_verifier::note::parse_note(&note)
                .map(|p| p.text)
                .map_err(|e| StorageError::Corrupt(format!("cosigned checkpoint: {e}")))?;
            let checkpoint = Checkpoint::parse_body(text)
                .map_err(|e| StorageError::Corrupt(format!("cosigned checkpoint: {e}")))?;
            return Ok((note, checkpoint.size, checkpoint.root));
        }
        if std::time::Instant::now() >= deadline {
            return Err(ServiceError::NotFound(Missing::CosignedCheckpoint));
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// The case's custody record up to its entry `last`: from `last` back along each entry's link to
/// the case's previous one (`case_prev`), taking the entries already `read` (by seq: leaf hash,
/// bytes) and reading any other the links name one by one; below the first entry with no link
/// (one written before the links, format 1), the entries read of the case. In log order, each as
/// (seq, leaf hash, bytes).
fn case_record(
    c: &mut DbConnection,
    case_id: &str,
    last: u64,
    mut read: HashMap<u64, (Hash, Vec<u8>)>,
) -> Result<Vec<(u64, Hash, Vec<u8>)>, ServiceError> {
    let corrupt = |seq: u64, what: &str| {
        ServiceError::from(StorageError::Corrupt(format!(
            "case {case_id}, entry {seq}: {what}"
        )))
    };
    let mut record = Vec::new();
    let mut at = Some((last, None::<Hash>));
    let mut unlinked_from = None;
    while let Some((seq, expected_leaf)) = at.take() {
        let (leaf, body) = match read.remove(&seq) {
            Some(found) => found,
            None => {
                let body = log_store::entry_body(c, seq)?.ok_or_else(|| corrupt(seq, "missing"))?;
                (merkle::leaf_hash(&body), body)
            }
        };
        if expected_leaf.is_some_and(|expected| expected != leaf) {
            return Err(corrupt(
                seq,
                "its leaf hash is not the one the next entry links to",
            ));
        }
        let entry = Entry::parse_content(&body).map_err(|e| corrupt(seq, &e.to_string()))?;
        if entry.event.case_chain() != Some(case_id) {
            return Err(corrupt(seq, "not of the case's custody record"));
        }
        record.push((seq, leaf, body));
        match entry.case_prev {
            Some(link) => at = Some((link.seq, Some(link.leaf))),
            None if matches!(entry.event, Event::CaseOpened(_)) => {}
            None => unlinked_from = Some(seq),
        }
    }
    // Entries of format 1 carry no link: below the first of them, what the vouched tables list.
    if let Some(first_linked) = unlinked_from {
        let mut older: Vec<u64> = read.keys().copied().filter(|s| *s < first_linked).collect();
        older.sort_unstable();
        for seq in older {
            if let Some((leaf, body)) = read.remove(&seq) {
                record.push((seq, leaf, body));
            }
        }
    }
    record.sort_unstable_by_key(|(seq, _, _)| *seq);
    Ok(record)
}

/// The commitments an event holds (personal data and free text).
fn commitments_of(event: &Event) -> impl Iterator<Item = &Commitment> {
    let list: Vec<&Option<Commitment>> = match event {
        Event::CaseOpened(c) => vec![&c.title, &c.jurisdiction_basis],
        Event::EvidenceRegistered(e) => vec![&e.description, &e.location],
        Event::Custody(c) => vec![&c.place, &c.reason],
        // A dossier carries the case's custody entries; shares, persons and access records
        // stay on the node.
        Event::AgencyRegistered(_)
        | Event::UserRegistered(_)
        | Event::VaultErased(_)
        | Event::CaseShared(_)
        | Event::ShareRevoked(_)
        | Event::PersonRecorded(_)
        | Event::Access(_)
        | Event::DossierIssued(_)
        | Event::PeerMisbehaved(_)
        | Event::DossierSent(_)
        | Event::DossierReceived(_)
        | Event::DossierRefused(_) => vec![],
    };
    list.into_iter().flatten()
}
