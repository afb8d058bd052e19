//! Retention rules: how long each category of personal data is kept in each state, with its
//! legal basis (`policies/retention.json`). The run that erases what has expired is a use case
//! of the data-protection officer (`usecases::dpo`).

use serde::{Deserialize, Serialize};
use std::path::Path;

use scelle_verifier::model::{DataCategory, Jurisdiction};

use super::PolicyError;

/// The name of the retention rules file in a policy folder.
pub const RETENTION_FILE: &str = "retention.json";
const BUILTIN: &str = include_str!("../../policies/retention.json");

/// How long one category of a state's data is kept, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetentionRule {
    pub state: Jurisdiction,
    pub category: DataCategory,
    /// Days a record is kept after it was created.
    pub days: u32,
    /// The legal basis of the period, in French.
    pub legal_basis_fr: String,
    /// The legal basis of the period, in English.
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
    /// The rules compiled into the binary (the repository's `policies/retention.json`).
    pub fn builtin() -> Result<Self, PolicyError> {
        Self::parse("retention.json (built in)", BUILTIN)
    }

    /// The `retention.json` of a folder.
    pub fn load(dir: &Path) -> Result<Self, PolicyError> {
        let path = dir.join(RETENTION_FILE);
        let text = std::fs::read_to_string(&path).map_err(|e| PolicyError::Read {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?;
        Self::parse(&path.display().to_string(), &text)
    }

    /// Rules from the text of `file`: one per state and category, each with its legal basis.
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

    /// The rule for a category of data of a state.
    pub fn rule(&self, state: Jurisdiction, category: DataCategory) -> Option<&RetentionRule> {
        self.rules
            .iter()
            .find(|r| r.state == state && r.category == category)
    }

    /// The shortest retention period of all, in days (none without rules).
    pub fn shortest_days(&self) -> Option<u32> {
        self.rules.iter().map(|r| r.days).min()
    }

    /// The rules of one state.
    pub fn of_state(&self, state: Jurisdiction) -> impl Iterator<Item = &RetentionRule> {
        self.rules.iter().filter(move |r| r.state == state)
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
