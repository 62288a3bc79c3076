#!/usr/bin/env bash
# Tags (scripts/wings.py): a line containing DEMO-PROVIDER goes; in Markdown, <!-- DEMO-PROVIDER --> … <!-- /DEMO-PROVIDER --> blocks go and <!-- NO-DEMO … --> blocks are un-commented.
#
# Removes the embedded demo provider: its crate, the one module that wires it in, what runs
# against it (tests/e2e, tests/browser, tests/scaleout, tests/deploy's sign-in through nginx and the
# child-process runner they share, the benchmark, the load generator and its report
# BENCHMARKS.md), the screenshots of its consent page and the browser tests' outlines of
# every shot, every tagged line and block (code, Cargo.toml, .ci/run, README.md, docs/), the `[demo]` lines and demo section of .env.example (so
# of --help), the docs rows that cite removed tests, and its entries in Cargo.lock. Afterwards no
# file mentions it (CI checks that with `grep -rliI demo`); set OAUTH_ISSUER (or OAUTH_AUTH_URL &
# co.) to your real provider in .env, see .env.example.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf demo-provider src/demo.rs src/attacks templates/break-it.html tests/e2e tests/browser tests/scaleout tests/deploy/through_nginx.rs \
    tests/support/app_process.rs benches/flow.rs loadgen \
    BENCHMARKS.md docs/screenshots/consent.png docs/screenshots/consent-phone.png docs/screenshots/break-it.png \
    docs/screenshots/*.txt
rmdir benches 2>/dev/null || true
python3 scripts/wings.py strip DEMO-PROVIDER NO-DEMO
python3 - <<'PY'
import pathlib, re

# Cargo.lock: the demo crate's and the load generator's entries (cargo prunes what only they used).
lock = pathlib.Path("Cargo.lock")
gone = ("demo-provider", "loadgen")
blocks = lock.read_text().split("\n\n")
blocks = [b for b in blocks if not any(f'name = "{name}"\n' in b + "\n" for name in gone)]
text = "\n\n".join(blocks)
lock.write_text(re.sub(r'\n "(?:demo-provider|loadgen)",', "", text))
PY
python3 - <<'PY'
import pathlib, re

# .env.example (the text of --help): the demo's own lines, and its section to the end.
env = pathlib.Path(".env.example")
lines = env.read_text().splitlines()
cut = next((i for i, l in enumerate(lines) if l.startswith("# --- The embedded demo provider")), len(lines))
kept = [l for l in lines[:cut] if not l.startswith("# [demo]")]
env.write_text("\n".join(kept).rstrip("\n") + "\n")
PY
# Docs tables of tests: rows keep only the tests that still exist.
python3 scripts/wings.py rows '(?:tests/(?:e2e|browser|scaleout|deploy/through_nginx)|demo-provider/tests/provider)' 'demo provider'
# The code as rustfmt lays it out without those lines (a blank line before a closing brace).
cargo fmt --all
# The README's measured size of the spine, now that its files lost their tagged lines.
python3 scripts/check-docs.py --fix
rm -f scripts/remove-demo-provider.sh
python3 scripts/wings.py done
echo "Demo provider removed. Configure a real provider in .env (see .env.example)."
