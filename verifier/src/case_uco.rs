//! A dossier rendered as CASE 1.4 / UCO JSON-LD (caseontology.org), so that forensic tools that
//! speak CASE can take the case in: the investigation and its legal authorization, each item as
//! an observable with its hashes, a provenance record per exhibit, and an investigative action
//! per registration and custody event, with who did it, when, with what, and what came of it.
//!
//! The JSON-LD is derived from the dossier's entries only (plus the openings it carries); the
//! dossier stays the verifiable record, and the export names the checkpoint it came from.

use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};

use crate::dossier::Dossier;
use crate::entry::{Entry, Event};
use crate::model::EvidenceKind;
use crate::t;

#[derive(Debug, thiserror::Error)]
pub enum CaseUcoError {
    #[error("entry {seq}: {reason}")]
    Entry { seq: u64, reason: String },
}

fn context() -> Value {
    json!({
        "kb": "urn:scelle:",
        "case-investigation": "https://ontology.caseontology.org/case/investigation/",
        "uco-action": "https://ontology.unifiedcyberontology.org/uco/action/",
        "uco-core": "https://ontology.unifiedcyberontology.org/uco/core/",
        "uco-identity": "https://ontology.unifiedcyberontology.org/uco/identity/",
        "uco-observable": "https://ontology.unifiedcyberontology.org/uco/observable/",
        "uco-tool": "https://ontology.unifiedcyberontology.org/uco/tool/",
        "uco-types": "https://ontology.unifiedcyberontology.org/uco/types/",
                "xsd": "http://www.w3.org/2001/XMLSchema#"
    })
}

fn date_time(s: &str) -> Value {
    json!({"@type": "xsd:dateTime", "@value": s})
}

fn reference(id: &str) -> Value {
    json!({"@id": id})
}

fn hash(id: String, method: &str, hex: &str) -> Value {
    json!({
        "@id": id,
        "@type": "uco-types:Hash",
        "uco-types:hashMethod": method,
        "uco-types:hashValue": {"@type": "xsd:hexBinary", "@value": hex.to_uppercase()}
    })
}

/// The CASE/UCO JSON-LD document for a dossier.
pub fn render(dossier: &Dossier) -> Result<Value, CaseUcoError> {
    use base64::Engine as _;
    let opened: BTreeMap<&str, &Value> = dossier
        .openings
        .iter()
        .map(|o| (o.record.as_str(), &o.value))
        .collect();
    let text_of = |c: &Option<crate::commitment::Commitment>| -> Option<String> {
        c.as_ref()
            .and_then(|c| opened.get(c.record.as_str()))
            .and_then(|v| v.as_str())
            .map(str::to_owned)
    };
    let mut graph: Vec<Value> = Vec::new();
    let mut investigation_objects: Vec<Value> = Vec::new();
    let mut identities: BTreeSet<String> = BTreeSet::new();
    let mut tools: BTreeMap<String, String> = BTreeMap::new();
    let mut investigation: Option<Value> = None;
    for de in &dossier.entries {
        let bad = |reason: String| CaseUcoError::Entry {
            seq: de.seq,
            reason,
        };
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(&de.entry)
            .map_err(|e| bad(e.to_string()))?;
        let entry = Entry::parse(&bytes).map_err(|e| bad(e.to_string()))?;
        let performer = format!("kb:identity-{}", entry.actor.user);
        identities.insert(entry.actor.user.clone());
        match &entry.event {
            Event::CaseOpened(case) => {
                let authorization = format!("kb:authorization-{}", case.id);
                graph.push(json!({
                    "@id": authorization,
                    "@type": "case-investigation:Authorization",
                    "case-investigation:authorizationType": t!("case-uco-authorization-type").one_line(),
                    "case-investigation:authorizationIdentifier": [case.legal_basis],
                    "uco-core:name": case.legal_basis,
                }));
                let mut inv = json!({
                    "@id": format!("kb:investigation-{}", case.id),
                    "@type": "case-investigation:Investigation",
                    "uco-core:name": case.reference,
                    "case-investigation:investigationForm": "case",
                    "case-investigation:focus": [case.offence],
                    "case-investigation:relevantAuthorization": [reference(&authorization)],
                    "uco-core:description": t!(
                        "case-uco-investigation-description",
                        origin = &dossier.origin,
                        state = case.jurisdiction,
                        size = checkpoint_size(dossier)
                    )
                    .one_line(),
                    "uco-core:objectCreatedTime": date_time(&entry.time),
                });
                if let Some(title) = text_of(&case.title) {
                    inv["uco-core:description"] = Value::String(format!(
                        "{title}. {}",
                        inv["uco-core:description"].as_str().unwrap_or_default()
                    ));
                }
                investigation = Some(inv);
            }
            Event::EvidenceRegistered(ev) => {
                let observable = format!("kb:observable-{}", ev.id);
                let class = match ev.kind {
                    EvidenceKind::Device | EvidenceKind::StorageMedium => "uco-observable:Device",
                    _ => "uco-observable:File",
                };
                let mut hashes = vec![hash(
                    format!("kb:hash-sha256-{}", ev.id),
                    "SHA256",
                    &ev.hashes.sha256,
                )];
                for (method, value) in [
                    ("SHA512", &ev.hashes.sha512),
                    ("SHA1", &ev.hashes.sha1),
                    ("MD5", &ev.hashes.md5),
                ] {
                    if let Some(v) = value {
                        hashes.push(hash(
                            format!("kb:hash-{}-{}", method.to_lowercase(), ev.id),
                            method,
                            v,
                        ));
                    }
                }
                let mut facet = json!({
                    "@id": format!("kb:content-data-facet-{}", ev.id),
                    "@type": "uco-observable:ContentDataFacet",
                    "uco-observable:hash": hashes,
                });
                if let Some(size) = ev.size_bytes {
                    facet["uco-observable:sizeInBytes"] =
                        json!({"@type": "xsd:integer", "@value": size.to_string()});
                }
                let mut object = json!({
                    "@id": observable,
                    "@type": class,
                    "uco-core:name": format!("{} / {}", ev.exhibit_number, ev.seal_number),
                    "uco-core:hasFacet": [facet],
                });
                if let Some(description) = text_of(&ev.description) {
                    object["uco-core:description"] = Value::String(description);
                }
                graph.push(object);
                let record = format!("kb:provenance-record-{}", ev.id);
                graph.push(json!({
                    "@id": record,
                    "@type": "case-investigation:ProvenanceRecord",
                    "case-investigation:exhibitNumber": ev.exhibit_number,
                    "uco-core:description": format!("scellé / seal {}", ev.seal_number),
                    "uco-core:object": [reference(&observable)],
                }));
                let action_id = format!("kb:investigative-action-{}", ev.id);
                let mut action = json!({
                    "@id": action_id,
                    "@type": "case-investigation:InvestigativeAction",
                    "uco-core:name": if ev.parent.is_some() { "acquisition" } else { "seizure / saisie" },
                    "uco-action:performer": reference(&performer),
                    "uco-action:startTime": date_time(&ev.collected_at),
                    "uco-action:result": [reference(&observable), reference(&record)],
                });
                if let Some(parent) = &ev.parent {
                    action["uco-action:object"] =
                        json!([reference(&format!("kb:observable-{parent}"))]);
                }
                if let Some(acq) = &ev.acquisition {
                    let name = match &acq.version {
                        Some(v) => format!("{} {v}", acq.tool),
                        None => acq.tool.clone(),
                    };
                    let tool_id = tools
                        .entry(name.clone())
                        .or_insert_with(|| format!("kb:tool-{}", tool_id_suffix(&name)))
                        .clone();
                    action["uco-action:instrument"] = reference(&tool_id);
                }
                graph.push(action);
                investigation_objects.push(reference(&record));
                investigation_objects.push(reference(&action_id));
            }
            Event::Custody(ev) => {
                let action_id = format!("kb:investigative-action-{}", ev.id);
                let mut action = json!({
                    "@id": action_id,
                    "@type": "case-investigation:InvestigativeAction",
                    "uco-core:name": format!("custody: {}", ev.event_type),
                    "uco-action:performer": reference(&performer),
                    "uco-action:startTime": date_time(&ev.at),
                    "uco-action:object": [reference(&format!("kb:observable-{}", ev.item))],
                });
                let mut description: Vec<String> = Vec::new();
                if let Some(to) = &ev.to_user {
                    identities.insert(to.clone());
                    description.push(format!("to / à {to}"));
                }
                if let Some(result) = ev.result {
                    description.push(format!("integrity / intégrité: {result}"));
                }
                if let Some(intact) = ev.seal_intact {
                    description.push(format!("seal intact / scellé intact: {intact}"));
                }
                description.extend(text_of(&ev.reason));
                description.extend(text_of(&ev.place));
                if !description.is_empty() {
                    action["uco-core:description"] = Value::String(description.join("; "));
                }
                if let Some(tool) = &ev.tool {
                    let tool_id = tools
                        .entry(tool.clone())
                        .or_insert_with(|| format!("kb:tool-{}", tool_id_suffix(tool)))
                        .clone();
                    action["uco-action:instrument"] = reference(&tool_id);
                }
                graph.push(action);
                investigation_objects.push(reference(&action_id));
            }
            Event::AgencyRegistered(_)
            | Event::UserRegistered(_)
            | Event::VaultErased(_)
            | Event::CaseShared(_)
            | Event::ShareRevoked(_)
            | Event::PersonRecorded(_)
            | Event::Access(_) => {}
        }
    }
    for user in identities {
        graph.push(json!({
            "@id": format!("kb:identity-{user}"),
            "@type": "uco-identity:Identity",
            "uco-core:name": user,
        }));
    }
    for (name, id) in tools {
        graph.push(json!({"@id": id, "@type": "uco-tool:Tool", "uco-core:name": name}));
    }
    if let Some(mut inv) = investigation {
        inv["uco-core:object"] = Value::Array(investigation_objects);
        graph.insert(0, inv);
    }
    Ok(json!({"@context": context(), "@graph": graph}))
}

/// A stable id for a tool, from its name: SHA-256 of the name laid out as a UUID (version 8,
/// RFC 9562 §5.8), since CASE suggests ids that end with a UUID and names hold spaces.
fn tool_id_suffix(name: &str) -> String {
    use sha2::{Digest, Sha256};
    let mut b: [u8; 16] = [0; 16];
    b.copy_from_slice(&Sha256::digest(name.as_bytes())[..16]);
    b[6] = (b[6] & 0x0f) | 0x80;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

fn checkpoint_size(dossier: &Dossier) -> String {
    dossier
        .checkpoint
        .lines()
        .nth(1)
        .unwrap_or_default()
        .to_owned()
}
