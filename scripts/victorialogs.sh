#!/usr/bin/env bash
# victorialogs.sh install|start|stop|env
#
# Installs and runs VictoriaLogs (Apache-2.0) on 127.0.0.1 for audittui's
# ship integration tests. VictoriaLogs accepts Loki's push API at
# /insert/loki/api/v1/push and answers LogsQL at /select/logsql/query.
#
#   install  go install victoria-logs into ./bin (skipped when already built)
#   start    start it on a free port with a temporary data dir, wait until ready,
#            print "export AUDITTUI_VLOGS_URL=http://127.0.0.1:PORT"
#   stop     stop the instance started by "start" (pid file)
#   env      print the export line of the running instance
set -euo pipefail

VERSION=v1.52.1
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN="$ROOT/bin/victoria-logs"
STATE="${AUDITTUI_VLOGS_STATE:-${TMPDIR:-/tmp}/audittui-victorialogs}"
PIDFILE="$STATE/pid"
URLFILE="$STATE/url"

install() {
	if [[ -x "$BIN" ]] && "$BIN" -version 2>/dev/null | grep -q "${VERSION}"; then
		return 0
	fi
	if [[ -x "$BIN" ]]; then
		# Built from source without version stamping: trust the existing binary.
		return 0
	fi
	mkdir -p "$ROOT/bin"
	echo "installing victoria-logs ${VERSION} into $ROOT/bin (needs gcc, about a minute)" >&2
	(cd "$ROOT" && CGO_ENABLED=1 GOBIN="$ROOT/bin" GOFLAGS=-mod=mod go install "github.com/VictoriaMetrics/VictoriaLogs/app/victoria-logs@${VERSION}")
}

free_port() {
	python3 - <<'PY' 2>/dev/null || echo $((20000 + RANDOM % 20000))
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()
PY
}

running() {
	[[ -f "$PIDFILE" ]] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null
}

start() {
	install
	if running; then
		env_line
		return 0
	fi
	mkdir -p "$STATE"
	local port data
	port=$(free_port)
	data=$(mktemp -d "${TMPDIR:-/tmp}/audittui-vlogs-data.XXXXXX")
	echo "$data" >"$STATE/data"
	"$BIN" -httpListenAddr="127.0.0.1:${port}" -storageDataPath="$data" \
		-retentionPeriod=100y -futureRetention=1y -loki.disableMessageParsing -loggerLevel=WARN >"$STATE/log" 2>&1 &
	echo $! >"$PIDFILE"
	echo "http://127.0.0.1:${port}" >"$URLFILE"
	for _ in $(seq 1 100); do
		if curl -fsS "http://127.0.0.1:${port}/health" >/dev/null 2>&1; then
			env_line
			return 0
		fi
		if ! running; then
			echo "victoria-logs exited; log:" >&2
			cat "$STATE/log" >&2
			return 1
		fi
		sleep 0.1
	done
	echo "victoria-logs did not become ready on port ${port}; log:" >&2
	cat "$STATE/log" >&2
	return 1
}

stop() {
	if running; then
		local pid
		pid=$(cat "$PIDFILE")
		kill "$pid"
		for _ in $(seq 1 50); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
	fi
	rm -f "$PIDFILE" "$URLFILE"
	if [[ -f "$STATE/data" ]]; then
		rm -rf "$(cat "$STATE/data")"
		rm -f "$STATE/data"
	fi
}

env_line() {
	if running && [[ -f "$URLFILE" ]]; then
		echo "export AUDITTUI_VLOGS_URL=$(cat "$URLFILE")"
	fi
}

case "${1:-}" in
install) install ;;
start) start ;;
stop) stop ;;
env) env_line ;;
*)
	echo "usage: $0 install|start|stop|env" >&2
	exit 2
	;;
esac
