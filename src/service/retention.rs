//! Retention: how long each category of personal data is kept in each state, with its legal
//! basis (`policies/retention.json`), and the run that erases what has expired.
//!
//! A run erases each expired vault record the way a data-protection officer would (a
//! `vault.erased` entry whose legal reason cites the rule, the sealed row deleted in the same
//! transaction), then empties SQLite's write-ahead log, and reports what it erased.

use serde::{Deserialize, Serialize};
use std::path::Path;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::core::entry::{Actor, ErasureRecord, Event};
use crate::core::model::{DataCategory, Jurisdiction, Role};
use crate::storage::{self, protection};

use super::ServiceError;
use super::access::{Ask, Target};
use super::auth::AuthUser;
use super::authz::{Action, PolicyError};
use super::ledger::Ledger;
use super::sequencer::{Pending, SideWrites};

pub const RETENTION_FILE: &str = "retention.json";
const BUILTIN: &str = include_str!("../../policies/retention.json");

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetentionRule {
    pub state: Jurisdiction,
    pub category: DataCategory,
    pub days: u32,
    pub legal_basis_fr: String,
    pub legal_basis_en: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    #[serde(rename = "_comment", default)]
    _comment: Option<String>,
    rules: Vec<RetentionRule>,
}

/// One rule per state and category, all present.
#[derive(Debug, Clone)]
pub struct RetentionRules {
    rules: Vec<RetentionRule>,
}

impl RetentionRules {
    pub fn builtin() -> Result<Self, PolicyError> {
        Self::parse("retention.json (built in)", BUILTIN)
    }

    pub fn load(dir: &Path) -> Result<Self, PolicyError> {
        let path = dir.join(RETENTION_FILE);
        let text = std::fs::read_to_string(&path).map_err(|e| PolicyError::Read {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?;
        Self::parse(&path.display().to_string(), &text)
    }

    pub fn parse(file: &str, text: &str) -> Result<Self, PolicyError> {
        let bad = |reason: String| PolicyError::Parse {
            file: file.to_owned(),
            reason,
        };
        let parsed: RuleFile = serde_json::from_str(text).map_err(|e| bad(e.to_string()))?;
        for rule in &parsed.rules {
            if rule.days == 0 {
                return Err(bad(format!(
                    "{} {}: days must be at least 1",
                    rule.state, rule.category
                )));
            }
            if rule.legal_basis_fr.trim().is_empty() || rule.legal_basis_en.trim().is_empty() {
                return Err(bad(format!(
                    "{} {}: the legal basis must be stated in French and English",
                    rule.state, rule.category
                )));
            }
        }
        for state in Jurisdiction::ALL {
            for category in DataCategory::ALL {
                let n = parsed
                    .rules
                    .iter()
                    .filter(|r| r.state == *state && r.category == *category)
                    .count();
                if n != 1 {
                    return Err(bad(format!(
                        "{state} {category}: {n} rules; there must be exactly one (no period means kept forever)"
                    )));
                }
            }
        }
        Ok(Self {
            rules: parsed.rules,
        })
    }

    pub fn rule(&self, state: Jurisdiction, category: DataCategory) -> Option<&RetentionRule> {
        self.rules
            .iter()
            .find(|r| r.state == state && r.category == category)
    }

    pub fn of_state(&self, state: Jurisdiction) -> impl Iterator<Item = &RetentionRule> {
        self.rules.iter().filter(move |r| r.state == state)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ErasedByRetention {
    pub record: String,
    pub state: Jurisdiction,
    pub category: DataCategory,
    pub created_at: String,
    pub days: u32,
    pub seq: Option<u64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RetentionReport {
    pub dry_run: bool,
    pub examined: usize,
    pub erased: Vec<ErasedByRetention>,
}

impl Ledger {
    /// Erases every vault record past its retention period. `user` is the data-protection
    /// officer who asked (API); `None` is the node itself (CLI, periodic task).
    pub fn run_retention(
        &self,
        user: Option<&AuthUser>,
        dry_run: bool,
    ) -> Result<RetentionReport, ServiceError> {
        let actor = match user {
            Some(user) => {
                self.authorize(user, Action::RetentionRun, Target::Node, &Ask::default())?;
                user.actor()
            }
            None => Actor {
                user: "system".into(),
                agency: self.node_agency.clone(),
                role: Role::Dpo,
            },
        };
        let now = OffsetDateTime::now_utc();
        let mut report = RetentionReport {
            dry_run,
            examined: 0,
            erased: Vec::new(),
        };
        for state in Jurisdiction::ALL {
            let facts = protection::vault_facts_of_state(&mut *self.connection()?, state.as_str())?;
            for fact in facts {
                report.examined += 1;
                let Ok(category) = DataCategory::parse(&fact.category) else {
                    continue;
                };
                let Some(rule) = self.retention.rule(*state, category) else {
                    continue;
                };
                let Ok(created) = OffsetDateTime::parse(&fact.created_at, &Rfc3339) else {
                    return Err(storage::StorageError::Corrupt(format!(
                        "vault record {} has a bad creation time",
                        fact.id
                    ))
                    .into());
                };
                if created + time::Duration::days(i64::from(rule.days)) > now {
                    continue;
                }
                let seq = if dry_run {
                    None
                } else {
                    let receipt = self.sequencer.append(Pending {
                        actor: actor.clone(),
                        event: Event::VaultErased(ErasureRecord {
                            record: fact.id.clone(),
                            legal_reason: format!(
                                "Durée de conservation échue ({} jours) / retention period over ({} days): {} / {}",
                                rule.days, rule.days, rule.legal_basis_fr, rule.legal_basis_en
                            ),
                        }),
                        side: SideWrites {
                            erase: Some(fact.id.clone()),
                            ..Default::default()
                        },
                    })?;
                    Some(receipt.seq)
                };
                report.erased.push(ErasedByRetention {
                    record: fact.id,
                    state: *state,
                    category,
                    created_at: fact.created_at,
                    days: rule.days,
                    seq,
                });
            }
        }
        if !dry_run && !report.erased.is_empty() {
            storage::truncate_wal(&mut *self.connection()?)?;
        }
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_rules_cover_every_state_and_category() {
        let rules = RetentionRules::builtin().unwrap();
        for state in Jurisdiction::ALL {
            assert_eq!(rules.of_state(*state).count(), DataCategory::ALL.len());
        }
    }

    #[test]
    fn a_missing_or_doubled_rule_is_refused() {
        let mut doc: serde_json::Value = serde_json::from_str(BUILTIN).unwrap();
        let rules = doc["rules"].as_array_mut().unwrap();
        let first = rules.remove(0);
        let text = doc.to_string();
        let e = RetentionRules::parse("r.json", &text)
            .unwrap_err()
            .to_string();
        assert!(e.contains("0 rules"), "{e}");
        let rules = doc["rules"].as_array_mut().unwrap();
        rules.push(first.clone());
        rules.push(first);
        let e = RetentionRules::parse("r.json", &doc.to_string())
            .unwrap_err()
            .to_string();
        assert!(e.contains("2 rules"), "{e}");
    }
}
