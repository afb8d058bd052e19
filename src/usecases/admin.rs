//! Administration: making a node (key, schema, its agency, a first administrator), and the
//! agencies and users it knows. Each agency and user is a log entry, so the log says who could
//! act on the node, and since when.

use serde::Deserialize;
use std::os::unix::fs::DirBuilderExt as _;
use std::path::PathBuf;

use scelle_verifier::entry::{Actor, AgencyRecord, Event, UserRecord};
use scelle_verifier::model::{self, FieldError, Jurisdiction, Role};
use scelle_verifier::note::NoteSigner;
use scelle_verifier::t;

use crate::authz::{self, Ask, AuthUser, Target};
use crate::error::ServiceError;
use crate::ledger::error::{Conflict, Missing};
use crate::ledger::sequencer::{Pending, Receipt, SideWrites};
use crate::node::files::{KEY_FILE, write_private_file};
use crate::node::ids::new_id;
use crate::node::{NODE_AGENCY_SETTING, Node};
use crate::policy::cedar::Action;
use crate::storage::identity::{self, AgencyRow, UserRow};
use crate::storage::{DatabaseUrl, log_store};

use super::tokens;

/// What `scelle init` needs to make a node.
#[derive(Debug, Clone)]
pub struct InitOptions {
    /// The node's data folder: signing key, vault key and, by default, the SQLite database.
    pub data_dir: PathBuf,
    /// Where the registry's database lives.
    pub database: DatabaseUrl,
    /// The log's origin (`tg.police.dcpj/scelle`): the name its checkpoints are signed under.
    pub origin: String,
    /// The node's own agency id (`tg.police.dcpj`), registered if new.
    pub agency_id: String,
    /// That agency's name.
    pub agency_name: String,
}

/// What `scelle init` made.
#[derive(Debug, Clone)]
pub struct InitReport {
    /// The node's verifier key, to publish.
    pub verifier_key: String,
    /// Whether the signing key was created now.
    pub created_key: bool,
    /// The first administrator's token, shown once (none when the node had users already).
    pub admin_token: Option<String>,
}

/// An agency registered through the API by an administrator.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewAgency {
    /// `<state>.<service>...`, e.g. `bj.police.ocrc`; the state comes from the prefix.
    pub id: String,
    /// The agency's name.
    pub name: String,
    /// A forensic lab rather than a police service.
    #[serde(default)]
    pub lab: bool,
}

/// A user created through the API by an administrator.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    /// The user's name (kept on the node, never in the log).
    pub name: String,
    /// `investigator`, `prosecutor`, `lab_analyst`, `auditor`, `admin` or `dpo`.
    pub role: String,
    /// The id of the user's agency.
    pub agency: String,
    /// Days until the user's first token expires (90 when not given).
    #[serde(default)]
    pub token_days: Option<u32>,
}

/// Prepares a data folder and database: key (0600), schema, the node's own agency, and a
/// first admin when there is none yet. Safe to run twice.
pub fn init(opts: &InitOptions) -> Result<InitReport, ServiceError> {
    // Everything the first run needs is checked before anything is written: a refused init
    // leaves no half-made folder behind (a key, an empty database) for the next one to trip on.
    model::parse_label("origin", &opts.origin, 200)?;
    let agency = model::parse_label("agency", &opts.agency_id.to_ascii_lowercase(), 100)?;
    Jurisdiction::from_agency_id(&agency)
        .ok_or(FieldError::new("agency", t!("field-needs-state-prefix")))?;
    model::parse_text("name", &opts.agency_name, 200)?;
    // The folder holds the keys: made for the node's own user only (0700).
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&opts.data_dir)
        .map_err(|e| {
            ServiceError::Internal(format!("cannot create {}: {e}", opts.data_dir.display()))
        })?;
    let key_path = opts.data_dir.join(KEY_FILE);
    let created_key = !key_path.exists();
    if created_key {
        let name = model::parse_label("origin", &opts.origin, 200)?;
        let signer =
            NoteSigner::generate(&name).map_err(|e| ServiceError::Internal(e.to_string()))?;
        let text = signer
            .private_key_string()
            .map_err(|e| ServiceError::Internal(e.to_string()))?;
        write_private_file(&key_path, &(text + "\n"))?;
    }
    let (node, handle) = Node::open(&opts.data_dir, &opts.database, 2)?;
    let admin_token = bootstrap(&node, &opts.agency_id, &opts.agency_name);
    let verifier_key = node.verifier_key().to_owned();
    node.shutdown(handle);
    Ok(InitReport {
        verifier_key,
        created_key,
        admin_token: admin_token?,
    })
}

/// The node acting on its own for `agency` (a bootstrap, an operator's command).
pub(crate) fn system_actor(agency: &str) -> Actor {
    crate::node::system_actor(agency)
}

/// How long the first administrator's token (printed by `scelle init`) lives: long enough to
/// set the node up, short enough that a token left in a terminal's history dies.
pub const FIRST_ADMIN_TOKEN_DAYS: u32 = 7;

/// The node's own agency and, on a node with no user yet, a first administrator.
fn bootstrap(
    node: &Node,
    agency_id: &str,
    agency_name: &str,
) -> Result<Option<String>, ServiceError> {
    let mut c = node.connection()?;
    if identity::agency(&mut c, agency_id)?.is_none() {
        add_agency(node, agency_id, None, agency_name, false)?;
    }
    if log_store::setting(&mut c, NODE_AGENCY_SETTING)?.is_none() {
        log_store::set_setting(&mut c, NODE_AGENCY_SETTING, &agency_id.to_ascii_lowercase())?;
    }
    if identity::count_users(&mut c)? > 0 {
        return Ok(None);
    }
    let (_, token) = add_user(
        node,
        "admin",
        Role::Admin,
        agency_id,
        Some(FIRST_ADMIN_TOKEN_DAYS),
    )?;
    Ok(Some(token))
}

/// Adds a police service or (`is_lab`) a forensic lab; the state comes from the id's prefix
/// unless given. Answers the agency's id as recorded (lowercase) and the receipt.
pub fn add_agency(
    node: &Node,
    id: &str,
    state: Option<Jurisdiction>,
    name: &str,
    is_lab: bool,
) -> Result<(String, Receipt), ServiceError> {
    let id = model::parse_label("agency", &id.to_ascii_lowercase(), 100)?;
    let state = match state {
        Some(s) => s,
        None => Jurisdiction::from_agency_id(&id)
            .ok_or(FieldError::new("agency", t!("field-needs-state-prefix")))?,
    };
    let name = model::parse_text("name", name, 200)?;
    if identity::agency(&mut *node.connection()?, &id)?.is_some() {
        return Err(ServiceError::Conflict(Conflict::Agency));
    }
    let row = AgencyRow {
        id: id.clone(),
        state: state.as_str().into(),
        name: name.clone(),
        created_at: node.clock().now_rfc3339()?,
        is_lab,
    };
    let receipt = node.sequencer().append(Pending {
        actor: system_actor(&id),
        event: Event::AgencyRegistered(AgencyRecord {
            id: id.clone(),
            state,
            name,
            lab: is_lab,
        }),
        side: SideWrites {
            agency: Some(row),
            ..Default::default()
        },
    })?;
    Ok((id, receipt))
}

/// Adds a user with a first token, which expires after `token_days` days if given; returns
/// the user and the token text (shown once).
pub fn add_user(
    node: &Node,
    name: &str,
    role: Role,
    agency: &str,
    token_days: Option<u32>,
) -> Result<(UserRow, String), ServiceError> {
    let name = model::parse_text("name", name, 200)?;
    let agency = agency.to_ascii_lowercase();
    if identity::agency(&mut *node.connection()?, &agency)?.is_none() {
        return Err(ServiceError::NotFound(Missing::Agency));
    }
    let id = new_id();
    let (token, token_row) = tokens::new_token(
        node.clock(),
        &id,
        tokens::expiry_after_days(node, token_days)?,
    )?;
    let row = UserRow {
        id: id.clone(),
        name,
        role: role.as_str().into(),
        agency_id: agency.clone(),
        created_at: node.clock().now_rfc3339()?,
        login: None,
        password_hash: None,
        disabled_at: None,
    };
    node.sequencer().append(Pending {
        actor: system_actor(&agency),
        event: Event::UserRegistered(UserRecord { id, role, agency }),
        side: SideWrites {
            user: Some(row.clone()),
            token: Some(token_row),
            ..Default::default()
        },
    })?;
    Ok((row, token))
}

/// An agency (police service or lab) registered through the API by an administrator.
pub fn create_agency(
    node: &Node,
    user: &AuthUser,
    input: NewAgency,
) -> Result<(String, Receipt), ServiceError> {
    authz::authorize(
        node,
        user,
        Action::AgencyManage,
        Target::Node,
        &Ask::default(),
    )?;
    add_agency(node, &input.id, None, &input.name, input.lab)
}

/// A user created through the API by an administrator; the token (90 days unless said
/// otherwise) is shown once.
pub fn create_user(
    node: &Node,
    user: &AuthUser,
    input: NewUser,
) -> Result<(UserRow, String), ServiceError> {
    let role = Role::parse(&input.role)?;
    authz::authorize(
        node,
        user,
        Action::UserManage,
        Target::Node,
        &Ask::default(),
    )?;
    add_user(
        node,
        &input.name,
        role,
        &input.agency,
        input.token_days.or(Some(90)),
    )
}
