#!/bin/sh
# bench/tui.sh: measure the TUI on a big generated audit log, in tmux.
#
#   1. open + full index of a ~1 GB file (target <= 1.5 s), time to first
#      screen (<= 200 ms), peak RSS (<= 150 MB);
#   2. headless index figures from the Go benchmark (same feed and index);
#   3. live tail: append 20k events/s for 10 s to a followed file, then
#      check the status bar counts every line (zero loss).
#
# Usage: bench/tui.sh [DIR]   (DIR holds the generated files; default
# /tmp/audittui-bench). Needs tmux, /usr/bin/time (GNU time) and bc.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DIR=${1:-/tmp/audittui-bench}
SIZE=${BENCH_SIZE:-1GB}
RATE=${BENCH_RATE:-20000}
SECS=${BENCH_SECONDS:-10}
mkdir -p "$DIR"
SOCK="$DIR/tmux.sock"
cleanup() { tmux -S "$SOCK" kill-server 2>/dev/null || true; }
trap cleanup EXIT
cleanup

for t in tmux /usr/bin/time bc; do
	command -v $t >/dev/null 2>&1 || { echo "bench/tui.sh: $t is required" >&2; exit 2; }
done

cd "$ROOT"
go build -o "$DIR/audittui" ./cmd/audittui
go build -o "$DIR/auditgen" ./cmd/auditgen
go build -o "$DIR/tailwriter" ./bench/tailwriter
BIG="$DIR/big-$SIZE.log"
[ -s "$BIG" ] || "$DIR/auditgen" -size "$SIZE" -o "$BIG" -q
LINES=$(wc -l < "$BIG")
echo "file: $BIG ($(du -hL "$BIG" | cut -f1), $LINES lines); load: $(cut -d' ' -f1-3 /proc/loadavg)"

now() { date +%s.%N; }
screen() { tmux -S "$SOCK" capture-pane -p -t b; }

# 1. Open + full index in the real TUI (alerts off: the rule engine runs on
#    its own read of the file and is measured by its own benchmarks).
cat "$BIG" > /dev/null # warm the page cache: measure audittui, not the disk
tmux -S "$SOCK" new-session -d -s b -x 120 -y 40 \
	"/usr/bin/time -v $DIR/audittui --no-alerts --follow=false $BIG 2>$DIR/time.txt; sleep 600"
start=$(now); first=""
while :; do
	s=$(screen); t=$(now)
	if [ -z "$first" ] && echo "$s" | grep -q '^[0-9][0-9]-[0-9][0-9] '; then first=$(echo "$t - $start" | bc); fi
	if echo "$s" | grep -q "loaded" && ! echo "$s" | grep -q "loading"; then full=$(echo "$t - $start" | bc); break; fi
	sleep 0.01
done
loaded=$(screen | grep -o 'loaded [0-9,]*' | tr -d 'loaded ,')
tmux -S "$SOCK" send-keys -t b q
sleep 1
rss=$(grep "Maximum resident" "$DIR/time.txt" | awk '{print $NF}')
cpu=$(awk -F': ' '/User time/{u=$2} /System time/{s=$2} END{print u+s}' "$DIR/time.txt")
tmux -S "$SOCK" kill-server 2>/dev/null || true
echo "tui: first screen ${first}s, full index ${full}s (cpu ${cpu}s), events $loaded, peak RSS $((rss / 1024)) MiB"

# 2. Headless figures (no terminal in the way).
AUDITTUI_BIG_FILE="$BIG" go test ./internal/ui/ -run XXX -bench 'OpenBigFile' -benchtime 1x | grep Benchmark
go test ./internal/ui/ -run XXX -bench 'Refilter1M|IndexBuild' -benchtime 3x | grep Benchmark

# 3. Live tail at $RATE events/s with zero loss.
LIVE="$DIR/live.log"
: > "$LIVE"
head -n 200000 "$BIG" > "$DIR/feed.log"
tmux -S "$SOCK" new-session -d -s b -x 120 -y 40 "$DIR/audittui --follow $LIVE; sleep 600"
sleep 1
wrote=$("$DIR/tailwriter" -from "$DIR/feed.log" -to "$LIVE" -rate "$RATE" -seconds "$SECS")
deadline=$(($(date +%s) + 30))
got=0
while [ "$(date +%s)" -lt "$deadline" ]; do
	got=$(screen | grep -o 'loaded [0-9,]*' | tr -d 'loaded ,')
	[ "${got:-0}" -ge "$wrote" ] && break
	sleep 0.2
done
rej=$(screen | grep -o 'rejected [0-9,]*' | tr -d 'rejected ,')
tmux -S "$SOCK" send-keys -t b q
echo "live tail: wrote $wrote lines at $RATE/s, TUI loaded $got, rejected ${rej:-?}"
if [ "${got:-0}" -ne "$wrote" ]; then
	echo "LOSS: $((wrote - ${got:-0})) events missing" >&2
	exit 1
fi
echo "live tail: zero loss"
