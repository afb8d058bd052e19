#!/usr/bin/env bash
# Runs the whole test suite, SQLite and PostgreSQL, on a fresh machine of this project's kind.
# PostgreSQL: the server on 127.0.0.1:5432 if one answers, else the machine's cluster is started.
# Each test creates its own database there and drops it afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
export SCELLE_TEST_PG_URL="${SCELLE_TEST_PG_URL:-postgres://postgres@127.0.0.1:5432}"

scripts/verifier_alone.sh
cargo build --workspace --all-targets
cargo test --workspace --all-targets
# The bench's own unit tests (its code is built only with the feature).
cargo test --features bench --lib bench::
