#!/usr/bin/env bash
# Whole-program comparison on a generated ~1 GB audit log:
#   audittui query (the seed's "secrets get/list" filter) vs jq vs grep -c.
# Usage: bench/query.sh [SIZE]   (SIZE default 1GB; the file is cached in bench/out/)
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE=${1:-1GB}
OUT=bench/out
mkdir -p "$OUT"
FILE="$OUT/audit-$SIZE.log"
if [[ ! -s "$FILE" ]]; then
	echo "generating $FILE ..." >&2
	go run ./cmd/auditgen -o "$FILE" -size "$SIZE" -seed 1 -stories >&2
fi
go build -o "$OUT/audittui" ./cmd/audittui
Q='{job="audit"} | json | objectRef_resource="secrets" | verb=~"get|list"'
JQ='(fromjson?) as $e | select($e.objectRef.resource == "secrets" and ($e.verb == "get" or $e.verb == "list"))'
bytes=$(stat -c %s "$FILE")
cat "$FILE" >/dev/null # warm the page cache for every contender alike

measure() { # name, command...: prints "name seconds maxrss_kb matches"
	local name=$1; shift
	local t0 t1 rss
	t0=$(date +%s.%N)
	/usr/bin/time -f '%M' -o "$OUT/rss.txt" "$@" >"$OUT/$name.out" 2>"$OUT/$name.err" || true
	t1=$(date +%s.%N)
	rss=$(tail -1 "$OUT/rss.txt")
	local n
	n=$(wc -l <"$OUT/$name.out")
	[[ $name == grep ]] && n=$(cat "$OUT/$name.out")
	echo "$name $(echo "$t1 - $t0" | bc) $rss $n"
}

results=()
results+=("$(measure audittui "$OUT/audittui" query -o raw "$Q" "$FILE")")
results+=("$(measure grep grep -c '"secrets"' "$FILE")")
if [[ ${SKIP_JQ:-} == "" ]]; then
	results+=("$(measure jq jq -R -r "$JQ" "$FILE")")
fi

printf '\nfile: %s (%d MB), %s cores\nquery: %s\n\n' "$FILE" $((bytes / 1000000)) "$(nproc)" "$Q"
printf '%-10s %10s %10s %10s %12s\n' tool seconds MB/s 'RSS MB' matches
for r in "${results[@]}"; do
	read -r name secs rss n <<<"$r"
	printf '%-10s %10.2f %10.0f %10.0f %12s\n' "$name" "$secs" "$(echo "$bytes / 1000000 / $secs" | bc -l)" "$(echo "$rss / 1024" | bc -l)" "$n"
done
if [[ ${SKIP_JQ:-} == "" ]]; then
	a=$(echo "${results[0]}" | awk '{print $2}')
	g=$(echo "${results[1]}" | awk '{print $2}')
	j=$(echo "${results[2]}" | awk '{print $2}')
	printf '\naudittui vs jq: %.1fx faster; audittui / grep -c: %.2fx\n' "$(echo "$j / $a" | bc -l)" "$(echo "$a / $g" | bc -l)"
	cmp -s "$OUT/audittui.out" "$OUT/jq.out" && echo "audittui and jq printed the same lines" || echo "WARNING: audittui and jq outputs differ"
fi
