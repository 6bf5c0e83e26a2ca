package ship

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/audittui/audittui/internal/data/source/loki/lokitest"
	"github.com/audittui/audittui/internal/ship/checkpoint"
	"github.com/audittui/audittui/internal/ship/config"
	"github.com/audittui/audittui/internal/ship/metrics"
	"github.com/audittui/audittui/internal/tail"
)

type env struct {
	t     *testing.T
	dir   string
	path  string
	loki  *lokitest.Server
	s3    *fakeS3
	w     *writer
	m     *metrics.Metrics
	stop  func()
	done  chan error
	logs  *bytes.Buffer
	runs  int
	lokiU string
	// lokiDown makes the proxy in front of the Loki test server answer 503
	// (the proxy lokiU points at until lokiBack gives the next start one
	// of its own).
	lokiDown atomic.Bool
	// lokiProxyTo starts another proxy in front of Loki (lokiBack), down
	// while down is set.
	lokiProxyTo func(down *atomic.Bool) string
	// lokiHold, when set, sees each request the Loki proxies get before
	// they look at their down flag (lokistore_test.go).
	lokiHold atomic.Pointer[holdFunc]
	// lokiLate delays the answers of the proxy in front of Loki.
	lokiLate lateAcks
	graceD   string
	// Where the sinks point and how to read back what arrived (the
	// in-process servers by default; VictoriaLogs and versitygw in the
	// integration tests).
	s3URL, bucket, prefix string
	lokiGot, s3Got        func() []string
	awsEnv                []string
	cluster               string
	s3Down                atomic.Bool // the proxy in front of a real S3
	outage                *outageStart
	// lokiStore turns on the Loki sink's disk buffer (Loki.Store_dir in
	// State_dir/loki-buffer); lokiStoreLimit sets its cap ("" default).
	lokiStore      bool
	lokiStoreLimit string
	logW           *syncWriter // startSmall's log, safe to read while ship runs
}

func (e *env) lokiStoreDir() string { return filepath.Join(e.dir, "state", "loki-buffer") }

func (e *env) lokiStoreYAML() string {
	if !e.lokiStore {
		return ""
	}
	y := "  Store_dir: " + e.lokiStoreDir() + "\n"
	if e.lokiStoreLimit != "" {
		y += "  Store_dir_limit_size: " + e.lokiStoreLimit + "\n"
	}
	return y
}

func (e *env) clusterName() string {
	if e.cluster == "" {
		return "test"
	}
	return e.cluster
}

// setDown takes both sinks down (or back up). Taking them down, it notes
// where the live file ends: the callers have waited for every line written
// to be delivered, so that is where the lines acknowledged before the
// outage end (shutdownGrace checks the checkpoint against it).
func (e *env) setDown(v bool) {
	if v {
		fi, err := os.Stat(e.path)
		if err != nil {
			e.t.Fatal(err)
		}
		e.outage = &outageStart{size: fi.Size()}
		e.outage.dev, e.outage.ino = tail.DevIno(fi)
	}
	e.lokiDown.Store(v)
	e.s3.down.Store(v)
	e.s3Down.Store(v)
}

// outageStart is the live file (device, inode) and its size when the sinks
// went down.
type outageStart struct {
	dev, ino uint64
	size     int64
}

func (e *env) grace() string {
	if e.graceD == "" {
		return "5s"
	}
	return e.graceD
}

// holdFunc sees a request before a Loki proxy looks at its down flag: it
// may wait, and returns the request to go on with and what to call once
// the proxy has answered it.
type holdFunc func(r *http.Request) (*http.Request, func())

// lokiBack brings Loki back for the next start of ship: lokiU becomes a
// new proxy in front of Loki, and the one the stopped run used stays down
// (lokiDown stays set). Setting lokiDown to false instead would let that
// proxy forward a request of the stopped run that it gets to only then:
// a push the stop cancelled after sending it (the stop gate, Loki down),
// answered 503 had the proxy looked at once, reached Loki after the stop
// and was pushed again by the next start (96 entries, the oldest
// segment, in TestLokiStoreKeepsS3GoingWhileLokiIsDown under load; forced
// by TestLokiStorePushInFlightAtStop).
func (e *env) lokiBack() { e.lokiU = e.lokiProxyTo(new(atomic.Bool)) }

// proxy fronts a server with one that answers 503 while down is set and
// answers writes late as late says (nil: at once); hold (nil: none) sees
// each request first.
func (e *env) proxy(to string, down *atomic.Bool, late *lateAcks, hold *atomic.Pointer[holdFunc]) string {
	target, _ := url.Parse(to)
	rp := httputil.NewSingleHostReverseProxy(target)
	rp.ErrorLog = log.New(io.Discard, "", 0)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hold != nil {
			if h := hold.Load(); h != nil {
				var done func()
				r, done = (*h)(r)
				defer done()
			}
		}
		if down.Load() {
			http.Error(w, "service unavailable", http.StatusServiceUnavailable)
			return
		}
		if late != nil {
			late.serve(w, r, rp)
			return
		}
		rp.ServeHTTP(w, r)
	}))
	e.t.Cleanup(srv.Close)
	return srv.URL
}

func newEnv(t *testing.T) *env {
	t.Helper()
	dir := t.TempDir()
	e := &env{t: t, dir: dir, path: filepath.Join(dir, "log", "audit.log"), loki: lokitest.New(lokitest.Options{}), s3: newFakeS3(t)}
	t.Cleanup(e.loki.Close)
	os.MkdirAll(filepath.Dir(e.path), 0o700)
	e.w = newWriter(t, e.path)
	e.lokiProxyTo = func(down *atomic.Bool) string { return e.proxy(e.loki.URL, down, &e.lokiLate, &e.lokiHold) }
	e.lokiU = e.lokiProxyTo(&e.lokiDown)
	e.s3URL, e.bucket, e.prefix = e.s3.URL, "audit", "audit-logs/test"
	e.lokiGot = func() []string { return lokiIDs(e.loki) }
	e.s3Got = func() []string { return s3IDs(t, e.s3.client, "audit", "audit-logs/") }
	e.awsEnv = []string{"AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "AWS_REGION=us-east-1", "AWS_EC2_METADATA_DISABLED=true"}
	e.setAWSEnv()
	return e
}

func (e *env) setAWSEnv() {
	for _, kv := range e.awsEnv {
		k, v, _ := strings.Cut(kv, "=")
		e.t.Setenv(k, v)
	}
}

func (e *env) config() *config.Config {
	c, err := config.Parse([]byte(e.configYAML()), nil)
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

func (e *env) configYAML() string {
	return `
Path: ` + e.path + `
Refresh_Interval: 50ms
Mem_Buf_Limit: 2M
Cluster: ` + e.clusterName() + `
State_dir: ` + filepath.Join(e.dir, "state") + `
Checkpoint_interval: 20ms
Grace_period: ` + e.grace() + `
Loki:
  URL: ` + e.lokiU + `
  Label_keys: $verb,$objectRef['resource']
  Structured_metadata_keys: $user['username']
  Batch_size: 64K
  Batch_wait: 20ms
  Min_backoff: 5ms
  Max_backoff: 50ms
` + e.lokiStoreYAML() + `S3:
  Bucket: ` + e.bucket + `
  Endpoint: ` + e.s3URL + `
  S3_key_format: /` + e.prefix + `/%Y/%m/%d/%H/%M/%S-$UUID.json
  Total_file_size: 256K
  Upload_timeout: 100ms
`
}

func (e *env) start() {
	e.t.Helper()
	e.runs++
	ctx, cancel := context.WithCancel(context.Background())
	e.m = metrics.New()
	e.done = make(chan error, 1)
	e.logs = &bytes.Buffer{}
	lg := slog.New(slog.NewJSONHandler(&syncWriter{w: e.logs}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c := e.config()
	go func() { e.done <- Run(ctx, Options{Config: c, Logger: lg, Metrics: e.m}) }()
	e.stop = cancel
}

// shutdown is SIGTERM: flush within the grace period, save the checkpoint.
func (e *env) shutdown() {
	e.t.Helper()
	e.stop()
	select {
	case err := <-e.done:
		if err != nil {
			e.t.Fatalf("ship: %v", err)
		}
	case <-time.After(30 * time.Second):
		e.t.Fatal("ship did not stop")
	}
}

func (e *env) readAll() {
	e.t.Helper()
	want := float64(len(e.w.written()))
	waitUntil(e.t, "the tailer to read every line", func() bool { return metrics.Value(e.m.LinesRead) >= want })
}

// delivered waits for every line written to be in Loki and S3, as long as
// they keep arriving (a loaded CI machine is slow, not wrong): it gives up
// once nothing has come for 15 s, or after 3 minutes.
func (e *env) delivered() { e.t.Helper(); e.deliveredBy(3*time.Minute, 15*time.Second) }

func (e *env) deliveredWithin(d time.Duration) { e.t.Helper(); e.deliveredBy(d, 0) }

// deliveredBy waits up to d for every line written to be in Loki and S3;
// with stall > 0 it gives up sooner, once neither has received anything
// for stall (lines lost are not coming).
func (e *env) deliveredBy(d, stall time.Duration) {
	e.t.Helper()
	written := e.w.written()
	deadline := time.Now().Add(d)
	last, moved := -1, time.Now()
	for time.Now().Before(deadline) {
		polled := time.Now()
		l, s := e.lokiGot(), e.s3Got()
		if containsAll(l, written) && containsAll(s, written) {
			return
		}
		if n := len(l) + len(s); n != last {
			last, moved = n, time.Now()
		} else if stall > 0 && time.Since(moved) > stall {
			e.t.Logf("nothing received for %s", stall)
			break
		}
		// A look reads every sink in full (S3's objects downloaded and
		// gunzipped, every ID matched): under -race that takes tens of
		// milliseconds, and looking again at once kept a core busy
		// polling (a fifth of the package's CPU). Wait at least as long
		// as the look took, and 50 ms.
		time.Sleep(max(50*time.Millisecond, time.Since(polled)))
	}
	checkDelivered(e.t, "loki", written, e.lokiGot())
	checkDelivered(e.t, "s3", written, e.s3Got())
	if e.m != nil {
		e.t.Logf("read %v lines; logs:\n%s", metrics.Value(e.m.LinesRead), grepLog(e.logs.String()))
	}
	e.t.Fatal("timed out waiting for every line in Loki and S3")
}

func (e *env) check() {
	e.t.Helper()
	written := e.w.written()
	checkDelivered(e.t, "loki", written, e.lokiGot())
	checkDelivered(e.t, "s3", written, e.s3Got())
	// Loki (and lokitest) keep one copy of an exact duplicate entry, so
	// resent lines show up in the pushes, not in what is stored.
	pushed := 0
	for _, r := range e.loki.Requests() {
		pushed += r.Entries
	}
	if pushed > 0 {
		e.t.Logf("loki test server: %d entries pushed for %d written (%d resent, stored once)", pushed, len(written), pushed-len(written))
	}
}

type syncWriter struct {
	mu chanMutex
	w  *bytes.Buffer
}

type chanMutex struct{ c chan struct{} }

func (m *chanMutex) lock() {
	if m.c == nil {
		m.c = make(chan struct{}, 1)
	}
	m.c <- struct{}{}
}
func (m *chanMutex) unlock() { <-m.c }

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.lock()
	defer s.mu.unlock()
	return s.w.Write(p)
}

func TestRotateCreate(t *testing.T) {
	e := newEnv(t)
	e.w.write(100)
	e.start()
	e.readAll() // with no checkpoint, ship starts at the live file
	for i := 0; i < 5; i++ {
		e.w.write(300)
		e.w.rotate(false)
	}
	e.w.write(100)
	e.delivered()
	e.shutdown()
	e.check()
}

func TestRotateCompressedBackups(t *testing.T) {
	e := newEnv(t)
	e.w.write(200)
	e.start()
	for i := 0; i < 4; i++ {
		e.w.write(300)
		// Rotations are far apart in real life (--audit-log-maxsize); a file
		// rotated and compressed before the tailer ever opened it would
		// exist only as .gz, which ship never reads.
		e.readAll()
		e.w.rotate(true)
	}
	e.w.write(100)
	e.delivered()
	e.shutdown()
	e.check()
	if !strings.Contains(e.logs.String(), "file rotated") {
		t.Error("no rotation logged")
	}
}

func TestCopyTruncate(t *testing.T) {
	e := newEnv(t)
	e.start()
	e.w.write(500)
	// copytruncate loses what the writer adds between the copy and the
	// truncate whatever the reader does; here the reader has caught up.
	e.readAll()
	e.w.copytruncate()
	e.w.write(200)
	e.delivered()
	e.shutdown()
	e.check()
}

func TestDeleteRecreate(t *testing.T) {
	e := newEnv(t)
	e.w.write(400)
	e.start()
	e.readAll()
	e.w.deleteRecreate()
	time.Sleep(20 * time.Millisecond)
	e.w.write(300)
	e.delivered()
	e.shutdown()
	e.check()
}

func TestFileAppearsLater(t *testing.T) {
	e := newEnv(t)
	e.start()
	time.Sleep(60 * time.Millisecond)
	e.w.write(50)
	e.delivered()
	e.shutdown()
	e.check()
}

// The sinks are down; ship is stopped (SIGTERM) while they are, lines are
// written and rotated while it is stopped, then everything comes back.
func TestRestartWhileSinksDown(t *testing.T) {
	e := newEnv(t)
	e.graceD = "300ms"
	e.w.write(300)
	e.start()
	e.delivered()
	e.setDown(true)
	e.w.write(400)
	e.readAll()
	time.Sleep(100 * time.Millisecond) // let retries happen
	e.shutdownGrace()
	if n := metrics.Value(e.m.SinkRetries.WithLabelValues("loki")); n == 0 {
		t.Error("no Loki retries counted")
	}
	// Offline: more lines and a rotation.
	e.w.write(200)
	e.w.rotate(false)
	e.w.write(100)
	e.setDown(false)
	e.start()
	e.delivered()
	e.shutdown()
	e.check()
}

// shutdownGrace stops ship while the sinks are down (setDown): the grace
// period ends and the lines not acknowledged by every sink stay behind the
// checkpoint. Loki acknowledges nothing during the outage (S3 may: its
// disk buffer), so neither the checkpoint nor Loki's own position may pass
// the end of the lines delivered before it.
func (e *env) shutdownGrace() {
	e.t.Helper()
	if e.outage == nil {
		e.t.Fatal("shutdownGrace without setDown(true)")
	}
	before := e.readCheckpoint()
	e.stop()
	select {
	case err := <-e.done:
		if err != nil {
			e.t.Fatalf("ship: %v", err)
		}
	case <-time.After(30 * time.Second):
		e.t.Fatal("ship did not stop after the grace period")
	}
	st := e.readState()
	after := st.Checkpoints[e.path]
	o := e.outage
	fi, err := os.Stat(e.path)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Logf("checkpoint at offset %d before the shutdown, %d after; lines acknowledged before the outage end at %d, the file at %d",
		before.Offset, after.Offset, o.size, fi.Size())
	check := func(what string, p tail.Position) {
		switch {
		case p.ID.Dev != o.dev || p.ID.Ino != o.ino:
			e.t.Errorf("%s names %s (offset %d), not the live file (dev=%d ino=%d) where the outage began at offset %d",
				what, p.ID, p.Offset, o.dev, o.ino, o.size)
		case p.Offset > o.size:
			e.t.Errorf("%s moved to offset %d during the outage: past offset %d, where the lines acknowledged before it end (bytes %d-%d were not acknowledged by every sink)",
				what, p.Offset, o.size, o.size, p.Offset)
		}
	}
	check("the checkpoint", after.Position)
	if p, ok := st.Sinks[e.path]["loki"]; ok {
		check("Loki's position", p)
	}
}

func (e *env) readState() checkpoint.State {
	s, err := checkpoint.New(filepath.Join(e.dir, "state"))
	if err != nil {
		e.t.Fatal(err)
	}
	st, err := s.LoadState()
	if err != nil {
		e.t.Fatal(err)
	}
	return st
}

func (e *env) readCheckpoint() checkpoint.Position {
	s, err := checkpoint.New(filepath.Join(e.dir, "state"))
	if err != nil {
		e.t.Fatal(err)
	}
	m, err := s.Load()
	if err != nil {
		e.t.Fatal(err)
	}
	return m[e.path]
}

func TestCheckpointWaitsForEverySink(t *testing.T) {
	e := newEnv(t)
	e.s3.down.Store(false)
	e.lokiDown.Store(true)
	e.w.write(100)
	e.start()
	e.readAll()
	time.Sleep(200 * time.Millisecond)
	// S3 has buffered everything on disk; Loki has nothing: no progress.
	if p := e.readCheckpoint(); p.Offset != 0 {
		t.Fatalf("checkpoint at %d while Loki acknowledged nothing", p.Offset)
	}
	e.lokiDown.Store(false)
	waitUntil(t, "checkpoint to reach the end", func() bool {
		fi, _ := os.Stat(e.path)
		return e.readCheckpoint().Offset == fi.Size()
	})
	e.shutdown()
	e.check()
}

func TestDryRun(t *testing.T) {
	e := newEnv(t)
	e.w.write(3)
	c := e.config()
	var out bytes.Buffer
	if err := Run(context.Background(), Options{Config: c, DryRun: true, Out: &out}); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("dry run printed %d lines:\n%s", len(lines), out.String())
	}
	var first struct{ Loki_stream, S3_key, Ts, Line string }
	if err := json.Unmarshal([]byte(lines[0]), &first); err != nil {
		t.Fatal(err)
	}
	if first.Loki_stream != `{cluster="test", job="audit", objectRef_resource="pods", verb="get"}` ||
		!strings.HasPrefix(first.S3_key, "audit-logs/test/") || !strings.Contains(first.Line, `"cluster":"test"`) {
		t.Errorf("dry run line %+v", first)
	}
	if e.loki.Count("") != 0 {
		t.Error("dry run sent to Loki")
	}
	if _, err := os.Stat(filepath.Join(e.dir, "state", checkpoint.FileName)); !os.IsNotExist(err) {
		t.Error("dry run wrote a checkpoint")
	}
}

func tailLog(s string) string {
	if len(s) > 6000 {
		return s[len(s)-6000:]
	}
	return s
}

func grepLog(s string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, "loki request") || strings.Contains(l, "uploaded chunk") {
			continue
		}
		out = append(out, l)
	}
	return tailLog(strings.Join(out, "\n"))
}

// With Loki down and a small Mem_Buf_Limit, reading stops (the audit file
// is the buffer), the metrics say so, and nothing is dropped once Loki is
// back.
func TestBoundedMemoryBackpressure(t *testing.T) {
	e := newEnv(t)
	e.lokiDown.Store(true)
	e.w.write(4000) // ~2.5 MB
	fi, _ := os.Stat(e.path)
	c := e.config()
	c.MemBufLimit = 64 << 10
	e.m = metrics.New()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Run(ctx, Options{Config: c, Metrics: e.m, ReadSize: 16 << 10}) }()
	waitUntil(t, "backpressure", func() bool { return metrics.Value(e.m.Backpressure) == 1 })
	time.Sleep(100 * time.Millisecond)
	read := metrics.Value(e.m.BytesRead)
	if read >= float64(fi.Size())/2 {
		t.Fatalf("read %v of %d bytes with Loki down and a 64K budget", read, fi.Size())
	}
	if used := metrics.Value(e.m.BufferBytes.WithLabelValues("memory")); used > 2*64<<10 {
		t.Errorf("memory buffer %v bytes over the 64K budget", used)
	}
	e.lokiDown.Store(false)
	e.delivered()
	if metrics.Value(e.m.Backpressure) != 0 {
		t.Error("backpressure still set after catching up")
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	e.check()
}
