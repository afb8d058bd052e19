//! One integration-test binary: real HTTP on loopback, real SQLite files and PostgreSQL databases.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests fail loudly on purpose"
)]

mod append_lock;
mod audit;
mod backup;
mod bad_input;
mod batch_rows;
mod catalogue;
mod crash;
mod custody_flow;
mod dossier;
mod durability;
mod exchange;
mod health;
mod helpers;
mod login;
mod merkle_oracle;
mod migrations;
mod monitor;
mod network;
mod node_cache;
mod operator;
mod paging;
mod policy_cli;
mod policy_matrix;
mod sessions;
mod tamper;
mod tls;
mod tokens;
mod vault;
mod verifiers_agree;
mod vouch;
