//! The node: its key, database and sequencer, and the use cases the HTTP API and CLI call.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use diesel::Connection as _;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::thread::JoinHandle;

use crate::core::commitment::{self, Commitment};
use crate::core::entry::{
    Acquisition, Actor, AgencyRecord, CaseRecord, CustodyRecord, ErasureRecord, Event,
    EvidenceRecord, Hashes, UserRecord,
};
use crate::core::merkle::{self, Hash};
use crate::core::model::{
    self, CustodyEventType, DataCategory, EvidenceKind, FieldError, IntegrityResult, Jurisdiction,
    Purpose, Role, now_utc,
};
use crate::core::note::{NoteSigner, NoteVerifier};
use crate::storage::identity::{self, AgencyRow, UserRow};
use crate::storage::log_store::{self, CheckpointRow};
use crate::storage::registry::{self, CaseRow, CustodyEventWithEntry, EvidenceRow, SealedRow};
use crate::storage::{self, DatabaseUrl, DbConnection, Pool, PooledConn, StorageError};

use super::access::{Ask, Target};
use super::accounts::LoginThrottle;
use super::auth::{self, AuthUser, new_id};
use super::authz::{Action, PolicyEngine};
use super::node_cache::{self, NodeCache};
use super::retention::RetentionRules;
use super::sequencer::{Pending, PipelineStats, Receipt, Sequencer, SideWrites, Submitted};
use super::vault::{VAULT_KEY_FILE, VaultKey};
use super::{Missing, ServiceError};

pub const KEY_FILE: &str = "node.key";
const NODE_AGENCY_SETTING: &str = "node_agency";
const SYSTEM_USER: &str = "system";

/// Reads the node's signing key from its data folder.
pub fn load_signer(data_dir: &Path) -> Result<NoteSigner, ServiceError> {
    let path = data_dir.join(KEY_FILE);
    let text = std::fs::read_to_string(&path).map_err(|e| {
        ServiceError::Internal(format!("cannot read node key {}: {e}", path.display()))
    })?;
    NoteSigner::from_private_key_string(&text)
        .map_err(|e| ServiceError::Internal(format!("node key {} is invalid: {e}", path.display())))
}

pub(crate) fn write_private_file(path: &Path, contents: &str) -> Result<(), ServiceError> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| ServiceError::Internal(format!("cannot create {}: {e}", path.display())))?;
    f.write_all(contents.as_bytes())
        .and_then(|_| f.sync_all())
        .map_err(|e| ServiceError::Internal(format!("cannot write {}: {e}", path.display())))
}

#[derive(Debug, Clone)]
pub struct InitOptions {
    pub data_dir: PathBuf,
    pub database: DatabaseUrl,
    pub origin: String,
    pub agency_id: String,
    pub agency_name: String,
}

#[derive(Debug, Clone)]
pub struct InitReport {
    pub verifier_key: String,
    pub created_key: bool,
    pub admin_token: Option<String>,
}

pub struct Ledger {
    pub(super) pool: Pool,
    pub(super) sequencer: Sequencer,
    signer: Arc<NoteSigner>,
    verifier_key: String,
    item_facts: RwLock<HashMap<String, ItemFacts>>,
    pub(super) case_facts: RwLock<HashMap<String, CaseFacts>>,
    pub(super) vault: VaultKey,
    pub(super) policies: Arc<PolicyEngine>,
    /// The state of the node's own agency: the `Node` resource of the policies.
    pub(super) node_state: Jurisdiction,
    pub(super) node_agency: String,
    pub(super) retention: Arc<RetentionRules>,
    pub(super) logins: LoginThrottle,
    /// The tree's upper levels, for proofs.
    pub(super) nodes: NodeCache,
}

/// What never changes about a case once opened, kept in memory for the authorization point.
#[derive(Debug, Clone)]
pub struct CaseFacts {
    pub agency: String,
    pub state: Jurisdiction,
}

/// Values sealed for one request: the rows to store, and the clear text for the answer.
#[derive(Default)]
pub(super) struct Sealing {
    pub(super) rows: Vec<SealedRow>,
    clear: Vec<(String, String)>,
}

impl Sealing {
    fn clear_of(&self, c: &Option<Commitment>) -> Option<String> {
        let record = &c.as_ref()?.record;
        self.clear
            .iter()
            .find(|(id, _)| id == record)
            .map(|(_, v)| v.clone())
    }
}

/// What never changes about an evidence item once registered, kept in memory so recording a
/// custody event needs no database read before it reaches the sequencer.
#[derive(Debug, Clone)]
pub(super) struct ItemFacts {
    pub(super) case_id: String,
    sha256: String,
}

/// Items whose facts are kept at most; beyond it the cache starts again empty.
const MAX_ITEM_FACTS: usize = 200_000;

fn conn(pool: &Pool) -> Result<PooledConn, ServiceError> {
    Ok(storage::get_conn(pool)?)
}

impl Ledger {
    /// Prepares a data folder and database: key (0600), schema, the node's own agency, and a first
    /// admin when there is none yet. Safe to run twice.
    pub fn init(opts: &InitOptions) -> Result<InitReport, ServiceError> {
        std::fs::create_dir_all(&opts.data_dir).map_err(|e| {
            ServiceError::Internal(format!("cannot create {}: {e}", opts.data_dir.display()))
        })?;
        let key_path = opts.data_dir.join(KEY_FILE);
        let created_key = !key_path.exists();
        if created_key {
            let name = model::parse_label("origin", &opts.origin, 200)?;
            let signer =
                NoteSigner::generate(&name).map_err(|e| ServiceError::Internal(e.to_string()))?;
            write_private_file(
                &key_path,
                &(signer
                    .private_key_string()
                    .map_err(|e| ServiceError::Internal(e.to_string()))?
                    + "\n"),
            )?;
        }
        let (ledger, handle) = Ledger::open(&opts.data_dir, &opts.database, 2)?;
        let admin_token = ledger.bootstrap(&opts.agency_id, &opts.agency_name)?;
        let verifier_key = ledger.verifier_key.clone();
        ledger.shutdown(handle);
        Ok(InitReport {
            verifier_key,
            created_key,
            admin_token,
        })
    }

    /// Opens an initialized node: key, migrated pool and a running sequencer.
    pub fn open(
        data_dir: &Path,
        database: &DatabaseUrl,
        pool_size: u32,
    ) -> Result<(Self, JoinHandle<()>), ServiceError> {
        let signer = Arc::new(load_signer(data_dir)?);
        let pool = storage::open_pool(database, pool_size)?;
        {
            let mut c = conn(&pool)?;
            match log_store::setting(&mut c, "origin")? {
                Some(origin) if origin != signer.name() => {
                    return Err(ServiceError::Internal(format!(
                        "the database belongs to log `{origin}` but the key is for `{}`",
                        signer.name()
                    )));
                }
                Some(_) => {}
                None => log_store::set_setting(&mut c, "origin", signer.name())?,
            }
        }
        let vault = {
            let mut c = conn(&pool)?;
            // A missing key is created only while the vault is empty: a new key would silently
            // make every sealed record unreadable.
            if !data_dir.join(VAULT_KEY_FILE).exists() && registry::any_sealed(&mut c)? {
                return Err(ServiceError::Internal(format!(
                    "the vault key {} is missing but the database holds sealed records; restore the key file",
                    data_dir.join(VAULT_KEY_FILE).display()
                )));
            }
            let vault = VaultKey::load_or_create(data_dir)?;
            seal_legacy_vault(&mut c, &vault)?;
            vault
        };
        let (node_agency, node_state) = node_agency(&mut *conn(&pool)?)?;
        let (sequencer, handle) = Sequencer::start(database, signer.clone())?;
        let verifier_key = signer.verifier_key_string();
        Ok((
            Self {
                pool,
                sequencer,
                signer,
                verifier_key,
                item_facts: RwLock::new(HashMap::new()),
                case_facts: RwLock::new(HashMap::new()),
                vault,
                policies: Arc::new(PolicyEngine::builtin()?),
                node_state,
                node_agency,
                retention: Arc::new(RetentionRules::builtin()?),
                logins: LoginThrottle::default(),
                nodes: NodeCache::new(node_cache::CAPACITY),
            },
            handle,
        ))
    }

    /// Replaces the access policies and retention rules (from `scelle serve --policies DIR`).
    pub fn with_policies(mut self, policies: PolicyEngine, retention: RetentionRules) -> Self {
        self.policies = Arc::new(policies);
        self.retention = Arc::new(retention);
        self
    }

    pub fn policies(&self) -> &PolicyEngine {
        &self.policies
    }

    pub fn node_state(&self) -> Jurisdiction {
        self.node_state
    }

    /// Stops the sequencer once every clone of it is gone and waits for its last batch.
    pub fn shutdown(self, handle: JoinHandle<()>) {
        drop(self);
        let _ = handle.join();
    }

    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    pub fn origin(&self) -> &str {
        self.signer.name()
    }

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
    pub(crate) fn sign_note(&self, text: &str) -> Result<String, ServiceError> {
        self.signer
            .sign_note(text)
            .map_err(|e| ServiceError::Internal(e.to_string()))
    }

    /// The salt and value of a sealed vault record.
    pub(crate) fn open_sealed(&self, row: &SealedRow) -> Result<(Vec<u8>, String), ServiceError> {
        self.vault.open(row)
    }

    pub(crate) fn connection(&self) -> Result<PooledConn, ServiceError> {
        conn(&self.pool)
    }

    fn system_actor(agency: &str) -> Actor {
        Actor {
            user: SYSTEM_USER.into(),
            agency: agency.into(),
            role: Role::Admin,
        }
    }

    fn bootstrap(
        &self,
        agency_id: &str,
        agency_name: &str,
    ) -> Result<Option<String>, ServiceError> {
        let mut c = conn(&self.pool)?;
        if identity::agency(&mut c, agency_id)?.is_none() {
            self.add_agency(agency_id, None, agency_name)?;
        }
        if log_store::setting(&mut c, NODE_AGENCY_SETTING)?.is_none() {
            log_store::set_setting(&mut c, NODE_AGENCY_SETTING, &agency_id.to_ascii_lowercase())?;
        }
        if identity::count_users(&mut c)? > 0 {
            return Ok(None);
        }
        let (_, token) = self.add_user("admin", Role::Admin, agency_id)?;
        Ok(Some(token))
    }

    pub fn add_agency(
        &self,
        id: &str,
        state: Option<Jurisdiction>,
        name: &str,
    ) -> Result<Receipt, ServiceError> {
        self.add_agency_of_kind(id, state, name, false)
    }

    /// Adds a police service or (`is_lab`) a forensic lab.
    pub fn add_agency_of_kind(
        &self,
        id: &str,
        state: Option<Jurisdiction>,
        name: &str,
        is_lab: bool,
    ) -> Result<Receipt, ServiceError> {
        let id = model::parse_label("agency", &id.to_ascii_lowercase(), 100)?;
        let state = match state {
            Some(s) => s,
            None => Jurisdiction::from_agency_id(&id).ok_or(FieldError::new(
                "agency",
                "must start with a state code: bj. bf. ci. ne. tg.",
            ))?,
        };
        let name = model::parse_text("name", name, 200)?;
        if identity::agency(&mut *conn(&self.pool)?, &id)?.is_some() {
            return Err(ServiceError::Conflict(super::Conflict::Agency));
        }
        let row = AgencyRow {
            id: id.clone(),
            state: state.as_str().into(),
            name: name.clone(),
            created_at: now_utc(),
            is_lab,
        };
        self.sequencer.append(Pending {
            actor: Self::system_actor(&id),
            event: Event::AgencyRegistered(AgencyRecord {
                id,
                state,
                name,
                lab: is_lab,
            }),
            side: SideWrites {
                agency: Some(row),
                ..Default::default()
            },
        })
    }

    /// Adds a user with a first API token; returns the user and the token text (shown once).
    /// Adds a user with a first token that does not expire (see `add_user_with_token_days`).
    pub fn add_user(
        &self,
        name: &str,
        role: Role,
        agency: &str,
    ) -> Result<(UserRow, String), ServiceError> {
        self.add_user_with_token_days(name, role, agency, None)
    }

    /// Adds a user; the first token expires after `token_days` days, if given.
    pub fn add_user_with_token_days(
        &self,
        name: &str,
        role: Role,
        agency: &str,
        token_days: Option<u32>,
    ) -> Result<(UserRow, String), ServiceError> {
        let name = model::parse_text("name", name, 200)?;
        let agency = agency.to_ascii_lowercase();
        if identity::agency(&mut *conn(&self.pool)?, &agency)?.is_none() {
            return Err(ServiceError::NotFound(Missing::Agency));
        }
        let id = new_id()?;
        let (token, token_row) = auth::new_token(&id, auth::expiry_after_days(token_days)?)?;
        let row = UserRow {
            id: id.clone(),
            name,
            role: role.as_str().into(),
            agency_id: agency.clone(),
            created_at: now_utc(),
            login: None,
            password_hash: None,
        };
        self.sequencer.append(Pending {
            actor: Self::system_actor(&agency),
            event: Event::UserRegistered(UserRecord { id, role, agency }),
            side: SideWrites {
                user: Some(row.clone()),
                token: Some(token_row),
                ..Default::default()
            },
        })?;
        Ok((row, token))
    }

    /// A new token for an existing user, expiring after `days` days if given; the secret text.
    pub fn issue_token(&self, user_id: &str, days: Option<u32>) -> Result<String, ServiceError> {
        let mut c = conn(&self.pool)?;
        if identity::user(&mut c, user_id)?.is_none() {
            return Err(ServiceError::NotFound(Missing::User));
        }
        let (token, row) = auth::new_token(user_id, auth::expiry_after_days(days)?)?;
        identity::insert_token(&mut c, &row)?;
        Ok(token)
    }

    /// Revokes a token by its id (the hex part after `sct_`); refused from then on.
    pub fn revoke_token(&self, token_id: &str) -> Result<(), ServiceError> {
        if identity::revoke_token(&mut *conn(&self.pool)?, token_id, &now_utc())? {
            Ok(())
        } else {
            Err(ServiceError::NotFound(Missing::Token))
        }
    }

    pub fn authenticate(&self, token: &str) -> Result<AuthUser, ServiceError> {
        auth::authenticate(&mut *conn(&self.pool)?, token)
    }

    /// Commits a free-text value: the vault keeps it sealed, the entry gets the commitment.
    pub(super) fn seal_text(
        &self,
        value: Option<&str>,
        field: &'static str,
        case_id: &str,
        sealing: &mut Sealing,
    ) -> Result<Option<Commitment>, ServiceError> {
        let Some(value) = value else { return Ok(None) };
        let value = model::parse_text(field, value, 4000)?;
        let salt = commitment::random_salt().map_err(|e| ServiceError::Internal(e.to_string()))?;
        let hmac = commitment::commit(&salt, &Value::String(value.clone()))
            .map_err(|e| ServiceError::Internal(e.to_string()))?;
        let record = new_id()?;
        sealing.rows.push(self.vault.seal(
            &record,
            &salt,
            &value,
            now_utc(),
            Some(case_id.to_owned()),
            DataCategory::CaseText,
        )?);
        sealing.clear.push((record.clone(), value));
        Ok(Some(Commitment {
            record,
            hmac: hex::encode(hmac),
        }))
    }

    /// Erases a personal-data record (DESIGN §4): the sealed value, its salt and its key are
    /// deleted in the transaction that appends the `vault.erased` entry stating the legal reason.
    pub fn erase(
        &self,
        user: &AuthUser,
        record: &str,
        legal_reason: &str,
    ) -> Result<(ErasureRecord, Receipt), ServiceError> {
        let legal_reason = model::parse_text("legal_reason", legal_reason, 500)?;
        self.authorize(user, Action::VaultErase, Target::Node, &Ask::default())?;
        if registry::sealed_row(&mut *conn(&self.pool)?, record)?.is_none() {
            return Err(ServiceError::NotFound(Missing::VaultRecord));
        }
        let erasure = ErasureRecord {
            record: record.to_owned(),
            legal_reason,
        };
        let receipt = self.sequencer.append(Pending {
            actor: user.actor(),
            event: Event::VaultErased(erasure.clone()),
            side: SideWrites {
                erase: Some(record.to_owned()),
                ..Default::default()
            },
        })?;
        // Old copies of the deleted pages may sit in SQLite's write-ahead log: fold it into the
        // database (where `secure_delete` zeroed the row) and empty it now, not at some later
        // checkpoint. PostgreSQL has no such file to clean from here.
        storage::truncate_wal(&mut *conn(&self.pool)?)?;
        Ok((erasure, receipt))
    }

    pub fn open_case(
        &self,
        user: &AuthUser,
        input: NewCase,
    ) -> Result<(CaseView, Receipt), ServiceError> {
        let reference = model::parse_label("reference", &input.reference, 64)?;
        let jurisdiction = Jurisdiction::parse(&input.jurisdiction)?;
        let offence = model::parse_text("offence", &input.offence, 200)?;
        let legal_basis = model::parse_text("legal_basis", &input.legal_basis, 200)?;
        self.authorize(user, Action::CaseOpen, Target::OwnAgency, &Ask::default())?;
        let mut vault = Sealing::default();
        let id = new_id()?;
        let title = self.seal_text(input.title.as_deref(), "title", &id, &mut vault)?;
        let record = CaseRecord {
            id,
            reference,
            jurisdiction,
            offence,
            legal_basis,
            agency: user.agency.clone(),
            officer: user.id.clone(),
            title,
        };
        let id = record.id.clone();
        let receipt = self.sequencer.append(Pending {
            actor: user.actor(),
            event: Event::CaseOpened(record),
            side: SideWrites {
                vault: vault.rows,
                ..Default::default()
            },
        })?;
        Ok((self.case_view_of(&id, true)?, receipt))
    }

    pub fn register_evidence(
        &self,
        user: &AuthUser,
        case_id: &str,
        input: NewEvidence,
    ) -> Result<(EvidenceView, Receipt), ServiceError> {
        let exhibit_number = model::parse_label("exhibit_number", &input.exhibit_number, 64)?;
        let seal_number = model::parse_label("seal_number", &input.seal_number, 64)?;
        let kind = EvidenceKind::parse(&input.kind)?;
        let hashes = Hashes {
            sha256: model::parse_sha256("sha256", &input.sha256)?,
            sha512: input
                .sha512
                .as_deref()
                .map(model::parse_sha512)
                .transpose()?,
            sha1: input.sha1.as_deref().map(model::parse_sha1).transpose()?,
            md5: input.md5.as_deref().map(model::parse_md5).transpose()?,
        };
        if input.size_bytes.is_some_and(|s| s > model::MAX_SIZE_BYTES) {
            return Err(FieldError::new("size_bytes", "is too large").into());
        }
        let collected_at = model::parse_zoned_time("collected_at", &input.collected_at)?;
        let acquisition = match &input.acquisition_tool {
            Some(tool) => Some(Acquisition {
                tool: model::parse_text("acquisition_tool", tool, 200)?,
                version: input
                    .acquisition_tool_version
                    .as_deref()
                    .map(|v| model::parse_text("acquisition_tool_version", v, 100))
                    .transpose()?,
                settings: input
                    .acquisition_settings
                    .as_deref()
                    .map(|v| model::parse_text("acquisition_settings", v, 2000))
                    .transpose()?,
            }),
            None => None,
        };
        let case_id = model::parse_label("case_id", case_id, 64)?;
        self.authorize(
            user,
            Action::EvidenceRegister,
            Target::Case(&case_id),
            &Ask::default(),
        )?;
        let mut vault = Sealing::default();
        let description = self.seal_text(
            input.description.as_deref(),
            "description",
            &case_id,
            &mut vault,
        )?;
        let location =
            self.seal_text(input.location.as_deref(), "location", &case_id, &mut vault)?;
        let record = EvidenceRecord {
            id: new_id()?,
            case: case_id,
            exhibit_number,
            seal_number,
            kind,
            hashes,
            size_bytes: input.size_bytes,
            collected_at,
            collector: user.id.clone(),
            description,
            location,
            acquisition,
            parent: input
                .parent_id
                .as_deref()
                .map(|p| model::parse_label("parent_id", p, 64))
                .transpose()?,
        };
        let id = record.id.clone();
        let receipt = self.sequencer.append(Pending {
            actor: user.actor(),
            event: Event::EvidenceRegistered(record),
            side: SideWrites {
                vault: vault.rows,
                ..Default::default()
            },
        })?;
        Ok((self.evidence_view_of(&id, true)?, receipt))
    }

    pub fn record_event(
        &self,
        user: &AuthUser,
        item_id: &str,
        input: NewCustodyEvent,
    ) -> Result<(EventView, Receipt), ServiceError> {
        let (pending, draft) = self.custody_event(user, item_id, input)?;
        let receipt = self.sequencer.append(pending)?;
        Ok(draft.recorded(receipt))
    }

    /// `record_event` for a caller that awaits: the checks and the sealing run now, on the
    /// caller's thread; the returned handle resolves once the entry is durable.
    pub fn submit_event(
        &self,
        user: &AuthUser,
        item_id: &str,
        input: NewCustodyEvent,
    ) -> Result<SubmittedEvent, ServiceError> {
        let (pending, draft) = self.custody_event(user, item_id, input)?;
        Ok(SubmittedEvent {
            submitted: self.sequencer.submit(pending)?,
            draft,
        })
    }

    /// A custody event checked, sealed and ready for the sequencer, with what its view needs.
    fn custody_event(
        &self,
        user: &AuthUser,
        item_id: &str,
        input: NewCustodyEvent,
    ) -> Result<(Pending, EventDraft), ServiceError> {
        use CustodyEventType as T;
        let event_type = CustodyEventType::parse(&input.event_type)?;
        let item = self.item_facts(item_id)?;
        self.authorize(
            user,
            Action::CustodyRecord,
            Target::Evidence(item_id),
            &Ask::default(),
        )?;
        let required = |present: bool,
                        field: &'static str,
                        needed: bool|
         -> Result<(), FieldError> {
            match (present, needed) {
                (false, true) => Err(FieldError::new(field, "is required for this event type")),
                (true, false) => Err(FieldError::new(field, "is not allowed for this event type")),
                _ => Ok(()),
            }
        };
        required(
            input.to_user.is_some(),
            "to_user",
            event_type == T::Transferred,
        )?;
        required(
            input.seal_intact.is_some(),
            "seal_intact",
            event_type == T::Received,
        )?;
        required(
            input.sha256.is_some(),
            "sha256",
            event_type == T::IntegrityChecked,
        )?;
        required(input.amends.is_some(), "amends", event_type == T::Corrected)?;
        if matches!(
            event_type,
            T::Examined | T::Returned | T::Destroyed | T::Corrected | T::SharedExternally
        ) && input.reason.is_none()
        {
            return Err(FieldError::new("reason", "is required for this event type").into());
        }
        let sha256 = input
            .sha256
            .as_deref()
            .map(|h| model::parse_sha256("sha256", h))
            .transpose()?;
        let result = sha256.as_ref().map(|h| {
            if *h == item.sha256 {
                IntegrityResult::Match
            } else {
                IntegrityResult::Mismatch
            }
        });
        let at = match &input.at {
            Some(at) => model::parse_zoned_time("at", at)?,
            None => now_utc(),
        };
        let mut vault = Sealing::default();
        let record = CustodyRecord {
            id: new_id()?,
            item: item_id.to_owned(),
            case: item.case_id.clone(),
            event_type,
            at,
            place: self.seal_text(input.place.as_deref(), "place", &item.case_id, &mut vault)?,
            reason: self.seal_text(input.reason.as_deref(), "reason", &item.case_id, &mut vault)?,
            tool: input
                .tool
                .as_deref()
                .map(|t| model::parse_text("tool", t, 200))
                .transpose()?,
            authorization: input
                .authorization
                .as_deref()
                .map(|t| model::parse_text("authorization", t, 200))
                .transpose()?,
            to_user: input
                .to_user
                .as_deref()
                .map(|u| model::parse_label("to_user", u, 64))
                .transpose()?,
            seal_intact: input.seal_intact,
            sha256,
            result,
            amends: input
                .amends
                .as_deref()
                .map(|u| model::parse_label("amends", u, 64))
                .transpose()?,
            derived_item: input
                .derived_item
                .as_deref()
                .map(|u| model::parse_label("derived_item", u, 64))
                .transpose()?,
        };
        let clear = (
            vault.clear_of(&record.place),
            vault.clear_of(&record.reason),
        );
        let pending = Pending {
            actor: user.actor(),
            event: Event::Custody(record.clone()),
            side: SideWrites {
                vault: vault.rows,
                ..Default::default()
            },
        };
        let draft = EventDraft {
            record,
            actor: user.id.clone(),
            clear,
        };
        Ok((pending, draft))
    }

    /// The immutable facts of an item, from memory or, the first time, from the database.
    pub(super) fn item_facts(&self, item_id: &str) -> Result<ItemFacts, ServiceError> {
        if let Ok(cache) = self.item_facts.read()
            && let Some(facts) = cache.get(item_id)
        {
            return Ok(facts.clone());
        }
        let row = registry::evidence_by_id(&mut *conn(&self.pool)?, item_id)?
            .ok_or(ServiceError::NotFound(Missing::Evidence))?;
        let facts = ItemFacts {
            case_id: row.case_id,
            sha256: row.sha256,
        };
        if let Ok(mut cache) = self.item_facts.write() {
            if cache.len() >= MAX_ITEM_FACTS {
                cache.clear();
            }
            cache.insert(item_id.to_owned(), facts.clone());
        }
        Ok(facts)
    }

    /// A case as `user` may see it: personal data in clear only with a purpose the policies
    /// accept, and then the read is recorded in the log.
    pub fn case(
        &self,
        user: &AuthUser,
        id: &str,
        purpose: Option<Purpose>,
    ) -> Result<CaseView, ServiceError> {
        let id = model::parse_label("case_id", id, 64)?;
        let reveal =
            self.authorize_read(user, Action::CaseRead, Target::Case(&id), &id, purpose, &id)?;
        self.case_view_of(&id, reveal)
    }

    /// The case view without any policy check (operator tools, write answers).
    pub(crate) fn case_view_of(&self, id: &str, reveal: bool) -> Result<CaseView, ServiceError> {
        let mut c = conn(&self.pool)?;
        let row = registry::case_by_id(&mut c, id)?.ok_or(ServiceError::NotFound(Missing::Case))?;
        case_view(&mut c, &self.vault, row, reveal)
    }

    /// The id of the case with this id or reference.
    pub fn case_id_for(&self, id_or_reference: &str) -> Result<String, ServiceError> {
        let mut c = conn(&self.pool)?;
        if let Some(case) = registry::case_by_id(&mut c, id_or_reference)? {
            return Ok(case.id);
        }
        registry::case_by_reference(&mut c, id_or_reference)?
            .map(|case| case.id)
            .ok_or(ServiceError::NotFound(Missing::Case))
    }

    pub fn case_by_reference(
        &self,
        user: &AuthUser,
        reference: &str,
        purpose: Option<Purpose>,
    ) -> Result<CaseView, ServiceError> {
        let reference = model::parse_label("reference", reference, 64)?;
        let id = registry::case_by_reference(&mut *conn(&self.pool)?, &reference)?
            .ok_or(ServiceError::NotFound(Missing::Case))?
            .id;
        self.case(user, &id, purpose)
    }

    /// An evidence item with its derivations and custody timeline, as `user` may see it.
    pub fn evidence(
        &self,
        user: &AuthUser,
        id: &str,
        purpose: Option<Purpose>,
    ) -> Result<EvidenceView, ServiceError> {
        let id = model::parse_label("evidence_id", id, 64)?;
        let item = self.item_facts(&id)?;
        let reveal = self.authorize_read(
            user,
            Action::EvidenceRead,
            Target::Evidence(&id),
            &item.case_id,
            purpose,
            &id,
        )?;
        self.evidence_view_of(&id, reveal)
    }

    pub(crate) fn evidence_view_of(
        &self,
        id: &str,
        reveal: bool,
    ) -> Result<EvidenceView, ServiceError> {
        let mut c = conn(&self.pool)?;
        let row = registry::evidence_by_id(&mut c, id)?
            .ok_or(ServiceError::NotFound(Missing::Evidence))?;
        evidence_view(&mut c, &self.vault, row, true, reveal)
    }

    /// Items with this SHA-256 in the cases `user` may read (others are left out, not refused:
    /// a search is not an access to any one case). No personal data.
    pub fn evidence_by_sha256(
        &self,
        user: &AuthUser,
        sha256: &str,
    ) -> Result<Vec<EvidenceView>, ServiceError> {
        let sha256 = model::parse_sha256("sha256", sha256)?;
        let mut c = conn(&self.pool)?;
        let mut out = Vec::new();
        for row in registry::evidence_by_sha256(&mut c, &sha256)? {
            if self
                .verdict(
                    user,
                    Action::EvidenceRead,
                    Target::Evidence(&row.id),
                    &Ask::default(),
                )?
                .allowed
            {
                out.push(evidence_view(&mut c, &self.vault, row, false, false)?);
            }
        }
        Ok(out)
    }

    /// The newest checkpoint this node publishes: never one a power loss could still take back
    /// (see `Sequencer::durable_size`).
    pub fn latest_checkpoint(&self) -> Result<String, ServiceError> {
        let mut c = conn(&self.pool)?;
        Ok(self
            .publishable_checkpoint(&mut c)?
            .ok_or(ServiceError::NotFound(Missing::Checkpoint))?
            .note)
    }

    /// The newest checkpoint this node may publish: one that no power loss can take back.
    /// On PostgreSQL another node may have committed a newer one that this node's syncer has not
    /// flushed: it is flushed here first (one more round trip, only when there is one).
    pub(crate) fn publishable_checkpoint(
        &self,
        c: &mut DbConnection,
    ) -> Result<Option<CheckpointRow>, ServiceError> {
        let durable = self.sequencer.durable_size();
        if let Some(newest) = log_store::latest_checkpoint(c)? {
            let size = u64::try_from(newest.tree_size).unwrap_or(0);
            if size <= durable {
                return Ok(Some(newest));
            }
            if storage::flush_committed(c)? {
                self.sequencer.mark_durable(size);
                return Ok(Some(newest));
            }
        }
        Ok(log_store::latest_checkpoint_within(c, Some(durable))?)
    }

    /// See `Sequencer::durable_size`.
    pub fn durable_size(&self) -> u64 {
        self.sequencer.durable_size()
    }

    /// See `Sequencer::pipeline`.
    pub fn pipeline(&self) -> PipelineStats {
        self.sequencer.pipeline()
    }

    pub fn log_size(&self) -> Result<u64, ServiceError> {
        Ok(log_store::head(&mut *conn(&self.pool)?)?.0)
    }

    pub fn entry(&self, seq: u64) -> Result<Vec<u8>, ServiceError> {
        log_store::entry_body(&mut *conn(&self.pool)?, seq)?
            .ok_or(ServiceError::NotFound(Missing::Entry))
    }

    /// Reads the tree's upper levels into memory (`scelle serve` does it in the background at
    /// start-up); returns how many hashes are held.
    pub fn warm_proof_cache(&self) -> Result<usize, ServiceError> {
        let mut c = conn(&self.pool)?;
        let (size, _) = log_store::head(&mut c)?;
        self.nodes.warm(&mut c, size)?;
        Ok(self.nodes.len())
    }

    pub fn inclusion_proof(
        &self,
        seq: u64,
        size: u64,
    ) -> Result<InclusionProofResponse, ServiceError> {
        let mut c = conn(&self.pool)?;
        inclusion_proof(&mut c, &self.nodes, seq, size)
    }

    pub fn consistency_proof(
        &self,
        from: u64,
        to: u64,
    ) -> Result<ConsistencyProofResponse, ServiceError> {
        let mut c = conn(&self.pool)?;
        consistency_proof(&mut c, &self.nodes, from, to)
    }
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

fn check_size(c: &mut DbConnection, size: u64) -> Result<(), ServiceError> {
    let (current, _) = log_store::head(c)?;
    if size > current {
        return Err(ServiceError::BadProofRequest(format!(
            "size {size} > log size {current}"
        )));
    }
    Ok(())
}

pub(crate) fn proof_error(e: merkle::ProofError) -> ServiceError {
    match e {
        merkle::ProofError::MissingNode(_) => {
            ServiceError::Storage(StorageError::Corrupt(e.to_string()))
        }
        other => ServiceError::BadProofRequest(other.to_string()),
    }
}

pub fn inclusion_proof(
    c: &mut DbConnection,
    cache: &NodeCache,
    seq: u64,
    size: u64,
) -> Result<InclusionProofResponse, ServiceError> {
    check_size(c, size)?;
    let mut ids = merkle::needed_nodes_for_inclusion(seq, size).map_err(proof_error)?;
    ids.push(merkle::NodeId::new(0, seq));
    let nodes = cache.fetch(c, &ids)?;
    let hashes = merkle::inclusion_proof(&nodes, seq, size).map_err(proof_error)?;
    let leaf_hash = nodes
        .get(&merkle::NodeId::new(0, seq))
        .copied()
        .ok_or(ServiceError::NotFound(Missing::Entry))?;
    Ok(InclusionProofResponse {
        seq,
        tree_size: size,
        leaf_hash: B64.encode(leaf_hash),
        hashes: encode_all(&hashes),
    })
}

pub fn consistency_proof(
    c: &mut DbConnection,
    cache: &NodeCache,
    from: u64,
    to: u64,
) -> Result<ConsistencyProofResponse, ServiceError> {
    let hashes = consistency_proof_hashes(c, cache, from, to)?;
    Ok(ConsistencyProofResponse {
        from,
        to,
        hashes: encode_all(&hashes),
    })
}

pub(crate) fn consistency_proof_hashes(
    c: &mut DbConnection,
    cache: &NodeCache,
    from: u64,
    to: u64,
) -> Result<Vec<Hash>, ServiceError> {
    check_size(c, to)?;
    let ids = merkle::needed_nodes_for_consistency(from, to).map_err(proof_error)?;
    let nodes = cache.fetch(c, &ids)?;
    merkle::consistency_proof(&nodes, from, to).map_err(proof_error)
}

fn encode_all(hashes: &[Hash]) -> Vec<String> {
    hashes.iter().map(|h| B64.encode(h)).collect()
}

/// The clear text of a vault record; `None` when there is none or it was erased.
fn vault_text(
    c: &mut DbConnection,
    vault: &VaultKey,
    record: &Option<String>,
    reveal: bool,
) -> Result<Option<String>, ServiceError> {
    if !reveal {
        return Ok(None);
    }
    let Some(id) = record else { return Ok(None) };
    match registry::sealed_row(c, id)? {
        Some(row) => Ok(Some(vault.open(&row)?.1)),
        None => Ok(None),
    }
}

/// Seals clear-text rows a node wrote before the vault was encrypted, then deletes them.
fn seal_legacy_vault(c: &mut DbConnection, vault: &VaultKey) -> Result<(), ServiceError> {
    loop {
        let rows = registry::legacy_vault_rows(c, 1_000)?;
        if rows.is_empty() {
            return Ok(());
        }
        let sealed = rows
            .iter()
            .map(|r| {
                vault.seal(
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

fn summary(e: EvidenceRow) -> EvidenceSummary {
    EvidenceSummary {
        id: e.id,
        exhibit_number: e.exhibit_number,
        seal_number: e.seal_number,
        kind: e.kind,
        sha256: e.sha256,
    }
}

fn case_view(
    c: &mut DbConnection,
    vault: &VaultKey,
    row: CaseRow,
    reveal: bool,
) -> Result<CaseView, ServiceError> {
    let evidence = registry::evidence_of_case(c, &row.id)?
        .into_iter()
        .map(summary)
        .collect();
    Ok(CaseView {
        title: vault_text(c, vault, &row.title_record, reveal)?,
        personal_data: reveal,
        id: row.id,
        reference: row.reference,
        jurisdiction: row.jurisdiction,
        offence: row.offence,
        legal_basis: row.legal_basis,
        agency: row.agency_id,
        officer: row.officer_id,
        opened_at: row.opened_at,
        opened_seq: row.opened_seq as u64,
        evidence,
    })
}

fn event_view(
    c: &mut DbConnection,
    vault: &VaultKey,
    event: CustodyEventWithEntry,
    reveal: bool,
) -> Result<EventView, ServiceError> {
    /// The one member of a custody entry that a timeline shows (the rest is in the row).
    #[derive(serde::Deserialize)]
    struct CustodyMember {
        custody: CustodyRecord,
    }
    let CustodyEventWithEntry { event: row, body } = event;
    let record = serde_json::from_slice::<CustodyMember>(&body)
        .map_err(|e| {
            StorageError::Corrupt(format!("custody event {} (seq {}): {e}", row.id, row.seq))
        })?
        .custody;
    let place = vault_text(
        c,
        vault,
        &record.place.as_ref().map(|p| p.record.clone()),
        reveal,
    )?;
    let reason = vault_text(
        c,
        vault,
        &record.reason.as_ref().map(|p| p.record.clone()),
        reveal,
    )?;
    Ok(EventView::of(
        record,
        row.seq as u64,
        row.actor_id,
        row.recorded_at,
        (place, reason),
    ))
}

fn evidence_view(
    c: &mut DbConnection,
    vault: &VaultKey,
    row: EvidenceRow,
    full: bool,
    reveal: bool,
) -> Result<EvidenceView, ServiceError> {
    let (derivations, timeline) = if full {
        let children = registry::children_of(c, &row.id)?
            .into_iter()
            .map(summary)
            .collect();
        let events = registry::events_of_item(c, &row.id)?
            .into_iter()
            .map(|e| event_view(c, vault, e, reveal))
            .collect::<Result<Vec<_>, _>>()?;
        (Some(children), Some(events))
    } else {
        (None, None)
    };
    Ok(EvidenceView {
        description: vault_text(c, vault, &row.description_record, reveal)?,
        location: vault_text(c, vault, &row.location_record, reveal)?,
        personal_data: reveal,
        id: row.id,
        case_id: row.case_id,
        exhibit_number: row.exhibit_number,
        seal_number: row.seal_number,
        kind: row.kind,
        hashes: Hashes {
            sha256: row.sha256,
            sha512: row.sha512,
            sha1: row.sha1,
            md5: row.md5,
        },
        size_bytes: row.size_bytes.map(|s| s as u64),
        collected_at: row.collected_at,
        collector: row.collector_id,
        acquisition: row.acquisition_tool.map(|tool| Acquisition {
            tool,
            version: row.acquisition_version,
            settings: row.acquisition_settings,
        }),
        parent_id: row.parent_id,
        custody: CustodyView {
            holder: row.holder_id,
            status: row.custody_status,
            pending_to: row.pending_to,
        },
        integrity: row.integrity,
        registered_seq: row.registered_seq as u64,
        derivations,
        timeline,
    })
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewCase {
    pub reference: String,
    #[serde(default)]
    pub title: Option<String>,
    pub jurisdiction: String,
    pub offence: String,
    pub legal_basis: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewEvidence {
    pub exhibit_number: String,
    pub seal_number: String,
    pub kind: String,
    #[serde(default)]
    pub description: Option<String>,
    pub sha256: String,
    #[serde(default)]
    pub sha512: Option<String>,
    #[serde(default)]
    pub sha1: Option<String>,
    #[serde(default)]
    pub md5: Option<String>,
    #[serde(default)]
    pub size_bytes: Option<u64>,
    pub collected_at: String,
    #[serde(default)]
    pub location: Option<String>,
    #[serde(default)]
    pub acquisition_tool: Option<String>,
    #[serde(default)]
    pub acquisition_tool_version: Option<String>,
    #[serde(default)]
    pub acquisition_settings: Option<String>,
    #[serde(default)]
    pub parent_id: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct NewCustodyEvent {
    #[serde(rename = "type")]
    pub event_type: String,
    #[serde(default)]
    pub at: Option<String>,
    #[serde(default)]
    pub place: Option<String>,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub tool: Option<String>,
    #[serde(default)]
    pub authorization: Option<String>,
    #[serde(default)]
    pub to_user: Option<String>,
    #[serde(default)]
    pub seal_intact: Option<bool>,
    #[serde(default)]
    pub sha256: Option<String>,
    #[serde(default)]
    pub amends: Option<String>,
    #[serde(default)]
    pub derived_item: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct EvidenceSummary {
    pub id: String,
    pub exhibit_number: String,
    pub seal_number: String,
    pub kind: String,
    pub sha256: String,
}

#[derive(Debug, Serialize)]
pub struct CaseView {
    pub id: String,
    pub reference: String,
    /// In clear only when the reader stated a purpose the policies accept (`personal_data`).
    pub title: Option<String>,
    pub personal_data: bool,
    pub jurisdiction: String,
    pub offence: String,
    pub legal_basis: String,
    pub agency: String,
    pub officer: String,
    pub opened_at: String,
    pub opened_seq: u64,
    pub evidence: Vec<EvidenceSummary>,
}

#[derive(Debug, Serialize)]
pub struct CustodyView {
    pub holder: String,
    pub status: String,
    pub pending_to: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct EventView {
    pub id: String,
    pub seq: u64,
    #[serde(rename = "type")]
    pub event_type: String,
    pub actor: String,
    pub at: String,
    pub recorded_at: String,
    pub place: Option<String>,
    pub reason: Option<String>,
    pub tool: Option<String>,
    pub authorization: Option<String>,
    pub to_user: Option<String>,
    pub seal_intact: Option<bool>,
    pub sha256: Option<String>,
    pub result: Option<String>,
    pub amends: Option<String>,
    pub derived_item: Option<String>,
}

/// A custody event handed to the sequencer: what its view needs once the receipt comes.
struct EventDraft {
    record: CustodyRecord,
    actor: String,
    /// The place and reason in clear, as the caller sent them.
    clear: (Option<String>, Option<String>),
}

impl EventDraft {
    /// The view is what the sequencer stored, built from the same record without a re-read.
    fn recorded(self, receipt: Receipt) -> (EventView, Receipt) {
        let view = EventView::of(
            self.record,
            receipt.seq,
            self.actor,
            receipt.recorded_at.clone(),
            self.clear,
        );
        (view, receipt)
    }
}

/// A custody event on its way into the log (`Ledger::submit_event`).
pub struct SubmittedEvent {
    submitted: Submitted,
    draft: EventDraft,
}

impl SubmittedEvent {
    /// The id the event is recorded under (a later correction names it in `amends`).
    pub fn event_id(&self) -> &str {
        &self.draft.record.id
    }

    /// Waits, without holding a thread, until the event is durable; its view and receipt.
    pub async fn recorded(self) -> Result<(EventView, Receipt), ServiceError> {
        let receipt = self.submitted.receipt().await?;
        Ok(self.draft.recorded(receipt))
    }
}

impl EventView {
    /// The view of a custody record at `seq`, with its place and reason in clear (if readable).
    fn of(
        record: CustodyRecord,
        seq: u64,
        actor: String,
        recorded_at: String,
        (place, reason): (Option<String>, Option<String>),
    ) -> Self {
        Self {
            id: record.id,
            seq,
            event_type: record.event_type.as_str().to_owned(),
            actor,
            at: record.at,
            recorded_at,
            place,
            reason,
            tool: record.tool,
            authorization: record.authorization,
            to_user: record.to_user,
            seal_intact: record.seal_intact,
            sha256: record.sha256,
            result: record.result.map(|r| r.as_str().to_owned()),
            amends: record.amends,
            derived_item: record.derived_item,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct EvidenceView {
    pub id: String,
    pub case_id: String,
    pub exhibit_number: String,
    pub seal_number: String,
    pub kind: String,
    pub description: Option<String>,
    /// Whether free text (description, location, places, reasons) is in clear.
    pub personal_data: bool,
    pub hashes: Hashes,
    pub size_bytes: Option<u64>,
    pub collected_at: String,
    pub location: Option<String>,
    pub collector: String,
    pub acquisition: Option<Acquisition>,
    pub parent_id: Option<String>,
    pub custody: CustodyView,
    pub integrity: String,
    pub registered_seq: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub derivations: Option<Vec<EvidenceSummary>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeline: Option<Vec<EventView>>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct InclusionProofResponse {
    pub seq: u64,
    pub tree_size: u64,
    pub leaf_hash: String,
    pub hashes: Vec<String>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct ConsistencyProofResponse {
    pub from: u64,
    pub to: u64,
    pub hashes: Vec<String>,
}
