#!/usr/bin/env bash
# Removes the embedded demo provider: its crate, the one module that wires it in, the tests,
# the benchmark and the load generator that run against it, and every line tagged DEMO-PROVIDER. Afterwards set
# OAUTH_ISSUER (or OAUTH_AUTH_URL & co.) to your real provider; see .env.example.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf demo-provider src/demo.rs tests/e2e tests/browser tests/scaleout benches/flow.rs loadgen BENCHMARKS.md
sed -i '/DEMO-PROVIDER/d' src/lib.rs src/main.rs src/telemetry.rs Cargo.toml .ci/run mutants.toml
rm -f scripts/remove-demo-provider.sh
echo "Demo provider removed. Configure a real provider in .env (see .env.example)."
