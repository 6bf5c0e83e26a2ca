package lokisink

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/audittui/audittui/internal/data/source/loki/lokitest"
	"github.com/audittui/audittui/internal/ship/metrics"
	"github.com/audittui/audittui/internal/ship/pipe"
	"github.com/audittui/audittui/internal/ship/process"
)

func segFiles(t *testing.T, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "*"+segExt))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// Through the store, Loki gets what it gets without it: the same labels,
// structured metadata, times and lines; the store is empty afterwards.
func TestStorePushesWhatItStored(t *testing.T) {
	dir := t.TempDir()
	f := newFixture(t, Options{LabelNames: []string{"verb"}, MetadataNames: []string{"user_username"}, BatchSize: 1 << 20, StoreDir: dir}, lokitest.Options{})
	acked, err := run(t, f.sink, batch(1, 3, "get"), batch(2, 2, "create"))
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(acked) != "[1 2]" {
		t.Fatalf("acked %v", acked)
	}
	got := f.srv.Entries("")
	if len(got) != 5 {
		t.Fatalf("%d entries", len(got))
	}
	times := map[int64]bool{}
	for _, e := range got {
		verb, _ := e.Labels.Get("verb")
		if job, _ := e.Labels.Get("job"); job != "audit" || !strings.Contains(e.Line, `"verb":"`+verb+`"`) {
			t.Errorf("entry %+v", e)
		}
		if u, _ := e.Metadata.Get("user_username"); u != "alice" {
			t.Errorf("metadata %v", e.Metadata)
		}
		times[e.Time] = true
	}
	for _, want := range []int64{1000, 1001, 1002, 2000, 2001} {
		if !times[want] {
			t.Errorf("no entry at %d: %+v", want, got)
		}
	}
	if n := metrics.Value(f.m.SinkSentLines.WithLabelValues("loki")); n != 5 {
		t.Errorf("sent %v", n)
	}
	if s := segFiles(t, dir); len(s) != 0 {
		t.Errorf("segments left after every push was accepted: %v", s)
	}
	if v := metrics.Value(f.m.BufferBytes.WithLabelValues("loki_disk")); v != 0 {
		t.Errorf("buffer_bytes{loki_disk} = %v", v)
	}
}

// While Loki refuses to store (503), batches are acknowledged once they
// are in the store, segments stay until pushed, and a new sink on the
// same directory pushes them, in order, once Loki is back.
func TestStoreAcknowledgesWhileLokiIsDownAndRecovers(t *testing.T) {
	dir := t.TempDir()
	f := newFixture(t, Options{BatchSize: 200, BatchWait: 10 * time.Millisecond, StoreDir: dir}, lokitest.Options{})
	f.srv.FailPushes(100_000, 503, "down")
	in := make(chan *pipe.Batch, 10)
	acks := make(chan uint64, 10)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- f.sink.Run(ctx, in, func(bs ...*pipe.Batch) {
			for _, b := range bs {
				acks <- b.Seq
			}
		})
	}()
	for i := uint64(1); i <= 5; i++ {
		in <- batch(i, 3, "get")
	}
	for i := uint64(1); i <= 5; i++ {
		select {
		case s := <-acks:
			if s != i {
				t.Fatalf("acknowledged %d, want %d", s, i)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("batch %d not acknowledged with Loki down and a store", i)
		}
	}
	waitFor(t, func() bool { return f.sink.Stalled(time.Now(), time.Millisecond) != nil })
	cancel()
	<-done
	if f.srv.Count("") != 0 {
		t.Fatal("Loki stored lines while failing")
	}
	if len(segFiles(t, dir)) == 0 {
		t.Fatal("no segment left with Loki down")
	}

	f2 := newFixture(t, Options{BatchSize: 200, StoreDir: dir}, lokitest.Options{})
	if _, err := run(t, f2.sink); err != nil {
		t.Fatal(err)
	}
	got := f2.srv.Entries("")
	if len(got) != 15 {
		t.Fatalf("Loki got %d of 15 stored lines", len(got))
	}
	if s := segFiles(t, dir); len(s) != 0 {
		t.Errorf("segments left: %v", s)
	}
	// In order: the store's first push holds the first batch's lines.
	if r := f2.srv.Requests(); len(r) == 0 || r[0].Entries == 0 {
		t.Fatalf("requests %+v", r)
	}
	if !strings.Contains(got[0].Line, `"b1-0"`) {
		t.Errorf("first line pushed %q, want b1-0's", got[0].Line)
	}
}

// A record torn by a crash mid-write (never acknowledged) is cut off the
// segment on recovery; the records before it are pushed.
func TestStoreCutsATornRecord(t *testing.T) {
	dir := t.TempDir()
	var buf []byte
	for i := range 3 {
		buf = appendRecord(buf, &process.Record{Time: int64(i), Line: []byte(fmt.Sprintf(`{"auditID":"t%d"}`, i)), Fields: []string{"get"}})
	}
	whole := len(buf)
	buf = appendRecord(buf, &process.Record{Time: 9, Line: []byte(`{"auditID":"torn"}`)})
	buf = buf[:len(buf)-5]
	p := filepath.Join(dir, segName(7))
	if err := os.WriteFile(p, buf, 0o600); err != nil {
		t.Fatal(err)
	}
	n, size, cut, damaged, err := scanSegment(p, true)
	if err != nil || n != 3 || size != int64(whole) || cut != int64(len(buf)-whole) || damaged {
		t.Fatalf("read %d records, %d bytes, cut %d, damaged %v, err %v", n, size, cut, damaged, err)
	}
	if fi, _ := os.Stat(p); fi.Size() != int64(whole) {
		t.Fatalf("segment is %d bytes after the cut, want %d", fi.Size(), whole)
	}
	r, err := openSegReader(p)
	if err != nil {
		t.Fatal(err)
	}
	var recs []process.Record
	for {
		rec, ok := r.next()
		if !ok {
			break
		}
		recs = append(recs, rec)
	}
	r.Close()
	if recs[1].Time != 1 || string(recs[1].Line) != `{"auditID":"t1"}` || len(recs[1].Fields) != 1 || recs[1].Fields[0] != "get" {
		t.Errorf("record %+v", recs[1])
	}
	f := newFixture(t, Options{LabelNames: []string{"verb"}, StoreDir: dir}, lokitest.Options{})
	if _, err := run(t, f.sink); err != nil {
		t.Fatal(err)
	}
	if n := f.srv.Count(""); n != 3 {
		t.Errorf("Loki got %d of the 3 whole records", n)
	}
	// A new segment after a recovered one is numbered after it.
	if f.sink.st.next != 8 {
		t.Errorf("next segment %d, want 8", f.sink.st.next)
	}
}

// Refusals are handled as without the store: a line over Max_line_size
// is dead-lettered when stored (not pushed), a refused push is split.
func TestStoreRefusalsAsWithout(t *testing.T) {
	long := `{"auditID":"long","pad":"` + strings.Repeat("x", 300) + `"}`
	d, url := newDistributor(t, 100)
	s, m, dl := distributorSink(t, url, Options{MaxLineSize: 100, StoreDir: t.TempDir()})
	if acked, err := run(t, s, lineBatch(1, `{"auditID":"g0"}`, long, `{"auditID":"g1"}`)); err != nil || len(acked) != 1 {
		t.Fatalf("acked %v err %v", acked, err)
	}
	if strings.Join(d.lines, ",") != `{"auditID":"g0"},{"auditID":"g1"}` {
		t.Fatalf("stored %q", d.lines)
	}
	recs := readDeadLetters(t, dl)
	if got := deadLines(recs); len(got) != 1 || got[0] != long || !strings.Contains(recs[0].Reason, "Max_line_size") {
		t.Fatalf("dead letters %+v", recs)
	}
	if metrics.Value(m.SinkDeadLines.WithLabelValues("loki")) != 1 {
		t.Error("dead-lettered line not counted")
	}

	f := newFixture(t, Options{StoreDir: t.TempDir()}, lokitest.Options{})
	f.srv.FailPushes(1, 400, "entry for stream '{job=\"audit\"}' has timestamp too old")
	if acked, err := run(t, f.sink, batch(1, 2, "get")); err != nil || len(acked) != 1 {
		t.Fatalf("acked %v err %v", acked, err)
	}
	if f.srv.Count("") != 2 {
		t.Fatalf("server stored %d of 2 lines", f.srv.Count(""))
	}
}

// fullDisk writes half of what it is given, then fails with ENOSPC, while
// full is set.
type fullDisk struct {
	w    io.Writer
	full *atomic.Bool
}

func (d fullDisk) Write(p []byte) (int, error) {
	if d.full.Load() {
		n, _ := d.w.Write(p[:len(p)/2])
		return n, &os.PathError{Op: "write", Path: "seg", Err: syscall.ENOSPC}
	}
	return d.w.Write(p)
}

// A disk that fills before Loki.Store_dir_limit_size is backpressure, as
// the limit is: nothing is acknowledged (store_full 1, a WARN), the half
// record written is cut off, and once there is room the batch is stored,
// acknowledged and pushed whole, once.
func TestStoreDiskFullIsBackpressure(t *testing.T) {
	defer func(d time.Duration) { diskFullRetry = d }(diskFullRetry)
	diskFullRetry = 50 * time.Millisecond
	dir := t.TempDir()
	var logs lockedBuf
	f := newFixture(t, Options{BatchSize: 1 << 20, BatchWait: 10 * time.Millisecond, StoreDir: dir,
		Logger: slog.New(slog.NewTextHandler(&logs, nil))}, lokitest.Options{})
	var full atomic.Bool
	full.Store(true)
	f.sink.wrapWrite = func(w io.Writer) io.Writer { return fullDisk{w: w, full: &full} }
	in := make(chan *pipe.Batch, 2)
	acks := make(chan uint64, 2)
	done := make(chan error, 1)
	go func() {
		done <- f.sink.Run(context.Background(), in, func(bs ...*pipe.Batch) {
			for _, b := range bs {
				acks <- b.Seq
			}
		})
	}()
	in <- batch(1, 5, "get")
	waitFor(t, func() bool { return metrics.Value(f.m.StoreFull.WithLabelValues("loki")) == 1 })
	time.Sleep(200 * time.Millisecond)
	select {
	case s := <-acks:
		t.Fatalf("batch %d acknowledged while the disk was full", s)
	default:
	}
	if !strings.Contains(logs.String(), "disk is full") {
		t.Errorf("no WARN says the disk is full: %s", logs.String())
	}
	full.Store(false)
	select {
	case <-acks:
	case <-time.After(10 * time.Second):
		t.Fatal("batch not acknowledged once the disk had room")
	}
	close(in)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n := f.srv.Count(""); n != 5 {
		t.Errorf("Loki got %d of 5 lines", n)
	}
	pushed := 0
	for _, r := range f.srv.Requests() {
		pushed += r.Entries
	}
	if pushed != 5 {
		t.Errorf("%d entries pushed for 5 lines (a torn record pushed?)", pushed)
	}
	if metrics.Value(f.m.StoreFull.WithLabelValues("loki")) != 0 {
		t.Error("store_full still 1")
	}
}

type lockedBuf struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// A stop (StopBy, then in closed) while Loki refuses pushes returns
// before the grace period ends: the batches acknowledged are fsynced in
// the store, so the sender stops retrying, keeps the segments for the
// next start, and the batches handed in after the stop are still stored
// and acknowledged. The bound is the grace period (a minute here), not a
// speed.
func TestStoreStopDuringOutageReturnsBeforeGrace(t *testing.T) {
	dir := t.TempDir()
	f := newFixture(t, Options{BatchSize: 200, BatchWait: 10 * time.Millisecond, StoreDir: dir}, lokitest.Options{})
	f.srv.FailPushes(100_000, 503, "down")
	const grace = 30 * time.Second
	in := make(chan *pipe.Batch, 10)
	acks := make(chan uint64, 10)
	// The sink's context ends with the grace period, as ship's does.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- f.sink.Run(ctx, in, func(bs ...*pipe.Batch) {
			for _, b := range bs {
				acks <- b.Seq
			}
		})
	}()
	for i := uint64(1); i <= 3; i++ {
		in <- batch(i, 3, "get")
		if s := <-acks; s != i {
			t.Fatalf("acknowledged %d, want %d", s, i)
		}
	}
	waitFor(t, func() bool { return metrics.Value(f.m.SinkErrors.WithLabelValues("loki")) > 0 })
	// SIGTERM: ship calls StopBy with the grace period's end, then hands
	// the sink what was read and closes in.
	f.sink.StopBy(time.Now().Add(grace))
	graceOver := make(chan struct{})
	time.AfterFunc(grace, func() { close(graceOver); cancel() })
	in <- batch(4, 3, "get")
	close(in)
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-graceOver:
		t.Fatalf("Run had not returned when the grace period (%s) ended", grace)
	}
	if s := <-acks; s != 4 {
		t.Fatalf("acknowledged %d after the stop, want 4", s)
	}
	if f.srv.Count("") != 0 {
		t.Fatal("Loki stored lines while failing")
	}
	if len(segFiles(t, dir)) == 0 {
		t.Fatal("no segment kept for the next start")
	}
	f2 := newFixture(t, Options{BatchSize: 200, StoreDir: dir}, lokitest.Options{})
	if _, err := run(t, f2.sink); err != nil {
		t.Fatal(err)
	}
	if n := f2.srv.Count(""); n != 12 {
		t.Fatalf("the next start pushed %d lines, want the 12 stored", n)
	}
}

// A segment left by a run with a larger Batch_size (the config changed
// between runs) is read in pieces: the sink holds at most the current
// Batch_size of records from it at once (or one record, when a record is
// larger), counted in the bytes of the records it read and has not pushed
// yet, not in the process's memory. Every line is still pushed, in order.
func TestStoreReadsALargerSegmentInPieces(t *testing.T) {
	dir := t.TempDir()
	// The previous run: Batch_size 1M, Loki down, 600 lines in one segment.
	f := newFixture(t, Options{BatchSize: 1 << 20, BatchWait: time.Hour, StoreDir: dir}, lokitest.Options{})
	f.srv.FailPushes(1_000_000, 503, "down")
	var bs []*pipe.Batch
	for i := uint64(1); i <= 20; i++ {
		b := batch(i, 30, "get")
		for k := range b.Records {
			r := &b.Records[k]
			r.Line = append(r.Line[:len(r.Line)-1], []byte(`,"pad":"`+strings.Repeat("p", 900)+`"}`)...)
		}
		b.LineBytes = 0
		for k := range b.Records {
			b.LineBytes += int64(len(b.Records[k].Line))
		}
		bs = append(bs, b)
	}
	ctx, cancel := context.WithCancel(context.Background())
	in := make(chan *pipe.Batch, len(bs))
	for _, b := range bs {
		in <- b
	}
	close(in)
	done := make(chan error, 1)
	go func() { done <- f.sink.Run(ctx, in, func(...*pipe.Batch) {}) }()
	waitFor(t, func() bool { return metrics.Value(f.m.SinkErrors.WithLabelValues("loki")) > 0 })
	cancel()
	<-done
	segs := segFiles(t, dir)
	if len(segs) != 1 {
		t.Fatalf("%d segments, want the one of 600 lines", len(segs))
	}
	fi, _ := os.Stat(segs[0])

	// This run: Batch_size 16K.
	const batchSize = 16 << 10
	f2 := newFixture(t, Options{BatchSize: batchSize, StoreDir: dir}, lokitest.Options{})
	if _, err := run(t, f2.sink); err != nil {
		t.Fatal(err)
	}
	got := f2.srv.Entries("")
	if len(got) != 600 {
		t.Fatalf("Loki got %d of the 600 stored lines", len(got))
	}
	for i, e := range got {
		want := fmt.Sprintf(`"b%d-%d"`, i/30+1, i%30)
		if !strings.Contains(e.Line, want) {
			t.Fatalf("entry %d is %.40q, want %s (in order)", i, e.Line, want)
		}
	}
	peak := f2.sink.heldPeak.Load()
	t.Logf("segment of %d bytes pushed holding at most %d bytes of records (Batch_size %d)", fi.Size(), peak, batchSize)
	if peak == 0 || peak > batchSize {
		t.Errorf("held %d bytes of records from a %d-byte segment at once, want at most Batch_size (%d)", peak, fi.Size(), batchSize)
	}
	if len(segFiles(t, dir)) != 0 {
		t.Error("the segment was not deleted once pushed")
	}
}

// A record damaged in the middle of a segment (it fails its checksum) is
// not taken for a torn end: the records before it are pushed, and an
// ERROR names the segment and the bytes cut off, which held acknowledged
// lines.
func TestStoreSaysADamagedRecordIsCut(t *testing.T) {
	dir := t.TempDir()
	var buf []byte
	for i := range 3 {
		buf = appendRecord(buf, &process.Record{Time: int64(i), Line: []byte(fmt.Sprintf(`{"auditID":"d%d"}`, i)), Fields: []string{"get"}})
	}
	first := len(appendRecord(nil, &process.Record{Time: 0, Line: []byte(`{"auditID":"d0"}`), Fields: []string{"get"}}))
	buf[first+12] ^= 0xff // the second record's payload
	p := filepath.Join(dir, segName(1))
	if err := os.WriteFile(p, buf, 0o600); err != nil {
		t.Fatal(err)
	}
	var logs lockedBuf
	f := newFixture(t, Options{LabelNames: []string{"verb"}, StoreDir: dir, Logger: slog.New(slog.NewJSONHandler(&logs, nil))}, lokitest.Options{})
	if _, err := run(t, f.sink); err != nil {
		t.Fatal(err)
	}
	if n := f.srv.Count(""); n != 1 {
		t.Errorf("Loki got %d lines, want the 1 before the damaged record", n)
	}
	out := logs.String()
	if !strings.Contains(out, `"level":"ERROR"`) || !strings.Contains(out, "segment damaged") || !strings.Contains(out, fmt.Sprintf(`"bytes":%d`, len(buf)-first)) {
		t.Errorf("no ERROR names the damaged segment and the %d bytes cut:\n%s", len(buf)-first, out)
	}
	if v := metrics.Value(f.m.StoreDamaged.WithLabelValues("loki")); v != float64(len(buf)-first) {
		t.Errorf("store_damaged_bytes_total{sink=loki} = %v, want the %d bytes cut", v, len(buf)-first)
	}
}
