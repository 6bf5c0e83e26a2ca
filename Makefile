# audittui — see README.md.
GO ?= go

.PHONY: run test unit bench fuzz lint build

# Open the TUI on the bundled sample.
run:
	$(GO) run ./cmd/audittui testdata/sample/audit.log

build:
	$(GO) build -o bin/audittui ./cmd/audittui

# Everything CI runs: installs tmux/jq, builds and starts the test servers
# (versitygw, VictoriaLogs) on 127.0.0.1, runs gofmt/vet and all tests with
# -race, then stops the servers.
test:
	bash scripts/test.sh

# Unit tests only (no servers; tests that need them skip).
unit:
	$(GO) test -race ./...

lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet ./...

# Whole-program comparisons (see bench/README.md).
bench:
	bash bench/query.sh

fuzz:
	$(GO) test ./internal/data -run '^$$' -fuzz FuzzDecode -fuzztime 30s
	$(GO) test ./internal/data/logql -run '^$$' -fuzz FuzzParse -fuzztime 30s
