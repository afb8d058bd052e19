//! Free text that may name a person, sealed for the log (DESIGN §4): the vault keeps the value
//! encrypted, the entry gets an HMAC commitment under a fresh salt; and the way back, the clear
//! text of a record for a reader the policies allowed.

use serde_json::Value;

use scelle_verifier::commitment::{self, Commitment, SALT_LEN};
use scelle_verifier::entry::Reason;
use scelle_verifier::model::{self, DataCategory};

use crate::error::ServiceError;
use crate::ledger::sequencer::{HeldUntilCommitted, SideWrites};
use crate::node::Node;
use crate::node::ids::{new_id, random_bytes};
use crate::node::vault::{KeyHold, Vault};
use crate::storage::DbConnection;
use crate::storage::registry::{self, SealedRow};

/// Values sealed for one request: the rows to store, and the clear text for the answer.
#[derive(Default)]
pub struct Sealing {
    /// Vault rows the request's entry accounts for.
    pub rows: Vec<SealedRow>,
    clear: Vec<(String, String)>,
    /// The epoch key the rows are wrapped under, held until the request ends (after its
    /// append), so that an erasure's rotation waits for them (see `node::vault::KeyHold`).
    hold: Option<KeyHold>,
}

impl Sealing {
    /// The side writes of the request's entry: its vault rows, and the hold on the epoch key
    /// they are wrapped under until the batch that writes them commits.
    pub fn side_writes(&mut self) -> SideWrites {
        SideWrites {
            vault: std::mem::take(&mut self.rows),
            held: self
                .hold
                .as_ref()
                .map(|h| HeldUntilCommitted::new(h.clone()))
                .unwrap_or_default(),
            ..Default::default()
        }
    }

    /// The clear text behind a commitment sealed in this request.
    pub fn clear_of(&self, c: &Option<Commitment>) -> Option<String> {
        let record = &c.as_ref()?.record;
        self.clear
            .iter()
            .find(|(id, _)| id == record)
            .map(|(_, v)| v.clone())
    }
}

/// A fresh salt for a commitment.
pub fn new_salt() -> [u8; SALT_LEN] {
    random_bytes()
}

/// Commits a free-text value of a case: the vault keeps it sealed, the entry gets the commitment.
pub fn seal_text(
    node: &Node,
    value: Option<&str>,
    field: &'static str,
    case_id: &str,
    sealing: &mut Sealing,
) -> Result<Option<Commitment>, ServiceError> {
    seal_text_of(node, value, field, Some(case_id), sealing)
}

/// [`seal_text`] for a value that may belong to no case (an erasure's reason, when the record
/// erased had none).
pub fn seal_text_of(
    node: &Node,
    value: Option<&str>,
    field: &'static str,
    case_id: Option<&str>,
    sealing: &mut Sealing,
) -> Result<Option<Commitment>, ServiceError> {
    let Some(value) = value else { return Ok(None) };
    let value = model::parse_text(field, value, 4000)?;
    let salt = new_salt();
    let hmac = commitment::commit(&salt, &Value::String(value.clone()))
        .map_err(|e| ServiceError::Internal(e.to_string()))?;
    let record = new_id();
    let hold = match sealing.hold.take() {
        Some(hold) => hold,
        None => node.vault().hold()?,
    };
    let row = hold.seal(
        &record,
        &salt,
        &value,
        node.clock().now_rfc3339()?,
        case_id.map(str::to_owned),
        DataCategory::CaseText,
    );
    sealing.hold = Some(hold);
    sealing.rows.push(row?);
    sealing.clear.push((record.clone(), value));
    Ok(Some(Commitment {
        record,
        hmac: hex::encode(hmac),
    }))
}

/// A reason a person states, committed: the entry gets the commitment, the vault the text.
pub fn seal_reason(
    node: &Node,
    reason: &str,
    field: &'static str,
    case_id: Option<&str>,
    sealing: &mut Sealing,
) -> Result<Reason, ServiceError> {
    match seal_text_of(node, Some(reason), field, case_id, sealing)? {
        Some(commitment) => Ok(Reason::Committed(commitment)),
        None => Err(ServiceError::Internal(
            "a stated reason was not sealed".into(),
        )),
    }
}

/// The clear text of a vault record; `None` when not revealed, there is none or it was erased.
pub fn vault_text(
    c: &mut DbConnection,
    vault: &Vault,
    record: Option<&str>,
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
