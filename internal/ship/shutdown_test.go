package ship

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/audittui/audittui/internal/ship/config"
	"github.com/audittui/audittui/internal/ship/metrics"
	"github.com/audittui/audittui/internal/ship/pipe"
)

// gateSink takes nothing until open is closed, then takes what is left
// without ever delivering it (a server that stopped answering): its flush
// only ends when the grace period does.
type gateSink struct{ open chan struct{} }

func (gateSink) Name() string { return "gate" }
func (s gateSink) Run(ctx context.Context, in <-chan *pipe.Batch, _ func(...*pipe.Batch)) error {
	select {
	case <-s.open:
	case <-ctx.Done():
		return ctx.Err()
	}
	for range in {
	}
	<-ctx.Done()
	return ctx.Err()
}

// The whole stop (handing the batches read to the sinks, then their
// flush) fits in one Grace_period: kubelet's SIGKILL comes
// terminationGracePeriodSeconds after SIGTERM whatever the phase. A sink
// that takes its batches just before the grace period ends does not get
// a second one to flush them.
func TestShutdownTakesOneGracePeriod(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "audit.log")
	os.WriteFile(p, eventLines(400, 0), 0o600)
	const grace = time.Second
	c := &config.Config{Path: p, StateDir: filepath.Join(dir, "state"), RefreshInterval: config.Duration(20 * time.Millisecond),
		GracePeriod: config.Duration(grace)}
	gate := gateSink{open: make(chan struct{})}
	var logs lockedBuf
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Options{Config: c, Sinks: []pipe.Sink{gate}, NoNotify: true, ReadSize: 4 << 10,
			Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	}()
	// The sink's channel and the queue fill up: the reader waits.
	waitUntil(t, "ship to start", func() bool { return strings.Contains(logs.String(), `"msg":"shipping"`) })
	time.Sleep(300 * time.Millisecond)
	stop() // SIGTERM
	t0 := time.Now()
	time.AfterFunc(grace*8/10, func() { close(gate.open) })
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * grace):
		t.Fatal("ship did not stop")
	}
	if d := time.Since(t0); d > grace*13/10 {
		t.Fatalf("the stop took %s with Grace_period %s", d.Round(time.Millisecond), grace)
	}
	if n := strings.Count(logs.String(), "grace period over"); n != 1 {
		t.Fatalf("%q logged %d times:\n%s", "grace period over", n, logs.String())
	}
}

// holdSink takes every batch and acknowledges none (a server that stopped
// answering): its flush ends only when the grace period does.
type holdSink struct{}

func (holdSink) Name() string { return "hold" }
func (holdSink) Run(ctx context.Context, in <-chan *pipe.Batch, _ func(...*pipe.Batch)) error {
	for range in {
	}
	<-ctx.Done()
	return ctx.Err()
}

// When the grace period ends with lines unacknowledged (a sink without a
// disk buffer that takes no delivery), the WARN says exactly what is
// left: per sink the lines it did not acknowledge, the file bytes after
// the checkpoint, and where the next start reads again from.
func TestGraceOverLogsWhatIsLeft(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "audit.log")
	data := eventLines(400, 0)
	os.WriteFile(p, data, 0o600)
	c := &config.Config{Path: p, StateDir: filepath.Join(dir, "state"), RefreshInterval: config.Duration(20 * time.Millisecond),
		GracePeriod: config.Duration(300 * time.Millisecond)}
	var logs lockedBuf
	m := metrics.New()
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Options{Config: c, Sinks: []pipe.Sink{holdSink{}}, NoNotify: true, ReadSize: 4 << 10, Metrics: m,
			Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	}()
	waitUntil(t, "every line read", func() bool { return metrics.Value(m.LinesRead) == 400 })
	stop() // SIGTERM
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("ship did not stop")
	}
	var rec map[string]any
	for _, l := range strings.Split(logs.String(), "\n") {
		if strings.Contains(l, "grace period over") {
			if err := json.Unmarshal([]byte(l), &rec); err != nil {
				t.Fatal(err)
			}
		}
	}
	if rec == nil {
		t.Fatalf("no grace period WARN:\n%s", logs.String())
	}
	want := map[string]any{"unacknowledged_lines_hold": 400.0, "unacknowledged_bytes": float64(len(data)),
		"read_again_from": p, "read_again_from_offset": 0.0}
	for k, v := range want {
		if rec[k] != v {
			t.Errorf("%s = %v, want %v (record %v)", k, rec[k], v, rec)
		}
	}
}
