package ship

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/audittui/audittui/internal/buildinfo"
	"github.com/audittui/audittui/internal/ship/config"
	"github.com/audittui/audittui/internal/ship/pipe"
)

// ackSink acknowledges every batch at once.
type ackSink struct{}

func (ackSink) Name() string { return "ack" }
func (ackSink) Run(_ context.Context, in <-chan *pipe.Batch, ack func(...*pipe.Batch)) error {
	for b := range in {
		ack(b)
	}
	return nil
}

type lockedBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
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

// The start-up line says which build ships.
func TestStartupLogNamesBuild(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "audit.log")
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := config.Parse([]byte("Path: "+path+"\nState_dir: "+filepath.Join(dir, "state")+"\nLoki: {URL: 'http://127.0.0.1:1'}\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	logs := &lockedBuf{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Options{Config: c, Logger: slog.New(slog.NewJSONHandler(logs, nil)), Sinks: []pipe.Sink{ackSink{}}, NoNotify: true})
	}()
	var line map[string]any
	deadline := time.Now().Add(20 * time.Second)
	for line == nil && time.Now().Before(deadline) {
		for _, l := range strings.Split(logs.String(), "\n") {
			var m map[string]any
			if json.Unmarshal([]byte(l), &m) == nil && m["msg"] == "shipping" {
				line = m
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if line == nil {
		t.Fatalf("no start-up line in\n%s", logs.String())
	}
	b, _ := line["build"].(map[string]any)
	in := buildinfo.Get()
	if b["version"] != in.Version || b["commit"] != in.ShortCommit() || b["go"] != in.GoVersion || b["dirty"] != in.DirtyString() {
		t.Errorf("start-up line build = %v, want %s", b, in)
	}
}
