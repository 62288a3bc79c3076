#!/usr/bin/env python3
"""Renames the project, run from the repository's root: `python3 scripts/rename.py acme-photos`.

Every text file (code, Cargo.toml and Cargo.lock, templates, .env.example, README.md, docs/, CI,
deployment files) has `photo-connect` replaced by the new name and `photo_connect` (the library)
by its snake_case form; a file or folder named after the project is renamed too. Afterwards no
file names photo-connect (scripts/generate.sh checks that).
"""
import pathlib
import re
import sys

OLD = "photo-connect"


def text_files():
    """The repository's text files (tracked or not), never target/ or .git/."""
    for path in sorted(pathlib.Path(".").rglob("*")):
        if not path.is_file() or path.parts[0] in ("target", ".git"):
            continue
        try:
            text = path.read_text()
        except (UnicodeDecodeError, OSError):
            continue
        if "\0" not in text:
            yield path, text


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: rename.py NEW-NAME")
    new = sys.argv[1]
    # A package name cargo accepts, and one that is also a valid library name in snake_case.
    if not re.fullmatch(r"[a-z][a-z0-9]*(?:[-_][a-z0-9]+)*", new):
        sys.exit(f"rename.py: {new!r} is not a package name: lowercase letters, digits, - or _")
    if new.replace("_", "-") == OLD:
        return
    snake = new.replace("-", "_")
    for path, text in text_files():
        renamed = text.replace(OLD, new).replace(OLD.replace("-", "_"), snake)
        if renamed != text:
            path.write_text(renamed)
    # Deepest first, so that a renamed folder does not hide what is inside it.
    for path in sorted(pathlib.Path(".").rglob(f"*{OLD}*"), key=lambda p: -len(p.parts)):
        if path.parts[0] not in ("target", ".git"):
            path.rename(path.with_name(path.name.replace(OLD, new)))


if __name__ == "__main__":
    main()
