package shipfaults

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/audittui/audittui/internal/testutil"
)

// long is AUDITTUI_FAULTS_LONG=1: longer, heavier runs.
var long = os.Getenv("AUDITTUI_FAULTS_LONG") == "1"

// pick returns the CI value or the long-run value.
func pick[T any](ci, longRun T) T {
	if long {
		return longRun
	}
	return ci
}

var (
	sumDir   string
	sumOnce  sync.Once
	sumNoted atomic.Bool // set by scenarios running in parallel
)

func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	testutil.RemoveAudittui()
	if sumNoted.Load() {
		fmt.Printf("shipfaults: per-scenario reports in %s/summary.txt and summary.jsonl\n", sumDir)
	}
	os.Exit(code)
}

// binary returns the audittui binary under test: $AUDITTUI_BIN, or one
// built from this tree once per test process (testutil.Audittui).
func binary(t *testing.T) string {
	t.Helper()
	bin, err := testutil.Audittui()
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

// artifacts is where reports (and, with AUDITTUI_ARTIFACTS, ship's logs and
// configs) are kept.
func artifacts(t *testing.T) string {
	sumOnce.Do(func() {
		if a := os.Getenv("AUDITTUI_ARTIFACTS"); a != "" {
			sumDir = filepath.Join(a, "shipfaults")
		} else {
			sumDir = filepath.Join(os.TempDir(), "audittui-shipfaults")
		}
		os.RemoveAll(filepath.Join(sumDir, "summary.txt"))
		os.RemoveAll(filepath.Join(sumDir, "summary.jsonl"))
	})
	if err := os.MkdirAll(sumDir, 0o750); err != nil {
		t.Fatal(err)
	}
	sumNoted.Store(true)
	return sumDir
}

type lokiKind int

const (
	lokiVictoriaLogs lokiKind = iota
	lokiStandIn
)

// env is one scenario: a log directory, a writer, ship, and the sinks.
type env struct {
	t       *testing.T
	name    string
	dir     string
	tag     Tag
	cluster string
	cfg     Config
	cfgPath string
	w       *Writer
	ship    *Ship
	standIn *StandIn      // the Loki sink, when lokiStandIn
	vl      *VictoriaLogs // the Loki sink, when lokiVictoriaLogs
	s3      *S3Store
	started time.Time

	// excused says which undelivered events could not have been shipped.
	excused func(Event) bool
	// rejected: per sink, events refused on purpose and accounted for.
	rejected map[string]map[int]bool
	// account, when set, recomputes rejected (from ship's files) before
	// every look at the sinks.
	account func()
	// absent: metrics already reported missing.
	absent map[string]bool
	// final is ship's /metrics once everything arrived, before SIGTERM.
	final Metrics
}

const (
	sinkLoki = "loki"
	sinkS3   = "s3"
	bucket   = "audittui-faults"
	// batchBytes is Loki.Batch_size in every scenario, and about the
	// tailer's read size: the "one batch" of the duplicate budget.
	batchBytes = 256 << 10
)

func newEnv(t *testing.T, kind lokiKind, wo WriterOptions) *env {
	t.Helper()
	if testing.Short() {
		t.Skip("ship fault scenarios skipped in -short")
	}
	s3ep := testutil.Env(t, "AUDITTUI_S3_ENDPOINT", "versitygw (scripts/versitygw.sh start)")
	var vlURL string
	if kind == lokiVictoriaLogs {
		vlURL = testutil.Env(t, "AUDITTUI_VLOGS_URL", "VictoriaLogs (scripts/victorialogs.sh start)")
	}
	bin := binary(t)
	name := strings.NewReplacer("/", "-", " ", "-").Replace(t.Name())
	dir := t.TempDir()
	logDir := dir
	if a := os.Getenv("AUDITTUI_ARTIFACTS"); a != "" {
		logDir = filepath.Join(a, "shipfaults", name)
		os.RemoveAll(logDir)
		if err := os.MkdirAll(logDir, 0o750); err != nil {
			t.Fatal(err)
		}
	}
	tag := NewTag()
	e := &env{t: t, name: name, dir: dir, tag: tag, cluster: strings.ToLower("faults-" + strings.TrimPrefix(name, "Test") + "-" + string(tag)),
		rejected: map[string]map[int]bool{}, started: time.Now()}
	if err := os.MkdirAll(filepath.Join(dir, "log"), 0o750); err != nil {
		t.Fatal(err)
	}
	addr, err := FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	e.cfg = Config{
		Path:               filepath.Join(dir, "log", "audit.log"),
		StateDir:           filepath.Join(dir, "state"),
		Cluster:            e.cluster,
		MetricsAddr:        addr,
		RefreshInterval:    "1s",
		MemBufLimit:        "16M",
		CheckpointInterval: "1s",
		GracePeriod:        "10s",
		LogLevel:           "info",
		LokiBatchSize:      "256K",
		LokiBatchWait:      "200ms",
		LokiTimeout:        "10s",
		LokiMinBackoff:     "100ms",
		LokiMaxBackoff:     "1s",
		S3Endpoint:         s3ep,
		S3Bucket:           bucket,
		S3Prefix:           "faults/" + e.cluster,
		S3Region:           "us-east-1",
		S3TotalFileSize:    "1M",
		S3UploadTimeout:    "1s",
		// Outside State_dir, so a State_dir that cannot be written (the
		// health scenario) only stops checkpoints.
		S3StoreDir:         filepath.Join(dir, "s3-buffer"),
		LokiDeadLetterFile: filepath.Join(dir, "loki-dead-letter.jsonl"),
	}
	switch kind {
	case lokiVictoriaLogs:
		e.vl = &VictoriaLogs{URL: strings.TrimRight(vlURL, "/")}
		e.cfg.LokiURL = e.vl.PushURL()
	case lokiStandIn:
		si, err := NewStandIn(tag)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(si.Close)
		e.standIn = si
		e.cfg.LokiURL = si.URL()
	}
	key, secret := os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY")
	region := os.Getenv("AWS_REGION")
	if region == "" {
		region = "us-east-1"
	}
	client := NewS3Client(s3ep, key, secret, region)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := EnsureBucket(ctx, client, bucket); err != nil {
		t.Fatal(err)
	}
	e.s3 = &S3Store{Client: client, Bucket: bucket, Prefix: e.cfg.S3Prefix + "/"}

	e.cfgPath = filepath.Join(logDir, "ship.yaml")
	e.ship = &Ship{Bin: bin, Config: e.cfgPath, LogPath: filepath.Join(logDir, "ship.log"), MetricsAddr: addr,
		Env: []string{"AWS_EC2_METADATA_DISABLED=true"}}
	t.Cleanup(func() {
		if e.ship.Running() {
			e.ship.Kill9()
		}
	})
	wo.Path, wo.Tag = e.cfg.Path, tag
	if wo.Seed == 0 {
		wo.Seed = int64(len(name))
	}
	e.w = NewWriter(wo)
	t.Cleanup(func() { e.w.Close() })
	return e
}

// writeConfig writes the config file (call after changing e.cfg).
func (e *env) writeConfig() {
	e.t.Helper()
	if err := e.cfg.Write(e.cfgPath); err != nil {
		e.t.Fatal(err)
	}
}

// startShip writes the config and starts ship.
func (e *env) startShip() {
	e.t.Helper()
	e.writeConfig()
	if err := e.ship.Start(); err != nil {
		e.t.Fatal(err)
	}
}

// stopWriter stops the writer and fails on its errors.
func (e *env) stopWriter() {
	e.t.Helper()
	if err := e.w.Stop(); err != nil {
		e.t.Fatalf("writer: %v", err)
	}
}

// seqs reads every sink: one sequence number per stored entry.
func (e *env) seqs(ctx context.Context) (map[string][]int, error) {
	out := map[string][]int{}
	switch {
	case e.standIn != nil:
		for _, r := range e.standIn.Received() {
			out[sinkLoki] = append(out[sinkLoki], r.Seq)
		}
	case e.vl != nil:
		s, err := e.vl.Seqs(ctx, e.cluster, e.tag)
		if err != nil {
			return nil, err
		}
		out[sinkLoki] = s
	}
	s, err := e.s3.Seqs(ctx, e.tag)
	if err != nil {
		return nil, err
	}
	out[sinkS3] = s
	return out, nil
}

// outstanding counts, per sink, the events neither delivered nor
// accounted for.
func (e *env) outstanding(events []Event, got map[string][]int) map[string]int {
	out := map[string]int{}
	for _, sink := range []string{sinkLoki, sinkS3} {
		have := make(map[int]bool, len(got[sink]))
		for _, s := range got[sink] {
			have[s] = true
		}
		n := 0
		for _, ev := range events {
			if !have[ev.Seq] && !e.rejected[sink][ev.Seq] && (e.excused == nil || !e.excused(ev)) {
				n++
			}
		}
		out[sink] = n
	}
	return out
}

// waitDelivered polls the sinks until every written event is in every sink
// (or accounted for), or nothing has changed for stall, or max passed. It
// returns whether everything arrived.
func (e *env) waitDelivered(max, stall time.Duration) bool {
	e.t.Helper()
	deadline := time.Now().Add(max)
	lastChange := time.Now()
	var last map[string]int
	lastSeen := -1
	for {
		if e.account != nil {
			e.account()
		}
		events := e.w.Events()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		got, err := e.seqs(ctx)
		cancel()
		if err != nil {
			e.t.Logf("reading the sinks: %v", err)
		} else {
			left := e.outstanding(events, got)
			if left[sinkLoki] == 0 && left[sinkS3] == 0 {
				return true
			}
			// Progress is anything arriving, duplicates included (ship
			// may be re-reading old files before it gets to new lines).
			seen := len(got[sinkLoki]) + len(got[sinkS3]) + len(events)
			if seen != lastSeen {
				lastSeen, lastChange = seen, time.Now()
			}
			last = left
		}
		if time.Now().After(deadline) || time.Since(lastChange) > stall {
			e.t.Logf("still outstanding after %v (nothing arrived for %v): %v", time.Since(e.started).Round(time.Second),
				time.Since(lastChange).Round(time.Second), last)
			return false
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// settledSeqs reads the sinks until two reads a second apart agree
// (VictoriaLogs makes new entries searchable within about a second).
func (e *env) settledSeqs() map[string][]int {
	e.t.Helper()
	var prev map[string][]int
	for range 20 {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		got, err := e.seqs(ctx)
		cancel()
		if err != nil {
			e.t.Fatalf("reading the sinks: %v", err)
		}
		if prev != nil && len(prev[sinkLoki]) == len(got[sinkLoki]) && len(prev[sinkS3]) == len(got[sinkS3]) {
			return got
		}
		prev = got
		time.Sleep(time.Second)
	}
	return prev
}

// finish lets ship deliver what is left, stops it with SIGTERM and
// measures. The report is logged and saved when the test ends, with every
// failure the test recorded through e.fail.
func (e *env) finish(crashes int) *Report {
	e.t.Helper()
	e.stopWriter()
	all := e.waitDelivered(pick(90*time.Second, 10*time.Minute), 10*time.Second)
	r := &Report{Scenario: e.name, Started: e.started}
	if !all {
		r.Notef("not everything arrived before the wait ended")
	}
	if m, err := e.ship.Metrics(); err == nil {
		e.final = m
		for _, k := range []string{"audittui_ship_lines_read_total", "audittui_ship_lines_too_long_total"} {
			if v, ok := m.Get(k); ok {
				r.Set(k, v)
			}
		}
		for _, sink := range []string{sinkLoki, sinkS3} {
			for _, k := range []string{"audittui_ship_sink_retries_total", "audittui_ship_sink_dead_lettered_lines_total"} {
				if v, ok := m.Get(k, "sink", sink); ok && v > 0 {
					r.Set(k+"{sink="+sink+"}", v)
				}
			}
		}
		for _, k := range proposedMetrics {
			if v, ok := m.Get(k); ok {
				r.Set(k, v)
			}
		}
	}
	if e.ship.Running() {
		code, err := e.ship.Stop(30 * time.Second)
		if err != nil {
			e.fail(r, "%v", err)
		} else if code != 0 {
			e.fail(r, "ship exited %d after SIGTERM; log:\n%s", code, e.ship.LogTail(10))
		}
	}
	got := e.settledSeqs()
	if e.account != nil {
		e.account()
	}
	events := e.w.Events()
	r.Written, r.Rotations, r.Runs, r.Crashes = len(events), e.w.Rotations(), e.ship.Starts(), crashes
	r.PeakRSS, r.PeakAnon = e.ship.PeakRSS(), e.ship.PeakAnon()
	for k, v := range e.ship.GoPeaks() {
		r.Set("peak_"+k, v)
	}
	r.Duration = time.Since(e.started)
	budget := 0
	if crashes > 0 {
		budget = crashes * batchLines(events)
	}
	for _, sink := range []string{sinkLoki, sinkS3} {
		c := Tally(sink, events, got[sink], e.excused, e.rejected[sink])
		c.DupBudget = budget
		c.OutOfOrder = -1
		if sink == sinkLoki && e.standIn != nil {
			c.OutOfOrder = OutOfOrder(e.standIn.Received())
		}
		r.Sinks = append(r.Sinks, c)
	}
	if e.standIn != nil {
		st := e.standIn.Stats()
		r.Set("standin_pushes", float64(st.Pushes))
		r.Set("standin_failed_on_purpose", float64(st.Failed))
		r.Set("standin_entries_too_long", float64(st.Rejected))
		if st.BadPushes > 0 {
			e.fail(r, "the stand-in could not decode %d pushes: %s", st.BadPushes, st.LastError)
		}
	}
	e.t.Cleanup(func() {
		e.t.Log("\n" + r.Table())
		if err := r.Save(artifacts(e.t)); err != nil {
			e.t.Errorf("save report: %v", err)
		}
	})
	return r
}

// batchLines is how many of the written lines fit in one batch (Loki's
// Batch_size, about the tailer's read size): the duplicates one crash may
// cause per sink.
func batchLines(events []Event) int {
	if len(events) == 0 {
		return 0
	}
	total := 0
	for _, ev := range events {
		if !ev.Huge {
			total += ev.Bytes
		}
	}
	avg := float64(total) / float64(len(events))
	return int(math.Ceil(batchBytes / avg))
}

// fail records a missed target in the report and fails the test.
func (e *env) fail(r *Report, format string, a ...any) {
	e.t.Helper()
	msg := fmt.Sprintf(format, a...)
	r.Failures = append(r.Failures, msg)
	e.t.Error(msg)
}

// checkTargets asserts issue 12's targets on every sink: nothing missing;
// no duplicates without crashes and at most one batch per sink per crash;
// first deliveries in the order written (where measured).
func (e *env) checkTargets(r *Report) {
	e.t.Helper()
	for _, s := range r.Sinks {
		if s.Missing > 0 {
			e.fail(r, "%s: %d of %d events missing (first %v; by file generation %v)", s.Sink, s.Missing, s.Written, s.MissingFirst, s.MissingSegs)
		}
		if s.Duplicates > s.DupBudget {
			e.fail(r, "%s: %d duplicates, budget %d (%d crashes x %d lines per batch)", s.Sink, s.Duplicates, s.DupBudget, r.Crashes, batchLines(e.w.Events()))
		}
		if s.OutOfOrder > 0 {
			e.fail(r, "%s: %d events first delivered after later ones (files not read oldest first)", s.Sink, s.OutOfOrder)
		}
		if s.Foreign > 0 {
			e.fail(r, "%s: %d entries that this run did not write", s.Sink, s.Foreign)
		}
	}
}

// proposedMetrics are the metrics issue 12 asked for, with the names this
// suite proposed and ship exports.
var proposedMetrics = []string{
	"audittui_ship_lag_bytes",
	"audittui_ship_unrecoverable_bytes_total",
	"audittui_ship_gap_files_total",
}

// metric reads one series, recording its absence as a failure.
func (e *env) metric(r *Report, m Metrics, name string, labels ...string) (float64, bool) {
	e.t.Helper()
	v, ok := m.Get(name, labels...)
	key := fmt.Sprint(name, labels)
	if !ok && !e.absent[key] {
		e.fail(r, "metric %s%v is not exported", name, labels)
		if e.absent == nil {
			e.absent = map[string]bool{}
		}
		e.absent[key] = true
	}
	return v, ok
}

// logRecords returns the JSON log records of ship's run n (1-based) at a
// level (ERROR, WARN, ...).
func (e *env) logRecords(run int, level string) []map[string]any {
	runs := e.ship.LogRuns()
	if run < 1 || run > len(runs) {
		return nil
	}
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(runs[run-1]))
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		var rec map[string]any
		if json.Unmarshal(sc.Bytes(), &rec) != nil {
			continue
		}
		if lv, _ := rec["level"].(string); strings.EqualFold(lv, level) {
			out = append(out, rec)
		}
	}
	return out
}

// idsInFile returns the run's sequence numbers found in a file (none when
// it does not exist).
func (e *env) idsInFile(path string) map[int]bool {
	e.t.Helper()
	out := map[int]bool{}
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return out
	}
	if err != nil {
		e.t.Fatal(err)
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 1<<20)
	var carry []byte
	for {
		buf := make([]byte, 1<<20)
		n, err := br.Read(buf)
		text := append(carry, buf[:n]...)
		for _, s := range e.tag.Seqs(text) {
			out[s] = true
		}
		carry = append([]byte(nil), text[max(0, len(text)-64):]...)
		if err != nil {
			return out
		}
	}
}
