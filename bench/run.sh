#!/usr/bin/env bash
# Measures what platform engineers wait for and prints each figure as the median of N runs:
# build time and peak memory (warm, and cold with COLD=1), test binaries, the unit suite, engine
# previews per stack, mock runs and policy evaluation per stack and on 10,000 synthetic
# resources, the release flow through the engine, and the critical path of a fresh `pulumi up`. A benchmark, not a test: it asserts
# nothing (tests/critpath_test.go holds the critical-path target).
#
#   bench/run.sh            N=3 runs each; cold builds once each (an empty build cache: ~10 min)
#   N=5 COLD=0 bench/run.sh warm figures only
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-3}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# measure NAME CMD...: runs CMD N times, records wall seconds and peak RSS (KB) per run.
measure() {
	local name=$1; shift
	for _ in $(seq "$N"); do
		/usr/bin/time -f "%e %M" -o "$out/t" "$@" >/dev/null 2>&1 || { echo "bench: $name failed: $*" >&2; exit 1; }
		cat "$out/t" >> "$out/$name"
	done
}
median() { sort -n | awk '{v[NR]=$1} END {print (NR%2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2)}'; }
report() { # name label
	local s m
	s=$(awk '{print $1}' "$out/$1" | median)
	m=$(awk '{print $2}' "$out/$1" | median)
	printf "%-52s %8.2f s %8.0f MB\n" "$2" "$s" "$((m / 1024))"
}

# Cold figures: one run each in an empty build cache (modules stay downloaded).
if [ "${COLD:-1}" = 1 ]; then
	cold=$(mktemp -d)
	N=1 measure cold env GOCACHE="$cold" go build ./...
	rm -rf "$cold"; cold=$(mktemp -d)
	N=1 measure coldtest env GOCACHE="$cold" go test -count=1 -run '^$' ./...
	rm -rf "$cold"
fi
go build ./... # warm the cache for the warm figures
measure build go build ./...
measure testbin go test -count=1 -run '^$' ./...
measure unit go test -count=1 ./...
go build -o "$out/preview" ./cmd/preview
"$out/preview" -stack dev >/dev/null 2>&1 # builds the CLI, stand-ins and packs once
for s in dev staging prod; do measure "preview-$s" "$out/preview" -stack "$s"; done
# The release flow through the engine: up blue, canary preview and up, promote, roll back, stage
# a new version on the idle colour, a failing migration (tests/engine/release_test.go), once.
N=1 measure release go test -tags engine -count=1 -run 'TestReleaseWalk$' ./tests/engine/

echo "ScaleMate benchmark: median of $N runs, $(nproc) cores, $(date -u +%F)"
printf "%-52s %10s %11s\n" "step" "time" "peak RSS"
if [ "${COLD:-1}" = 1 ]; then
	report cold "go build ./... cold (empty build cache, 1 run)"
	report coldtest "test binaries cold (empty build cache, 1 run)"
fi
report build "go build ./... warm"
report testbin "test binaries, compile and link (go test -run '^\$')"
report unit "go test ./... warm (-count=1)"
for s in dev staging prod; do report "preview-$s" "engine preview $s (offline, both packs)"; done
report release "release flow through the engine (6 ups, 1 run)"

echo
echo "Mock runs and policy evaluation (go test -bench, ns/op):"
go test -run '^$' -bench 'MockRun|Policies' -benchtime "${N}x" ./tests | awk '/^Benchmark/ {printf "  %-44s %10.1f ms\n", $1, $3/1e6}'
go test -run '^$' -bench 'Evaluate10k' -benchtime "${N}x" ./policies/rules | awk '/^Benchmark/ {printf "  %-44s %10.1f ms\n", $1 " (10,000 resources)", $3/1e6}'

echo
echo "Fresh 'pulumi up', estimated (typical AWS creation times, internal/critpath):"
go run ./cmd/critpath | grep -v '^ '
