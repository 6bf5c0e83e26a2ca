package e2e

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/testutil"
)

// nodeEvent is one event of the three-node sample, where it is, and the
// sha256 of its line.
type nodeEvent struct {
	user, auditID string
	time          int64
	cite, sha     string
}

// nodeFacts reads the three node files as the TUI will (relative paths
// from the repository root), keeps the events in [from, to), and picks a
// human user whose newest event in the window is unambiguous: the event
// the Tail selects after filtering to that user.
func nodeFacts(t *testing.T, files []string, from, to time.Time) (user string, count, total int, newest nodeEvent) {
	t.Helper()
	root := testutil.RepoRoot()
	byUser := map[string][]nodeEvent{}
	var dec data.Decoder
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(bytes.NewReader(b))
		sc.Buffer(nil, 4<<20)
		line := 0
		for sc.Scan() {
			line++
			evs, _ := dec.Decode(nil, sc.Bytes(), data.Origin{})
			for _, e := range evs {
				if e.Time < from.UnixNano() || e.Time >= to.UnixNano() {
					continue
				}
				total++
				sum := sha256.Sum256(sc.Bytes())
				byUser[strings.Clone(e.User)] = append(byUser[strings.Clone(e.User)], nodeEvent{user: strings.Clone(e.User), auditID: strings.Clone(e.AuditID),
					time: e.Time, cite: fmt.Sprintf("%s:%d", f, line), sha: hex.EncodeToString(sum[:])})
			}
		}
	}
	var users []string
	for u := range byUser {
		users = append(users, u)
	}
	sort.Strings(users)
	for _, u := range users {
		evs := byUser[u]
		if len(evs) < 2 || strings.ContainsAny(u, ":\"\\ ") || u == "" {
			continue
		}
		sort.Slice(evs, func(i, j int) bool { return evs[i].time < evs[j].time })
		last := evs[len(evs)-1]
		if evs[len(evs)-2].time == last.time {
			continue
		}
		// Prefer a user whose newest event is deep in a file (a line
		// number a row index would not give).
		var n int
		fmt.Sscanf(last.cite[strings.LastIndexByte(last.cite, ':')+1:], "%d", &n)
		if n < 50 {
			continue
		}
		return u, len(evs), total, last
	}
	t.Fatal("no suitable user in the window")
	return
}

// TestWorkbenchFlow drives the investigation workbench end to end, as a
// reviewer would: open three node files merged with --from/--to and a
// case, filter, open the Detail and read the true FILE:LINE and sha256,
// bookmark the event, annotate it, quit; reopen the case (sources and
// window come back with it) and find the bookmark and its note; then
// write the Markdown and HTML reports and find the event in them.
func TestWorkbenchFlow(t *testing.T) {
	const wideCols = 200
	tmux := requireTmux(t)
	bin := buildBinary(t)
	root := testutil.RepoRoot()
	files := []string{"testdata/sample/nodes/audit-cp1.log", "testdata/sample/nodes/audit-cp2.log", "testdata/sample/nodes/audit-cp3.log"}
	from, to := time.Date(2026, 11, 20, 2, 30, 0, 0, time.UTC), time.Date(2026, 11, 20, 3, 30, 0, 0, time.UTC)
	user, count, total, ev := nodeFacts(t, files, from, to)
	caseDir := filepath.Join(t.TempDir(), "case-4711")
	note := "shell from an unexpected network, see ticket 4711"

	cmd := fmt.Sprintf("cd %s && USER=alice %s --case %s --from %s --to %s %s", root, bin, caseDir,
		from.Format(time.RFC3339), to.Format(time.RFC3339), strings.Join(files, " "))
	// 200 columns: the status bar gives a message (here the case's, which
	// names the temporary case directory) precedence over the counts when
	// both do not fit, and the case is read while the files are indexed,
	// so at 120 columns whether "loaded" shows depends on which finishes
	// first.
	s := startSession(t, tmux, wideCols, 40, cmd)
	s.waitFor("open three nodes in a window", "window 2026-11-20 02:30:00 → 2026-11-20 03:30:00 UTC",
		fmt.Sprintf("loaded %s", thousands(total)), "indexed in")

	// Filter to the user.
	s.keys("/")
	s.waitGone("filter bar opens", "no filter ·")
	s.text(fmt.Sprintf(`user_username="%s"`, user))
	s.keys("Enter")
	s.waitFor("filtered", fmt.Sprintf("matching %s", thousands(count)))

	// The Detail of the newest match cites its file and line, and the hash.
	s.keys("Enter")
	screen := s.waitFor("detail cites the event", "source    "+ev.cite, "sha256    "+ev.sha, ev.auditID)
	if strings.Contains(screen, " @") {
		t.Errorf("the detail still shows a row number:\n%s", screen)
	}

	// Bookmark it and write a note.
	s.keys("m")
	s.waitFor("bookmarked", "bookmarked "+ev.cite, "★ bookmarked")
	s.keys(":")
	s.text("note " + note)
	s.keys("Enter")
	s.waitFor("note", "note on "+ev.cite, note)
	s.keys("q")
	s.waitFor("quit", "audittui-exit=0")

	// Reopen the case alone: the sources and the window come back, the
	// bookmark is found again, with its note.
	s2 := startSession(t, tmux, wideCols, 40, fmt.Sprintf("cd %s && %s --case %s", root, bin, caseDir))
	s2.waitFor("reopen", "window 2026-11-20 02:30:00 → 2026-11-20 03:30:00 UTC", fmt.Sprintf("loaded %s", thousands(total)),
		"case: 1 bookmarked, 1 note,")
	s2.text("'")
	s2.waitFor("bookmark list", "Bookmarks: 1", "★ ", ev.cite, note)
	s2.keys("Enter")
	s2.waitFor("the bookmark opens", "source    "+ev.cite, "★ bookmarked", note)
	s2.keys("Escape")
	s2.waitFor("back to the tail", "RESOURCE NS/NAME")
	s2.keys("q")
	s2.waitFor("quit", "audittui-exit=0")

	// The reports.
	art := testutil.ArtifactsDir(t)
	for _, format := range []string{"md", "html"} {
		c := exec.Command(bin, "report", "-o", format, caseDir)
		c.Dir = root
		var out, errb bytes.Buffer
		c.Stdout, c.Stderr = &out, &errb
		if err := c.Run(); err != nil {
			t.Fatalf("report -o %s: %v\n%s", format, err, errb.String())
		}
		rep := out.String()
		for _, want := range []string{ev.auditID, note, ev.cite, ev.sha, "OK: the bytes at the citation have this sha256"} {
			if !strings.Contains(rep, want) {
				t.Errorf("%s report lacks %q", format, want)
			}
		}
		path := filepath.Join(art, "report."+format)
		if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		if format == "html" {
			browser := testutil.Chromium(t)
			testutil.Screenshot(t, browser, path, filepath.Join(art, "report.png"), 1280, 1600)
			dom := testutil.RenderDOM(t, browser, path)
			for _, want := range []string{ev.auditID, note, ev.cite, ev.sha} {
				if !strings.Contains(dom, want) {
					t.Errorf("the rendered report lacks %q", want)
				}
			}
		}
	}
}
