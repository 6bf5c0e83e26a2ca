#!/usr/bin/env bash
# bench/tui.sh: the TUI as users run it, on a big generated audit log, in
# tmux, side by side with lnav (with bench/lnav/k8s_audit.json, a JSON log
# format that makes lnav index the fields audittui indexes) on the same file.
#
#   1. Three runs on the same ~1 GB file, each in a 120x40 tmux window:
#        audittui FILE              the default command line (alerts on;
#                                   one plain file, so followed)
#        audittui --no-alerts FILE  without the rule engine
#        lnav FILE                  lnav with the k8s_audit format
#      For each: the first screen (the first event row drawn), "indexed"
#      (audittui's status says live or indexed; lnav has no such word),
#      "idle" (the process stopped using the CPU: reading, indexing and,
#      with alerts on, evaluating every rule are done), the peak RSS at
#      idle, then the latency of the same filter, the seed's "secrets
#      get/list" (audittui: /objectRef_resource="secrets" | verb=~"get|list";
#      lnav: :filter-in on the same fields of its rendered line), until idle
#      again, and the peak RSS and CPU time at exit.
#   2. headless index figures from the Go benchmarks (same feed and index);
#   3. live tail: append 20k events/s for 10 s to a followed file, then
#      check the status bar counts every line (zero loss).
#
# Usage: bench/tui.sh [DIR]   (DIR holds the generated files and the
# results; default /tmp/audittui-bench). BENCH_SIZE (1GB), BENCH_RATE,
# BENCH_SECONDS tune it. Needs tmux, GNU time (/usr/bin/time), bc; lnav is
# installed from apt when missing (Debian package lnav). The timings are
# wall clock on whatever else the machine runs: the load average is
# printed with them.
# bash's SECONDS times the 10 ms poll without a fork: `sh bench/tui.sh`
# (dash) runs it under bash.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
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
if ! command -v lnav >/dev/null 2>&1; then
	echo "bench/tui.sh: installing lnav (apt)"
	sudo=""
	[ "$(id -u)" -eq 0 ] || sudo=sudo
	$sudo apt-get install -y lnav >/dev/null 2>&1 || { $sudo apt-get update >/dev/null && $sudo apt-get install -y lnav >/dev/null; }
fi

cd "$ROOT"
go build -o "$DIR/audittui" ./cmd/audittui
go build -o "$DIR/auditgen" ./cmd/auditgen
go build -o "$DIR/tailwriter" ./bench/tailwriter
BIG="$DIR/big-$SIZE.log"
[ -s "$BIG" ] || "$DIR/auditgen" -size "$SIZE" -o "$BIG" -q
LINES=$(wc -l < "$BIG")
echo "file: $BIG ($(du -hL "$BIG" | cut -f1), $LINES lines); load: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) CPUs"

# lnav reads its formats from $HOME/.lnav: a private HOME, so the user's
# own lnav setup is neither used nor touched.
LNAV_HOME="$DIR/lnav-home"
rm -rf "$LNAV_HOME" && mkdir -p "$LNAV_HOME"
HOME="$LNAV_HOME" lnav -i "$ROOT/bench/lnav/k8s_audit.json" >/dev/null

now() { date +%s.%N; }
since() { echo "$(now) - $1" | bc; }
screen() { tmux -S "$SOCK" capture-pane -p -t b; }
# cpu PID: the process's user+system CPU time in clock ticks.
cpu() { awk '{sub(/^.*\) /, ""); print $12 + $13}' "/proc/$1/stat" 2>/dev/null || echo 0; }
hwm() { awk '/VmHWM/ {print int($2 / 1024)}' "/proc/$1/status"; }

# wait_idle PID START: waits until PID has used (almost) no CPU for a
# second; prints the seconds from START to the last busy moment.
wait_idle() {
	last=$(cpu "$1"); busy=$(now); quiet=0
	while [ $quiet -lt 10 ]; do
		sleep 0.1
		c=$(cpu "$1")
		if [ $((c - last)) -ge 2 ]; then busy=$(now); quiet=0; else quiet=$((quiet + 1)); fi
		last=$c
	done
	echo "$busy - $2" | bc
}

# run NAME FIRST_ROW_REGEX INDEXED_REGEX FILTER_KEYS FILTER_DONE_REGEX QUIT CMD...
# Starts CMD under GNU time in tmux and prints one result line.
run() {
	name=$1 first_re=$2 indexed_re=$3 filter=$4 filtered_re=$5 quit=$6
	shift 6
	out="$DIR/time-$(echo "$name" | tr -c 'a-z0-9\n' '-').txt"
	cat "$BIG" > /dev/null # warm the page cache: measure the program, not the disk
	rm -f "$DIR/pid" "$out"
	tmux -S "$SOCK" new-session -d -s b -x 120 -y 40 \
		"echo \$\$ > $DIR/pid; exec /usr/bin/time -v $* 2>$out"
	start=$(now)
	while [ ! -s "$DIR/pid" ]; do sleep 0.01; done
	tpid=$(cat "$DIR/pid")
	pid=""
	while [ -z "$pid" ]; do pid=$(pgrep -P "$tpid" | head -1 || true); done
	first="" indexed="  n/a "
	deadline=$((SECONDS + 600)) # bash's clock: no fork in the 10 ms loop
	while :; do
		kill -0 "$pid" 2>/dev/null || { echo "$name: exited early: $(cat "$out")" >&2; exit 1; }
		if [ "$SECONDS" -gt "$deadline" ]; then
			echo "$name: no first screen (/$first_re/) or status (/$indexed_re/) after 600 s; the screen:" >&2
			screen >&2
			exit 1
		fi
		s=$(screen)
		if [ -z "$first" ] && echo "$s" | grep -Eq "$first_re"; then first=$(since "$start"); fi
		if [ -n "$first" ] && { [ -z "$indexed_re" ] || echo "$s" | grep -Eq "$indexed_re"; }; then
			[ -n "$indexed_re" ] && indexed=$(printf '%5.2fs' "$(since "$start")")
			break
		fi
		sleep 0.01
	done
	idle=$(wait_idle "$pid" "$start")
	rss_open=$(hwm "$pid")
	# The filter, typed as a user would, then until idle again.
	tmux -S "$SOCK" send-keys -t b -l "$filter"
	sleep 0.3 # let the keys arrive before the clock starts
	t0=$(now)
	tmux -S "$SOCK" send-keys -t b Enter
	filt=$(wait_idle "$pid" "$t0")
	s=$(screen)
	if ! echo "$s" | grep -Eq "$filtered_re"; then
		echo "$name: the filter did not apply; screen:" >&2
		echo "$s" >&2
		exit 1
	fi
	matching=$(echo "$s" | grep -o 'matching [0-9,]*' | tr -d 'matching ,' || true)
	tmux -S "$SOCK" send-keys -t b $quit
	while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
	sleep 0.2
	rss=$(awk '/Maximum resident/ {print int($NF / 1024)}' "$out")
	cpus=$(awk -F': ' '/User time/{u=$2} /System time/{s=$2} END{print u+s}' "$out")
	cleanup
	printf '%-24s first screen %6.2fs  indexed %6s  idle %6.2fs  RSS at idle %5d MiB  filter %6.2fs%s  peak RSS %5d MiB  cpu %6.2fs\n' \
		"$name" "$first" "$indexed" "$idle" "$rss_open" "$filt" "${matching:+ ($matching events)}" "$rss" "$cpus"
}

# 1. The three runs. The first-row patterns: audittui's rows start with the
#    time at 120 columns (11-20 02:00:00); lnav's with the full timestamp
#    inside its frame.
echo "== open, index, filter: the same file, 120x40, load $(cut -d' ' -f1-3 /proc/loadavg)"
SECRETS='objectRef_resource="secrets" | verb=~"get|list"'
# Read to its end, followed: "live · following" while the file's newest
# event is recent, "following · newest event 17d ago" for the generated
# file (its events are older); --follow=false says "indexed in".
DONE_RE='live ·|indexed in|following · newest event'
run "audittui (default)" '^[0-9][0-9]-[0-9][0-9] [0-9][0-9]:' "$DONE_RE" \
	"/$SECRETS" 'filter objectRef_resource="secrets"' q "$DIR/audittui" "$BIG"
run "audittui --no-alerts" '^[0-9][0-9]-[0-9][0-9] [0-9][0-9]:' "$DONE_RE" \
	"/$SECRETS" 'filter objectRef_resource="secrets"' q "$DIR/audittui" --no-alerts "$BIG"
run "lnav (k8s_audit format)" '│20[0-9][0-9]-[0-9][0-9]-[0-9][0-9]T' '' \
	':filter-in (get|list) +secrets ' ' (get|list) +secrets ' q env HOME="$LNAV_HOME" lnav "$BIG"
# The two filters select the same events: checked on the bundled sample
# (lnav -n prints the filtered lines) and counted on the big file.
SAMPLE="$ROOT/testdata/sample/audit.log"
q="{job=\"audit\"} | json | $SECRETS"
a=$("$DIR/audittui" query -o raw --limit 0 "$q" "$SAMPLE" | wc -l)
l=$(HOME="$LNAV_HOME" lnav -n -c ':filter-in (get|list) +secrets ' "$SAMPLE" | wc -l)
want=$("$DIR/audittui" query -o raw --limit 0 "$q" "$BIG" | wc -l)
echo "same filter: on the sample audittui selects $a events, lnav $l; on $BIG audittui query counts $want"
[ "$a" -eq "$l" ] || { echo "the lnav filter does not select what audittui's does" >&2; exit 1; }

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
