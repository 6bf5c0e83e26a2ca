#!/usr/bin/env bash
# Installs the system tools the tests use (tmux for the end-to-end TUI test,
# jq for the query-equivalence test, the OpenSSH client for the serve test,
# chromium to render the HTML report)
# from Debian's packages when missing.
set -euo pipefail
need=()
command -v tmux >/dev/null || need+=(tmux)
command -v jq >/dev/null || need+=(jq)
{ command -v ssh && command -v ssh-keygen; } >/dev/null || need+=(openssh-client) # e2e/serve_test.go
command -v chromium >/dev/null || need+=(chromium) # audittui report -o html, rendered headless
command -v git >/dev/null || need+=(git)   # internal/casefile: git's union merge of a case
command -v gcc >/dev/null || need+=(gcc)
command -v bc >/dev/null || need+=(bc)        # bench/ scripts
[[ -x /usr/bin/time ]] || need+=(time)        # bench/ scripts (peak RSS)
if ((${#need[@]})); then
	echo "installing ${need[*]}" >&2
	SUDO=""
	[[ $(id -u) -ne 0 ]] && SUDO=sudo
	export DEBIAN_FRONTEND=noninteractive
	$SUDO apt-get update -qq >/dev/null
	$SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi
