package rules

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"testing"
	"time"

	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/data/logql"
	"github.com/audittui/audittui/internal/data/source/file"
	"github.com/audittui/audittui/internal/testutil"
)

// benchFile is the input of the benchmarks: AUDITTUI_BENCH_FILE (for
// example the ~1 GB file from `go run ./cmd/auditgen`), else the bundled
// sample. b's bytes per operation are set to its size.
func benchFile(b *testing.B) string {
	b.Helper()
	path := os.Getenv("AUDITTUI_BENCH_FILE")
	if path == "" {
		path = samplePathB(b)
	}
	fi, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(fi.Size())
	return path
}

func samplePathB(b *testing.B) string {
	b.Helper()
	p := "../../../testdata/sample/audit.log"
	if _, err := os.Stat(p); err != nil {
		b.Skipf("no sample: %v", err)
	}
	return p
}

func reportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric(float64(testutil.CPUTime()-start)/float64(b.N), "cpu-ns/op")
}

func openBench(b testing.TB, path string) data.Stream {
	b.Helper()
	src, err := file.New(path, file.Options{})
	if err != nil {
		b.Fatal(err)
	}
	st, err := data.OpenAll(context.Background(), []data.Source{src}, data.ReadOptions{})
	if err != nil {
		b.Fatal(err)
	}
	return st
}

// BenchmarkAllRules replays the whole built-in pack over the input:
// read, decode once, offer every event to every rule, step, alert.
func BenchmarkAllRules(b *testing.B) {
	path := benchFile(b)
	set, err := Builtin()
	if err != nil {
		b.Fatal(err)
	}
	defer reportCPU(b, testutil.CPUTime())
	for b.Loop() {
		st := openBench(b, path)
		res, err := Replay(context.Background(), st, set, Options{})
		if err != nil {
			b.Fatal(err)
		}
		st.Close()
		b.ReportMetric(float64(len(res.Alerts)), "alerts")
	}
}

// BenchmarkLiveAllRules is BenchmarkAllRules through the live evaluator
// (as the TUI and alerts --follow run it: steps 10 s behind the newest
// event, state dropped as windows pass), fed the whole input at once.
func BenchmarkLiveAllRules(b *testing.B) {
	path := benchFile(b)
	set, err := Builtin()
	if err != nil {
		b.Fatal(err)
	}
	defer reportCPU(b, testutil.CPUTime())
	for b.Loop() {
		st := openBench(b, path)
		ev, err := NewEvaluator(set, Options{})
		if err != nil {
			b.Fatal(err)
		}
		for {
			batch, err := st.Next(context.Background())
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			for i := range batch.Events {
				ev.Push(&batch.Events[i])
			}
		}
		st.Close()
		b.ReportMetric(float64(len(ev.Finish())), "alerts")
	}
}

// BenchmarkOneQuery is the baseline: the same read and decode, with one
// metric query (the seed's SecretAccessed expression) evaluated over the
// whole input as `audittui query` would.
func BenchmarkOneQuery(b *testing.B) {
	path := benchFile(b)
	q, err := logql.ParseMetric(`sum(count_over_time({job="audit"} | json | objectRef_resource="secrets" | verb=~"get|list" [5m])) by (user_username, objectRef_namespace, objectRef_name) > 0`)
	if err != nil {
		b.Fatal(err)
	}
	defer reportCPU(b, testutil.CPUTime())
	for b.Loop() {
		st := openBench(b, path)
		ev := q.NewInstantEvaluator(1 << 62)
		n := 0
		for {
			batch, err := st.Next(context.Background())
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			for i := range batch.Events {
				ev.Add(&batch.Events[i])
				n++
			}
		}
		st.Close()
		_ = ev.Vector()
		b.ReportMetric(float64(n), "events")
	}
}

// benchEvents decodes the events of the input's first 100 MB (whole
// lines), outside any timer; b's bytes per operation are set to their size.
func benchEvents(b *testing.B) []data.Event {
	b.Helper()
	f, err := os.Open(benchFile(b))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	buf, err := io.ReadAll(io.LimitReader(f, 100<<20))
	if err != nil {
		b.Fatal(err)
	}
	if i := bytes.LastIndexByte(buf, '\n'); i >= 0 {
		buf = buf[:i+1]
	}
	b.SetBytes(int64(len(buf)))
	return decodeSelected(b, "bench.log", buf, nil)
}

// BenchmarkPushDecoded measures the rules alone: the events of the input
// (at most its first 100 MB) are decoded once, outside the timer, then
// every operation offers them all to a live evaluator of the built-in
// pack, as a Parallel shard does. ns/event is the figure to compare.
func BenchmarkPushDecoded(b *testing.B) {
	evs := benchEvents(b)
	set, err := Builtin()
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	defer reportCPU(b, testutil.CPUTime())
	for b.Loop() {
		ev, err := NewEvaluator(set, Options{})
		if err != nil {
			b.Fatal(err)
		}
		for i := range evs {
			ev.Push(&evs[i])
		}
		b.ReportMetric(float64(len(ev.Finish())), "alerts")
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(evs)), "ns/event")
}

// BenchmarkDispatch measures finding each event's candidate rules (the
// dispatch alone) over the decoded events of the input's first 100 MB.
// cpu-ns/event (the process's CPU time) is the figure to compare on a
// shared machine.
func BenchmarkDispatch(b *testing.B) { benchDispatch(b, benchEvents(b)) }

// BenchmarkDispatchCached is BenchmarkDispatch over the first 1,000
// events only, which stay in the processor's caches: the dispatch's own
// work, without the memory stalls of reading 100 MB of events.
func BenchmarkDispatchCached(b *testing.B) {
	evs := benchEvents(b)
	b.SetBytes(0) // benchEvents counted 100 MB
	benchDispatch(b, evs[:min(len(evs), 1000)])
}

func benchDispatch(b *testing.B, evs []data.Event) {
	set, err := Builtin()
	if err != nil {
		b.Fatal(err)
	}
	e, err := NewEvaluator(set, Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := testutil.CPUTime()
	for b.Loop() {
		for i := range evs {
			e.dispatch().candidates(&evs[i])
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(evs)), "ns/event")
	b.ReportMetric(float64((testutil.CPUTime()-cpu0).Nanoseconds())/float64(b.N*len(evs)), "cpu-ns/event")
}

// BenchmarkParallelDecoded measures the rules as the TUI runs them: the
// events of the input (at most its first 100 MB), decoded once outside
// the timer, are pushed in batches of 2,000 (about a read chunk's) to a
// Parallel of the built-in pack in 4 shards (two per core on the 2-core
// machine of bench/README), Deduplicated and Unbounded as for a file
// the TUI opens; every operation builds the Parallel, pushes every batch
// and finishes. cpu-ns/op (all goroutines: the dispatch on the pushing
// one, the shards on theirs) is the figure to compare.
func BenchmarkParallelDecoded(b *testing.B) {
	evs := benchEvents(b)
	set, err := Builtin()
	if err != nil {
		b.Fatal(err)
	}
	const batch = 2000
	b.ResetTimer()
	defer reportCPU(b, testutil.CPUTime())
	for b.Loop() {
		p, err := NewParallel(set, Options{Deduplicated: true, Reorder: Unbounded}, 4)
		if err != nil {
			b.Fatal(err)
		}
		for i := 0; i < len(evs); i += batch {
			p.Push(&data.Batch{Events: evs[i:min(i+batch, len(evs))]})
		}
		p.Finish()
		b.ReportMetric(float64(len(p.Snapshot())), "alerts")
		p.Close()
	}
}
