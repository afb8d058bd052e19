//! The Entente network (DESIGN §5): this node as a witness of its peers' logs, and as a log
//! its peers witness, over mutual TLS.
//!
//! Beside `usecases/`: it uses the node context and the ledger as they do, and the formats of
//! the verifier crate (`cosignature`, `policy`, `witness`), never the HTTP layer.
//! - [`peers`]: this node's identity between nodes and its peers (files in the data folder);
//! - [`witness`]: `add-checkpoint`, the witness side;
//! - [`cosigning`]: the log side, sending each new checkpoint to the witnesses and keeping
//!   the ones a quorum cosigned;
//! - [`exchange`]: dossiers between nodes, received (verified, imported or refused) and
//!   delivered from the outbox in order;
//! - [`client`]: HTTPS to a peer with this node's certificate, the peer's pinned.

pub mod client;
pub mod cosigning;
pub mod exchange;
pub mod peers;
pub mod witness;
