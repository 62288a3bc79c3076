#!/usr/bin/env bash
# Tags (scripts/wings.py): a line containing INSPECTOR goes; in Markdown, <!-- INSPECTOR --> … <!-- /INSPECTOR --> blocks go and <!-- NO-INSPECTOR … --> blocks are un-commented.
#
# Removes the flow inspector (`/flow`, the `inspector` cargo feature): its modules
# (src/inspector/, the recording hooks and the page in src/web/inspect/), its template, its tests
# (tests/hostile/inspector.rs and, while they exist, tests/e2e/inspector.rs and
# tests/scaleout/inspector.rs), its README screenshot, every tagged line and block (code,
# Cargo.toml, mutants.toml, templates, .ci/run, README.md, docs/), the FLOW_INSPECTOR paragraph of
# .env.example (so of --help), and the docs rows that cite removed tests. The routes keep their
# hooks (src/web/inspect/off.rs), which do nothing. Works before or after the other wings'
# removal scripts; afterwards no file mentions the inspector (CI checks it).
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf src/inspector src/web/inspect/on.rs src/web/inspect/page.rs templates/flow.html \
    tests/hostile/inspector.rs tests/e2e/inspector.rs tests/scaleout/inspector.rs \
    docs/screenshots/flow.png docs/screenshots/flow.txt
python3 scripts/wings.py strip INSPECTOR NO-INSPECTOR
python3 - <<'PY'
import pathlib

# .env.example (the text of --help): the FLOW_INSPECTOR paragraph, its comment and the variable.
env = pathlib.Path(".env.example")
lines = env.read_text().splitlines()
start = next(i for i, l in enumerate(lines) if l.startswith("# The flow inspector (/flow)"))
end = next(i for i, l in enumerate(lines) if l.startswith("#FLOW_INSPECTOR="))
env.write_text("\n".join(lines[:start] + lines[end + 1 :]) + "\n")
PY
# Docs tables of tests: rows keep only the tests that still exist.
python3 scripts/wings.py rows 'tests/(?:hostile|e2e|scaleout)/inspector\.rs' 'flow inspector'
# The code as rustfmt lays it out without those lines (a blank line before a closing brace).
cargo fmt --all
# The README's measured size of the spine, now that its files lost their tagged lines.
python3 scripts/check-docs.py --fix
rm -f scripts/remove-inspector.sh
python3 scripts/wings.py done
echo "Flow inspector removed."
