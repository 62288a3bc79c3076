#!/usr/bin/env bash
# Removes the embedded demo provider: its crate, the one module that wires it in, the tests, the
# benchmark and the load generator that run against it, every line tagged DEMO-PROVIDER, the
# `[demo]` lines and demo section of .env.example (and so of --help), and the docs rows that cite
# the removed tests. Afterwards set OAUTH_ISSUER (or OAUTH_AUTH_URL & co.) to your real provider;
# see .env.example.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf demo-provider src/demo.rs tests/e2e tests/browser tests/scaleout benches/flow.rs loadgen
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

# Docs: the demo provider's requirements (A) go; table rows keep only the tests that still exist.
removed = r"(?:tests/(?:e2e|browser|scaleout)|demo-provider/tests/provider)"
sources = [p.read_text() for p in pathlib.Path(".").glob("src/**/*.rs")]
sources += [p.read_text() for p in pathlib.Path(".").glob("tests/**/*.rs")]
exists = lambda name: any(re.search(rf"fn {re.escape(name)}\b", s) for s in sources)
for doc in pathlib.Path("docs").glob("*.md"):
    text = doc.read_text()
    text = re.sub(r"\n## (Demo authorization server \(A\)|The demo provider)\n.*?(?=\n## |\Z)", "\n", text, flags=re.S)
    out = []
    for line in text.splitlines():
        if not line.startswith("| ") or line.startswith("| ---"):
            out.append(line)
            continue
        cells = line.split(" | ")
        if "demo provider" in cells[0]:
            continue
        # "`tests/e2e` · `name`" citations, and the removed binaries in a list of binaries.
        cells = [re.sub(rf"`{removed}` · `[^`]*`(; )?", "", c) for c in cells]
        cells = [re.sub(rf"`{removed}`(, )?", "", c).rstrip(", ") for c in cells]
        # Test names (snake_case, in backticks, `;`-separated) that no file defines any more.
        def prune(cell):
            names = re.findall(r"`([a-z0-9_]+)`", cell)
            if not names or "; " not in cell and len(names) == 1 and not re.fullmatch(r"`[a-z0-9_]+`", cell.strip()):
                return cell
            kept = [f"`{n}`" for n in names if exists(n) or not re.search(r"_", n)]
            return "; ".join(kept) if re.fullmatch(r"(`[a-z0-9_]+`(; )?)+", cell.strip()) else cell
        cells = [prune(c) for c in cells]
        pruned = " | ".join(cells)
        if pruned != line and any(c.strip(" |") == "" for c in cells):
            continue
        out.append(pruned)
    doc.write_text("\n".join(out) + "\n")
PY
rm -f scripts/remove-demo-provider.sh
echo "Demo provider removed. Configure a real provider in .env (see .env.example)."
