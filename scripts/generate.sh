#!/usr/bin/env bash
# A project of your own from this one, in place: `bash scripts/generate.sh acme-photos [--without
# WING]...`, WING one of: (`cargo generate` runs it on its copy, see cargo-generate.toml and
# scripts/generate.rhai; run by hand, it changes this checkout)
#   demo-provider # DEMO-PROVIDER
#   inspector # INSPECTOR
#
# Removes the wings left out with their own scripts (scripts/remove-*.sh), the generator itself
# (this script, the hook, cargo-generate.toml and every line or block tagged GENERATOR, such as
# the README's "Start your own project"), then renames the project (scripts/rename.py) and
# formats the code. Afterwards no file names photo-connect, nor a wing left out.
set -euo pipefail
cd "$(dirname "$0")/.."
name=${1:?usage: generate.sh NEW-NAME [--without WING]...}
shift
without=()
while [ $# -gt 0 ]; do
  case "$1 ${2:-}" in
    "--without demo-provider") without+=("$2"); shift 2 ;; # DEMO-PROVIDER
    "--without inspector") without+=("$2"); shift 2 ;; # INSPECTOR
    *) echo "generate.sh: unknown option: $*" >&2; exit 2 ;;
  esac
done

# This script goes first: bash reads on from the open file, which the rename must not change.
rm -f scripts/generate.sh cargo-generate.toml scripts/generate.rhai
python3 scripts/wings.py strip GENERATOR
for wing in ${without[@]+"${without[@]}"}; do
  bash "scripts/remove-$wing.sh" >/dev/null
done
python3 scripts/rename.py "$name"
rm scripts/rename.py
cargo fmt --all
if [ -e scripts/check-docs.py ]; then python3 scripts/check-docs.py --fix >/dev/null; fi
if grep -rlI 'photo.connect' . --exclude-dir=target --exclude-dir=.git; then
  echo "generate.sh: the files above still name photo-connect" >&2; exit 1
fi
left_out=${without[*]+ without: ${without[*]}}
echo "$name: generated${left_out}."
