package tail

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/fsnotify/fsnotify"
)

// The watcher's account of the path (events injected in order, after the
// files changed: a watcher that looks late, as it does while it pauses
// after a write). A file at the path that nothing opened and that was
// written to and deleted is a gap, whatever else was opened at the path
// meanwhile and however soon after the previous file it came (review J5:
// a file created and deleted within ~100 ms of an idle ship was lost with
// no gap, no metric and no log line when a newer file was already at the
// path, or when the previous file had been opened shortly before it left).
// One that was opened (kept open, or read and closed) is no gap.
func TestQuickDeletionAtThePathIsNeverSilent(t *testing.T) {
	cases := []struct {
		name string
		// idle: the live file was opened well before it left.
		idle  bool
		files func(t *testing.T, tl *Tailer, p string)
		ops   []fsnotify.Op
		gaps  int
		// pinned: the first bytes of the file left kept open, if any.
		pinned string
	}{{
		name: "newer file already at the path",
		idle: true,
		files: func(t *testing.T, tl *Tailer, p string) {
			mustRename(t, p, p+".1")
			appendLines(t, p, 10, 20) // written to ...
			mustRemove(t, p)          // ... and deleted before anything looked
			appendLines(t, p, 20, 30) // the next file
		},
		ops:    []fsnotify.Op{fsnotify.Rename, fsnotify.Create, fsnotify.Write, fsnotify.Remove, fsnotify.Create, fsnotify.Write},
		gaps:   1,
		pinned: `{"auditID":"id-0020"}`,
	}, {
		name: "previous file opened just before it left",
		files: func(t *testing.T, tl *Tailer, p string) {
			mustRename(t, p, p+".1")
			appendLines(t, p, 10, 20)
			mustRemove(t, p)
		},
		ops:  []fsnotify.Op{fsnotify.Rename, fsnotify.Create, fsnotify.Write, fsnotify.Remove},
		gaps: 1,
	}, {
		name: "an empty file opened after it",
		idle: true,
		files: func(t *testing.T, tl *Tailer, p string) {
			mustRename(t, p, p+".1")
			appendLines(t, p, 10, 20)
			mustRemove(t, p)
			if err := os.WriteFile(p, nil, 0o600); err != nil {
				t.Fatal(err)
			}
			tl.pinPath() // the lister saw the empty one
			mustRemove(t, p)
		},
		ops:  []fsnotify.Op{fsnotify.Rename, fsnotify.Create, fsnotify.Write, fsnotify.Remove, fsnotify.Create, fsnotify.Remove},
		gaps: 1,
	}, {
		name: "opened by the lister before it was deleted",
		idle: true,
		files: func(t *testing.T, tl *Tailer, p string) {
			mustRename(t, p, p+".1")
			appendLines(t, p, 10, 20)
			tl.pinPath()
			mustRemove(t, p)
		},
		ops:    []fsnotify.Op{fsnotify.Rename, fsnotify.Create, fsnotify.Write, fsnotify.Remove},
		pinned: `{"auditID":"id-0010"}`,
	}, {
		name: "opened, read and closed before the watcher looked",
		idle: true,
		files: func(t *testing.T, tl *Tailer, p string) {
			mustRename(t, p, p+".1")
			appendLines(t, p, 10, 20)
			tl.pinPath()
			mustRemove(t, p)
			// The tailer reads it to its end and closes it.
			tl.pinMu.Lock()
			defer tl.pinMu.Unlock()
			if len(tl.pins) != 2 {
				t.Fatalf("%d files kept open, want 2", len(tl.pins))
			}
			tl.pins[1].f.Close()
			tl.pins = tl.pins[:1]
		},
		ops: []fsnotify.Op{fsnotify.Rename, fsnotify.Create, fsnotify.Write, fsnotify.Remove},
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "audit.log")
			appendLines(t, p, 0, 10)
			var l losses
			tl := New(Options{Path: p, MinInterval: -1, OnGap: l.gap})
			tl.pinning, tl.watching = true, true
			defer tl.closePins()
			if !tl.pinPath() { // the file being read
				t.Fatal("live file not found")
			}
			if tc.idle {
				time.Sleep(200 * time.Millisecond)
			}
			tc.files(t, tl, p)
			for _, op := range tc.ops {
				tl.notice(fsnotify.Event{Name: p, Op: op})
			}
			if gaps, _ := l.get(); len(gaps) != tc.gaps {
				t.Fatalf("gaps %+v, want %d", gaps, tc.gaps)
			}
			var heads []string
			tl.pinMu.Lock()
			for _, pf := range tl.pins {
				h, _ := readPrefix(pf.f, PrefixLen)
				if i := bytes.IndexByte(h, '\n'); i >= 0 {
					heads = append(heads, string(h[:i]))
				}
			}
			tl.pinMu.Unlock()
			want := []string{`{"auditID":"id-0000"}`} // the renamed live file, still kept open here
			if tc.pinned != "" {
				want = append(want, tc.pinned)
			}
			same(t, heads, want)
		})
	}
}

// The same through the real watcher while the tailer is idle: a write to
// the live file makes the watcher pause (MinInterval) and, meanwhile, the
// live file is rotated, a new file is written to and deleted at once, and
// another one follows. The lost file's lines are either read or reported
// as a gap: nothing is lost silently. Three times.
func TestFileCreatedAndDeletedWhileIdleIsNeverSilent(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "audit.log")
	appendLines(t, p, 0, 10)
	var l losses
	var c collector
	stop := run(t, Options{Path: p, MinInterval: 100 * time.Millisecond, RotateWait: -1, OnGap: l.gap}, c.emit)
	waitLine(t, &c, 9)
	want := ids(0, 10)
	lost := 0
	for i := 1; i <= 3; i++ {
		base := i * 100
		time.Sleep(300 * time.Millisecond) // idle
		appendLines(t, p, base, base+10)   // the watcher pauses after this write
		want = append(want, ids(base, base+10)...)
		mustRename(t, p, p+"."+string(rune('0'+i)))
		appendLines(t, p, base+10, base+20) // at the path for an instant
		mustRemove(t, p)
		appendLines(t, p, base+20, base+30)
		got := waitLine(t, &c, base+29)
		if !slices.Contains(got, ids(base+10, base+20)[0]) {
			lost++
		} else {
			want = append(want, ids(base+10, base+20)...)
		}
		want = append(want, ids(base+20, base+30)...)
		sameIDs(t, got, want)
		// The watcher reports it once it reads the events (after its pause).
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
			if gaps, _ := l.get(); len(gaps) >= lost {
				break
			}
		}
		if gaps, _ := l.get(); len(gaps) != lost {
			t.Fatalf("rotation %d: %d files lost, %d gaps reported: %+v", i, lost, len(gaps), gaps)
		}
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d of 3 transient files lost (and reported)", lost)
}

func mustRename(t *testing.T, from, to string) {
	t.Helper()
	if err := os.Rename(from, to); err != nil {
		t.Fatal(err)
	}
}

func mustRemove(t *testing.T, p string) {
	t.Helper()
	if err := os.Remove(p); err != nil {
		t.Fatal(err)
	}
}

// The live file the tailer opened is written to, read and deleted, and a
// new file follows: its lines were read, so its deletion is no gap (the
// watcher knows the tailer opened it at the path, though nothing else
// did).
func TestLiveFileReadThenDeletedIsNoGap(t *testing.T) {
	p := filepath.Join(t.TempDir(), "audit.log")
	appendLines(t, p, 0, 10)
	var l losses
	var c collector
	// No polling: only the tailer opens the live file.
	tl := New(Options{Path: p, Refresh: time.Hour, MinInterval: 5 * time.Millisecond, RotateWait: -1, OnGap: l.gap})
	stop := runTailer(t, tl, c.emit)
	waitLine(t, &c, 9)
	appendLines(t, p, 10, 20)
	waitLine(t, &c, 19)
	mustRemove(t, p)
	appendLines(t, p, 20, 30)
	sameIDs(t, waitLine(t, &c, 29), ids(0, 30))
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	_, ino := DevIno(fi)
	until(t, tl, "the watcher saw the new file", func() bool {
		return len(tl.atPath) == 1 && tl.atPath[0].ino == ino
	})
	if gaps, _ := l.get(); len(gaps) != 0 {
		t.Fatalf("gaps %+v, want none: every line was read", gaps)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}

// A file recorded as opened at the path that leaves it with no event the
// watcher sees (a file renamed over the path: no Remove for the one
// replaced) is no longer recorded once it has been gone for a while, so
// its descriptor does not hold its disk space, nor its record hide a later
// loss. The file that replaced it stays recorded.
func TestRecordOfAFileRenamedOverIsDropped(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "audit.log")
	appendLines(t, p, 0, 10)
	tl := New(Options{Path: p})
	tl.pinning, tl.watching, tl.atPathTTL = true, true, time.Millisecond
	defer tl.closePins()
	tl.pinPath()
	appendLines(t, p+".tmp", 10, 20)
	mustRename(t, p+".tmp", p) // replaces the first file: no Remove for it
	tl.pinPath()
	tl.expireAtPath() // the first is seen gone ...
	time.Sleep(5 * time.Millisecond)
	tl.expireAtPath() // ... and dropped once gone for longer than atPathTTL
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	_, ino := DevIno(fi)
	tl.pinMu.Lock()
	defer tl.pinMu.Unlock()
	if len(tl.atPath) != 1 || tl.atPath[0].ino != ino {
		t.Fatalf("%d files recorded, want only the one at the path", len(tl.atPath))
	}
}
