# audittui — see README.md.
GO ?= go

.PHONY: run test unit mutate bench fuzz lint build image image-repro

# Build variables of the checked-out commit (VERSION, COMMIT, COMMIT_TIME,
# DIRTY; see scripts/version.sh). A binary prefers Go's own build information
# and uses these -X values only where it has none (-buildvcs=false, git
# worktrees, no .git). Override on the command line: make image VERSION=v0.1.0
$(foreach kv,$(shell bash scripts/version.sh),$(eval $(kv)))
BUILDINFO := github.com/audittui/audittui/internal/buildinfo
LDFLAGS := -X $(BUILDINFO).version=$(VERSION) -X $(BUILDINFO).commit=$(COMMIT) \
	-X $(BUILDINFO).commitTime=$(COMMIT_TIME) -X $(BUILDINFO).dirty=$(DIRTY)

# The container image (make image): built without a Docker daemon.
IMAGE_REPO ?= ghcr.io/audittui/audittui
IMAGE_SOURCE ?= https://github.com/audittui/audittui
IMAGE_ARCH ?= $(shell $(GO) env GOARCH)
IMAGE_TAR ?= bin/audittui-image.tar
CA_BUNDLE ?= /etc/ssl/certs/ca-certificates.crt

# Open the TUI on the bundled sample.
run:
	$(GO) run ./cmd/audittui testdata/sample/audit.log

build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/audittui ./cmd/audittui
	@bin/audittui --version

# A static linux binary on an empty base, non-root, as an OCI archive
# ($(IMAGE_TAR)); prints the image digest. Load it with docker load -i,
# podman load -i or skopeo copy oci-archive:$(IMAGE_TAR) docker://...
image:
	CGO_ENABLED=0 GOOS=linux GOARCH=$(IMAGE_ARCH) $(GO) build -trimpath -ldflags '-s -w $(LDFLAGS)' \
		-o bin/image/linux-$(IMAGE_ARCH)/audittui ./cmd/audittui
	$(GO) run ./cmd/mkimage -binary bin/image/linux-$(IMAGE_ARCH)/audittui -out $(IMAGE_TAR) \
		-version '$(VERSION)' -commit '$(COMMIT)' -commit-time '$(COMMIT_TIME)' -dirty '$(DIRTY)' \
		-repo $(IMAGE_REPO) -source $(IMAGE_SOURCE) -ca-bundle '$(CA_BUNDLE)'

# Builds the image twice from scratch (fresh build cache for the binary) and
# checks both archives are byte-identical.
image-repro:
	rm -rf bin/image && $(MAKE) --no-print-directory image IMAGE_TAR=bin/image/a.tar
	rm -rf bin/image/linux-* bin/image/gocache && GOCACHE=$(CURDIR)/bin/image/gocache \
		$(MAKE) --no-print-directory image IMAGE_TAR=bin/image/b.tar; s=$$?; rm -rf bin/image/gocache; exit $$s
	cmp bin/image/a.tar bin/image/b.tar && sha256sum bin/image/a.tar bin/image/b.tar

# Everything CI runs (.ci/run is `make test`): installs the tools the tests
# drive, builds and starts the test servers (versitygw, VictoriaLogs) on
# 127.0.0.1, runs gofmt/vet and all tests with -race under CI=true (a
# missing tool or server fails), requires ../shared/realdata when it is
# there, stops the servers and lists every skipped test with its reason.
test:
	bash scripts/test.sh

# Unit tests only (no servers, not strict: tests that need a server or a
# missing tool skip).
unit:
	$(GO) test -race ./...

# Mutation testing (scripts/mutate): each named mutation of a critical path
# must make its guarding tests fail. MUTATE_FLAGS='-run logql' picks some.
# Not part of make test (a run takes longer than the rest of CI; README,
# Tests); make test does check that every mutation still applies.
mutate:
	$(GO) run ./scripts/mutate $(MUTATE_FLAGS)

lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet ./...

# Whole-program comparisons (see bench/README.md).
bench:
	bash bench/query.sh

fuzz:
	$(GO) test ./internal/data -run '^$$' -fuzz FuzzDecode -fuzztime 30s
	$(GO) test ./internal/data/logql -run '^$$' -fuzz FuzzParse -fuzztime 30s
