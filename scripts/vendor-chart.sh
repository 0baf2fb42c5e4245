#!/usr/bin/env bash
# Rebuilds one vendored Helm chart archive, charts/<chart>-<version>.tgz, from a git snapshot of
# its upstream repository, as charts/charts.lock.json describes it, and checks the result
# against the lock's sha256. No Helm CLI and no network: the chart comes from git objects only.
#
#   scripts/vendor-chart.sh [--write] <chart> <version> <git-dir> [<dependency git-dir>...]
#
# <git-dir> is a clone (bare or not) of the lock entry's repository holding its commit; each
# dependency (the entry's "dependencies", in order) needs its own. Without --write the archive
# is built in a temporary directory and only compared; with --write it replaces the vendored
# one and the lock's sha256 and size are updated (review the diff).
#
# Two builds, per the entry's "build":
#   published    the chart repository's own archive, stored in git (eks-charts keeps its
#                packages on gh-pages): the blob <published.commit>:<published.file>, byte for
#                byte, so its sha256 is the chart repository index's digest.
#   git-archive  the chart directory at <commit>:<path>, packaged as `helm package` lays it out:
#                the chart's .helmignore applied (plus Helm's default templates/.?*), the files
#                under <chart>/, each dependency expanded under <chart>/charts/<name>/. An entry
#                may name a "generate" step upstream runs before packaging (External Secrets
#                renders its CRD templates with hack/helm.generate.sh); it runs on a copy of
#                its "inputs" at the same commit and needs mikefarah yq v4 and GNU sed.
#                Helm writes Chart.yaml re-serialised; here it stays as committed, except that a
#                dependency's "setVersion" does what `helm package --version --app-version` did
#                upstream.
# Reproducible: regular files only, sorted by name (C locale), mode 0644, owner 0:0, mtime the
# source commit's committer time, ustar tar, `gzip -9n` (GNU gzip, no name or timestamp).
set -euo pipefail
export LC_ALL=C TZ=UTC

write=0
if [ "${1:-}" = "--write" ]; then write=1; shift; fi
[ $# -ge 3 ] || { sed -n '2,12p' "$0" >&2; exit 2; }
chart=$1 version=$2 gitdir=$3
shift 3
deps_git=("$@")

root=$(cd "$(dirname "$0")/.." && pwd)
lock="$root/charts/charts.lock.json"
command -v jq >/dev/null || { echo "vendor-chart: jq is required" >&2; exit 1; }
entry=$(jq -e --arg c "$chart" --arg v "$version" '.charts[] | select(.chart == $c and .version == $v)' "$lock") ||
	{ echo "vendor-chart: $lock has no entry for $chart $version; add one (repository, commit, path, build) first" >&2; exit 1; }
field() { jq -r "$1 // empty" <<<"$entry"; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
out="$work/out.tgz"

git_() { git --git-dir="$1" "${@:2}"; }
commit_of() { git_ "$1" rev-parse --verify --quiet "$2^{commit}" || { echo "vendor-chart: $1 has no commit $2" >&2; exit 1; }; }

# extract <git-dir> <commit> <path> <dest>: the tree at <commit>:<path> into <dest>.
extract() {
	mkdir -p "$4"
	git_ "$1" archive --format=tar "$2:$3" | tar -x -C "$4"
}

# helmignore <chart dir>: deletes what the chart's .helmignore (and Helm's default
# templates/.?*) excludes, with the rules of helm's pkg/ignore: a pattern ending in / matches
# directories only; one with a / inside matches the path from the chart root; any other the
# base name; an ignored directory takes its contents with it. Negations are not supported.
helmignore() {
	local dir=$1 line pat rel kind base p
	local -a patterns=("templates/.?*") gone=()
	if [ -f "$dir/.helmignore" ]; then
		while IFS= read -r line || [ -n "$line" ]; do
			line=${line%$'\r'}
			line="${line#"${line%%[![:space:]]*}"}"
			line="${line%"${line##*[![:space:]]}"}"
			[ -z "$line" ] || [ "${line:0:1}" = "#" ] && continue
			[ "${line:0:1}" = "!" ] && { echo "vendor-chart: negated .helmignore pattern '$line' is not supported" >&2; exit 1; }
			patterns+=("$line")
		done <"$dir/.helmignore"
	fi
	while IFS= read -r rel; do
		for p in "${gone[@]}"; do [[ $rel == "$p"/* ]] && continue 2; done
		kind=f
		[ -d "$dir/$rel" ] && kind=d
		base=${rel##*/}
		for p in "${patterns[@]}"; do
			pat=$p
			if [[ $pat == */ ]]; then
				[ "$kind" = d ] || continue
				pat=${pat%/}
			fi
			if [[ $pat == /* ]]; then
				[[ $rel == ${pat#/} ]] || continue
			elif [[ $pat == */* ]]; then
				[[ $rel == $pat ]] || continue
			else
				[[ $base == $pat ]] || continue
			fi
			gone+=("$rel")
			break
		done
	done < <(cd "$dir" && find . -mindepth 1 | sed 's|^\./||' | sort)
	for p in "${gone[@]}"; do rm -rf "${dir:?}/$p"; done
}

case "$(field .build)" in
published)
	blob="$(field .published.commit):$(field .published.file)"
	git_ "$gitdir" cat-file -e "$blob" || { echo "vendor-chart: $gitdir has no $blob" >&2; exit 1; }
	git_ "$gitdir" cat-file blob "$blob" >"$out"
	;;
git-archive)
	commit=$(commit_of "$gitdir" "$(field .commit)")
	path=$(field .path)
	name=$(basename "$path")
	[ "$name" = "$chart" ] || { echo "vendor-chart: path $path is not a directory named $chart" >&2; exit 1; }
	src="$work/src"
	if [ -n "$(field .generate.command)" ]; then
		# The generator runs in a copy of the inputs it reads, laid out as in the repository.
		mapfile -t inputs < <(jq -r '.generate.inputs[]' <<<"$entry")
		mkdir -p "$work/repo"
		git_ "$gitdir" archive --format=tar "$commit" "$path" "${inputs[@]}" | tar -x -C "$work/repo"
		yq --version 2>/dev/null | grep -q mikefarah ||
			{ echo "vendor-chart: $chart's generate step needs mikefarah yq v4 first on PATH (go install github.com/mikefarah/yq/v4@$(field .generate.yq))" >&2; exit 1; }
		(cd "$work/repo" && eval "$(field .generate.command)") >&2
		mkdir -p "$src"
		mv "$work/repo/$path" "$src/$chart"
	else
		extract "$gitdir" "$commit" "$path" "$src/$chart"
	fi
	helmignore "$src/$chart"
	n=$(jq '.dependencies // [] | length' <<<"$entry")
	[ "${#deps_git[@]}" -eq "$n" ] || { echo "vendor-chart: $chart $version has $n dependencies; pass a git directory for each" >&2; exit 1; }
	for ((i = 0; i < n; i++)); do
		dep=$(jq ".dependencies[$i]" <<<"$entry")
		dname=$(jq -r .name <<<"$dep")
		dcommit=$(commit_of "${deps_git[$i]}" "$(jq -r .commit <<<"$dep")")
		ddir="$src/$chart/charts/$dname"
		[ ! -e "$ddir" ] || { echo "vendor-chart: $chart already has charts/$dname" >&2; exit 1; }
		extract "${deps_git[$i]}" "$dcommit" "$(jq -r .path <<<"$dep")" "$ddir"
		helmignore "$ddir"
		if [ "$(jq -r '.setVersion // false' <<<"$dep")" = true ]; then
			dv=$(jq -r .version <<<"$dep")
			sed -i -E "s/^version:.*/version: $dv/; s/^appVersion:.*/appVersion: $dv/" "$ddir/Chart.yaml"
		fi
		grep -qx "version: \"\\{0,1\\}$(jq -r .version <<<"$dep")\"\\{0,1\\}" "$ddir/Chart.yaml" ||
			{ echo "vendor-chart: dependency $dname is not at version $(jq -r .version <<<"$dep")" >&2; exit 1; }
	done
	mtime=$(git_ "$gitdir" log -1 --format=%ct "$commit")
	(cd "$src" && find "$chart" -type f | sort) >"$work/files"
	tar --format=ustar --no-recursion --owner=0 --group=0 --numeric-owner --mode=u=rw,go=r \
		--mtime="@$mtime" -C "$src" -T "$work/files" -cf - | gzip -9n >"$out"
	;;
*)
	echo "vendor-chart: unknown build '$(field .build)' for $chart $version" >&2
	exit 1
	;;
esac

# The archive must be the chart it claims to be.
got_version=$(tar -xzOf "$out" "$chart/Chart.yaml" | sed -n -E 's/^version:[[:space:]]*"?([^"[:space:]]+)"?[[:space:]]*$/\1/p')
[ "$got_version" = "$version" ] || { echo "vendor-chart: the archive's $chart/Chart.yaml says version '$got_version', not $version" >&2; exit 1; }
if tar -tzf "$out" | grep -qv "^$chart/"; then echo "vendor-chart: entries outside $chart/" >&2; exit 1; fi

sum=$(sha256sum "$out" | cut -d' ' -f1)
size=$(stat -c %s "$out")
archive="$root/charts/$(field .archive)"
echo "$chart $version: sha256 $sum, $size bytes"
if [ "$write" = 1 ]; then
	cp "$out" "$archive"
	jq --indent 2 --arg c "$chart" --arg v "$version" --arg s "$sum" --argjson n "$size" \
		'(.charts[] | select(.chart == $c and .version == $v)) |= (.sha256 = $s | .size = $n)' "$lock" >"$work/lock"
	cat "$work/lock" >"$lock"
	echo "wrote $archive and its lock entry"
elif [ "$sum" = "$(field .sha256)" ]; then
	echo "matches the lock"
else
	echo "vendor-chart: the lock says sha256 $(field .sha256); rebuild with --write if the source changed on purpose" >&2
	exit 1
fi
