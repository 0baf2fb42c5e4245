#!/usr/bin/env bash
# The first run a new user waits for: `make preview STACK=dev` on a fresh clone with empty
# caches (Go build and module caches, the Pulumi CLI build, stand-ins, packs). Prints wall time,
# CPU use and peak memory. A benchmark: it asserts nothing. Takes 10-20 minutes on 2 cores and
# downloads every module again; run it on an otherwise idle machine.
#
#   bench/first-run.sh [REV]   (default HEAD; measures a clean clone of REV)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
rev=${1:-HEAD}
tmp=$(mktemp -d)
trap 'chmod -R u+w "$tmp" 2>/dev/null; rm -rf "$tmp"' EXIT
git -C "$root" worktree add --detach "$tmp/src" "$rev" >/dev/null 2>&1 || git clone -q "$root" "$tmp/src"
git -C "$tmp/src" checkout -q "$rev" 2>/dev/null || true
mkdir -p "$tmp/gocache" "$tmp/gomod" "$tmp/scalemate"
cd "$tmp/src"
start=$(date +%s)
env GOCACHE="$tmp/gocache" GOMODCACHE="$tmp/gomod" SCALEMATE_CACHE="$tmp/scalemate" \
	/usr/bin/time -f "%e %U %S %M" -o "$tmp/time" make preview STACK=dev > "$tmp/log" 2>&1 || {
	tail -20 "$tmp/log" >&2; echo "first-run: make preview failed" >&2; exit 1; }
read -r wall user sys rss < "$tmp/time"
cpu=$(awk -v u="$user" -v s="$sys" -v w="$wall" 'BEGIN { printf "%.0f", 100 * (u + s) / w }')
printf "first run (%s, empty caches): %.0f s (%d min %02d s), CPU %s %% of %d00 %%, peak %d MB\n" \
	"$(git -C "$tmp/src" rev-parse --short HEAD)" "$wall" "$(( ${wall%.*} / 60 ))" "$(( ${wall%.*} % 60 ))" "$cpu" "$(nproc)" "$((rss / 1024))"
git -C "$root" worktree remove --force "$tmp/src" >/dev/null 2>&1 || true
