#!/usr/bin/env bash
# The profiling pass of BENCHMARKS.md: photo-connect under callgrind (instruction counts,
# repeatable), the demo provider natively, a small fixed load from loadgen; the counters are
# zeroed after the warm-up and dumped after the load, then annotated. Needs valgrind.
# Usage: loadgen/profile.sh [FLOWS_PER_USER] [RUST_LOG]   (4 users; default 50 flows each)
set -euo pipefail
cd "$(dirname "$0")/.."
flows=${1:-50}
out=target/loadgen/profile
bin=target/loadgen/bin
mkdir -p "$out"
secret=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
DEMO_PROVIDER_ADDR=127.0.0.1:3001 DEMO_CLIENT_ID=photo-connect DEMO_CLIENT_SECRET=$secret \
    DEMO_REDIRECT_URIS="http://localhost:3000/cb" RUST_LOG=warn \
    "$bin/demo-provider" > "$out/provider.log" 2>&1 &
provider=$!
sleep 0.5
(
    cd "$out"
    export LISTEN_ADDR=127.0.0.1:3000 APP_URL=http://localhost:3000 OAUTH_CLIENT_ID=photo-connect \
        OAUTH_CLIENT_SECRET=$secret OAUTH_ISSUER=http://127.0.0.1:3001 \
        PHOTOS_API_URL=http://127.0.0.1:3001/api/photos SIGNIN_RATE_PER_MINUTE=0
    if [ -n "${2:-}" ]; then export RUST_LOG=$2; fi
    exec valgrind --tool=callgrind --callgrind-out-file=callgrind.out.app \
        "../bin/photo-connect" > app.log 2>&1
) &
app=$!
for _ in $(seq 100); do
    curl -s -o /dev/null http://127.0.0.1:3000/healthz && break
    sleep 0.5
done
app_pid=$(pgrep -P "$app" || echo "$app")
"$bin/loadgen" run --users 4 --flows 2 --warmup 1 > /dev/null
callgrind_control -z "$app_pid" > /dev/null
"$bin/loadgen" run --users 4 --flows "$flows" --warmup 0 --app-pid "$app_pid" | tee "$out/load.txt"
callgrind_control -d "$app_pid" > /dev/null
kill -TERM "$app_pid" "$provider"
wait "$app" || true
dump=$(ls -t "$out"/callgrind.out.app.* | head -1)
callgrind_annotate --inclusive=yes "$dump" | head -80 > "$out/inclusive.txt"
callgrind_annotate "$dump" | head -60 > "$out/self.txt"
echo "annotations: $out/inclusive.txt $out/self.txt (dump $dump)"
