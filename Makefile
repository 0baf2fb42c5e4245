# Common tasks. `make help` lists them.
STACK ?= dev
GO    ?= go
POLICY_CONFIG ?=

# Everything the Kubernetes provider deploys: excluded, with its dependents, by `make foundation`.
KUBERNETES_LAYER = **pulumi:providers:kubernetes::**
ACTIONLINT ?= github.com/rhysd/actionlint/cmd/actionlint@v1.7.12

.PHONY: help deps build test test-unit test-engine preview plan check fmt packs cli lint-workflows bench rollback preflight foundation

help:
	@echo "make preview STACK=dev  offline engine preview with both policy packs and the cost estimate (no AWS account)"
	@echo "make preview PROJECT=baseline STACK=baseline   the same for the account baseline"
	@echo "make test               the whole test suite: test-unit, then test-engine"
	@echo "make test-unit          gofmt, go vet, go test ./... (mocks, rules, components; about 15 s warm)"
	@echo "make test-engine        the real Pulumi CLI and engine, offline (builds the CLI once: ~9 min cold)"
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
	$(GO) test -tags engine -count=1 -timeout 60m ./tests/engine/

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
