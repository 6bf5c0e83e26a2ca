#!/usr/bin/env bash
# The project's whole test run (make test; .ci/run calls it): tools, test
# servers on 127.0.0.1, lint, tests with -race, servers stopped at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
export GOFLAGS="${GOFLAGS:--buildvcs=false}"
t0=$(date +%s)
step() { echo "== $* ($(($(date +%s) - t0))s)"; }

step "tools"
bash scripts/deps.sh

step "test servers: install (versitygw, VictoriaLogs; cached in ./bin)"
bash scripts/versitygw.sh install >/tmp/audittui-vgw-install.log 2>&1 &
vgw=$!
bash scripts/victorialogs.sh install >/tmp/audittui-vl-install.log 2>&1 &
vl=$!
# Build the test binaries meanwhile.
go test -race -count=1 -run '^$' ./... >/dev/null
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

step "lint"
bad=$(gofmt -l $(git ls-files '*.go'))
if [[ -n "$bad" ]]; then echo "gofmt would change: $bad"; exit 1; fi
go vet ./...

step "tests"
set +e
go test -race -count=1 -timeout 15m ./... 2>&1 | grep -v 'no test files'
status=${PIPESTATUS[0]}
set -e
step "done"
exit "$status"
