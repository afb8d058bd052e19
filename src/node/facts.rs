//! What never changes about a case or an item once recorded (its owner, its state, its case,
//! its registered SHA-256), kept in memory so that authorizing a request or recording a custody
//! event needs no database read before it reaches the sequencer. Read from the registry once,
//! and vouched for against the log then (`ledger::vouch`).

use std::collections::HashMap;
use std::sync::RwLock;

use scelle_verifier::model::Jurisdiction;

use crate::error::ServiceError;
use crate::ledger::error::Missing;
use crate::ledger::vouch;
use crate::storage::{self, Pool, StorageError, registry};

/// What never changes about a case once opened: who owns it and in which state.
#[derive(Debug, Clone)]
pub struct CaseFacts {
    /// The agency that opened it.
    pub agency: String,
    /// Its jurisdiction.
    pub state: Jurisdiction,
}

/// What never changes about an evidence item once registered.
#[derive(Debug, Clone)]
pub struct ItemFacts {
    /// The case it belongs to.
    pub case_id: String,
    /// The SHA-256 it was registered with (an integrity check compares with it).
    pub sha256: String,
    /// When it was collected (RFC 3339 with its zone): no custody event comes before.
    pub collected_at: String,
}

/// Entries kept at most per map; beyond it the map starts again empty.
const MAX_FACTS: usize = 200_000;

/// The caches of case and item facts.
#[derive(Default)]
pub struct Facts {
    items: RwLock<HashMap<String, ItemFacts>>,
    cases: RwLock<HashMap<String, CaseFacts>>,
}

fn remember<T: Clone>(map: &RwLock<HashMap<String, T>>, id: &str, facts: &T) {
    if let Ok(mut map) = map.write() {
        if map.len() >= MAX_FACTS {
            map.clear();
        }
        map.insert(id.to_owned(), facts.clone());
    }
}

fn recall<T: Clone>(map: &RwLock<HashMap<String, T>>, id: &str) -> Option<T> {
    map.read().ok()?.get(id).cloned()
}

impl Facts {
    /// The facts of an item, from memory or, the first time, from the database.
    pub fn item(&self, pool: &Pool, id: &str) -> Result<ItemFacts, ServiceError> {
        if let Some(facts) = recall(&self.items, id) {
            return Ok(facts);
        }
        let mut conn = storage::get_conn(pool)?;
        let row = registry::evidence_by_id(&mut conn, id)?
            .ok_or(ServiceError::NotFound(Missing::Evidence))?;
        vouch::item_facts(&mut conn, &row)?;
        let facts = ItemFacts {
            case_id: row.case_id,
            sha256: row.sha256,
            collected_at: row.collected_at,
        };
        remember(&self.items, id, &facts);
        Ok(facts)
    }

    /// The facts of a case, from memory or, the first time, from the database.
    pub fn case(&self, pool: &Pool, id: &str) -> Result<CaseFacts, ServiceError> {
        if let Some(facts) = recall(&self.cases, id) {
            return Ok(facts);
        }
        let mut conn = storage::get_conn(pool)?;
        let row =
            registry::case_by_id(&mut conn, id)?.ok_or(ServiceError::NotFound(Missing::Case))?;
        vouch::case(&mut conn, &row)?;
        let facts = CaseFacts {
            state: Jurisdiction::parse(&row.jurisdiction)
                .map_err(|_| StorageError::Corrupt(format!("case {id} has a bad state")))?,
            agency: row.agency_id,
        };
        remember(&self.cases, id, &facts);
        Ok(facts)
    }
}
