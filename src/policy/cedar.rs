//! The Cedar policy engine: loads and validates the policies, and answers one decision over facts
//! it is given. The authorization point that gathers those facts and records the outcome is
//! `authz`; nothing else asks this engine (but the bench, which measures it).
//!
//! The policies and their schema live in `policies/` (the built-in set is compiled in; `scelle
//! serve --policies DIR` loads another). Loading validates every policy against the schema in
//! strict mode and insists that each has an `@id` and that each `forbid` has its reason in French
//! and English (the catalogue's `policy-<id>`, or the policy's own `@reason_fr`/`@reason_en`), so
//! a denial can always tell the user which rule refused and why. The entities are built per
//! request from the node's own records, never from the request body.

use cedar_policy::{
    ActionConstraint, Authorizer, Context, Decision, Entities, Entity, EntityId, EntityTypeName,
    EntityUid, Policy, PolicyId, PolicySet, Request, RestrictedExpression, Schema, ValidationMode,
    Validator,
};
use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::str::FromStr;
#[cfg(feature = "bench")]
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};

use scelle_verifier::model::{HandlingCode, Jurisdiction, Purpose, Role};

use scelle_verifier::i18n::{self, Lang};

use super::PolicyError;

/// The schema and policy files compiled into the binary (the repository's `policies/`).
pub const BUILTIN_SCHEMA: (&str, &str) = (
    "scelle.cedarschema",
    include_str!("../../policies/scelle.cedarschema"),
);
/// The policy files compiled into the binary, by file name.
pub const BUILTIN_POLICIES: &[(&str, &str)] = &[
    ("roles.cedar", include_str!("../../policies/roles.cedar")),
    (
        "agency_jurisdiction.cedar",
        include_str!("../../policies/agency_jurisdiction.cedar"),
    ),
    (
        "personal_data.cedar",
        include_str!("../../policies/personal_data.cedar"),
    ),
    (
        "cross_border.cedar",
        include_str!("../../policies/cross_border.cedar"),
    ),
    (
        "retention.cedar",
        include_str!("../../policies/retention.cedar"),
    ),
];

/// Every action of the API, as the policies name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    CaseOpen,
    CaseRead,
    CaseShare,
    EvidenceRegister,
    EvidenceRead,
    CustodyRecord,
    DossierExport,
    PersonAdd,
    PersonRead,
    LogRead,
    /// Reading the raw bytes of any entry (an auditor's, a peer's): others read only the
    /// entries of the cases they may read.
    LogEntriesRead,
    UserManage,
    AgencyManage,
    VaultErase,
    RetentionRun,
    AccessRead,
    DpoReport,
    /// Reading a dossier a peer sent (under the conditions its share attached).
    ReceivedRead,
    /// How the node's links to its peers go (witnesses, deliveries).
    NetworkRead,
}

impl Action {
    /// Every action, in the order the policies list them.
    pub const ALL: [Action; 19] = [
        Action::CaseOpen,
        Action::CaseRead,
        Action::CaseShare,
        Action::EvidenceRegister,
        Action::EvidenceRead,
        Action::CustodyRecord,
        Action::DossierExport,
        Action::PersonAdd,
        Action::PersonRead,
        Action::LogRead,
        Action::LogEntriesRead,
        Action::UserManage,
        Action::AgencyManage,
        Action::VaultErase,
        Action::RetentionRun,
        Action::AccessRead,
        Action::DpoReport,
        Action::ReceivedRead,
        Action::NetworkRead,
    ];

    /// The action's name, as the policies and access records write it (`case.read`).
    pub fn as_str(self) -> &'static str {
        match self {
            Action::CaseOpen => "case.open",
            Action::CaseRead => "case.read",
            Action::CaseShare => "case.share",
            Action::EvidenceRegister => "evidence.register",
            Action::EvidenceRead => "evidence.read",
            Action::CustodyRecord => "custody.record",
            Action::DossierExport => "dossier.export",
            Action::PersonAdd => "person.add",
            Action::PersonRead => "person.read",
            Action::LogRead => "log.read",
            Action::LogEntriesRead => "log.entries.read",
            Action::UserManage => "user.manage",
            Action::AgencyManage => "agency.manage",
            Action::VaultErase => "vault.erase",
            Action::RetentionRun => "retention.run",
            Action::AccessRead => "access.read",
            Action::DpoReport => "dpo.report",
            Action::ReceivedRead => "received.read",
            Action::NetworkRead => "network.read",
        }
    }
}

/// Who asks: the authenticated user with their agency's facts.
#[derive(Debug, Clone)]
pub struct Principal<'a> {
    pub user: &'a str,
    pub role: Role,
    pub agency: &'a str,
    pub state: Jurisdiction,
    pub agency_is_lab: bool,
}

/// What the request is about.
#[derive(Debug, Clone)]
pub enum Resource<'a> {
    /// An agency (for `case.open`: the one the case would belong to).
    Agency {
        id: &'a str,
        state: Jurisdiction,
        is_lab: bool,
    },
    Case {
        id: &'a str,
        agency: &'a str,
        state: Jurisdiction,
    },
    /// An evidence item of a case (the case's owner and state).
    Evidence {
        id: &'a str,
        case: &'a str,
        agency: &'a str,
        state: Jurisdiction,
    },
    /// A person record of a case.
    Person {
        id: &'a str,
        case: &'a str,
        agency: &'a str,
        state: Jurisdiction,
    },
    Log,
    /// The node as a whole, in the state of its own agency.
    Node {
        state: Jurisdiction,
    },
}

/// The conditions of the share through which the principal reaches a case.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ShareConditions {
    pub handling: Vec<HandlingCode>,
    pub purposes: Vec<Purpose>,
    pub confidential: bool,
    pub consent_for_court: bool,
    /// Unix seconds.
    pub expires: i64,
}

/// The context of a request.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct AccessContext {
    /// Unix seconds.
    pub now: i64,
    pub purpose: Option<Purpose>,
    pub share: Option<ShareConditions>,
    pub destination_state: Option<Jurisdiction>,
    pub destination_handling: Option<Vec<HandlingCode>>,
    pub legal_basis: Option<String>,
}

/// What the policies answered, and which of them decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub allowed: bool,
    /// Ids of the determining policies: the permits that allowed, or the forbids that denied
    /// (empty when nothing permitted: the default deny).
    pub policies: Vec<String>,
    /// For a denial by a forbid policy: its stated reason, French and English.
    pub reason: Option<(String, String)>,
}

/// What a cached verdict was decided on: the facts the entities are built from, the action
/// and the request's context, compared whole.
#[derive(Debug, PartialEq, Eq, Hash)]
struct VerdictKey {
    facts: String,
    action: Action,
    context: AccessContext,
}

/// The loaded, validated policy set.
pub struct PolicyEngine {
    policies: PolicySet,
    authorizer: Authorizer,
    reasons: HashMap<String, (String, String)>,
    action_uids: HashMap<Action, EntityUid>,
    /// For each action, the policies whose action scope can match it (the same decisions as
    /// the whole set, since a policy scoped to other actions never applies; evaluating a few
    /// policies instead of all of them is most of the cost of a decision).
    by_action: HashMap<Action, PolicySet>,
    types: EntityTypes,
    /// Set only by `scelle bench` to measure the same request path without the Cedar call;
    /// absent from any build without the `bench` feature.
    #[cfg(feature = "bench")]
    bypassed_for_benchmark: AtomicBool,
    /// The entities of recent (principal, resource) pairs. They are built from facts that do
    /// not change (a user's role and agency, a case's owner and state), and the cache key holds
    /// all of those facts, so a cached set is always the one the request would build.
    entity_cache: RwLock<HashMap<String, Arc<CachedEntities>>>,
    /// Recent verdicts, keyed by everything Cedar is given (the entity facts, the action and
    /// the whole context, `now` included, in whole seconds). Cedar is deterministic, so a
    /// cached verdict is the one it would return; the cache only spares re-evaluating the same
    /// request within the same second.
    verdict_cache: RwLock<HashMap<VerdictKey, Verdict>>,
}

struct CachedEntities {
    entities: Entities,
    principal: EntityUid,
    resource: EntityUid,
}

/// Entity sets kept at most; beyond it the cache starts again empty.
const MAX_CACHED_ENTITY_SETS: usize = 50_000;

struct EntityTypes {
    user: EntityTypeName,
    role: EntityTypeName,
    agency: EntityTypeName,
    case: EntityTypeName,
    evidence: EntityTypeName,
    person: EntityTypeName,
    log: EntityTypeName,
    node: EntityTypeName,
}

fn type_name(name: &str) -> Result<EntityTypeName, PolicyError> {
    EntityTypeName::from_str(name).map_err(|e| PolicyError::Invalid(e.to_string()))
}

fn uid(kind: &EntityTypeName, id: &str) -> EntityUid {
    EntityUid::from_type_name_and_id(kind.clone(), EntityId::new(id))
}

fn text(s: &str) -> RestrictedExpression {
    RestrictedExpression::new_string(s.to_owned())
}

/// Why a `forbid` policy refuses, in French and English: the catalogue's `policy-<id>`
/// message, or, for a policy an operator wrote that the catalogue does not know, its own
/// `@reason_fr` and `@reason_en` annotations.
fn forbid_reason(id: &str, policy: &Policy) -> Option<(String, String)> {
    let key = format!("policy-{id}");
    let from_catalogue = (
        i18n::text_by_key(Lang::Fr, &key),
        i18n::text_by_key(Lang::En, &key),
    );
    if let (Some(fr), Some(en)) = from_catalogue {
        return Some((fr, en));
    }
    match (
        policy.annotation("reason_fr"),
        policy.annotation("reason_en"),
    ) {
        (Some(fr), Some(en)) if !fr.is_empty() && !en.is_empty() => {
            Some((fr.to_owned(), en.to_owned()))
        }
        _ => None,
    }
}

impl PolicyEngine {
    /// The policies compiled into the binary.
    pub fn builtin() -> Result<Self, PolicyError> {
        Self::from_sources(
            BUILTIN_SCHEMA,
            BUILTIN_POLICIES
                .iter()
                .map(|(f, t)| ((*f).to_owned(), (*t).to_owned()))
                .collect(),
        )
    }

    /// `scelle.cedarschema` and every `*.cedar` file of a folder.
    pub fn load_dir(dir: &Path) -> Result<Self, PolicyError> {
        let read = |path: &Path| {
            std::fs::read_to_string(path).map_err(|e| PolicyError::Read {
                path: path.display().to_string(),
                reason: e.to_string(),
            })
        };
        let schema_path = dir.join(BUILTIN_SCHEMA.0);
        let schema = read(&schema_path)?;
        let mut files: Vec<(String, String)> = Vec::new();
        let entries = std::fs::read_dir(dir).map_err(|e| PolicyError::Read {
            path: dir.display().to_string(),
            reason: e.to_string(),
        })?;
        for entry in entries {
            let path = entry
                .map_err(|e| PolicyError::Read {
                    path: dir.display().to_string(),
                    reason: e.to_string(),
                })?
                .path();
            if path.extension().is_some_and(|e| e == "cedar") {
                files.push((path.display().to_string(), read(&path)?));
            }
        }
        if files.is_empty() {
            return Err(PolicyError::NoPolicies(dir.display().to_string()));
        }
        files.sort();
        Self::from_sources((&schema_path.display().to_string(), &schema), files)
    }

    fn from_sources(
        (schema_file, schema_text): (&str, &str),
        files: Vec<(String, String)>,
    ) -> Result<Self, PolicyError> {
        let (schema, _warnings) =
            Schema::from_cedarschema_str(schema_text).map_err(|e| PolicyError::Schema {
                file: schema_file.to_owned(),
                reason: format!("{e:?}"),
            })?;
        let mut policies = PolicySet::new();
        let mut reasons = HashMap::new();
        for (file, src) in &files {
            let parsed = PolicySet::from_str(src).map_err(|e| PolicyError::Parse {
                file: file.clone(),
                reason: format!("{e}"),
            })?;
            for policy in parsed.policies() {
                let Some(id) = policy.annotation("id") else {
                    return Err(PolicyError::MissingId {
                        file: file.clone(),
                        policy: policy.to_string(),
                    });
                };
                let id = id.to_owned();
                if policy.effect() == cedar_policy::Effect::Forbid {
                    let reason =
                        forbid_reason(&id, policy).ok_or_else(|| PolicyError::MissingReason {
                            file: file.clone(),
                            id: id.clone(),
                        })?;
                    reasons.insert(id.clone(), reason);
                }
                let renamed: Policy = policy.new_id(PolicyId::new(&id));
                policies
                    .add(renamed)
                    .map_err(|_| PolicyError::DuplicateId {
                        file: file.clone(),
                        id,
                    })?;
            }
        }
        let validation = Validator::new(schema).validate(&policies, ValidationMode::Strict);
        if !validation.validation_passed() {
            let report: Vec<String> = validation
                .validation_errors()
                .map(|e| format!("  - {e}"))
                .collect();
            return Err(PolicyError::Invalid(report.join("\n")));
        }
        let types = EntityTypes {
            user: type_name("Scelle::User")?,
            role: type_name("Scelle::Role")?,
            agency: type_name("Scelle::Agency")?,
            case: type_name("Scelle::Case")?,
            evidence: type_name("Scelle::Evidence")?,
            person: type_name("Scelle::PersonRecord")?,
            log: type_name("Scelle::Log")?,
            node: type_name("Scelle::Node")?,
        };
        let action_type = type_name("Scelle::Action")?;
        let action_uids: HashMap<Action, EntityUid> = Action::ALL
            .iter()
            .map(|a| (*a, uid(&action_type, a.as_str())))
            .collect();
        let mut by_action = HashMap::new();
        for (action, action_uid) in &action_uids {
            let mut set = PolicySet::new();
            for policy in policies.policies() {
                let applies = match policy.action_constraint() {
                    ActionConstraint::Any => true,
                    ActionConstraint::Eq(a) => a == *action_uid,
                    ActionConstraint::In(list) => list.contains(action_uid),
                };
                if applies {
                    set.add(policy.clone())
                        .map_err(|e| PolicyError::Invalid(e.to_string()))?;
                }
            }
            by_action.insert(*action, set);
        }
        Ok(Self {
            policies,
            authorizer: Authorizer::new(),
            reasons,
            action_uids,
            by_action,
            types,
            #[cfg(feature = "bench")]
            bypassed_for_benchmark: AtomicBool::new(false),
            entity_cache: RwLock::new(HashMap::new()),
            verdict_cache: RwLock::new(HashMap::new()),
        })
    }

    /// How many policies are loaded.
    pub fn len(&self) -> usize {
        self.policies.policies().count()
    }

    /// Whether no policy is loaded.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// For `scelle bench` only: every decision allows without asking Cedar, so the cost of
    /// authorization can be measured on the same request path. It exists only in builds with
    /// the `bench` feature, which production builds do not have.
    #[cfg(feature = "bench")]
    pub fn bypass_for_benchmark(&self, bypass: bool) {
        self.bypassed_for_benchmark.store(bypass, Ordering::Relaxed);
    }

    /// Asks the policies. Never errs: anything the engine cannot evaluate is a denial.
    pub fn decide(
        &self,
        principal: &Principal<'_>,
        action: Action,
        resource: &Resource<'_>,
        context: &AccessContext,
    ) -> Verdict {
        #[cfg(feature = "bench")]
        if self.bypassed_for_benchmark.load(Ordering::Relaxed) {
            return Verdict {
                allowed: true,
                policies: vec![],
                reason: None,
            };
        }
        let key = VerdictKey {
            facts: Self::cache_key(principal, resource),
            action,
            context: context.clone(),
        };
        if let Ok(cache) = self.verdict_cache.read()
            && let Some(hit) = cache.get(&key)
        {
            return hit.clone();
        }
        let verdict = self.decide_uncached(principal, action, resource, context);
        if let Ok(mut cache) = self.verdict_cache.write() {
            if cache.len() >= MAX_CACHED_ENTITY_SETS {
                cache.clear();
            }
            cache.insert(key, verdict.clone());
        }
        verdict
    }

    /// Asks Cedar, without the verdict cache (the bench measures one decision with it).
    pub fn decide_uncached(
        &self,
        principal: &Principal<'_>,
        action: Action,
        resource: &Resource<'_>,
        context: &AccessContext,
    ) -> Verdict {
        match self.evaluate(principal, action, resource, context) {
            Ok(verdict) => verdict,
            Err(e) => {
                tracing::error!(error = %e, action = action.as_str(), "authorization could not be evaluated");
                Verdict {
                    allowed: false,
                    policies: vec![],
                    reason: None,
                }
            }
        }
    }

    /// The cache key: every fact the entities are built from, `|`-separated. Written part by
    /// part: every request that reaches the policies builds it, and `format!` cost more than
    /// the cached decision it looks up.
    fn cache_key(principal: &Principal<'_>, resource: &Resource<'_>) -> String {
        let flag = |b: bool| if b { "true" } else { "false" };
        let mut key = String::with_capacity(192);
        let mut push = |parts: &[&str]| {
            for part in parts {
                key.push_str(part);
                key.push('|');
            }
        };
        push(&[
            principal.user,
            principal.role.as_str(),
            principal.agency,
            principal.state.as_str(),
            flag(principal.agency_is_lab),
        ]);
        match resource {
            Resource::Agency { id, state, is_lab } => {
                push(&["a", id, state.as_str(), flag(*is_lab)]);
            }
            Resource::Case { id, agency, state } => push(&["c", id, agency, state.as_str()]),
            Resource::Evidence {
                id,
                case,
                agency,
                state,
            } => push(&["e", id, case, agency, state.as_str()]),
            Resource::Person {
                id,
                case,
                agency,
                state,
            } => push(&["p", id, case, agency, state.as_str()]),
            Resource::Log => push(&["l"]),
            Resource::Node { state } => push(&["n", state.as_str()]),
        }
        key
    }

    fn entities_for(
        &self,
        principal: &Principal<'_>,
        resource: &Resource<'_>,
    ) -> Result<Arc<CachedEntities>, String> {
        let key = Self::cache_key(principal, resource);
        if let Ok(cache) = self.entity_cache.read()
            && let Some(hit) = cache.get(&key)
        {
            return Ok(hit.clone());
        }
        let built = Arc::new(self.build_entities(principal, resource)?);
        if let Ok(mut cache) = self.entity_cache.write() {
            if cache.len() >= MAX_CACHED_ENTITY_SETS {
                cache.clear();
            }
            cache.insert(key, built.clone());
        }
        Ok(built)
    }

    fn build_entities(
        &self,
        principal: &Principal<'_>,
        resource: &Resource<'_>,
    ) -> Result<CachedEntities, String> {
        let t = &self.types;
        let err = |e: &dyn std::fmt::Display| e.to_string();
        let agency_entity = |id: &str, state: Jurisdiction, is_lab: bool| {
            Entity::new(
                uid(&t.agency, id),
                HashMap::from([
                    ("state".to_owned(), text(state.as_str())),
                    ("is_lab".to_owned(), RestrictedExpression::new_bool(is_lab)),
                ]),
                HashSet::new(),
            )
            .map_err(|e| e.to_string())
        };
        let case_entity = |id: &str, agency: &str, state: Jurisdiction| {
            Entity::new(
                uid(&t.case, id),
                HashMap::from([
                    (
                        "agency".to_owned(),
                        RestrictedExpression::new_entity_uid(uid(&t.agency, agency)),
                    ),
                    ("state".to_owned(), text(state.as_str())),
                ]),
                HashSet::new(),
            )
            .map_err(|e| e.to_string())
        };
        // An evidence item or person record: its case's facts, and the case as its parent.
        let part_entity =
            |kind: &EntityTypeName, id: &str, case: &str, agency: &str, state: Jurisdiction| {
                Entity::new(
                    uid(kind, id),
                    HashMap::from([
                        (
                            "case".to_owned(),
                            RestrictedExpression::new_entity_uid(uid(&t.case, case)),
                        ),
                        (
                            "agency".to_owned(),
                            RestrictedExpression::new_entity_uid(uid(&t.agency, agency)),
                        ),
                        ("state".to_owned(), text(state.as_str())),
                    ]),
                    HashSet::from([uid(&t.case, case)]),
                )
                .map_err(|e| e.to_string())
            };
        let principal_uid = uid(&t.user, principal.user);
        let mut entities = vec![
            Entity::new(
                principal_uid.clone(),
                HashMap::from([
                    (
                        "agency".to_owned(),
                        RestrictedExpression::new_entity_uid(uid(&t.agency, principal.agency)),
                    ),
                    ("state".to_owned(), text(principal.state.as_str())),
                ]),
                HashSet::from([uid(&t.role, principal.role.as_str())]),
            )
            .map_err(|e| err(&e))?,
            agency_entity(principal.agency, principal.state, principal.agency_is_lab)?,
        ];
        let resource_uid = match resource {
            Resource::Agency { id, state, is_lab } => {
                if *id != principal.agency {
                    entities.push(agency_entity(id, *state, *is_lab)?);
                }
                uid(&t.agency, id)
            }
            Resource::Case { id, agency, state } => {
                entities.push(case_entity(id, agency, *state)?);
                uid(&t.case, id)
            }
            Resource::Evidence {
                id,
                case,
                agency,
                state,
            } => {
                entities.push(case_entity(case, agency, *state)?);
                entities.push(part_entity(&t.evidence, id, case, agency, *state)?);
                uid(&t.evidence, id)
            }
            Resource::Person {
                id,
                case,
                agency,
                state,
            } => {
                entities.push(case_entity(case, agency, *state)?);
                entities.push(part_entity(&t.person, id, case, agency, *state)?);
                uid(&t.person, id)
            }
            Resource::Log => {
                let log_uid = uid(&t.log, "log");
                entities.push(Entity::new_no_attrs(log_uid.clone(), HashSet::new()));
                log_uid
            }
            Resource::Node { state } => {
                let node_uid = uid(&t.node, "node");
                entities.push(
                    Entity::new(
                        node_uid.clone(),
                        HashMap::from([("state".to_owned(), text(state.as_str()))]),
                        HashSet::new(),
                    )
                    .map_err(|e| err(&e))?,
                );
                node_uid
            }
        };
        let entities = Entities::from_entities(entities, None).map_err(|e| err(&e))?;
        Ok(CachedEntities {
            entities,
            principal: principal_uid,
            resource: resource_uid,
        })
    }

    fn evaluate(
        &self,
        principal: &Principal<'_>,
        action: Action,
        resource: &Resource<'_>,
        context: &AccessContext,
    ) -> Result<Verdict, String> {
        let err = |e: &dyn std::fmt::Display| e.to_string();
        let cached = self.entities_for(principal, resource)?;
        let mut pairs = vec![(
            "now".to_owned(),
            RestrictedExpression::new_long(context.now),
        )];
        if let Some(purpose) = context.purpose {
            pairs.push(("purpose".to_owned(), text(purpose.as_str())));
        }
        if let Some(share) = &context.share {
            let codes = |c: &[HandlingCode]| {
                RestrictedExpression::new_set(c.iter().map(|h| text(h.as_str())))
            };
            pairs.push((
                "share".to_owned(),
                RestrictedExpression::new_record([
                    ("handling".to_owned(), codes(&share.handling)),
                    (
                        "purposes".to_owned(),
                        RestrictedExpression::new_set(
                            share.purposes.iter().map(|p| text(p.as_str())),
                        ),
                    ),
                    (
                        "confidential".to_owned(),
                        RestrictedExpression::new_bool(share.confidential),
                    ),
                    (
                        "consent_for_court".to_owned(),
                        RestrictedExpression::new_bool(share.consent_for_court),
                    ),
                    (
                        "expires".to_owned(),
                        RestrictedExpression::new_long(share.expires),
                    ),
                ])
                .map_err(|e| err(&e))?,
            ));
        }
        if let Some(state) = context.destination_state {
            pairs.push(("destination_state".to_owned(), text(state.as_str())));
        }
        if let Some(basis) = &context.legal_basis {
            pairs.push(("legal_basis".to_owned(), text(basis)));
        }
        if let Some(handling) = &context.destination_handling {
            pairs.push((
                "destination_handling".to_owned(),
                RestrictedExpression::new_set(handling.iter().map(|h| text(h.as_str()))),
            ));
        }
        let context = Context::from_pairs(pairs).map_err(|e| err(&e))?;
        let action_uid = self
            .action_uids
            .get(&action)
            .ok_or_else(|| format!("unknown action {}", action.as_str()))?
            .clone();
        let request = Request::new(
            cached.principal.clone(),
            action_uid,
            cached.resource.clone(),
            context,
            None,
        )
        .map_err(|e| err(&e))?;
        let policies = self.by_action.get(&action).unwrap_or(&self.policies);
        let response = self
            .authorizer
            .is_authorized(&request, policies, &cached.entities);
        if let Some(e) = response.diagnostics().errors().next() {
            // A policy that errs is skipped by Cedar; for us it is a defect worth a log line.
            tracing::warn!(error = %e, "a policy failed to evaluate");
        }
        let allowed = response.decision() == Decision::Allow;
        // Sorted, so that when several forbids refuse, the reason shown is always the same one.
        let mut policies: Vec<String> = response
            .diagnostics()
            .reason()
            .map(|id| id.to_string())
            .collect();
        policies.sort();
        let reason = if allowed {
            None
        } else {
            policies.iter().find_map(|id| self.reasons.get(id).cloned())
        };
        Ok(Verdict {
            allowed,
            policies,
            reason,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_policies_load_and_validate() {
        let engine = PolicyEngine::builtin().unwrap();
        assert!(engine.len() >= 15, "{}", engine.len());
    }

    /// The verdict cache answers a repeated request as Cedar would, and never answers one
    /// request with another's verdict when they differ only in their context.
    #[test]
    fn cached_verdicts_follow_every_context_fact() {
        use scelle_verifier::model::{Jurisdiction, Purpose, Role};
        let engine = PolicyEngine::builtin().unwrap();
        let principal = Principal {
            user: "user-1",
            role: Role::Investigator,
            agency: "agency-tg",
            state: Jurisdiction::Togo,
            agency_is_lab: false,
        };
        let resource = Resource::Case {
            id: "case-1",
            agency: "agency-bj",
            state: Jurisdiction::Benin,
        };
        let share = |expires| ShareConditions {
            handling: vec![],
            purposes: vec![Purpose::Investigation],
            confidential: false,
            consent_for_court: false,
            expires,
        };
        let context = |share, purpose| AccessContext {
            now: 1_000,
            share,
            purpose,
            ..Default::default()
        };
        let cases = [
            (context(Some(share(2_000)), None), true),
            (
                context(Some(share(2_000)), Some(Purpose::Investigation)),
                true,
            ),
            // The same share, another purpose: Budapest Art. 28 use limitation.
            (
                context(Some(share(2_000)), Some(Purpose::Prosecution)),
                false,
            ),
            // The same share, expired.
            (context(Some(share(1_000)), None), false),
            // No share at all: another agency's case.
            (context(None, None), false),
        ];
        // The second round is answered from the cache.
        for _ in 0..2 {
            for (context, allowed) in &cases {
                let cached = engine.decide(&principal, Action::CaseRead, &resource, context);
                let fresh =
                    engine.decide_uncached(&principal, Action::CaseRead, &resource, context);
                assert_eq!(cached, fresh, "{context:?}");
                assert_eq!(cached.allowed, *allowed, "{context:?}: {cached:?}");
            }
        }
    }

    fn refusal(policy: &str) -> PolicyError {
        match PolicyEngine::from_sources(BUILTIN_SCHEMA, vec![("x.cedar".into(), policy.into())]) {
            Err(e) => e,
            Ok(_) => panic!("accepted: {policy}"),
        }
    }

    #[test]
    fn a_forbid_without_reason_or_a_policy_without_id_is_refused() {
        let e = refusal("permit (principal, action == Scelle::Action::\"log.read\", resource);");
        assert!(matches!(e, PolicyError::MissingId { .. }), "{e}");
        let e = refusal("@id(\"f\") forbid (principal, action, resource);");
        assert!(matches!(e, PolicyError::MissingReason { .. }), "{e}");
        // An attribute the schema does not know fails strict validation, naming the problem.
        let e = refusal(
            "@id(\"u\") permit (principal, action == Scelle::Action::\"case.read\", resource) when { resource.owner == principal };",
        );
        assert!(matches!(e, PolicyError::Invalid(_)), "{e}");
        assert!(e.to_string().contains("owner"), "{e}");
    }
}
