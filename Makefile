# Common tasks. `make help` lists them.
STACK ?= dev
GO    ?= go

.PHONY: help deps build test plan check fmt

help:
	@echo "make deps             download Go modules"
	@echo "make plan STACK=dev   offline plan of a stack under mocks (no cloud account, no Pulumi CLI)"
	@echo "make test             the whole test suite (gofmt, go vet, go test ./...)"
	@echo "make build            build the Pulumi program to .pulumi/bin/scalemate (Pulumi.yaml buildTarget)"

deps:
	$(GO) mod download

build: deps
	$(GO) build -o .pulumi/bin/scalemate .

plan: deps
	$(GO) run ./cmd/mockplan -stack $(STACK)

check:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi
	$(GO) vet ./...

test: deps check
	$(GO) test ./...

fmt:
	gofmt -w $$(git ls-files '*.go')
