#!/usr/bin/env bash
# audittui history vs audittui query with the same selector, on a generated
# ~1 GB audit log (every event scanned, the selector's literal prefilter in
# both): the RoleBinding of the night-delete story (one request) and the
# most written object of the file (a node's Lease, ~21k requests). Each pair
# runs interleaved RUNS times; the medians of wall and CPU time are compared.
# Usage: bench/history.sh [SIZE] (default 1GB; the file is cached in bench/out/)
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE=${1:-1GB}
RUNS=${RUNS:-5}
OUT=bench/out
mkdir -p "$OUT"
FILE="$OUT/audit-$SIZE.log"
if [[ ! -s "$FILE" ]]; then
	echo "generating $FILE ..." >&2
	go run ./cmd/auditgen -o "$FILE" -size "$SIZE" -seed 1 -stories >&2
fi
go build -o "$OUT/audittui" ./cmd/audittui
B="$OUT/audittui"
cat "$FILE" >/dev/null # warm the page cache
echo "load before: $(cat /proc/loadavg)"

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

bench() { # namespace object
	local ns=$1 obj=$2 q
	"$B" history -n "$ns" "$obj" "$FILE" >"$OUT/history.table"
	q=$(head -1 "$OUT/history.table" | sed 's/.*events: //')
	local rows
	rows=$(($(wc -l <"$OUT/history.table") - 2))
	: >"$OUT/h.times"
	: >"$OUT/q.times"
	for _ in $(seq "$RUNS"); do
		/usr/bin/time -f '%e %U %S %M' -a -o "$OUT/h.times" "$B" history -n "$ns" "$obj" "$FILE" >/dev/null
		/usr/bin/time -f '%e %U %S %M' -a -o "$OUT/q.times" "$B" query "$q" "$FILE" >/dev/null
	done
	local hw hc hm qw qc qm
	hw=$(awk '{print $1}' "$OUT/h.times" | median)
	hc=$(awk '{print $2+$3}' "$OUT/h.times" | median)
	hm=$(awk '{print $4/1024}' "$OUT/h.times" | median)
	qw=$(awk '{print $1}' "$OUT/q.times" | median)
	qc=$(awk '{print $2+$3}' "$OUT/q.times" | median)
	qm=$(awk '{print $4/1024}' "$OUT/q.times" | median)
	printf '\n%s -n %s (%d requests)\nquery: %s\n' "$obj" "$ns" "$rows" "$q"
	printf '  %-8s wall %6.2f s  cpu %6.2f s  rss %5.0f MB\n' history "$hw" "$hc" "$hm" query "$qw" "$qc" "$qm"
	printf '  history/query: wall %.2fx, cpu %.2fx\n' "$(echo "$hw / $qw" | bc -l)" "$(echo "$hc / $qc" | bc -l)"
}

bench payments rolebinding/payments-deployers
bench kube-node-lease "$(
	"$B" query 'topk(1, sum by (objectRef_name) (count_over_time({job="audit"} | json | objectRef_resource="leases" | verb="update" [1d])))' "$FILE" |
		awk 'NR==2 {print "lease/" $1}'
)"
echo "load after: $(cat /proc/loadavg)"
