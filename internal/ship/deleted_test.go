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

// Stopped while a sink is stuck, with a file deleted from the path kept
// open and not read: its lines are lost (a restart cannot find it). The
// stopping process counts it where a scrape rarely sees it, so the next
// start counts it again, once: gap_files_total and
// unrecoverable_bytes_total rise on the restarted process.
func TestLossAtStopCountedOnRestart(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "audit.log")
	const first = 30000 // more than the buffer holds: reading stops inside
	os.WriteFile(p, eventLines(first, 0), 0o600)
	c := &config.Config{Path: p, StateDir: filepath.Join(dir, "state"), MemBufLimit: 4 << 20,
		RefreshInterval: config.Duration(20 * time.Millisecond), GracePeriod: config.Duration(200 * time.Millisecond)}
	m := metrics.New()
	stuck := stuckSink{release: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Run(ctx, Options{Config: c, Metrics: m, Sinks: []pipe.Sink{stuck}}) }()
	waitUntil(t, "backpressure", func() bool { return metrics.Value(m.Backpressure) == 1 })
	os.Remove(p)
	second := eventLines(100, first)
	os.WriteFile(p, second, 0o600)
	time.Sleep(300 * time.Millisecond) // at the path for a while: kept open
	os.Remove(p)
	os.WriteFile(p, eventLines(100, first+100), 0o600)
	time.Sleep(100 * time.Millisecond)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	stopGaps, stopBytes := metrics.Value(m.GapFiles), metrics.Value(m.Unrecoverable)
	if stopGaps != 1 || stopBytes < float64(len(second)) {
		t.Fatalf("at the stop: gap_files_total %v, unrecoverable_bytes_total %v; want 1 and at least the %d bytes of the deleted file", stopGaps, stopBytes, len(second))
	}

	m2 := metrics.New()
	sink := &collectSink{}
	ctx2, cancel2 := context.WithCancel(context.Background())
	go func() { done <- Run(ctx2, Options{Config: c, Metrics: m2, Sinks: []pipe.Sink{sink}}) }()
	// The losses of the stop are counted again (nothing was delivered:
	// the checkpoint is the first file's opening, which the restart does
	// not count as a gap).
	waitUntil(t, "caught up", func() bool { return m2.LagBytes() == 0 && metrics.Value(m2.LinesRead) >= 100 })
	cancel2()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if g, b := metrics.Value(m2.GapFiles), metrics.Value(m2.Unrecoverable); g != stopGaps || b != stopBytes {
		t.Fatalf("after the restart: gap_files_total %v, unrecoverable_bytes_total %v; want %v and %v", g, b, stopGaps, stopBytes)
	}
	if _, err := os.Stat(filepath.Join(c.StateDir, StopLossName)); !os.IsNotExist(err) {
		t.Fatalf("the record of the stop's losses is still there (err %v): it would be counted again", err)
	}
	// A third start counts nothing more.
	m3 := metrics.New()
	ctx3, cancel3 := context.WithCancel(context.Background())
	go func() { done <- Run(ctx3, Options{Config: c, Metrics: m3, Sinks: []pipe.Sink{sink}}) }()
	waitUntil(t, "caught up", func() bool { return m3.LagBytes() == 0 })
	time.Sleep(100 * time.Millisecond)
	cancel3()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if g := metrics.Value(m3.GapFiles); g != 0 {
		t.Fatalf("a third start counted %v gaps", g)
	}
}

// While ship is idle, the live file is rotated and a new file is written
// to and deleted within moments (before the directory watcher, pausing
// after a write, could open it), then another follows: its lines are
// shipped, or its loss is counted (gap_files_total), never lost silently
// (review J5).
func TestTransientFileWhileIdleIsCounted(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "audit.log")
	os.WriteFile(p, eventLines(10, 0), 0o600)
	c := &config.Config{Path: p, StateDir: filepath.Join(dir, "state"), MemBufLimit: 4 << 20, RefreshInterval: config.Duration(time.Hour)}
	m := metrics.New()
	sink := &collectSink{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Run(ctx, Options{Config: c, Metrics: m, Sinks: []pipe.Sink{sink}}) }()
	waitUntil(t, "the first file shipped", func() bool { return len(sink.got()) == 10 })
	time.Sleep(300 * time.Millisecond) // idle
	appendTo := func(from int) {
		f, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
		if err != nil {
			t.Fatal(err)
		}
		f.Write(eventLines(10, from))
		f.Close()
	}
	appendTo(10) // the watcher pauses after this write
	if err := os.Rename(p, p+".1"); err != nil {
		t.Fatal(err)
	}
	appendTo(20) // at the path for an instant
	os.Remove(p)
	appendTo(30)
	waitUntil(t, "the last file shipped", func() bool {
		return strings.Contains(strings.Join(sink.got(), "\n"), `"id-000039"`)
	})
	seen := map[string]bool{}
	for _, l := range sink.got() {
		i := strings.Index(l, `"auditID":"`)
		seen[l[i+11:i+20]] = true
	}
	for i := range 40 {
		if !seen[fmt.Sprintf("id-%06d", i)] && (i < 20 || i >= 30) {
			t.Fatalf("line %d of a file that stayed at the path or was renamed not shipped", i)
		}
	}
	lost := 0
	if !seen["id-000020"] {
		lost = 1
	}
	waitUntil(t, "the loss counted", func() bool { return metrics.Value(m.GapFiles) >= float64(lost) })
	if g := metrics.Value(m.GapFiles); g != float64(lost) {
		t.Fatalf("gap_files_total %v, %d file lost", g, lost)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	t.Logf("%d transient file lost (and counted)", lost)
}
