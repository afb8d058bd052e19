//! The registry tables held to the log: the audit replays every entry, in memory, through the
//! same [`apply`] the sequencer uses, and compares each stored row with the one the log says
//! must be there, naming table, row and column of every difference.
//!
//! The tables are what the node reads to decide (who holds an item, whether a case exists) and
//! what a dossier is built from; a database administrator can edit them. The log cannot be
//! edited unseen, so a table that is not exactly the log's projection is tampering.
//!
//! Rows that belong to one entry (custody events, access records) are compared chunk by chunk
//! as the audit reads the log; the rows that entries keep changing (cases, items and their
//! custody states, shares, persons, agencies, users) at the end, in one snapshot of the
//! database, after the entries a running server appended meanwhile are replayed too.

use std::collections::hash_map::RandomState;
use std::collections::{HashMap, HashSet};
use std::hash::BuildHasher;

use scelle_verifier::dossier::shown;
use scelle_verifier::entry::{
    AgencyRecord, CaseLink, CustodyFacts, Entry, EntryError, EntryView, FORMAT_VERSION, UserRecord,
};
use scelle_verifier::i18n::Message;
use scelle_verifier::merkle::{self, Hash};
use scelle_verifier::model::{CustodyEventType, IntegrityResult};
use scelle_verifier::t;

use crate::storage::log_store;
use crate::storage::projection_rows::{
    self, AgencyFactsRow, CustodyStateRow, ItemFactsRow, UserFactsRow,
};
use crate::storage::protection::{AccessRow, PersonRow, ShareRow};
use crate::storage::registry::{CaseHeadRow, CaseRow, CustodyEventRow, EvidenceRow};
use crate::storage::{DbConnection, StorageError, with_read_snapshot};

use super::apply::{EventRow, Registry, apply, custody_event};
use super::error::LedgerError;

/// The registry as the log says it must be, built in memory by [`apply`].
#[derive(Default)]
pub struct MemoryRegistry {
    agencies: HashMap<String, AgencyFactsRow>,
    users: HashMap<String, UserFactsRow>,
    cases: HashMap<String, CaseRow>,
    references: HashSet<String>,
    items: HashMap<String, EvidenceRow>,
    /// `(case, seal number)` and `(case, exhibit number)` of every item.
    seals: HashSet<(String, String)>,
    exhibits: HashSet<(String, String)>,
    /// A keyed hash of `(item, event id)` for every custody event: enough to check that a
    /// correction amends an event of its own item, without keeping every event id.
    events_of_items: HashSet<u64>,
    event_keys: RandomState,
    shares: HashMap<String, ShareRow>,
    persons: HashMap<String, PersonRow>,
    erased: Vec<String>,
    /// The previous event of the item of the custody event applied last, until it is compared.
    last_chain_link: Option<Option<i64>>,
    /// The newest entry of each case's custody record.
    heads: HashMap<String, CaseLink>,
    /// The access records of the entries applied since they were last taken.
    new_access: Vec<AccessRow>,
}

impl MemoryRegistry {
    fn event_key(&self, item: &str, event: &str) -> u64 {
        self.event_keys.hash_one((item, event))
    }
}

/// An id used twice where the database's key would have refused it.
fn duplicate(table: &str, id: &str) -> LedgerError {
    LedgerError::Internal(format!("{table}: id {id} used twice"))
}

impl Registry for MemoryRegistry {
    fn before_other_event(&mut self) -> Result<(), LedgerError> {
        Ok(())
    }

    fn case_exists(&mut self, id: &str) -> Result<bool, LedgerError> {
        Ok(self.cases.contains_key(id))
    }

    fn reference_taken(&mut self, reference: &str) -> Result<bool, LedgerError> {
        Ok(self.references.contains(reference))
    }

    fn insert_case(&mut self, row: CaseRow) -> Result<(), LedgerError> {
        if self.cases.contains_key(&row.id) {
            return Err(duplicate("cases", &row.id));
        }
        self.references.insert(row.reference.clone());
        self.cases.insert(row.id.clone(), row);
        Ok(())
    }

    fn seal_or_exhibit_taken(
        &mut self,
        case: &str,
        seal: &str,
        exhibit: &str,
    ) -> Result<(bool, bool), LedgerError> {
        Ok((
            self.seals.contains(&(case.to_owned(), seal.to_owned())),
            self.exhibits
                .contains(&(case.to_owned(), exhibit.to_owned())),
        ))
    }

    fn insert_item(&mut self, row: EvidenceRow) -> Result<(), LedgerError> {
        if self.items.contains_key(&row.id) {
            return Err(duplicate("evidence_items", &row.id));
        }
        self.seals
            .insert((row.case_id.clone(), row.seal_number.clone()));
        self.exhibits
            .insert((row.case_id.clone(), row.exhibit_number.clone()));
        self.items.insert(row.id.clone(), row);
        Ok(())
    }

    fn item(&mut self, id: &str) -> Result<Option<&mut EvidenceRow>, LedgerError> {
        Ok(self.items.get_mut(id))
    }

    fn user_exists(&mut self, id: &str) -> Result<bool, LedgerError> {
        Ok(self.users.contains_key(id))
    }

    fn item_has_event(&mut self, item: &str, event: &str) -> Result<bool, LedgerError> {
        Ok(self.events_of_items.contains(&self.event_key(item, event)))
    }

    fn push_event(&mut self, row: &EventRow<'_>) -> Result<(), LedgerError> {
        let key = self.event_key(row.item_id, row.id);
        self.events_of_items.insert(key);
        self.last_chain_link = Some(row.item_prev_seq);
        Ok(())
    }

    fn share(&mut self, id: &str) -> Result<Option<ShareRow>, LedgerError> {
        Ok(self.shares.get(id).cloned())
    }

    fn insert_share(&mut self, row: ShareRow) -> Result<(), LedgerError> {
        if self.shares.contains_key(&row.id) {
            return Err(duplicate("case_shares", &row.id));
        }
        self.shares.insert(row.id.clone(), row);
        Ok(())
    }

    fn revoke_share(&mut self, id: &str, at: &str) -> Result<bool, LedgerError> {
        match self.shares.get_mut(id) {
            Some(share) if share.revoked_at.is_none() => {
                share.revoked_at = Some(at.to_owned());
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    fn insert_person(&mut self, row: PersonRow) -> Result<(), LedgerError> {
        if self.persons.contains_key(&row.id) {
            return Err(duplicate("persons", &row.id));
        }
        self.persons.insert(row.id.clone(), row);
        Ok(())
    }

    fn insert_access(&mut self, row: AccessRow) -> Result<(), LedgerError> {
        self.new_access.push(row);
        Ok(())
    }

    fn agency_registered(&mut self, agency: &AgencyRecord) -> Result<(), LedgerError> {
        if self.agencies.contains_key(&agency.id) {
            return Err(duplicate("agencies", &agency.id));
        }
        self.agencies.insert(
            agency.id.clone(),
            AgencyFactsRow {
                id: agency.id.clone(),
                state: agency.state.as_str().to_owned(),
                name: agency.name.clone(),
                is_lab: agency.lab,
            },
        );
        Ok(())
    }

    fn user_registered(&mut self, user: &UserRecord) -> Result<(), LedgerError> {
        if self.users.contains_key(&user.id) {
            return Err(duplicate("users", &user.id));
        }
        self.users.insert(
            user.id.clone(),
            UserFactsRow {
                id: user.id.clone(),
                role: user.role.as_str().to_owned(),
                agency_id: user.agency.clone(),
            },
        );
        Ok(())
    }

    fn vault_erased(&mut self, record: &str) -> Result<(), LedgerError> {
        self.erased.push(record.to_owned());
        Ok(())
    }

    fn case_head(&mut self, case: &str) -> Result<Option<CaseLink>, LedgerError> {
        Ok(self.heads.get(case).copied())
    }

    fn set_case_head(&mut self, case: &str, link: CaseLink) -> Result<(), LedgerError> {
        self.heads.insert(case.to_owned(), link);
        Ok(())
    }
}

/// One stored value, as compared and shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cell {
    Null,
    Text(String),
    Number(i64),
    Flag(bool),
}

impl std::fmt::Display for Cell {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Cell::Null => f.write_str("NULL"),
            // Stored text may be anything an intruder wrote: shown escaped and quoted.
            Cell::Text(text) => write!(f, "\u{201c}{}\u{201d}", shown(text)),
            Cell::Number(n) => write!(f, "{n}"),
            Cell::Flag(b) => write!(f, "{b}"),
        }
    }
}

/// A column's value as a [`Cell`].
trait ToCell {
    fn cell(&self) -> Cell;
}

impl ToCell for String {
    fn cell(&self) -> Cell {
        Cell::Text(self.clone())
    }
}

impl ToCell for Option<String> {
    fn cell(&self) -> Cell {
        self.as_ref().map_or(Cell::Null, |s| Cell::Text(s.clone()))
    }
}

impl ToCell for i64 {
    fn cell(&self) -> Cell {
        Cell::Number(*self)
    }
}

impl ToCell for Option<i64> {
    fn cell(&self) -> Cell {
        self.map_or(Cell::Null, Cell::Number)
    }
}

impl ToCell for Vec<u8> {
    fn cell(&self) -> Cell {
        Cell::Text(hex::encode(self))
    }
}

impl ToCell for bool {
    fn cell(&self) -> Cell {
        Cell::Flag(*self)
    }
}

/// A registry row as the comparison sees it: its table, its key, its columns by name.
trait RowImage: PartialEq {
    const TABLE: &'static str;
    fn key(&self) -> String;
    fn columns(&self) -> Vec<(&'static str, Cell)>;
}

macro_rules! row_image {
    ($row:ty, $table:literal, $key:ident, [$($column:ident),+ $(,)?]) => {
        impl RowImage for $row {
            const TABLE: &'static str = $table;
            fn key(&self) -> String {
                self.$key.to_string()
            }
            fn columns(&self) -> Vec<(&'static str, Cell)> {
                vec![$((stringify!($column), self.$column.cell())),+]
            }
        }
    };
}

row_image!(
    CaseRow,
    "cases",
    id,
    [
        reference,
        jurisdiction,
        offence,
        legal_basis,
        agency_id,
        officer_id,
        title_record,
        opened_at,
        opened_seq,
    ]
);
row_image!(
    ItemFactsRow,
    "evidence_items",
    id,
    [
        case_id,
        exhibit_number,
        seal_number,
        kind,
        sha256,
        sha512,
        sha1,
        md5,
        size_bytes,
        collected_at,
        collector_id,
        description_record,
        location_record,
        acquisition_tool,
        acquisition_version,
        acquisition_settings,
        parent_id,
        registered_seq,
    ]
);
row_image!(
    CustodyStateRow,
    "custody_states",
    item_id,
    [
        holder_id,
        custody_status,
        pending_to,
        pending_event,
        integrity,
        last_event_seq,
    ]
);
row_image!(
    CustodyEventRow,
    "custody_events",
    seq,
    [
        id,
        item_id,
        event_type,
        actor_id,
        occurred_at,
        recorded_at,
        item_prev_seq,
    ]
);
row_image!(
    ShareRow,
    "case_shares",
    id,
    [
        case_id,
        seq,
        shared_by,
        recipient_agency,
        recipient_state,
        handling,
        purposes,
        confidential,
        consent_for_court,
        expires_at,
        conditions_record,
        shared_at,
        revoked_at,
    ]
);
row_image!(
    PersonRow,
    "persons",
    id,
    [case_id, data_record, seq, recorded_at]
);
row_image!(
    AccessRow,
    "access_records",
    seq,
    [
        actor_id, agency_id, role, action, resource, case_id, purpose, decision, policies, at,
        repeated,
    ]
);
row_image!(AgencyFactsRow, "agencies", id, [state, name, is_lab]);
row_image!(CaseHeadRow, "case_heads", case_id, [seq, leaf]);
row_image!(UserFactsRow, "users", id, [role, agency_id]);

/// A refusal of the registry's rules, as a finding.
fn refused(e: &LedgerError) -> Message {
    Message::new("audit-entry-refused").nested("reason", e.message())
}

/// What the comparison found: each difference as a message, with the entry it concerns when
/// there is one.
pub type Difference = (Option<u64>, Message);

/// Compares a stored row with the one the log says must be there.
fn compare<T: RowImage>(expected: Option<&T>, stored: Option<&T>, out: &mut Vec<Difference>) {
    match (expected, stored) {
        (Some(e), Some(s)) if e == s => {}
        (Some(e), Some(s)) => {
            let key = e.key();
            for ((column, want), (_, have)) in e.columns().into_iter().zip(s.columns()) {
                if want != have {
                    out.push((
                        None,
                        t!(
                            "audit-row-differs",
                            table = T::TABLE,
                            key = shown(&key),
                            column = column,
                            stored = have,
                            expected = want
                        ),
                    ));
                }
            }
        }
        (Some(e), None) => out.push((
            None,
            t!("audit-row-missing", table = T::TABLE, key = shown(&e.key())),
        )),
        (None, Some(s)) => out.push((
            None,
            t!(
                "audit-row-unaccounted",
                table = T::TABLE,
                key = shown(&s.key())
            ),
        )),
        (None, None) => {}
    }
}

/// Compares the rows of entries `from..to` (sorted by seq, as the log made them and as they
/// were read) with the stored ones.
fn compare_per_entry<T: RowImage>(
    seq_of: impl Fn(&T) -> i64,
    expected: Vec<T>,
    stored: Vec<T>,
    out: &mut Vec<Difference>,
) {
    let mut stored = stored.into_iter().peekable();
    let mut expected = expected.into_iter().peekable();
    loop {
        let next_expected = expected.peek().map(&seq_of);
        let next_stored = stored.peek().map(&seq_of);
        match (next_expected, next_stored) {
            (None, None) => return,
            (Some(e), Some(s)) if e == s => {
                compare(expected.next().as_ref(), stored.next().as_ref(), out);
            }
            (Some(e), s) if s.is_none_or(|s| e < s) => {
                compare(expected.next().as_ref(), None, out);
            }
            _ => compare(None, stored.next().as_ref(), out),
        }
    }
}

/// Compares a whole table, read a page at a time in key order, with the rows the log says it
/// holds.
fn compare_table<T: RowImage>(
    conn: &mut DbConnection,
    mut expected: HashMap<String, T>,
    page_after: impl Fn(&mut DbConnection, &str) -> Result<Vec<T>, StorageError>,
    out: &mut Vec<Difference>,
) -> Result<(), StorageError> {
    let mut after = String::new();
    loop {
        let page = page_after(conn, &after)?;
        let Some(last) = page.last() else {
            break;
        };
        after = last.key();
        for stored in &page {
            compare(expected.remove(&stored.key()).as_ref(), Some(stored), out);
        }
        if page.len() < projection_rows::PAGE as usize {
            break;
        }
    }
    let mut missing: Vec<T> = expected.into_values().collect();
    missing.sort_by_key(RowImage::key);
    for row in &missing {
        compare(Some(row), None, out);
    }
    Ok(())
}

/// Where a text lies in [`ReadEntries`]'s buffer.
#[derive(Debug, Clone, Copy)]
struct Span {
    start: u32,
    end: u32,
}

/// A custody entry as a reader hands it over: its texts in the chunk's one buffer.
#[derive(Debug)]
struct CustodyAt {
    seq: u64,
    version: u64,
    leaf: Hash,
    case_prev: Option<CaseLink>,
    time: Span,
    actor: Span,
    id: Span,
    item: Span,
    case: Span,
    event_type: CustodyEventType,
    at: Span,
    to_user: Option<Span>,
    sha256: Option<Span>,
    result: Option<IntegrityResult>,
    amends: Option<Span>,
    derived_item: Option<Span>,
    /// The stored row's link to the item's previous event, if a row is stored for the entry.
    stored_link: Option<Option<i64>>,
}

/// One entry of a chunk, as read.
#[derive(Debug)]
enum ReadEntry {
    Custody(CustodyAt),
    /// Its seq, its leaf hash, the entry.
    Other(u64, Hash, Box<Result<Entry, EntryError>>),
}

/// A stretch of the log read for the registry's replay, by an audit reader: custody entries
/// (nearly all of a log) read through [`EntryView`] into one buffer for the whole stretch,
/// other entries parsed whole, and the rows stored for them. What can be compared without the
/// entries before — every column of a custody event's row but its link to the item's previous
/// event — is compared here, on the reader's thread.
#[derive(Debug, Default)]
pub struct ReadEntries {
    text: String,
    entries: Vec<ReadEntry>,
    differences: Vec<Difference>,
    stored_access: Vec<AccessRow>,
}

impl ReadEntries {
    /// Room for `rows` entries read: a stretch's buffers are sized once, not grown (growing
    /// buffers of megabytes was a third of a reader's time, copying and zeroing new pages).
    pub fn with_room_for(rows: usize) -> Self {
        Self {
            text: String::with_capacity(rows * 256),
            entries: Vec::with_capacity(rows),
            ..Self::default()
        }
    }

    fn span(&mut self, text: &str) -> Span {
        let start = self.text.len() as u32;
        self.text.push_str(text);
        Span {
            start,
            end: self.text.len() as u32,
        }
    }

    fn text(&self, span: Span) -> &str {
        self.text
            .get(span.start as usize..span.end as usize)
            .unwrap_or_default()
    }

    /// Reads entry `seq`, of leaf hash `leaf`, from its bytes.
    pub fn push(&mut self, seq: u64, leaf: Hash, body: &[u8]) {
        let custody = EntryView::parse(body).ok().and_then(|view| {
            let facts = view.custody_facts()?;
            Some(CustodyAt {
                seq: view.seq,
                version: view.v,
                leaf,
                case_prev: view.case_prev,
                time: self.span(&view.time),
                actor: self.span(&view.actor.user),
                id: self.span(facts.id),
                item: self.span(facts.item),
                case: self.span(facts.case),
                event_type: facts.event_type,
                at: self.span(facts.at),
                to_user: facts.to_user.map(|t| self.span(t)),
                sha256: facts.sha256.map(|t| self.span(t)),
                result: facts.result,
                amends: facts.amends.map(|t| self.span(t)),
                derived_item: facts.derived_item.map(|t| self.span(t)),
                stored_link: None,
            })
        });
        self.entries.push(match custody {
            Some(custody) if custody.seq == seq => ReadEntry::Custody(custody),
            _ => ReadEntry::Other(seq, leaf, Box::new(Entry::parse_content(body))),
        });
    }

    /// The time, actor and facts of a custody entry read.
    fn facts(&self, c: &CustodyAt) -> (&str, &str, CustodyFacts<'_>) {
        let opt = |span: Option<Span>| span.map(|s| self.text(s));
        (
            self.text(c.time),
            self.text(c.actor),
            CustodyFacts {
                id: self.text(c.id),
                item: self.text(c.item),
                case: self.text(c.case),
                event_type: c.event_type,
                at: self.text(c.at),
                to_user: opt(c.to_user),
                sha256: opt(c.sha256),
                result: c.result,
                amends: opt(c.amends),
                derived_item: opt(c.derived_item),
            },
        )
    }

    /// Reads the rows stored for entries `from..to` and compares each custody event row with
    /// its entry, but for the link to the item's previous event (compared by the replay).
    pub fn check_stored(
        &mut self,
        conn: &mut DbConnection,
        from: u64,
        to: u64,
    ) -> Result<(), StorageError> {
        let stored = projection_rows::custody_events_between(conn, from, to)?;
        self.stored_access = projection_rows::access_between(conn, from, to)?;
        let mut stored = stored.into_iter().peekable();
        let mut differences = Vec::new();
        let mut links = Vec::with_capacity(self.entries.len());
        for (index, entry) in self.entries.iter().enumerate() {
            let ReadEntry::Custody(custody) = entry else {
                continue;
            };
            let seq = custody.seq as i64;
            while let Some(row) = stored.next_if(|row| row.seq < seq) {
                compare(None, Some(&row), &mut differences);
            }
            let Some(row) = stored.next_if(|row| row.seq == seq) else {
                continue;
            };
            let (time, actor, facts) = self.facts(custody);
            let expected = EventRow::of(custody.seq, time, actor, &facts, None);
            for (column, want, have) in expected.differences_but_chain(&row) {
                differences.push((
                    Some(custody.seq),
                    t!(
                        "audit-row-differs",
                        table = "custody_events",
                        key = seq,
                        column = column,
                        stored = Cell::Text(have),
                        expected = Cell::Text(want.to_owned())
                    ),
                ));
            }
            links.push((index, row.item_prev_seq));
        }
        for row in stored {
            compare(None, Some(&row), &mut differences);
        }
        for (index, link) in links {
            if let Some(ReadEntry::Custody(custody)) = self.entries.get_mut(index) {
                custody.stored_link = Some(link);
            }
        }
        self.differences.extend(differences);
        Ok(())
    }
}

/// The replay of the log in memory, entry after entry, and its comparison with the tables.
#[derive(Default)]
pub struct RegistryAudit {
    registry: MemoryRegistry,
    /// Where the replay stopped for good: an entry is missing, so nothing after it can be said.
    stopped_at: Option<u64>,
    /// Entries replayed.
    replayed: u64,
}

impl RegistryAudit {
    /// Replays a stretch of entries read (in log order, from the next one the replay expects)
    /// and compares the rows each one makes with the rows stored for it.
    pub fn replay(&mut self, read: ReadEntries, out: &mut Vec<Difference>) {
        if self.stopped_at.is_some() {
            return;
        }
        out.extend(read.differences.iter().cloned());
        for entry in &read.entries {
            let seq = match entry {
                ReadEntry::Custody(custody) => custody.seq,
                ReadEntry::Other(seq, _, _) => *seq,
            };
            if seq != self.replayed {
                self.stopped_at = Some(self.replayed);
                return;
            }
            self.replayed += 1;
            match entry {
                ReadEntry::Custody(custody) => self.replay_custody(&read, custody, out),
                ReadEntry::Other(_, leaf, parsed) => match parsed.as_ref() {
                    Ok(entry) if entry.seq == seq => {
                        if let Some(case) = entry.event.case_chain() {
                            let linked = (entry.version >= FORMAT_VERSION
                                && entry.event.links_to_case())
                            .then_some(entry.case_prev);
                            self.follow_case(seq, case, linked, *leaf, out);
                        }
                        if let Err(e) = apply(&mut self.registry, &entry.applied()) {
                            out.push((Some(seq), refused(&e)));
                        }
                    }
                    Ok(entry) => out.push((
                        Some(seq),
                        t!(
                            "audit-entry-unreadable",
                            detail = format!("seq {}", entry.seq)
                        ),
                    )),
                    Err(e) => out.push((Some(seq), t!("audit-entry-unreadable", detail = e))),
                },
            }
        }
        let access = std::mem::take(&mut self.registry.new_access);
        compare_per_entry(|r: &AccessRow| r.seq, access, read.stored_access, out);
    }

    /// Holds entry `seq` of `case`'s custody record to the case's chain: from format 2 on
    /// (`linked` is then the link it carries, if any) it links to the case's newest entry so far
    /// (DESIGN §8); then it is the newest.
    fn follow_case(
        &mut self,
        seq: u64,
        case: &str,
        linked: Option<Option<CaseLink>>,
        leaf: Hash,
        out: &mut Vec<Difference>,
    ) {
        let newest = self.registry.heads.get(case).copied();
        if let Some(link) = linked
            && link != newest
        {
            let seq_of = |l: Option<CaseLink>| l.map_or("—".to_owned(), |l| l.seq.to_string());
            out.push((
                Some(seq),
                t!(
                    "audit-case-chain-broken",
                    case = shown(case),
                    links = seq_of(link),
                    newest = seq_of(newest)
                ),
            ));
        }
        self.registry
            .heads
            .insert(case.to_owned(), CaseLink { seq, leaf });
    }

    /// Applies a custody entry and compares its row's link to the item's previous event.
    fn replay_custody(
        &mut self,
        read: &ReadEntries,
        custody: &CustodyAt,
        out: &mut Vec<Difference>,
    ) {
        let (time, actor, facts) = read.facts(custody);
        let seq = custody.seq;
        let linked = (custody.version >= FORMAT_VERSION).then_some(custody.case_prev);
        self.follow_case(seq, facts.case, linked, custody.leaf, out);
        let applied = custody_event(&mut self.registry, seq, time, actor, &facts);
        let link = self.registry.last_chain_link.take();
        match (applied, link, custody.stored_link) {
            (Ok(()), Some(want), Some(have)) if want != have => out.push((
                Some(seq),
                t!(
                    "audit-row-differs",
                    table = "custody_events",
                    key = seq,
                    column = "item_prev_seq",
                    stored = have.cell(),
                    expected = want.cell()
                ),
            )),
            (Ok(()), _, None) => out.push((
                Some(seq),
                t!("audit-row-missing", table = "custody_events", key = seq),
            )),
            (Err(e), _, stored) => {
                out.push((Some(seq), refused(&e)));
                if stored.is_some() {
                    out.push((
                        Some(seq),
                        t!("audit-row-unaccounted", table = "custody_events", key = seq),
                    ));
                }
            }
            _ => {}
        }
    }

    /// Entries replayed so far.
    pub fn replayed(&self) -> u64 {
        self.replayed
    }

    /// In one snapshot of the database: replays the entries appended since the audit fixed its
    /// end (a running server's), then compares every table with the replayed registry. Where a
    /// missing entry stopped the replay, says so once instead.
    pub fn finish(
        mut self,
        conn: &mut DbConnection,
        out: &mut Vec<Difference>,
    ) -> Result<(), StorageError> {
        if let Some(seq) = self.stopped_at {
            out.push((Some(seq), t!("audit-registry-not-compared")));
            return Ok(());
        }
        with_read_snapshot(conn, |conn| -> Result<(), StorageError> {
            let (head, _) = log_store::head(conn)?;
            let mut at = self.replayed;
            while at < head {
                let to = head.min(at + projection_rows::PAGE as u64);
                let mut read = ReadEntries::default();
                for (seq, _, body) in log_store::entries_range(conn, at, to)? {
                    read.push(seq as u64, merkle::leaf_hash(&body), &body);
                }
                read.check_stored(conn, at, to)?;
                self.replay(read, out);
                at = to;
            }
            if let Some(seq) = self.stopped_at {
                out.push((Some(seq), t!("audit-registry-not-compared")));
                return Ok(());
            }
            let (event, access) = projection_rows::per_entry_rows_outside(conn, head)?;
            if let Some(seq) = event {
                out.push((
                    None,
                    t!("audit-row-unaccounted", table = "custody_events", key = seq),
                ));
            }
            if let Some(seq) = access {
                out.push((
                    None,
                    t!("audit-row-unaccounted", table = "access_records", key = seq),
                ));
            }
            self.compare_tables(conn, out)
        })
    }

    /// Compares the tables whose rows entries keep changing with the replayed registry.
    fn compare_tables(
        self,
        conn: &mut DbConnection,
        out: &mut Vec<Difference>,
    ) -> Result<(), StorageError> {
        let registry = self.registry;
        let facts = registry
            .items
            .values()
            .map(|item| (item.id.clone(), ItemFactsRow::from(item)))
            .collect();
        let states = registry
            .items
            .values()
            .map(|item| (item.id.clone(), CustodyStateRow::from(item)))
            .collect();
        compare_table(
            conn,
            registry.agencies,
            projection_rows::agencies_after,
            out,
        )?;
        compare_table(conn, registry.users, projection_rows::users_after, out)?;
        compare_table(conn, registry.cases, projection_rows::cases_after, out)?;
        compare_table(conn, facts, projection_rows::item_facts_after, out)?;
        compare_table(conn, states, projection_rows::custody_states_after, out)?;
        compare_table(conn, registry.shares, projection_rows::shares_after, out)?;
        compare_table(conn, registry.persons, projection_rows::persons_after, out)?;
        let heads = registry
            .heads
            .iter()
            .map(|(case, link)| {
                (
                    case.clone(),
                    CaseHeadRow {
                        case_id: case.clone(),
                        seq: link.seq as i64,
                        leaf: link.leaf.to_vec(),
                    },
                )
            })
            .collect();
        compare_table(conn, heads, projection_rows::case_heads_after, out)?;
        for record in projection_rows::sealed_among(conn, &registry.erased)? {
            out.push((
                None,
                t!("audit-erased-record-present", record = shown(&record)),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn share(id: &str, revoked: Option<&str>) -> ShareRow {
        ShareRow {
            id: id.into(),
            case_id: "c1".into(),
            seq: 4,
            shared_by: "u1".into(),
            recipient_agency: Some("bj.police".into()),
            recipient_state: None,
            handling: "H1".into(),
            purposes: "investigation".into(),
            confidential: false,
            consent_for_court: false,
            expires_at: "2027-01-01T00:00:00Z".into(),
            conditions_record: None,
            shared_at: "2026-11-23T10:00:00Z".into(),
            revoked_at: revoked.map(str::to_owned),
        }
    }

    #[test]
    fn a_difference_names_table_row_and_column_with_both_values() {
        let mut out = Vec::new();
        compare(
            Some(&share("s1", Some("2026-12-01T00:00:00Z"))),
            Some(&share("s1", None)),
            &mut out,
        );
        assert_eq!(out.len(), 1);
        let text = out[0].1.en();
        for part in [
            "case_shares",
            "s1",
            "revoked_at",
            "NULL",
            "2026-12-01T00:00:00Z",
        ] {
            assert!(text.contains(part), "{text}");
        }
        out.clear();
        compare(Some(&share("s1", None)), Some(&share("s1", None)), &mut out);
        assert!(out.is_empty());
    }

    #[test]
    fn per_entry_rows_are_merged_by_seq() {
        let row = |seq: i64| AccessRow {
            seq,
            actor_id: "u1".into(),
            agency_id: "tg.police".into(),
            role: "investigator".into(),
            action: "case.read".into(),
            resource: "c1".into(),
            case_id: Some("c1".into()),
            purpose: None,
            decision: "allowed".into(),
            policies: "p".into(),
            at: "t".into(),
            repeated: None,
        };
        let mut out = Vec::new();
        compare_per_entry(
            |r: &AccessRow| r.seq,
            vec![row(1), row(3), row(5)],
            vec![row(1), row(2), row(5), row(6)],
            &mut out,
        );
        let texts: Vec<String> = out.iter().map(|(_, m)| m.en()).collect();
        assert_eq!(texts.len(), 3, "{texts:?}");
        assert!(
            texts[0].contains("2") && texts[0].contains("no entry"),
            "{texts:?}"
        );
        assert!(
            texts[1].contains("3") && texts[1].contains("missing"),
            "{texts:?}"
        );
        assert!(
            texts[2].contains("6") && texts[2].contains("no entry"),
            "{texts:?}"
        );
    }

    /// Stored text is shown escaped: a newline cannot forge a line of the report.
    #[test]
    fn stored_text_is_shown_escaped() {
        let cell = Cell::Text("x\nAUDIT PASSED\u{202e}".into());
        let shown = cell.to_string();
        assert!(
            !shown.contains('\n') && !shown.contains('\u{202e}'),
            "{shown}"
        );
    }
}
