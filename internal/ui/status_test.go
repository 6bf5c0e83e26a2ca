package ui

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/data/source/file"
)

// followApp opens path as the TUI does for one live file (followed) and
// returns the app and a function that applies the feed's notifications
// until the screen shows every want string.
func followApp(t *testing.T, path string) (*App, func(want ...string) string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	src, err := file.New(path, file.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ix := NewIndex(t.TempDir(), nil)
	t.Cleanup(func() { ix.Close() })
	st, err := src.Open(ctx, data.ReadOptions{Follow: true, Progress: ix.Progress})
	if err != nil {
		t.Fatal(err)
	}
	feed := NewFeed(ix, nil)
	go feed.Run(ctx, st)
	t.Cleanup(func() { cancel(); <-feed.Done() })
	a := New(ctx, ix, feed, Options{NoColor: true, Follow: true, Compile: CompileLogQL})
	// The clock of a live input: just after the fixtures' events
	// (testdata/events.jsonl ends at 09:03:34).
	a.c.Now = func() time.Time { return time.Date(2026, 11, 20, 9, 5, 0, 0, time.UTC) }
	a.Update(windowSize(100, 12))
	// Commands run as Bubble Tea runs them: each in its own goroutine,
	// batches expanded, their messages applied by wait, in order.
	msgs := make(chan tea.Msg, 16)
	var run func(tea.Cmd)
	run = func(cmd tea.Cmd) {
		if cmd == nil {
			return
		}
		go func() {
			switch m := cmd().(type) {
			case nil:
			case tea.BatchMsg:
				for _, c := range m {
					run(c)
				}
			default:
				select {
				case msgs <- m:
				case <-ctx.Done():
				}
			}
		}()
	}
	run(feed.Wait())
	// wait applies notifications until every want string is on screen
	// (a want starting with "!" must be absent).
	wait := func(want ...string) string {
		t.Helper()
		deadline := time.After(10 * time.Second)
		for {
			s := screen(a)
			ok := true
			for _, w := range want {
				if gone, neg := strings.CutPrefix(w, "!"); neg {
					ok = ok && !strings.Contains(s, gone)
				} else {
					ok = ok && strings.Contains(s, w)
				}
			}
			if ok {
				return s
			}
			select {
			case m := <-msgs:
				_, cmd := a.Update(m)
				run(cmd)
			case <-deadline:
				t.Fatalf("screen never showed %q:\n%s", want, s)
			}
		}
	}
	return a, wait
}

// TestFollowedFileStates: a followed file that holds only a line that is
// not an audit event shows its reject and "live", not "loading" forever;
// a last line without its newline is "1 partial line pending" until the
// newline comes.
func TestFollowedFileStates(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "audit.log")
	if err := os.WriteFile(p, []byte(`{"kind": 0}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, wait := followApp(t, p)
	s := wait("rejected 1 (R)", "live · following", "no events: 1 line rejected (R shows why)")
	if strings.Contains(s, "indexing") || strings.Contains(s, "loading") {
		t.Fatalf("still loading:\n%s", s)
	}

	// Half an event, then the rest of it.
	raw, err := os.ReadFile("testdata/events.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	first, _, _ := strings.Cut(string(raw), "\n")
	p2 := filepath.Join(dir, "audit2.log")
	if err := os.WriteFile(p2, []byte(first[:100]), 0o644); err != nil {
		t.Fatal(err)
	}
	_, wait2 := followApp(t, p2)
	wait2("1 partial line pending (100 B)", "live · following", "a line is waiting for its newline")
	f, err := os.OpenFile(p2, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(first[100:] + "\n")
	f.Close()
	wait2("loaded 1 ·", "live · following", "!partial line")
}

// TestIndexingDone: the status says when reading is over and how long it
// took.
func TestIndexingDone(t *testing.T) {
	a := newTestApp(t, 80, 24)
	if s := screen(a); !strings.Contains(s, "indexing done") {
		t.Fatalf("done index without the word:\n%s", s)
	}
	// A feed that ends: how long it took.
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	a.c.Now = func() time.Time { now = now.Add(1234 * time.Millisecond); return now }
	a.started = a.c.Now()
	a.Update(feedDoneMsg{})
	if s := screen(a); !strings.Contains(s, "indexed in 1.23s") {
		t.Fatalf("no duration:\n%s", s)
	}
	// While reading: how far.
	ix := NewIndex(t.TempDir(), nil)
	defer ix.Close()
	ix.Progress(512<<10, 2<<20)
	b := New(context.Background(), ix, nil, Options{NoColor: true})
	b.Update(windowSize(80, 24))
	if s := screen(b); !strings.Contains(s, "indexing… 25% of 2.0 MiB") {
		t.Fatalf("progress:\n%s", s)
	}
}

// TestNotFollowingSaid: input that could be followed but is not (a
// directory of several nodes' files, read without --follow) says so once
// read, at 80 columns too; nothing is said while it is read, or without
// the hint (review I finding 7: a directory read once looked live).
func TestNotFollowingSaid(t *testing.T) {
	ix := loadIndex(t, "testdata/events.jsonl")
	for _, w := range []int{80, 120} {
		a := New(context.Background(), ix, nil, Options{NoColor: true, NotFollowing: "not following (--follow)"})
		a.Update(windowSize(w, 24))
		a.Update(feedDoneMsg{})
		lines := strings.Split(screen(a), "\n")
		if st := lines[len(lines)-1]; (w > 80 && !strings.Contains(st, "· not following (--follow) · indexed in")) || !strings.Contains(st, "· not following (--follow)") {
			t.Errorf("%d columns: status %q", w, st)
		}
	}
	a := New(context.Background(), ix, nil, Options{NoColor: true})
	a.Update(windowSize(120, 24))
	a.Update(feedDoneMsg{})
	if strings.Contains(screen(a), "following") {
		t.Errorf("said without the hint:\n%s", screen(a))
	}
}

// TestIndexingDoneJoinedLate: an App built over an index that was already
// read (a serve session that joins later; a small input read before the
// first screen) says how long the read took, not "0s".
func TestIndexingDoneJoinedLate(t *testing.T) {
	ix := loadIndex(t, "testdata/events.jsonl")
	ix.mu.Lock()
	ix.took = 1500 * time.Millisecond
	ix.mu.Unlock()
	a := New(context.Background(), ix, nil, Options{NoColor: true})
	a.Update(windowSize(80, 24))
	a.Update(feedDoneMsg{})
	if s := screen(a); !strings.Contains(s, "indexed in 1.5s") {
		t.Fatalf("a late App:\n%s", s)
	}
}

// TestFollowedArchive: an input followed (the default --follow) whose
// newest event is days old is not "live": the status says `following ·
// newest event 17d ago` and the header's window ends at that event, not
// "now" (review D: an archive 17 days old read as `live · following`,
// `→ now`, the Alerts pane `live`). An input whose newest event is within
// the hour is live. The age goes first when the status is short of room;
// the Tail's state stays.
func TestFollowedArchive(t *testing.T) {
	for _, sz := range []struct{ w, h int }{{80, 24}, {120, 40}} {
		a := newWorkbenchApp(t, sz.w, sz.h, Options{Follow: true, Alerts: staticAlerts{AlertState{Rules: 1, Events: 30}}})
		a.alerts.SetState(AlertState{Rules: 1, Events: 30})
		newest := time.Unix(0, a.c.Snap.MaxTime)
		still := newWorkbenchApp(t, sz.w, sz.h, Options{})
		a.c.Now = func() time.Time { return newest.Add(17*24*time.Hour + 3*time.Hour) }
		s := screen(a)
		checkScreen(t, s, sz.w, sz.h)
		if !strings.Contains(s, "following · newest event 17d ago") || strings.Contains(s, "live") || strings.Contains(s, "now") {
			t.Errorf("%dx%d, 17 days on:\n%s", sz.w, sz.h, s)
		}
		if got, want := a.windowLabel(sz.w/2), still.windowLabel(sz.w/2); got != want {
			t.Errorf("%dx%d: the header's window is %q, want %q as without --follow", sz.w, sz.h, got, want)
		}
		// The Alerts pane, evaluating as events come, says so too.
		send(t, a, "3")
		if s := screen(a); !strings.Contains(s, "0 firing · following · newest event 17d ago") || strings.Contains(s, "live") {
			t.Errorf("%dx%d, Alerts, 17 days on:\n%s", sz.w, sz.h, s)
		}
		a.c.Now = func() time.Time { return newest.Add(59 * time.Minute) }
		if s := screen(a); !strings.Contains(s, "0 firing · live") {
			t.Errorf("%dx%d, Alerts, 59 minutes on:\n%s", sz.w, sz.h, s)
		}
		send(t, a, "1")
		s = screen(a)
		if !strings.Contains(s, "live · following") || strings.Contains(s, "newest event") || !strings.Contains(a.windowLabel(sz.w/2), "now") {
			t.Errorf("%dx%d, 59 minutes on:\n%s", sz.w, sz.h, s)
		}
	}
	// Short of room: the age goes, "following" stays.
	a := newWorkbenchApp(t, 60, 20, Options{Follow: true})
	a.c.Now = func() time.Time { return time.Unix(0, a.c.Snap.MaxTime).Add(40 * 24 * time.Hour) }
	s := screen(a)
	checkScreen(t, s, 60, 20)
	if !strings.Contains(s, "following") || strings.Contains(s, "live") {
		t.Errorf("60 columns:\n%s", s)
	}
}
