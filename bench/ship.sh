#!/usr/bin/env bash
# bench/ship.sh: audittui ship benchmarks.
#
#   1. in-process throughput, file -> Loki push (protobuf+snappy) on loopback
#   2. the real binary at full rate: throughput, CPU cores used, peak RSS,
#      with Mem_Buf_Limit 16M and 50M
#   3. the real binary at 1000 events/s: CPU as a share of one core
#
# AUDITTUI_BENCH_MB sets the file size (default 128 MiB). The binary is
# built from ./cmd/audittui (the benchmark falls back to the test binary's
# ship entry point, with a note, when the tree does not build).
# Throughput on a shared machine depends on what else runs: compare the
# "cores" figure (CPU used per second of wall time) and MiB per CPU-second.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${AUDITTUI_BENCH_MB:=128}"
export AUDITTUI_BENCH_MB
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)  cores: $(nproc)"
go test -run '^$' -bench 'FileToLoki|BinaryFullRate|BinaryCPUAt1k' -benchtime 1x -timeout 20m ./internal/ship/ | grep -E 'Benchmark|ok|FAIL'
