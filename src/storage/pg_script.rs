//! PostgreSQL: every write of an append batch sent as one multi-statement text, in one round
//! trip, inside the batch's transaction.
//!
//! With bound parameters each statement is a round trip, and on a loaded machine each round
//! trip costs about a millisecond of waiting for the server to be scheduled; a batch wrote six
//! statements. Here the values are written into the text instead of bound, and never as
//! quoted text: every string and byte string goes in as hexadecimal (`decode('…','hex')`), so
//! no value can change the statements whatever it holds, and the server's string settings do
//! not matter.

use diesel::connection::SimpleConnection as _;
use std::fmt::Write as _;

use super::log_store::{CheckpointRow, NewEntry, NewNode};
use super::registry::{CustodyEventRow, EvidenceRow, SealedRow};
use super::{DbConnection, StorageError};

/// Statements to run together; `run` sends them.
#[derive(Default)]
pub struct PgScript {
    sql: String,
}

fn bytes(out: &mut String, b: &[u8]) {
    out.push_str("decode('");
    out.push_str(&hex::encode(b));
    out.push_str("','hex')");
}

fn text(out: &mut String, s: &str) {
    out.push_str("convert_from(");
    bytes(out, s.as_bytes());
    out.push_str(",'UTF8')");
}

fn opt_text(out: &mut String, s: Option<&str>) {
    match s {
        Some(s) => text(out, s),
        None => out.push_str("NULL::text"),
    }
}

fn int(out: &mut String, n: i64) {
    let _ = write!(out, "{n}");
}

/// Writes `rows` as `(…),(…)`, each row's values through `row`.
fn values<T>(out: &mut String, rows: &[T], mut row: impl FnMut(&mut String, &T)) {
    for (i, r) in rows.iter().enumerate() {
        out.push_str(if i == 0 { "(" } else { ",(" });
        row(out, r);
        out.push(')');
    }
}

impl PgScript {
    pub fn is_empty(&self) -> bool {
        self.sql.is_empty()
    }

    pub fn update_custody_states(&mut self, rows: &[&EvidenceRow]) {
        if rows.is_empty() {
            return;
        }
        let out = &mut self.sql;
        out.push_str(
            "UPDATE evidence_items SET holder_id = v.holder_id, custody_status = v.custody_status, \
             pending_to = v.pending_to, pending_event = v.pending_event, integrity = v.integrity \
             FROM (VALUES ",
        );
        values(out, rows, |out, r| {
            text(out, &r.id);
            out.push(',');
            text(out, &r.holder_id);
            out.push(',');
            text(out, &r.custody_status);
            out.push(',');
            opt_text(out, r.pending_to.as_deref());
            out.push(',');
            opt_text(out, r.pending_event.as_deref());
            out.push(',');
            text(out, &r.integrity);
        });
        out.push_str(
            ") AS v(id, holder_id, custody_status, pending_to, pending_event, integrity) \
             WHERE evidence_items.id = v.id;\n",
        );
    }

    pub fn insert_events(&mut self, rows: &[CustodyEventRow]) {
        if rows.is_empty() {
            return;
        }
        let out = &mut self.sql;
        out.push_str(
            "INSERT INTO custody_events (id, item_id, seq, event_type, actor_id, occurred_at, \
             recorded_at, details) VALUES ",
        );
        values(out, rows, |out, r| {
            text(out, &r.id);
            out.push(',');
            text(out, &r.item_id);
            out.push(',');
            int(out, r.seq);
            out.push(',');
            text(out, &r.event_type);
            out.push(',');
            text(out, &r.actor_id);
            out.push(',');
            text(out, &r.occurred_at);
            out.push(',');
            text(out, &r.recorded_at);
            out.push(',');
            text(out, &r.details);
        });
        out.push_str(";\n");
    }

    pub fn insert_sealed(&mut self, rows: &[SealedRow]) {
        if rows.is_empty() {
            return;
        }
        let out = &mut self.sql;
        out.push_str(
            "INSERT INTO vault_sealed (id, sealed, wrapped_key, created_at, case_id, category) VALUES ",
        );
        values(out, rows, |out, r| {
            text(out, &r.id);
            out.push(',');
            bytes(out, &r.sealed);
            out.push(',');
            bytes(out, &r.wrapped_key);
            out.push(',');
            text(out, &r.created_at);
            out.push(',');
            opt_text(out, r.case_id.as_deref());
            out.push(',');
            text(out, &r.category);
        });
        out.push_str(";\n");
    }

    pub fn insert_entries(&mut self, entries: &[NewEntry], nodes: &[NewNode]) {
        let out = &mut self.sql;
        if !entries.is_empty() {
            out.push_str("INSERT INTO log_entries (seq, leaf_hash, body) VALUES ");
            values(out, entries, |out, e| {
                int(out, e.seq);
                out.push(',');
                bytes(out, &e.leaf_hash);
                out.push(',');
                bytes(out, &e.body);
            });
            out.push_str(";\n");
        }
        if !nodes.is_empty() {
            out.push_str("INSERT INTO tree_nodes (node_key, hash) VALUES ");
            values(out, nodes, |out, n| {
                int(out, n.node_key);
                out.push(',');
                bytes(out, &n.hash);
            });
            out.push_str(";\n");
        }
    }

    pub fn insert_checkpoint(&mut self, row: &CheckpointRow) {
        let out = &mut self.sql;
        out.push_str("INSERT INTO checkpoints (tree_size, root_hash, note, created_at) VALUES (");
        int(out, row.tree_size);
        out.push(',');
        bytes(out, &row.root_hash);
        out.push(',');
        text(out, &row.note);
        out.push(',');
        text(out, &row.created_at);
        out.push_str(");\n");
    }

    /// Sends every statement at once (in the caller's transaction).
    pub fn run(self, conn: &mut DbConnection) -> Result<(), StorageError> {
        if self.sql.is_empty() {
            return Ok(());
        }
        on_backend!(conn, c => c.batch_execute(&self.sql))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_written_as_hex_only() {
        let mut script = PgScript::default();
        script.insert_checkpoint(&CheckpointRow {
            tree_size: 7,
            root_hash: vec![0xab; 32],
            note: "o'); DROP TABLE log_entries; --\n\\x".into(),
            created_at: "2026-11-23T10:00:00Z".into(),
        });
        assert!(!script.sql.contains("DROP"), "{}", script.sql);
        assert!(script.sql.contains(&hex::encode("DROP TABLE")));
        // Apart from the statement itself, only hex digits, decode/convert_from calls and
        // punctuation: no quote opens except around hex or the 'hex'/'UTF8' names.
        for quoted in script.sql.split('\'').skip(1).step_by(2) {
            assert!(
                quoted == "hex"
                    || quoted == "UTF8"
                    || quoted.bytes().all(|b| b.is_ascii_hexdigit()),
                "{quoted}"
            );
        }
    }
}
