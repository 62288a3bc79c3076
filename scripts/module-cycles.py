#!/usr/bin/env python3
"""Fails when two top-level modules of a crate import each other, directly or through others.

The crate's modules are floors: each may name only the modules listed before it in lib.rs.
An import is any `crate::NAME` path (or a name inside `use crate::{...}`) in a module's files
before their first `#[cfg(test)]`; test-only files (tests.rs, *_tests.rs) are skipped.
usage: scripts/module-cycles.py [SRC_DIR ...]   (default: src; prints the cycles it finds)"""
import re
import sys
from pathlib import Path

USE_GROUP = re.compile(r"crate::\{")
PATH = re.compile(r"crate::([a-z_][a-z0-9_]*)")


def names_in_group(text, start):
    """The first name of each item of the `use crate::{...}` group that opens at `start`."""
    depth, names, expect_name, i = 0, [], True, start
    while i < len(text):
        ch = text[i]
        if ch == "{":
            depth += 1
        elif ch == "}":
            if depth == 0:
                break
            depth -= 1
        elif ch == "," and depth == 0:
            expect_name = True
        elif expect_name and depth == 0 and (ch.isalpha() or ch == "_"):
            name = re.match(r"\w+", text[i:]).group(0)
            names.append(name)
            expect_name = False
            i += len(name)
            continue
        i += 1
    return names


def imports(src):
    edges = {}
    for path in sorted(Path(src).rglob("*.rs")):
        if path.name == "tests.rs" or path.name.endswith("_tests.rs"):
            continue
        parts = path.relative_to(src).parts
        module = parts[0].removesuffix(".rs")
        if module in ("lib", "main", "bin"):
            continue
        text = path.read_text(encoding="utf-8").split("#[cfg(test)]")[0]
        found = set(PATH.findall(text))
        for m in USE_GROUP.finditer(text):
            found.update(n for n in names_in_group(text, m.end()) if n[0].islower())
        edges.setdefault(module, set()).update(found - {module, "self"})
    return edges


def cycles(edges):
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on_stack, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges.get(v, ()):
            if w not in edges:
                continue
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                out.append(sorted(group))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


failed = False
for src in sys.argv[1:] or ["src"]:
    edges = imports(src)
    found = cycles(edges)
    for group in found:
        failed = True
        arrows = [f"{a}->{b}" for a in group for b in sorted(edges[a]) if b in group]
        print(f"{src}: cycle of {len(group)} modules: {', '.join(group)} ({' '.join(arrows)})")
    print(f"{src}: {len(edges)} top-level modules, {len(found)} cycles")
sys.exit(1 if failed else 0)
