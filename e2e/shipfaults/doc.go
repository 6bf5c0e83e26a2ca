// Package shipfaults is a black-box fault suite for `audittui ship`: it
// builds the real binary (go build ./cmd/audittui, or $AUDITTUI_BIN), runs
// `audittui ship --config ship.yaml` as a child process against the real
// servers `make test` starts (versitygw for S3, VictoriaLogs for Loki's
// push API) and an in-process Loki push stand-in that fails on purpose,
// then counts per sink what arrived.
//
// The scenarios (scenarios_test.go) are the ones issue 12 asks for:
// rotation by rename and by copytruncate under load, retention while ship is
// down, catch-up with failing pushes and after an outage, kill -9 loops
// with a sink that delays its acknowledgements, huge lines against
// Mem_Buf_Limit, Loki's line-size limit, the health endpoints and
// metrics during an outage, and Loki.Store_dir (lokistore_test.go: kill -9
// and rotation with retention while Loki is down). A Writer plays the apiserver: it appends
// uniquely numbered audit.k8s.io/v1 events (internal/gen traffic with the
// run's auditIDs) at a set rate and rotates the file the way lumberjack or
// logrotate do. After each run the suite reads back every sink (LogsQL
// queries to VictoriaLogs, LIST+GET of the S3 objects, the stand-in's
// records) and reports per sink: events written, unique delivered, missing,
// duplicates (with the budget the targets allow), out-of-order deliveries
// and ship's peak RSS (VmHWM) and live Go heap. Reports go to t.Log and to
// $AUDITTUI_ARTIFACTS/shipfaults/summary.{txt,jsonl} (or a temporary
// directory named in the test log).
//
// The scenarios mostly wait (seconds of writing, rotating, outages), so
// they run in parallel (t.Parallel; go test's -parallel, GOMAXPROCS by
// default, bounds how many at a time): each has its own directory,
// auditID tag, cluster label and S3 prefix, metrics port and Loki
// stand-in, and counts only its own events. Two run alone, before them,
// because what they check depends on ship getting the CPU it needs:
// TestHugeLines (its bound is ship's live heap, which creeps up when the
// collector is starved) and TestLokiStoreRotationDuringOutage (ship must
// read each backup before retention deletes it).
//
// The suite depends only on the binary, its YAML config, its /metrics,
// /healthz and /readyz endpoints, its documented files in State_dir
// (dead-letter and overlong-lines files) and the sinks; never on ship's Go
// packages.
//
// Run it with the servers up:
//
//	eval "$(scripts/versitygw.sh start)"; eval "$(scripts/victorialogs.sh start)"
//	go test ./e2e/shipfaults -v -count=1
//
// It skips without the servers (fails in CI=true) and under -short.
// AUDITTUI_FAULTS_LONG=1 runs longer, heavier versions (minutes each).
package shipfaults
