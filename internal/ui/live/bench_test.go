package live

import (
	"context"
	"io"
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/audittui/audittui/internal/cli/cmdutil"
	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/data/source/file"
	"github.com/audittui/audittui/internal/policy/rules"
	"github.com/audittui/audittui/internal/testutil"
)

// BenchmarkDefaultCommandLine opens AUDITTUI_BIG_FILE (the ~1 GB file of
// `go run ./cmd/auditgen -size 1GB`) as the TUI's default command line
// does, without the terminal: Open with the built-in rules loaded while
// the first batches are read, the feed decoding each batch once, indexing
// it and handing it to the rules (Alerts), the collector tuned as the TUI
// tunes it (TuneGC, ended once loaded and evaluated). It reports the time to the first batch, to the full
// index, to every alert evaluated, the CPU time, the peak RSS and the
// evaluation time of each rule shard. With AUDITTUI_BENCH_NO_ALERTS=1 it
// measures --no-alerts; AUDITTUI_BENCH_GOGC sets a fixed GOGC instead of
// the tuning, to compare.
// bench/tui-alerts.sh runs the real binary in tmux.
func BenchmarkDefaultCommandLine(b *testing.B) {
	path := os.Getenv("AUDITTUI_BIG_FILE")
	if path == "" {
		b.Skip("set AUDITTUI_BIG_FILE to a big audit log (bench/tui-alerts.sh does)")
	}
	noAlerts := os.Getenv("AUDITTUI_BENCH_NO_ALERTS") != ""
	// AUDITTUI_BENCH_FOLLOW reads the file followed, as the TUI's default
	// command line does for one plain file: indexed once caught up.
	follow := os.Getenv("AUDITTUI_BENCH_FOLLOW") != ""
	if os.Getenv("AUDITTUI_BENCH_LIVE_REORDER") != "" {
		defer func(u bool) { finiteUnbounded = u }(finiteUnbounded)
		finiteUnbounded = false
	}
	// The tuning ends as the TUI ends it: once the index is loaded and
	// the rules have settled (cli/tui), with GOGC=40 from then on.
	var cur atomic.Pointer[Live]
	tuned := false
	if v, err := strconv.Atoi(os.Getenv("AUDITTUI_BENCH_GOGC")); err == nil {
		defer debug.SetGCPercent(debug.SetGCPercent(v)) // to compare collector settings
	} else {
		tuned = true
		defer TuneGC(context.Background(), func() bool {
			lv := cur.Load()
			return lv != nil && lv.Index.Loaded() && (lv.Alerts == nil || lv.Alerts.Settled())
		}, 40)()
	}
	for i := 0; i < b.N; i++ {
		runtime.GC()
		gc0 := gcCPU()
		cpu0 := testutil.CPUTime()
		start := time.Now()
		src, err := file.New(path, file.Options{})
		if err != nil {
			b.Fatal(err)
		}
		o := Options{Sources: []data.Source{src}, SpillDir: b.TempDir(), Alerts: !noAlerts,
			LoadRules: func() (*rules.Set, error) { return cmdutil.LoadRules(nil, false, io.Discard) }}
		o.Read.Follow = follow
		lv, err := Open(context.Background(), o)
		if err != nil {
			b.Fatal(err)
		}
		if i == 0 {
			cur.Store(lv)
		}
		lv.Feed.Wait()()
		first := time.Since(start)
		if follow {
			for !lv.Index.Loaded() {
				time.Sleep(time.Millisecond)
			}
		} else {
			<-lv.Feed.Done()
		}
		full := time.Since(start)
		evaluated := full
		b.ReportMetric(lv.Index.Busy().Seconds(), "s-index")
		if lv.Alerts != nil {
			sub := lv.Alerts.Subscribe()
			for !follow && !sub.Alerts().Done || follow && !lv.Alerts.Settled() {
				select {
				case <-sub.Changed():
				case <-time.After(time.Millisecond):
				}
			}
			evaluated = time.Since(start)
			for k, busy := range lv.Alerts.Busy() {
				b.ReportMetric(busy.Seconds(), "s-shard"+strconv.Itoa(k))
			}
			b.ReportMetric(float64(len(sub.Alerts().Local)), "alerts")
			sub.Close()
		}
		if tuned && i == 0 {
			// The peak RSS counts the hand-over to GOGC too.
			for deadline := time.Now().Add(10 * time.Second); debug.SetMemoryLimit(-1) != math.MaxInt64 && time.Now().Before(deadline); {
				time.Sleep(10 * time.Millisecond)
			}
		}
		b.ReportMetric(float64(first.Milliseconds()), "ms-first-batch")
		b.ReportMetric(float64(full.Milliseconds()), "ms-full-index")
		b.ReportMetric(float64(evaluated.Milliseconds()), "ms-evaluated")
		b.ReportMetric((testutil.CPUTime() - cpu0).Seconds(), "s-cpu")
		b.ReportMetric(gcCPU()-gc0, "s-gc-cpu")
		b.ReportMetric(float64(testutil.PeakRSSKiB())/1024, "peak-RSS-MiB")
		b.ReportMetric(float64(lv.Index.Snapshot().Len()), "events")
		lv.Close()
	}
}

// gcCPU is the CPU time the collector has used so far, in seconds (the
// runtime's estimate: /cpu/classes/gc/total:cpu-seconds).
func gcCPU() float64 {
	s := []metrics.Sample{{Name: "/cpu/classes/gc/total:cpu-seconds"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindFloat64 {
		return 0
	}
	return s[0].Value.Float64()
}
