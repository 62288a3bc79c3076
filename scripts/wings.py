#!/usr/bin/env python3
"""What every wing's removal script shares (scripts/remove-*.sh), run from the repository's root.

  wings.py strip TAG [ALT]   every line that contains TAG goes (code, Cargo.toml, CI, templates,
                             README.md, docs/), and in Rust the line above a `// TAG` alone on
                             its line (where rustfmt puts a tag after a `{`); in Markdown, <!-- TAG --> … <!-- /TAG --> blocks go
                             and <!-- ALT … --> blocks are un-commented. Blank lines left doubled
                             are collapsed. The removal scripts and this file keep their tags.
  wings.py rows REGEX [WORD] docs tables of tests: a citation of a path REGEX matches goes, test
                             names no file defines any more go, and so does a row left with an
                             empty cell or whose first cell says WORD.
  wings.py done              deletes this file once no removal script (nor the generator) is left.
"""
import pathlib
import re
import subprocess
import sys

DOCS = [pathlib.Path("README.md"), *sorted(pathlib.Path("docs").glob("*.md"))]


def is_remover(path):
    """The removal scripts and this file: their tags are what they remove, they keep them."""
    return path.parts[0] == "scripts" and (path.name.startswith("remove-") or path.name == "wings.py")


def text_files():
    """The repository's text files (tracked or not, never target/ or .git/), scripts/ aside."""
    for path in sorted(pathlib.Path(".").rglob("*")):
        parts = path.parts
        if not path.is_file() or parts[0] in ("target", ".git") or is_remover(path):
            continue
        try:
            text = path.read_text()
        except (UnicodeDecodeError, OSError):
            continue
        if "\0" not in text:
            yield path, text


def strip_markdown(tag, alt):
    for doc in DOCS:
        if not doc.exists():
            continue
        out, skipping, alternative = [], False, False
        for line in doc.read_text().splitlines():
            marker = line.strip()
            if marker == f"<!-- {tag} -->":
                skipping = True
            elif marker == f"<!-- /{tag} -->":
                skipping = False
            elif alt and marker == f"<!-- {alt}":
                alternative = True
            elif alternative and marker == "-->":
                alternative = False
            elif not skipping:
                out.append(line)
        doc.write_text(re.sub(r"\n{3,}", "\n\n", "\n".join(out) + "\n"))


def strip_lines(tag):
    # The tag as a word of its own: not the end of FOO_TAG, nor the /TAG of a block's end.
    tagged = re.compile(rf"(?<![\w/-]){re.escape(tag)}(?![\w-])").search
    for path, text in text_files():
        if not tagged(text):
            continue
        lines = text.split("\n")
        # In Rust, a tag alone on its line also tags the line above: rustfmt moves a comment
        # that follows an opening `{` to the next line.
        alone = {i - 1 for i, l in enumerate(lines) if path.suffix == ".rs" and l.strip() == f"// {tag}"}
        out = []
        for i, line in enumerate(lines):
            if tagged(line) or i in alone:
                continue
            # A blank line left doubled, or opening or closing a Rust block, goes too.
            if line.strip() == "" and i > 0 and tagged(lines[i - 1]):
                before = out[-1].rstrip() if out else ""
                after = next((l for l in lines[i + 1 :] if not tagged(l)), "").strip()
                if before == "" or before.endswith("{") or path.suffix == ".rs" and after.startswith("}"):
                    continue
            out.append(line)
        path.write_text("\n".join(out))


def prune_rows(removed, word):
    sources = [p.read_text() for p in pathlib.Path(".").glob("src/**/*.rs")]
    sources += [p.read_text() for p in pathlib.Path(".").glob("tests/**/*.rs")]
    exists = lambda name: any(re.search(rf"fn {re.escape(name)}\b", s) for s in sources)
    for doc in [pathlib.Path("docs") / name for name in ("requirements.md", "test-index.md", "testing.md")]:
        if not doc.exists():
            continue
        out = []
        for line in doc.read_text().splitlines():
            if not line.startswith("| ") or line.startswith("| ---"):
                out.append(line)
                continue
            cells = line.split(" | ")
            if word and word in cells[0]:
                continue
            # "`path` · `name` (a comment)" citations, and the removed binaries in a list.
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


def main(args):
    if args[:1] == ["strip"] and len(args) in (2, 3):
        strip_markdown(args[1], args[2] if len(args) == 3 else None)
        strip_lines(args[1])
    elif args[:1] == ["rows"] and len(args) in (2, 3):
        prune_rows(args[1], args[2] if len(args) == 3 else None)
    elif args == ["done"]:
        # Kept while a removal script or the generator (scripts/generate.sh) may still need it.
        if not list(pathlib.Path("scripts").glob("remove-*.sh")) + list(pathlib.Path("scripts").glob("generate.sh")):
            pathlib.Path("scripts/wings.py").unlink()
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
