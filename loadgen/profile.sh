#!/usr/bin/env bash
# The profiling pass of BENCHMARKS.md: the bare client and photo-connect, each under callgrind
# (instruction counts: repeatable on a noisy machine, unlike CPU time), with the demo provider
# natively and the same small fixed load from loadgen. The counters are zeroed after a warm-up and
# dumped after the load; the script prints instructions per flow for both and their ratio, and
# annotates photo-connect's profile. Needs valgrind.
# Usage: loadgen/profile.sh [FLOWS_PER_USER] [RUST_LOG] [PHOTOS_VIEWS]
#   4 users; default 50 flows each, the default log level, and 5 photos-page views per flow (the
#   issue's flow: home, authorize, consent, /cb, then /photos five times).
set -euo pipefail
cd "$(dirname "$0")/.."
flows=${1:-50}
log=${2:-}
views=${3:-5}
users=4
target=${CARGO_TARGET_DIR:-target}
cargo build --release -p photo-connect -p demo-provider -p loadgen
bin=target/loadgen/bin
mkdir -p "$bin"
for program in photo-connect demo-provider bare-client loadgen; do
    cp "$target/release/$program" "$bin/"
done

# profile NAME PROGRAM PORT: prints the instructions per flow of PROGRAM.
profile() {
    local name=$1 program=$2 port=$3
    local out=target/loadgen/profile/$name
    rm -rf "$out" && mkdir -p "$out"
    local secret
    secret=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
    DEMO_PROVIDER_ADDR=127.0.0.1:3001 DEMO_CLIENT_ID=photo-connect DEMO_CLIENT_SECRET=$secret \
        DEMO_REDIRECT_URIS="http://localhost:$port/cb" RUST_LOG=warn \
        "$bin/demo-provider" > "$out/provider.log" 2>&1 &
    local provider=$!
    sleep 0.5
    (
        cd "$out"
        export LISTEN_ADDR=127.0.0.1:$port APP_URL=http://localhost:$port \
            OAUTH_CLIENT_ID=photo-connect OAUTH_CLIENT_SECRET=$secret \
            OAUTH_ISSUER=http://127.0.0.1:3001 PHOTOS_API_URL=http://127.0.0.1:3001/api/photos \
            SIGNIN_RATE_PER_MINUTE=0
        if [ -n "$log" ]; then export RUST_LOG=$log; fi
        exec valgrind --tool=callgrind --callgrind-out-file=callgrind.out \
            "../../bin/$program" > app.log 2>&1
    ) &
    local app=$!
    for _ in $(seq 100); do
        curl -s -o /dev/null "http://127.0.0.1:$port/" && break
        sleep 0.5
    done
    local pid
    pid=$(pgrep -P "$app" || echo "$app")
    local app_url=http://localhost:$port/
    "$bin/loadgen" run --app "$app_url" --users "$users" --flows 2 --warmup 1 --photos $((views - 1)) > /dev/null
    callgrind_control -z "$pid" > /dev/null 2>&1
    "$bin/loadgen" run --app "$app_url" --users "$users" --flows "$flows" --warmup 0 \
        --photos $((views - 1)) --app-pid "$pid" > "$out/load.txt"
    callgrind_control -d "$pid" > /dev/null 2>&1
    kill -TERM "$pid" "$provider"
    wait "$app" || true
    wait "$provider" || true
    local dump
    dump=$(ls -t "$out"/callgrind.out.* | head -1)
    callgrind_annotate --inclusive=yes "$dump" > "$out/inclusive.txt" 2>/dev/null || true
    callgrind_annotate "$dump" > "$out/self.txt" 2>/dev/null || true
    local total
    total=$(awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1; exit }' "$out/self.txt")
    echo $((total / (users * flows)))
}

bare=$(profile bare bare-client 3100)
app=$(profile app photo-connect 3000)
echo "instructions per flow (${users}x${flows} flows, $views photos views each, RUST_LOG=${log:-default}):"
echo "  bare client    $bare"
echo "  photo-connect  $app"
awk -v a="$app" -v b="$bare" 'BEGIN { printf "  ratio          %.2fx\n", a / b }'
echo "annotations: target/loadgen/profile/{bare,app}/{inclusive,self}.txt"
