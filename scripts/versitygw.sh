#!/usr/bin/env bash
# versitygw.sh install|start|stop|env
#
# Installs and runs the Versity S3 Gateway (Apache-2.0) with its posix
# backend on 127.0.0.1, as the S3-compatible server for audittui's S3 source
# and ship S3 sink integration tests.
#
#   install  go install versitygw into ./bin (skipped when bin/versitygw is
#            already that version; the first build takes about two minutes)
#   start    start it on a free port with a temporary root directory and
#            fixed test credentials, wait until it answers, print
#            export AUDITTUI_S3_ENDPOINT=http://127.0.0.1:PORT AWS_ACCESS_KEY_ID=...
#            AWS_SECRET_ACCESS_KEY=... AWS_REGION=us-east-1
#   stop     stop the instance started by "start" (pid file) and remove its data
#   env      print the export line of the running instance
#
# Use:  eval "$(scripts/versitygw.sh start)"
#
# The credentials are test values for a throwaway local server, not secrets.
set -euo pipefail

VERSION=v1.8.0
MODULE=github.com/versity/versitygw
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN="$ROOT/bin/versitygw"
STATE="${AUDITTUI_VGW_STATE:-${TMPDIR:-/tmp}/audittui-versitygw}"
PIDFILE="$STATE/pid"
URLFILE="$STATE/url"
ACCESS_KEY=audittui-test
SECRET_KEY=audittui-test-secret
REGION=us-east-1

installed_version() {
	go version -m "$BIN" 2>/dev/null | awk -v m="$MODULE" '$1 == "mod" && $2 == m { print $3 }'
}

install() {
	if [[ -x "$BIN" ]] && [[ "$(installed_version)" == "$VERSION" ]]; then
		return 0
	fi
	mkdir -p "$ROOT/bin"
	echo "installing versitygw ${VERSION} into $ROOT/bin (about two minutes on first build)" >&2
	(cd "$ROOT" && GOBIN="$ROOT/bin" GOFLAGS=-mod=mod go install "${MODULE}/cmd/versitygw@${VERSION}")
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

env_line() {
	echo "export AUDITTUI_S3_ENDPOINT=$(cat "$URLFILE") AWS_ACCESS_KEY_ID=${ACCESS_KEY} AWS_SECRET_ACCESS_KEY=${SECRET_KEY} AWS_REGION=${REGION}"
}

# xattrs_ok: the posix backend keeps metadata (ETag, content type, storage
# class) in extended attributes; where the filesystem has none, a sidecar
# directory holds them.
xattrs_ok() {
	python3 - "$1" <<'PY' 2>/dev/null
import os, sys
p = os.path.join(sys.argv[1], ".xattr-probe")
open(p, "w").close()
try:
    os.setxattr(p, "user.audittui", b"1")
finally:
    os.remove(p)
PY
}

start() {
	install
	if running; then
		env_line
		return 0
	fi
	mkdir -p "$STATE"
	local port data meta=()
	port=$(free_port)
	data=$(mktemp -d "${TMPDIR:-/tmp}/audittui-vgw-data.XXXXXX")
	echo "$data" >"$STATE/data"
	if ! xattrs_ok "$data"; then
		mkdir -p "$data.meta"
		meta=(--sidecar "$data.meta")
	fi
	ROOT_ACCESS_KEY_ID="$ACCESS_KEY" ROOT_SECRET_ACCESS_KEY="$SECRET_KEY" \
		"$BIN" --port "127.0.0.1:${port}" --region "$REGION" --quiet \
		posix "${meta[@]}" "$data" >"$STATE/log" 2>&1 &
	echo $! >"$PIDFILE"
	echo "http://127.0.0.1:${port}" >"$URLFILE"
	local code
	for _ in $(seq 1 200); do
		# Any HTTP answer (403 for an unsigned request) means it is serving.
		code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:${port}/" 2>/dev/null || true)
		if [[ -n "$code" && "$code" != "000" ]]; then
			env_line
			return 0
		fi
		if ! running; then
			echo "versitygw exited; log:" >&2
			cat "$STATE/log" >&2
			return 1
		fi
		sleep 0.1
	done
	echo "versitygw did not answer on port ${port}; log:" >&2
	cat "$STATE/log" >&2
	return 1
}

stop() {
	if running; then
		local pid
		pid=$(cat "$PIDFILE")
		kill "$pid" 2>/dev/null || true
		for _ in $(seq 1 50); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -9 "$pid" 2>/dev/null || true
	fi
	if [[ -f "$STATE/data" ]]; then
		local data
		data=$(cat "$STATE/data")
		case "$data" in
		"${TMPDIR:-/tmp}"/audittui-vgw-data.*) rm -rf "$data" "$data.meta" ;;
		esac
	fi
	rm -f "$PIDFILE" "$URLFILE" "$STATE/data"
}

case "${1:-}" in
install) install ;;
start) start ;;
stop) stop ;;
env)
	if ! running; then
		echo "versitygw is not running (run: $0 start)" >&2
		exit 1
	fi
	env_line
	;;
*)
	echo "usage: $0 install|start|stop|env" >&2
	exit 2
	;;
esac
