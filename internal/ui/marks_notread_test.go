package ui

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/audittui/audittui/internal/casefile"
)

// TestBookmarkNotReadSaysWhy: a bookmarked event the session did not read
// (☆) says why in the ' list, on a line of its own (the entry's end is cut
// at 80 columns), and enter says it too: before or after the window read,
// with the flag that reads it; undated under a window; or none of the
// session's sources holds it. It said "(not in the events read)" at the
// end of the entry, cut off at 80 and 120 columns.
func TestBookmarkNotReadSaysWhy(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "case")
	c, err := casefile.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	at := func(s string) time.Time { return time.Unix(0, ts(s)).UTC() }
	marks := []struct {
		when time.Time
		want []string
	}{
		// In the list's order (time; undated first).
		{time.Time{}, []string{"not read: undated, and the window read", "leaves undated events out", "reopening the case without --from/--to reads it"}},
		{at("2026-11-20T08:30:00Z"), []string{"not read: before the window read", "--from 2026-11-20T08:30:00Z reads it", "reopening the case without --from/--to does"}},
		{at("2026-11-20T09:30:00Z"), []string{"not in the events read: other.log is not among this session's sources"}},
		{at("2026-11-20T10:15:00.5Z"), []string{"not read: after the window read", "--to 2026-11-20T10:15:01Z reads it"}},
	}
	for k, m := range marks {
		ev := &casefile.EventRef{SHA256: strings.Repeat(string(rune('a'+k)), 64), Cite: "other.log:1", Source: "other.log",
			User: "mallory-with-a-long-name-to-fill-the-line", Verb: "delete", Object: "clusterrolebindings/cluster-admin-of-some-length", Time: m.when}
		if _, err := c.Add(casefile.Record{Kind: casefile.KindBookmark, Event: ev}); err != nil {
			t.Fatal(err)
		}
	}
	for _, sz := range sizes {
		a := newWorkbenchApp(t, sz.w, sz.h, Options{Case: dir, Window: TimeWindow{ts("2026-11-20T09:00:00Z"), ts("2026-11-20T10:00:00Z")}})
		send(t, a, "'")
		s := screen(a)
		checkScreen(t, s, sz.w, sz.h)
		for _, m := range marks {
			for _, want := range m.want {
				if !strings.Contains(unwrap(s), want) {
					t.Errorf("%dx%d: the list does not say %q:\n%s", sz.w, sz.h, want, s)
				}
			}
		}
		// enter on each says why in the status bar (in full: a.status).
		for k, m := range marks {
			a.wb.list.cursor = k
			a.status = ""
			send(t, a, "enter")
			for _, want := range m.want {
				if !strings.Contains(a.status, want) {
					t.Errorf("%dx%d: enter on bookmark %d says %q, not %q", sz.w, sz.h, k, a.status, want)
				}
			}
		}
	}
}

// unwrap joins the lines of a screen, each trimmed, with spaces: text
// wrapped over lines reads whole.
func unwrap(s string) string {
	var b strings.Builder
	for _, l := range strings.Split(s, "\n") {
		b.WriteString(strings.TrimSpace(l))
		b.WriteByte(' ')
	}
	return b.String()
}

// TestWrapAtSpaces: wrapped text is cut at spaces only (a flag such as
// --from/--to or a hyphenated file name stays whole: ansi.Wrap cut them
// at a hyphen), no line is wider than asked, and nothing is lost.
func TestWrapAtSpaces(t *testing.T) {
	text := "not read: undated, and the window read leaves undated events out; reopening the case without --from/--to reads it from audit-2026-11-20T02-05-00.000.log.gz and 給料明細書類一覧表 too"
	for _, w := range []int{10, 17, 23, 40, 76} {
		lines := wrapAtSpaces(text, w)
		for _, l := range lines {
			if ansi.StringWidth(l) > w {
				t.Errorf("w=%d: %q is wider", w, l)
			}
		}
		joined := strings.Join(lines, " ")
		if w >= len("audit-2026-11-20T02-05-00.000.log.gz") {
			if joined != text {
				t.Errorf("w=%d: the words changed:\n%q\n%q", w, joined, text)
			}
			for _, word := range []string{"--from/--to", "audit-2026-11-20T02-05-00.000.log.gz"} {
				if !strings.Contains("\n"+strings.Join(lines, "\n")+"\n", word) {
					t.Errorf("w=%d: %q was cut:\n%s", w, word, strings.Join(lines, "\n"))
				}
			}
		}
		if strings.ReplaceAll(strings.Join(lines, ""), " ", "") != strings.ReplaceAll(text, " ", "") {
			t.Errorf("w=%d: text lost:\n%s", w, strings.Join(lines, "\n"))
		}
	}
}
