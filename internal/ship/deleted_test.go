package ship

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/audittui/audittui/internal/ship/config"
	"github.com/audittui/audittui/internal/ship/metrics"
	"github.com/audittui/audittui/internal/ship/pipe"
)

// The live file deleted and recreated twice while a sink is stuck
// (reading held): the file in between, deleted before reading moved on,
// is still shipped, every line once, and nothing is counted lost (review
// B, finding 8).
func TestRecreatedWhileASinkIsStuckIsShipped(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "audit.log")
	const first = 30000 // more than the buffer holds: reading stops inside
	os.WriteFile(p, eventLines(first, 0), 0o600)
	c := &config.Config{Path: p, StateDir: filepath.Join(dir, "state"), MemBufLimit: 4 << 20, RefreshInterval: config.Duration(20 * time.Millisecond)}
	m := metrics.New()
	stuck := stuckSink{release: make(chan struct{})}
	sink := &collectSink{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Run(ctx, Options{Config: c, Metrics: m, Sinks: []pipe.Sink{sink, stuck}}) }()
	waitUntil(t, "backpressure", func() bool { return metrics.Value(m.Backpressure) == 1 })
	if n := metrics.Value(m.LinesRead); n >= first {
		t.Fatalf("read all %v lines of the first file: reading is not held", n)
	}
	os.Remove(p)
	os.WriteFile(p, eventLines(100, first), 0o600)
	time.Sleep(300 * time.Millisecond) // at the path for a while
	os.Remove(p)
	os.WriteFile(p, eventLines(100, first+100), 0o600)
	close(stuck.release)
	waitUntil(t, "caught up", func() bool { return m.LagBytes() == 0 && metrics.Value(m.Backpressure) == 0 })
	time.Sleep(100 * time.Millisecond)
	seen := map[string]int{}
	for _, l := range sink.got() {
		i := strings.Index(l, `"auditID":"`)
		seen[l[i+11:i+20]]++
	}
	var missing, dup []int
	for i := range first + 200 {
		switch seen[fmt.Sprintf("id-%06d", i)] {
		case 0:
			missing = append(missing, i)
		case 1:
		default:
			dup = append(dup, i)
		}
	}
	if len(missing) > 0 || len(dup) > 0 {
		t.Fatalf("%d lines shipped; missing %d (first %v), repeated %d", len(sink.got()), len(missing), missing[:min(len(missing), 3)], len(dup))
	}
	if g := metrics.Value(m.GapFiles); g != 0 {
		t.Fatalf("gap_files_total %v", g)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
