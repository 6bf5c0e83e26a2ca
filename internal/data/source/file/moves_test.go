package file

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/audittui/audittui/internal/data"
)

// follower reads a followed stream on a goroutine of its own and keeps
// every event it hands out.
type follower struct {
	mu   sync.Mutex
	evs  []data.Event
	err  error
	done chan struct{}
}

func follow(t *testing.T, arg string) *follower {
	t.Helper()
	src, err := New(arg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	st, err := src.Open(ctx, data.ReadOptions{Follow: true})
	if err != nil {
		t.Fatal(err)
	}
	fl := &follower{done: make(chan struct{})}
	go func() {
		defer close(fl.done)
		for {
			b, err := st.Next(ctx)
			if err != nil {
				fl.mu.Lock()
				fl.err = err
				fl.mu.Unlock()
				return
			}
			fl.mu.Lock()
			for i := range b.Events {
				fl.evs = append(fl.evs, b.Events[i].Clone())
			}
			fl.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		cancel()
		<-fl.done
		st.Close()
	})
	return fl
}

// waitEvents waits until n events were read and returns them.
func (fl *follower) waitEvents(t *testing.T, n int) []data.Event {
	t.Helper()
	var evs []data.Event
	waitFor(t, func() string {
		fl.mu.Lock()
		defer fl.mu.Unlock()
		evs = append([]data.Event(nil), fl.evs...)
		if fl.err != nil && !errors.Is(fl.err, context.Canceled) {
			t.Fatalf("follow: %v", fl.err)
		}
		if len(evs) >= n {
			return ""
		}
		return strconv.Itoa(len(evs)) + " events read, want " + strconv.Itoa(n)
	})
	return evs
}

// waitFor polls cond (what it still waits for, "" when done) for up to
// 15 s.
func waitFor(t *testing.T, cond func() string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		why := cond()
		if why == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out: %s", why)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// citedAt waits until every event's citation is FILE:LINE in want (by
// auditID) and checks that the line there holds the event's bytes, as
// `zcat FILE | sed -n LINEp | sha256sum` would.
func citedAt(t *testing.T, evs []data.Event, want map[string]string) {
	t.Helper()
	waitFor(t, func() string {
		for _, e := range evs {
			if w := want[e.AuditID] + ":" + strconv.FormatInt(e.Origin.Line, 10); e.Origin.Cite() != w {
				return e.AuditID + " cited " + e.Origin.Cite() + ", want " + w
			}
		}
		return ""
	})
	for _, e := range evs {
		file := want[e.AuditID]
		line := lineOf(decompressed(t, file), e.Origin.Line)
		if sha256.Sum256(line) != sha256.Sum256(e.Raw) {
			t.Errorf("%s: the line cited does not hold the event's bytes:\nline %q\nraw  %q", e.Origin.Cite(), line, e.Raw)
		}
	}
}

// gzipAway compresses path to path.gz and removes path, as lumberjack
// (--audit-log-compress) and logrotate's compress do: the .gz is whole
// before the plain file goes.
func gzipAway(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	if err := os.WriteFile(path+".gz", buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
}

func fastMoves(t *testing.T) {
	old := moveCheck
	moveCheck = 20 * time.Millisecond
	t.Cleanup(func() { moveCheck = old })
}

// TestFollowedRotationCitesWhereTheBytesAre: the apiserver rotates the
// followed audit.log (renamed to audit-<time>.log, a new audit.log, the
// backup gzipped and the plain one removed): the events read before are
// cited at the rotated name, then at its .gz (the same lines,
// decompressed), each line holding the cited bytes; the events of the new
// file at audit.log. When retention deletes the backup, they keep its name
// and say it is gone. The evidence is only read: every file's bytes are
// what the test wrote.
func TestFollowedRotationCitesWhereTheBytesAre(t *testing.T) {
	fastMoves(t)
	dir := t.TempDir()
	live := filepath.Join(dir, "audit.log")
	backup := filepath.Join(dir, "audit-2026-11-20T08-05-00.000.log")
	appendLines(t, live, mkEvent("e1", t0), mkEvent("e2", t0.Add(time.Second)))
	fl := follow(t, live)
	fl.waitEvents(t, 2)
	appendLines(t, live, mkEvent("e3", t0.Add(2*time.Second))) // read by the tailer, after the initial content
	fl.waitEvents(t, 3)

	if err := os.Rename(live, backup); err != nil {
		t.Fatal(err)
	}
	appendLines(t, live, mkEvent("e4", t0.Add(3*time.Second)))
	evs := fl.waitEvents(t, 4)
	citedAt(t, evs, map[string]string{"e1": backup, "e2": backup, "e3": backup, "e4": live})

	gzipAway(t, backup)
	citedAt(t, evs, map[string]string{"e1": backup + ".gz", "e2": backup + ".gz", "e3": backup + ".gz", "e4": live})
	if now, gone := evs[0].Origin.Source.Moved.Now(); now != backup+".gz" || gone {
		t.Errorf("moved to %q (gone %v)", now, gone)
	}
	if evs[0].Origin.ReadWhere() != live+":1" {
		t.Errorf("read at %s, want %s:1", evs[0].Origin.ReadWhere(), live)
	}

	// A second rotation: the file read second goes the same way.
	backup2 := filepath.Join(dir, "audit-2026-11-20T08-10-00.000.log")
	if err := os.Rename(live, backup2); err != nil {
		t.Fatal(err)
	}
	appendLines(t, live, mkEvent("e5", t0.Add(4*time.Second)))
	evs = fl.waitEvents(t, 5)
	gzipAway(t, backup2)
	citedAt(t, evs, map[string]string{"e1": backup + ".gz", "e2": backup + ".gz", "e3": backup + ".gz", "e4": backup2 + ".gz", "e5": live})

	// Retention deletes the oldest backup: its events keep its name.
	if err := os.Remove(backup + ".gz"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() string {
		if _, gone := evs[0].Origin.Source.Moved.Now(); !gone {
			return "the deleted backup is not said to be gone"
		}
		return ""
	})
	if evs[0].Origin.Cite() != backup+".gz:1" {
		t.Errorf("gone: cited %s, want its last name", evs[0].Origin.Cite())
	}
	if now, gone := evs[3].Origin.Source.Moved.Now(); now != backup2+".gz" || gone {
		t.Errorf("the other backup: moved to %q (gone %v)", now, gone)
	}
	// Read-only on evidence: the files hold what the test wrote.
	if got, want := string(decompressed(t, backup2+".gz")), mkEvent("e4", t0.Add(3*time.Second))+"\n"; got != want {
		t.Errorf("%s holds %q, the test wrote %q", backup2+".gz", got, want)
	}
	if got, want := string(decompressed(t, live)), mkEvent("e5", t0.Add(4*time.Second))+"\n"; got != want {
		t.Errorf("%s holds %q, the test wrote %q", live, got, want)
	}
}

// TestFollowedDirectoryLogrotate: a directory of logrotate's names is one
// rotated set (audit.log.2.gz, audit.log.1, then audit.log, followed);
// at each rotation every backup is renamed (audit.log.1 -> audit.log.2,
// gzipped at the next rotation as delaycompress does) and audit.log
// becomes audit.log.1: every event stays cited where its bytes are.
func TestFollowedDirectoryLogrotate(t *testing.T) {
	fastMoves(t)
	dir := t.TempDir()
	live := filepath.Join(dir, "audit.log")
	one := live + ".1"
	writeLines(t, live+".2.gz", []string{mkEvent("a1", t0)}, "gzip")
	appendLines(t, one, mkEvent("b1", t0.Add(time.Second)), mkEvent("b2", t0.Add(2*time.Second)))
	appendLines(t, live, mkEvent("l1", t0.Add(3*time.Second)))
	src, err := New(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if g := src.Files(); len(g) != 1 || strings.Join(g[0], " ") != live+".2.gz "+one+" "+live {
		t.Fatalf("sets %q", g)
	}
	fl := follow(t, dir)
	evs := fl.waitEvents(t, 4)
	if ids(evs) != "a1,b1,b2,l1" {
		t.Fatalf("read %s", ids(evs))
	}
	// logrotate (create, delaycompress): audit.log.2.gz -> .3.gz,
	// audit.log.1 -> audit.log.2 compressed, audit.log -> audit.log.1, a
	// new audit.log.
	if err := os.Rename(live+".2.gz", live+".3.gz"); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(one, live+".2"); err != nil {
		t.Fatal(err)
	}
	gzipAway(t, live+".2")
	if err := os.Rename(live, one); err != nil {
		t.Fatal(err)
	}
	appendLines(t, live, mkEvent("l2", t0.Add(4*time.Second)))
	evs = fl.waitEvents(t, 5)
	citedAt(t, evs, map[string]string{"a1": live + ".3.gz", "b1": live + ".2.gz", "b2": live + ".2.gz", "l1": one, "l2": live})
	// The next rotation compresses it.
	if err := os.Rename(one, live+".2"); err != nil {
		t.Fatal(err)
	}
	os.Remove(live + ".2.gz")
	gzipAway(t, live+".2")
	citedAt(t, evs[3:], map[string]string{"l1": live + ".2.gz", "l2": live})
}

// TestFollowedCopytruncate: logrotate's copytruncate copies audit.log to
// audit.log.1 and cuts audit.log to nothing: the events read before are
// cited in the copy, those written after at audit.log.
func TestFollowedCopytruncate(t *testing.T) {
	fastMoves(t)
	dir := t.TempDir()
	live := filepath.Join(dir, "audit.log")
	appendLines(t, live, mkEvent("c1", t0), mkEvent("c2", t0.Add(time.Second)))
	fl := follow(t, live)
	fl.waitEvents(t, 2)
	b, err := os.ReadFile(live)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(live+".1", b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(live, 0); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * PollInterval)
	appendLines(t, live, mkEvent("c3", t0.Add(2*time.Second)))
	evs := fl.waitEvents(t, 3)
	citedAt(t, evs, map[string]string{"c1": live + ".1", "c2": live + ".1", "c3": live})
}

// TestFollowedDirectoryBackupCompressed: a followed directory whose
// newest backup is still plain when it is read (lumberjack compresses it
// just after the rotation): its events are cited at the .gz once it is
// there.
func TestFollowedDirectoryBackupCompressed(t *testing.T) {
	fastMoves(t)
	dir := t.TempDir()
	backup := filepath.Join(dir, "audit-2026-11-20T08-05-00.000.log")
	appendLines(t, backup, mkEvent("b1", t0))
	appendLines(t, filepath.Join(dir, "audit.log"), mkEvent("l1", t0.Add(time.Second)))
	fl := follow(t, dir)
	evs := fl.waitEvents(t, 2)
	citedAt(t, evs, map[string]string{"b1": backup, "l1": filepath.Join(dir, "audit.log")})
	gzipAway(t, backup)
	citedAt(t, evs, map[string]string{"b1": backup + ".gz", "l1": filepath.Join(dir, "audit.log")})
}

// TestFollowNotFollowedUntracked: a set that is not followed is not
// tracked: its sources have no Moved.
func TestFollowNotFollowedUntracked(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "audit.log")
	appendLines(t, p, mkEvent("x", t0))
	evs, _ := readSource(t, p, data.ReadOptions{})
	if len(evs) != 1 || evs[0].Origin.Source.Moved != nil {
		t.Fatalf("read once: %d events, moved %v", len(evs), evs[0].Origin.Source.Moved)
	}
}
