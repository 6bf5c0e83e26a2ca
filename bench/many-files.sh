#!/usr/bin/env bash
# Many small files, as a synced Fluent Bit archive is on disk: one object
# per node per minute (a third gzip, a third zstd when zstd is installed).
# Measures `audittui query` (a count over the day) and `alerts` over the
# objects given as arguments, side by side with the same events in one
# file: seconds, peak RSS, the most file descriptors open at once, and the
# answer under a 1,024-descriptor limit (ulimit -n 1024).
# Usage: bench/many-files.sh [HOURS] [NODES]   (defaults 8 and 3: 1,440 files;
#        24 and 3 make 4,320)   BEFORE=old-binary runs it alongside.
set -uo pipefail
cd "$(dirname "$0")/.."
HOURS=${1:-8}
NODES=${2:-3}
OUT=bench/out/many-$HOURS-$NODES
mkdir -p "$OUT"
go build -o bench/out/audittui ./cmd/audittui
if [[ ! -s "$OUT/all.log" ]]; then
	echo "generating $OUT ..." >&2
	go run ./cmd/auditgen -q -o "$OUT/node.log" -nodes "$NODES" -rate 10/s -duration "${HOURS}h" -stories -disorder 5ms -seed 11
	mkdir -p "$OUT/objs"
	for f in "$OUT"/node-*.log; do
		n=$(basename "$f" .log)
		# stageTimestamp's minute names the object.
		awk -v d="$OUT/objs" -v n="$n" '{
			i = index($0, "\"stageTimestamp\":\""); m = substr($0, i + 18, 16); gsub(/[-:T]/, "", m)
			out = d "/" n "-" m ".json"; if (out != prev) { if (prev != "") close(prev); prev = out }
			print >> out }' "$f"
	done
	i=0
	for f in "$OUT"/objs/*.json; do
		case $((i % 3)) in
		1) gzip "$f" ;;
		2) if command -v zstd >/dev/null; then zstd -q --rm "$f"; fi ;;
		esac
		i=$((i + 1))
	done
	cat "$OUT"/node-*.log >"$OUT/all.log"
fi
mapfile -t FILES < <(ls "$OUT"/objs/*)
Q='sum(count_over_time({job="audit"} | json [1d]))'
echo "load: $(cat /proc/loadavg); files: ${#FILES[@]}; cores: $(nproc)"

# measure NAME CMD...: seconds, peak RSS (MB), most fds open at once, output's last line.
measure() {
	local name=$1; shift
	local t0 t1 pid fds=0 n
	t0=$(date +%s.%N)
	/usr/bin/time -f '%M' -o "$OUT/rss.txt" "$@" >"$OUT/out.txt" 2>"$OUT/err.txt" &
	pid=$!
	while kill -0 "$pid" 2>/dev/null; do
		for c in $(pgrep -P "$pid" 2>/dev/null); do
			n=$(ls /proc/"$c"/fd 2>/dev/null | wc -l)
			((n > fds)) && fds=$n
		done
		sleep 0.05
	done
	wait "$pid" || true
	t1=$(date +%s.%N)
	printf '%-40s %7.2f s %7.0f MB %6d fds  %7d lines, last: %s\n' "$name" "$(echo "$t1 - $t0" | bc)" \
		"$(echo "$(tail -1 "$OUT/rss.txt") / 1024" | bc -l)" "$fds" "$(wc -l <"$OUT/out.txt")" "$(tail -1 "$OUT/out.txt" | cut -c1-30)"
}

for bin in ${BEFORE:+"$BEFORE"} bench/out/audittui; do
	echo "== $bin"
	measure "query, one file" "$bin" query "$Q" "$OUT/all.log"
	measure "query, ${#FILES[@]} files" "$bin" query "$Q" "${FILES[@]}"
	measure "query, ${#FILES[@]} files, ulimit -n 1024" bash -c 'ulimit -n 1024; exec "$@"' _ "$bin" query -q "$Q" "${FILES[@]}"
	measure "alerts -o jsonl, one file" "$bin" alerts -q -o jsonl "$OUT/all.log"
	measure "alerts -o jsonl, ${#FILES[@]} files" "$bin" alerts -q -o jsonl "${FILES[@]}"
done
