#!/usr/bin/env bash
# Prints the path of a Pulumi CLI whose version matches pulumi/sdk/v3 in go.mod, building it
# from the Go module proxy into a cache directory when none is at hand (about 9 minutes cold
# on 2 cores, a second when cached). Idempotent.
#
#   PULUMI=$(scripts/pulumi-cli.sh)
#
# Order: $PULUMI_CLI if set; `pulumi` on PATH if its version matches; the cached build; a new
# build. The version is stamped with -ldflags, without which the Automation API refuses the CLI.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
version=$(awk '$1 == "github.com/pulumi/pulumi/sdk/v3" {print $2}' "$root/go.mod")
[ -n "$version" ] || { echo "pulumi-cli: no github.com/pulumi/pulumi/sdk/v3 in go.mod" >&2; exit 1; }
cache=${SCALEMATE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/scalemate}
bin="$cache/pulumi-cli/$version/bin/pulumi"

matches() { [ -x "$1" ] && [ "$("$1" version 2>/dev/null)" = "$version" ]; }

if [ -n "${PULUMI_CLI:-}" ] && matches "$PULUMI_CLI"; then echo "$PULUMI_CLI"; exit 0; fi
if command -v pulumi >/dev/null 2>&1 && matches "$(command -v pulumi)"; then command -v pulumi; exit 0; fi
if matches "$bin"; then echo "$bin"; exit 0; fi

echo "pulumi-cli: building Pulumi CLI $version from the Go module proxy into $cache (first run only)..." >&2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat > "$work/go.mod" <<MOD
module scalemate.local/pulumi-cli

go 1.25

require (
	github.com/pulumi/pulumi/pkg/v3 $version
	github.com/pulumi/pulumi/sdk/v3 $version
)

// pkg/v3's own go.mod replaces clipboard; a consumer must repeat it.
replace github.com/atotto/clipboard => github.com/tgummerer/clipboard v0.0.0-20241001131231-d02d263e614e
MOD
cat > "$work/tools.go" <<'GO'
//go:build tools

package tools

import _ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
GO
mkdir -p "$(dirname "$bin")"
tmp=$(mktemp "$(dirname "$bin")/pulumi.XXXXXX") # concurrent builds never share a file
(
	cd "$work"
	GOFLAGS=-mod=mod go mod tidy >&2
	GOFLAGS=-mod=mod go build -o "$tmp" \
		-ldflags "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$version" \
		github.com/pulumi/pulumi/pkg/v3/cmd/pulumi >&2
)
mv "$tmp" "$bin"
matches "$bin" || { echo "pulumi-cli: built $bin but it reports '$("$bin" version)', not $version" >&2; exit 1; }
echo "$bin"
