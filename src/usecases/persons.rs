//! Persons linked to a case (suspect, victim, witness, officer contact): sealed whole in the
//! vault, the log holding only their commitment, read back in clear only for a stated purpose
//! the policies accept, each read recorded.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use scelle_verifier::commitment::{self, Commitment};
use scelle_verifier::dossier::Opening;
use scelle_verifier::entry::{Entry, Event, PersonRecord};
use scelle_verifier::model::{self, DataCategory, FieldError, PersonRole, Purpose};
use scelle_verifier::t;

use crate::authz::{self, Ask, AuthUser, Target};
use crate::error::ServiceError;
use crate::ledger::error::Missing;
use crate::ledger::sequencer::{HeldUntilCommitted, Pending, Receipt, SideWrites};
use crate::node::Node;
use crate::node::ids::new_id;
use crate::policy::cedar::Action;
use crate::storage::protection::{self, PersonRow};
use crate::storage::{StorageError, log_store, registry};

use super::paging::{self, PAGE_MAX, Page};
use super::sealing::new_salt;

/// A person to link to a case.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewPerson {
    /// `suspect`, `victim`, `witness` or `officer_contact`.
    pub role: String,
    /// The person's name.
    pub name: String,
    /// Date of birth, `YYYY-MM-DD`.
    #[serde(default)]
    pub date_of_birth: Option<String>,
    /// Phone number.
    #[serde(default)]
    pub phone: Option<String>,
    /// Email address.
    #[serde(default)]
    pub email: Option<String>,
    /// National identity number.
    #[serde(default)]
    pub national_id: Option<String>,
    /// A cryptocurrency wallet address.
    #[serde(default)]
    pub wallet: Option<String>,
    /// Free-text notes about the person.
    #[serde(default)]
    pub notes: Option<String>,
}

impl NewPerson {
    /// The role and the value to seal (a JSON object; its JCS form is what is committed).
    fn validate(self) -> Result<(PersonRole, Value), ServiceError> {
        let role = PersonRole::parse(&self.role)?;
        let mut value = Map::new();
        value.insert("role".into(), role.as_str().into());
        value.insert(
            "name".into(),
            model::parse_text("name", &self.name, 200)?.into(),
        );
        if let Some(dob) = &self.date_of_birth {
            let ok = dob.len() == 10
                && time::Date::parse(
                    dob,
                    time::macros::format_description!("[year]-[month]-[day]"),
                )
                .is_ok();
            if !ok {
                return Err(FieldError::new("date_of_birth", t!("field-not-a-date")).into());
            }
            value.insert("date_of_birth".into(), dob.clone().into());
        }
        for (field, v, max) in [
            ("phone", &self.phone, 40),
            ("email", &self.email, 200),
            ("national_id", &self.national_id, 100),
            ("wallet", &self.wallet, 200),
            ("notes", &self.notes, 4000),
        ] {
            if let Some(v) = v {
                value.insert(field.into(), model::parse_text(field, v, max)?.into());
            }
        }
        Ok((role, Value::Object(value)))
    }
}

/// A person as the API shows them: the commitment always; the opening (salt and value, which
/// anyone can check against the commitment) only to an authorized reader, never once erased.
#[derive(Debug, Serialize)]
pub struct PersonView {
    /// The person's id.
    pub id: String,
    /// The case's id.
    pub case_id: String,
    /// The `person.recorded` entry's seq.
    pub seq: u64,
    /// When the log recorded it (RFC 3339, UTC).
    pub recorded_at: String,
    /// The commitment the log holds: the vault record's id and the HMAC.
    pub commitment: Commitment,
    /// Whether the vault record was erased (the commitment stays).
    pub erased: bool,
    /// The salt and value, to check against the commitment; only to an authorized reader.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub opening: Option<Opening>,
}

/// Links a person to a case. Everything about them is sealed in the vault; the log gets only
/// the commitment.
pub fn add(
    node: &Node,
    user: &AuthUser,
    case_id: &str,
    input: NewPerson,
) -> Result<(PersonView, Receipt), ServiceError> {
    let case_id = model::parse_label("case_id", case_id, 64)?;
    let (role, value) = input.validate()?;
    authz::authorize(
        node,
        user,
        Action::PersonAdd,
        Target::Case(&case_id),
        &Ask::default(),
    )?;
    let salt = new_salt();
    let hmac =
        commitment::commit(&salt, &value).map_err(|e| ServiceError::Internal(e.to_string()))?;
    let record = new_id();
    let text = serde_json::to_string(&value).map_err(|e| ServiceError::Internal(e.to_string()))?;
    // Held until the batch that writes the row commits (an erasure's rotation waits for it).
    let hold = node.vault().hold()?;
    let sealed = hold.seal(
        &record,
        &salt,
        &text,
        node.clock().now_rfc3339()?,
        Some(case_id.clone()),
        DataCategory::of_person(role),
    )?;
    let person = PersonRecord {
        id: new_id(),
        case: case_id.clone(),
        data: Commitment {
            record: record.clone(),
            hmac: hex::encode(hmac),
        },
    };
    let receipt = node.sequencer().append(Pending {
        actor: user.actor(),
        event: Event::PersonRecorded(person.clone()),
        side: SideWrites {
            vault: vec![sealed],
            held: HeldUntilCommitted::new(hold),
            ..Default::default()
        },
    })?;
    let view = PersonView {
        id: person.id,
        case_id,
        seq: receipt.seq,
        recorded_at: receipt.recorded_at.clone(),
        commitment: person.data,
        erased: false,
        opening: Some(Opening {
            record,
            salt: hex::encode(salt),
            value,
        }),
    };
    Ok((view, receipt))
}

/// A person, in clear, for a reader the policies allow with the stated purpose; the read is
/// recorded in the log.
pub fn read(
    node: &Node,
    user: &AuthUser,
    id: &str,
    purpose: Option<Purpose>,
) -> Result<PersonView, ServiceError> {
    let id = model::parse_label("person_id", id, 64)?;
    let row = protection::person(&mut *node.connection()?, &id)?
        .ok_or(ServiceError::NotFound(Missing::Person))?;
    authz::authorize_personal_read(
        node,
        user,
        Target::Person {
            id: &id,
            case: &row.case_id,
        },
        &row.case_id,
        purpose,
        format!("person:{id}"),
    )?;
    view(node, row)
}

/// A page of the persons of a case, linked after `after`, in clear, under the same rule as
/// [`read`] (one access record per page).
pub fn of_case(
    node: &Node,
    user: &AuthUser,
    case_id: &str,
    purpose: Option<Purpose>,
    after: Option<u64>,
) -> Result<Page<PersonView>, ServiceError> {
    let case_id = model::parse_label("case_id", case_id, 64)?;
    let after = paging::cursor("after", after)?.unwrap_or(-1);
    authz::authorize_personal_read(
        node,
        user,
        Target::Case(&case_id),
        &case_id,
        purpose,
        format!("case:{case_id}/persons"),
    )?;
    let rows = protection::persons_of_case(
        &mut *node.connection()?,
        &case_id,
        after,
        paging::fetch_limit(PAGE_MAX),
    )?;
    Page::cut(rows, PAGE_MAX, |r| r.seq).try_map(|r| view(node, r))
}

fn view(node: &Node, row: PersonRow) -> Result<PersonView, ServiceError> {
    let mut c = node.connection()?;
    let entry = log_store::entry_body(&mut c, row.seq as u64)?
        .ok_or(ServiceError::NotFound(Missing::Entry))?;
    let commitment = match Entry::parse(&entry)
        .map_err(|e| ServiceError::Internal(e.to_string()))?
        .event
    {
        Event::PersonRecorded(p) => p.data,
        _ => {
            return Err(ServiceError::Internal(format!(
                "entry {} is not the person's record",
                row.seq
            )));
        }
    };
    let opening = match registry::sealed_row(&mut c, &row.data_record)? {
        Some(sealed) => {
            let (salt, text) = node.vault().open(&sealed)?;
            let value: Value = serde_json::from_str(&text)
                .map_err(|e| StorageError::Corrupt(format!("person {}: {e}", row.id)))?;
            Some(Opening {
                record: row.data_record.clone(),
                salt: hex::encode(salt),
                value,
            })
        }
        None => None,
    };
    Ok(PersonView {
        id: row.id,
        case_id: row.case_id,
        seq: row.seq as u64,
        recorded_at: row.recorded_at,
        commitment,
        erased: opening.is_none(),
        opening,
    })
}
