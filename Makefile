# Switchboard — make help lists the targets.
.DEFAULT_GOAL := help
GO ?= go
FUZZTIME ?= 10s
TEST_TIMEOUT ?= 30m

.PHONY: help run build test test-unit fuzz generate lint bench

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  %-10s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

run: ## run the server on :8080 (starts a private Postgres in ./data when DATABASE_URL is unset)
	$(GO) run ./cmd/switchboard serve

build: ## build ./bin/switchboard
	$(GO) build -o bin/switchboard ./cmd/switchboard

test: test-unit fuzz ## run every test against a real Postgres (started by the tests), then the fuzz targets briefly

test-unit:
	$(GO) test -count=1 -timeout $(TEST_TIMEOUT) ./...

fuzz: ## run each fuzz target for FUZZTIME (default 10s)
	@set -e; for pkg in $$($(GO) list ./...); do \
	  dir=$$($(GO) list -f '{{.Dir}}' $$pkg); \
	  for f in $$(grep -ho '^func Fuzz[A-Za-z0-9_]*' $$dir/*_test.go 2>/dev/null | sed 's/func //'); do \
	    echo "fuzz $$pkg $$f ($(FUZZTIME))"; \
	    $(GO) test -run='^$$' -fuzz="^$$f$$" -fuzztime=$(FUZZTIME) $$pkg > /tmp/switchboard-fuzz.log 2>&1 || { cat /tmp/switchboard-fuzz.log; exit 1; }; \
	  done; \
	done

generate: ## regenerate templ components
	$(GO) tool templ generate

lint: ## gofmt, go vet, and stale generated templ files
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet ./...
	$(GO) tool templ generate >/dev/null 2>&1
	@git diff --exit-code -- '*_templ.go' || { echo "generated templ files are stale: run make generate and commit"; exit 1; }

bench: ## measure throughput and latency, write docs/benchmarks.md
	$(GO) run ./cmd/bench
