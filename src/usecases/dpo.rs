//! The data-protection officer's work: erasure of a personal-data record with its legal reason,
//! the retention run that erases what has expired, the access records, and the records of
//! processing for a data-protection authority (`scelle dpo report --state TG`): what personal
//! data the node holds for cases of one state, why it is read, how long it is kept and on what
//! legal basis, where it was transferred, and how often it was accessed.

use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use scelle_verifier::entry::{Actor, ErasureRecord, Event, Reason};
use scelle_verifier::i18n::{Lang, Message};
use scelle_verifier::model::{self, DataCategory, Jurisdiction, Role};
use scelle_verifier::t;

use crate::authz::{self, Ask, AuthUser, Target};
use crate::error::ServiceError;
use crate::ledger::error::Missing;
use crate::ledger::sequencer::{Pending, Receipt, SideWrites};
use crate::node::Node;
use crate::node::vault::Rotation;
use crate::policy::cedar::Action;
use crate::policy::retention::RetentionRule;
use crate::public_error::PublicError;
use crate::storage::protection::{self, AccessRow};
use crate::storage::{self, DbConnection, identity, registry};

use super::paging::{self, PAGE_MAX, Page};
use super::sealing::{Sealing, seal_reason};

/// The authority and the law of each state (ECOWAS Supplementary Act A/SA.1/01/10 and national
/// law), as named in the records of processing.
pub fn authority(state: Jurisdiction) -> (&'static str, &'static str) {
    match state {
        Jurisdiction::Benin => ("APDP", "Code du numérique, livre V"),
        Jurisdiction::BurkinaFaso => ("CIL", "loi 001-2021/AN"),
        Jurisdiction::CoteDIvoire => ("ARTCI", "loi 2013-450"),
        Jurisdiction::Niger => ("HAPDP", "loi 2022-59"),
        Jurisdiction::Togo => ("IPDCP", "loi 2019-014"),
    }
}

/// A case share, as the records of processing list it.
#[derive(Debug, Clone, Serialize)]
pub struct Transfer {
    /// The share's id.
    pub share: String,
    /// The case's id.
    pub case: String,
    /// The receiving agency's id, or else the receiving state.
    pub recipient: String,
    /// The receiving state: the one shared with, or the receiving agency's.
    pub recipient_state: Option<String>,
    /// Handling codes, comma-separated (`H0,H2`).
    pub handling: String,
    /// Purposes, comma-separated.
    pub purposes: String,
    /// Budapest Convention Art. 28(2)(a): kept confidential by the receiver.
    pub confidential: bool,
    /// When the share lapses (RFC 3339).
    pub expires_at: String,
    /// When the log recorded the share (RFC 3339, UTC).
    pub shared_at: String,
    /// When the sender withdrew it (RFC 3339), if it did.
    pub revoked_at: Option<String>,
    /// The `case.shared` entry's seq.
    pub seq: u64,
}

/// The records of processing of one state, for its data-protection authority.
#[derive(Debug, Clone, Serialize)]
pub struct DpoReport {
    /// The state the report covers.
    pub state: Jurisdiction,
    /// The state's data-protection authority (e.g. `IPDCP`).
    pub authority: String,
    /// The state's data-protection law.
    pub law: String,
    /// The origin of the node's log.
    pub node_origin: String,
    /// When the report was made (RFC 3339, UTC).
    pub generated_at: String,
    /// Sealed records held, per data category.
    pub records_held: BTreeMap<String, u64>,
    /// The state's retention rules.
    pub retention: Vec<RetentionRule>,
    /// Reads of personal data allowed, per stated purpose.
    pub reads_by_purpose: BTreeMap<String, u64>,
    /// Access decisions per role: (allowed, denied).
    pub access_by_role: BTreeMap<String, (u64, u64)>,
    /// The first shares of the state's cases, at most [`PAGE_MAX`], in log order.
    pub transfers: Vec<Transfer>,
    /// When there are more: the `after` that asks `dpo/transfers` for the next page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transfers_next: Option<u64>,
}

/// Largest number of access records one listing returns.
pub const MAX_ACCESS_LISTING: usize = 1_000;

/// The records of processing of one state (the node's own unless named: `BJ`, `TG`…). `user`
/// is the officer who asked (API); `None` is the node's operator (CLI).
pub fn report(
    node: &Node,
    user: Option<&AuthUser>,
    state: Option<&str>,
) -> Result<DpoReport, ServiceError> {
    let state = authorize_records(node, user, state)?;
    let mut c = node.connection()?;
    let mut records_held: BTreeMap<String, u64> = DataCategory::ALL
        .iter()
        .map(|c| (c.as_str().to_owned(), 0))
        .collect();
    for held in protection::records_held_of_state(&mut c, state.as_str())? {
        *records_held.entry(held.category).or_default() += held.n.max(0) as u64;
    }
    let mut reads_by_purpose = BTreeMap::new();
    let mut access_by_role: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    for count in protection::access_counts_of_state(&mut c, state.as_str())? {
        let n = count.n.max(0) as u64;
        let counts = access_by_role.entry(count.role).or_default();
        if count.decision == "allowed" {
            counts.0 += n;
            if count.action == "person.read" {
                *reads_by_purpose
                    .entry(count.purpose.unwrap_or_else(|| "-".into()))
                    .or_insert(0) += n;
            }
        } else {
            counts.1 += n;
        }
    }
    let transfers = transfers_page(&mut c, state, -1)?;
    let (authority, law) = authority(state);
    Ok(DpoReport {
        state,
        authority: authority.to_owned(),
        law: law.to_owned(),
        node_origin: node.origin().to_owned(),
        generated_at: node.clock().now_rfc3339()?,
        records_held,
        retention: node.retention().of_state(state).cloned().collect(),
        reads_by_purpose,
        access_by_role,
        transfers: transfers.items,
        transfers_next: transfers.next,
    })
}

/// The state whose records of processing are asked for (the node's own unless named), once
/// `user` may read them; the node's operator (`None`) may read any.
fn authorize_records(
    node: &Node,
    user: Option<&AuthUser>,
    state: Option<&str>,
) -> Result<Jurisdiction, ServiceError> {
    let state = match state {
        Some(s) => Jurisdiction::parse(s)?,
        None => node.state(),
    };
    if let Some(user) = user {
        // The records asked for are the resource: a DPO reads their own state's only.
        authz::authorize(
            node,
            user,
            Action::DpoReport,
            Target::StateRecords(state),
            &Ask::default(),
        )?;
    }
    Ok(state)
}

/// A page of the transfers in the records of processing of `state` (the node's own unless
/// named), after the share entry `after`, under the same rule as [`report`].
pub fn transfers(
    node: &Node,
    user: Option<&AuthUser>,
    state: Option<&str>,
    after: Option<u64>,
) -> Result<Page<Transfer>, ServiceError> {
    let after = paging::cursor("after", after)?.unwrap_or(-1);
    let state = authorize_records(node, user, state)?;
    transfers_page(&mut *node.connection()?, state, after)
}

fn transfers_page(
    c: &mut DbConnection,
    state: Jurisdiction,
    after: i64,
) -> Result<Page<Transfer>, ServiceError> {
    let rows =
        protection::shares_from_state(c, state.as_str(), after, paging::fetch_limit(PAGE_MAX))?;
    let page = Page::cut(rows, PAGE_MAX, |s| s.seq);
    let mut agency_states: BTreeMap<String, Option<String>> = BTreeMap::new();
    page.try_map(|s| {
        let recipient_state = match (&s.recipient_state, &s.recipient_agency) {
            (Some(state), _) => Some(state.clone()),
            (None, Some(agency)) => match agency_states.get(agency) {
                Some(known) => known.clone(),
                None => {
                    let found = identity::agency(c, agency)?.map(|a| a.state);
                    agency_states.insert(agency.clone(), found.clone());
                    found
                }
            },
            (None, None) => None,
        };
        Ok::<_, ServiceError>(Transfer {
            share: s.id,
            case: s.case_id,
            recipient: s.recipient_agency.or(s.recipient_state).unwrap_or_default(),
            recipient_state,
            handling: s.handling,
            purposes: s.purposes,
            confidential: s.confidential,
            expires_at: s.expires_at,
            shared_at: s.shared_at,
            revoked_at: s.revoked_at,
            seq: s.seq as u64,
        })
    })
}

/// A record a retention run erased (or, dry, would erase).
#[derive(Debug, Clone, Serialize)]
pub struct ErasedByRetention {
    /// The vault record's id.
    pub record: String,
    /// The state of the record's case.
    pub state: Jurisdiction,
    /// The record's data category.
    pub category: DataCategory,
    /// When the record was sealed (RFC 3339).
    pub created_at: String,
    /// The retention period that ran out, in days.
    pub days: u32,
    /// The `vault.erased` entry's seq; `None` on a dry run.
    pub seq: Option<u64>,
}

/// A record a retention run could not erase, and why; the run goes on with the others, and
/// the next run tries it again.
#[derive(Debug, Clone, Serialize)]
pub struct RetentionFailure {
    /// The vault record's id.
    pub record: String,
    /// What went wrong, as a person reads it.
    pub error: PublicError,
}

/// What a retention run did.
#[derive(Debug, Clone, Serialize)]
pub struct RetentionReport {
    /// Whether the run only listed what it would erase.
    pub dry_run: bool,
    /// Vault records looked at (those old enough for the shortest period).
    pub examined: usize,
    /// The records erased (or, dry, that would be).
    pub erased: Vec<ErasedByRetention>,
    /// The records it could not erase.
    pub failed: Vec<RetentionFailure>,
    /// When the run stopped at its maximum: the `after` to run again from.
    pub next: Option<String>,
    /// The vault's key rotation after the erasures (see [`rotate_after_erasure`]); `None` on a
    /// dry run, when nothing was erased, or when the rotation failed (then logged, and retried
    /// at the next erasure or start).
    pub disk: Option<Rotation>,
}

/// Vault records a retention run reads per query.
const RETENTION_BATCH: i64 = 500;

/// The most records one retention run erases (or, dry, lists); the next run goes on from
/// where it stopped.
pub const RETENTION_MAX: usize = 10_000;

/// Erases the vault records past their retention period, walking the vault a batch at a time
/// in the order of record ids after `after`, at most `max` of them (at most
/// [`RETENTION_MAX`]): a record that cannot be erased is reported and the others still are.
/// `user` is the data-protection officer who asked (API); `None` is the node itself (CLI,
/// periodic task).
pub fn run_retention(
    node: &Node,
    user: Option<&AuthUser>,
    dry_run: bool,
    after: Option<&str>,
    max: Option<u64>,
) -> Result<RetentionReport, ServiceError> {
    let actor = match user {
        Some(user) => {
            authz::authorize(
                node,
                user,
                Action::RetentionRun,
                Target::Node,
                &Ask::default(),
            )?;
            user.actor()
        }
        None => Actor {
            user: "system".into(),
            agency: node.agency().to_owned(),
            role: Role::Dpo,
        },
    };
    let max = paging::size(max, RETENTION_MAX);
    let mut report = RetentionReport {
        dry_run,
        examined: 0,
        erased: Vec::new(),
        failed: Vec::new(),
        next: None,
        disk: None,
    };
    let now = node.clock().now();
    let Some(shortest) = node.retention().shortest_days() else {
        return Ok(report);
    };
    // Sealed before this second (plus one, as the text compares to the second) to be old
    // enough for the shortest period: the database leaves out the rest.
    let Some(cutoff) = now.checked_sub(time::Duration::days(i64::from(shortest))) else {
        return Ok(report);
    };
    let old_enough = (cutoff + time::Duration::SECOND)
        .replace_nanosecond(0)
        .map_err(|e| ServiceError::Internal(e.to_string()))?
        .format(&Rfc3339)
        .map_err(|e| ServiceError::Internal(e.to_string()))?;
    let mut cursor = after.unwrap_or_default().to_owned();
    'walk: loop {
        let batch = protection::vault_facts_after(
            &mut *node.connection()?,
            &cursor,
            &old_enough,
            RETENTION_BATCH,
        )?;
        let last_batch = (batch.len() as i64) < RETENTION_BATCH;
        for fact in batch {
            // Failures do not count: records that keep failing must not stop the others.
            if report.erased.len() >= max {
                report.next = Some(cursor);
                break 'walk;
            }
            cursor.clone_from(&fact.id);
            report.examined += 1;
            match expired(node, &fact, now) {
                Ok(None) => {}
                Ok(Some((state, category, rule))) => {
                    let seq = if dry_run {
                        Ok(None)
                    } else {
                        erase_expired(node, &actor, &fact.id, rule).map(Some)
                    };
                    match seq {
                        Ok(seq) => report.erased.push(ErasedByRetention {
                            record: fact.id,
                            state,
                            category,
                            created_at: fact.created_at,
                            days: rule.days,
                            seq,
                        }),
                        Err(e) => report.failed.push(failure(fact.id, &e)),
                    }
                }
                Err(e) => report.failed.push(failure(fact.id, &e)),
            }
        }
        if last_batch {
            break;
        }
    }
    if !dry_run && !report.erased.is_empty() {
        report.disk = rotate_after_erasure(node);
    }
    Ok(report)
}

/// Whether a sealed record's retention period is over at `now`: its state, category and rule.
fn expired<'r>(
    node: &'r Node,
    fact: &protection::VaultFacts,
    now: OffsetDateTime,
) -> Result<Option<(Jurisdiction, DataCategory, &'r RetentionRule)>, ServiceError> {
    let corrupt = |what: &str| {
        ServiceError::from(storage::StorageError::Corrupt(format!(
            "vault record {} has a bad {what}",
            fact.id
        )))
    };
    let state = Jurisdiction::parse(&fact.state).map_err(|_| corrupt("state"))?;
    let category = DataCategory::parse(&fact.category).map_err(|_| corrupt("category"))?;
    let Some(rule) = node.retention().rule(state, category) else {
        return Ok(None);
    };
    let created =
        OffsetDateTime::parse(&fact.created_at, &Rfc3339).map_err(|_| corrupt("creation time"))?;
    let expires = created.checked_add(time::Duration::days(i64::from(rule.days)));
    Ok(expires
        .is_some_and(|at| at <= now)
        .then_some((state, category, rule)))
}

/// Appends the erasure of an expired record, its reason written by the node from the rule.
fn erase_expired(
    node: &Node,
    actor: &Actor,
    record: &str,
    rule: &RetentionRule,
) -> Result<u64, ServiceError> {
    let receipt = node.sequencer().append(Pending {
        actor: actor.clone(),
        event: Event::VaultErased(ErasureRecord {
            record: record.to_owned(),
            // Written by the node from its rule, naming no one: in clear.
            legal_reason: Reason::Clear(format!(
                "Durée de conservation échue ({} jours) / retention period over ({} days): {} / {}",
                rule.days, rule.days, rule.legal_basis_fr, rule.legal_basis_en
            )),
        }),
        side: SideWrites {
            erase: Some(record.to_owned()),
            ..Default::default()
        },
    })?;
    Ok(receipt.seq)
}

fn failure(record: String, error: &ServiceError) -> RetentionFailure {
    tracing::error!(record = %record, error = %error, "retention could not erase a record");
    RetentionFailure {
        record,
        error: PublicError::from(error),
    }
}

/// Erases a personal-data record (DESIGN §4): the sealed value, its salt and its key are
/// deleted in the transaction that appends the `vault.erased` entry stating the legal reason.
pub fn erase(
    node: &Node,
    user: &AuthUser,
    record: &str,
    legal_reason: &str,
) -> Result<(ErasureView, Receipt), ServiceError> {
    let legal_reason = model::parse_text("legal_reason", legal_reason, 500)?;
    authz::authorize(
        node,
        user,
        Action::VaultErase,
        Target::Node,
        &Ask::default(),
    )?;
    let Some(erased) = registry::sealed_row(&mut *node.connection()?, record)? else {
        return Err(ServiceError::NotFound(Missing::VaultRecord));
    };
    // The reason may name the person whose data goes: it is sealed like any free text, under
    // the erased record's case.
    let mut sealing = Sealing::default();
    let committed = seal_reason(
        node,
        &legal_reason,
        "legal_reason",
        erased.case_id.as_deref(),
        &mut sealing,
    )?;
    let erasure = ErasureRecord {
        record: record.to_owned(),
        legal_reason: committed,
    };
    let receipt = node.sequencer().append(Pending {
        actor: user.actor(),
        event: Event::VaultErased(erasure.clone()),
        side: SideWrites {
            erase: Some(record.to_owned()),
            ..sealing.side_writes()
        },
    })?;
    // The reason's row is written: its hold on the epoch key ends before the rotation.
    drop(sealing);
    let disk = rotate_after_erasure(node);
    let view = ErasureView {
        record: erasure.record,
        legal_reason,
        legal_reason_commitment: erasure.legal_reason,
        disk,
    };
    Ok((view, receipt))
}

/// An erasure as the officer who asked sees it: the reason in clear, and the commitment the log
/// holds instead of it.
#[derive(Debug, Serialize)]
pub struct ErasureView {
    /// The vault record erased.
    pub record: String,
    /// Why, as stated.
    pub legal_reason: String,
    /// What the log holds for the reason.
    pub legal_reason_commitment: Reason,
    /// What the erasure did on disk: the vault's new epoch, records re-wrapped, old keys
    /// destroyed, SQLite's WAL emptied. `None`: the rotation failed (logged); the record is
    /// deleted, but old copies of its pages stay wrapped under a live key until the next
    /// erasure or start rotates.
    pub disk: Option<Rotation>,
}

/// Old copies of an erased record's pages outlive the `DELETE` (SQLite's WAL and free pages,
/// PostgreSQL's dead tuples and WAL segments): rotating the vault's epoch key, which wraps every
/// data key, leaves them under a key that no longer exists (`node::vault`).
fn rotate_after_erasure(node: &Node) -> Option<Rotation> {
    let rotated = node
        .connection()
        .and_then(|mut c| node.vault().rotate(&mut c));
    match rotated {
        Ok(rotation) => Some(rotation),
        Err(e) => {
            tracing::error!(error = %e, "the vault's key rotation after an erasure failed; it is retried at the next erasure or start");
            None
        }
    }
}

/// Which access records a listing asks for.
#[derive(Debug, Default, Clone)]
pub struct AccessFilter {
    /// Only those about this case.
    pub case_id: Option<String>,
    /// Only those of this user.
    pub actor_id: Option<String>,
    /// Only those before this entry (the `next` of the page before).
    pub before: Option<u64>,
    /// At most this many (at most [`MAX_ACCESS_LISTING`]; that many when not given).
    pub limit: Option<u64>,
}

/// A page of access records, newest first, for auditors and data-protection officers.
pub fn access_records(
    node: &Node,
    user: &AuthUser,
    filter: &AccessFilter,
) -> Result<Page<AccessRow>, ServiceError> {
    authz::authorize(
        node,
        user,
        Action::AccessRead,
        Target::Node,
        &Ask::default(),
    )?;
    let size = paging::size(filter.limit, MAX_ACCESS_LISTING);
    let rows = protection::access_records(
        &mut *node.connection()?,
        filter.case_id.as_deref(),
        filter.actor_id.as_deref(),
        paging::cursor("before", filter.before)?,
        paging::fetch_limit(size),
    )?;
    Ok(Page::cut(rows, size, |r| r.seq))
}

impl DpoReport {
    /// The report as text, in French then English.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        for lang in Lang::ALL {
            self.write_text(&mut out, lang);
        }
        out
    }

    fn write_text(&self, out: &mut String, lang: Lang) {
        let l = |m: Message| m.render(lang);
        let _ = writeln!(
            out,
            "== {} ==",
            l(t!(
                "dpo-title",
                state = self.state,
                authority = &self.authority,
                law = &self.law
            ))
        );
        let _ = writeln!(
            out,
            "{}",
            l(t!(
                "dpo-node",
                origin = &self.node_origin,
                at = &self.generated_at
            ))
        );
        let _ = writeln!(out, "\n{}", l(t!("dpo-purposes")));
        let _ = writeln!(out, "\n{}", l(t!("dpo-data-held")));
        for rule in &self.retention {
            let held = self
                .records_held
                .get(rule.category.as_str())
                .copied()
                .unwrap_or(0);
            let basis = match lang {
                Lang::Fr => &rule.legal_basis_fr,
                Lang::En => &rule.legal_basis_en,
            };
            let _ = writeln!(
                out,
                "  - {:<24} {:>6}  {} — {}",
                rule.category.as_str(),
                held,
                l(t!("dpo-days").count("days", u64::from(rule.days))),
                basis
            );
        }
        let _ = writeln!(out, "\n{}", l(t!("dpo-reads")));
        if self.reads_by_purpose.is_empty() {
            let _ = writeln!(out, "  {}", l(t!("dpo-none")));
        }
        for (purpose, n) in &self.reads_by_purpose {
            let _ = writeln!(out, "  - {purpose:<24} {n:>6}");
        }
        let _ = writeln!(out, "\n{}", l(t!("dpo-access")));
        if self.access_by_role.is_empty() {
            let _ = writeln!(out, "  {}", l(t!("dpo-none")));
        }
        for (role, (allowed, denied)) in &self.access_by_role {
            let _ = writeln!(out, "  - {role:<24} {allowed:>6} / {denied}");
        }
        let _ = writeln!(out, "\n{}", l(t!("dpo-transfers")));
        if self.transfers.is_empty() {
            let _ = writeln!(out, "  {}", l(t!("dpo-none")));
        }
        for tr in &self.transfers {
            let cross = tr
                .recipient_state
                .as_deref()
                .is_some_and(|s| s != self.state.as_str());
            let _ = writeln!(
                out,
                "  - {} → {} ({}){}  {}",
                tr.case,
                tr.recipient,
                tr.recipient_state.as_deref().unwrap_or("?"),
                if cross {
                    format!(" [{}]", l(t!("dpo-cross-border")))
                } else {
                    String::new()
                },
                l(t!(
                    "dpo-transfer-terms",
                    codes = if tr.handling.is_empty() {
                        "-"
                    } else {
                        &tr.handling
                    },
                    purposes = &tr.purposes,
                    expires = &tr.expires_at
                ))
            );
            if let Some(at) = &tr.revoked_at {
                let _ = writeln!(out, "    {}", l(t!("dpo-revoked", at = at)));
            }
        }
        out.push('\n');
    }
}
