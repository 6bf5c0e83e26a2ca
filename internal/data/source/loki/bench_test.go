package loki_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/data/source/loki"
	"github.com/audittui/audittui/internal/data/source/loki/lokitest"
	"github.com/audittui/audittui/internal/testutil"
)

const benchEntries = 1_000_000

var (
	benchOnce sync.Once
	benchSrv  *lokitest.Server
	benchFrom int64
	benchTo   int64
)

// benchServer holds 1M audit events in 4 streams over one hour. Lines come
// from a pool of 1000 distinct events (the server stores references), so
// the server's memory stays small and the benchmark measures the client.
func benchServer(b *testing.B) *lokitest.Server {
	b.Helper()
	benchOnce.Do(func() {
		benchSrv = lokitest.New(lokitest.Options{})
		pool := make([][]byte, 1000)
		verbs := []string{"get", "list", "watch", "create", "update", "patch", "delete"}
		for i := range pool {
			pool[i] = []byte(fmt.Sprintf(`{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"b0e5f6a2-0000-4000-8000-%012d","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/ns-%d/pods","verb":"%s","user":{"username":"user-%d","groups":["system:authenticated"]},"sourceIPs":["10.0.%d.%d"],"userAgent":"kubectl/v1.31.0","objectRef":{"resource":"pods","namespace":"ns-%d","apiVersion":"v1"},"responseStatus":{"metadata":{},"code":200},"requestReceivedTimestamp":"2026-11-25T10:00:00.000000Z","stageTimestamp":"2026-11-25T10:00:00.001000Z"}`,
				i, i%20, verbs[i%len(verbs)], i%50, i%256, i%200, i%20))
		}
		benchTo = time.Now().Truncate(time.Second).UnixNano()
		benchFrom = benchTo - int64(time.Hour)
		step := int64(time.Hour) / benchEntries
		const streams = 4
		for s := range streams {
			st := loki.PushStream{Labels: data.Labels{{Name: "job", Value: "audit"}, {Name: "node", Value: "cp-" + strconv.Itoa(s)}}}
			for i := s; i < benchEntries; i += streams {
				st.Entries = append(st.Entries, loki.PushEntry{Time: benchFrom + int64(i)*step, Line: pool[i%len(pool)]})
			}
			benchSrv.Push("", loki.PushRequest{Streams: []loki.PushStream{st}})
		}
	})
	return benchSrv
}

// Both benchmarks count the in-process test server's work (selecting and
// JSON-encoding every page) as well as the client's.

// BenchmarkPull1M pulls 1M entries with 5000-entry pages, the hour split
// into 16 sub-ranges fetched by 4 workers (the test server runs in the same
// process, so its JSON encoding is in the numbers too).
//
//	go test -run '^$' -bench Pull1M -benchtime 1x ./internal/data/source/loki/
func BenchmarkPull1M(b *testing.B) {
	s := benchServer(b)
	c, err := loki.NewClient(loki.Config{Addr: s.URL})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	start, cpu0 := time.Now(), testutil.CPUTime().Seconds()
	total := 0
	for range b.N {
		it, err := c.Logs(context.Background(), loki.LogsRequest{Query: `{job="audit"}`, From: benchFrom, To: benchTo,
			BatchSize: 5000, ParallelDuration: time.Hour / 16, ParallelMaxWorkers: 4})
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for {
			pg, err := it.Next(context.Background())
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			n += len(pg.Entries)
		}
		if n != benchEntries {
			b.Fatalf("pulled %d entries, want %d", n, benchEntries)
		}
		total += n
	}
	b.ReportMetric(float64(total)/time.Since(start).Seconds(), "entries/s")
	b.ReportMetric(float64(total)/(testutil.CPUTime().Seconds()-cpu0), "entries/cpu-s")
	b.ReportMetric(float64(testutil.PeakRSSKiB())/1024, "peakRSS-MB")
}

// BenchmarkSource1M is BenchmarkPull1M plus decoding every line into an
// Event (the Loki source as the TUI and query use it).
func BenchmarkSource1M(b *testing.B) {
	s := benchServer(b)
	c, err := loki.NewClient(loki.Config{Addr: s.URL})
	if err != nil {
		b.Fatal(err)
	}
	src := newSource(b, c, loki.SourceOptions{BatchSize: 5000, ParallelDuration: time.Hour / 16, ParallelMaxWorkers: 4})
	b.ReportAllocs()
	b.ResetTimer()
	start, cpu0 := time.Now(), testutil.CPUTime().Seconds()
	total := 0
	for range b.N {
		st, err := src.Open(context.Background(), data.ReadOptions{From: benchFrom, To: benchTo})
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for {
			bt, err := st.Next(context.Background())
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			if len(bt.Rejects) > 0 {
				b.Fatalf("reject: %v", bt.Rejects[0])
			}
			n += len(bt.Events)
		}
		st.Close()
		if n != benchEntries {
			b.Fatalf("decoded %d events, want %d", n, benchEntries)
		}
		total += n
	}
	b.ReportMetric(float64(total)/time.Since(start).Seconds(), "events/s")
	b.ReportMetric(float64(total)/(testutil.CPUTime().Seconds()-cpu0), "events/cpu-s")
	b.ReportMetric(float64(testutil.PeakRSSKiB())/1024, "peakRSS-MB")
}
