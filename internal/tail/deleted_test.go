package tail

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fsnotify/fsnotify"
)

// waitLine waits until the collector has line id-<n> (the last one
// written) or fails after a few seconds, then returns what it got.
func waitLine(t *testing.T, c *collector, n int) []string {
	t.Helper()
	want := fmt.Sprintf(`{"auditID":"id-%04d"}`, n)
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		l, _ := c.snapshot()
		for _, s := range l {
			if s == want {
				time.Sleep(50 * time.Millisecond) // anything after it
				l, _ = c.snapshot()
				return l
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	l, _ := c.snapshot()
	t.Fatalf("line %d never read; got %d lines", n, len(l))
	return nil
}

// sameIDs is same with a short message: the lines missing and repeated.
func sameIDs(t *testing.T, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") == strings.Join(want, "\n") {
		return
	}
	n := map[string]int{}
	for _, l := range got {
		n[l]++
	}
	var missing, dup []string
	for _, l := range want {
		switch n[l] {
		case 0:
			missing = append(missing, l)
		case 1:
		default:
			dup = append(dup, l)
		}
	}
	t.Fatalf("got %d lines, want %d (in order, once each); missing %d %q; repeated %q", len(got), len(want), len(missing), missing, dup)
}

// The live file is deleted and recreated twice while reading is held
// (backpressure: a sink is slow and the buffer full): the file created in
// between was at the path for a while and was deleted before the tailer
// moved on. It is still read, from its start, between the other two
// (review B, finding 8: a whole recreated file lost with nothing counted).
func TestRecreatedWhileHeldIsRead(t *testing.T) {
	for _, noNotify := range []bool{false, true} {
		t.Run(fmt.Sprintf("nonotify=%v", noNotify), func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "audit.log")
			w, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
			if err != nil {
				t.Fatal(err)
			}
			writeTo(t, w, 0, 100)
			g := newTokens(1)
			stop := run(t, Options{Path: p, ReadSize: 64, NoNotify: noNotify}, g.emit)
			g.waitChunks(t, 1) // held inside the first file

			// rm; the writer writes on to the deleted file, then reopens
			// the path (a new file) and writes there.
			if err := os.Remove(p); err != nil {
				t.Fatal(err)
			}
			writeTo(t, w, 100, 110)
			w.Close()
			appendLines(t, p, 110, 120)
			// The second file is at the path for a while (many polling
			// intervals: 10 ms in these tests) ...
			time.Sleep(200 * time.Millisecond)
			// ... and is deleted while reading is still held; a third
			// file follows.
			if err := os.Remove(p); err != nil {
				t.Fatal(err)
			}
			appendLines(t, p, 120, 130)
			g.allow(1 << 12)
			sameIDs(t, waitLine(t, &g.collector, 129), ids(0, 130))
			if err := stop(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// The writer goes on writing to the second file after it was deleted
// and never reopens the path: with nothing at the path, the first file is
// finished (the writer moved on from it) and the second, kept open, is
// read on as the live file would be.
func TestPinnedFileReadOnWhileThePathIsGone(t *testing.T) {
	p := filepath.Join(t.TempDir(), "audit.log")
	appendLines(t, p, 0, 100)
	g := newTokens(1)
	stop := run(t, Options{Path: p, ReadSize: 64}, g.emit)
	g.waitChunks(t, 1)
	if err := os.Remove(p); err != nil {
		t.Fatal(err)
	}
	w, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	writeTo(t, w, 100, 110)
	time.Sleep(200 * time.Millisecond) // seen (pinned) while held
	if err := os.Remove(p); err != nil {
		t.Fatal(err)
	}
	writeTo(t, w, 110, 115) // to the deleted file
	g.allow(1 << 12)
	waitLine(t, &g.collector, 114)
	time.Sleep(100 * time.Millisecond)
	writeTo(t, w, 115, 120) // still to it, after the tailer got to it
	sameIDs(t, waitLine(t, &g.collector, 119), ids(0, 120))
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}

// The watcher's account of the path (events injected in order): a file
// created at the path and gone when the watcher looked is a gap when it
// was deleted, not when it was renamed (a backup), nor when something
// else had opened it (the lister, or the tailer, got it).
func TestCreatedAndDeletedBeforeOpenedIsAGap(t *testing.T) {
	p := filepath.Join(t.TempDir(), "audit.log")
	var gaps []Gap
	tl := New(Options{Path: p, MinInterval: -1, OnGap: func(g Gap) { gaps = append(gaps, g) }})
	tl.pinning, tl.watching = true, true
	defer tl.closePins()
	ev := func(op fsnotify.Op) { tl.notice(fsnotify.Event{Name: p, Op: op}) }
	ev(fsnotify.Remove) // the first file leaves
	ev(fsnotify.Create) // a new one, already gone
	ev(fsnotify.Write)
	ev(fsnotify.Remove) // deleted
	if len(gaps) != 1 || gaps[0].Path != p {
		t.Fatalf("gaps %+v, want one for %s", gaps, p)
	}
	gaps = nil
	ev(fsnotify.Create)
	ev(fsnotify.Write)
	ev(fsnotify.Rename) // renamed away: a backup
	if len(gaps) != 0 {
		t.Fatalf("gap for a renamed file: %+v", gaps)
	}
	appendLines(t, p, 0, 1)
	ev(fsnotify.Create) // there: kept open
	if err := os.Remove(p); err != nil {
		t.Fatal(err)
	}
	ev(fsnotify.Remove)
	if len(gaps) != 0 || len(tl.pins) != 1 {
		t.Fatalf("gaps %+v, %d pins; want none and the file kept open", gaps, len(tl.pins))
	}
	appendLines(t, p, 1, 2)
	f, err := os.Open(p) // the tailer opens it
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	tl.seenAtPath(f, fi)
	if err := os.Remove(p); err != nil {
		t.Fatal(err)
	}
	ev(fsnotify.Create)
	ev(fsnotify.Write)
	ev(fsnotify.Remove)
	if len(gaps) != 0 {
		t.Fatalf("gap though the tailer opened the file: %+v", gaps)
	}
}

// A pin whose content a listed backup holds is dropped (its disk space is
// not held for nothing): the file renamed, or renamed, compressed and
// removed; a file deleted outright stays kept open.
func TestPinsOfBackupsAreDropped(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "audit.log")
	tl := New(Options{Path: p})
	tl.pinning = true
	defer tl.closePins()
	pin := func(from int) {
		t.Helper()
		appendLines(t, p, from, from+20)
		if !tl.pinPath() {
			t.Fatal("not pinned")
		}
	}
	pin(0)
	if err := os.Rename(p, p+".1"); err != nil { // renamed
		t.Fatal(err)
	}
	pin(100)
	if err := os.Rename(p, p+".2"); err != nil { // renamed, then compressed
		t.Fatal(err)
	}
	gzipFile(t, p+".2", p+".2.gz")
	os.Remove(p + ".2")
	pin(200)
	if err := os.Remove(p); err != nil { // deleted
		t.Fatal(err)
	}
	if len(tl.pins) != 3 {
		t.Fatalf("%d pins, want 3", len(tl.pins))
	}
	before := tl.Lag()
	tl.prunePins(map[headKey]listed{})
	if len(tl.pins) != 1 {
		t.Fatalf("%d pins after pruning, want 1 (the deleted file)", len(tl.pins))
	}
	fi, _ := tl.pins[0].f.Stat()
	if h, _ := readPrefix(tl.pins[0].f, 30); !strings.Contains(string(h), "id-0200") {
		t.Fatalf("kept %q, want the deleted file", h)
	}
	if lag := tl.Lag(); lag < fi.Size() || lag > before {
		t.Fatalf("lag %d (before pruning %d), want the deleted file's %d bytes at least", lag, before, fi.Size())
	}
}

// Stopping with a file deleted from the path and kept open, not read yet:
// its lines are lost (a restart cannot find it), a gap with its size.
func TestUnreadPinAtStopIsAGap(t *testing.T) {
	p := filepath.Join(t.TempDir(), "audit.log")
	appendLines(t, p, 0, 100)
	var mu sync.Mutex
	var gaps []Gap
	g := newTokens(1)
	stop := run(t, Options{Path: p, ReadSize: 64, OnGap: func(gp Gap) { mu.Lock(); gaps = append(gaps, gp); mu.Unlock() }}, g.emit)
	g.waitChunks(t, 1)
	os.Remove(p)
	appendLines(t, p, 100, 110)
	fi, _ := os.Stat(p)
	time.Sleep(200 * time.Millisecond) // pinned
	os.Remove(p)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(gaps) != 1 || gaps[0].Bytes != fi.Size() {
		t.Fatalf("gaps %+v, want one of %d bytes", gaps, fi.Size())
	}
}

// The live file is deleted while its writer goes on appending to it (the
// apiserver never reopens the path); meanwhile an empty file appears at
// the path and is deleted in turn. That empty file says nothing of the
// writer: after RotateWait of quiet, what the writer appends to the
// deleted live file is still read (review E: every later line was lost,
// with no metric, once the tailer switched to the empty file).
func TestEmptyTransientFileDoesNotEndTheLiveOne(t *testing.T) {
	p := filepath.Join(t.TempDir(), "audit.log")
	w, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	writeTo(t, w, 0, 10)
	var c collector
	stop := run(t, Options{Path: p, RotateWait: 100 * time.Millisecond}, c.emit)
	waitLine(t, &c, 9)
	if err := os.Remove(p); err != nil {
		t.Fatal(err)
	}
	writeTo(t, w, 10, 20)
	appendLines(t, p, 0, 0) // an empty file at the path
	time.Sleep(50 * time.Millisecond)
	if err := os.Remove(p); err != nil {
		t.Fatal(err)
	}
	time.Sleep(400 * time.Millisecond) // quiet for longer than RotateWait
	writeTo(t, w, 20, 30)
	sameIDs(t, waitLine(t, &c, 29), ids(0, 30))
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}

// Stopping while reading is held in a file deleted from the path: a
// restart cannot find it, so the bytes not read yet are lost. They are
// counted (OnUnrecoverable) and logged as the tailer stops; the restart
// counts the file as a gap (the checkpoint is in it), not this.
func TestStopInDeletedFileCountsUnreadBytes(t *testing.T) {
	p := filepath.Join(t.TempDir(), "audit.log")
	appendLines(t, p, 0, 100)
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	var l losses
	g := newTokens(1)
	stop := run(t, Options{Path: p, ReadSize: 64, OnGap: l.gap, OnUnrecoverable: l.unrecoverable}, g.emit)
	g.waitChunks(t, 1) // held inside the file
	if err := os.Remove(p); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	gaps, bytes := l.get()
	// At most a few reads of 64 bytes were taken before the tailer was held.
	if len(gaps) != 0 || bytes < fi.Size()-64*8 || bytes >= fi.Size() {
		t.Fatalf("gaps %+v, %d bytes counted lost; want no gap and nearly all of the %d bytes", gaps, bytes, fi.Size())
	}
}
