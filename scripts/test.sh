#!/usr/bin/env bash
# The project's whole test run (make test; .ci/run calls it): tools, test
# servers on 127.0.0.1, lint, tests with -race, servers stopped at the end,
# then one line naming every skipped test and why.
#
# It is strict, as CI is, on a laptop too: it installs every tool and
# starts every server, so it sets CI=true and a test whose tool or server
# is missing fails instead of skipping (internal/testutil). The real data
# beside the repository (../shared/realdata) is required when it is there
# (AUDITTUI_REALDATA); a clone without it runs every other test and lists
# the real-data comparisons it skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
export GOFLAGS="${GOFLAGS:--buildvcs=false}"
export CI=true
if [[ -z "${AUDITTUI_REALDATA:-}" && -d ../shared/realdata/audit ]]; then
	AUDITTUI_REALDATA="$(cd ../shared/realdata && pwd)"
	export AUDITTUI_REALDATA
fi
t0=$(date +%s)
step() { echo "== $* ($(($(date +%s) - t0))s)"; }

step "tools"
bash scripts/deps.sh

step "test servers: install (versitygw, VictoriaLogs; cached in ./bin)"
bash scripts/versitygw.sh install >/tmp/audittui-vgw-install.log 2>&1 &
vgw=$!
bash scripts/victorialogs.sh install >/tmp/audittui-vl-install.log 2>&1 &
vl=$!
# Compile the packages with -race (and the reporter) meanwhile. Not the
# test binaries: the run below links each again (a test binary's link is
# not cached), and linking them twice cost 117 s of wall time (177 s of
# CPU) with everything compiled, on CI's 2 cores beside the servers' build.
go build -race ./...
go build -o .tmp/testreport ./scripts/testreport
# The binary the tests drive (e2e, e2e/shipfaults, internal/ui's schema
# checks, internal/ship's kill tests run it; AUDITTUI_BIN): built once
# here. Each of those packages built it itself, more than one at a time
# when their runs overlapped (each then compiling what the other compiles:
# without -race, the whole tree is 333 s of CPU with an empty build
# cache), and each build links it again (6 s of CPU: a link is not
# cached).
go build -o .tmp/audittui ./cmd/audittui
AUDITTUI_BIN="$PWD/.tmp/audittui"
export AUDITTUI_BIN
wait $vgw || { cat /tmp/audittui-vgw-install.log; exit 1; }
wait $vl || { cat /tmp/audittui-vl-install.log; exit 1; }

cleanup() {
	bash scripts/versitygw.sh stop >/dev/null 2>&1 || true
	bash scripts/victorialogs.sh stop >/dev/null 2>&1 || true
}
trap cleanup EXIT
step "test servers: start"
eval "$(bash scripts/versitygw.sh start)"
eval "$(bash scripts/victorialogs.sh start)"
echo "S3 (versitygw): $AUDITTUI_S3_ENDPOINT  VictoriaLogs: $AUDITTUI_VLOGS_URL"
echo "real data: ${AUDITTUI_REALDATA:-absent (../shared/realdata not found: its comparisons skip)}"

step "lint"
bad=$(gofmt -l $(git ls-files '*.go'))
if [[ -n "$bad" ]]; then echo "gofmt would change: $bad"; exit 1; fi
go vet ./...

step "tests"
# The slowest packages first: go test starts the packages' runs in the
# order given (./... is alphabetical), two at a time on CI's 2 cores, so a
# slow package late in the list runs alone at the end. Their times under
# -race in the last whole CI run (2 cores, 1,064 s), from the longest:
# internal/ui 278 s, internal/cli/query 185 s, e2e/shipfaults 174 s, e2e
# 173 s, internal/data 124 s, internal/ship 123 s; then, from the run
# before, 93 to 42 s; the rest take under 35 s. e2e/shipfaults and e2e
# wait for a good part of their time (ship's scenarios run for set
# seconds, tmux screens are polled; shipfaults runs most of its scenarios
# two at a time, e2e its tests one at a time), so each of them starts
# beside a package that computes (ui beside shipfaults, then query, then
# e2e) rather than beside the other. A
# package named here and in ./... runs once; one that no longer exists is
# left out.
first=()
for p in internal/ui e2e/shipfaults internal/cli/query e2e internal/data \
	internal/ship internal/policy/rules internal/policy/auditpolicy \
	internal/data/source/s3 internal/cli/policy internal/image internal/ui/live \
	internal/cli/tui internal/cli/alerts; do
	if [[ -d $p ]]; then first+=("./$p"); fi
done
set +e
go test -race -count=1 -timeout 25m -json "${first[@]}" ./... 2>&1 | .tmp/testreport
status=$((PIPESTATUS[0] | PIPESTATUS[1]))
set -e
step "done"
exit "$status"
