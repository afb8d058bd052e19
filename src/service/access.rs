//! Access under the policies: the authorization point every use case calls, the access records
//! it leaves in the log, and the data-protection use cases (persons, shares, access records,
//! user management).
//!
//! `authorize` gathers the facts the policies need (the principal's agency and state, the case's
//! owner and state, the share through which the principal reaches it) and asks Cedar. A denial
//! is appended to the log as an `access.denied` entry before the error goes back, and every read
//! of personal data that is allowed is appended as `access.allowed` with its purpose: the log
//! proves who saw what, and why.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::core::commitment::{self, Commitment};
use crate::core::dossier::Opening;
use crate::core::entry::{
    AccessDecision, AccessRecord, DisclosureRecord, Event, PersonRecord, RevocationRecord,
};
use crate::core::model::{
    self, DataCategory, FieldError, HandlingCode, Jurisdiction, PersonRole, Purpose, Role, now_utc,
};
use crate::storage::identity::{self, UserRow};
use crate::storage::protection::{self, AccessRow, PersonRow, ShareRow};
use crate::storage::registry;

use super::auth::{AuthUser, new_id};
use super::authz::{AccessContext, Action, Principal, Resource, ShareConditions, Verdict};
use super::ledger::{CaseFacts, Ledger, Sealing};
use super::sequencer::{Pending, Receipt, SideWrites};
use super::{Missing, ServiceError};

/// What a request is about, as the caller names it; the authorization point looks up the facts.
#[derive(Debug, Clone, Copy)]
pub enum Target<'a> {
    /// The principal's own agency (for `case.open`).
    OwnAgency,
    Case(&'a str),
    /// An evidence item, by id (its case is looked up).
    Evidence(&'a str),
    /// A person record of a case.
    Person {
        id: &'a str,
        case: &'a str,
    },
    Log,
    Node,
}

/// What the caller asks for beyond the action itself.
#[derive(Debug, Clone, Default)]
pub struct Ask {
    pub purpose: Option<Purpose>,
    pub destination_state: Option<Jurisdiction>,
    pub destination_handling: Option<Vec<HandlingCode>>,
    pub legal_basis: Option<String>,
}

impl Ask {
    pub fn purpose(purpose: Option<Purpose>) -> Self {
        Self {
            purpose,
            ..Self::default()
        }
    }
}

/// Largest number of access records one listing returns.
const MAX_ACCESS_LISTING: i64 = 10_000;

pub(crate) fn unix_now() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp()
}

fn unix_of(time: &str) -> Option<i64> {
    OffsetDateTime::parse(time, &Rfc3339)
        .ok()
        .map(|t| t.unix_timestamp())
}

fn codes<T>(text: &str, parse: impl Fn(&str) -> Result<T, FieldError>) -> Vec<T> {
    text.split(',')
        .filter(|c| !c.is_empty())
        .filter_map(|c| parse(c).ok())
        .collect()
}

impl Ledger {
    /// The owner and state of a case, from memory or, the first time, from the database.
    pub(super) fn case_facts(&self, case_id: &str) -> Result<CaseFacts, ServiceError> {
        if let Ok(cache) = self.case_facts.read()
            && let Some(facts) = cache.get(case_id)
        {
            return Ok(facts.clone());
        }
        let row = registry::case_by_id(&mut *self.connection()?, case_id)?
            .ok_or(ServiceError::NotFound(Missing::Case))?;
        let facts = CaseFacts {
            state: Jurisdiction::parse(&row.jurisdiction).map_err(|_| {
                crate::storage::StorageError::Corrupt(format!("case {case_id} has a bad state"))
            })?,
            agency: row.agency_id,
        };
        if let Ok(mut cache) = self.case_facts.write() {
            if cache.len() >= 200_000 {
                cache.clear();
            }
            cache.insert(case_id.to_owned(), facts.clone());
        }
        Ok(facts)
    }

    /// The conditions under which `user` reaches a case they do not own: the newest share to
    /// their agency or state that has not expired, else the newest one (whose expiry the
    /// policies then refuse), else none.
    fn share_for(
        &self,
        user: &AuthUser,
        case_id: &str,
        facts: &CaseFacts,
        now: i64,
    ) -> Result<Option<ShareConditions>, ServiceError> {
        if user.agency == facts.agency {
            return Ok(None);
        }
        let rows = protection::shares_reaching(
            &mut *self.connection()?,
            case_id,
            &user.agency,
            user.state.as_str(),
        )?;
        let conditions = |row: &ShareRow| ShareConditions {
            handling: codes(&row.handling, HandlingCode::parse),
            purposes: codes(&row.purposes, Purpose::parse),
            confidential: row.confidential,
            consent_for_court: row.consent_for_court,
            expires: unix_of(&row.expires_at).unwrap_or(i64::MIN),
        };
        let all: Vec<ShareConditions> = rows.iter().map(conditions).collect();
        Ok(all
            .iter()
            .find(|s| s.expires > now)
            .or(all.first())
            .cloned())
    }

    /// What the policies answer, without recording anything.
    pub fn verdict(
        &self,
        user: &AuthUser,
        action: Action,
        target: Target<'_>,
        ask: &Ask,
    ) -> Result<Verdict, ServiceError> {
        let now = unix_now();
        let principal = Principal {
            user: &user.id,
            role: user.role,
            agency: &user.agency,
            state: user.state,
            agency_is_lab: user.agency_is_lab,
        };
        let mut context = AccessContext {
            now,
            purpose: ask.purpose,
            share: None,
            destination_state: ask.destination_state,
            destination_handling: ask.destination_handling.clone(),
            legal_basis: ask.legal_basis.clone(),
        };
        let facts;
        let item;
        let resource = match target {
            Target::OwnAgency => Resource::Agency {
                id: &user.agency,
                state: user.state,
                is_lab: user.agency_is_lab,
            },
            Target::Case(id) => {
                facts = self.case_facts(id)?;
                context.share = self.share_for(user, id, &facts, now)?;
                Resource::Case {
                    id,
                    agency: &facts.agency,
                    state: facts.state,
                }
            }
            Target::Evidence(id) => {
                item = self.item_facts(id)?;
                facts = self.case_facts(&item.case_id)?;
                context.share = self.share_for(user, &item.case_id, &facts, now)?;
                Resource::Evidence {
                    id,
                    case: &item.case_id,
                    agency: &facts.agency,
                    state: facts.state,
                }
            }
            Target::Person { id, case } => {
                facts = self.case_facts(case)?;
                context.share = self.share_for(user, case, &facts, now)?;
                Resource::Person {
                    id,
                    case,
                    agency: &facts.agency,
                    state: facts.state,
                }
            }
            Target::Log => Resource::Log,
            Target::Node => Resource::Node {
                state: self.node_state,
            },
        };
        Ok(self
            .policies
            .decide(&principal, action, &resource, &context))
    }

    /// The one authorization point. A denial is recorded in the log (`access.denied`) and
    /// returned as an error naming the policy and its reason.
    pub fn authorize(
        &self,
        user: &AuthUser,
        action: Action,
        target: Target<'_>,
        ask: &Ask,
    ) -> Result<Verdict, ServiceError> {
        let verdict = self.verdict(user, action, target, ask)?;
        if verdict.allowed {
            return Ok(verdict);
        }
        let (resource, case) = match target {
            Target::OwnAgency => (format!("agency:{}", user.agency), None),
            Target::Case(id) => (format!("case:{id}"), Some(id.to_owned())),
            Target::Evidence(id) => (format!("evidence:{id}"), Some(self.item_facts(id)?.case_id)),
            Target::Person { id, case } => (format!("person:{id}"), Some(case.to_owned())),
            Target::Log => ("log".to_owned(), None),
            Target::Node => ("node".to_owned(), None),
        };
        self.record_access(
            user,
            action,
            resource,
            case,
            ask.purpose,
            AccessDecision::Denied,
            verdict.policies.clone(),
        )?;
        Err(ServiceError::PolicyDenied {
            action: action.as_str(),
            policies: verdict.policies,
            reason: verdict.reason,
        })
    }

    /// Authorizes a read of case content (`action` on `target`, of case `case_id`); with a
    /// purpose, also the personal data in it, which is then recorded. Returns whether personal
    /// data may be shown.
    pub(super) fn authorize_read(
        &self,
        user: &AuthUser,
        action: Action,
        target: Target<'_>,
        case_id: &str,
        purpose: Option<Purpose>,
        resource_id: &str,
    ) -> Result<bool, ServiceError> {
        self.authorize(user, action, target, &Ask::purpose(purpose))?;
        if purpose.is_none() {
            return Ok(false);
        }
        self.authorize_personal_read(
            user,
            Target::Case(case_id),
            case_id,
            purpose,
            resource_id.to_owned(),
        )?;
        Ok(true)
    }

    /// Authorizes a read of personal data in a case (`person.read`, with the stated purpose)
    /// and records it in the log as `access.allowed`: who, what, why.
    fn authorize_personal_read(
        &self,
        user: &AuthUser,
        target: Target<'_>,
        case_id: &str,
        purpose: Option<Purpose>,
        resource: String,
    ) -> Result<(), ServiceError> {
        let verdict = self.authorize(user, Action::PersonRead, target, &Ask::purpose(purpose))?;
        self.record_access(
            user,
            Action::PersonRead,
            resource,
            Some(case_id.to_owned()),
            purpose,
            AccessDecision::Allowed,
            verdict.policies,
        )?;
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn record_access(
        &self,
        user: &AuthUser,
        action: Action,
        resource: String,
        case: Option<String>,
        purpose: Option<Purpose>,
        decision: AccessDecision,
        policies: Vec<String>,
    ) -> Result<Receipt, ServiceError> {
        self.sequencer.append(Pending {
            actor: user.actor(),
            event: Event::Access(AccessRecord {
                action: action.as_str().to_owned(),
                resource,
                case,
                purpose,
                decision,
                policies,
            }),
            side: SideWrites::default(),
        })
    }

    /// Links a person to a case. Everything about them is sealed in the vault; the log gets
    /// only the commitment.
    pub fn add_person(
        &self,
        user: &AuthUser,
        case_id: &str,
        input: NewPerson,
    ) -> Result<(PersonView, Receipt), ServiceError> {
        let case_id = model::parse_label("case_id", case_id, 64)?;
        let (role, value) = input.validate()?;
        self.authorize(
            user,
            Action::PersonAdd,
            Target::Case(&case_id),
            &Ask::default(),
        )?;
        let salt = commitment::random_salt().map_err(|e| ServiceError::Internal(e.to_string()))?;
        let hmac =
            commitment::commit(&salt, &value).map_err(|e| ServiceError::Internal(e.to_string()))?;
        let record = new_id()?;
        let text =
            serde_json::to_string(&value).map_err(|e| ServiceError::Internal(e.to_string()))?;
        let sealed = self.vault.seal(
            &record,
            &salt,
            &text,
            now_utc(),
            Some(case_id.clone()),
            DataCategory::of_person(role),
        )?;
        let person = PersonRecord {
            id: new_id()?,
            case: case_id.clone(),
            data: Commitment {
                record: record.clone(),
                hmac: hex::encode(hmac),
            },
        };
        let receipt = self.sequencer.append(Pending {
            actor: user.actor(),
            event: Event::PersonRecorded(person.clone()),
            side: SideWrites {
                vault: vec![sealed],
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

    /// A person, in clear, for a reader the policies allow with the stated purpose; the read
    /// is recorded in the log.
    pub fn person(
        &self,
        user: &AuthUser,
        id: &str,
        purpose: Option<Purpose>,
    ) -> Result<PersonView, ServiceError> {
        let id = model::parse_label("person_id", id, 64)?;
        let row = protection::person(&mut *self.connection()?, &id)?
            .ok_or(ServiceError::NotFound(Missing::Person))?;
        self.authorize_personal_read(
            user,
            Target::Person {
                id: &id,
                case: &row.case_id,
            },
            &row.case_id,
            purpose,
            format!("person:{id}"),
        )?;
        self.person_view(row)
    }

    /// The persons of a case, in clear, under the same rule as `person` (one access record).
    pub fn persons_of_case(
        &self,
        user: &AuthUser,
        case_id: &str,
        purpose: Option<Purpose>,
    ) -> Result<Vec<PersonView>, ServiceError> {
        let case_id = model::parse_label("case_id", case_id, 64)?;
        self.authorize_personal_read(
            user,
            Target::Case(&case_id),
            &case_id,
            purpose,
            format!("case:{case_id}/persons"),
        )?;
        let rows = protection::persons_of_case(&mut *self.connection()?, &case_id)?;
        rows.into_iter().map(|r| self.person_view(r)).collect()
    }

    fn person_view(&self, row: PersonRow) -> Result<PersonView, ServiceError> {
        let mut c = self.connection()?;
        let entry = crate::storage::log_store::entry_body(&mut c, row.seq as u64)?
            .ok_or(ServiceError::NotFound(Missing::Entry))?;
        let commitment = match crate::core::entry::Entry::parse(&entry)
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
                let (salt, text) = self.vault.open(&sealed)?;
                let value: Value = serde_json::from_str(&text).map_err(|e| {
                    crate::storage::StorageError::Corrupt(format!("person {}: {e}", row.id))
                })?;
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

    /// Shares a case with another agency or a whole state, under conditions that travel with
    /// it and that the policies enforce at the receiver.
    pub fn share_case(
        &self,
        user: &AuthUser,
        case_id: &str,
        input: NewShare,
    ) -> Result<(DisclosureRecord, Receipt), ServiceError> {
        let case_id = model::parse_label("case_id", case_id, 64)?;
        let (agency, state) = match (&input.agency, &input.state) {
            (Some(agency), None) => {
                let agency = agency.to_ascii_lowercase();
                let row = identity::agency(&mut *self.connection()?, &agency)?
                    .ok_or(ServiceError::NotFound(Missing::Agency))?;
                let state = Jurisdiction::parse(&row.state)?;
                (Some(agency), state)
            }
            (None, Some(state)) => (None, Jurisdiction::parse(state)?),
            _ => {
                return Err(
                    FieldError::new("agency", "give exactly one of agency and state").into(),
                );
            }
        };
        let handling = input
            .handling
            .iter()
            .map(|h| HandlingCode::parse(h))
            .collect::<Result<Vec<_>, _>>()?;
        let purposes = input
            .purposes
            .iter()
            .map(|p| Purpose::parse(p))
            .collect::<Result<Vec<_>, _>>()?;
        if purposes.is_empty() {
            return Err(FieldError::new("purposes", "name at least one purpose").into());
        }
        let expires = model::parse_zoned_time("expires_at", &input.expires_at)?;
        if unix_of(&expires).is_none_or(|t| t <= unix_now()) {
            return Err(FieldError::new("expires_at", "must be in the future").into());
        }
        let legal_basis = input
            .legal_basis
            .as_deref()
            .map(|b| model::parse_text("legal_basis", b, 200))
            .transpose()?;
        if handling.contains(&HandlingCode::H3) != input.conditions.is_some() {
            return Err(
                FieldError::new("conditions", "is required with H3 and only with H3").into(),
            );
        }
        self.authorize(
            user,
            Action::CaseShare,
            Target::Case(&case_id),
            &Ask {
                purpose: None,
                destination_state: Some(state),
                destination_handling: Some(handling.clone()),
                legal_basis: legal_basis.clone(),
            },
        )?;
        let mut sealing = Sealing::default();
        let conditions = self.seal_text(
            input.conditions.as_deref(),
            "conditions",
            &case_id,
            &mut sealing,
        )?;
        let record = DisclosureRecord {
            id: new_id()?,
            case: case_id,
            state: if agency.is_none() { Some(state) } else { None },
            agency,
            handling,
            purposes,
            confidential: input.confidential,
            consent_for_court: input.consent_for_court,
            expires,
            legal_basis,
            conditions,
        };
        let receipt = self.sequencer.append(Pending {
            actor: user.actor(),
            event: Event::CaseShared(record.clone()),
            side: SideWrites {
                vault: sealing.rows,
                ..Default::default()
            },
        })?;
        Ok((record, receipt))
    }

    /// Withdraws a share (who may share the case may revoke its shares): a `case.share_revoked`
    /// entry, after which the share reaches no one.
    pub fn revoke_share(
        &self,
        user: &AuthUser,
        case_id: &str,
        share_id: &str,
        reason: &str,
    ) -> Result<(RevocationRecord, Receipt), ServiceError> {
        let case_id = model::parse_label("case_id", case_id, 64)?;
        let share_id = model::parse_label("share_id", share_id, 64)?;
        let reason = model::parse_text("reason", reason, 500)?;
        match protection::share(&mut *self.connection()?, &share_id)? {
            Some(row) if row.case_id == case_id => {}
            _ => return Err(ServiceError::NotFound(Missing::Share)),
        }
        self.authorize(
            user,
            Action::CaseShare,
            Target::Case(&case_id),
            &Ask::default(),
        )?;
        let record = RevocationRecord {
            share: share_id,
            case: case_id,
            reason,
        };
        let receipt = self.sequencer.append(Pending {
            actor: user.actor(),
            event: Event::ShareRevoked(record.clone()),
            side: SideWrites::default(),
        })?;
        Ok((record, receipt))
    }

    /// Access records, newest first, for auditors and data-protection officers.
    pub fn access_records(
        &self,
        user: &AuthUser,
        case_id: Option<&str>,
        actor_id: Option<&str>,
        limit: Option<i64>,
    ) -> Result<Vec<AccessRow>, ServiceError> {
        self.authorize(user, Action::AccessRead, Target::Node, &Ask::default())?;
        let limit = limit.unwrap_or(1_000).clamp(1, MAX_ACCESS_LISTING);
        Ok(protection::access_records(
            &mut *self.connection()?,
            case_id,
            actor_id,
            limit,
        )?)
    }

    /// An agency (police service or lab) registered through the API by an administrator.
    pub fn create_agency(
        &self,
        user: &AuthUser,
        input: NewAgency,
    ) -> Result<Receipt, ServiceError> {
        self.authorize(user, Action::AgencyManage, Target::Node, &Ask::default())?;
        self.add_agency_of_kind(&input.id, None, &input.name, input.lab)
    }

    /// A user created through the API by an administrator; the token text is shown once.
    pub fn create_user(
        &self,
        user: &AuthUser,
        input: NewUser,
    ) -> Result<(UserRow, String), ServiceError> {
        let role = Role::parse(&input.role)?;
        self.authorize(user, Action::UserManage, Target::Node, &Ask::default())?;
        self.add_user_with_token_days(
            &input.name,
            role,
            &input.agency,
            input.token_days.or(Some(90)),
        )
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewPerson {
    pub role: String,
    pub name: String,
    #[serde(default)]
    pub date_of_birth: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub national_id: Option<String>,
    #[serde(default)]
    pub wallet: Option<String>,
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
                return Err(FieldError::new("date_of_birth", "must be YYYY-MM-DD").into());
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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewShare {
    #[serde(default)]
    pub agency: Option<String>,
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub handling: Vec<String>,
    pub purposes: Vec<String>,
    #[serde(default)]
    pub confidential: bool,
    #[serde(default)]
    pub consent_for_court: bool,
    pub expires_at: String,
    #[serde(default)]
    pub legal_basis: Option<String>,
    #[serde(default)]
    pub conditions: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewAgency {
    /// `<state>.<service>...`, e.g. `bj.police.ocrc`; the state comes from the prefix.
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub lab: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    pub name: String,
    pub role: String,
    pub agency: String,
    #[serde(default)]
    pub token_days: Option<u32>,
}

/// A person as the API shows them: the commitment always; the opening (salt and value, which
/// anyone can check against the commitment) only to an authorized reader, never once erased.
#[derive(Debug, Serialize)]
pub struct PersonView {
    pub id: String,
    pub case_id: String,
    pub seq: u64,
    pub recorded_at: String,
    pub commitment: Commitment,
    pub erased: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub opening: Option<Opening>,
}

impl Ledger {
    /// Reading the log (checkpoints, entries, proofs) is an action like any other.
    pub fn may_read_log(&self, user: &AuthUser) -> Result<(), ServiceError> {
        self.authorize(user, Action::LogRead, Target::Log, &Ask::default())
            .map(|_| ())
    }

    /// A case's dossier for `user`: the export must be allowed (a dossier is for court), and
    /// the openings of personal data need a purpose the policies accept; that read is recorded.
    pub fn export_dossier_for(
        &self,
        user: &AuthUser,
        case: &str,
        opts: &super::dossier::ExportOptions,
        purpose: Option<Purpose>,
    ) -> Result<crate::core::dossier::Dossier, ServiceError> {
        let case_id = model::parse_label("case_id", case, 64)?;
        self.authorize(
            user,
            Action::DossierExport,
            Target::Case(&case_id),
            &Ask::purpose(purpose),
        )?;
        if opts.personal_data {
            self.authorize_personal_read(
                user,
                Target::Case(&case_id),
                &case_id,
                purpose,
                format!("case:{case_id}/dossier"),
            )?;
        }
        self.export_dossier(&case_id, opts)
    }
}
