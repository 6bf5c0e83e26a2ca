package tail

import (
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// A symlinked audit.log whose target is swapped while ship is stopped:
// the checkpoint records the target, so the restart finishes the old
// target from the checkpoint (no backup pattern names it), then reads on;
// nothing is called deleted. Review J, finding 4.
func TestSymlinkSwappedWhileStopped(t *testing.T) {
	dir := t.TempDir()
	real := filepath.Join(dir, "real")
	if err := os.Mkdir(real, 0o700); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "audit.log")
	a1, a2 := filepath.Join(real, "audit-000001.log"), filepath.Join(real, "audit-000002.log")
	appendLines(t, a1, 0, 10)
	if err := os.Symlink(a1, p); err != nil {
		t.Fatal(err)
	}
	c, stop := start(t, Options{Path: p, Refresh: time.Hour, NoNotify: true})
	c.waitFor(t, 10)
	stop()
	_, pos := c.snapshot()
	if pos.Target != a1 {
		t.Fatalf("checkpoint target %q, want %q", pos.Target, a1)
	}
	// Stopped: the writer finishes a1, swaps the link to a2 and writes.
	appendLines(t, a1, 10, 20)
	time.Sleep(10 * time.Millisecond)
	appendLines(t, a2, 20, 30)
	tmp := p + ".new"
	if err := os.Symlink(a2, tmp); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, p); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var gaps []Gap
	c2, stop2 := start(t, Options{Path: p, Start: &pos, OnGap: func(g Gap) { mu.Lock(); gaps = append(gaps, g); mu.Unlock() }})
	same(t, c2.waitFor(t, 20), ids(10, 30))
	stop2()
	mu.Lock()
	defer mu.Unlock()
	if len(gaps) != 0 {
		t.Fatalf("gaps %+v for a file still at its target", gaps)
	}
}
