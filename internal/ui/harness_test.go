package ui

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/audittui/audittui/internal/data"
)

var update = flag.Bool("update", false, "rewrite golden files")

// loadIndex decodes a JSONL fixture into a fresh index, as a file source
// would (seekable, offsets into the file).
func loadIndex(t testing.TB, path string) *Index {
	t.Helper()
	return loadIndexLabels(t, path, data.Labels{{Name: "job", Value: "audit"}})
}

// loadIndexLabels is loadIndex with the source's stream labels.
func loadIndexLabels(t testing.TB, path string, labels data.Labels) *Index {
	t.Helper()
	abs := path // relative, so golden screens do not depend on the checkout
	content, err := os.ReadFile(abs)
	if err != nil {
		t.Fatal(err)
	}
	info := &data.SourceInfo{Name: abs, Seekable: true, Labels: labels}
	ix := NewIndex(t.TempDir(), nil)
	t.Cleanup(func() { ix.Close() })
	d := decodeFixture(content)
	b := &data.Batch{Events: make([]data.Event, len(d.events)), Bytes: d.bytes}
	for k := range d.events {
		b.Events[k] = d.events[k].Clone()
		b.Events[k].Origin.Source = info
	}
	for _, r := range d.rejects {
		r.Origin.Source = info
		r.Sample = append([]byte(nil), r.Sample...)
		b.Rejects = append(b.Rejects, r)
	}
	if err := ix.Add(b); err != nil {
		t.Fatal(err)
	}
	ix.Finish(nil)
	return ix
}

// decodedFixture is a fixture's lines decoded as a file source decodes
// them, without their source (Origin.Source is nil).
type decodedFixture struct {
	events  []data.Event
	rejects []data.Reject
	bytes   int64
}

// decodedFixtures holds each fixture decoded, by content: most of the
// package's tests load the same few fixtures, and decoding them again
// for each was a good part of the package's CPU under -race (loadIndex
// 18.5 of 250 s in a profile of the whole package, 11.4 of them in
// Decode). Each load copies the events (Clone) and points them at its
// own source: the decoder's output depends on the source only through
// Origin.Source, which it copies.
var (
	decodedMu       sync.Mutex
	decodedFixtures = map[[sha256.Size]byte]*decodedFixture{}
)

// decodeFixture decodes content line by line (once per content).
func decodeFixture(content []byte) *decodedFixture {
	key := sha256.Sum256(content)
	decodedMu.Lock()
	defer decodedMu.Unlock()
	if d := decodedFixtures[key]; d != nil {
		return d
	}
	d := &decodedFixture{}
	var dec data.Decoder
	off := int64(0)
	sc := bufio.NewScanner(bytes.NewReader(content))
	sc.Buffer(nil, 1<<20)
	line := int64(0)
	for sc.Scan() {
		line++
		raw := sc.Bytes()
		o := data.Origin{Line: line, Offset: off}
		var rej *data.Reject
		n := len(d.events)
		d.events, rej = dec.Decode(d.events, raw, o)
		for k := n; k < len(d.events); k++ {
			d.events[k] = d.events[k].Clone()
		}
		if rej != nil {
			d.rejects = append(d.rejects, *rej)
		}
		off += int64(len(raw)) + 1
	}
	d.bytes = off
	decodedFixtures[key] = d
	return d
}

// newTestApp builds an app over the fixture at a fixed size, colourless
// and in UTC, with the filter compiler wired.
func newTestApp(t testing.TB, w, h int) *App {
	t.Helper()
	return newTestAppFile(t, "testdata/events.jsonl", w, h)
}

// newTestAppFile is newTestApp over another fixture.
func newTestAppFile(t testing.TB, path string, w, h int) *App {
	t.Helper()
	ix := loadIndex(t, path)
	a := New(context.Background(), ix, nil, Options{Title: filepath.Base(path), NoColor: true, Compile: CompileLogQL})
	a.Update(tea.WindowSizeMsg{Width: w, Height: h})
	return a
}

// send feeds a key and runs the command chain synchronously (filters,
// detail loads), as the program would.
func send(t testing.TB, a *App, keys ...string) {
	t.Helper()
	for _, k := range keys {
		_, cmd := a.Update(keyMsg(k))
		runCmd(t, a, cmd)
	}
}

func keyMsg(k string) tea.KeyPressMsg {
	switch k {
	case "enter":
		return tea.KeyPressMsg{Code: tea.KeyEnter}
	case "esc":
		return tea.KeyPressMsg{Code: tea.KeyEscape}
	case "tab":
		return tea.KeyPressMsg{Code: tea.KeyTab}
	case "space":
		return tea.KeyPressMsg{Code: tea.KeySpace, Text: " "}
	case "up":
		return tea.KeyPressMsg{Code: tea.KeyUp}
	case "down":
		return tea.KeyPressMsg{Code: tea.KeyDown}
	case "left":
		return tea.KeyPressMsg{Code: tea.KeyLeft}
	case "right":
		return tea.KeyPressMsg{Code: tea.KeyRight}
	case "backspace":
		return tea.KeyPressMsg{Code: tea.KeyBackspace}
	case "pgdown":
		return tea.KeyPressMsg{Code: tea.KeyPgDown}
	case "pgup":
		return tea.KeyPressMsg{Code: tea.KeyPgUp}
	}
	r := []rune(k)
	if len(r) == 1 {
		return tea.KeyPressMsg{Code: r[0], Text: k}
	}
	panic("unknown key " + k)
}

// typeText sends each rune as a key press.
func typeText(t testing.TB, a *App, s string) {
	t.Helper()
	for _, r := range s {
		_, cmd := a.Update(tea.KeyPressMsg{Code: r, Text: string(r)})
		runCmd(t, a, cmd)
	}
}

// runCmd executes cmd and feeds its messages back (batches expanded),
// skipping commands that wait on channels (feeds, alerts, clipboard).
func runCmd(t testing.TB, a *App, cmd tea.Cmd) {
	t.Helper()
	if cmd == nil {
		return
	}
	done := make(chan tea.Msg, 1)
	go func() { done <- cmd() }()
	var msg tea.Msg
	select {
	case msg = <-done:
	case <-time.After(2 * time.Second):
		if !a.running {
			return // a waiting command (feed, alerts): not part of this step
		}
		// A filter is running: on a loaded machine (CI's 2 cores under
		// -race) it may take longer than the wait above; this command may
		// be it. (A waiting command run while a filter is running costs
		// this wait, then is skipped as above.)
		select {
		case msg = <-done:
		case <-time.After(60 * time.Second):
			return
		}
	}
	switch m := msg.(type) {
	case nil:
	case tea.BatchMsg:
		for _, c := range m {
			runCmd(t, a, c)
		}
	default:
		if _, ok := m.(interface{ Clipboard() byte }); ok {
			return
		}
		_, next := a.Update(m)
		runCmd(t, a, next)
	}
}

// screen renders the app as the terminal would show it, without styling.
func screen(a *App) string { return ansi.Strip(a.render()) }

// golden compares got with testdata/golden/name (rewritten with -update).
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("missing golden %s (run go test -update): %v", path, err)
	}
	if string(want) != got {
		t.Errorf("screen %s differs from golden (run go test -update to accept):\n--- got ---\n%s\n--- want ---\n%s", name, got, want)
	}
}

// checkScreen asserts the screen has exactly h lines of at most w cells.
func checkScreen(t *testing.T, s string, w, h int) {
	t.Helper()
	lines := strings.Split(s, "\n")
	if len(lines) != h {
		t.Errorf("screen has %d lines, want %d", len(lines), h)
	}
	for k, l := range lines {
		if lw := ansi.StringWidth(l); lw > w {
			t.Errorf("line %d is %d cells wide (max %d): %q", k+1, lw, w, l)
		}
	}
}

func windowSize(w, h int) tea.WindowSizeMsg { return tea.WindowSizeMsg{Width: w, Height: h} }
