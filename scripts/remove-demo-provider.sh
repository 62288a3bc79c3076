#!/usr/bin/env bash
# Removes the embedded demo provider: its folder, its binary, the tests that run against it, and
# the lines tagged DEMO-PROVIDER. Afterwards set OAUTH_AUTH_URL & co. to your real provider.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf src/demo_provider src/bin/demo-provider.rs tests/e2e tests/provider tests/browser benches/flow.rs docs/demo-provider.md
sed -i '/DEMO-PROVIDER/d' src/lib.rs src/main.rs Cargo.toml
rm -f scripts/remove-demo-provider.sh
echo "Demo provider removed. Configure a real provider in .env (see .env.example)."
