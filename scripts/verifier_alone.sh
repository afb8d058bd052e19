#!/usr/bin/env bash
# The verifier a defence expert audits builds and tests on its own: no database driver, no web
# framework, no policy engine anywhere in its dependency tree, and its tests pass without the node.
set -euo pipefail
cd "$(dirname "$0")/.."
tree=$(cargo tree -p scelle-verifier -e normal,build --prefix none --no-dedupe | sort -u)
forbidden=$(echo "$tree" | grep -Ei '^(diesel|actix|cedar|pq-sys|libpq|libsqlite3|r2d2|tokio|ureq|reqwest|hyper) ' || true)
if [ -n "$forbidden" ]; then
  echo "the verifier depends on what it must not:" >&2
  echo "$forbidden" >&2
  exit 1
fi
echo "verifier dependencies: $(echo "$tree" | wc -l) crates, none of diesel, actix, cedar, libpq, sqlite, tokio, an HTTP client"
cargo build -p scelle-verifier --all-targets
cargo test -p scelle-verifier --all-targets
