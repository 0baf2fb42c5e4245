# Common tasks. `make help` lists them.
STACK ?= dev
GO    ?= go
POLICY_CONFIG ?=

# Everything the Kubernetes provider deploys: excluded, with its dependents, by `make foundation`.
KUBERNETES_LAYER = **pulumi:providers:kubernetes::**
ACTIONLINT ?= github.com/rhysd/actionlint/cmd/actionlint@v1.7.12

.PHONY: help deps build test test-unit test-engine test-kube local local-down kube-up kube-down preview plan check fmt packs cli lint-workflows bench rollback preflight foundation

help:
	@echo "make preview STACK=dev  offline engine preview with both policy packs and the cost estimate (no AWS account)"
	@echo "make preview PROJECT=baseline STACK=baseline   the same for the account baseline"
	@echo "make test               the whole test suite: test-unit, then test-engine"
	@echo "make test-unit          gofmt, go vet, go test ./... (mocks, rules, components; about 15 s warm)"
	@echo "make test-engine        the real Pulumi CLI and engine, offline (builds the CLI once: ~9 min cold)"
	@echo "make test-kube          only the engine tests on a real Kubernetes API server and provider (built once: ~25 min cold)"
	@echo "make local [CONTEXT=c]  the local stack on a local cluster (Pulumi.local.yaml's context: kind-scalemate; real Kubernetes provider, no AWS)"
	@echo "make kube-up / kube-down a test API server with simulated nodes in .kube-local (export KUBECONFIG=.kube-local/kubeconfig)"
	@echo "make plan STACK=dev     mock plan: resource tree, policy verdicts and cost, without the engine"
	@echo "make packs              build the policy packs to bin/scalemate-security and bin/scalemate-cost"
	@echo "make build              build the Pulumi program to .pulumi/bin/scalemate (Pulumi.yaml buildTarget)"
	@echo "make cli                print the path of the pinned Pulumi CLI (building it if needed)"
	@echo "make lint-workflows     actionlint on .github/workflows"
	@echo "make bench              benchmark: build, tests, engine previews, policies, critical path (N=3, COLD=1)"
	@echo "make rollback STACK=x   move the application's traffic back (needs AWS credentials; docs/rollback.md)"
	@echo "make preflight STACK=x  the AWS quotas the stack needs (CHECK=1 compares with the account: needs credentials)"

deps:
	$(GO) mod download

build: deps
	$(GO) build -o .pulumi/bin/scalemate .

cli:
	@scripts/pulumi-cli.sh

# The first run builds the Pulumi CLI (minutes) at the same time as the preview command, the
# offline stand-ins and the policy packs, instead of after them: one build alone leaves a core
# idle much of the time. Later runs find everything cached. The CLI build runs in a process
# group of its own, so a failed compile or Ctrl-C stops it with everything it started.
preview:
	@setsid scripts/pulumi-cli.sh > /dev/null & cli=$$!; \
	stop() { kill -TERM -- -$$cli 2>/dev/null; }; \
	trap 'stop; exit 130' INT TERM; \
	$(GO) build -o bin/preview ./cmd/preview && $(GO) build ./engine/standin ./policies/security ./policies/cost \
		|| { stop; exit 1; }; \
	wait $$cli || { echo "preview: building the Pulumi CLI failed" >&2; exit 1; }; \
	bin/preview -stack $(STACK) $(if $(PROJECT),-project $(PROJECT)) $(if $(POLICY_CONFIG),-policy-config $(POLICY_CONFIG))

plan: deps
	$(GO) run ./cmd/mockplan -stack $(STACK) $(if $(POLICY_CONFIG),-policy-config $(POLICY_CONFIG))

packs: deps
	$(GO) build -o bin/scalemate-security ./policies/security
	$(GO) build -o bin/scalemate-cost ./policies/cost

check:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(GO) vet -tags engine ./tests/engine/

test: test-unit test-engine

test-unit: deps check
	$(GO) test ./...
	@$(GO) test -count=1 -v -run 'TestRuleCount$$' ./policies/rules | grep 'pack:' | sed 's/^ *rules_test.go:[0-9]*: /rules: /'

test-engine: deps
	scripts/kube-toolchain.sh >/dev/null # built before the tests' timeout starts (cold: ~25 min)
	$(GO) test -tags engine -count=1 -parallel 4 -timeout 60m ./tests/engine/

# Only the engine tests that need the real Kubernetes API server and provider.
test-kube: deps
	scripts/kube-toolchain.sh >/dev/null
	$(GO) test -tags engine -count=1 -parallel 4 -timeout 30m -run 'Kubernetes' -v ./tests/engine/

# The local environment (README, "The local environment"): preview with both packs, then up,
# through the real Kubernetes provider, on whatever cluster KUBECONFIG's current context is.
local: deps
	$(GO) run ./cmd/local $(if $(CONTEXT),-context $(CONTEXT))

local-down: deps
	$(GO) run ./cmd/local -destroy $(if $(CONTEXT),-context $(CONTEXT))

# A real API server with simulated nodes (no containers run), for `make local` without a cluster.
kube-up:
	scripts/kube-local.sh up .kube-local
	@echo "export KUBECONFIG=$(CURDIR)/.kube-local/kubeconfig; make local CONTEXT=scalemate-local"

kube-down:
	scripts/kube-local.sh down .kube-local

fmt:
	gofmt -w $$(git ls-files '*.go')

bench: deps
	bench/run.sh

preflight: deps
	$(GO) run ./cmd/preflight -stack $(STACK) $(if $(CHECK),-check)

rollback: packs
	scripts/rollback.sh $(STACK)

# The AWS half of a stack (the VPC, the cluster, the in-VPC runner, the data tier), everything
# but what goes through the Kubernetes provider: the first deploy of a stack whose API endpoint
# is private, from outside the VPC (README, "Before the first deploy"). Needs AWS credentials.
foundation: packs
	pulumi up --stack $(STACK) --yes --exclude '$(KUBERNETES_LAYER)' --exclude-dependents \
		--policy-pack bin/scalemate-security --policy-pack bin/scalemate-cost

lint-workflows:
	$(GO) run $(ACTIONLINT) -shellcheck= .github/workflows/*.yml
