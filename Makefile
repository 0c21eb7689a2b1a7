# Kontor — the commands a developer and CI use. See README.md.
GO      ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo v0.0.0-dev)
LDFLAGS := -X main.version=$(VERSION)

.PHONY: run test bench lint build postgres

## run: start PostgreSQL if needed, migrate, and serve Kontor on http://127.0.0.1:8080
run: postgres
	$(GO) run -ldflags "$(LDFLAGS)" ./cmd/kontor serve

## test: start PostgreSQL if needed, lint, fuzz the parsers briefly, then run every test
test: postgres lint
	@./scripts/test-deps.sh
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime 10s ./domain/numscript/
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime 10s ./domain/query/
	$(GO) test -run '^$$' -fuzz '^FuzzQuickTransactionRequest$$' -fuzztime 10s ./handlers/ledgerv2/
	$(GO) test -count=1 -race ./...

## bench: run ledgerbench against a freshly started Kontor and print a table
bench: postgres build
	./scripts/bench.sh

## lint: gofmt and go vet
lint:
	@out=$$(gofmt -l cmd domain eventstore projections handlers consumers exporters platform); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

## build: build bin/kontor
build:
	$(GO) build -ldflags "$(LDFLAGS)" -o bin/kontor ./cmd/kontor

postgres:
	@./scripts/postgres.sh
