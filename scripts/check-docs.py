#!/usr/bin/env python3
"""Keeps the docs true to the tree: every path the README, .env.example and docs/ cite in
backticks exists, and the README's measured size of the spine matches the files it lists.
Prints each problem and exits 1; CI runs it. `--fix` rewrites the spine's numbers instead (a
removal script does, as it changes those files)."""
import pathlib, re, sys

root = pathlib.Path(__file__).resolve().parent.parent
problems = []
texts = [root / "README.md", root / ".env.example", *sorted((root / "docs").glob("*.md"))]
PATH = re.compile(r"`((?:\.{0,2}/)?[A-Za-z0-9_.-]+(?:/[A-Za-z0-9_.-]+)+/?)`")
for doc in texts:
    for number, line in enumerate(doc.read_text().splitlines(), 1):
        for path in PATH.findall(line):
            # URLs' paths, HTTP routes and placeholders are not files.
            if path.startswith(("/", "http")) or "..." in path or path.count(".") > 3:
                continue
            first = path.split("/")[0]
            known = {"src", "tests", "docs", "scripts", "templates", "static", ".ci", ".github"}
            if first not in known and not (root / first).is_dir():
                continue
            if not (root / path).exists():
                problems.append(f"{doc.relative_to(root)}:{number}: `{path}` does not exist")

readme = (root / "README.md").read_text()
stated = re.search(r"the spine is \*\*(\d+) files, ([\d,]+) lines\*\*.*?\*\*([\d,]+)\*\* of them",
                   readme, re.S)
if stated:
    table = readme[stated.end():].split("\n## ", 1)[0]
    files = [f for row in table.splitlines() if row.startswith("| `")
             for f in re.findall(r"`(src/[^`]+\.rs)`", row.split(" | ")[0])]
    lines = sum(len((root / f).read_text().splitlines()) for f in files)
    code = 0
    for f in files:
        text = (root / f).read_text().splitlines()
        cut = next((i for i, l in enumerate(text) if l.startswith("#[cfg(test)]")), len(text))
        code += cut
    want = (int(stated[1]), int(stated[2].replace(",", "")), int(stated[3].replace(",", "")))
    if (len(files), lines, code) != want and "--fix" in sys.argv:
        readme = readme.replace(stated[0], stated[0]
                                .replace(f"**{stated[1]} files, {stated[2]} lines**",
                                         f"**{len(files)} files, {lines:,} lines**")
                                .replace(f"**{stated[3]}** of them", f"**{code:,}** of them"))
        (root / "README.md").write_text(readme)
    elif (len(files), lines, code) != want:
        problems.append(f"README.md: the spine is {len(files)} files, {lines:,} lines, {code:,} "
                        f"before the tests; the README says {want[0]}, {want[1]:,}, {want[2]:,}")
for problem in problems:
    print(problem)
sys.exit(1 if problems else 0)
