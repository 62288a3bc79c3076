#!/usr/bin/env bash
# Tags: a line containing DEMO-PROVIDER goes; in Markdown, <!-- DEMO-PROVIDER --> … <!-- /DEMO-PROVIDER --> blocks go and <!-- NO-DEMO … --> blocks are un-commented.
#
# Removes the embedded demo provider: its crate, the one module that wires it in, what runs
# against it (tests/e2e, tests/browser, tests/scaleout, the benchmark, the load generator and its
# report BENCHMARKS.md), the screenshots of its consent page and the browser tests' outlines of
# every shot, every tagged line and block (code, Cargo.toml, .ci/run, README.md, docs/), the `[demo]` lines and demo section of .env.example (so
# of --help), the docs rows that cite removed tests, and its entries in Cargo.lock. Afterwards no
# file mentions it (CI checks that with `grep -rliI demo`); set OAUTH_ISSUER (or OAUTH_AUTH_URL &
# co.) to your real provider in .env, see .env.example.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf demo-provider src/demo.rs tests/e2e tests/browser tests/scaleout benches/flow.rs loadgen \
    BENCHMARKS.md docs/screenshots/consent.png docs/screenshots/consent-phone.png \
    docs/screenshots/*.txt
rmdir benches 2>/dev/null || true
python3 - <<'PY'
import pathlib, re

# Markdown: tagged blocks go, NO-DEMO alternatives are un-commented (before the line tags go).
for doc in [pathlib.Path("README.md"), *pathlib.Path("docs").glob("*.md")]:
    out, skipping, alternative = [], False, False
    for line in doc.read_text().splitlines():
        marker = line.strip()
        if marker == "<!-- DEMO-PROVIDER -->":
            skipping = True
        elif marker == "<!-- /DEMO-PROVIDER -->":
            skipping = False
        elif marker == "<!-- NO-DEMO":
            alternative = True
        elif alternative and marker == "-->":
            alternative = False
        elif not skipping:
            out.append(line)
    doc.write_text(re.sub(r"\n{3,}", "\n\n", "\n".join(out) + "\n"))

# Cargo.lock: the demo crate's and the load generator's entries (cargo prunes what only they used).
lock = pathlib.Path("Cargo.lock")
gone = ("demo-provider", "loadgen")
blocks = lock.read_text().split("\n\n")
blocks = [b for b in blocks if not any(f'name = "{name}"\n' in b + "\n" for name in gone)]
text = "\n\n".join(blocks)
lock.write_text(re.sub(r'\n "(?:demo-provider|loadgen)",', "", text))
PY
grep -rlI --exclude-dir=target --exclude-dir=.git DEMO-PROVIDER . | grep -v '^./scripts/' |
    xargs sed -i '/DEMO-PROVIDER/d'
python3 - <<'PY'
import pathlib, re

# .env.example (the text of --help): the demo's own lines, and its section to the end.
env = pathlib.Path(".env.example")
lines = env.read_text().splitlines()
cut = next((i for i, l in enumerate(lines) if l.startswith("# --- The embedded demo provider")), len(lines))
kept = [l for l in lines[:cut] if not l.startswith("# [demo]")]
env.write_text("\n".join(kept).rstrip("\n") + "\n")

# Docs tables of tests: rows keep only the tests that still exist.
removed = r"(?:tests/(?:e2e|browser|scaleout)|demo-provider/tests/provider)"
sources = [p.read_text() for p in pathlib.Path(".").glob("src/**/*.rs")]
sources += [p.read_text() for p in pathlib.Path(".").glob("tests/**/*.rs")]
exists = lambda name: any(re.search(rf"fn {re.escape(name)}\b", s) for s in sources)
for doc in [pathlib.Path("docs") / name for name in ("requirements.md", "test-index.md", "testing.md")]:
    text = doc.read_text()
    out = []
    for line in text.splitlines():
        if not line.startswith("| ") or line.startswith("| ---"):
            out.append(line)
            continue
        cells = line.split(" | ")
        if "demo provider" in cells[0]:
            continue
        # "`tests/e2e` · `name` (a comment)" citations, and the removed binaries in a list.
        comment = r"(?: \((?:[^()]|\([^()]*\))*\))?"
        cells = [re.sub(rf"`{removed}` · `[^`]*`{comment}(; )?", "", c) for c in cells]
        cells = [re.sub(rf"`{removed}`(, )?", "", c).rstrip(", ") for c in cells]
        # Test names (snake_case, in backticks, `;`-separated) that no file defines any more.
        def prune(cell):
            # The last cell keeps the row's closing " |".
            body, end = (cell[:-2], " |") if cell.endswith(" |") else (cell, "")
            names = re.findall(r"`([a-z0-9_]+)`", body)
            if not names or "; " not in body and len(names) == 1 and not re.fullmatch(r"`[a-z0-9_]+`", body.strip()):
                return cell
            kept = [f"`{n}`" for n in names if exists(n) or not re.search(r"_", n)]
            return "; ".join(kept) + end if re.fullmatch(r"(`[a-z0-9_]+`(; )?)+", body.strip()) else cell
        cells = [prune(c) for c in cells]
        pruned = re.sub(r";\s+\|", " |", " | ".join(cells))
        if pruned != line and any(c.strip(" |") == "" for c in cells):
            continue
        out.append(pruned)
    doc.write_text("\n".join(out) + "\n")
PY
# The README's measured size of the spine, now that its files lost their tagged lines.
python3 scripts/check-docs.py --fix
rm -f scripts/remove-demo-provider.sh
echo "Demo provider removed. Configure a real provider in .env (see .env.example)."
