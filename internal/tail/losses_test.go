package tail

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// Tests of the silent losses review B found (findings 1-4).

// A first checkpoint (offset 0, nothing fingerprinted) does not prove by
// device and inode that the live file still holds its content: after a
// copytruncate while stopped, the copy holds it (review B, finding 3).
func TestResumeFirstCheckpointAfterCopyTruncate(t *testing.T) {
	p := filepath.Join(t.TempDir(), "audit.log")
	appendLines(t, p, 0, 10)
	var mu sync.Mutex
	var first *Position
	g := newTokens(0) // nothing is ever acknowledged: the checkpoint stays the first
	stop := run(t, Options{Path: p, OnOpen: func(pos Position) {
		mu.Lock()
		if first == nil {
			first = &pos
		}
		mu.Unlock()
	}}, g.emit)
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		ok := first != nil
		mu.Unlock()
		if ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no OnOpen")
		}
		time.Sleep(5 * time.Millisecond)
	}
	stop()
	if first.Offset != 0 || first.ID.FPLen != 0 {
		t.Fatalf("first position %+v", first)
	}
	time.Sleep(10 * time.Millisecond)
	copyTruncate(t, p, p+".1")
	appendLines(t, p, 100, 103)
	c2 := &collector{}
	stop2 := run(t, Options{Path: p, Start: first}, c2.emit)
	exactly(t, c2, append(ids(0, 10), ids(100, 103)...))
	if err := stop2(); err != nil {
		t.Fatal(err)
	}
	// Not modified since: the live file is taken as it is (nothing re-read).
	q := filepath.Join(t.TempDir(), "audit.log")
	appendLines(t, q, 0, 5)
	fi, _ := os.Stat(q)
	dev, ino := DevIno(fi)
	os.WriteFile(q+".1", []byte(`{"auditID":"old"}`+"\n"), 0o600)
	os.Chtimes(q+".1", fi.ModTime(), fi.ModTime())
	c3 := &collector{}
	stop3 := run(t, Options{Path: q, Start: &Position{Path: q, ID: ID{Dev: dev, Ino: ino}, ModTime: fi.ModTime().UnixNano()}}, c3.emit)
	exactly(t, c3, ids(0, 5))
	if err := stop3(); err != nil {
		t.Fatal(err)
	}
}

// A new live file holding only the start of its first event begins like
// every backup (audit events share their first ~80 bytes): that does not
// make a backup a copy of it (review B, finding 4).
func TestPartialLiveHeadDoesNotHideABackup(t *testing.T) {
	p := filepath.Join(t.TempDir(), "audit.log")
	pos := readTenAndStop(t, p)
	appendLines(t, p, 10, 20)
	rotate(t, p, 1, false) // A, resumed in
	time.Sleep(10 * time.Millisecond)
	appendLines(t, p, 20, 30)
	rotate(t, p, 2, false) // B, never opened
	time.Sleep(10 * time.Millisecond)
	os.WriteFile(p, []byte(`{"auditID":"id-`), 0o600) // a write in progress
	c2 := &collector{}
	stop2 := run(t, Options{Path: p, Start: &pos}, c2.emit)
	c2.waitFor(t, 10)
	time.Sleep(50 * time.Millisecond)
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("0030\"}\n")
	f.Close()
	appendLines(t, p, 31, 35)
	exactly(t, c2, ids(10, 35))
	if err := stop2(); err != nil {
		t.Fatal(err)
	}
}

// Retention while the tailer is held (a sink outage: reading stops while
// it holds a file): the backups rotated meanwhile are counted in Lag, and
// those deleted before they were read are gaps, each named with its size
// (review B, findings 1 and 7).
func TestRetentionWhileHeldIsAGap(t *testing.T) {
	p := filepath.Join(t.TempDir(), "audit.log")
	appendLines(t, p, 0, 100)
	var mu sync.Mutex
	var gaps []Gap
	var lost int64
	g := newTokens(1)
	tl := New(Options{Path: p, ReadSize: 64, Refresh: 10 * time.Millisecond, MinInterval: 5 * time.Millisecond,
		OnGap:           func(gp Gap) { mu.Lock(); gaps = append(gaps, gp); mu.Unlock() },
		OnUnrecoverable: func(_ string, n int64) { mu.Lock(); lost += n; mu.Unlock() }})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- tl.Run(ctx, g.emit) }()
	g.waitChunks(t, 1) // held inside the first file
	var backups []string
	var sizes []int64
	n := 100
	for i := 1; i <= 6; i++ {
		time.Sleep(15 * time.Millisecond)
		b := rotate(t, p, i, false)
		appendLines(t, p, n, n+10)
		n += 10
		backups = append(backups, b)
		fi, _ := os.Stat(b)
		sizes = append(sizes, fi.Size())
	}
	// The backlog is seen while held: the rest of the first file, the
	// five backups after it and the live file.
	want := int64(1) // at least one byte of the first file is unread
	for _, sz := range sizes[1:] {
		want += sz
	}
	liveFi, _ := os.Stat(p)
	want += liveFi.Size()
	deadline := time.Now().Add(10 * time.Second)
	for tl.Lag() < want {
		if time.Now().After(deadline) {
			t.Fatalf("lag %d while held, want at least %d", tl.Lag(), want)
		}
		time.Sleep(5 * time.Millisecond)
	}
	// Retention deletes the oldest backups after the one held; the next
	// one is compressed (not a gap).
	for _, b := range backups[1:4] {
		if err := os.Remove(b); err != nil {
			t.Fatal(err)
		}
	}
	gzipFile(t, backups[4], backups[4]+".gz")
	g.allow(1 << 12)
	// The first file (lines 0-99), then backups 5 (compressed) and 6
	// (130-149), then
	// the live file (150-159).
	exactly(t, &g.collector, append(ids(0, 100), ids(130, n)...))
	cancel()
	<-errc
	mu.Lock()
	defer mu.Unlock()
	if len(gaps) != 3 {
		t.Fatalf("gaps %+v, want 3", gaps)
	}
	var sum int64
	for i, gp := range gaps {
		if gp.Path != backups[i+1] || gp.Bytes != sizes[i+1] {
			t.Fatalf("gap %d: %+v, want %s (%d bytes)", i, gp, backups[i+1], sizes[i+1])
		}
		sum += sizes[i+1]
	}
	if lost != sum {
		t.Fatalf("unrecoverable %d, want %d", lost, sum)
	}
}

// writeTo appends lines from..to-1 through an open descriptor (a writer
// that has not reopened the path).
func writeTo(t *testing.T, f *os.File, from, to int) {
	t.Helper()
	for i := from; i < to; i++ {
		if _, err := fmt.Fprintf(f, `{"auditID":"id-%04d"}`+"\n", i); err != nil {
			t.Fatal(err)
		}
	}
}

// logrotate's create: the file is renamed and a new empty one created;
// the writer goes on writing to the renamed file until it reopens the
// path, later (a postrotate signal) or never (kube-apiserver). What it
// writes meanwhile is read (review B, finding 2).
func TestWritesAfterRenameAreRead(t *testing.T) {
	for _, reopen := range []bool{true, false} {
		t.Run(fmt.Sprintf("reopen=%v", reopen), func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "audit.log")
			w, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
			if err != nil {
				t.Fatal(err)
			}
			defer func() { w.Close() }()
			writeTo(t, w, 0, 10)
			c, stop := start(t, Options{Path: p, RotateWait: 300 * time.Millisecond})
			c.waitFor(t, 10)
			if err := os.Rename(p, p+".1"); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, nil, 0o600); err != nil {
				t.Fatal(err)
			}
			for i := 10; i < 20; i++ { // the writer has not reopened yet
				time.Sleep(10 * time.Millisecond)
				writeTo(t, w, i, i+1)
			}
			if reopen {
				w.Close()
				if w, err = os.OpenFile(p, os.O_WRONLY|os.O_APPEND, 0); err != nil {
					t.Fatal(err)
				}
				writeTo(t, w, 20, 30)
			} else {
				time.Sleep(150 * time.Millisecond)
				writeTo(t, w, 20, 25) // still the renamed file, after a pause
				time.Sleep(500 * time.Millisecond)
				appendLines(t, p, 25, 30) // a restarted writer opens the path
			}
			exactly(t, c, ids(0, 30))
			if err := stop(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// A file finished after its rotation that grows afterwards (a writer that
// kept writing past RotateWait) is read on from where it was finished,
// the next time the tailer moves on (review B, finding 2).
func TestFinishedFileThatGrowsIsReadOn(t *testing.T) {
	p := filepath.Join(t.TempDir(), "audit.log")
	w, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	writeTo(t, w, 0, 10)
	c, stop := start(t, Options{Path: p, RotateWait: -1})
	c.waitFor(t, 10)
	if err := os.Rename(p, p+".1"); err != nil {
		t.Fatal(err)
	}
	appendLines(t, p, 10, 20) // another writer on the new file
	c.waitFor(t, 20)
	writeTo(t, w, 100, 105) // the old writer, after the tailer moved on
	time.Sleep(30 * time.Millisecond)
	if err := os.Rename(p+".1", p+".2"); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(p, p+".1"); err != nil {
		t.Fatal(err)
	}
	appendLines(t, p, 20, 25)
	exactly(t, c, append(append(ids(0, 20), ids(100, 105)...), ids(20, 25)...))
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}

// Backups retention deletes while reading is held are reported when the
// lister sees them gone (the ERROR, OnGap and OnUnrecoverable then, while
// an alert can still help), not once reading resumes; one deleted just
// before ship stops is reported before Run returns (ship records it in
// lost-at-stop.json). Review J, finding 2.
func TestRetentionWhileHeldReportedAtOnce(t *testing.T) {
	p := filepath.Join(t.TempDir(), "audit.log")
	appendLines(t, p, 0, 100)
	var mu sync.Mutex
	var gaps []Gap
	var lost int64
	g := newTokens(1)
	tl := New(Options{Path: p, ReadSize: 64, Refresh: 10 * time.Millisecond, MinInterval: 5 * time.Millisecond,
		OnGap:           func(gp Gap) { mu.Lock(); gaps = append(gaps, gp); mu.Unlock() },
		OnUnrecoverable: func(_ string, n int64) { mu.Lock(); lost += n; mu.Unlock() }})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- tl.Run(ctx, g.emit) }()
	g.waitChunks(t, 1) // held inside the first file
	var backups []string
	var sizes []int64
	n := 100
	for i := 1; i <= 5; i++ {
		time.Sleep(15 * time.Millisecond)
		b := rotate(t, p, i, false)
		appendLines(t, p, n, n+10)
		n += 10
		backups = append(backups, b)
		fi, _ := os.Stat(b)
		sizes = append(sizes, fi.Size())
	}
	want := int64(1)
	for _, sz := range sizes[1:] {
		want += sz
	}
	deadline := time.Now().Add(10 * time.Second)
	for tl.Lag() < want {
		if time.Now().After(deadline) {
			t.Fatalf("lag %d while held, want at least %d", tl.Lag(), want)
		}
		time.Sleep(5 * time.Millisecond)
	}
	for _, b := range backups[1:3] {
		if err := os.Remove(b); err != nil {
			t.Fatal(err)
		}
	}
	// Still held: the gaps come from the lister.
	count := func() (int, int64) { mu.Lock(); defer mu.Unlock(); return len(gaps), lost }
	for {
		if k, _ := count(); k == 2 {
			break
		}
		if time.Now().After(deadline) {
			k, _ := count()
			t.Fatalf("%d gaps while held, want 2", k)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if _, l := count(); l != sizes[1]+sizes[2] {
		t.Fatalf("unrecoverable %d while held, want %d", l, sizes[1]+sizes[2])
	}
	if got, _ := g.collector.snapshot(); len(got) > 100 {
		t.Fatalf("%d lines emitted while held", len(got))
	}
	// Stopped while held, just after retention deleted another one.
	if err := os.Remove(backups[3]); err != nil {
		t.Fatal(err)
	}
	cancel()
	<-errc
	mu.Lock()
	defer mu.Unlock()
	if len(gaps) != 3 || lost != sizes[1]+sizes[2]+sizes[3] {
		t.Fatalf("after the stop: gaps %+v, unrecoverable %d, want 3 and %d", gaps, lost, sizes[1]+sizes[2]+sizes[3])
	}
	for i, gp := range gaps {
		if gp.Path != backups[i+1] || gp.Bytes != sizes[i+1] {
			t.Fatalf("gap %d: %+v, want %s (%d bytes)", i, gp, backups[i+1], sizes[i+1])
		}
	}
}
