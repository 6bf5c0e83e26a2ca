package ship

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/audittui/audittui/internal/ship/checkpoint"
	"github.com/audittui/audittui/internal/ship/config"
	"github.com/audittui/audittui/internal/ship/metrics"
	"github.com/audittui/audittui/internal/ship/pipe"
	"github.com/audittui/audittui/internal/ship/process"
	"github.com/audittui/audittui/internal/tail"
)

// Tests of the mechanics behind issue 12: per-sink progress, readiness,
// backpressure, long lines, the overflow cap, exit paths.

// chunkBatch makes a batch of n 10-byte lines of file id ending at end.
func chunkBatch(seq uint64, id tail.ID, mtime, start int64, n int) *pipe.Batch {
	b := &pipe.Batch{Seq: seq}
	off := start
	for i := range n {
		line := fmt.Sprintf("l%08d", start/10+int64(i))
		b.Records = append(b.Records, process.Record{Line: []byte(line)})
		off += 10
		b.Ends = append(b.Ends, off)
		b.LineBytes += 9
	}
	b.End = tail.Position{Path: "/a", ID: id, Offset: off, ModTime: mtime}
	b.Raw = off - start
	return b
}

func lines(b *pipe.Batch) string {
	if b == nil {
		return "-"
	}
	var s []string
	for _, r := range b.Records {
		s = append(s, string(r.Line))
	}
	return strings.Join(s, ",")
}

func newTestTracker(t *testing.T, dir string) (*tracker, *checkpoint.Store) {
	t.Helper()
	store, err := checkpoint.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.LoadState()
	if err != nil {
		t.Fatal(err)
	}
	return newTracker([]string{"loki", "s3"}, pipe.NewBudget(1<<20), metrics.New(), store, "/a", st, nil, slog.New(slog.DiscardHandler)), store
}

// A sink ahead of the slowest one at a crash does not get its lines again
// after the restart: progress is written per sink at every
// acknowledgement, and the sink skips what it had (even when the file is
// re-read in other chunks, and across files).
func TestPerSinkProgressSurvivesACrash(t *testing.T) {
	dir := t.TempDir()
	f1 := tail.ID{Dev: 1, Ino: 10, FPLen: 1024, FP: 111}
	f2 := tail.ID{Dev: 1, Ino: 11, FPLen: 1024, FP: 222}
	tr, store := newTestTracker(t, dir)
	loki, s3 := tr.ackFor(0), tr.ackFor(1)
	b1, b2, b3 := chunkBatch(1, f1, 100, 0, 3), chunkBatch(2, f1, 100, 30, 3), chunkBatch(3, f2, 200, 0, 2)
	for _, b := range []*pipe.Batch{b1, b2, b3} {
		tr.route(b)
	}
	s3(b1, b2, b3) // S3 has everything
	loki(b1)       // Loki only the first batch
	// Written at once (no periodic save yet): the "crash" is now.
	st, err := store.LoadState()
	if err != nil {
		t.Fatal(err)
	}
	if p := st.Checkpoints["/a"]; p.Offset != 30 || p.ID != f1 {
		t.Fatalf("checkpoint %+v, want file 1 at 30", p)
	}
	if p := st.Sinks["/a"]["s3"]; p.Offset != 20 || p.ID != f2 {
		t.Fatalf("s3 progress %+v, want file 2 at 20", p)
	}

	// Restart: re-read from the checkpoint in other chunks.
	tr2, _ := newTestTracker(t, dir)
	var got [][]string
	for _, b := range []*pipe.Batch{chunkBatch(1, f1, 100, 30, 2), chunkBatch(2, f1, 100, 50, 1), chunkBatch(3, f2, 200, 0, 1),
		chunkBatch(4, f2, 200, 10, 2), chunkBatch(5, f2, 200, 30, 1)} {
		r := tr2.route(b)
		got = append(got, []string{lines(r[0]), lines(r[1])})
	}
	want := [][]string{
		{"l00000003,l00000004", "-"}, {"l00000005", "-"}, {"l00000000", "-"},
		{"l00000001,l00000002", "l00000002"}, {"l00000003", "l00000003"},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("routed\n got  %v\n want %v", got, want)
	}
}

// Acknowledgements are saved before ack returns (so a sink that sends its
// next batch after ack re-sends at most one after a crash); the periodic
// save only adds fsync.
func TestAckWritesProgressAtOnce(t *testing.T) {
	dir := t.TempDir()
	tr, store := newTestTracker(t, dir)
	id := tail.ID{Dev: 1, Ino: 2, FPLen: 8, FP: 3}
	for i := range 5 {
		b := chunkBatch(uint64(i+1), id, 1, int64(i)*20, 2)
		tr.route(b)
		tr.ackFor(0)(b)
		tr.ackFor(1)(b)
		st, err := store.LoadState()
		if err != nil {
			t.Fatal(err)
		}
		if p := st.Checkpoints["/a"]; p.Offset != int64(i+1)*20 {
			t.Fatalf("after batch %d the checkpoint says %d", i+1, p.Offset)
		}
	}
	if _, err := os.Stat(store.Path()); !os.IsNotExist(err) {
		t.Fatal("fsynced checkpoint written before sync")
	}
	if err := tr.sync(); err != nil {
		t.Fatal(err)
	}
	if st, _ := store.LoadState(); st.Checkpoints["/a"].Offset != 100 {
		t.Fatal("sync did not keep the progress")
	}
}

// /readyz's checks: a sink holding batches without acknowledging any for
// longer than Ready_ack_timeout, and a checkpoint that cannot be written.
func TestReadiness(t *testing.T) {
	dir := t.TempDir()
	tr, _ := newTestTracker(t, filepath.Join(dir, "state"))
	now := time.Unix(1000, 0)
	tr.now = func() time.Time { return now }
	id := tail.ID{Dev: 1, Ino: 2, FPLen: 8, FP: 3}
	b1 := chunkBatch(1, id, 1, 0, 1)
	tr.route(b1)
	tr.ackFor(1)(b1)
	if err := tr.health(3 * time.Second); err != nil {
		t.Fatal(err)
	}
	now = now.Add(5 * time.Second)
	err := tr.health(3 * time.Second)
	if err == nil || !strings.Contains(err.Error(), "loki: holds 1 batch and acknowledged none for 5s") || strings.Contains(err.Error(), "s3") {
		t.Fatalf("health = %v", err)
	}
	tr.ackFor(0)(b1)
	if err := tr.health(3 * time.Second); err != nil {
		t.Fatalf("after the ack: %v", err)
	}
	// An idle sink is ready however long ago it acknowledged.
	now = now.Add(time.Hour)
	if err := tr.health(3 * time.Second); err != nil {
		t.Fatalf("idle: %v", err)
	}
	// The state directory becomes a file: the checkpoint cannot be
	// written, until it can again.
	os.RemoveAll(filepath.Join(dir, "state"))
	os.WriteFile(filepath.Join(dir, "state"), nil, 0o600)
	b2 := chunkBatch(2, id, 1, 10, 1)
	tr.route(b2)
	tr.ackFor(0)(b2)
	if err := tr.health(time.Hour); err == nil || !strings.Contains(err.Error(), "checkpoint cannot be written") {
		t.Fatalf("health = %v", err)
	}
	os.Remove(filepath.Join(dir, "state"))
	os.Mkdir(filepath.Join(dir, "state"), 0o700)
	if err := tr.sync(); err != nil {
		t.Fatal(err)
	}
	if err := tr.health(time.Hour); err != nil {
		t.Fatalf("after a successful save: %v", err)
	}
}

// stuckSink never takes a batch until released.
type stuckSink struct {
	release chan struct{}
}

func (stuckSink) Name() string { return "stuck" }
func (s stuckSink) Run(ctx context.Context, in <-chan *pipe.Batch, ack func(...*pipe.Batch)) error {
	select {
	case <-s.release:
	case <-ctx.Done():
		return nil
	}
	for b := range in {
		ack(b)
	}
	return nil
}

func eventLines(n, from int) []byte {
	var b bytes.Buffer
	for i := range n {
		fmt.Fprintf(&b, `{"kind":"Event","auditID":"id-%06d","verb":"get","stageTimestamp":"2026-01-01T00:00:00Z","pad":"%s"}`+"\n", from+i, strings.Repeat("x", 200))
	}
	return b.Bytes()
}

// A sink that takes nothing: reading stops, the backpressure gauge says
// so (whichever stage is blocked), the lag grows, and all of it clears
// when the sink moves again.
func TestBackpressureAndLagWhileASinkIsStuck(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "audit.log")
	os.WriteFile(p, eventLines(5000, 0), 0o600)
	c := &config.Config{Path: p, StateDir: filepath.Join(dir, "state"), MemBufLimit: 4 << 20, RefreshInterval: config.Duration(20 * time.Millisecond)}
	m := metrics.New()
	stuck := stuckSink{release: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Options{Config: c, Metrics: m, Sinks: []pipe.Sink{ackSink{}, stuck}, NoNotify: true})
	}()
	waitUntil(t, "backpressure", func() bool { return metrics.Value(m.Backpressure) == 1 })
	fi, _ := os.Stat(p)
	if lag := m.LagBytes(); lag <= 0 || lag > fi.Size() {
		t.Fatalf("lag %d bytes while stuck (file %d)", lag, fi.Size())
	}
	close(stuck.release)
	waitUntil(t, "caught up", func() bool { return m.LagBytes() == 0 && metrics.Value(m.Backpressure) == 0 })
	if n := metrics.Value(m.LinesRead); n != 5000 {
		t.Fatalf("read %v lines", n)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// collectSink keeps what it is given (spooled lines read back).
type collectSink struct {
	mu    sync.Mutex
	lines []string
}

func (*collectSink) Name() string { return "collect" }
func (s *collectSink) Run(_ context.Context, in <-chan *pipe.Batch, ack func(...*pipe.Batch)) error {
	for b := range in {
		s.mu.Lock()
		for i := range b.Records {
			var w bytes.Buffer
			b.Records[i].WriteLine(&w)
			s.lines = append(s.lines, w.String())
		}
		s.mu.Unlock()
		ack(b)
	}
	return nil
}

func (s *collectSink) got() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.lines...)
}

// A line longer than 1 MiB is spooled and processed with one copy in
// memory and reaches the sinks whole and processed; one over
// Max_line_size goes to the overflow file; nothing is left in the spool.
func TestLongLinesEndToEnd(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "audit.log")
	big := `{"kind":"Event","auditID":"big","objectRef":{"resource":"secrets"},"requestObject":{"kind":"Secret","data":{"k":"` +
		strings.Repeat("QUJD", 700<<10) + `"},"metadata":{"managedFields":[{"m":1}]}},"stageTimestamp":"2026-01-01T00:00:00Z"}`
	huge := `{"kind":"Event","auditID":"huge","pad":"` + strings.Repeat("y", 5<<20) + `"}`
	content := string(eventLines(3, 0)) + big + "\n" + string(eventLines(2, 3)) + huge + "\n" + string(eventLines(1, 5))
	os.WriteFile(p, []byte(content), 0o600)
	c := &config.Config{Path: p, StateDir: filepath.Join(dir, "state"), MemBufLimit: 16 << 20, MaxLineSize: 4 << 20, Cluster: "c1",
		RefreshInterval: config.Duration(20 * time.Millisecond)}
	m := metrics.New()
	sink := &collectSink{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Run(ctx, Options{Config: c, Metrics: m, Sinks: []pipe.Sink{sink}, NoNotify: true}) }()
	waitUntil(t, "all lines", func() bool { return len(sink.got()) == 7 })
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	got := sink.got()
	if !strings.Contains(got[3], `"auditID":"big"`) || strings.Contains(got[3], "QUJD") || strings.Contains(got[3], "managedFields") ||
		!strings.HasSuffix(got[3], `"cluster":"c1","source":"k8s-audit"}`) {
		t.Fatalf("the long line was not processed: %.200s ... %.100s", got[3], got[3][max(0, len(got[3])-100):])
	}
	over, _ := os.ReadFile(filepath.Join(c.StateDir, "overlong-lines.jsonl"))
	if string(over) != huge+"\n" || metrics.Value(m.LinesTooLong) != 1 {
		t.Fatalf("overflow file has %d bytes", len(over))
	}
	if ents, _ := os.ReadDir(filepath.Join(c.StateDir, "spool")); len(ents) != 0 {
		t.Fatalf("spool left %v", ents)
	}
}

// The overflow file is capped: a line that would not fit is not written
// (nor any part of it) and is counted; a new file takes lines again.
func TestOverflowFileCap(t *testing.T) {
	dir := t.TempDir()
	m := metrics.New()
	o := &overflow{path: filepath.Join(dir, "over.jsonl"), limit: 100, m: m, lg: slog.New(slog.DiscardHandler)}
	write := func(parts ...string) {
		for _, p := range parts {
			o.Write([]byte(p))
		}
	}
	write(strings.Repeat("a", 30), strings.Repeat("a", 29), "\n") // 60 bytes
	write(strings.Repeat("b", 30), strings.Repeat("b", 29), "\n") // would make 120
	write(strings.Repeat("c", 29) + "\n")                         // fits: 90
	b, _ := os.ReadFile(o.path)
	if string(b) != strings.Repeat("a", 59)+"\n"+strings.Repeat("c", 29)+"\n" {
		t.Fatalf("overflow file %q", b)
	}
	if metrics.Value(m.OverlongDropped) != 1 || metrics.Value(m.OverlongDroppedBytes) != 60 {
		t.Fatalf("dropped %v lines %v bytes", metrics.Value(m.OverlongDropped), metrics.Value(m.OverlongDroppedBytes))
	}
	os.Rename(o.path, o.path+".old")
	write(strings.Repeat("d", 59) + "\n")
	if b, _ := os.ReadFile(o.path); len(b) != 60 {
		t.Fatalf("new overflow file %q", b)
	}
}

// failSink fails at once, as a sink does when the disk is full.
type failSink struct{ err error }

func (failSink) Name() string { return "fail" }
func (s failSink) Run(_ context.Context, in <-chan *pipe.Batch, _ func(...*pipe.Batch)) error {
	<-in
	return s.err
}

// The first failure is what Run returns, whatever fails after it (the
// checkpoint in a full State_dir).
func TestRunReturnsTheRootCause(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "audit.log")
	os.WriteFile(p, eventLines(10, 0), 0o600)
	state := filepath.Join(dir, "state")
	c := &config.Config{Path: p, StateDir: state, RefreshInterval: config.Duration(20 * time.Millisecond)}
	root := errors.New("write chunk: no space left on device")
	var logs lockedBuf
	err := Run(context.Background(), Options{Config: c, Sinks: []pipe.Sink{ackSink{}, failSink{root}}, NoNotify: true,
		Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	if !errors.Is(err, root) || !strings.Contains(err.Error(), "fail sink: write chunk: no space left on device") {
		t.Fatalf("err = %v", err)
	}
	var ce *ConfigError
	if errors.As(err, &ce) {
		t.Fatal("a runtime failure reported as a configuration error")
	}
	// A bad option is a ConfigError.
	bad := *c
	bad.MaxLineSize = 1 << 30
	if err := Run(context.Background(), Options{Config: &bad, Sinks: []pipe.Sink{ackSink{}}}); !errors.As(err, &ce) {
		t.Fatalf("err = %v, want a ConfigError", err)
	}
}

// S3.Retry_limit and S3.Max_backoff reach the client (they used to be
// parsed and ignored).
func TestS3RetryOptionsReachTheClient(t *testing.T) {
	c := &config.Config{Path: "/a", S3: &config.S3{Bucket: "b", Endpoint: "http://127.0.0.1:1", RetryLimit: 7, MaxBackoff: config.Duration(2 * time.Second)}}
	c.ApplyDefaults()
	client, err := S3Client(context.Background(), c.S3)
	if err != nil {
		t.Fatal(err)
	}
	if n := client.Options().Retryer.MaxAttempts(); n != 7 {
		t.Fatalf("max attempts %d, want 7", n)
	}
	c.S3.RetryLimit = 0
	c.ApplyDefaults()
	client, _ = S3Client(context.Background(), c.S3)
	if n := client.Options().Retryer.MaxAttempts(); n != 3 {
		t.Fatalf("default max attempts %d, want 3", n)
	}
}
