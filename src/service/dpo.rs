//! Records of processing for a data-protection authority (`scelle dpo report --state TG`):
//! what personal data the node holds for cases of one state, why it is read, how long it is
//! kept and on what legal basis, where it was transferred, and how often it was accessed.

use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::core::model::{DataCategory, Jurisdiction};
use crate::storage::protection;

use super::ServiceError;
use super::access::{Ask, Target};
use super::auth::AuthUser;
use super::authz::Action;
use super::ledger::Ledger;
use super::retention::RetentionRule;

/// The authority and the law of each state (ECOWAS Supplementary Act A/SA.1/01/10 and national
/// law), as named in the records of processing.
pub fn authority(state: Jurisdiction) -> (&'static str, &'static str) {
    match state {
        Jurisdiction::Benin => ("APDP", "Code du numérique, livre V"),
        Jurisdiction::BurkinaFaso => ("CIL", "loi 001-2021/AN"),
        Jurisdiction::CoteDIvoire => ("ARTCI", "loi 2013-450"),
        Jurisdiction::Niger => ("HAPDP", "loi 2022-59"),
        Jurisdiction::Togo => ("IPDCP", "loi 2019-014"),
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Transfer {
    pub share: String,
    pub case: String,
    pub recipient: String,
    pub recipient_state: Option<String>,
    pub handling: String,
    pub purposes: String,
    pub confidential: bool,
    pub expires_at: String,
    pub shared_at: String,
    pub revoked_at: Option<String>,
    pub seq: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct DpoReport {
    pub state: Jurisdiction,
    pub authority: String,
    pub law: String,
    pub node_origin: String,
    pub generated_at: String,
    /// Sealed records held, per data category.
    pub records_held: BTreeMap<String, u64>,
    pub retention: Vec<RetentionRule>,
    /// Reads of personal data allowed, per stated purpose.
    pub reads_by_purpose: BTreeMap<String, u64>,
    /// Access decisions per role: (allowed, denied).
    pub access_by_role: BTreeMap<String, (u64, u64)>,
    pub transfers: Vec<Transfer>,
}

impl Ledger {
    pub fn dpo_report(
        &self,
        user: Option<&AuthUser>,
        state: Jurisdiction,
    ) -> Result<DpoReport, ServiceError> {
        if let Some(user) = user {
            self.authorize(user, Action::DpoReport, Target::Node, &Ask::default())?;
        }
        let mut c = self.connection()?;
        let mut records_held: BTreeMap<String, u64> = DataCategory::ALL
            .iter()
            .map(|c| (c.as_str().to_owned(), 0))
            .collect();
        for fact in protection::vault_facts_of_state(&mut c, state.as_str())? {
            *records_held.entry(fact.category).or_default() += 1;
        }
        let mut reads_by_purpose = BTreeMap::new();
        let mut access_by_role: BTreeMap<String, (u64, u64)> = BTreeMap::new();
        for row in protection::access_records_of_state(&mut c, state.as_str())? {
            let counts = access_by_role.entry(row.role.clone()).or_default();
            if row.decision == "allowed" {
                counts.0 += 1;
                if row.action == "person.read" {
                    *reads_by_purpose
                        .entry(row.purpose.unwrap_or_else(|| "-".into()))
                        .or_insert(0) += 1;
                }
            } else {
                counts.1 += 1;
            }
        }
        let agencies: BTreeMap<String, String> = crate::storage::identity::all_agencies(&mut c)?
            .into_iter()
            .map(|a| (a.id, a.state))
            .collect();
        let transfers = protection::shares_from_state(&mut c, state.as_str())?
            .into_iter()
            .map(|s| {
                let recipient_state = s.recipient_state.clone().or_else(|| {
                    s.recipient_agency
                        .as_ref()
                        .and_then(|a| agencies.get(a).cloned())
                });
                Transfer {
                    share: s.id,
                    case: s.case_id,
                    recipient: s.recipient_agency.or(s.recipient_state).unwrap_or_default(),
                    recipient_state,
                    handling: s.handling,
                    purposes: s.purposes,
                    confidential: s.confidential,
                    expires_at: s.expires_at,
                    shared_at: s.shared_at,
                    revoked_at: s.revoked_at,
                    seq: s.seq as u64,
                }
            })
            .collect();
        let (authority, law) = authority(state);
        Ok(DpoReport {
            state,
            authority: authority.to_owned(),
            law: law.to_owned(),
            node_origin: self.origin().to_owned(),
            generated_at: crate::core::model::now_utc(),
            records_held,
            retention: self.retention.of_state(state).cloned().collect(),
            reads_by_purpose,
            access_by_role,
            transfers,
        })
    }
}

impl DpoReport {
    /// The report as text, in French then English.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        for lang in ["fr", "en"] {
            let t = |fr: &'static str, en: &'static str| if lang == "fr" { fr } else { en };
            let _ = writeln!(
                out,
                "== {} — {} ({}, {}) ==",
                t("Registre des traitements", "Records of processing"),
                self.state,
                self.authority,
                self.law
            );
            let _ = writeln!(
                out,
                "{} {}    {} {}",
                t("Nœud :", "Node:"),
                self.node_origin,
                t("Établi le :", "Generated at:"),
                self.generated_at
            );
            let _ = writeln!(
                out,
                "\n{}",
                t(
                    "Finalités : enquête, poursuites, prévention, analyse criminalistique, contrôle.",
                    "Purposes: investigation, prosecution, prevention, forensic analysis, oversight."
                )
            );
            let _ = writeln!(
                out,
                "\n{}",
                t(
                    "Données détenues (enregistrements chiffrés) et durée de conservation :",
                    "Data held (encrypted records) and retention period:"
                )
            );
            for rule in &self.retention {
                let held = self
                    .records_held
                    .get(rule.category.as_str())
                    .copied()
                    .unwrap_or(0);
                let basis = if lang == "fr" {
                    &rule.legal_basis_fr
                } else {
                    &rule.legal_basis_en
                };
                let _ = writeln!(
                    out,
                    "  - {:<24} {:>6}  {} {} — {}",
                    rule.category.as_str(),
                    held,
                    rule.days,
                    t("jours", "days"),
                    basis
                );
            }
            let _ = writeln!(
                out,
                "\n{}",
                t(
                    "Lectures de données personnelles par finalité :",
                    "Reads of personal data by purpose:"
                )
            );
            if self.reads_by_purpose.is_empty() {
                let _ = writeln!(out, "  {}", t("(aucune)", "(none)"));
            }
            for (purpose, n) in &self.reads_by_purpose {
                let _ = writeln!(out, "  - {purpose:<24} {n:>6}");
            }
            let _ = writeln!(
                out,
                "\n{}",
                t(
                    "Décisions d'accès par rôle (accordées / refusées) :",
                    "Access decisions by role (allowed / denied):"
                )
            );
            if self.access_by_role.is_empty() {
                let _ = writeln!(out, "  {}", t("(aucune)", "(none)"));
            }
            for (role, (allowed, denied)) in &self.access_by_role {
                let _ = writeln!(out, "  - {role:<24} {allowed:>6} / {denied}");
            }
            let _ = writeln!(
                out,
                "\n{}",
                t(
                    "Transferts (partages d'affaires) :",
                    "Transfers (shared cases):"
                )
            );
            if self.transfers.is_empty() {
                let _ = writeln!(out, "  {}", t("(aucun)", "(none)"));
            }
            for tr in &self.transfers {
                let cross = tr
                    .recipient_state
                    .as_deref()
                    .is_some_and(|s| s != self.state.as_str());
                let _ = writeln!(
                    out,
                    "  - {} → {} ({}){}  {} {}  {} {}  {} {}",
                    tr.case,
                    tr.recipient,
                    tr.recipient_state.as_deref().unwrap_or("?"),
                    if cross {
                        t(" [transfrontalier]", " [cross-border]")
                    } else {
                        ""
                    },
                    t("codes :", "codes:"),
                    if tr.handling.is_empty() {
                        "-"
                    } else {
                        &tr.handling
                    },
                    t("finalités :", "purposes:"),
                    tr.purposes,
                    t("expire le :", "expires:"),
                    tr.expires_at
                );
                if let Some(at) = &tr.revoked_at {
                    let _ = writeln!(out, "    {} {at}", t("révoqué le :", "revoked:"));
                }
            }
            out.push('\n');
        }
        out
    }
}
