#!/usr/bin/env bash
# Builds once, and caches, a real Kubernetes control plane from the Go module proxy, for the
# tests that judge the program's Kubernetes objects with a real API server instead of the
# stand-in (issue 16): kube-apiserver, kube-controller-manager, kube-scheduler and kubectl
# (k8s.io/kubernetes), kwok (a node simulator: Pods are scheduled and report Ready without
# containers), etcd and the real Pulumi Kubernetes provider (pulumi-resource-kubernetes, in its
# own directory so that it shadows nothing unless a test puts it on PATH). Prints the directory holding the control plane's binaries; the provider
# is in <that>/../provider.
#
#   scripts/kube-toolchain.sh           build what is missing (cold, 2 cores: 21 minutes alone, 30 beside other builds)
#   scripts/kube-toolchain.sh provider  only the provider (about 10 minutes); prints its directory
#
# Versions are pinned here; the cache is keyed by them (~/.cache/scalemate/kube/<version>).
set -euo pipefail
cd "$(dirname "$0")/.."

K8S=v1.37.2          # k8s.io/kubernetes; its staging modules are v0.37.2
KWOK=v0.8.0          # sigs.k8s.io/kwok
ETCD=v3.6.16         # go.etcd.io/etcd/server/v3: the etcd minor Kubernetes 1.37 is tested with
# The real Kubernetes provider: the only served version of its module (a 2026-01 pseudo-version),
# built to report the version of the SDK the program uses, so the engine takes it for that plugin.
PROVIDER_MODULE=github.com/pulumi/pulumi-kubernetes/provider/v4@v4.0.0-20260115033456-f47bc2d6f199
PROVIDER_SDK=v4.25.0 # its own go.mod replaces the SDK with ../sdk; this is the served one closest
cache=${SCALEMATE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/scalemate}/kube/$K8S
bin=$cache/bin
mode=${1:-all}
case $mode in all | provider) ;; *) echo "usage: $0 [provider]" >&2; exit 2 ;; esac
mkdir -p "$bin"
log() { echo "kube-toolchain: $*" >&2; }
# One build at a time (parallel tests each ask for the toolchain): the others wait, then find it.
exec 9> "$cache/.lock"
flock 9

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The real pulumi-resource-kubernetes: its main embeds files generated from the schema, which the
# module zip lacks, so the command's directory is copied into a throwaway module and generated.
provider=$cache/provider
if [ ! -x "$provider/pulumi-resource-kubernetes" ]; then
	mkdir -p "$provider" "$work/provider"
	sdk_version=$(sed -n 's#^[[:space:]]*github.com/pulumi/pulumi-kubernetes/sdk/v4 \(v[0-9.]*\).*#\1#p' go.mod)
	src=$(go mod download -json "$PROVIDER_MODULE" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')
	cp "$src"/cmd/pulumi-resource-kubernetes/{main.go,generate.go,schema.json,terraform-mapping.json} "$work/provider/"
	chmod u+w "$work/provider"/*
	(
		cd "$work/provider"
		printf 'module scalemate.local/kubeprovider\ngo %s\nrequire (\n\t%s\n\tgithub.com/pulumi/pulumi-kubernetes/sdk/v4 %s\n)\n' \
			"$(go env GOVERSION | sed 's/^go//; s/^\([0-9]*\.[0-9]*\).*/\1/')" "${PROVIDER_MODULE/@/ }" "$PROVIDER_SDK" > go.mod
		log "resolving the Kubernetes provider ($PROVIDER_MODULE)"
		GOFLAGS=-mod=mod go mod tidy >/dev/null 2>&1 || GOFLAGS=-mod=mod go mod tidy
		VERSION=${sdk_version#v} GOFLAGS=-mod=mod go run generate.go
		log "building pulumi-resource-kubernetes as ${sdk_version} (about 10 minutes cold, 4.5 GB)"
		GOFLAGS=-mod=mod go build -trimpath -ldflags "-s -w -X github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version.Version=${sdk_version#v}" \
			-o "$provider/pulumi-resource-kubernetes.tmp" .
		mv "$provider/pulumi-resource-kubernetes.tmp" "$provider/pulumi-resource-kubernetes"
	)
fi
if [ "$mode" = provider ]; then
	echo "$provider"
	exit 0
fi

# etcd from the module proxy (about 30 s). Not Debian's etcd-server: its 3.4.23 lacks
# RequestWatchProgress, so clients that stream their initial lists (client-go's WatchListClient,
# on by default since 1.35: kwok) fail every watch and see pods 30-60 s late.
if [ "$("$bin/etcd" --version 2>/dev/null | sed -n 's/^etcd Version: //p')" != "${ETCD#v}" ]; then
	rm -f "$bin/etcd"
	mkdir -p "$work/etcd"
	(
		cd "$work/etcd"
		printf 'module scalemate.local/etcd\ngo %s\nrequire go.etcd.io/etcd/server/v3 %s\n' \
			"$(go env GOVERSION | sed 's/^go//; s/^\([0-9]*\.[0-9]*\).*/\1/')" "$ETCD" > go.mod
		printf 'package main\nimport _ "go.etcd.io/etcd/server/v3/embed"\nfunc main() {}\n' > tools.go
		log "building etcd $ETCD"
		GOFLAGS=-mod=mod go mod tidy >/dev/null 2>&1 || GOFLAGS=-mod=mod go mod tidy
		# The module's root package is etcd's main.
		GOFLAGS=-mod=mod go build -trimpath -ldflags "-s -w" -o "$bin/etcd.tmp" go.etcd.io/etcd/server/v3
		mv "$bin/etcd.tmp" "$bin/etcd"
	)
fi

# kube-apiserver, kube-controller-manager, kube-scheduler and kubectl: k8s.io/kubernetes
# requires its 31 staging modules at v0.0.0 with local replaces, which a module outside its
# tree cannot follow: the throwaway module replaces each with its published v0.<minor> version.
kube_cmds="kube-apiserver kube-controller-manager kube-scheduler kubectl"
missing() { for c in "$@"; do [ -x "$bin/$c" ] || return 0; done; return 1; }
if missing $kube_cmds; then
	gomod=$(go mod download -json "k8s.io/kubernetes@$K8S" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
	staging="v0.${K8S#v1.}"
	{
		echo "module scalemate.local/kube"
		echo "go $(go env GOVERSION | sed 's/^go//; s/^\([0-9]*\.[0-9]*\).*/\1/')"
		echo "require k8s.io/kubernetes $K8S"
		# The staging modules are the replace directives pointing into ./staging.
		sed -n 's#^[[:space:]]*\(k8s.io/[a-z0-9-]*\) => ./staging/.*#replace \1 => \1 '"$staging"'#p' "$gomod"
	} > "$work/go.mod"
	printf 'package main\nimport _ "k8s.io/kubernetes/cmd/kube-apiserver/app"\nfunc main() {}\n' > "$work/tools.go"
	(
		cd "$work"
		log "resolving k8s.io/kubernetes $K8S ($(grep -c '^replace' go.mod) staging modules at $staging)"
		GOFLAGS=-mod=mod go mod tidy >/dev/null 2>&1 || GOFLAGS=-mod=mod go mod tidy
		minor=${K8S#v1.}; minor=${minor%%.*}
		ldflags="-s -w -X k8s.io/component-base/version.gitVersion=$K8S -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor"
		for cmd in $kube_cmds; do
			[ -x "$bin/$cmd" ] && continue
			log "building $cmd (the apiserver takes about 14 minutes cold)"
			GOFLAGS=-mod=mod go build -trimpath -ldflags "$ldflags" -o "$bin/$cmd.tmp" "k8s.io/kubernetes/cmd/$cmd"
			mv "$bin/$cmd.tmp" "$bin/$cmd"
		done
	)
fi

# kwok: simulated nodes that take and run (pretend) Pods, so Deployments become available.
if [ ! -x "$bin/kwok" ]; then
	log "building kwok $KWOK"
	GOFLAGS=-mod=mod GOBIN="$bin" go install "sigs.k8s.io/kwok/cmd/kwok@$KWOK"
fi

# kwok's stages (what simulated nodes and Pods go through): the upstream "fast" set, from the
# same module: nodes become Ready at once, Pods Running and Ready, and Pods deleted go.
if [ ! -s "$cache/kwok-stages.yaml" ]; then
	src=$(go mod download -json "sigs.k8s.io/kwok@$KWOK" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')/kustomize/stage
	for f in node/fast/node-initialize.yaml pod/fast/pod-ready.yaml pod/fast/pod-complete.yaml pod/fast/pod-delete.yaml; do
		cat "$src/$f"
		echo "---"
	done > "$cache/kwok-stages.yaml.tmp"
	mv "$cache/kwok-stages.yaml.tmp" "$cache/kwok-stages.yaml"
fi

echo "$bin"
