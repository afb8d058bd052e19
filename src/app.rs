//! Start-up of a serving node: open it with its rules, start the background tasks (the proof
//! cache warm-up, the periodic retention run), and run the HTTP server until it stops.

use std::net::TcpListener;
use std::path::Path;
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use scelle_verifier::t;

use crate::error::ServiceError;
use crate::http::{self, TlsFiles, TrustedProxies};
use crate::node::Node;
use crate::policy::cedar::PolicyEngine;
use crate::policy::retention::RetentionRules;
use crate::storage::DatabaseUrl;
use crate::usecases::{dpo, log};

/// What `scelle serve` runs.
pub struct ServeOptions<'a> {
    pub data_dir: &'a Path,
    pub database: &'a DatabaseUrl,
    pub listener: TcpListener,
    /// The federation listener (mutual TLS), if peers reach this node.
    pub peer_listener: Option<TcpListener>,
    pub tls: Option<&'a TlsFiles>,
    pub policies: PolicyEngine,
    pub retention: RetentionRules,
    /// How often the retention run happens (none: never).
    pub retention_every: Option<Duration>,
    /// The reverse proxies whose `X-Forwarded-For` names the client.
    pub trusted_proxies: TrustedProxies,
}

/// Opens the node and serves it until the server stops; then waits for the last batch.
pub fn serve(opts: ServeOptions<'_>) -> Result<(), ServiceError> {
    let (node, handle) = Node::open_existing(opts.data_dir, opts.database, 16)?;
    let node = Arc::new(node.with_policies(opts.policies, opts.retention));
    let addr = opts
        .listener
        .local_addr()
        .map_err(|e| ServiceError::Internal(e.to_string()))?;
    start_proof_cache_warm_up(Arc::downgrade(&node));
    start_publication_record(Arc::downgrade(&node), opts.data_dir.to_path_buf());
    start_refusal_summaries(Arc::downgrade(&node));
    if let Some(every) = opts.retention_every {
        start_retention_task(Arc::downgrade(&node), every);
    }
    let network = start_network(&node, opts.data_dir, opts.peer_listener.is_some())?;
    let tls = opts.tls;
    let database = opts.database;
    let listener = opts.listener;
    let proxies = opts.trusted_proxies;
    let peer_listener = opts.peer_listener;
    let result = actix_web::rt::System::new().block_on(async {
        let server = http::build_node_server(
            node.clone(),
            listener,
            tls,
            proxies,
            network.as_ref().map(|n| n.published.clone()),
        )?;
        let peer_server = match (peer_listener, &network) {
            (Some(peer_listener), Some(network)) => {
                let addr = peer_listener.local_addr()?;
                let server = http::peers::build_peer_server(
                    node.clone(),
                    http::peers::PeerContext::new(network.peers.clone(), network.identity.clone()),
                    peer_listener,
                )?;
                println!(
                    "{}",
                    t!("cli-out-peer-listening", url = format!("https://{addr}")).one_line()
                );
                let handle = server.handle();
                actix_web::rt::spawn(server);
                Some(handle)
            }
            _ => None,
        };
        println!(
            "{}",
            t!(
                "cli-out-listening",
                url = format!("{}://{addr}", if tls.is_some() { "https" } else { "http" }),
                database = database,
                origin = node.origin()
            )
            .one_line()
        );
        let served = server.await;
        if let Some(peer_server) = peer_server {
            peer_server.stop(true).await;
        }
        served
    });
    // A background task in the middle of a step (a cosigning round waits on its witnesses
    // for up to a few seconds) still holds the node: wait for it, so the last refusals, the
    // publication record and the sequencer's last batch are not skipped.
    let mut node = node;
    let mut waited = Duration::ZERO;
    let node = loop {
        match Arc::try_unwrap(node) {
            Ok(node) => break Some(node),
            Err(shared) if waited < SHUTDOWN_WAIT => {
                node = shared;
                std::thread::sleep(Duration::from_millis(50));
                waited += Duration::from_millis(50);
            }
            Err(_) => {
                tracing::error!(
                    "a background task still holds the node: stopping without its last steps"
                );
                break None;
            }
        }
    };
    if let Some(node) = node {
        // Refusals still counted in open windows are recorded before the node stops.
        if let Err(e) = crate::authz::close_refusal_windows(&node, true) {
            tracing::error!(error = %e, "cannot record the counted refusals");
        }
        record_publication(&node, opts.data_dir, &mut None);
        node.shutdown(handle);
    }
    result.map_err(|e| ServiceError::Internal(e.to_string()))
}

/// The node's place in the Entente network, when it has peers.
struct Network {
    peers: Arc<crate::network::peers::Peers>,
    identity: Arc<crate::network::peers::Identity>,
    published: http::peers::Published,
}

/// Loads the peers (`peers.policy`) and this node's identity between nodes, and starts sending
/// its checkpoints to its witnesses. No `peers.policy`: the node runs alone (a federation
/// listener asked for then is an error, not silently nothing).
fn start_network(
    node: &Arc<Node>,
    data_dir: &Path,
    listening: bool,
) -> Result<Option<Network>, ServiceError> {
    use crate::network::{cosigning, peers};
    let Some(loaded) = peers::load_peers(data_dir)? else {
        if listening {
            return Err(ServiceError::StartRefused(
                crate::error::StartRefusal::NoPeers,
            ));
        }
        return Ok(None);
    };
    let identity = Arc::new(peers::load_identity(data_dir)?);
    let loaded = Arc::new(loaded);
    let status = Arc::new(cosigning::CosigningStatus::default());
    let deliveries = Arc::new(crate::network::exchange::Deliveries::default());
    if !loaded.peers.is_empty() {
        cosigning::start(
            Arc::downgrade(node),
            loaded.clone(),
            identity.clone(),
            status.clone(),
        )?;
        crate::network::exchange::start_delivery(
            Arc::downgrade(node),
            loaded.clone(),
            identity.clone(),
            deliveries.clone(),
        )?;
        start_update_sweep(Arc::downgrade(node), loaded.clone());
    }
    Ok(Some(Network {
        published: http::peers::Published {
            cosigned: loaded.policy.requires_cosignatures(),
            status,
            peers: loaded.clone(),
            deliveries,
        },
        peers: loaded,
        identity,
    }))
}

/// How often the cases sent to peers are looked at for later events to send as updates.
const UPDATE_SWEEP_EVERY: Duration = Duration::from_secs(2);

/// Sends later events of the cases delivered to peers as updates (`usecases::exchange::
/// send_updates`), while the node runs.
fn start_update_sweep(node: Weak<Node>, peers: Arc<crate::network::peers::Peers>) {
    let spawned = std::thread::Builder::new()
        .name("updates".into())
        .spawn(move || {
            loop {
                std::thread::sleep(UPDATE_SWEEP_EVERY);
                let Some(strong) = node.upgrade() else { return };
                let destination = |name: &str| http::peers::destination(&peers, name).ok();
                if let Err(e) = crate::usecases::exchange::send_updates(
                    &strong,
                    &destination,
                    http::peers::COSIGNED_DOSSIER_WAIT,
                ) {
                    tracing::warn!(error = %e, "cannot queue the updates of the cases sent");
                }
            }
        });
    if let Err(e) = spawned {
        tracing::error!(error = %e, "cannot start sending updates");
    }
}

/// How long a stopping server waits for background tasks to let go of the node.
const SHUTDOWN_WAIT: Duration = Duration::from_secs(10);

/// How often the newest published checkpoint is copied to the data folder.
const PUBLICATION_RECORD_EVERY: Duration = Duration::from_secs(1);

/// Copies the newest published checkpoint to the data folder if it changed since `last`
/// (`node::published`: a node refuses to start on a database that does not extend it).
fn record_publication(node: &Node, data_dir: &Path, last: &mut Option<String>) {
    let Ok(note) = log::latest_checkpoint(node) else {
        return;
    };
    if last.as_deref() == Some(note.as_str()) {
        return;
    }
    match crate::node::published::record(data_dir, &note) {
        Ok(()) => *last = Some(note),
        Err(e) => tracing::error!(error = %e, "cannot record the published checkpoint"),
    }
}

/// Keeps the data folder's copy of the newest published checkpoint at most a second behind,
/// while the node runs.
fn start_publication_record(node: Weak<Node>, data_dir: std::path::PathBuf) {
    let spawned = std::thread::Builder::new()
        .name("publication".into())
        .spawn(move || {
            let mut last = None;
            loop {
                let Some(strong) = node.upgrade() else { return };
                record_publication(&strong, &data_dir, &mut last);
                drop(strong);
                std::thread::sleep(PUBLICATION_RECORD_EVERY);
            }
        });
    if let Err(e) = spawned {
        tracing::error!(error = %e, "cannot start recording the published checkpoint");
    }
}

/// How often ended windows of counted refusals are summed up into the log.
const REFUSAL_SUMMARIES_EVERY: Duration = Duration::from_secs(10);

/// Records the refusals counted in windows that have ended (`node::denials`), while the node
/// runs.
fn start_refusal_summaries(node: Weak<Node>) {
    let spawned = std::thread::Builder::new()
        .name("refusals".into())
        .spawn(move || {
            loop {
                std::thread::sleep(REFUSAL_SUMMARIES_EVERY);
                let Some(strong) = node.upgrade() else { return };
                if let Err(e) = crate::authz::close_refusal_windows(&strong, false) {
                    tracing::error!(error = %e, "cannot record the counted refusals");
                }
            }
        });
    if let Err(e) = spawned {
        tracing::error!(error = %e, "cannot start recording the counted refusals");
    }
}

/// Reads the tree's upper levels for proofs while the server already answers.
fn start_proof_cache_warm_up(node: Weak<Node>) {
    let spawned = std::thread::Builder::new()
        .name("proof-cache".into())
        .spawn(move || {
            let Some(node) = node.upgrade() else { return };
            let started = Instant::now();
            match log::warm_proof_cache(&node) {
                Ok(held) => tracing::info!(
                    hashes = held,
                    seconds = started.elapsed().as_secs_f64(),
                    "proof cache ready"
                ),
                Err(e) => tracing::error!(error = %e, "proof cache warm-up failed"),
            }
        });
    if let Err(e) = spawned {
        tracing::error!(error = %e, "cannot start the proof cache warm-up");
    }
}

/// Runs retention now and then every `every`, while the node runs (the thread holds no strong
/// reference between runs, so shutdown is not delayed by it).
fn start_retention_task(node: Weak<Node>, every: Duration) {
    let spawned = std::thread::Builder::new()
        .name("retention".into())
        .spawn(move || {
            let mut resume: Option<String> = None;
            loop {
                let Some(strong) = node.upgrade() else { return };
                // One bounded run per period; the next period goes on where it stopped.
                match dpo::run_retention(&strong, None, false, resume.as_deref(), None) {
                    Ok(report) if !report.erased.is_empty() || !report.failed.is_empty() => {
                        resume.clone_from(&report.next);
                        tracing::info!(
                            erased = report.erased.len(),
                            failed = report.failed.len(),
                            examined = report.examined,
                            more = report.next.is_some(),
                            "retention run erased expired records"
                        )
                    }
                    Ok(report) => resume = report.next,
                    Err(e) => tracing::error!(error = %e, "retention run failed"),
                }
                drop(strong);
                let mut slept = Duration::ZERO;
                while slept < every {
                    std::thread::sleep(Duration::from_secs(1));
                    slept += Duration::from_secs(1);
                    if node.strong_count() == 0 {
                        return;
                    }
                }
            }
        });
    if let Err(e) = spawned {
        tracing::error!(error = %e, "cannot start the retention task");
    }
}
