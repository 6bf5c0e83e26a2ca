package lokisink

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

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
	err := s.Run(ctx, in, func(b *pipe.Batch) { acked = append(acked, b.Seq) })
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
	go f2.sink.Run(ctx, in, func(b *pipe.Batch) { acked <- b.Seq })
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

func TestBadRequestDeadLettered(t *testing.T) {
	f := newFixture(t, Options{}, lokitest.Options{})
	f.srv.FailPushes(1, 400, "entry for stream '{job=\"audit\"}' has timestamp too old")
	acked, err := run(t, f.sink, batch(1, 2, "get"))
	if err != nil || len(acked) != 1 {
		t.Fatalf("acked %v err %v", acked, err)
	}
	if n := metrics.Value(f.m.SinkDeadLines.WithLabelValues("loki")); n != 2 {
		t.Errorf("dead-lettered %v", n)
	}
	fh, err := os.Open(f.dl)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	sc := bufio.NewScanner(fh)
	if !sc.Scan() {
		t.Fatal("empty dead-letter file")
	}
	var rec DeadLetterRecord
	if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
		t.Fatal(err)
	}
	if rec.Status != 400 || !strings.Contains(rec.Reason, "timestamp too old") || len(rec.Streams) != 1 || len(rec.Streams[0].Entries) != 2 ||
		!strings.Contains(rec.Streams[0].Entries[0].Line, `"auditID":"b1-0"`) {
		t.Errorf("dead letter %+v", rec)
	}
	if f.srv.Count("") != 0 {
		t.Error("server stored a rejected push")
	}
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
	err := s.Run(ctx, in, func(*pipe.Batch) { acked++ })
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
