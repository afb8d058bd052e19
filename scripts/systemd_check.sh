#!/usr/bin/env bash
# The systemd unit (deploy/scelle.service) parses, names a binary that exists, and is hardened:
# systemd's own exposure score must stay under 2.0 ("OK"; 10 is a service with no protection).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v systemd-analyze >/dev/null; then
    echo "systemd check: systemd-analyze is not here; skipped"
    exit 0
fi
binary=${1:-$PWD/target/debug/scelle}
unit=$(mktemp -d)/scelle.service
sed "s|/usr/local/bin/scelle|$binary|" deploy/scelle.service > "$unit"
systemd-analyze verify "$unit"
systemd-analyze security --offline=true --threshold=20 "$unit" | tail -1
