package query

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/audittui/audittui/internal/cli/cmdutil"
	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/data/source/loki"
	"github.com/audittui/audittui/internal/data/source/loki/lokitest"
	"github.com/audittui/audittui/internal/gen"
)

// lokiRate is the generated events' rate (events/s over the three nodes).
// It was 20: what the tests check does not depend on the amount. Their
// windows check which events a read keeps at the windows' edges, and at
// 4 events/s there are still 8 to 16 events in the 2 to 4 s that separate
// an event from its Loki entry, to miss or to take wrongly. 5 times fewer
// events make each of the 42 reads (of 10 to 20 minutes) about 5 times
// cheaper: TestLokiWindowOnEventTime took 215 s under -race at load 13.
const lokiRate = 4

// lokiAndFiles writes 20 minutes of three control-plane nodes' audit logs
// (generated, 4 events/s) to files, and pushes the same events to a Loki
// (one stream per node) the way Fluent Bit's loki output stamps them:
// when it reads the line, 2 to 4 s after the event's stageTimestamp. It
// returns the files and the Loki source argument.
func lokiAndFiles(t *testing.T) (files []string, lokiArg string, start time.Time, s *lokitest.Server) {
	t.Helper()
	start = time.Date(2026, 11, 20, 2, 0, 0, 0, time.UTC)
	g := gen.New(gen.Config{Seed: 17, Start: start, Rate: lokiRate, Nodes: 3, Stories: true, Disorder: 5 * time.Millisecond})
	var lines [3][]string
	var entries [3][]loki.PushEntry
	end := start.Add(20 * time.Minute).UnixNano()
	for i := 0; ; i++ {
		r := g.Next()
		if r.Time >= end {
			break
		}
		l := strings.TrimSuffix(string(r.Line), "\n")
		lines[r.Node] = append(lines[r.Node], l)
		delay := 2*time.Second + time.Duration(i%5)*500*time.Millisecond
		entries[r.Node] = append(entries[r.Node], loki.PushEntry{Time: r.Time + int64(delay), Line: []byte(l)})
	}
	s = lokitest.New(lokitest.Options{})
	t.Cleanup(s.Close)
	dir := t.TempDir()
	for n := range 3 {
		p := filepath.Join(dir, fmt.Sprintf("node-cp%d.log", n+1))
		if err := os.WriteFile(p, []byte(strings.Join(lines[n], "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, p)
		es := entries[n]
		sort.SliceStable(es, func(i, j int) bool { return es[i].Time < es[j].Time })
		s.Push("", loki.PushRequest{Streams: []loki.PushStream{{
			Labels:  data.Labels{{Name: "job", Value: "audit"}, {Name: "cluster", Value: "prod-eu-1"}, {Name: "node", Value: fmt.Sprintf("cp%d", n+1)}},
			Entries: es,
		}}})
	}
	return files, strings.Replace(s.URL, "http://", "loki://", 1), start, s
}

// TestLokiWindowOnEventTime: a window is on the events' own time
// (stageTimestamp) whatever the source. Loki selects entries by their
// timestamp, which a shipper sets when it reads the line, seconds later:
// review G finding 4 saw `--from 03:00:00` print events of 02:59:58,
// 36,219 lines for the files' 36,214, a metric answer matching neither
// and an extra step before --from. Log queries, metric queries (instant
// and with --step) and --limit (newest and --forward) answer over Loki as
// over the node files.
func TestLokiWindowOnEventTime(t *testing.T) {
	files, lk, start, _ := lokiAndFiles(t)
	at := func(d time.Duration) string { return start.Add(d).Format(time.RFC3339Nano) }
	windows := [][2]string{
		{at(5 * time.Minute), at(15 * time.Minute)},
		{at(7*time.Minute + 30*time.Second), at(8 * time.Minute)},
		{at(9*time.Minute + 59*time.Second + 500*time.Millisecond), at(10*time.Minute + 500*time.Millisecond)},
	}
	sorted := func(s string) []string {
		l := strings.Split(strings.TrimSpace(s), "\n")
		slices.Sort(l)
		return l
	}
	for _, w := range windows {
		win := []string{"--from", w[0], "--to", w[1]}
		for _, args := range [][]string{
			{"-o", "raw", `{job="audit"} | json`},
			{"-o", "raw", `{job="audit"} | json | verb=~"create|delete|patch"`},
			{"-o", "raw", "--limit", "40", `{job="audit"} | json`},
			{"-o", "raw", "--limit", "40", "--forward", `{job="audit"} | json`},
		} {
			a := append(slices.Clone(win), args...)
			_, want, _ := queryCLI(t, append(a, files...)...)
			lokiArgs := a
			if slices.Contains(args, "--limit") {
				// Pages of 2 entries (half a second at lokiRate) with
				// entries 2 to 4 s after their events: a page at the
				// window's edge is followed by entries of newer (older)
				// events.
				lokiArgs = append(slices.Clone(a), "--loki-batch", "2", "--loki-lag", "10s")
			}
			code, got, errOut := queryCLI(t, append(lokiArgs, lk)...)
			if code != 0 || !slices.Equal(sorted(got), sorted(want)) {
				t.Errorf("%v: exit %d, %d lines from Loki, %d from the files (%s)", a, code, len(sorted(got)), len(sorted(want)), errOut)
			}
			if strings.Contains(errOut, "--loki-lag") {
				t.Errorf("%v: a warning with every entry within 4 s of its event: %s", a, errOut)
			}
		}
		for _, args := range [][]string{
			{`sum(count_over_time({job="audit"} | json [20m]))`},
			{`sum by (verb) (count_over_time({job="audit"} | json | verb=~"create|delete" [20m]))`},
			{"-o", "csv", "--step", "1m", `sum(count_over_time({job="audit"} | json [1m]))`},
		} {
			a := append(slices.Clone(win), args...)
			_, want, _ := queryCLI(t, append(a, files...)...)
			code, got, errOut := queryCLI(t, append(a, lk)...)
			if code != 0 || got != want {
				t.Errorf("%v: exit %d, Loki:\n%s\nthe files:\n%s\n%s", a, code, got, want, errOut)
			}
		}
	}
}

// TestLokiWindowSaysWhatItMissed: stderr says when a Loki read may have
// missed events of its window (an entry stamped an hour after its event:
// a shipper catching up after an outage), and --loki-lag widens the
// margin; without a window, a read that finds nothing says it covered
// only the last hour (review G finding 10).
func TestLokiWindowSaysWhatItMissed(t *testing.T) {
	_, lk, start, s := lokiAndFiles(t)
	late := `{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"late-1","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/prod/secrets/db","verb":"delete","user":{"username":"mallory"},"objectRef":{"resource":"secrets","namespace":"prod","name":"db","apiVersion":"v1"},"responseStatus":{"metadata":{},"code":200},"requestReceivedTimestamp":"2026-11-20T02:10:00.100000Z","stageTimestamp":"2026-11-20T02:10:00.200000Z"}`
	at := time.Date(2026, 11, 20, 2, 10, 0, 200000000, time.UTC).Add(time.Hour).UnixNano()
	s.Push("", loki.PushRequest{Streams: []loki.PushStream{{Labels: data.Labels{{Name: "job", Value: "audit"}, {Name: "node", Value: "cp9"}}, Entries: []loki.PushEntry{{Time: at, Line: []byte(late)}}}}})
	win := []string{"--from", start.Add(9 * time.Minute).Format(time.RFC3339), "--to", start.Add(11 * time.Minute).Format(time.RFC3339)}
	q := `{job="audit"} | json | user_username="mallory"`
	// The late entry is outside the margin: it is not fetched, and the
	// entries that were are all within 4 s of their events (what is not
	// fetched cannot be seen: the warning below needs one that was).
	code, out, errOut := queryCLI(t, append(win, "-o", "raw", q, lk)...)
	if code != 0 || strings.Contains(out, "late-1") || strings.Contains(errOut, "--loki-lag") {
		t.Errorf("--loki-lag 5m: exit %d, %q, %s", code, out, errOut)
	}
	// A window that fetches the late entry sees it an hour after its
	// event: stderr says the window may miss others like it.
	wide := []string{"--from", start.Add(9 * time.Minute).Format(time.RFC3339), "--to", start.Add(2 * time.Hour).Format(time.RFC3339)}
	_, out, errOut = queryCLI(t, append(wide, "-o", "raw", q, lk)...)
	if !strings.Contains(out, "late-1") || !strings.Contains(errOut, "audittui: warning: loki http://") || !strings.Contains(errOut, "1 entry was stamped more than --loki-lag (5m) from their event's own time, the furthest 1h after it ({job=\"audit\", node=\"cp9\"} @") {
		t.Errorf("wide window: %q, stderr %s", out, errOut)
	}
	code, out, errOut = queryCLI(t, append(win, "--loki-lag", "2h", "-o", "raw", q, lk)...)
	if code != 0 || !strings.Contains(out, "late-1") || strings.Contains(errOut, "--loki-lag") {
		t.Errorf("--loki-lag 2h: exit %d, %q, stderr %s", code, out, errOut)
	}
	if code, _, errOut := queryCLI(t, "--loki-lag", "-1m", q, lk); code != cmdutil.ExitUsage || !strings.Contains(errOut, "--loki-lag -1m0s: want a positive duration") {
		t.Errorf("--loki-lag -1m: exit %d, %s", code, errOut)
	}

	// No window: the last hour (of now, not of 2026-11-20) holds nothing.
	code, out, errOut = queryCLI(t, "-o", "raw", q, lk)
	if code != 0 || out != "" || !strings.Contains(errOut, ": nothing read from ") || !strings.Contains(errOut, "a Loki read covers only the last 1h (--loki-since") {
		t.Errorf("no window: exit %d, %q, stderr %s", code, out, errOut)
	}
	for _, args := range [][]string{{`sum(count_over_time({job="audit"} | json [1h]))`}, {"--loki-since", "10000h", "-o", "raw", q}} {
		_, _, errOut = queryCLI(t, append(args, lk)...)
		if strings.Count(errOut, "nothing read from") != map[bool]int{true: 1, false: 0}[args[0] != "--loki-since"] {
			t.Errorf("%v: stderr %s", args, errOut)
		}
	}
}
