package ui

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/audittui/audittui/internal/casefile"
	"github.com/audittui/audittui/internal/evidence"
	"github.com/audittui/audittui/internal/testutil"
)

func ts(s string) int64 {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t.UnixNano()
}

// newWorkbenchApp is newTestApp with options and Init run (which opens
// Options.Case).
func newWorkbenchApp(t *testing.T, w, h int, opts Options) *App {
	t.Helper()
	ix := loadIndex(t, "testdata/events.jsonl")
	opts.NoColor, opts.Compile = true, CompileLogQL
	if opts.Title == "" {
		opts.Title = "events.jsonl"
	}
	if opts.Write == nil {
		opts.Write = LocalWrites{} // as the local TUI (cli/tui) sets it
	}
	a := New(context.Background(), ix, nil, opts)
	a.Update(tea.WindowSizeMsg{Width: w, Height: h})
	runCmd(t, a, a.Init())
	return a
}

func command_(t *testing.T, a *App, line string) {
	t.Helper()
	send(t, a, ":")
	typeText(t, a, line)
	send(t, a, "enter")
}

func rowTimes(a *App) (lo, hi int64) {
	for k := 0; k < a.c.Rows.Len(); k++ {
		ti := a.c.Snap.Time(a.c.Rows.At(k))
		if lo == 0 || ti < lo {
			lo = ti
		}
		hi = max(hi, ti)
	}
	return lo, hi
}

func TestParseWhen(t *testing.T) {
	ref := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	berlin, _ := time.LoadLocation("Europe/Berlin")
	for _, tc := range []struct {
		in   string
		loc  *time.Location
		want string
	}{
		{"2026-11-20T09:01:00Z", time.UTC, "2026-11-20T09:01:00Z"},
		{"2026-11-20T10:01:00+01:00", time.UTC, "2026-11-20T09:01:00Z"},
		{"2026-11-20T09:01:00.5", time.UTC, "2026-11-20T09:01:00.5Z"},
		{"2026-11-20 09:01", time.UTC, "2026-11-20T09:01:00Z"},
		{"2026-11-20", time.UTC, "2026-11-20T00:00:00Z"},
		{"09:01", time.UTC, "2026-11-20T09:01:00Z"},
		{"09:01:02.250", time.UTC, "2026-11-20T09:01:02.25Z"},
		{"10:01", berlin, "2026-11-20T09:01:00Z"},
		{"2026-11-20 10:01", berlin, "2026-11-20T09:01:00Z"},
	} {
		got, err := ParseWhen(tc.in, tc.loc, ref)
		if err != nil || time.Unix(0, got).UTC().Format(time.RFC3339Nano) != tc.want {
			t.Errorf("ParseWhen(%q) = %s %v, want %s", tc.in, time.Unix(0, got).UTC().Format(time.RFC3339Nano), err, tc.want)
		}
	}
	for _, bad := range []string{"", "yesterday", "25:00", "2026-13-01"} {
		if _, err := ParseWhen(bad, time.UTC, ref); err == nil {
			t.Errorf("ParseWhen(%q) accepted", bad)
		}
	}
}

func TestWorkbenchCommandsParse(t *testing.T) {
	for _, tc := range []struct {
		line string
		want command
		err  bool
	}{
		{"from 2026-11-20T09:01:00Z", command{name: "from", arg: "2026-11-20T09:01:00Z"}, false},
		{"from", command{name: "from"}, false},
		{"goto", command{}, true},
		{"note  deleted the   binding ", command{name: "note", arg: "deleted the   binding"}, false},
		{"comment x", command{name: "comment", arg: "x"}, false},
		{"note", command{}, true},
		{"tag a b", command{name: "tag", arg: "a b"}, false},
		{"filters now", command{}, true},
		{"export /tmp/x", command{name: "export", arg: "/tmp/x"}, false},
		{"case", command{name: "case"}, false},
	} {
		got, err := parseCommand(tc.line)
		if (err != nil) != tc.err || (!tc.err && got != tc.want) {
			t.Errorf("parseCommand(%q) = %+v, %v", tc.line, got, err)
		}
	}
}

// TestWindowCommands: :from and :to narrow every pane to an absolute
// window shown in the header; :goto selects the first event at or after a
// time; a new query keeps the window; :window all drops it.
func TestWindowCommands(t *testing.T) {
	a := newWorkbenchApp(t, 120, 40, Options{})
	total := a.c.Rows.Len()
	command_(t, a, "from 2026-11-20T09:01:00Z")
	command_(t, a, "to 2026-11-20T09:02:00Z")
	lo, hi := rowTimes(a)
	if a.c.Rows.Len() == 0 || a.c.Rows.Len() >= total || lo < ts("2026-11-20T09:01:00Z") || hi >= ts("2026-11-20T09:02:00Z") {
		t.Fatalf("window rows: %d of %d, %s..%s", a.c.Rows.Len(), total, time.Unix(0, lo).UTC(), time.Unix(0, hi).UTC())
	}
	sc := screen(a)
	if !strings.Contains(strings.SplitN(sc, "\n", 2)[0], "window 2026-11-20 09:01:00 → 2026-11-20 09:02:00 UTC") {
		t.Errorf("header does not show the window:\n%s", sc)
	}
	inWindow := a.c.Rows.Len()
	// A query keeps the window; esc drops the query, not the window.
	send(t, a, "/")
	typeText(t, a, `verb="get"`)
	send(t, a, "enter")
	for k := 0; k < a.c.Rows.Len(); k++ {
		if ti := a.c.Snap.Time(a.c.Rows.At(k)); ti < ts("2026-11-20T09:01:00Z") || ti >= ts("2026-11-20T09:02:00Z") {
			t.Fatalf("query dropped the window")
		}
	}
	send(t, a, "esc")
	if a.c.Rows.Len() != inWindow {
		t.Fatalf("esc: %d rows, want the window's %d", a.c.Rows.Len(), inWindow)
	}
	// :goto the first event at or after a time.
	command_(t, a, "goto 09:01:30")
	row, ok := a.tail.Selected()
	if !ok || a.c.Snap.Time(row) < ts("2026-11-20T09:01:30Z") {
		t.Fatalf("goto selected %v at %s", ok, time.Unix(0, a.c.Snap.Time(row)).UTC())
	}
	for k := 0; k < a.c.Rows.Len(); k++ {
		if r := a.c.Rows.At(k); r < row && a.c.Snap.Time(r) >= ts("2026-11-20T09:01:30Z") {
			t.Fatalf("goto skipped an earlier event at or after the time")
		}
	}
	// Errors name the problem.
	command_(t, a, "to 2026-11-20T08:00:00Z")
	if !strings.Contains(a.status, "empty window") {
		t.Errorf("status %q", a.status)
	}
	command_(t, a, "goto sometime")
	if !strings.Contains(a.status, "cannot read time") {
		t.Errorf("status %q", a.status)
	}
	command_(t, a, "window all")
	if a.c.Rows.Len() != total || !strings.Contains(strings.SplitN(screen(a), "\n", 2)[0], "all 2026-11-20 09:00:00") {
		t.Errorf(":window all: %d rows\n%s", a.c.Rows.Len(), screen(a))
	}
}

// TestHeaderShowsReadWindow: the window the sources were read with
// (--from/--to) is in the header at 80 columns too.
func TestHeaderShowsReadWindow(t *testing.T) {
	a := newWorkbenchApp(t, 80, 24, Options{Window: TimeWindow{ts("2026-11-20T09:00:00Z"), ts("2026-11-20T10:00:00Z")}})
	head := strings.SplitN(screen(a), "\n", 2)[0]
	if !strings.Contains(head, "2026-11-20 09:00:00→10:00:00Z") {
		t.Errorf("header %q", head)
	}
	checkScreen(t, screen(a), 80, 24)
}

// TestBrushZoom: on the Timeline, select a range of the histogram with
// the keyboard and zoom in: every pane gets that window; - zooms out.
func TestBrushZoom(t *testing.T) {
	a := newWorkbenchApp(t, 120, 40, Options{})
	total := a.c.Rows.Len()
	send(t, a, "2")
	send(t, a, "right") // the cursor appears in the middle
	for range 20 {
		send(t, a, "left")
	}
	send(t, a, "v")
	for range 30 {
		send(t, a, ">")
	}
	sc := screen(a)
	if !strings.Contains(sc, "+ zoom in") || !strings.Contains(sc, " events ") {
		t.Fatalf("brush not shown:\n%s", sc)
	}
	b := a.tl.brush
	c1, c2, ok := b.selection()
	if !ok {
		t.Fatal("no selection")
	}
	from, to := b.colTime(c1), b.colTime(c2+1)
	send(t, a, "+")
	if a.filter.Since != from || a.filter.Until != to {
		t.Fatalf("zoomed to %d..%d, want %d..%d", a.filter.Since, a.filter.Until, from, to)
	}
	lo, hi := rowTimes(a)
	if a.c.Rows.Len() == 0 || a.c.Rows.Len() >= total || lo < from || hi >= to {
		t.Fatalf("after zoom: %d rows in %d..%d", a.c.Rows.Len(), lo, hi)
	}
	if !strings.Contains(strings.SplitN(screen(a), "\n", 2)[0], "window ") {
		t.Errorf("header: %s", strings.SplitN(screen(a), "\n", 2)[0])
	}
	// The histogram's axis is now the window: zooming again narrows it.
	send(t, a, "+")
	if a.filter.Until-a.filter.Since >= to-from {
		t.Fatalf("second zoom did not narrow")
	}
	send(t, a, "-", "-")
	if a.filter.Since != 0 || a.filter.Until != 0 || a.c.Rows.Len() != total {
		t.Fatalf("zoom out: %d..%d, %d rows", a.filter.Since, a.filter.Until, a.c.Rows.Len())
	}
	checkScreen(t, screen(a), 120, 40)
}

// TestBookmarks: m marks the selected event (★ in the Tail), [ and ]
// jump between bookmarks, ' lists them, m again removes the mark.
func TestBookmarks(t *testing.T) {
	a := newWorkbenchApp(t, 120, 40, Options{})
	a.tail.Select(3)
	send(t, a, "m")
	a.tail.Select(20)
	send(t, a, "m")
	if !a.c.Marks.Marked(3) || !a.c.Marks.Marked(20) || a.c.Marks.Len() != 2 {
		t.Fatalf("marks %v", a.c.Marks.byRow)
	}
	if !strings.Contains(a.status, "bookmarked testdata/events.jsonl:21") || !strings.Contains(a.status, "no case open") {
		t.Errorf("status %q", a.status)
	}
	if !strings.Contains(screen(a), "★") {
		t.Errorf("no star on the tail:\n%s", screen(a))
	}
	a.tail.Select(10)
	send(t, a, "]")
	if r, _ := a.tail.Selected(); r != 20 {
		t.Errorf("] went to %d", r)
	}
	send(t, a, "[")
	if r, _ := a.tail.Selected(); r != 3 {
		t.Errorf("[ went to %d", r)
	}
	send(t, a, "'")
	sc := screen(a)
	if !strings.Contains(sc, "Bookmarks: 2") || !strings.Contains(sc, "testdata/events.jsonl:4") {
		t.Fatalf("list:\n%s", sc)
	}
	send(t, a, "j", "enter")
	if a.focus != paneDetail || a.detail.Row() != 20 {
		t.Fatalf("enter on the list opened %d (focus %d)", a.detail.Row(), a.focus)
	}
	if sc := screen(a); !strings.Contains(sc, "★ bookmarked") {
		t.Errorf("detail does not say bookmarked:\n%s", sc)
	}
	// m in the Detail removes the open event's bookmark.
	send(t, a, "m")
	if a.c.Marks.Marked(20) || a.c.Marks.Len() != 1 {
		t.Fatalf("unmark: %v", a.c.Marks.byRow)
	}
}

// TestCaseRoundTrip: with --case, bookmarks, notes, tags, a saved filter,
// a silence and the session are written to the case; a new session on the
// same case finds the events again and shows them.
func TestCaseRoundTrip(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "case-4711")
	wd, _ := os.Getwd()
	src := Sources{Args: []string{"testdata/events.jsonl"}, Dir: wd, Files: []string{"testdata/events.jsonl"}}
	a := newWorkbenchApp(t, 120, 40, Options{Case: dir, Sources: src, Author: "alice",
		Window: TimeWindow{From: ts("2026-11-20T08:00:00Z")}})
	if a.CaseDir() != dir {
		t.Fatalf("case dir %q (status %q)", a.CaseDir(), a.status)
	}
	send(t, a, "/")
	typeText(t, a, `objectRef_subresource="exec"`)
	send(t, a, "enter", "enter") // the exec event, in the Detail
	row, _ := a.detail.shownRow()
	send(t, a, "m")
	command_(t, a, "note shell in the payments pod")
	command_(t, a, "tag exec lateral")
	command_(t, a, "untag lateral")
	command_(t, a, "save execs")
	command_(t, a, "casenote paged at 09:05")
	runCmd(t, a, a.RecordSilence(casefile.Silence{Group: "builtin.yaml:12 PodExec {user_username=\"ci\"}", Rule: "PodExec", Labels: map[string]string{"user_username": "ci"}, Note: "CI"}))
	runCmd(t, a, a.RecordSilence(casefile.Silence{Group: "g2"}))
	runCmd(t, a, a.RecordUnsilence("g2"))
	sc := screen(a)
	for _, want := range []string{"★ bookmarked  #exec", "alice", "shell in the payments pod", "source    testdata/events.jsonl:21"} {
		if !strings.Contains(sc, want) {
			t.Errorf("detail lacks %q:\n%s", want, sc)
		}
	}
	for _, f := range []string{"bookmarks.jsonl", "notes.jsonl", "tags.jsonl", "filters.jsonl", "silences.jsonl", "sessions.jsonl"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}

	// A new session on the case.
	b := newWorkbenchApp(t, 120, 40, Options{Case: dir, Sources: src, Author: "bob"})
	if !b.c.Marks.Marked(row) {
		t.Fatalf("the bookmark was not found again (status %q)", b.status)
	}
	if !strings.Contains(b.status, "1 bookmarked, 2 notes, 1 saved filter, 1 silence, 2 sessions") {
		t.Errorf("status %q", b.status)
	}
	if s := b.CaseSilences(); len(s) != 1 || s[0].Rule != "PodExec" || s[0].Labels["user_username"] != "ci" {
		t.Errorf("silences %+v", s)
	}
	command_(t, b, "load execs")
	if b.filter.Text != `objectRef_subresource="exec"` || b.c.Rows.Len() != 2 {
		t.Errorf("load: %q, %d rows", b.filter.Text, b.c.Rows.Len())
	}
	send(t, b, "]")
	send(t, b, "enter")
	if sc := screen(b); !strings.Contains(sc, "shell in the payments pod") || !strings.Contains(sc, "#exec") || strings.Contains(sc, "#lateral") {
		t.Errorf("restored detail:\n%s", sc)
	}
	st := b.c.Marks.st
	if len(st.Opens) != 2 || st.Opens[0].Sources[0] != "testdata/events.jsonl" || st.Opens[0].From == nil || len(st.Views) == 0 {
		t.Errorf("sessions %+v views %d", st.Opens, len(st.Views))
	}
}

// TestMemoryCaseThenCase: bookmarks made before a case is open are kept
// and written when :case names one.
func TestMemoryCaseThenCase(t *testing.T) {
	a := newWorkbenchApp(t, 100, 30, Options{})
	a.tail.Select(5)
	send(t, a, "m")
	dir := filepath.Join(t.TempDir(), "later")
	command_(t, a, "case "+dir)
	c, err := casefile.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if st := c.State(); len(st.Bookmarks) != 1 || st.Bookmarks[0].Event.Cite != "testdata/events.jsonl:6" {
		t.Errorf("case after :case: %+v", st.Bookmarks)
	}
	// The length the Detail shows is recorded with the citation (the
	// report prints it: sed -n '6,$p' | head -c LEN cuts the bytes out).
	b, _ := os.ReadFile("testdata/events.jsonl")
	line6 := strings.Split(string(b), "\n")[5]
	if st := c.State(); len(st.Bookmarks) == 1 && st.Bookmarks[0].Event.Length != int64(len(line6)) {
		t.Errorf("bookmark length %d, want %d", st.Bookmarks[0].Event.Length, len(line6))
	}
}

// TestExportCommand: :export writes the matching events with the manifest
// `audittui verify` checks, and the case records it.
func TestExportCommand(t *testing.T) {
	caseDir := filepath.Join(t.TempDir(), "case")
	a := newWorkbenchApp(t, 100, 30, Options{Case: caseDir, Sources: Sources{Args: []string{"testdata/events.jsonl"}}})
	send(t, a, "/")
	typeText(t, a, `!user_username="bob"`)
	send(t, a, "enter")
	want := a.c.Rows.Len()
	out := filepath.Join(t.TempDir(), "export")
	command_(t, a, "export "+out)
	if !strings.Contains(a.status, "exported") {
		t.Fatalf("status %q", a.status)
	}
	res, err := evidence.Check(out)
	if err != nil || !res.Clean() {
		t.Fatalf("check: %+v %v", res, err)
	}
	b, _ := os.ReadFile(filepath.Join(out, evidence.EventsFile))
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	if len(lines) != want || strings.Contains(string(b), `"username":"bob"`) {
		t.Fatalf("events.jsonl: %d lines, want %d", len(lines), want)
	}
	m, err := evidence.ReadManifest(out)
	if err != nil || !m.Negated || m.Filter != `!user_username="bob"` || !strings.Contains(m.Query, `user_username="bob"`) || m.Events != want {
		t.Fatalf("manifest %+v %v", m, err)
	}
	st := a.c.Marks.st
	if len(st.Exports) != 1 || st.Exports[0].Export.Dir != out || st.Exports[0].Export.Events != want || len(st.Exports[0].Export.ManifestSHA256) != 64 {
		t.Fatalf("case exports %+v", st.Exports)
	}
	// A second export into the directory is refused.
	command_(t, a, "export "+out)
	if !strings.Contains(a.status, "already holds an export") {
		t.Errorf("status %q", a.status)
	}
	if len(m.NotRead) != 0 {
		t.Errorf("not_read %v, want none", m.NotRead)
	}
	// The directories the sources held but did not read are recorded
	// (review M 14).
	nr := []evidence.NotRead{{Path: "case/node-a", Reason: "a subdirectory: not read without -r (--recursive)"}}
	b2 := newWorkbenchApp(t, 100, 30, Options{Sources: Sources{Args: []string{"case"}, NotRead: nr}})
	out2 := filepath.Join(t.TempDir(), "export2")
	command_(t, b2, "export "+out2)
	if m2, err := evidence.ReadManifest(out2); err != nil || fmt.Sprint(m2.NotRead) != fmt.Sprint(nr) {
		t.Errorf(":export: not_read %v (%v), want %v", m2.NotRead, err, nr)
	}
}

// TestWritePolicy: the case and :export write only through Options.Write:
// with writes off nothing is written; confined to a directory (serve
// --data-dir), a path outside it is refused and one inside is used.
func TestWritePolicy(t *testing.T) {
	outside := filepath.Join(t.TempDir(), "x")
	off := newWorkbenchApp(t, 100, 30, Options{Write: WritesOff{}})
	command_(t, off, "case "+outside)
	if !strings.Contains(off.status, "writing files is off") {
		t.Errorf("case with writes off: %q", off.status)
	}
	command_(t, off, "export "+outside)
	if !strings.Contains(off.status, "writing files is off") {
		t.Errorf("export with writes off: %q", off.status)
	}

	root := t.TempDir()
	a := newWorkbenchApp(t, 100, 30, Options{Write: WriteUnder(root)})
	for _, name := range []string{outside, "../escape"} {
		command_(t, a, "case "+name)
		if !strings.Contains(a.status, "case:") || a.CaseDir() != "" {
			t.Errorf("case %s: %q (case dir %q)", name, a.status, a.CaseDir())
		}
		command_(t, a, "export "+name)
		if !strings.Contains(a.status, "export") || strings.Contains(a.status, "exported") {
			t.Errorf("export %s: %q", name, a.status)
		}
	}
	if _, err := os.Stat(outside); !os.IsNotExist(err) {
		t.Errorf("%s was written", outside)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(root), "escape")); !os.IsNotExist(err) {
		t.Errorf("../escape was written")
	}
	command_(t, a, "case ok")
	if a.CaseDir() != filepath.Join(root, "ok") {
		t.Errorf("case inside the root: %q (case dir %q)", a.status, a.CaseDir())
	}
	command_(t, a, "export out")
	if !strings.Contains(a.status, "exported") {
		t.Errorf("export inside the root: %q", a.status)
	}
}

// TestHostileCaseText: notes and tags come from case files other people
// wrote: they reach the screen through the sanitiser like event text.
func TestHostileCaseText(t *testing.T) {
	dir := t.TempDir()
	a := newWorkbenchApp(t, 120, 40, Options{Case: dir})
	a.tail.Select(4)
	send(t, a, "m")
	ref := a.c.Marks.st.Bookmarks[0].Event
	c, err := casefile.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Add(casefile.Record{Kind: casefile.KindNote, Event: &ref, Text: "evil\x1b[2J\x1b]52;c;cGF5bG9hZA==\x07note", Author: "m\u202eallory"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Add(casefile.Record{Kind: casefile.KindTag, Event: &ref, Tag: "t\x1b[31mred"}); err != nil {
		t.Fatal(err)
	}
	b := newWorkbenchApp(t, 120, 40, Options{Case: dir})
	b.tail.Select(4)
	send(t, b, "enter")
	for _, view := range []string{b.render(), func() string { send(t, b, "esc", "'"); return b.render() }()} {
		for _, bad := range []string{"\x1b[2J", "\x1b]52", "\x07", "\u202e", "\x1b[31mred"} {
			if strings.Contains(view, bad) {
				t.Errorf("raw %q reached the screen", bad)
			}
		}
		if !strings.Contains(ansiStrip(view), `\x1b`) {
			t.Errorf("the escape is not shown visibly:\n%s", ansiStrip(view))
		}
	}
}

// TestBrushWideSpan: a span of a century (a bogus timestamp does that)
// maps columns to times without overflowing.
func TestBrushWideSpan(t *testing.T) {
	b := brush{lo: ts("1971-01-01T00:00:00Z"), hi: ts("2099-01-01T00:00:00Z"), w: 120, anchor: -1}
	prev := b.lo
	for c := 1; c <= b.w; c++ {
		ct := b.colTime(c)
		if ct <= prev || ct > b.hi {
			t.Fatalf("column %d starts at %d (previous %d, end %d)", c, ct, prev, b.hi)
		}
		prev = ct
	}
	if b.colTime(b.w) != b.hi {
		t.Errorf("the last column does not end at the axis' end")
	}
}

// TestWindowLabelLive: while following, the open upper end is "now" and
// the zone's letter goes after the first time ("13:58Z→now"), never
// "nowZ"; every form fits the width it was given. (The clock is a minute
// after the newest event: an older one is not "now", TestFollowedArchive.)
func TestWindowLabelLive(t *testing.T) {
	for _, follow := range []bool{false, true} {
		a := newWorkbenchApp(t, 120, 40, Options{Follow: follow})
		a.c.Now = func() time.Time { return time.Unix(0, a.c.Snap.MaxTime).Add(time.Minute) }
		for w := 8; w <= 60; w++ {
			got := a.windowLabel(w)
			if ansi.StringWidth(got) > w {
				t.Errorf("follow %v width %d: %q is wider", follow, w, got)
			}
			if strings.Contains(got, "nowZ") || (follow && strings.Contains(got, "09:59") && !strings.Contains(got, "now")) {
				t.Errorf("follow %v width %d: %q", follow, w, got)
			}
		}
		if got := a.windowLabel(20); follow && got != "11-20 09:00:00Z→now" {
			t.Errorf("following, 20 cells: %q", got)
		}
	}
}

// TestCaseNotice: a notice at start (the local TUI's: stdin read as the
// case's stdin source) stays in front of the case's opening status.
func TestCaseNotice(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "case")
	notice := "stdin taken as the case's stdin source (-)"
	a := newWorkbenchApp(t, 120, 40, Options{Case: dir, Notice: notice, Sources: Sources{Args: []string{"-"}}})
	if !strings.HasPrefix(a.status, notice+" · case: ") || !strings.Contains(screen(a), notice) {
		t.Errorf("status %q", a.status)
	}
}

// TestCaseFingerprintsSources: opening a case records each local source
// file's size, modification time and sha256 (here a copy of the real
// falco traces, named relative to the session's directory), once: a
// session that finds the file as the case recorded it adds nothing, one
// that finds it grown records it again. The hashing waits for the first
// screen.
func TestCaseFingerprintsSources(t *testing.T) {
	ev := t.TempDir()
	b, err := os.ReadFile(filepath.Join(testutil.RealData(t), "audit", "falco-legacy-k8s-audit-traces.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(ev, "falco.jsonl")
	os.WriteFile(p, b, 0o644)
	caseDir := filepath.Join(t.TempDir(), "case")
	opts := Options{Case: caseDir, Sources: Sources{Args: []string{"falco.jsonl"}, Dir: ev, Files: []string{"falco.jsonl"}}}
	fingerprints := func() []casefile.Record {
		t.Helper()
		c, err := casefile.Load(caseDir)
		if err != nil {
			t.Fatal(err)
		}
		return c.State().Fingerprints
	}
	newWorkbenchApp(t, 100, 30, opts)
	fps := fingerprints()
	if len(fps) != 1 || fps[0].File.Path != p || fps[0].File.Size != int64(len(b)) || fps[0].File.SHA256 != RawSHA256(b) || fps[0].File.ModTime.IsZero() {
		t.Fatalf("fingerprints %+v", fps)
	}
	newWorkbenchApp(t, 100, 30, opts)
	if n := len(fingerprints()); n != 1 {
		t.Errorf("reopened unchanged: %d fingerprints, want 1", n)
	}
	os.WriteFile(p, append(b, b[:100]...), 0o644)
	os.Chtimes(p, time.Now(), fps[0].File.ModTime.Add(time.Second))
	newWorkbenchApp(t, 100, 30, opts)
	if fps := fingerprints(); len(fps) != 2 || fps[1].File.Size != int64(len(b)+100) {
		t.Errorf("reopened grown: %+v", fps)
	}

	// Before the first screen nothing is read.
	a := newWorkbenchApp(t, 100, 30, Options{})
	a.wb.firstScreen, a.wb.firstScreenOnce = make(chan struct{}), sync.Once{}
	cs := casefile.Memory()
	a.opts.Sources = opts.Sources
	done := make(chan tea.Msg, 1)
	go func() { done <- a.fingerprintSources(cs)() }()
	select {
	case <-done:
		t.Fatal("fingerprinted before the first screen")
	case <-time.After(100 * time.Millisecond):
	}
	a.View()
	if m, ok := (<-done).(caseMsg); !ok || len(m.records) != 1 {
		t.Errorf("after the first screen: %+v", m)
	}
}

// TestCaseSaysEvidenceChanged: reopening a case whose evidence changed
// says so in the status (review F finding 16: the TUI hashed the file,
// recorded a second fingerprint and said nothing). A copy of the real
// falco traces, relative to the session's directory: unchanged and
// touched, nothing; a byte edited, CHANGED; appended to, grew.
func TestCaseSaysEvidenceChanged(t *testing.T) {
	ev := t.TempDir()
	b, err := os.ReadFile(filepath.Join(testutil.RealData(t), "audit", "falco-legacy-k8s-audit-traces.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(ev, "falco.jsonl")
	os.WriteFile(p, b, 0o644)
	opts := Options{Case: filepath.Join(t.TempDir(), "case"), Sources: Sources{Args: []string{"falco.jsonl"}, Dir: ev, Files: []string{"falco.jsonl"}}}
	later := time.Now().Add(time.Hour)
	reopen := func(what string, want string) {
		t.Helper()
		later = later.Add(time.Second)
		os.Chtimes(p, later, later) // a new modification time: hashed again
		a := newWorkbenchApp(t, 200, 30, opts)
		if !strings.Contains(a.status, want) || (want == "case: " && strings.Contains(a.status, "since the case recorded it")) {
			t.Errorf("%s: status %q, want %q", what, a.status, want)
		}
	}
	reopen("first", "case: ")
	reopen("touched", "case: ")
	grown := append(append([]byte{}, b...), b[:100]...)
	os.WriteFile(p, grown, 0o644)
	reopen("grown", "case: falco.jsonl grew by 100 bytes since the case recorded it (the recorded bytes are unchanged)")
	reopen("grown, seen", "case: ")
	edited := bytes.Replace(grown, []byte(`"auditID":"`), []byte(`"auditID":"X`), 1)[:len(grown)]
	os.WriteFile(p, edited, 0o644)
	reopen("edited", fmt.Sprintf("case: falco.jsonl CHANGED since the case recorded it: %d bytes now, and its first %d bytes are not those recorded (audittui report says more)", len(grown), len(b)))
	a := newWorkbenchApp(t, 200, 30, opts) // as the session before found it: still changed
	if want := "case: falco.jsonl CHANGED since the case recorded it: "; !strings.Contains(a.status, want) {
		t.Errorf("edited, reopened: status %q, want %q", a.status, want)
	}
	os.WriteFile(p, edited[:1000], 0o644)
	reopen("cut", fmt.Sprintf("case: falco.jsonl CHANGED since the case recorded it: 1000 bytes now, %d fewer (audittui report says more)", len(b)-1000))

	// Untrusted text (a file name) is shown sanitised.
	bad := "falco\x1b[31m.jsonl"
	if err := os.WriteFile(filepath.Join(ev, bad), b, 0o644); err != nil {
		t.Fatal(err)
	}
	opts.Sources = Sources{Args: []string{bad}, Dir: ev, Files: []string{bad}}
	newWorkbenchApp(t, 200, 30, opts)
	os.WriteFile(filepath.Join(ev, bad), b[:100], 0o644)
	os.Chtimes(filepath.Join(ev, bad), later.Add(time.Minute), later.Add(time.Minute))
	a = newWorkbenchApp(t, 200, 30, opts)
	if !strings.Contains(a.status, "CHANGED since the case recorded it") || strings.ContainsRune(a.status, 0x1b) {
		t.Errorf("sanitised: status %q", a.status)
	}
}

// TestCaseRecordsFollow: the session's open record says whether it
// followed its sources (the TUI's decision, Options.Follow), so that
// `audittui report` does not take an explicit --follow=false on one file
// as followed (growth of a file no session followed is evidence altered).
func TestCaseRecordsFollow(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "case")
	wd, _ := os.Getwd()
	src := Sources{Args: []string{"testdata/events.jsonl"}, Dir: wd, Files: []string{"testdata/events.jsonl"}}
	newWorkbenchApp(t, 100, 30, Options{Case: dir, Sources: src, Follow: false})
	newWorkbenchApp(t, 100, 30, Options{Case: dir, Sources: src, Follow: true})
	c, err := casefile.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	opens := c.State().Opens
	if len(opens) != 2 {
		t.Fatalf("%d open records, want 2", len(opens))
	}
	for i, want := range []bool{false, true} {
		if f := opens[i].Follow; f == nil || *f != want {
			t.Errorf("session %d: follow %v, want %v", i, f, want)
		}
	}
}

// TestCaseRecordsReading: the open record holds the --label labels,
// --cluster and -r the session read its sources with (Sources.Labels,
// Sources.Cluster, Sources.Recursive), so a reopening and the report read
// them the same way.
func TestCaseRecordsReading(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "case")
	wd, _ := os.Getwd()
	src := Sources{Args: []string{"testdata"}, Dir: wd, Files: []string{"testdata/events.jsonl"}, Labels: []string{"job=kube-audit"}, Cluster: "prod", Recursive: true}
	newWorkbenchApp(t, 100, 30, Options{Case: dir, Sources: src})
	c, err := casefile.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if o := c.State().Opens; len(o) != 1 || !o[0].Recursive || len(o[0].Labels) != 1 || o[0].Labels[0] != "job=kube-audit" || o[0].Cluster != "prod" {
		t.Errorf("open records %+v", o)
	}
}

// TestCaseFingerprintsCompressedContent: a gzipped source's fingerprint
// holds the sha256 of its bytes decompressed (content_sha256) besides
// that of its stored bytes, so `audittui report` tells the file
// recompressed since (the same content) from one changed. A gzipped copy
// of the real falco traces; a plain file records none.
func TestCaseFingerprintsCompressedContent(t *testing.T) {
	ev := t.TempDir()
	b, err := os.ReadFile(filepath.Join(testutil.RealData(t), "audit", "falco-legacy-k8s-audit-traces.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	zw.Write(b)
	zw.Close()
	gz := filepath.Join(ev, "falco.jsonl.gz")
	plain := filepath.Join(ev, "plain.jsonl")
	os.WriteFile(gz, z.Bytes(), 0o644)
	os.WriteFile(plain, b, 0o644)
	caseDir := filepath.Join(t.TempDir(), "case")
	newWorkbenchApp(t, 100, 30, Options{Case: caseDir, Sources: Sources{Args: []string{"falco.jsonl.gz", "plain.jsonl"}, Dir: ev, Files: []string{"falco.jsonl.gz", "plain.jsonl"}}})
	c, err := casefile.Load(caseDir)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]*casefile.SourceFile{}
	for _, r := range c.State().Fingerprints {
		got[r.File.Path] = r.File
	}
	if f := got[gz]; f == nil || f.SHA256 != RawSHA256(z.Bytes()) || f.ContentSHA256 != RawSHA256(b) {
		t.Errorf("gzip fingerprint %+v, want sha256 %s and content_sha256 %s", f, RawSHA256(z.Bytes()), RawSHA256(b))
	}
	if f := got[plain]; f == nil || f.SHA256 != RawSHA256(b) || f.ContentSHA256 != "" {
		t.Errorf("plain fingerprint %+v", f)
	}
}

// TestCaseRecordsObjects: the S3 objects a session reads (Sources.Objects,
// cli/tui's S3 Prints) are recorded as object records once the first
// screen is drawn, so `audittui report` judges them; the next session is
// told the case's records, and an error is said in the status bar.
func TestCaseRecordsObjects(t *testing.T) {
	caseDir := filepath.Join(t.TempDir(), "case")
	lm := time.Date(2026, 2, 10, 2, 0, 0, 0, time.UTC)
	objs := []casefile.SourceObject{
		{URL: "s3://b/audit/a.log.gz", Source: "s3://b/audit/", ETag: "e1", Size: 10, LastModified: lm, SHA256: strings.Repeat("a", 64)},
		{URL: "s3://b/audit/b.log.gz", Source: "s3://b/audit/", ETag: "e2", Size: 20, LastModified: lm},
	}
	var told []map[string]casefile.SourceObject
	var fail error
	opts := Options{Case: caseDir, Sources: Sources{Args: []string{"s3://b/audit/"},
		Objects: func(ctx context.Context, known map[string]casefile.SourceObject) ([]casefile.SourceObject, error) {
			told = append(told, known)
			var out []casefile.SourceObject
			for _, o := range objs {
				if _, ok := known[o.URL]; !ok {
					out = append(out, o)
				}
			}
			return out, fail
		}}}
	objects := func() []casefile.Record {
		t.Helper()
		c, err := casefile.Load(caseDir)
		if err != nil {
			t.Fatal(err)
		}
		return c.State().Objects
	}
	newWorkbenchApp(t, 100, 30, opts)
	got := objects()
	if len(got) != 2 || *got[0].Object != objs[0] || *got[1].Object != objs[1] || len(told) != 1 || len(told[0]) != 0 {
		t.Fatalf("objects %+v, told %+v", got, told)
	}
	fail = fmt.Errorf("list s3://b/audit/: AccessDenied")
	a := newWorkbenchApp(t, 100, 30, opts)
	if len(told) != 2 || len(told[1]) != 2 || told[1][objs[1].URL] != objs[1] {
		t.Errorf("second session told %+v", told[1])
	}
	if n := len(objects()); n != 2 {
		t.Errorf("reopened: %d object records, want 2", n)
	}
	if !strings.Contains(a.status, "AccessDenied") {
		t.Errorf("status %q", a.status)
	}
}

// TestCaseGrowthNotFollowed: the status bar applies the report's rule: a
// recorded file that grew since is benign ("grew by N bytes") only when a
// session of the case followed it live (Sources.FollowedLive, cli/tui's
// report.FollowedLive); any other file that grew was altered after it was
// read: CHANGED. A copy of the real falco traces.
func TestCaseGrowthNotFollowed(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(testutil.RealData(t), "audit", "falco-legacy-k8s-audit-traces.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	for _, followed := range []bool{true, false} {
		ev := t.TempDir()
		p := filepath.Join(ev, "falco.jsonl")
		os.WriteFile(p, b, 0o644)
		var asked []string
		opts := Options{Case: filepath.Join(t.TempDir(), "case"), Sources: Sources{Args: []string{"falco.jsonl"}, Dir: ev, Files: []string{"falco.jsonl"},
			FollowedLive: func(st *casefile.State, path string) bool {
				if len(st.Opens) == 0 {
					t.Error("FollowedLive without the sessions")
				}
				asked = append(asked, path)
				return followed
			}}}
		newWorkbenchApp(t, 200, 30, opts)
		os.WriteFile(p, append(append([]byte{}, b...), b[:100]...), 0o644)
		later := time.Now().Add(time.Hour)
		os.Chtimes(p, later, later)
		a := newWorkbenchApp(t, 200, 30, opts)
		want := "case: falco.jsonl grew by 100 bytes since the case recorded it (the recorded bytes are unchanged)"
		if !followed {
			want = "case: falco.jsonl CHANGED since the case recorded it: 100 bytes appended, and no session of the case followed it live (audittui report says more)"
		}
		if !strings.Contains(a.status, want) || len(asked) == 0 || asked[len(asked)-1] != p {
			t.Errorf("followed %v: status %q, want %q (asked %v)", followed, a.status, want, asked)
		}
	}
}
