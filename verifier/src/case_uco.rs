//! A dossier rendered as CASE 1.4 / UCO JSON-LD (caseontology.org), so that forensic tools that
//! speak CASE can take the case in: the investigation and its legal authorization, each item as
//! an observable with its hashes, a provenance record per exhibit, and an investigative action
//! per registration and custody event, with who did it, when, with what, and what came of it.
//!
//! The JSON-LD is derived from the dossier's entries only (plus the openings it carries); the
//! dossier stays the verifiable record, and the export names the checkpoint it came from.

use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};

use crate::commitment::Commitment;
use crate::dossier::Dossier;
use crate::entry::{CaseRecord, CustodyRecord, Entry, Event, EvidenceRecord};
use crate::model::EvidenceKind;
use crate::t;

/// Why a dossier could not be rendered as CASE/UCO.
#[derive(Debug, thiserror::Error)]
pub enum CaseUcoError {
    /// An entry of the dossier whose bytes do not decode or parse.
    #[error("entry {seq}: {reason}")]
    Entry {
        /// The entry's seq (0-based position in the log).
        seq: u64,
        /// Why its bytes do not decode or parse as an entry.
        reason: String,
    },
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
    let mut graph = Graph::new(dossier);
    for de in &dossier.entries {
        let bad = |reason: String| CaseUcoError::Entry {
            seq: de.seq,
            reason,
        };
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(&de.entry)
            .map_err(|e| bad(e.to_string()))?;
        let entry = Entry::parse(&bytes).map_err(|e| bad(e.to_string()))?;
        graph.add(&entry);
    }
    Ok(graph.finish())
}

/// The graph as the entries build it up.
struct Graph<'a> {
    dossier: &'a Dossier,
    /// Opened values by vault record.
    opened: BTreeMap<&'a str, &'a Value>,
    nodes: Vec<Value>,
    /// What the investigation holds: provenance records and actions, in log order.
    investigation_objects: Vec<Value>,
    identities: BTreeSet<String>,
    /// Tools by name, with their ids.
    tools: BTreeMap<String, String>,
    investigation: Option<Value>,
}

impl<'a> Graph<'a> {
    fn new(dossier: &'a Dossier) -> Self {
        Self {
            dossier,
            opened: dossier
                .openings
                .iter()
                .map(|o| (o.record.as_str(), &o.value))
                .collect(),
            nodes: Vec::new(),
            investigation_objects: Vec::new(),
            identities: BTreeSet::new(),
            tools: BTreeMap::new(),
            investigation: None,
        }
    }

    /// The clear text of a commitment the dossier opens.
    fn text_of(&self, c: &Option<Commitment>) -> Option<String> {
        c.as_ref()
            .and_then(|c| self.opened.get(c.record.as_str()))
            .and_then(|v| v.as_str())
            .map(str::to_owned)
    }

    /// The id of a tool, named once in the graph.
    fn tool(&mut self, name: &str) -> String {
        self.tools
            .entry(name.to_owned())
            .or_insert_with(|| format!("kb:tool-{}", tool_id_suffix(name)))
            .clone()
    }

    fn add(&mut self, entry: &Entry) {
        let performer = format!("kb:identity-{}", entry.actor.user);
        self.identities.insert(entry.actor.user.clone());
        match &entry.event {
            Event::CaseOpened(case) => self.case_opened(entry, case),
            Event::EvidenceRegistered(item) => self.evidence_registered(&performer, item),
            Event::Custody(event) => self.custody_event(&performer, event),
            Event::AgencyRegistered(_)
            | Event::UserRegistered(_)
            | Event::VaultErased(_)
            | Event::CaseShared(_)
            | Event::ShareRevoked(_)
            | Event::PersonRecorded(_)
            | Event::Access(_)
            | Event::DossierIssued(_)
            | Event::PeerMisbehaved(_)
            | Event::DossierSent(_)
            | Event::DossierReceived(_)
            | Event::DossierRefused(_) => {}
        }
    }

    /// The investigation and its legal authorization.
    fn case_opened(&mut self, entry: &Entry, case: &CaseRecord) {
        let authorization = format!("kb:authorization-{}", case.id);
        self.nodes.push(json!({
            "@id": authorization,
            "@type": "case-investigation:Authorization",
            "case-investigation:authorizationType": t!("case-uco-authorization-type").one_line(),
            "case-investigation:authorizationIdentifier": [case.legal_basis],
            "uco-core:name": case.legal_basis,
        }));
        let mut description = t!(
            "case-uco-investigation-description",
            origin = &self.dossier.origin,
            state = case.jurisdiction,
            size = checkpoint_size(self.dossier)
        )
        .one_line();
        if let Some(title) = self.text_of(&case.title) {
            description = format!("{title}. {description}");
        }
        self.investigation = Some(json!({
            "@id": format!("kb:investigation-{}", case.id),
            "@type": "case-investigation:Investigation",
            "uco-core:name": case.reference,
            "case-investigation:investigationForm": "case",
            "case-investigation:focus": [case.offence],
            "case-investigation:relevantAuthorization": [reference(&authorization)],
            "uco-core:description": description,
            "uco-core:objectCreatedTime": date_time(&entry.time),
        }));
    }

    /// The item as an observable with its hashes, its provenance record, and the seizure or
    /// acquisition that produced it.
    fn evidence_registered(&mut self, performer: &str, ev: &EvidenceRecord) {
        let observable = format!("kb:observable-{}", ev.id);
        let class = match ev.kind {
            EvidenceKind::Device | EvidenceKind::StorageMedium => "uco-observable:Device",
            _ => "uco-observable:File",
        };
        let mut object = json!({
            "@id": observable,
            "@type": class,
            "uco-core:name": format!("{} / {}", ev.exhibit_number, ev.seal_number),
            "uco-core:hasFacet": [content_facet(ev)],
        });
        if let Some(description) = self.text_of(&ev.description) {
            object["uco-core:description"] = Value::String(description);
        }
        self.nodes.push(object);
        let record = format!("kb:provenance-record-{}", ev.id);
        self.nodes.push(json!({
            "@id": record,
            "@type": "case-investigation:ProvenanceRecord",
            "case-investigation:exhibitNumber": ev.exhibit_number,
            "uco-core:description": t!("case-uco-seal", seal = &ev.seal_number).one_line(),
            "uco-core:object": [reference(&observable)],
        }));
        let action_id = format!("kb:investigative-action-{}", ev.id);
        let name = if ev.parent.is_some() {
            t!("case-uco-acquisition")
        } else {
            t!("case-uco-seizure")
        };
        let mut action = json!({
            "@id": action_id,
            "@type": "case-investigation:InvestigativeAction",
            "uco-core:name": name.one_line(),
            "uco-action:performer": reference(performer),
            "uco-action:startTime": date_time(&ev.collected_at),
            "uco-action:result": [reference(&observable), reference(&record)],
        });
        if let Some(parent) = &ev.parent {
            action["uco-action:object"] = json!([reference(&format!("kb:observable-{parent}"))]);
        }
        if let Some(acq) = &ev.acquisition {
            let name = match &acq.version {
                Some(v) => format!("{} {v}", acq.tool),
                None => acq.tool.clone(),
            };
            action["uco-action:instrument"] = reference(&self.tool(&name));
        }
        self.nodes.push(action);
        self.investigation_objects.push(reference(&record));
        self.investigation_objects.push(reference(&action_id));
    }

    /// A custody event as an investigative action on the item.
    fn custody_event(&mut self, performer: &str, ev: &CustodyRecord) {
        let action_id = format!("kb:investigative-action-{}", ev.id);
        let mut action = json!({
            "@id": action_id,
            "@type": "case-investigation:InvestigativeAction",
            "uco-core:name": format!("custody: {}", ev.event_type),
            "uco-action:performer": reference(performer),
            "uco-action:startTime": date_time(&ev.at),
            "uco-action:object": [reference(&format!("kb:observable-{}", ev.item))],
        });
        let mut description: Vec<String> = Vec::new();
        if let Some(to) = &ev.to_user {
            self.identities.insert(to.clone());
            description.push(t!("case-uco-to", user = to).one_line());
        }
        if let Some(result) = ev.result {
            description.push(t!("case-uco-integrity", result = result).one_line());
        }
        if let Some(intact) = ev.seal_intact {
            description.push(t!("case-uco-seal-intact", intact = intact).one_line());
        }
        description.extend(self.text_of(&ev.reason));
        description.extend(self.text_of(&ev.place));
        if !description.is_empty() {
            action["uco-core:description"] = Value::String(description.join("; "));
        }
        if let Some(tool) = &ev.tool {
            action["uco-action:instrument"] = reference(&self.tool(tool));
        }
        self.nodes.push(action);
        self.investigation_objects.push(reference(&action_id));
    }

    /// The document: the investigation first, then every node, identity and tool.
    fn finish(mut self) -> Value {
        for user in &self.identities {
            self.nodes.push(json!({
                "@id": format!("kb:identity-{user}"),
                "@type": "uco-identity:Identity",
                "uco-core:name": user,
            }));
        }
        for (name, id) in &self.tools {
            self.nodes
                .push(json!({"@id": id, "@type": "uco-tool:Tool", "uco-core:name": name}));
        }
        if let Some(mut inv) = self.investigation {
            inv["uco-core:object"] = Value::Array(self.investigation_objects);
            self.nodes.insert(0, inv);
        }
        json!({"@context": context(), "@graph": self.nodes})
    }
}

/// An item's hashes and size.
fn content_facet(ev: &EvidenceRecord) -> Value {
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
    facet
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
