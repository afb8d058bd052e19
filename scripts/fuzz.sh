#!/usr/bin/env bash
# Runs the verifier's fuzz targets (verifier/fuzz: the strict JSON reader and the canonicalizer,
# signed notes and checkpoints, whole dossiers) for a bounded time each with libFuzzer, from the
# committed seeds. A crash fails the run and leaves its input in verifier/fuzz/artifacts/.
set -euo pipefail
cd "$(dirname "$0")/../verifier/fuzz"
seconds="${FUZZ_SECONDS:-40}"
rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
for target in json note dossier; do
    found=$(mktemp -d)
    cargo +nightly fuzz run "$target" "$found" "corpus/$target" -- \
        -max_total_time="$seconds" -max_len=65536 -print_final_stats=1 2>&1 | tail -12
    rm -rf "$found"
done
