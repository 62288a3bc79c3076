#!/usr/bin/env bash
# Builds the release binaries, copies them to target/loadgen/bin (so that another build in a
# shared CARGO_TARGET_DIR cannot swap one mid-run), then runs `loadgen compare` with the
# arguments given (see BENCHMARKS.md). Results: target/loadgen/compare.json and the logs there.
set -euo pipefail
cd "$(dirname "$0")/.."
target=${CARGO_TARGET_DIR:-target}
cargo build --release -p photo-connect -p demo-provider -p loadgen
out=target/loadgen
mkdir -p "$out/bin"
for program in photo-connect demo-provider bare-client loadgen; do
    cp "$target/release/$program" "$out/bin/"
done
exec "$out/bin/loadgen" compare --bin-dir "$out/bin" --out "$out" "$@"
