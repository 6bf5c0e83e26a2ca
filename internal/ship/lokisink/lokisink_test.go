package lokisink

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/klauspost/compress/snappy"

	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/data/source/loki"
	"github.com/audittui/audittui/internal/data/source/loki/lokitest"
	"github.com/audittui/audittui/internal/ship/metrics"
	"github.com/audittui/audittui/internal/ship/pipe"
	"github.com/audittui/audittui/internal/ship/process"
)

func batch(seq uint64, n int, verb string) *pipe.Batch {
	b := &pipe.Batch{Seq: seq}
	for i := 0; i < n; i++ {
		line := fmt.Sprintf(`{"auditID":"b%d-%d","verb":"%s"}`, seq, i, verb)
		b.Records = append(b.Records, process.Record{Line: []byte(line), Time: int64(seq*1000 + uint64(i)), Fields: []string{verb, "alice"}})
		b.LineBytes += int64(len(line))
	}
	return b
}

type fixture struct {
	srv  *lokitest.Server
	sink *Sink
	m    *metrics.Metrics
	dl   string
}

func newFixture(t *testing.T, o Options, so lokitest.Options) *fixture {
	t.Helper()
	srv := lokitest.New(so)
	t.Cleanup(srv.Close)
	c, err := loki.NewClient(loki.Config{Addr: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	m := metrics.New()
	o.Client, o.Metrics = c, m
	if o.DeadLetter == "" {
		o.DeadLetter = filepath.Join(t.TempDir(), "dl", "dead.jsonl")
	}
	o.Backoff = loki.Backoff{Min: time.Millisecond, Max: 5 * time.Millisecond}
	if o.Static == nil {
		o.Static = data.Labels{{Name: "job", Value: "audit"}, {Name: "cluster", Value: "c1"}}
	}
	s, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{srv: srv, sink: s, m: m, dl: o.DeadLetter}
}

func run(t *testing.T, s *Sink, batches ...*pipe.Batch) ([]uint64, error) {
	t.Helper()
	in := make(chan *pipe.Batch, len(batches))
	for _, b := range batches {
		in <- b
	}
	close(in)
	var acked []uint64
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := s.Run(ctx, in, func(bs ...*pipe.Batch) {
		for _, b := range bs {
			acked = append(acked, b.Seq)
		}
	})
	return acked, err
}

func TestPushStreamsLabelsAndTimestamps(t *testing.T) {
	f := newFixture(t, Options{LabelNames: []string{"verb"}, MetadataNames: []string{"user_username"}, BatchSize: 1 << 20}, lokitest.Options{})
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
	for _, e := range got {
		verb, _ := e.Labels.Get("verb")
		job, _ := e.Labels.Get("job")
		if job != "audit" || !strings.Contains(e.Line, `"verb":"`+verb+`"`) {
			t.Errorf("entry %+v", e)
		}
		if u, _ := e.Metadata.Get("user_username"); u != "alice" {
			t.Errorf("metadata %v", e.Metadata)
		}
		if _, ok := e.Labels.Get("user_username"); ok {
			t.Error("metadata key sent as label")
		}
	}
	if got[0].Time != 1000 {
		t.Errorf("first time %d", got[0].Time)
	}
	if n := metrics.Value(f.m.SinkSentLines.WithLabelValues("loki")); n != 5 {
		t.Errorf("sent %v", n)
	}
	if reqs := f.srv.Requests(); len(reqs) != 1 || reqs[0].Header.Get("Content-Type") != "application/x-protobuf" {
		t.Errorf("requests %+v", reqs)
	}
}

func TestBatchBySizeAndWait(t *testing.T) {
	f := newFixture(t, Options{BatchSize: 90, BatchWait: 20 * time.Millisecond}, lokitest.Options{})
	if _, err := run(t, f.sink, batch(1, 3, "get"), batch(2, 3, "get"), batch(3, 1, "get")); err != nil {
		t.Fatal(err)
	}
	if n := len(f.srv.Requests()); n != 3 {
		t.Errorf("%d pushes, want one per batch over 90 bytes", n)
	}
	// Wait: a small batch is pushed after BatchWait without closing input.
	f2 := newFixture(t, Options{BatchSize: 1 << 20, BatchWait: 10 * time.Millisecond}, lokitest.Options{})
	in := make(chan *pipe.Batch, 1)
	in <- batch(1, 1, "get")
	acked := make(chan uint64, 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go f2.sink.Run(ctx, in, func(bs ...*pipe.Batch) { acked <- bs[0].Seq })
	select {
	case <-acked:
	case <-time.After(5 * time.Second):
		t.Fatal("batch not pushed after BatchWait")
	}
}

func TestRetry429And500(t *testing.T) {
	f := newFixture(t, Options{}, lokitest.Options{})
	f.srv.FailPushes(2, 429, "Ingestion rate limit exceeded")
	if _, err := run(t, f.sink, batch(1, 2, "get")); err != nil {
		t.Fatal(err)
	}
	f.srv.FailPushes(1, 500, "internal error")
	if _, err := run(t, f.sink, batch(2, 2, "get")); err != nil {
		t.Fatal(err)
	}
	if f.srv.Count("") != 4 {
		t.Fatalf("count %d", f.srv.Count(""))
	}
	if n := metrics.Value(f.m.SinkRetries.WithLabelValues("loki")); n != 3 {
		t.Errorf("retries %v", n)
	}
	if _, err := os.Stat(f.dl); !os.IsNotExist(err) {
		t.Error("dead letter written for retryable errors")
	}
}

// A refusal of a whole push (the server stored nothing) is split down to
// the lines refused; here it was the first attempt only, so every line is
// delivered in the end and none dead-lettered.
func TestRefusedPushIsSplit(t *testing.T) {
	f := newFixture(t, Options{}, lokitest.Options{})
	f.srv.FailPushes(1, 400, "entry for stream '{job=\"audit\"}' has timestamp too old")
	acked, err := run(t, f.sink, batch(1, 2, "get"))
	if err != nil || len(acked) != 1 {
		t.Fatalf("acked %v err %v", acked, err)
	}
	if f.srv.Count("") != 2 {
		t.Fatalf("server stored %d of 2 lines", f.srv.Count(""))
	}
	if _, err := os.Stat(f.dl); !os.IsNotExist(err) {
		t.Error("good lines dead-lettered")
	}
}

func readDeadLetters(t *testing.T, path string) []DeadLetterRecord {
	t.Helper()
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	var out []DeadLetterRecord
	sc := bufio.NewScanner(fh)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		var rec DeadLetterRecord
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatalf("dead-letter line: %v", err)
		}
		out = append(out, rec)
	}
	return out
}

func TestAuthErrorRetriedNotDeadLettered(t *testing.T) {
	f := newFixture(t, Options{}, lokitest.Options{})
	f.srv.FailPushes(2, 401, "no org id")
	if _, err := run(t, f.sink, batch(1, 1, "get")); err != nil {
		t.Fatal(err)
	}
	if f.srv.Count("") != 1 {
		t.Fatal("not delivered after the auth error cleared")
	}
	if _, err := os.Stat(f.dl); !os.IsNotExist(err) {
		t.Error("auth failure dead-lettered")
	}
}

func TestServerDownUntilContextEnds(t *testing.T) {
	c, _ := loki.NewClient(loki.Config{Addr: "http://127.0.0.1:1"})
	s, _ := New(Options{Client: c, Backoff: loki.Backoff{Min: time.Millisecond, Max: 2 * time.Millisecond}, DeadLetter: filepath.Join(t.TempDir(), "dl")})
	in := make(chan *pipe.Batch, 1)
	in <- batch(1, 1, "get")
	close(in)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	var acked int
	err := s.Run(ctx, in, func(bs ...*pipe.Batch) { acked += len(bs) })
	if err == nil || acked != 0 {
		t.Fatalf("err %v acked %d: a batch must not be acknowledged while the server is down", err, acked)
	}
}

func TestHighCardinalityWarning(t *testing.T) {
	var sb strings.Builder
	c, _ := loki.NewClient(loki.Config{Addr: "http://127.0.0.1:1"})
	_, err := New(Options{Client: c, LabelNames: []string{"verb", "user_username"}, Logger: slogTo(&sb)})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(sb.String(), "user_username") {
		t.Errorf("no cardinality warning: %s", sb.String())
	}
	// The names come from the schema: the first source IP as a record
	// accessor spells it ($sourceIPs[0]) warns, verb and resource do not.
	sb.Reset()
	if _, err := New(Options{Client: c, LabelNames: []string{"verb", "objectRef_resource", "sourceIPs_0"}, Logger: slogTo(&sb)}); err != nil {
		t.Fatal(err)
	}
	if out := sb.String(); !strings.Contains(out, "labels=sourceIPs_0") {
		t.Errorf("want a warning naming only sourceIPs_0: %s", out)
	}
}

// distributor answers pushes as Loki's distributor does: each entry is
// validated on its own, the valid ones are stored (an exact duplicate of
// a stored entry is dropped, as Loki does) and the push is answered 400
// with the last validation error.
type distributor struct {
	mu      sync.Mutex
	maxLine int
	stored  map[string]bool
	lines   []string
	pushes  []int // bytes of lines per push
	// window: unordered writes refuse an entry more than window behind
	// its stream's newest ("entry too far behind"); 0 turns it off.
	window time.Duration
	newest map[string]int64
	// refuseAll answers every push 400 with this body (a wrong URL path).
	refuseAll string
}

func newDistributor(t *testing.T, maxLine int) (*distributor, string) {
	d := &distributor{maxLine: maxLine, stored: map[string]bool{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		pb, err := snappy.Decode(nil, body)
		if err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		req, err := loki.DecodePushProtobuf(pb)
		if err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		d.mu.Lock()
		defer d.mu.Unlock()
		if d.refuseAll != "" {
			d.pushes = append(d.pushes, 0)
			http.Error(w, d.refuseAll, 400)
			return
		}
		var last string
		n := 0
		for _, st := range req.Streams {
			ls := loki.FormatLabels(st.Labels)
			for _, e := range st.Entries {
				n += len(e.Line)
				switch {
				case d.maxLine > 0 && len(e.Line) > d.maxLine:
					last = fmt.Sprintf("Max entry size '%d' bytes exceeded for stream '%s' while adding an entry with length '%d' bytes", d.maxLine, ls, len(e.Line))
					continue
				case strings.Contains(string(e.Line), "ancient"):
					last = fmt.Sprintf("entry for stream '%s' has timestamp too old: %d", ls, e.Time)
					continue
				case d.window > 0 && e.Time < d.newest[ls]-int64(d.window):
					last = fmt.Sprintf("entry with timestamp %s ignored, reason: 'entry too far behind, entry timestamp is: %s, oldest acceptable timestamp is: %s' for stream: %s",
						time.Unix(0, e.Time).UTC(), time.Unix(0, e.Time).UTC().Format(time.RFC3339), time.Unix(0, d.newest[ls]-int64(d.window)).UTC().Format(time.RFC3339), ls)
					continue
				}
				if d.newest != nil && e.Time > d.newest[ls] {
					d.newest[ls] = e.Time
				}
				k := fmt.Sprint(ls, e.Time, string(e.Line))
				if !d.stored[k] {
					d.stored[k] = true
					d.lines = append(d.lines, string(e.Line))
				}
			}
		}
		d.pushes = append(d.pushes, n)
		if last != "" {
			http.Error(w, last, 400)
			return
		}
		w.WriteHeader(204)
	}))
	t.Cleanup(srv.Close)
	return d, srv.URL
}

func distributorSink(t *testing.T, url string, o Options) (*Sink, *metrics.Metrics, string) {
	t.Helper()
	c, err := loki.NewClient(loki.Config{Addr: url})
	if err != nil {
		t.Fatal(err)
	}
	m := metrics.New()
	o.Client, o.Metrics = c, m
	o.DeadLetter = filepath.Join(t.TempDir(), "dead.jsonl")
	o.Backoff = loki.Backoff{Min: time.Millisecond, Max: 5 * time.Millisecond}
	o.Static = data.Labels{{Name: "job", Value: "audit"}}
	s, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return s, m, o.DeadLetter
}

func lineBatch(seq uint64, lines ...string) *pipe.Batch {
	b := &pipe.Batch{Seq: seq}
	for i, l := range lines {
		b.Records = append(b.Records, process.Record{Line: []byte(l), Time: int64(seq*1000) + int64(i)})
		b.LineBytes += int64(len(l))
	}
	return b
}

func deadLines(recs []DeadLetterRecord) []string {
	var out []string
	for _, r := range recs {
		for _, st := range r.Streams {
			for _, e := range st.Entries {
				out = append(out, e.Line)
			}
		}
	}
	return out
}

// One line over Loki's limit among good ones: the good ones are stored
// once, only the long one is dead-lettered (it used to take the whole
// batch with it).
func TestLineTooLongForLokiDeadLettersOnlyIt(t *testing.T) {
	long := `{"auditID":"long","pad":"` + strings.Repeat("x", 300) + `"}`
	var good []string
	for i := range 10 {
		good = append(good, fmt.Sprintf(`{"auditID":"g%d"}`, i))
	}
	lines := append(append(append([]string{}, good[:5]...), long), good[5:]...)

	t.Run("server limit", func(t *testing.T) {
		d, url := newDistributor(t, 100)
		s, m, dl := distributorSink(t, url, Options{})
		if acked, err := run(t, s, lineBatch(1, lines...)); err != nil || len(acked) != 1 {
			t.Fatalf("acked %v err %v", acked, err)
		}
		if strings.Join(d.lines, "\n") != strings.Join(good, "\n") || len(d.pushes) != 1 {
			t.Fatalf("stored %q in %d pushes", d.lines, len(d.pushes))
		}
		recs := readDeadLetters(t, dl)
		if got := deadLines(recs); len(got) != 1 || got[0] != long || recs[0].Status != 400 || !strings.Contains(recs[0].Reason, "Max entry size '100'") {
			t.Fatalf("dead letters %+v", recs)
		}
		if metrics.Value(m.SinkSentLines.WithLabelValues("loki")) != 10 || metrics.Value(m.SinkDeadLines.WithLabelValues("loki")) != 1 {
			t.Fatal("counts")
		}
	})
	t.Run("client limit", func(t *testing.T) {
		d, url := newDistributor(t, 100)
		s, _, dl := distributorSink(t, url, Options{MaxLineSize: 100})
		if _, err := run(t, s, lineBatch(1, lines...)); err != nil {
			t.Fatal(err)
		}
		if strings.Join(d.lines, "\n") != strings.Join(good, "\n") || len(d.pushes) != 1 || d.pushes[0] > 10*len(good[0]) {
			t.Fatalf("stored %q, pushes %v: the long line was sent", d.lines, d.pushes)
		}
		recs := readDeadLetters(t, dl)
		if got := deadLines(recs); len(got) != 1 || got[0] != long || recs[0].Status != 0 || !strings.Contains(recs[0].Reason, "Max_line_size") {
			t.Fatalf("dead letters %+v", recs)
		}
	})
}

// Another refusal (a timestamp too old) is narrowed down by splitting:
// only the refused line is dead-lettered; the others end up stored once.
func TestRefusalNarrowedToTheRefusedLine(t *testing.T) {
	var lines, good []string
	for i := range 9 {
		l := fmt.Sprintf(`{"auditID":"g%d"}`, i)
		if i == 6 {
			l = `{"auditID":"ancient"}`
		} else {
			good = append(good, l)
		}
		lines = append(lines, l)
	}
	d, url := newDistributor(t, 0)
	s, _, dl := distributorSink(t, url, Options{})
	if _, err := run(t, s, lineBatch(1, lines...)); err != nil {
		t.Fatal(err)
	}
	sort.Strings(d.lines)
	if strings.Join(d.lines, "\n") != strings.Join(good, "\n") {
		t.Fatalf("stored %q", d.lines)
	}
	if got := deadLines(readDeadLetters(t, dl)); len(got) != 1 || got[0] != `{"auditID":"ancient"}` {
		t.Fatalf("dead-lettered %q", got)
	}
}

// A spooled line (on disk, not in memory) is dead-lettered whole, its
// JSON escaping right across the reads: quotes, control characters,
// multi-byte runes cut by a read, invalid UTF-8.
func TestSpooledLineDeadLetteredWhole(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"auditID":"huge","v":"`)
	for b.Len() < 200<<10 {
		b.WriteString("é€😀\"\\\t\x01a")
		b.WriteByte(0xff)
	}
	b.WriteString(`"}`)
	line := b.String()
	f, err := os.CreateTemp(t.TempDir(), "spool")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	f.WriteString(line)
	d, url := newDistributor(t, 0)
	s, m, dl := distributorSink(t, url, Options{MaxLineSize: 1 << 10})
	bt := &pipe.Batch{Seq: 1, Records: []process.Record{{Spool: f, SpoolSize: int64(len(line)), Time: 5}, {Line: []byte(`{"auditID":"small"}`), Time: 6}}}
	if _, err := run(t, s, bt); err != nil {
		t.Fatal(err)
	}
	if len(d.lines) != 1 || d.lines[0] != `{"auditID":"small"}` {
		t.Fatalf("stored %q", d.lines)
	}
	got := deadLines(readDeadLetters(t, dl))
	want := strings.ToValidUTF8(line, "\uFFFD")
	if len(got) != 1 || got[0] != want {
		t.Fatalf("dead-lettered line differs (%d bytes, want %d)", len(got[0]), len(want))
	}
	if metrics.Value(m.SinkDeadLines.WithLabelValues("loki")) != 1 {
		t.Fatal("not counted")
	}
}

// A push holds at most Batch_size bytes (unless one batch is larger): a
// crash re-sends at most that.
func TestPushesAtMostBatchSize(t *testing.T) {
	d, url := newDistributor(t, 0)
	s, _, _ := distributorSink(t, url, Options{BatchSize: 300, BatchWait: time.Hour})
	var bs []*pipe.Batch
	for i := range 10 {
		bs = append(bs, lineBatch(uint64(i+1), strings.Repeat("a", 60), strings.Repeat("b", 60)))
	}
	bs = append(bs, lineBatch(11, strings.Repeat("c", 500)))
	if _, err := run(t, s, bs...); err != nil {
		t.Fatal(err)
	}
	for i, n := range d.pushes {
		if n > 300 && n != 500 {
			t.Fatalf("push %d holds %d bytes (Batch_size 300): %v", i, n, d.pushes)
		}
	}
}

// When ship stops, a push that would still be in flight when the grace
// period ends is not started: cancelled then, Loki may have stored it,
// and it would be sent again after the restart.
func TestNoPushStartedThatTheGracePeriodCannotFinish(t *testing.T) {
	var mu sync.Mutex
	stored := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		mu.Lock()
		stored++
		mu.Unlock()
		time.Sleep(300 * time.Millisecond) // stored, answered late
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	c, err := loki.NewClient(loki.Config{Addr: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(Options{Client: c, BatchSize: 1, BatchWait: time.Millisecond, DeadLetter: filepath.Join(t.TempDir(), "dl"),
		Static: data.Labels{{Name: "job", Value: "audit"}}})
	if err != nil {
		t.Fatal(err)
	}
	in := make(chan *pipe.Batch, 2)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var acked []uint64
	var amu sync.Mutex
	done := make(chan error, 1)
	go func() {
		done <- s.Run(ctx, in, func(bs ...*pipe.Batch) {
			amu.Lock()
			defer amu.Unlock()
			for _, b := range bs {
				acked = append(acked, b.Seq)
			}
		})
	}()
	in <- batch(1, 1, "get")
	waitFor(t, func() bool { amu.Lock(); defer amu.Unlock(); return len(acked) == 1 })
	// Stop: 200 ms left, a push takes 300.
	s.StopBy(time.Now().Add(200 * time.Millisecond))
	time.AfterFunc(200*time.Millisecond, cancel)
	in <- batch(2, 1, "get")
	close(in)
	if err := <-done; err == nil {
		t.Fatal("Run returned nil with a batch not delivered")
	}
	mu.Lock()
	defer mu.Unlock()
	if stored != 1 || len(acked) != 1 {
		t.Fatalf("%d pushes stored, acknowledged %v: want only the first", stored, acked)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(5 * time.Second); time.Now().Before(end); time.Sleep(5 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatal("timed out")
}

// A node behind by more than Loki's window (another node's entries made
// the stream's newest an hour later): Loki refuses its old entries with
// "entry too far behind ... oldest acceptable timestamp is: T for stream:
// S". Every entry of S older than T is dead-lettered in one step, the rest
// stored, in a few pushes instead of two per line (review J, finding 3).
func TestTooFarBehindDeadLettersTheStreamInOneStep(t *testing.T) {
	d, url := newDistributor(t, 0)
	d.window, d.newest = time.Hour, map[string]int64{}
	s, m, dl := distributorSink(t, url, Options{LabelNames: []string{"verb"}, BatchSize: 1 << 20})
	now := time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC).UnixNano()
	rec := func(b *pipe.Batch, id string, ts int64, verb string) {
		l := fmt.Sprintf(`{"auditID":"%s"}`, id)
		b.Records = append(b.Records, process.Record{Line: []byte(l), Time: ts, Fields: []string{verb}})
		b.LineBytes += int64(len(l))
	}
	// The other node's current entry first (its own push).
	b1 := &pipe.Batch{Seq: 1}
	rec(b1, "other-node", now, "get")
	// This node's backlog: 2h to 0h old, in two streams; "list" has no
	// newer entry and is stored whole.
	b2 := &pipe.Batch{Seq: 2}
	var old, kept int
	for i := 0; i < 200; i++ {
		ts := now - int64(2*time.Hour) + int64(i)*int64(time.Minute)*3/5 // 2h back to ~0
		rec(b2, fmt.Sprintf("get-%03d", i), ts, "get")
		if ts < now-int64(time.Hour) {
			old++
		} else {
			kept++
		}
		rec(b2, fmt.Sprintf("list-%03d", i), ts, "list")
	}
	if _, err := run(t, s, b1); err != nil {
		t.Fatal(err)
	}
	if _, err := run(t, s, b2); err != nil {
		t.Fatal(err)
	}
	// Every line is stored or dead-lettered; the old ones of "get" are
	// dead-lettered, not stored. (Sent again with the rest, old "list"
	// entries Loki already stored may be refused as too far behind too:
	// Loki drops a duplicate only of the stream's last line. They are
	// then dead-lettered as well: a copy, not a loss.)
	dead := map[string]bool{}
	for _, l := range deadLines(readDeadLetters(t, dl)) {
		dead[l] = true
	}
	stored := map[string]bool{}
	for _, l := range d.lines {
		stored[l] = true
	}
	for _, r := range b2.Records {
		l := string(r.Line)
		isOld := strings.Contains(l, "get-") && r.Time < now-int64(time.Hour)
		switch {
		case isOld && (!dead[l] || stored[l]):
			t.Fatalf("%s: dead-lettered %v, stored %v; want dead-lettered only", l, dead[l], stored[l])
		case !isOld && !stored[l]:
			t.Fatalf("%s not stored", l)
		}
	}
	if n := metrics.Value(m.SinkDeadLines.WithLabelValues("loki")); int(n) != len(dead) {
		t.Errorf("dead-lettered metric %v, want %d", n, len(dead))
	}
	// 1 push for b1; b2: refused once, the rest sent again (a second
	// refusal may come for the entries within the bound's second).
	if n := len(d.pushes); n > 6 {
		t.Errorf("%d pushes for %d refused lines: bisected line by line", n, old)
	}
}

// A receiver that answers every push 400 with the same text (VictoriaLogs
// for a URL without /insert/loki/api/v1/push: "unsupported path") is a
// configuration error: after a few lines, pushes are retried instead of
// dead-lettered, and delivered once the answer changes.
func TestSameRefusalForEveryPushIsConfiguration(t *testing.T) {
	d, url := newDistributor(t, 0)
	d.refuseAll = "unsupported path requested: /api/v1/push"
	var logs strings.Builder
	var mu sync.Mutex
	s, m, dl := distributorSink(t, url, Options{BatchSize: 1 << 20, Logger: slogTo(lockedWriter{&mu, &logs})})
	var lines []string
	for i := 0; i < 500; i++ {
		lines = append(lines, fmt.Sprintf(`{"auditID":"w%03d"}`, i))
	}
	in := make(chan *pipe.Batch, 1)
	in <- lineBatch(1, lines...)
	close(in)
	done := make(chan error, 1)
	go func() {
		done <- s.Run(context.Background(), in, func(...*pipe.Batch) {})
	}()
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		said := strings.Contains(logs.String(), "configuration error")
		mu.Unlock()
		if said {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no configuration error said")
		}
		time.Sleep(2 * time.Millisecond)
	}
	d.mu.Lock()
	d.refuseAll = ""
	d.mu.Unlock()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	dead := metrics.Value(m.SinkDeadLines.WithLabelValues("loki"))
	if dead > configRefusals {
		t.Fatalf("%v lines dead-lettered, want at most %d before the answer was taken for a configuration error", dead, configRefusals)
	}
	if int(dead)+len(d.lines) != 500 {
		t.Fatalf("stored %d + dead-lettered %v, want 500", len(d.lines), dead)
	}
	_ = dl
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// The dead-letter file is capped: a refusal that finds it at
// Dead_letter_limit_size is not written, and its lines are counted in
// sink_dead_letter_dropped_lines_total (review J, finding 3).
func TestDeadLetterFileCapped(t *testing.T) {
	d, url := newDistributor(t, 0)
	_ = d
	s, m, dl := distributorSink(t, url, Options{})
	s.o.DeadLetterLimit = 100
	var lines []string
	for i := 0; i < 3; i++ {
		lines = append(lines, fmt.Sprintf(`{"auditID":"ancient-%d"}`, i))
	}
	for i, l := range lines {
		if _, err := run(t, s, lineBatch(uint64(i+1), l)); err != nil {
			t.Fatal(err)
		}
	}
	got := deadLines(readDeadLetters(t, dl))
	if len(got) != 1 || got[0] != lines[0] {
		t.Fatalf("dead-lettered %q, want only the first (the file is then over 100 bytes)", got)
	}
	if n := metrics.Value(m.DeadLetterDropped.WithLabelValues("loki")); n != 2 {
		t.Errorf("dropped %v lines, want 2", n)
	}
	if n := metrics.Value(m.SinkDeadLines.WithLabelValues("loki")); n != 1 {
		t.Errorf("dead-lettered %v lines, want 1", n)
	}
}
