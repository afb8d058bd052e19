//! Durable appends through the sequencer, against the same rows inserted raw (the ceilings), and
//! receipt latency at a fixed offered rate.

use diesel::connection::SimpleConnection as _;
use diesel::prelude::*;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::storage::log_store::{self, CheckpointRow, NewEntry, NewNode, node_key};
use crate::storage::registry::{CaseHeadRow, EvidenceRow};
use crate::storage::{self, DatabaseUrl};
use crate::usecases::custody::{self};
use crate::usecases::log;
use scelle_verifier::merkle::NodeId;

use super::args::*;
use super::setup::*;

pub(super) fn appends(
    args: &BenchArgs,
    work: &std::path::Path,
    base: &DatabaseUrl,
    db: &DatabaseUrl,
) -> Result<(), String> {
    let s = setup(args, work, db)?;
    // By default the writers share the cores the sequencer does not keep busy: all but one.
    let task_threads = args.writer_threads.unwrap_or_else(|| {
        std::thread::available_parallelism().map_or(1, |n| n.get().saturating_sub(1).max(1))
    });
    // First, for comparison, writers that each hold a thread while their batch is synced.
    measured_loop(
        &s,
        args.seconds,
        Writers::Threads,
        &format!(
            "{} writer threads, each blocked until durable",
            args.writers
        ),
    )?;
    // The figure: writers as tasks awaiting their receipts, as the HTTP layer's requests do.
    let size_before = log::size(&s.ledger).map_err(err)?;
    let vault_before = last_vault_id(&s)?;
    let (
        LoopRun {
            appended, elapsed, ..
        },
        mean_batch,
    ) = measured_loop(
        &s,
        args.seconds,
        Writers::Tasks(task_threads),
        &format!(
            "{} writers as tasks on {task_threads} thread{}, durable",
            args.writers,
            if task_threads == 1 { "" } else { "s" }
        ),
    )?;
    let rate = appended as f64 / elapsed;

    // The ceiling: the same entry rows, inserted raw in batches of the same size, same durability.
    let bodies: Vec<(Vec<u8>, Vec<u8>)> = {
        let mut c = storage::get_conn(s.ledger.pool()).map_err(err)?;
        log_store::entries_range(&mut c, size_before, size_before + appended)
            .map_err(err)?
            .into_iter()
            .map(|(_, leaf, body)| (leaf, body))
            .collect()
    };
    let raw_url = match db {
        DatabaseUrl::Sqlite(_) => DatabaseUrl::sqlite_in(&work.join("raw")),
        other => other.clone(),
    };
    std::fs::create_dir_all(work.join("raw")).map_err(err)?;
    let mut raw = raw_url.connect().map_err(err)?;
    raw.batch_execute("CREATE TABLE IF NOT EXISTS raw_entries (seq BIGINT PRIMARY KEY NOT NULL, leaf_hash BYTEA NOT NULL, body BYTEA NOT NULL); DELETE FROM raw_entries;")
        .map_err(err)?;
    let batch = (mean_batch.round() as usize).max(1);
    let started = Instant::now();
    for (i, chunk) in bodies.chunks(batch).enumerate() {
        let rows: Vec<_> = chunk
            .iter()
            .enumerate()
            .map(|(j, (leaf, body))| RawRow {
                seq: (i * batch + j) as i64,
                leaf_hash: leaf.clone(),
                body: body.clone(),
            })
            .collect();
        // The same statements the sequencer uses: fixed-size multi-row inserts (`INSERT OR FAIL`
        // on SQLite), kept prepared.
        raw.transaction(|c| -> Result<(), diesel::result::Error> {
            insert_rows!(c, raw_entries::table, &rows);
            Ok(())
        })
        .map_err(err)?;
    }
    let raw_rate = bodies.len() as f64 / started.elapsed().as_secs_f64();
    let _ = raw.batch_execute("DROP TABLE raw_entries");
    println!(
        "raw batched inserts, same rows and durability (ceiling): {raw_rate:.0} rows/s; ratio {:.2}",
        rate / raw_rate
    );
    let all_rows_rate = all_rows_ceiling(
        &s,
        &phase_db(base, &work.join("all-rows"), "all_rows")?,
        size_before..size_before + bodies.len() as u64,
        vault_before.as_deref(),
        batch,
    )?;
    println!(
        "  every row those appends wrote (entries, tree nodes, checkpoints, custody events and states, vault records), written raw in batches of {batch} with the same durability by the storage layer's own batch write: {all_rows_rate:.0} appends/s; ratio {:.2}",
        rate / all_rows_rate
    );

    // Receipt latency at a fixed offered load: 2,000 appends/s spread over 16 paced writers.
    let offered = 2_000.0;
    let pacers = 16usize.min(s.writers.len());
    let interval = Duration::from_secs_f64(pacers as f64 / offered);
    let run_for = Duration::from_secs(args.seconds.max(3));
    let threads: Vec<_> = s.writers[..pacers]
        .iter()
        .cloned()
        .map(|(user, item)| {
            let ledger = s.ledger.clone();
            std::thread::spawn(move || {
                let mut lat = Vec::new();
                let start = Instant::now();
                let mut next = start;
                while start.elapsed() < run_for {
                    let now = Instant::now();
                    if next > now {
                        std::thread::sleep(next - now);
                    }
                    let t = Instant::now();
                    if custody::record(&ledger, &user, &item, examined()).is_ok() {
                        lat.push(t.elapsed().as_secs_f64() * 1e3);
                    }
                    next += interval;
                }
                lat
            })
        })
        .collect();
    let mut lat: Vec<f64> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap_or_default())
        .collect();
    lat.sort_by(f64::total_cmp);
    println!(
        "receipt latency at {offered:.0} appends/s offered: p50 {:.2} ms, p99 {:.2} ms ({} receipts)",
        percentile(&lat, 0.5),
        percentile(&lat, 0.99),
        lat.len()
    );
    let Setup { ledger, handle, .. } = s;
    if let Ok(ledger) = Arc::try_unwrap(ledger) {
        ledger.shutdown(handle);
    }
    Ok(())
}

/// The id of the newest vault record (ids are UUIDv7, so later records sort after it).
pub(super) fn last_vault_id(s: &Setup) -> Result<Option<String>, String> {
    use crate::storage::schema::vault_sealed;
    let mut c = storage::get_conn(s.ledger.pool()).map_err(err)?;
    vault_sealed::table
        .select(diesel::dsl::max(vault_sealed::id))
        .first::<Option<String>>(&mut c)
        .map_err(err)
}

/// The second ceiling: every row the appends of `seqs` wrote, read back from the node's
/// database and written again into a fresh one with the same schema (its case and items copied
/// first), `batch` appends per transaction, by `log_store::write_batch`, as the sequencer
/// writes them, with the same durability (one fsync per batch). What separates the sequencer
/// from this is its own work: checks, canonical bytes, hashes, signatures, hand-offs.
/// Appends per second.
pub(super) fn all_rows_ceiling(
    s: &Setup,
    target: &DatabaseUrl,
    seqs: std::ops::Range<u64>,
    vault_after: Option<&str>,
    batch: usize,
) -> Result<f64, String> {
    use crate::storage::registry::{self, CustodyEventRow, SealedRow};
    use crate::storage::schema::{checkpoints, custody_events, vault_sealed};
    let mut c = storage::get_conn(s.ledger.pool()).map_err(err)?;
    let (lo, hi) = (seqs.start as i64, seqs.end as i64);
    let entries: Vec<NewEntry> = log_store::entries_range(&mut c, seqs.start, seqs.end)
        .map_err(err)?
        .into_iter()
        .map(|(seq, leaf_hash, body)| NewEntry {
            seq,
            leaf_hash,
            body,
        })
        .collect();
    let events: Vec<CustodyEventRow> = custody_events::table
        .filter(custody_events::seq.ge(lo).and(custody_events::seq.lt(hi)))
        .order(custody_events::seq.asc())
        .select(CustodyEventRow::as_select())
        .load(&mut c)
        .map_err(err)?;
    let vault: Vec<SealedRow> = vault_sealed::table
        .filter(vault_sealed::id.gt(vault_after.unwrap_or("")))
        .order(vault_sealed::id.asc())
        .select(SealedRow::as_select())
        .load(&mut c)
        .map_err(err)?;
    let checkpoint_rows: Vec<CheckpointRow> = checkpoints::table
        .filter(
            checkpoints::tree_size
                .gt(lo)
                .and(checkpoints::tree_size.le(hi)),
        )
        .order(checkpoints::tree_size.asc())
        .load(&mut c)
        .map_err(err)?;
    // The interior nodes each leaf completed, as the sequencer stored them.
    let completed: Vec<Vec<NodeId>> = (seqs.start..seqs.end)
        .map(|seq| {
            (1u8..64)
                .take_while(|level| (seq + 1) % (1u64 << level) == 0)
                .map(|level| NodeId::new(level, seq >> level))
                .collect()
        })
        .collect();
    let wanted: Vec<NodeId> = completed.iter().flatten().copied().collect();
    let hashes = log_store::fetch_nodes(&mut c, &wanted).map_err(err)?;
    let nodes: Vec<Vec<NewNode>> = completed
        .iter()
        .map(|ids| {
            ids.iter()
                .filter_map(|id| {
                    hashes.get(id).map(|hash| NewNode {
                        node_key: node_key(*id),
                        hash: hash.to_vec(),
                    })
                })
                .collect()
        })
        .collect();
    let item_id = s
        .writers
        .first()
        .map(|(_, item)| item.clone())
        .unwrap_or_default();
    let case_id = registry::evidence_by_id(&mut c, &item_id)
        .map_err(err)?
        .map(|item| item.case_id)
        .ok_or("bench: its evidence item is gone")?;
    let case = registry::case_by_id(&mut c, &case_id)
        .map_err(err)?
        .ok_or("bench: its case is gone")?;
    let items: HashMap<String, EvidenceRow> = registry::evidence_of_case(&mut c, &case_id)
        .map_err(err)?
        .into_iter()
        .map(|item| (item.id.clone(), item))
        .collect();
    drop(c);

    let mut raw = target.connect().map_err(err)?;
    storage::run_migrations(&mut raw).map_err(err)?;
    registry::insert_case(&mut raw, &case).map_err(err)?;
    for item in items.values() {
        registry::insert_evidence(&mut raw, item).map_err(err)?;
    }
    let chunks = entries.len().div_ceil(batch.max(1));
    let started = Instant::now();
    for chunk in 0..chunks {
        let (from, to) = (chunk * batch, ((chunk + 1) * batch).min(entries.len()));
        let seq_range = seqs.start as i64 + from as i64..seqs.start as i64 + to as i64;
        let first_event = events.partition_point(|e| e.seq < seq_range.start);
        let last_event = events.partition_point(|e| e.seq < seq_range.end);
        let chunk_events = &events[first_event..last_event];
        let mut touched: Vec<&EvidenceRow> = Vec::new();
        for event in chunk_events {
            if let Some(item) = items.get(&event.item_id)
                && !touched.iter().any(|t| t.id == item.id)
            {
                touched.push(item);
            }
        }
        let chunk_nodes: Vec<NewNode> = nodes[from..to]
            .iter()
            .flatten()
            .map(|n| NewNode {
                node_key: n.node_key,
                hash: n.hash.clone(),
            })
            .collect();
        let vault_share: Vec<&SealedRow> = vault
            [vault.len() * from / entries.len().max(1)..vault.len() * to / entries.len().max(1)]
            .iter()
            .collect();
        // The newest entry of each case the chunk added to, as the sequencer writes it.
        let mut heads: Vec<CaseHeadRow> = Vec::new();
        for event in chunk_events {
            let (Some(item), Some(entry)) = (
                items.get(&event.item_id),
                entries.get((event.seq - seqs.start as i64) as usize),
            ) else {
                continue;
            };
            let head = CaseHeadRow {
                case_id: item.case_id.clone(),
                seq: event.seq,
                leaf: entry.leaf_hash.clone(),
            };
            match heads.iter_mut().find(|h| h.case_id == head.case_id) {
                Some(newest) => *newest = head,
                None => heads.push(head),
            }
        }
        let rows = log_store::BatchRows {
            items: &touched,
            events: chunk_events,
            heads: &heads,
            vault: &vault_share,
            entries: &entries[from..to],
            nodes: &chunk_nodes,
            checkpoint: checkpoint_rows.get(chunk),
            follows: None,
        };
        raw.transaction(|c| log_store::write_batch(c, &rows))
            .map_err(err)?;
    }
    Ok(entries.len() as f64 / started.elapsed().as_secs_f64())
}

diesel::table! {
    raw_entries (seq) {
        seq -> BigInt,
        leaf_hash -> Binary,
        body -> Binary,
    }
}

#[derive(Insertable)]
#[diesel(table_name = raw_entries)]
#[diesel(treat_none_as_default_value = false)]
pub(super) struct RawRow {
    pub(super) seq: i64,
    pub(super) leaf_hash: Vec<u8>,
    pub(super) body: Vec<u8>,
}

#[cfg(feature = "sqlite")]
impl storage::AppendRow for RawRow {
    type Owned = Self;
    const INSERT: &'static str = "INSERT OR FAIL INTO raw_entries (seq, leaf_hash, body) VALUES ";
    fn bind_values<'b>(
        &'b self,
        values: &mut storage::RowValues<'_, 'b>,
    ) -> diesel::QueryResult<()> {
        use diesel::sql_types::{BigInt, Binary};
        values.bind::<BigInt, _>(&self.seq)?;
        values.bind::<Binary, _>(&self.leaf_hash)?;
        values.bind::<Binary, _>(&self.body)
    }
}
