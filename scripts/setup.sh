#!/usr/bin/env bash
# Installs what building and testing Scellé needs on a fresh machine of this project's kind
# (Debian, Rust toolchain present) and makes sure a PostgreSQL server answers on 127.0.0.1:5432.
# Safe to run again: it installs only what is missing. Sourced by scripts/test.sh and .ci/run.
set -euo pipefail

need_apt=()
dpkg -s libpq-dev >/dev/null 2>&1 || need_apt+=(libpq-dev)
dpkg -s libssl-dev >/dev/null 2>&1 || need_apt+=(libssl-dev)
dpkg -s pkg-config >/dev/null 2>&1 || need_apt+=(pkg-config)
command -v pg_ctlcluster >/dev/null 2>&1 || need_apt+=(postgresql)
if [ ${#need_apt[@]} -gt 0 ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}"
fi

# The independent dossier verifier (tools/verify_dossier.py) needs Python 3 and `cryptography`.
command -v python3 >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3; }
python3 -c "import cryptography" 2>/dev/null \
  || pip install -q cryptography 2>/dev/null \
  || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-cryptography; }

# The CASE/UCO export is checked with the CASE project's own SHACL validator.
command -v case_validate >/dev/null 2>&1 || pip install -q case-utils==0.18.0

# The court-report test renders HTML in headless Chromium.
command -v chromium >/dev/null 2>&1 \
  || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

pg_up() { pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; }
if ! pg_up; then
  version=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -1)
  if [ -z "$version" ]; then
    pg_createcluster 15 main >/dev/null
    version=15
  fi
  pg_ctlcluster --skip-systemctl-redirect "$version" main start
  for _ in $(seq 1 30); do pg_up && break; sleep 1; done
fi
