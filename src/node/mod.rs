//! The node context every use case receives: the database pool, the one sequencer, the vault,
//! the policies, the clock, and who the node is (its key, its agency and state).
//!
//! Opening a node checks that the database and the key belong together, seals any clear-text
//! vault rows an older version left, and starts the sequencer. The context holds state, not
//! behaviour: what people do with a node lives in `usecases`, one module per area.

pub mod denials;
pub mod facts;
pub mod files;
pub mod ids;
pub mod published;
pub mod throttle;
pub mod vault;

use diesel::Connection as _;
use std::path::Path;
use std::sync::Arc;
use std::thread::JoinHandle;

use scelle_verifier::model::{DataCategory, Jurisdiction};
use scelle_verifier::note::{NoteSigner, NoteVerifier};

use crate::clock::Clock;
use crate::error::ServiceError;
use crate::ledger::proof_cache::{self, ProofCache};
use crate::ledger::sequencer::Sequencer;
use crate::policy::cedar::PolicyEngine;
use crate::policy::retention::RetentionRules;
use crate::storage::{
    self, DatabaseUrl, DbConnection, Pool, PooledConn, StorageError, identity, log_store, registry,
};

use facts::{CaseFacts, Facts, ItemFacts};
use throttle::LoginThrottle;
use vault::{EPOCH_KEYS_FILE, VAULT_KEY_FILE, Vault};

/// The setting that names the node's own agency.
pub const NODE_AGENCY_SETTING: &str = "node_agency";

/// The user id of the node acting on its own (a bootstrap, an operator's command, a task).
const SYSTEM_USER: &str = "system";

/// The node acting on its own for `agency`.
pub fn system_actor(agency: &str) -> scelle_verifier::entry::Actor {
    scelle_verifier::entry::Actor {
        user: SYSTEM_USER.into(),
        agency: agency.into(),
        role: scelle_verifier::model::Role::Admin,
    }
}

/// An open node: what every use case works with.
pub struct Node {
    pool: Pool,
    sequencer: Sequencer,
    signer: Arc<NoteSigner>,
    verifier_key: String,
    vault: Vault,
    policies: Arc<PolicyEngine>,
    retention: Arc<RetentionRules>,
    clock: Clock,
    /// The node's own agency and its state: the `Node` resource of the policies.
    agency: String,
    state: Jurisdiction,
    facts: Facts,
    logins: LoginThrottle,
    refusals: denials::RefusalCounter<(
        scelle_verifier::entry::Actor,
        scelle_verifier::entry::AccessRecord,
    )>,
    /// The tree's upper levels, for proofs.
    proofs: ProofCache,
}

impl Node {
    /// Opens an initialized node: key, migrated pool and a running sequencer (whose thread
    /// `shutdown` joins).
    pub fn open(
        data_dir: &Path,
        database: &DatabaseUrl,
        pool_size: u32,
    ) -> Result<(Self, JoinHandle<()>), ServiceError> {
        let signer = Arc::new(files::load_signer(data_dir)?);
        let pool = storage::open_pool(database, pool_size)?;
        check_origin(&mut *storage::get_conn(&pool)?, signer.name())?;
        let vault = open_vault(data_dir, &mut *storage::get_conn(&pool)?)?;
        let (agency, state) = node_agency(&mut *storage::get_conn(&pool)?)?;
        let (sequencer, handle) = Sequencer::start(database, signer.clone())?;
        let verifier_key = signer.verifier_key_string();
        Ok((
            Self {
                pool,
                sequencer,
                signer,
                verifier_key,
                vault,
                policies: Arc::new(PolicyEngine::builtin()?),
                retention: Arc::new(RetentionRules::builtin()?),
                clock: Clock::system(),
                agency,
                state,
                facts: Facts::default(),
                logins: LoginThrottle::default(),
                refusals: denials::RefusalCounter::default(),
                proofs: ProofCache::new(proof_cache::CAPACITY),
            },
            handle,
        ))
    }

    /// Opens a node that must already exist where it is pointed, refusing what would make a
    /// new node or fork the log: a folder with no key, key files others may read, a database
    /// missing or with no log, or a log that does not extend what this node has published.
    pub fn open_existing(
        data_dir: &Path,
        database: &DatabaseUrl,
        pool_size: u32,
    ) -> Result<(Self, JoinHandle<()>), ServiceError> {
        use crate::error::StartRefusal;
        if !data_dir.join(files::KEY_FILE).exists() {
            return Err(ServiceError::StartRefused(StartRefusal::NoNodeInFolder {
                dir: data_dir.display().to_string(),
            }));
        }
        for file in [
            files::KEY_FILE,
            files::NEXT_KEY_FILE,
            VAULT_KEY_FILE,
            EPOCH_KEYS_FILE,
        ] {
            published::check_private(&data_dir.join(file))?;
        }
        if let DatabaseUrl::Sqlite(path) = database
            && !path.exists()
        {
            return Err(ServiceError::StartRefused(StartRefusal::NoDatabase {
                database: database.to_string(),
            }));
        }
        {
            // Before the migrations make an empty database look like a node.
            let mut c = database.connect()?;
            let has_log = storage::has_log_table(&mut c)?;
            if !has_log {
                return Err(ServiceError::StartRefused(StartRefusal::NoDatabase {
                    database: database.to_string(),
                }));
            }
        }
        let (node, handle) = Self::open(data_dir, database, pool_size)?;
        let checked = node
            .connection()
            .and_then(|mut c| published::check_extends(data_dir, &mut c, &database.to_string()));
        if let Err(e) = checked {
            node.shutdown(handle);
            return Err(e);
        }
        Ok((node, handle))
    }

    /// Replaces the access policies and retention rules (from `scelle serve --policies DIR`).
    pub fn with_policies(mut self, policies: PolicyEngine, retention: RetentionRules) -> Self {
        self.policies = Arc::new(policies);
        self.retention = Arc::new(retention);
        self
    }

    /// Stops the sequencer once every clone of it is gone and waits for its last batch.
    pub fn shutdown(self, handle: JoinHandle<()>) {
        drop(self);
        let _ = handle.join();
    }

    /// The database pool.
    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    /// A pooled connection.
    pub fn connection(&self) -> Result<PooledConn, ServiceError> {
        Ok(storage::get_conn(&self.pool)?)
    }

    /// A database connection, or an error once `wait` has passed.
    pub fn connection_within(&self, wait: std::time::Duration) -> Result<PooledConn, ServiceError> {
        Ok(storage::get_conn_within(&self.pool, wait)?)
    }

    /// The one ordered append path.
    pub fn sequencer(&self) -> &Sequencer {
        &self.sequencer
    }

    /// The personal-data vault's keys.
    pub fn vault(&self) -> &Vault {
        &self.vault
    }

    /// The access policies.
    pub fn policies(&self) -> &PolicyEngine {
        &self.policies
    }

    /// The retention rules.
    pub fn retention(&self) -> &RetentionRules {
        &self.retention
    }

    /// The clock use cases read.
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// The log's origin (the name in its checkpoints).
    pub fn origin(&self) -> &str {
        self.signer.name()
    }

    /// The node's verifier key (C2SP signed-note form).
    pub fn verifier_key(&self) -> &str {
        &self.verifier_key
    }

    /// The verifier for this node's own notes.
    pub fn note_verifier(&self) -> Result<NoteVerifier, ServiceError> {
        self.signer
            .verifier()
            .map_err(|e| ServiceError::Internal(e.to_string()))
    }

    /// Signs a note (checkpoint-like text) with the node key.
    pub fn sign_note(&self, text: &str) -> Result<String, ServiceError> {
        self.signer
            .sign_note(text)
            .map_err(|e| ServiceError::Internal(e.to_string()))
    }

    /// The node's own agency.
    pub fn agency(&self) -> &str {
        &self.agency
    }

    /// The state of the node's own agency.
    pub fn state(&self) -> Jurisdiction {
        self.state
    }

    /// The immutable facts of an item.
    pub fn item_facts(&self, id: &str) -> Result<ItemFacts, ServiceError> {
        self.facts.item(&self.pool, id)
    }

    /// The immutable facts of a case.
    pub fn case_facts(&self, id: &str) -> Result<CaseFacts, ServiceError> {
        self.facts.case(&self.pool, id)
    }

    /// Failed web logins, per login name and client.
    pub fn logins(&self) -> &LoginThrottle {
        &self.logins
    }

    /// The refusals counted rather than appended one by one (`authz`).
    pub fn refusals(
        &self,
    ) -> &denials::RefusalCounter<(
        scelle_verifier::entry::Actor,
        scelle_verifier::entry::AccessRecord,
    )> {
        &self.refusals
    }

    /// The tree's upper levels, for proofs.
    pub fn proofs(&self) -> &ProofCache {
        &self.proofs
    }
}

/// The database must belong to the log whose key the folder holds.
fn check_origin(c: &mut DbConnection, origin: &str) -> Result<(), ServiceError> {
    match log_store::setting(c, "origin")? {
        Some(stored) if stored != origin => Err(ServiceError::Internal(format!(
            "the database belongs to log `{stored}` but the key is for `{origin}`"
        ))),
        Some(_) => Ok(()),
        None => Ok(log_store::set_setting(c, "origin", origin)?),
    }
}

/// The vault keys of the folder. A missing key file is created only while no record needs it:
/// a new key would silently make sealed records unreadable. A rotation a crash interrupted is
/// finished here, before the node serves.
fn open_vault(data_dir: &Path, c: &mut DbConnection) -> Result<Vault, ServiceError> {
    let missing = |file: &str| {
        ServiceError::Internal(format!(
            "the vault key {} is missing but the database holds records sealed under it; restore the key file",
            data_dir.join(file).display()
        ))
    };
    if !data_dir.join(VAULT_KEY_FILE).exists() && registry::any_sealed(c)? {
        return Err(missing(VAULT_KEY_FILE));
    }
    if !data_dir.join(EPOCH_KEYS_FILE).exists() && vault::any_epoch_wrapped(c)? {
        return Err(missing(EPOCH_KEYS_FILE));
    }
    let vault = Vault::load_or_create(data_dir)?;
    vault.check_against(c)?;
    seal_legacy_vault(c, &vault)?;
    if vault.rotation_unfinished()? {
        vault.rotate(c)?;
    }
    Ok(vault)
}

/// The node's own agency and its state: the setting written at initialization or, for a node
/// initialized before it existed, the first agency registered.
fn node_agency(c: &mut DbConnection) -> Result<(String, Jurisdiction), ServiceError> {
    let id = match log_store::setting(c, NODE_AGENCY_SETTING)? {
        Some(id) => id,
        None => match identity::first_agency(c)? {
            Some(row) => row.id,
            None => return Ok((String::new(), Jurisdiction::Togo)),
        },
    };
    let state = match identity::agency(c, &id)? {
        Some(row) => Jurisdiction::parse(&row.state)
            .map_err(|_| StorageError::Corrupt(format!("agency {id} has a bad state")))?,
        None => Jurisdiction::from_agency_id(&id)
            .ok_or_else(|| StorageError::Corrupt(format!("node agency {id} has no state")))?,
    };
    Ok((id, state))
}

/// Seals clear-text rows a node wrote before the vault was encrypted, then deletes them.
fn seal_legacy_vault(c: &mut DbConnection, vault: &Vault) -> Result<(), ServiceError> {
    loop {
        let rows = registry::legacy_vault_rows(c, 1_000)?;
        if rows.is_empty() {
            return Ok(());
        }
        let hold = vault.hold()?;
        let sealed = rows
            .iter()
            .map(|r| {
                hold.seal(
                    &r.id,
                    &r.salt,
                    &r.value,
                    r.created_at.clone(),
                    None,
                    DataCategory::CaseText,
                )
            })
            .collect::<Result<Vec<_>, _>>()?;
        let ids: Vec<String> = rows.into_iter().map(|r| r.id).collect();
        c.transaction(|c| -> Result<(), ServiceError> {
            registry::insert_sealed(c, &sealed)?;
            registry::delete_legacy_vault_rows(c, &ids)?;
            Ok(())
        })?;
    }
}
