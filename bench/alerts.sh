#!/usr/bin/env bash
# bench/alerts.sh: `audittui alerts` replay on a generated ~1 GB audit log.
#
#   1. wall time, CPU and peak RSS of `audittui alerts -o jsonl FILE`
#      (GNU time), RUNS times; with BEFORE=/path/to/old/audittui the old
#      binary runs alternately with the new one, on the same warm file,
#      and the outputs are compared;
#   2. the same events as three node files written out of order by up to
#      2 s (concurrent apiserver writers), given together (merged) and
#      concatenated into one file (`cat node1 node2 node3`): the alerts
#      must be the same, and memory stays bounded;
#   3. with TUI=1, the TUI's peak RSS on FILE with alerts on and with
#      --no-alerts (in tmux, until the status bar says loaded).
#
# Usage: bench/alerts.sh [DIR]  (DIR caches the files; default /tmp/audittui-alerts-bench)
# Env: SIZE (1GB), RUNS (3), BEFORE, TUI. Needs GNU time; TUI=1 needs tmux.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DIR=${1:-/tmp/audittui-alerts-bench}
SIZE=${SIZE:-1GB}
RUNS=${RUNS:-3}
mkdir -p "$DIR"
cd "$ROOT"
go build -o "$DIR/audittui" ./cmd/audittui
go build -o "$DIR/auditgen" ./cmd/auditgen
FILE="$DIR/alerts-$SIZE.log"
[[ -s $FILE ]] || "$DIR/auditgen" -o "$FILE" -size "$SIZE" -seed 1 -stories -q
NODES="$DIR/nodes-$SIZE.log"
[[ -s ${NODES%.log}-cp1.log ]] || "$DIR/auditgen" -o "$NODES" -size "$SIZE" -seed 1 -stories -nodes 3 -disorder 2s -q
CAT="$DIR/nodes-$SIZE-cat.log"
[[ -s $CAT ]] || cat "${NODES%.log}"-cp*.log >"$CAT"

echo "file: $FILE ($(du -hL "$FILE" | cut -f1), $(wc -l <"$FILE") lines), $(nproc) cores"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"

# run NAME BINARY ARGS...: one measured run; prints "NAME wall cpu rssMB alerts".
run() {
	local name=$1 bin=$2
	shift 2
	cat "${@: -1}" >/dev/null 2>&1 || true # warm the page cache
	/usr/bin/time -f '%e %U %S %M' -o "$DIR/time.txt" "$bin" alerts -o jsonl "$@" >"$DIR/$name.jsonl" 2>"$DIR/$name.err" || true
	read -r wall user sys rss <"$DIR/time.txt"
	printf '%-22s %8.2f s wall %8.2f s cpu %8.0f MB peak RSS %6d alerts\n' "$name" "$wall" "$(echo "$user + $sys" | bc)" "$(echo "$rss / 1024" | bc)" "$(wc -l <"$DIR/$name.jsonl")"
}

# same A B: the two runs printed the same alerts (ignoring fields only one
# version prints).
same() {
	python3 - "$DIR/$1.jsonl" "$DIR/$2.jsonl" <<'EOF'
import json, sys
def load(p):
    out = []
    for line in open(p):
        d = json.loads(line)
        d.pop("auditIDsOmitted", None)
        out.append(d)
    return out
a, b = load(sys.argv[1]), load(sys.argv[2])
print("same alerts" if a == b else "DIFFERENT alerts (%d vs %d)" % (len(a), len(b)))
EOF
}

echo
echo "1. replay of $FILE"
for i in $(seq "$RUNS"); do
	if [[ -n ${BEFORE:-} ]]; then run "before-$i" "$BEFORE" "$FILE"; fi
	run "after-$i" "$DIR/audittui" "$FILE"
done
if [[ -n ${BEFORE:-} ]]; then echo "before vs after: $(same before-1 after-1)"; fi

echo
echo "2. the same kind of traffic from three apiservers, 2 s out of order"
run merged "$DIR/audittui" "${NODES%.log}"-cp1.log "${NODES%.log}"-cp2.log "${NODES%.log}"-cp3.log
run concatenated "$DIR/audittui" "$CAT"
echo "merged vs concatenated: $(same merged concatenated)"
if [[ -n ${BEFORE:-} ]]; then
	run before-concatenated "$BEFORE" "$CAT"
	echo "before, concatenated vs merged: $(same merged before-concatenated)"
fi
grep -h "audittui:" "$DIR"/concatenated.err | head -3 || true

if [[ -n ${TUI:-} ]]; then
	echo
	echo "3. TUI peak RSS until loaded (alerts on, then --no-alerts)"
	SOCK="$DIR/tmux.sock"
	trap 'tmux -S "$SOCK" kill-server 2>/dev/null || true' EXIT
	for mode in alerts no-alerts; do
		flag=""
		[[ $mode == no-alerts ]] && flag=--no-alerts
		tmux -S "$SOCK" kill-server 2>/dev/null || true
		tmux -S "$SOCK" new-session -d -s b -x 120 -y 40 \
			"/usr/bin/time -f '%e %M' -o $DIR/tui-$mode.txt $DIR/audittui $flag --follow=false $FILE; sleep 600"
		start=$(date +%s.%N)
		while ! tmux -S "$SOCK" capture-pane -p -t b | grep -q "loaded" ||
			tmux -S "$SOCK" capture-pane -p -t b | grep -q "loading"; do sleep 0.05; done
		loaded=$(echo "$(date +%s.%N) - $start" | bc)
		sleep "${TUI_WAIT:-15}" # the alert engine reads the file on its own; let it finish
		tmux -S "$SOCK" send-keys -t b q
		while [[ ! -s $DIR/tui-$mode.txt ]]; do sleep 0.1; done
		read -r _ rss <"$DIR/tui-$mode.txt"
		printf '%-10s loaded in %6.2f s, peak RSS %6.0f MB\n' "$mode" "$loaded" "$(echo "$rss / 1024" | bc)"
		rm -f "$DIR/tui-$mode.txt"
	done
fi
echo
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
