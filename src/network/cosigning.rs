//! This node as a log its peers witness: each new durable checkpoint goes to every witness of
//! the policy in parallel (C2SP tlog-witness), the cosignatures that verify are gathered, and
//! once they satisfy the quorum the cosigned checkpoint is kept — the newest of those is the
//! one the node publishes (`GET /log/checkpoint`).
//!
//! As the anchors do: a new checkpoint is sent as soon as it is durable (Tessera), the same one
//! again on a heartbeat when idle, so cosignatures stay fresh (Sigsum, every 10 s); a 409 gives
//! the size the witness holds, adopted and retried once; a witness that holds a larger tree of
//! this log than the log itself is a fork or a rollback, said loudly and never "fixed".

use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use scelle_verifier::cosignature::CosignerKey;
use scelle_verifier::note::{Checkpoint, parse_decimal, parse_note};
use scelle_verifier::witness::AddCheckpoint;

use crate::error::ServiceError;
use crate::ledger::{checkpoints, proofs};
use crate::network::client::PeerClient;
use crate::network::peers::{Identity, Peers};
use crate::node::Node;
use crate::storage::peers as store;

/// How often the log looks for a new durable checkpoint.
const POLL_EVERY: Duration = Duration::from_millis(20);
/// How often an unchanged checkpoint is sent again.
const HEARTBEAT: Duration = Duration::from_secs(10);
/// How long a round waits after one that did not reach the quorum.
const RETRY_AFTER: Duration = Duration::from_secs(1);
/// How long one witness may take to answer.
const WITNESS_TIMEOUT: Duration = Duration::from_secs(3);

/// One witness of this log, as the policy names it.
struct WitnessLink {
    name: String,
    url: String,
    key: CosignerKey,
    client: PeerClient,
    /// The size this log believes the witness last cosigned (0: not known yet).
    known: u64,
}

/// How the last exchange with each witness went, for `scelle peer status`.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct LinkStatus {
    pub name: String,
    /// The largest size of this log the witness cosigned.
    pub cosigned_size: u64,
    /// When it last answered with a cosignature (Unix seconds).
    pub last_cosigned_at: Option<i64>,
    /// The last failure, if the last exchange failed.
    pub last_error: Option<String>,
}

/// The state of the cosigning task, shared with whoever reports it.
#[derive(Default)]
pub struct CosigningStatus {
    links: Mutex<Vec<LinkStatus>>,
}

impl CosigningStatus {
    /// Each witness's last exchange.
    pub fn links(&self) -> Vec<LinkStatus> {
        self.links.lock().map(|l| l.clone()).unwrap_or_default()
    }

    fn record(&self, name: &str, update: impl FnOnce(&mut LinkStatus)) {
        if let Ok(mut links) = self.links.lock() {
            match links.iter_mut().find(|l| l.name == name) {
                Some(link) => update(link),
                None => {
                    let mut link = LinkStatus {
                        name: name.to_owned(),
                        ..LinkStatus::default()
                    };
                    update(&mut link);
                    links.push(link);
                }
            }
        }
    }
}

/// Starts sending this node's checkpoints to its witnesses, while the node runs. A witness
/// without a URL or a pinned certificate is left out (and said so).
pub fn start(
    node: Weak<Node>,
    peers: Arc<Peers>,
    identity: Arc<Identity>,
    status: Arc<CosigningStatus>,
) -> Result<(), ServiceError> {
    let mut links = Vec::new();
    for peer in &peers.peers {
        let (Some(url), Some(pem)) = (&peer.witness.url, &peer.cert_pem) else {
            tracing::warn!(witness = %peer.witness.name, "witness has no URL or no pinned certificate: not asked");
            continue;
        };
        links.push(WitnessLink {
            name: peer.witness.name.clone(),
            url: format!("{}/add-checkpoint", url.trim_end_matches('/')),
            key: peer.witness.key.clone(),
            client: PeerClient::new(&identity, pem, WITNESS_TIMEOUT)?,
            known: 0,
        });
    }
    std::thread::Builder::new()
        .name("cosigning".into())
        .spawn(move || run(&node, &peers, links, &status))
        .map_err(|e| ServiceError::Internal(format!("cannot start cosigning: {e}")))?;
    Ok(())
}

fn run(node: &Weak<Node>, peers: &Peers, mut links: Vec<WitnessLink>, status: &CosigningStatus) {
    let mut sent: Option<(u64, Instant, bool)> = None;
    loop {
        std::thread::sleep(POLL_EVERY);
        let Some(strong) = node.upgrade() else { return };
        let note = match newest_checkpoint(&strong) {
            Ok(Some(note)) => note,
            Ok(None) => continue,
            Err(e) => {
                tracing::error!(error = %e, "cosigning: cannot read the newest checkpoint");
                continue;
            }
        };
        let Ok(checkpoint) = parse_note(&note)
            .map_err(|e| e.to_string())
            .and_then(|p| Checkpoint::parse_body(p.text).map_err(|e| e.to_string()))
        else {
            continue;
        };
        let due = match sent {
            None => true,
            Some((size, at, met)) => {
                size != checkpoint.size
                    || at.elapsed() >= HEARTBEAT
                    || (!met && at.elapsed() >= RETRY_AFTER)
            }
        };
        if !due {
            continue;
        }
        let met = round(&strong, peers, &mut links, status, &note, &checkpoint);
        sent = Some((checkpoint.size, Instant::now(), met));
    }
}

fn newest_checkpoint(node: &Node) -> Result<Option<String>, ServiceError> {
    let mut c = node.connection()?;
    Ok(checkpoints::publishable(&mut c, node.sequencer())?.map(|row| row.note))
}

/// Asks every witness in parallel; keeps the checkpoint if the cosignatures meet the quorum.
fn round(
    node: &Node,
    peers: &Peers,
    links: &mut [WitnessLink],
    status: &CosigningStatus,
    note: &str,
    checkpoint: &Checkpoint,
) -> bool {
    let names: Vec<String> = links.iter().map(|l| l.name.clone()).collect();
    let lines: Vec<Option<String>> = std::thread::scope(|scope| {
        let asks: Vec<_> = links
            .iter_mut()
            .map(|link| scope.spawn(move || ask(node, link, note, checkpoint.size)))
            .collect();
        asks.into_iter()
            .zip(names)
            .map(
                |(ask, name)| match ask.join().unwrap_or_else(|_| Err("panicked".into())) {
                    Ok(line) => {
                        status.record(&name, |s| {
                            s.cosigned_size = checkpoint.size;
                            s.last_cosigned_at = Some(node.clock().unix_now());
                            s.last_error = None;
                        });
                        Some(line)
                    }
                    Err(why) => {
                        tracing::warn!(witness = %name, error = %why, "witness did not cosign");
                        status.record(&name, |s| s.last_error = Some(why));
                        None
                    }
                },
            )
            .collect()
    });
    let mut cosigned = note.to_owned();
    for line in lines.into_iter().flatten() {
        cosigned.push_str(&line);
    }
    if peers.policy.verify(&cosigned).is_err() {
        return false;
    }
    let Ok(size) = i64::try_from(checkpoint.size) else {
        return false;
    };
    let stored = node
        .clock()
        .now_rfc3339()
        .map_err(ServiceError::from)
        .and_then(|now| {
            Ok(store::insert_cosigned(
                &mut *node.connection()?,
                size,
                &cosigned,
                &now,
            )?)
        });
    match stored {
        Ok(()) => true,
        Err(e) => {
            tracing::error!(error = %e, "cannot keep the cosigned checkpoint");
            false
        }
    }
}

/// One witness's cosignature line(s) on `note`, adopting the size a 409 gives once.
fn ask(node: &Node, link: &mut WitnessLink, note: &str, size: u64) -> Result<String, String> {
    for _ in 0..2 {
        if link.known > size {
            return Err(format!(
                "the witness holds size {} of this log, above its own {size}: a rollback or a fork",
                link.known
            ));
        }
        let proof = if link.known == 0 || link.known == size {
            Vec::new()
        } else {
            let mut c = node.connection().map_err(|e| e.to_string())?;
            proofs::consistency_proof_hashes(&mut c, node.proofs(), link.known, size)
                .map_err(|e| e.to_string())?
        };
        let body = AddCheckpoint {
            old: link.known,
            proof,
            note,
        }
        .body();
        let answer = link.client.post_text(&link.url, body)?;
        match answer.status {
            200 => {
                let line = own_lines(link, note, &answer.body)?;
                link.known = size;
                return Ok(line);
            }
            409 if answer
                .content_type
                .as_deref()
                .is_some_and(|t| t.starts_with("text/x.tlog.size")) =>
            {
                let held = answer
                    .body
                    .strip_suffix('\n')
                    .and_then(parse_decimal)
                    .ok_or("409 without a size")?;
                if held == link.known {
                    // It holds the size we sent from, yet refuses: at that size (or at this
                    // one) it holds another tree of this log.
                    return Err(format!(
                        "the witness holds another tree of this log at size {held}: a fork"
                    ));
                }
                link.known = held;
            }
            422 => {
                return Err(format!(
                    "the witness says size {size} does not extend the size {} it cosigned: \
                     a fork or a rollback of this log",
                    link.known
                ));
            }
            status => {
                return Err(format!("HTTP {status}: {}", answer.body.trim()));
            }
        }
    }
    Err("the witness's size changed twice".into())
}

/// The witness's valid cosignature lines in its answer (those of other keys are dropped).
fn own_lines(link: &WitnessLink, note: &str, body: &str) -> Result<String, String> {
    let mut kept = String::new();
    for line in body.split_inclusive('\n') {
        let candidate = format!("{note}{line}");
        let Ok(parsed) = parse_note(&candidate) else {
            continue;
        };
        if link.key.verify_in(&parsed).is_ok() {
            kept.push_str(line);
        }
    }
    if kept.is_empty() {
        Err("no valid cosignature in the answer".into())
    } else {
        Ok(kept)
    }
}

/// What this node publishes now: its newest quorum-cosigned checkpoint's size, when it was
/// cosigned, and by whom (the witnesses of `peers` whose cosignatures verify, with their times).
pub struct Publication {
    pub size: i64,
    pub at: String,
    pub cosigned_by: Vec<(String, u64)>,
}

/// This node's publication, for `scelle peer status` (`None`: nothing cosigned yet).
pub fn publication(node: &Node, peers: &Peers) -> Result<Option<Publication>, ServiceError> {
    let Some((size, note, at)) = store::latest_cosigned_at(&mut *node.connection()?)? else {
        return Ok(None);
    };
    let cosigned_by = peers
        .policy
        .verify(&note)
        .map(|c| c.cosigned_by)
        .unwrap_or_default();
    Ok(Some(Publication {
        size,
        at,
        cosigned_by,
    }))
}
