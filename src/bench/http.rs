//! Custody events over HTTP against the same events appended in-process, in one run: the node's
//! own server on loopback, and a load generator of keep-alive connections in the same process
//! (on the same cores, as a client on the node's host would be). The figure is the ratio of the
//! two rates, and the CPU each request costs the server beside what an append costs.

use std::io::{BufRead, BufReader, Write as _};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::usecases::tokens;

use super::args::BenchArgs;
use super::machine::{CpuTimes, cpu_times};
use super::setup::{LoopRun, Setup, Writers, closed_loop, err, percentile, pipeline_report, setup};

/// The body of each request: the same `examined` event the in-process writers append.
const EVENT: &str = r#"{"type":"examined","reason":"analyse du contenu / content analysis","tool":"X-Ways Forensics 21.0","authorization":"REQ-2026-118"}"#;

/// Prefix of the load generator's thread names, so its CPU is told apart from the server's.
const LOAD_THREAD: &str = "scelle-load";

pub(super) fn http(
    args: &BenchArgs,
    work: &std::path::Path,
    db: &crate::storage::DatabaseUrl,
) -> Result<(), String> {
    let s = setup(args, work, db)?;
    let task_threads = args.writer_threads.unwrap_or_else(|| {
        std::thread::available_parallelism().map_or(1, |n| n.get().saturating_sub(1).max(1))
    });
    let mut requests = Vec::new();
    for (user, item) in &s.writers {
        let token = tokens::issue(&s.ledger, &user.id, None).map_err(err)?;
        requests.push(request_for(item, &token));
    }
    let server = NodeServer::start(s.ledger.clone())?;
    let addr = server.addr;
    println!(
        "HTTP: {} keep-alive connections to the node's own server on {addr}, the load generator in the same process",
        requests.len()
    );
    // Pairs, back to back, so that the machine's drift touches both sides of each ratio.
    let mut ratios = Vec::new();
    for round in 1..=2 {
        let inproc = in_process(&s, args.seconds, task_threads);
        let pipeline_before = crate::usecases::log::pipeline(&s.ledger);
        let over_http = over_http(addr, &requests, args.seconds)?;
        let pipeline = crate::usecases::log::pipeline(&s.ledger).since(&pipeline_before);
        let ratio = over_http.rate / inproc;
        println!(
            "  round {round}: in-process {inproc:.0} appends/s; over HTTP {:.0} events/s (p50 {:.2} ms, p99 {:.2} ms, {} refused); ratio {ratio:.2}",
            over_http.rate, over_http.p50, over_http.p99, over_http.refused
        );
        if let Some(cpu) = &over_http.cpu {
            println!("    {cpu}");
        }
        println!(
            "    {} events in {} batches (mean {:.1}); {}",
            over_http.answered,
            pipeline.batches,
            over_http.answered as f64 / pipeline.batches.max(1) as f64,
            pipeline_report(
                &pipeline,
                &LoopRun {
                    appended: over_http.answered,
                    elapsed: over_http.elapsed,
                    cpu: None
                },
                requests.len()
            )
        );
        ratios.push(ratio);
    }
    let (low, high) = ratios
        .iter()
        .fold((f64::MAX, f64::MIN), |(lo, hi), r| (lo.min(*r), hi.max(*r)));
    println!("HTTP / in-process ratio: {low:.2}–{high:.2} (target ≥ 0.40)");
    server.stop();
    let Setup { ledger, handle, .. } = s;
    if let Ok(ledger) = Arc::try_unwrap(ledger) {
        ledger.shutdown(handle);
    }
    Ok(())
}

/// The node's own HTTP server on a loopback port, on a thread of its own.
pub(super) struct NodeServer {
    pub(super) addr: SocketAddr,
    handle: actix_web::dev::ServerHandle,
    thread: std::thread::JoinHandle<()>,
}

impl NodeServer {
    pub(super) fn start(node: Arc<crate::node::Node>) -> Result<Self, String> {
        let listener = TcpListener::bind("127.0.0.1:0").map_err(err)?;
        let addr = listener.local_addr().map_err(err)?;
        let (tx, rx) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let server = crate::http::build_server_with_tls(
                    node,
                    listener,
                    None,
                    crate::http::TrustedProxies::default(),
                );
                match server {
                    Ok(server) => {
                        let _ = tx.send(Ok(server.handle()));
                        let _ = server.await;
                    }
                    Err(e) => {
                        let _ = tx.send(Err(e.to_string()));
                    }
                }
            })
        });
        let handle = rx.recv().map_err(err)??;
        Ok(Self {
            addr,
            handle,
            thread,
        })
    }

    pub(super) fn stop(self) {
        actix_web::rt::System::new().block_on(self.handle.stop(true));
        let _ = self.thread.join();
    }
}

fn in_process(s: &Setup, seconds: u64, task_threads: usize) -> f64 {
    let LoopRun {
        appended, elapsed, ..
    } = closed_loop(s, seconds, Writers::Tasks(task_threads));
    appended as f64 / elapsed
}

/// The exact bytes of one request: a custody event on `item`, with its bearer token.
pub(super) fn request_for(item: &str, token: &str) -> Vec<u8> {
    format!(
        "POST /api/v1/evidence/{item}/events HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{EVENT}",
        EVENT.len()
    )
    .into_bytes()
}

struct HttpRun {
    answered: u64,
    elapsed: f64,
    rate: f64,
    p50: f64,
    p99: f64,
    refused: u64,
    cpu: Option<String>,
}

/// One connection per request text, each sending its request again as soon as the answer is
/// in, for `seconds`.
fn over_http(addr: SocketAddr, requests: &[Vec<u8>], seconds: u64) -> Result<HttpRun, String> {
    let stop = Arc::new(AtomicBool::new(false));
    let cpu_before = cpu_times();
    let started = Instant::now();
    let mut threads = Vec::new();
    for (n, request) in requests.iter().enumerate() {
        let (stop, request) = (stop.clone(), request.clone());
        let thread = std::thread::Builder::new()
            .name(format!("{LOAD_THREAD}-{n}"))
            .spawn(move || one_connection(addr, &request, &stop))
            .map_err(err)?;
        threads.push(thread);
    }
    std::thread::sleep(Duration::from_secs(seconds));
    // Read while the load threads still live (their CPU goes with them).
    let cpu_after = cpu_times();
    let elapsed = started.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    let mut latencies = Vec::new();
    let mut refused = 0;
    for thread in threads {
        let (lat, bad) = thread
            .join()
            .map_err(|_| "a load thread panicked".to_owned())??;
        latencies.extend(lat);
        refused += bad;
    }
    let cpu = match (cpu_before, cpu_after) {
        (Some(before), Some(after)) => Some(cpu_split(&before, &after, latencies.len() as u64)),
        _ => None,
    };
    latencies.sort_by(f64::total_cmp);
    Ok(HttpRun {
        answered: latencies.len() as u64,
        elapsed,
        rate: latencies.len() as f64 / elapsed,
        p50: percentile(&latencies, 0.5),
        p99: percentile(&latencies, 0.99),
        refused,
        cpu,
    })
}

/// CPU per request: the whole process, the load generator's threads, and the rest (the server).
fn cpu_split(before: &CpuTimes, after: &CpuTimes, requests: u64) -> String {
    let total = (after.process.0 + after.process.1) - (before.process.0 + before.process.1);
    let load = |t: &CpuTimes| -> f64 {
        t.named
            .iter()
            .filter(|(name, _)| name.starts_with(LOAD_THREAD))
            .map(|(_, s)| s)
            .sum()
    };
    // The load threads did not exist before the run: all their time is the run's.
    let client = load(after) - load(before);
    let per = |s: f64| s * 1e6 / requests.max(1) as f64;
    format!(
        "CPU per request: {:.0} µs in all, the server {:.0} µs, the load generator {:.0} µs",
        per(total),
        per(total - client),
        per(client)
    )
}

/// Sends `request` on one keep-alive connection until `stop`: each answer's latency in ms, and
/// how many answers were not `201 Created`.
fn one_connection(
    addr: SocketAddr,
    request: &[u8],
    stop: &AtomicBool,
) -> Result<(Vec<f64>, u64), String> {
    let mut stream = TcpStream::connect(addr).map_err(err)?;
    stream.set_nodelay(true).map_err(err)?;
    let mut reader = BufReader::new(stream.try_clone().map_err(err)?);
    let mut latencies = Vec::new();
    let mut refused = 0;
    let mut body = Vec::new();
    while !stop.load(Ordering::Relaxed) {
        let sent = Instant::now();
        stream.write_all(request).map_err(err)?;
        let status = read_answer(&mut reader, &mut body)?;
        if status == 201 {
            latencies.push(sent.elapsed().as_secs_f64() * 1e3);
        } else {
            refused += 1;
        }
    }
    Ok((latencies, refused))
}

/// Reads one HTTP/1.1 answer with a `Content-Length` body; its status.
pub(super) fn read_answer(reader: &mut impl BufRead, body: &mut Vec<u8>) -> Result<u16, String> {
    let mut line = String::new();
    reader.read_line(&mut line).map_err(err)?;
    let status = line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse::<u16>().ok())
        .ok_or_else(|| format!("not an HTTP answer: {line:?}"))?;
    let mut length = None;
    loop {
        line.clear();
        if reader.read_line(&mut line).map_err(err)? == 0 {
            return Err("the server closed the connection".into());
        }
        if line == "\r\n" {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse::<usize>().ok();
        }
    }
    let length = length.ok_or("an answer without Content-Length")?;
    body.resize(length, 0);
    reader.read_exact(body).map_err(err)?;
    Ok(status)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_is_read_to_the_end_of_its_body_and_no_further() {
        let two = b"HTTP/1.1 201 Created\r\ncontent-length: 5\r\ncontent-type: application/json\r\n\r\n{\"a\"}HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";
        let mut reader = BufReader::new(&two[..]);
        let mut body = Vec::new();
        assert_eq!(read_answer(&mut reader, &mut body), Ok(201));
        assert_eq!(body, b"{\"a\"}");
        assert_eq!(read_answer(&mut reader, &mut body), Ok(404));
        assert!(body.is_empty());
        assert!(read_answer(&mut reader, &mut body).is_err());
    }

    #[test]
    fn a_request_carries_its_exact_body_length() {
        let request = String::from_utf8(request_for("item-1", "sct_x")).unwrap_or_default();
        assert!(request.starts_with("POST /api/v1/evidence/item-1/events HTTP/1.1\r\n"));
        assert!(request.contains(&format!("Content-Length: {}\r\n", EVENT.len())));
        assert!(request.ends_with(&format!("\r\n\r\n{EVENT}")));
    }
}
