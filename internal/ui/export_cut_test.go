package ui

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/audittui/audittui/internal/evidence"
)

// TestExportAfterCopytruncate: the TUI follows audit.log; logrotate's
// copytruncate cuts it in place with no copy left, and the API server
// writes on. The 4 events read before the cut have no bytes anywhere.
// :export writes the others and says what it missed: how many, of which
// file, that their bytes are gone, in the status, MANIFEST.json
// (events_gone, gone) and the case's record. Without a filter the export
// failed on the first such event; with a filter that reads the events'
// bytes, they were left out silently.
func TestExportAfterCopytruncate(t *testing.T) {
	fixture, err := os.ReadFile("testdata/events.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(fixture), "\n")
	before, after := lines[:4], lines[10:20]
	count := func(ls []string, word string) int {
		n := 0
		for _, l := range ls {
			if strings.Contains(l, word) {
				n++
			}
		}
		return n
	}
	for _, tc := range []struct {
		name, filter     string
		exported         int
		events, unsearch int
	}{
		{"no filter", "", len(after), len(before), 0},
		{"a filter on the index", `verb="get"`, count(after, `"verb":"get"`), count(before, `"verb":"get"`), 0},
		{"a filter that reads the bytes", "aaaa", count(after, "aaaa"), 0, len(before)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Chdir(t.TempDir())
			if err := os.WriteFile("audit.log", []byte(strings.Join(before, "")), 0o644); err != nil {
				t.Fatal(err)
			}
			a, wait := followApp(t, "audit.log")
			a.opts.Write = LocalWrites{} // as the local TUI (cli/tui) sets it
			a.Update(windowSize(200, 30))
			wait("loaded 4 ")
			if err := os.Truncate("audit.log", 0); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile("audit.log", []byte(strings.Join(after, "")), 0o644); err != nil {
				t.Fatal(err)
			}
			wait("loaded 14 ")
			// The tracker looks for moved files every half second.
			deadline := time.Now().Add(10 * time.Second)
			for time.Now().Before(deadline) {
				if _, gone := a.c.Snap.sources[a.c.Snap.src.at(0)].info.Moved.Now(); gone {
					break
				}
				time.Sleep(20 * time.Millisecond)
			}
			if tc.filter != "" {
				send(t, a, "/")
				typeText(t, a, tc.filter)
				send(t, a, "enter")
			}
			out := filepath.Join(t.TempDir(), "export")
			command_(t, a, "export "+out)
			missed := tc.events + tc.unsearch
			if !strings.Contains(a.status, "exported "+plural(tc.exported, "event", "events")) ||
				!strings.Contains(a.status, "NOT exported: "+plural(missed, "event", "events")+" of audit.log") || !strings.Contains(a.status, "their bytes are gone") {
				t.Fatalf("status %q", a.status)
			}
			res, err := evidence.Check(out)
			if err != nil || !res.Clean() {
				t.Fatalf("check: %+v %v", res, err)
			}
			m, err := evidence.ReadManifest(out)
			if err != nil || m.Events != tc.exported || m.EventsGone != missed || len(m.Gone) != 1 {
				t.Fatalf("manifest %+v %v", m, err)
			}
			g := m.Gone[0]
			if g.Source != "audit.log" || g.Events != tc.events || g.Unsearched != tc.unsearch || !strings.HasPrefix(g.First, "audit.log:") || !strings.Contains(g.Reason, "cut in place") {
				t.Errorf("gone %+v", g)
			}
			st := a.wb.cs.State()
			if len(st.Exports) != 1 || st.Exports[0].Export.EventsGone != missed || len(st.Exports[0].Export.Gone) != 1 || st.Exports[0].Export.Gone[0].Events != tc.events {
				t.Errorf("case exports %+v", st.Exports)
			}
		})
	}
}
