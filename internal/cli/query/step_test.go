package query

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/audittui/audittui/internal/cli/cmdutil"
	"github.com/audittui/audittui/internal/testutil"
)

// TestRangeQueryCountsEveryEvent: without --to, a range query's steps run
// from the first match (rounded down to a multiple of the step, as Grafana
// aligns them) to the first step at or after the last match, so that
// count_over_time with a range equal to the step counts every matching
// event exactly once over the steps. The last step used to stop short of
// the last events: 220 of the sample's 241 4xx responses were counted.
func TestRangeQueryCountsEveryEvent(t *testing.T) {
	files := []string{filepath.Join("..", "..", "..", "testdata", "sample", "audit.log")}
	real := testutil.RealData(t)
	for _, n := range []string{"audit2rbac-demo-v1.jsonl", "falco-legacy-k8s-audit-traces.jsonl"} {
		files = append(files, filepath.Join(real, "audit", n))
	}
	for _, f := range files {
		for _, sel := range []string{`{job="audit"} | json | responseStatus_code >= 401 | responseStatus_code < 500`, `{job="audit"} | json`} {
			// The events' count, from a log query.
			code, out, errOut := queryCLI(t, "-o", "jsonl", sel, f)
			if code != cmdutil.ExitOK {
				t.Fatalf("%s: exit %d: %s", f, code, errOut)
			}
			want := strings.Count(out, "\n")
			for _, step := range []time.Duration{time.Minute, 7 * time.Minute, 15 * time.Minute, time.Hour} {
				q := "sum(count_over_time(" + sel + " [" + step.String() + "]))"
				code, out, errOut := queryCLI(t, "-o", "csv", "--step", step.String(), q, f)
				if code == cmdutil.ExitUsage && strings.Contains(errOut, "maximum resolution") {
					continue // the Falco traces span two years: too many steps of a minute
				}
				if code != cmdutil.ExitOK {
					t.Fatalf("%s %s: exit %d: %s", f, step, code, errOut)
				}
				got := 0
				for i, line := range strings.Split(strings.TrimSpace(out), "\n") {
					if i == 0 || line == "" {
						continue // the header
					}
					cells := strings.Split(line, ",")
					ts, err := time.Parse(time.RFC3339Nano, cells[len(cells)-2])
					if err != nil {
						t.Fatal(err)
					}
					if ts.UnixNano()%int64(step) != 0 {
						t.Errorf("%s step %s: step time %s is not a multiple of the step", f, step, ts)
					}
					v, err := strconv.Atoi(cells[len(cells)-1])
					if err != nil {
						t.Fatal(err)
					}
					got += v
				}
				if got != want {
					t.Errorf("%s step %s, %s: the steps count %d events, the log query finds %d", filepath.Base(f), step, sel, got, want)
				}
			}
		}
	}
}

// TestRangeQueryWindowCountsEveryEvent: with --from and --to (unaligned),
// the steps still fall on multiples of the step, from the window's start
// rounded down to the first step at or after its end, so the steps count
// every event of the window once: a last step before --to used to leave
// the events after it uncounted (14 of 16 deletes). The first step counts
// its whole range, before --from too, as Loki does (its lines are selected
// from start-range): with a range equal to the step, the steps count the
// events in (start-step, --to].
func TestRangeQueryWindowCountsEveryEvent(t *testing.T) {
	f := filepath.Join("..", "..", "..", "testdata", "sample", "audit.log")
	sel := `{job="audit"} | json | verb="delete"`
	for _, w := range [][2]string{
		{"2026-11-20T02:00:00Z", "2026-11-20T02:20:00Z"},
		{"2026-11-20T02:02:00Z", "2026-11-20T02:17:00Z"},
		{"2026-11-20T02:05:30Z", "2026-11-20T03:41:10Z"},
	} {
		from, err := time.Parse(time.RFC3339, w[0])
		if err != nil {
			t.Fatal(err)
		}
		to, err := time.Parse(time.RFC3339, w[1])
		if err != nil {
			t.Fatal(err)
		}
		for _, step := range []time.Duration{5 * time.Minute, 7 * time.Minute, time.Hour} {
			// The events the steps' ranges cover: (start-step, to].
			start := from.UnixNano() - from.UnixNano()%int64(step)
			code, out, errOut := queryCLI(t, "-o", "jsonl", "--from", time.Unix(0, start-int64(step)+1).UTC().Format(time.RFC3339Nano),
				"--to", to.Add(time.Nanosecond).Format(time.RFC3339Nano), sel, f)
			if code != cmdutil.ExitOK {
				t.Fatalf("%v: exit %d: %s", w, code, errOut)
			}
			want := strings.Count(out, "\n")
			q := "sum(count_over_time(" + sel + " [" + step.String() + "]))"
			code, out, errOut = queryCLI(t, "-o", "csv", "--step", step.String(), "--from", w[0], "--to", w[1], q, f)
			if code != cmdutil.ExitOK {
				t.Fatalf("%v %s: exit %d: %s", w, step, code, errOut)
			}
			got := 0
			for i, line := range strings.Split(strings.TrimSpace(out), "\n") {
				if i == 0 || line == "" {
					continue
				}
				cells := strings.Split(line, ",")
				ts, err := time.Parse(time.RFC3339Nano, cells[len(cells)-2])
				if err != nil {
					t.Fatal(err)
				}
				if ts.UnixNano()%int64(step) != 0 {
					t.Errorf("%v step %s: step time %s is not a multiple of the step", w, step, ts)
				}
				v, _ := strconv.Atoi(cells[len(cells)-1])
				got += v
			}
			if got != want {
				t.Errorf("window %v step %s: the steps count %d deletes, the log query finds %d", w, step, got, want)
			}
		}
	}
}

// TestRangeQueryCountsALineAtItsEnd: a line at exactly --to counts in the
// range query's step there, as Loki counts it since 3.2
// (grafana/loki#13448), and in the instant query at --to (Loki's query at
// time=--to selects the lines up to and including it too); a log query
// leaves it out (--to is exclusive, as for logcli).
func TestRangeQueryCountsALineAtItsEnd(t *testing.T) {
	line := func(id, at string) string {
		return `{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"` + id + `","stage":"ResponseComplete","requestURI":"/apis/rbac.authorization.k8s.io/v1/namespaces/p/rolebindings","verb":"list","user":{"username":"carol"},"objectRef":{"resource":"rolebindings","namespace":"p","apiGroup":"rbac.authorization.k8s.io","apiVersion":"v1"},"responseStatus":{"code":200},"requestReceivedTimestamp":"` + at + `","stageTimestamp":"` + at + `"}`
	}
	f := filepath.Join(t.TempDir(), "audit.log")
	if err := os.WriteFile(f, []byte(line("a", "2026-11-20T03:01:30.000000Z")+"\n"+line("b", "2026-11-20T03:02:00.000000Z")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	q := `sum(count_over_time({job="audit"} | json | user_username="carol" [1m]))`
	code, out, errOut := queryCLI(t, "-o", "csv", "--from", "2026-11-20T03:00:00Z", "--to", "2026-11-20T03:02:00Z", "--step", "1m", q, f)
	if code != cmdutil.ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, "2026-11-20T03:02:00.000000Z,2\n") {
		t.Errorf("the step at --to does not count the line at --to:\n%s", out)
	}
	code, out, errOut = queryCLI(t, "-o", "csv", "--from", "2026-11-20T03:00:00Z", "--to", "2026-11-20T03:02:00Z", q, f)
	if code != cmdutil.ExitOK || !strings.HasSuffix(out, "2026-11-20T03:02:00.000000Z,2\n") {
		t.Errorf("instant query at --to: exit %d, %q %s (want 2 at 03:02:00: a line at --to counts)", code, out, errOut)
	}
	code, out, _ = queryCLI(t, "-o", "raw", "--from", "2026-11-20T03:00:00Z", "--to", "2026-11-20T03:02:00Z", `{job="audit"} | json`, f)
	if code != cmdutil.ExitOK || strings.Count(out, "\n") != 1 {
		t.Errorf("log query with --to: %d lines, want 1 (--to is exclusive)", strings.Count(out, "\n"))
	}
}

// TestStepTakesLogQLDurations: --step takes 1d and 1w as LogQL ranges and
// Loki's step parameter write them (the Stats pane shows `--step 56d` for
// a long input; the flag refused the unit "d"), the same as 24h.
func TestStepTakesLogQLDurations(t *testing.T) {
	f := filepath.Join("..", "..", "..", "testdata", "sample", "audit.log")
	q := `sum(count_over_time({job="audit"} | json [1d]))`
	_, want, _ := queryCLI(t, "--step", "24h", q, f)
	for _, step := range []string{"1d", "1d0h"} {
		code, out, errOut := queryCLI(t, "--step", step, q, f)
		if code != cmdutil.ExitOK || out != want {
			t.Errorf("--step %s: exit %d %s\n%s\nwant\n%s", step, code, errOut, out, want)
		}
	}
	if code, _, errOut := queryCLI(t, "--step", "1x", q, f); code == cmdutil.ExitOK || !strings.Contains(errOut, "not a duration") {
		t.Errorf("--step 1x: exit %d, %s", code, errOut)
	}
}

// TestUndatedCountedOnlyWhenTheyMatch: events without a time are said to
// be left out of a metric query (exit 1) only when the query would have
// kept them: on the real data, a query for system:admin is not "missing"
// Panther's 48 undated fixtures, none of which is that user (review F);
// a query that would keep them still says so.
func TestUndatedCountedOnlyWhenTheyMatch(t *testing.T) {
	files := testutil.RealAuditFiles(t)
	q := `sum(count_over_time({job="audit"} | json | user_username="system:admin" [1h]))`
	code, out, errOut := queryCLI(t, append([]string{q}, files...)...)
	if code != cmdutil.ExitOK || strings.Contains(errOut, "without a timestamp") || !strings.Contains(out, "74") {
		t.Errorf("system:admin: exit %d, %q, stderr %s", code, out, errOut)
	}
	q = `sum(count_over_time({job="audit"} | json | objectRef_resource="pods" [1h]))`
	code, _, errOut = queryCLI(t, append([]string{q}, files...)...)
	if code == cmdutil.ExitOK || !strings.Contains(errOut, "without a timestamp") {
		t.Errorf("pods (Panther's undated fixtures are pods requests): exit %d, stderr %s", code, errOut)
	}
}

// TestMetricQueryBoundariesAsLoki: review F's seven deletes at 01:55:00,
// 01:57:00, 02:00:00, 02:05:00, 02:07:30, 02:10:00 and 02:10:00.000001
// (p0..p6), counted as Loki (>= 3.2) counts them, where a value at t counts
// the lines in (t-range, t]: the first step of a range query reads back a
// range before --from (Loki selects lines from start-range), so the step at
// 02:00 counts p1 and p2 but not p0, at exactly 02:00-5m; an instant query
// at --to 02:10 counts p4 and p5, at exactly --to, but not p3, at exactly
// 02:10-5m, nor p6, after --to. audittui dropped everything before --from
// (p1) and its instant query counted [t-range, t) (p3, not p5). A log
// query still starts at --from. The window's notice: a range query whose
// steps' ranges hold no event says where they are; one whose first step
// counts events before --from says nothing.
func TestMetricQueryBoundariesAsLoki(t *testing.T) {
	var b strings.Builder
	for i, at := range []string{"01:55:00", "01:57:00", "02:00:00", "02:05:00", "02:07:30", "02:10:00", "02:10:00.000001"} {
		fmt.Fprintf(&b, `{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"00000000-0000-0000-0000-%012d","stage":"ResponseComplete","verb":"delete","user":{"username":"u"},"objectRef":{"resource":"pods","namespace":"a","name":"p%d"},"responseStatus":{"code":200},"stageTimestamp":"2026-11-20T%sZ"}`+"\n", i, i, at)
	}
	f := filepath.Join(t.TempDir(), "t.log")
	if err := os.WriteFile(f, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	q := `sum by (objectRef_name) (count_over_time({job="audit"} | json [5m]))`
	// points returns name@step-time for each point, in order.
	points := func(args ...string) []string {
		t.Helper()
		code, out, errOut := queryCLI(t, append(append([]string{"-o", "csv"}, args...), q, f)...)
		if code != cmdutil.ExitOK {
			t.Fatalf("%v: exit %d: %s", args, code, errOut)
		}
		var got []string
		for i, line := range strings.Split(strings.TrimSpace(out), "\n") {
			if i == 0 || line == "" {
				continue
			}
			c := strings.Split(line, ",")
			if c[len(c)-1] != "1" {
				t.Errorf("%v: %s: want each name counted once", args, line)
			}
			got = append(got, c[0]+"@"+strings.TrimSuffix(strings.TrimPrefix(c[len(c)-2], "2026-11-20T"), ".000000Z"))
		}
		sort.Strings(got)
		return got
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		// The range query: p0 (at start-range) out, p1 (before --from)
		// and p2 (at start) in the first step, p5 (at --to) in the last,
		// p6 (after --to) out.
		{[]string{"--step", "5m", "--from", "2026-11-20T02:00:00Z", "--to", "2026-11-20T02:10:00Z"},
			"p1@02:00:00 p2@02:00:00 p3@02:05:00 p4@02:10:00 p5@02:10:00"},
		// Without --to: the steps run to the last match (p6).
		{[]string{"--step", "5m", "--from", "2026-11-20T02:00:00Z"},
			"p1@02:00:00 p2@02:00:00 p3@02:05:00 p4@02:10:00 p5@02:10:00 p6@02:15:00"},
		// --from 02:12: the first step is at 02:10 (on a multiple of the
		// step, as Grafana aligns the start).
		{[]string{"--step", "5m", "--from", "2026-11-20T02:12:00Z"}, "p4@02:10:00 p5@02:10:00 p6@02:15:00"},
		// A --from after every event: the first step (02:15) still counts
		// p6 in its range (02:10, 02:15].
		{[]string{"--step", "5m", "--from", "2026-11-20T02:16:00Z"}, "p6@02:15:00"},
		// The instant query at --to: (02:05, 02:10].
		{[]string{"--to", "2026-11-20T02:10:00Z"}, "p4@02:10:00 p5@02:10:00"},
		// --from bounds an instant query's evidence (it has no start).
		{[]string{"--from", "2026-11-20T02:08:00Z", "--to", "2026-11-20T02:10:00Z"}, "p5@02:10:00"},
	} {
		if got := strings.Join(points(tc.args...), " "); got != tc.want {
			t.Errorf("%v:\n got %s\nwant %s", tc.args, got, tc.want)
		}
	}
	// A log query starts at --from and leaves --to out.
	code, out, _ := queryCLI(t, "-o", "jsonl", "--from", "2026-11-20T02:00:00Z", "--to", "2026-11-20T02:10:00Z", `{job="audit"} | json`, f)
	if code != cmdutil.ExitOK || strings.Count(out, "\n") != 3 || strings.Contains(out, `"p1"`) || strings.Contains(out, `"p5"`) {
		t.Errorf("log query: exit %d:\n%s", code, out)
	}
	// The notice: no step's range holds an event (all before 02:55).
	code, out, errOut := queryCLI(t, "-o", "jsonl", "--step", "5m", "--from", "2026-11-20T03:00:00Z", "--to", "2026-11-20T04:00:00Z", q, f)
	if want := "audittui: no event read falls in the window (from 2026-11-20T03:00:00Z to 2026-11-20T04:00:00Z): all 7 events read are before it, the newest at 2026-11-20T02:10:00.000001Z\n"; code != cmdutil.ExitOK || out != "" || errOut != want {
		t.Errorf("range query before the window: exit %d, %q, stderr %q, want %q", code, out, errOut, want)
	}
	// The first step counts events before --from: no notice.
	for _, args := range [][]string{
		{"--step", "5m", "--from", "2026-11-20T02:16:00Z", "--to", "2026-11-20T02:20:00Z"},
		{"--step", "5m", "--from", "2026-11-20T02:16:00Z"},
	} {
		code, out, errOut = queryCLI(t, append(args, q, f)...)
		if code != cmdutil.ExitOK || !strings.Contains(out, "p6") || errOut != "" {
			t.Errorf("%v: exit %d, %q, stderr %q", args, code, out, errOut)
		}
	}
}
