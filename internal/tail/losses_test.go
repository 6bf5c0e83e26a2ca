package tail

import (
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
