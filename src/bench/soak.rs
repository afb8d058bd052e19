//! A bounded soak: minutes of mixed custody events and reads over HTTP at a fixed offered rate,
//! with the process's memory, open files and the latencies of each minute. It passes when memory
//! stays flat and each minute's p99 stays within twice the first minute's: nothing a node does
//! for hours (its caches, its log growing under the same items) may grow without bound.

use std::io::{BufReader, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::usecases::tokens;

use super::args::BenchArgs;
use super::http::{NodeServer, read_answer, request_for};
use super::setup::{Setup, err, percentile, setup};

/// Connections the offered rate is spread over.
const CONNECTIONS: usize = 16;

/// Memory in the soak's second half may reach at most this much above the highest of its first
/// half and still be called flat: caches fill in the first minutes, a leak keeps growing.
const FLAT_MEMORY: f64 = 1.10;

/// The highest memory of the second half of the minutes against the highest of the first half,
/// and whether that is flat (one minute alone is).
fn memory_growth(rss_kib: &[u64]) -> (f64, bool) {
    let half = rss_kib.len() / 2;
    let (first, second) = rss_kib.split_at(half.max(1).min(rss_kib.len()));
    let high = |part: &[u64]| part.iter().copied().max().unwrap_or(0);
    if second.is_empty() {
        return (1.0, true);
    }
    let ratio = high(second) as f64 / high(first).max(1) as f64;
    (ratio, ratio <= FLAT_MEMORY)
}

/// One answer: when it was sent (seconds into the soak), whether it was a read, its latency
/// in ms, and whether it was the answer expected.
struct Sample {
    at: f64,
    read: bool,
    latency: f64,
    ok: bool,
}

/// The process as seen at the end of one minute.
struct Machine {
    rss_kib: u64,
    open_files: usize,
}

fn machine_now() -> Machine {
    let rss_kib = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0);
    let open_files = std::fs::read_dir("/proc/self/fd").map_or(0, |d| d.count());
    Machine {
        rss_kib,
        open_files,
    }
}

pub(super) fn soak(
    args: &BenchArgs,
    work: &std::path::Path,
    db: &crate::storage::DatabaseUrl,
) -> Result<(), String> {
    let s = setup(args, work, db)?;
    let server = NodeServer::start(s.ledger.clone())?;
    let mut connections = Vec::new();
    for (user, item) in s.writers.iter().take(CONNECTIONS) {
        let token = tokens::issue(&s.ledger, &user.id, None).map_err(err)?;
        let read = format!(
            "GET /api/v1/evidence/{item} HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer {token}\r\n\r\n"
        )
        .into_bytes();
        connections.push((request_for(item, &token), read));
    }
    let minutes = args.soak_minutes.max(1);
    let per_connection = args.soak_rate.max(1) as f64 / connections.len().max(1) as f64;
    println!(
        "soak: {minutes} min at {} requests/s offered (half custody events, half item reads with their latest timeline page), {} keep-alive connections",
        args.soak_rate,
        connections.len()
    );
    let addr = server.addr;
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let mut threads = Vec::new();
    for (n, (write, read)) in connections.into_iter().enumerate() {
        let stop = stop.clone();
        let interval = Duration::from_secs_f64(1.0 / per_connection);
        let thread = std::thread::Builder::new()
            .name(format!("scelle-soak-{n}"))
            .spawn(move || paced(addr, &write, &read, interval, started, &stop))
            .map_err(err)?;
        threads.push(thread);
    }
    let mut machine = Vec::new();
    for minute in 1..=minutes {
        let until = started + Duration::from_secs(60 * minute);
        std::thread::sleep(until.saturating_duration_since(Instant::now()));
        machine.push(machine_now());
    }
    stop.store(true, Ordering::Relaxed);
    let mut samples = Vec::new();
    for thread in threads {
        samples.extend(
            thread
                .join()
                .map_err(|_| "a soak thread panicked".to_owned())??,
        );
    }
    server.stop();
    let verdict = report(&samples, &machine);
    let Setup { ledger, handle, .. } = s;
    if let Ok(ledger) = Arc::try_unwrap(ledger) {
        ledger.shutdown(handle);
    }
    verdict
}

/// One line per minute, then whether memory stayed flat and p99 within twice the first
/// minute's; an error when not.
fn report(samples: &[Sample], machine: &[Machine]) -> Result<(), String> {
    let mut first: Option<(f64, u64)> = None;
    let mut worst_p99_ratio: f64 = 0.0;
    let mut failures = 0;
    for (i, m) in machine.iter().enumerate() {
        let minute: Vec<&Sample> = samples
            .iter()
            .filter(|s| s.at >= i as f64 * 60.0 && s.at < (i + 1) as f64 * 60.0)
            .collect();
        let latencies = |read: bool| {
            let mut l: Vec<f64> = minute
                .iter()
                .filter(|s| s.read == read && s.ok)
                .map(|s| s.latency)
                .collect();
            l.sort_by(f64::total_cmp);
            l
        };
        let (writes, reads) = (latencies(false), latencies(true));
        let mut all: Vec<f64> = minute.iter().filter(|s| s.ok).map(|s| s.latency).collect();
        all.sort_by(f64::total_cmp);
        let bad = minute.iter().filter(|s| !s.ok).count();
        failures += bad;
        let p99 = percentile(&all, 0.99);
        let (p99_first, _) = *first.get_or_insert((p99, m.rss_kib));
        worst_p99_ratio = worst_p99_ratio.max(p99 / p99_first);
        println!(
            "  minute {:>2}: {} answers ({bad} not as expected); events p50 {:.2} ms p99 {:.2} ms; reads p50 {:.2} ms p99 {:.2} ms; p99 {:.2} ms ({:.2}× the first minute); memory {:.1} MiB; {} open files",
            i + 1,
            minute.len(),
            percentile(&writes, 0.5),
            percentile(&writes, 0.99),
            percentile(&reads, 0.5),
            percentile(&reads, 0.99),
            p99,
            p99 / p99_first,
            m.rss_kib as f64 / 1024.0,
            m.open_files
        );
    }
    let (Some((_, rss_first)), Some(last)) = (first, machine.last()) else {
        return Err("the soak measured nothing".into());
    };
    let rss: Vec<u64> = machine.iter().map(|m| m.rss_kib).collect();
    let (growth, flat) = memory_growth(&rss);
    let steady = worst_p99_ratio <= 2.0;
    println!(
        "soak: memory at the end {:.2}× the first minute; the second half's highest {growth:.2}× the first half's ({}), worst p99 {worst_p99_ratio:.2}× the first minute ({}), {failures} answers not as expected",
        last.rss_kib as f64 / rss_first.max(1) as f64,
        if flat { "flat" } else { "GROWING" },
        if steady { "within 2×" } else { "BEYOND 2×" }
    );
    if flat && steady && failures == 0 {
        Ok(())
    } else {
        Err("the soak's targets are not met".into())
    }
}

/// Sends, on one keep-alive connection, a custody event then a read, one request every
/// `interval` (on a fixed schedule: a slow answer does not lower the offered rate, it queues
/// the next request), until `stop`.
fn paced(
    addr: SocketAddr,
    write: &[u8],
    read: &[u8],
    interval: Duration,
    started: Instant,
    stop: &AtomicBool,
) -> Result<Vec<Sample>, String> {
    let mut stream = TcpStream::connect(addr).map_err(err)?;
    stream.set_nodelay(true).map_err(err)?;
    let mut reader = BufReader::new(stream.try_clone().map_err(err)?);
    let mut body = Vec::new();
    let mut samples = Vec::new();
    let mut next = Instant::now();
    let mut is_read = false;
    while !stop.load(Ordering::Relaxed) {
        let now = Instant::now();
        if next > now {
            std::thread::sleep(next - now);
        }
        let due = next;
        next += interval;
        stream
            .write_all(if is_read { read } else { write })
            .map_err(err)?;
        let status = read_answer(&mut reader, &mut body)?;
        samples.push(Sample {
            at: due.saturating_duration_since(started).as_secs_f64(),
            read: is_read,
            // From when the request was due: time spent queued behind a slow answer counts.
            latency: due.elapsed().as_secs_f64() * 1e3,
            ok: status == if is_read { 200 } else { 201 },
        });
        is_read = !is_read;
    }
    Ok(samples)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caches_that_fill_then_stay_are_flat_and_a_leak_is_not() {
        // The soak of 2026-12-07: 249 MiB, filling to 311 by minute 3, then 282–309.
        let run = [
            254_464, 279_859, 318_669, 306_278, 288_563, 310_170, 310_886, 316_006, 311_194,
            309_862,
        ];
        assert!(memory_growth(&run).1);
        let leak: Vec<u64> = (0..10).map(|m| 250_000 + m * 20_000).collect();
        let (ratio, flat) = memory_growth(&leak);
        assert!(!flat, "{ratio}");
        assert_eq!(memory_growth(&[100]), (1.0, true));
        assert!(memory_growth(&[100, 100]).1);
        assert!(!memory_growth(&[100, 200]).1);
        assert_eq!(memory_growth(&[]), (1.0, true));
    }
}
