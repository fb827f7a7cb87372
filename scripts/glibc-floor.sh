#!/usr/bin/env bash
# Prints the oldest glibc a native binary needs: the highest GLIBC_x.y symbol version it
# references (objdump -T), plus whether it links libstdc++ dynamically.
# Usage: scripts/glibc-floor.sh [path/to/addon.node ...] (default: every prebuild for linux).
set -euo pipefail
cd "$(dirname "$0")/.."
files=("$@")
if [ ${#files[@]} -eq 0 ]; then
  mapfile -t files < <(find prebuilds -name '*.node' -path '*linux*' 2>/dev/null | sort)
fi
if [ ${#files[@]} -eq 0 ]; then
  echo "no prebuild found: run npm run prebuilds first" >&2
  exit 1
fi
for file in "${files[@]}"; do
  floor=$(objdump -T "$file" | grep -Eo 'GLIBC_[0-9]+(\.[0-9]+)+' | sed 's/GLIBC_//' | sort -uV | tail -1)
  needed=$(objdump -p "$file" | awk '/NEEDED/ {print $2}' | paste -sd ' ' -)
  echo "$file: requires glibc >= ${floor:-none}; dynamic libraries: ${needed:-none}"
done
