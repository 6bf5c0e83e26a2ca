// Package e2e drives the real audittui binary in tmux, as a person would.
package e2e

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/testutil"
)

// requireTmux skips without tmux, except in CI where it must be there.
func requireTmux(t *testing.T) string {
	t.Helper()
	return testutil.Tool(t, "tmux", "tmux")
}

// buildBinary returns the audittui binary the tests drive
// (testutil.Audittui: $AUDITTUI_BIN, or built once per test process).
func buildBinary(t *testing.T) string {
	t.Helper()
	bin, err := testutil.Audittui()
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

func TestMain(m *testing.M) {
	code := m.Run()
	testutil.RemoveAudittui()
	os.Exit(code)
}

// session is one tmux session running the binary.
type session struct {
	t    *testing.T
	tmux string
	name string
	sock string
}

func startSession(t *testing.T, tmux string, w, h int, command string) *session {
	t.Helper()
	name := fmt.Sprintf("audittui-e2e-%d", time.Now().UnixNano())
	// The shell prints the exit status and lingers so the test can read it.
	sh := command + `; echo "audittui-exit=$?"; sleep 60`
	// A private server socket per test: no interference with the user's
	// tmux or with other tests' sessions.
	sock := filepath.Join(t.TempDir(), "tmux.sock")
	cmd := exec.Command(tmux, "-S", sock, "new-session", "-d", "-s", name, "-x", fmt.Sprint(w), "-y", fmt.Sprint(h), "sh", "-c", sh)
	cmd.Env = append(os.Environ(), "TERM=xterm-256color")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("tmux new-session: %v\n%s", err, out)
	}
	s := &session{t: t, tmux: tmux, name: name, sock: sock}
	t.Cleanup(func() { exec.Command(tmux, "-S", sock, "kill-server").Run() })
	return s
}

func (s *session) capture() string {
	out, err := exec.Command(s.tmux, "-S", s.sock, "capture-pane", "-p", "-t", s.name).Output()
	if err != nil {
		s.t.Fatalf("tmux capture-pane: %v", err)
	}
	return string(out)
}

// keys sends tmux key names (Enter, Escape, ...).
func (s *session) keys(keys ...string) {
	args := append([]string{"-S", s.sock, "send-keys", "-t", s.name}, keys...)
	if out, err := exec.Command(s.tmux, args...).CombinedOutput(); err != nil {
		s.t.Fatalf("tmux send-keys %v: %v\n%s", keys, err, out)
	}
}

// text types literal text.
func (s *session) text(txt string) {
	if out, err := exec.Command(s.tmux, "-S", s.sock, "send-keys", "-t", s.name, "-l", txt).CombinedOutput(); err != nil {
		s.t.Fatalf("tmux send-keys -l: %v\n%s", err, out)
	}
}

// waitFor polls the screen until every want string is on it.
func (s *session) waitFor(what string, want ...string) string {
	s.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	var screen string
	for time.Now().Before(deadline) {
		screen = s.capture()
		ok := true
		for _, w := range want {
			if !strings.Contains(screen, w) {
				ok = false
				break
			}
		}
		if ok {
			return screen
		}
		time.Sleep(100 * time.Millisecond)
	}
	s.t.Fatalf("%s: screen never showed %q; last screen:\n%s", what, want, screen)
	return ""
}

// waitGone polls the screen until gone is no longer on it.
func (s *session) waitGone(what, gone string) {
	s.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	var screen string
	for time.Now().Before(deadline) {
		if screen = s.capture(); !strings.Contains(screen, gone) {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.t.Fatalf("%s: %q never left the screen; last screen:\n%s", what, gone, screen)
}

// sampleFacts decodes the bundled sample: a user to filter on and how many
// events that user has.
func sampleFacts(t *testing.T) (user string, count, total int) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testutil.RepoRoot(), "testdata", "sample", "audit.log"))
	if err != nil {
		t.Fatal(err)
	}
	var dec data.Decoder
	counts := map[string]int{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 4<<20)
	for sc.Scan() {
		evs, _ := dec.Decode(nil, sc.Bytes(), data.Origin{})
		for _, e := range evs {
			counts[strings.Clone(e.User)]++ // events alias the scan buffer
			total++
		}
	}
	// A human user with a few events, plain ASCII so typing it is exact.
	for u, n := range counts {
		if n >= 3 && !strings.Contains(u, ":") && !strings.ContainsAny(u, " \"\\") && u != "" {
			if user == "" || n > count || (n == count && u < user) {
				user, count = u, n
			}
		}
	}
	if user == "" {
		t.Fatal("no suitable user in the sample")
	}
	return user, count, total
}

func TestInvestigateSample(t *testing.T) {
	tmux := requireTmux(t)
	bin := buildBinary(t)
	user, count, total := sampleFacts(t)
	args := ""
	if _, err := os.Stat("/var/log/kubernetes/audit/audit.log"); err == nil {
		args = " --sample" // this machine has a real audit log: ask for the sample
	}
	s := startSession(t, tmux, 120, 40, bin+args)

	// Open: the sample loads, the header says it is sample data.
	s.waitFor("open the sample", "SAMPLE DATA", fmt.Sprintf("loaded %s", thousands(total)), "1 Tail")

	// Filter to one user.
	s.keys("/")
	s.waitGone("filter bar opens", "no filter ·")
	s.text(fmt.Sprintf(`user_username="%s"`, user))
	s.keys("Enter")
	screen := s.waitFor("filtered", fmt.Sprintf("matching %s", thousands(count)), `filter user_username="`+user+`"`)
	if !strings.Contains(screen, user) {
		t.Fatalf("filtered list does not show %s:\n%s", user, screen)
	}

	// Open a detail.
	s.keys("Enter")
	s.waitFor("detail", "stages", "latency", `"auditID"`, "5 Detail")

	// Back, then the timeline.
	s.keys("Escape")
	// (A key sent right after ESC would arrive as alt+key, as on any
	// terminal: wait for the tail first.)
	s.waitFor("back to the tail", "RESOURCE NS/NAME")
	// 2 opens the selected event's user and says so, and how to go back
	// (1: esc would clear the filter first).
	s.keys("2")
	s.waitFor("timeline", "USERS BY EVENTS", "user "+user, "user "+user+" (the selected event's) · 1: back to the Tail")
	s.keys("1")
	s.waitGone("back to the tail from the timeline", "USERS BY EVENTS")

	// Quit.
	s.keys("q")
	s.waitFor("quit", "audittui-exit=0")
}

func TestMissingSourceIsAClearError(t *testing.T) {
	tmux := requireTmux(t)
	bin := buildBinary(t)
	s := startSession(t, tmux, 80, 24, bin+" /nonexistent/audit.log")
	s.waitFor("error", "/nonexistent/audit.log", "audittui-exit=2")
}

func thousands(n int) string {
	s := fmt.Sprint(n)
	var b strings.Builder
	for k, c := range s {
		if k > 0 && (len(s)-k)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// sampleLines returns the bundled sample's lines and its events' users,
// counted.
func sampleLines(t *testing.T) ([][]byte, map[string]int) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testutil.RepoRoot(), "testdata", "sample", "audit.log"))
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.Split(bytes.TrimRight(b, "\n"), []byte("\n"))
	var dec data.Decoder
	users := map[string]int{}
	for _, l := range lines {
		evs, _ := dec.Decode(nil, l, data.Origin{})
		for _, e := range evs {
			users[strings.Clone(e.User)]++
		}
	}
	return lines, users
}

// startSample starts the binary on the bundled sample.
func startSample(t *testing.T, w, h int) *session {
	t.Helper()
	tmux := requireTmux(t)
	bin := buildBinary(t)
	_, users := sampleLines(t)
	total := 0
	for _, n := range users {
		total += n
	}
	s := startSession(t, tmux, w, h, bin+" --sample")
	s.waitFor("open the sample", "SAMPLE DATA", fmt.Sprintf("loaded %s", thousands(total)), "indexed in")
	return s
}

// TestSearchWordsAndDidYouMean: a word typed after / searches the events'
// text as less and lnav users expect (the bar shows the LogQL it became);
// a misspelt field names the field meant.
func TestSearchWordsAndDidYouMean(t *testing.T) {
	lines, _ := sampleLines(t)
	word := "coredns"
	n := 0
	for _, l := range lines {
		if bytes.Contains(l, []byte(word)) {
			n++
		}
	}
	if n == 0 {
		t.Fatalf("no sample line contains %q", word)
	}
	s := startSample(t, 120, 40)
	s.keys("/")
	s.waitGone("filter bar opens", "no filter ·")
	s.text(word)
	s.waitFor("hint", `enter: search the events' text for "coredns"`)
	s.keys("Enter")
	s.waitFor("word search", fmt.Sprintf("matching %s", thousands(n)), `filter |= "coredns"`, "not LogQL")

	s.keys("/")
	s.waitFor("filter bar reopens", `/|= "coredns"`)
	s.keys("C-u")
	s.text(`objectRef_resorce="secrets"`)
	s.keys("Enter")
	s.waitFor("did you mean", "unknown field objectRef_resorce, did you mean objectRef_resource?")
	s.keys("Escape")
	s.waitGone("bar closed", "did you mean")
	s.keys("q")
	s.waitFor("quit", "audittui-exit=0")
}

// TestFilterBarTabAndMetricQuery (review M 10, M 14): at 80x24, tab in
// an empty filter bar offers the fields, after `| ` the stages (the line
// says "…" when more follow), a field typed whole stays a candidate, and a
// metric query is said to be one instead of searched for as text.
func TestFilterBarTabAndMetricQuery(t *testing.T) {
	s := startSample(t, 80, 24)
	s.keys("/")
	s.waitGone("filter bar opens", "no filter ·")
	s.keys("Tab")
	s.waitFor("tab on an empty bar", "tab 1/", "verb user_username", "…")
	s.keys("C-u")
	s.text(`{job="audit"} | json | `)
	s.keys("Tab")
	s.waitFor("tab after | ", `| json | line_format`, "tab 1/", "line_format label_format drop keep")
	s.keys("C-u")
	s.text("objectRef_res")
	s.keys("Tab")
	s.waitFor("a whole field", "/objectRef_resource", "tab: objectRef_resource  objectRef_resourceVersion")
	s.keys("C-u")
	s.text(`sum(count_over_time({job="audit"}[5m]))`)
	s.keys("Enter")
	s.waitFor("metric query", "a metric query: / takes a log query; `audittui query` answers metric queries")
	s.keys("Escape")
	s.waitGone("bar closed", "a metric query")
	s.keys("q")
	s.waitFor("quit", "audittui-exit=0")
}

// TestStatsDrillInAndUndo: enter on a Stats row filters every pane to the
// row's events; esc clears the filter and u brings it back.
func TestStatsDrillInAndUndo(t *testing.T) {
	_, users := sampleLines(t)
	top, topN := "", 0
	for u, n := range users {
		if n > topN || n == topN && u < top {
			top, topN = u, n
		}
	}
	s := startSample(t, 120, 40)
	s.keys("4")
	// The panel shows the query it draws (events over the sample's two
	// hours), not the board's rate over 5m.
	scr := s.waitFor("stats", "Top users by API calls", "events     rate", "(count_over_time({", "[2h])))")
	if strings.Contains(scr, "[5m])))") {
		t.Fatalf("the rankings show a 5m query:\n%s", scr)
	}
	s.keys("Enter")
	filter := fmt.Sprintf(`filter user_username="%s"`, top)
	s.waitFor("drill-in", filter, fmt.Sprintf("matching %s", thousands(topN)), "RESOURCE NS/NAME")
	s.keys("Escape")
	s.waitFor("esc clears", "filter cleared · u (or :undo) brings it back", "no filter ·")
	s.keys("u")
	s.waitFor("undo", filter, fmt.Sprintf("matching %s", thousands(topN)), "undone: back to")
	s.keys("q")
	s.waitFor("quit", "audittui-exit=0")
}
