#!/usr/bin/env bash
# S3 source benchmark: ~1 GB of audit events in ~200 objects (Fluent Bit
# layout) on a local versitygw, fetched, decompressed and decoded by the
# audittui data path, against the same events read from local disk.
# Prints seconds, MB/s (decompressed), events, matches and peak RSS of each.
#
# Usage: bench/s3.sh [SIZE] [OBJECTS]   (default 1GB, 200; GZIP=1 gzips the objects)
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE=${1:-1GB}
OBJECTS=${2:-200}
OUT=bench/out
mkdir -p "$OUT"
FILE="$OUT/audit-$SIZE.log"
if [[ ! -s "$FILE" ]]; then
	echo "generating $FILE ..." >&2
	go run ./cmd/auditgen -o "$FILE" -size "$SIZE" -seed 1 -stories >&2
fi
eval "$(scripts/versitygw.sh start)"
go build -o "$OUT/s3read" ./bench/s3read
BUCKET="audittui-bench-$(date +%s)"
gz=()
[[ ${GZIP:-} == 1 ]] && gz=(-gzip)
t0=$(date +%s.%N)
"$OUT/s3read" load -in "$FILE" -objects "$OBJECTS" -bucket "$BUCKET" "${gz[@]}"
echo "upload: $(echo "$(date +%s.%N) - $t0" | bc) s" >&2
Q='{job="audit"} | json | objectRef_resource="secrets" | verb=~"get|list"'
cat "$FILE" >/dev/null # warm the page cache for the local read
printf '\n%-6s %8s %8s %10s %8s %8s %8s %s\n' source seconds MB/s events matches rejects 'RSS MB' ordered
for src in "s3://$BUCKET/audit-logs/bench/" "$FILE"; do
	for q in "" "$Q"; do
		printf '%-6s %8s %8s %10s %8s %8s %8s %s\n' $("$OUT/s3read" read -query "$q" "$src")
	done
done
echo "(rows: source without a query, then with: $Q)"
