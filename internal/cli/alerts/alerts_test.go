package alerts

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/audittui/audittui/internal/cli/clitest"
	"github.com/audittui/audittui/internal/cli/cmdutil"
	"github.com/audittui/audittui/internal/policy/rules"
	"github.com/audittui/audittui/internal/termsafe/termsafetest"
	"github.com/audittui/audittui/internal/testutil"
)

// runCLI runs `audittui alerts ARGS...`.
func runCLI(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	return clitest.Run(t, func(f *cmdutil.Factory) *cobra.Command { return NewCmdAlerts(f, nil) }, stdin, args...)
}

// writeEvents writes audit lines into dir/name.
func writeEvents(t *testing.T, dir, name string, lines []string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func auditLine(id, user, verb, resource, ns, name, sub string, code int, at time.Time) string {
	obj := map[string]string{"resource": resource, "namespace": ns, "name": name, "apiVersion": "v1"}
	if sub != "" {
		obj["subresource"] = sub
	}
	ev := map[string]any{
		"kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "Metadata", "auditID": id,
		"stage": "ResponseComplete", "requestURI": "/api/v1/namespaces/" + ns + "/" + resource + "/" + name,
		"verb": verb, "user": map[string]any{"username": user, "groups": []string{"system:authenticated"}},
		"objectRef": obj, "responseStatus": map[string]any{"code": code},
		"requestReceivedTimestamp": at.Add(-3 * time.Millisecond).Format(time.RFC3339Nano),
		"stageTimestamp":           at.Format(time.RFC3339Nano),
	}
	b, _ := json.Marshal(ev)
	return string(b)
}

const teamRules = `groups:
  - name: team
    interval: 1m
    rules:
      - alert: ExecSeen
        expr: sum by (user_username, objectRef_name) (count_over_time({job="audit"} | json | objectRef_subresource="exec" [5m])) > 0
        labels:
          severity: warning
        annotations:
          summary: "{{ $labels.user_username }} exec into {{ $labels.objectRef_name }}"
`

func TestAlertsJSONLAndFailOn(t *testing.T) {
	dir := t.TempDir()
	rulesFile := filepath.Join(dir, "team.yaml")
	if err := os.WriteFile(rulesFile, []byte(teamRules), 0o644); err != nil {
		t.Fatal(err)
	}
	base := time.Date(2026, 5, 4, 12, 0, 5, 0, time.UTC)
	// Two nodes' files: the exec on node b happens between node a's events.
	a := writeEvents(t, dir, "a.log", []string{
		auditLine("a-1", "alice", "get", "pods", "web", "p1", "", 200, base),
		auditLine("a-2", "alice", "create", "pods", "web", "p1", "exec", 101, base.Add(2*time.Minute)),
	})
	b := writeEvents(t, dir, "b.log", []string{
		auditLine("b-1", "bob", "create", "pods", "db", "pg-0", "exec", 101, base.Add(time.Minute)),
	})

	code, out, errOut := runCLI(t, "", "--no-builtin", "--rules", rulesFile, "-o", "jsonl", "--fail-on", "warning", a, b)
	if code != cmdutil.ExitAlerts {
		t.Fatalf("exit %d, want %d; stderr: %s", code, cmdutil.ExitAlerts, errOut)
	}
	var got []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("bad jsonl %q: %v", line, err)
		}
		got = append(got, m)
	}
	if len(got) != 2 {
		t.Fatalf("got %d alerts, want 2:\n%s", len(got), out)
	}
	for _, k := range []string{"alert", "labels", "annotations", "severity", "firstActive", "lastActive", "value", "events", "auditIDs"} {
		if _, ok := got[0][k]; !ok {
			t.Errorf("jsonl lacks %q: %v", k, got[0])
		}
	}
	// bob's exec came first in time (merged across files).
	if got[0]["annotations"].(map[string]any)["summary"] != "bob exec into pg-0" || got[0]["auditIDs"].([]any)[0] != "b-1" {
		t.Errorf("first alert = %v", got[0])
	}
	if got[1]["labels"].(map[string]any)["user_username"] != "alice" || got[1]["events"].(float64) != 1 {
		t.Errorf("second alert = %v", got[1])
	}

	// Only warnings fired: --fail-on critical exits 0.
	if code, _, errOut := runCLI(t, "", "--no-builtin", "--rules", rulesFile, "--fail-on", "critical", a, b); code != cmdutil.ExitOK {
		t.Fatalf("--fail-on critical: exit %d; %s", code, errOut)
	}
	// Without --fail-on, alerts do not change the exit status.
	if code, _, _ := runCLI(t, "", "--no-builtin", "--rules", rulesFile, a); code != cmdutil.ExitOK {
		t.Fatalf("no --fail-on: exit %d", code)
	}
}

func TestAlertsTableSanitises(t *testing.T) {
	dir := t.TempDir()
	rulesFile := filepath.Join(dir, "team.yaml")
	if err := os.WriteFile(rulesFile, []byte(teamRules), 0o644); err != nil {
		t.Fatal(err)
	}
	evil := "mallory\x1b]0;pwned\x07\x1b[2J"
	f := writeEvents(t, dir, "a.log", []string{
		auditLine("x-1", evil, "create", "pods", "web", "p1", "exec", 101, time.Date(2026, 5, 4, 12, 0, 5, 0, time.UTC)),
	})
	code, out, errOut := runCLI(t, "", "--no-builtin", "--rules", rulesFile, f)
	if code != cmdutil.ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if err := termsafetest.CheckLines(out); err != nil {
		t.Fatalf("table output: %v", err)
	}
	if !strings.Contains(out, "ExecSeen") || !strings.Contains(out, "mallory") {
		t.Fatalf("table lacks the alert:\n%s", out)
	}
}

func TestAlertsBadRulesAndFlags(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: sum(\n"), 0o644)
	code, _, errOut := runCLI(t, "", "--rules", bad, bad)
	if code != cmdutil.ExitUsage || !strings.Contains(errOut, "bad.yaml:5:") {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	if code, _, errOut := runCLI(t, "", "--fail-on", "severe", bad); code != cmdutil.ExitUsage || !strings.Contains(errOut, "--fail-on") {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	if code, _, _ := runCLI(t, "", "--no-builtin", bad); code != cmdutil.ExitUsage {
		t.Fatalf("--no-builtin without --rules: exit %d", code)
	}
}

func TestAlertsExportIsTheLoadablePack(t *testing.T) {
	code, out, errOut := runCLI(t, "", "export")
	if code != cmdutil.ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	set, err := rules.Parse("export.yaml", []byte(out))
	if err != nil {
		t.Fatal(err)
	}
	builtin, _ := rules.Builtin()
	if len(set.Rules()) != len(builtin.Rules()) || len(set.Rules()) < 40 {
		t.Fatalf("export has %d rules, pack %d", len(set.Rules()), len(builtin.Rules()))
	}
	for i, r := range set.Rules() {
		if r.Expr != builtin.Rules()[i].Expr {
			t.Errorf("rule %d differs", i)
		}
	}
}

func TestAlertsFollowReportsAsTheyFire(t *testing.T) {
	dir := t.TempDir()
	rulesFile := filepath.Join(dir, "team.yaml")
	if err := os.WriteFile(rulesFile, []byte(teamRules), 0o644); err != nil {
		t.Fatal(err)
	}
	base := time.Date(2026, 5, 4, 12, 0, 5, 0, time.UTC)
	f := writeEvents(t, dir, "audit.log", []string{
		auditLine("a-1", "alice", "get", "pods", "web", "p1", "", 200, base),
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ios, out, errb := clitest.Streams("")
	done := make(chan int, 1)
	go func() {
		done <- clitest.Exec(ctx, ios, func(f *cmdutil.Factory) *cobra.Command { return NewCmdAlerts(f, nil) },
			"--follow", "--no-builtin", "--rules", rulesFile, "-o", "jsonl", "--fail-on", "warning", f)
	}()
	// The apiserver appends an exec, then a later event moves event time
	// past the next evaluation step.
	fh, err := os.OpenFile(f, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fh.WriteString(auditLine("a-2", "alice", "create", "pods", "web", "p1", "exec", 101, base.Add(30*time.Second)) + "\n")
	fh.WriteString(auditLine("a-3", "alice", "get", "pods", "web", "p1", "", 200, base.Add(2*time.Minute)) + "\n")
	fh.Close()
	deadline := time.After(20 * time.Second)
	for !strings.Contains(out.String(), `"state":"firing"`) {
		select {
		case <-deadline:
			t.Fatalf("no firing line; stdout %q stderr %q", out.String(), errb.String())
		case code := <-done:
			t.Fatalf("alerts --follow exited %d early; stderr %q", code, errb.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	cancel()
	if code := <-done; code != cmdutil.ExitAlerts {
		t.Fatalf("exit %d, want %d (a warning fired); stderr %q", code, cmdutil.ExitAlerts, errb.String())
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(strings.SplitN(out.String(), "\n", 2)[0]), &m); err != nil {
		t.Fatal(err)
	}
	if m["alert"] != "ExecSeen" || m["auditIDs"].([]any)[0] != "a-2" {
		t.Fatalf("first line %v", m)
	}
}

// The window flags reach the options; their meaning is tested in cmdutil.
func TestAlertsFlagsToOptions(t *testing.T) {
	var got *AlertsOptions
	ios, _, _ := clitest.Streams("")
	cmd := NewCmdAlerts(clitest.Factory(ios), func(o *AlertsOptions) error { got = o; return nil })
	code := cmdutil.Execute(context.Background(), cmd, []string{"--since", "24h", "--to", "2026-05-02", "--rules", "a.yaml", "--rules", "b.yaml",
		"--no-builtin", "-o", "jsonl", "--fail-on", "critical", "-f", "-q", "x.log", "s3://b/p/"}, ios)
	if code != 0 || got == nil {
		t.Fatalf("exit %d: %s", code, ios.ErrOut)
	}
	if got.Window != (cmdutil.WindowFlags{Since: 24 * time.Hour, To: "2026-05-02"}) || !got.NoBuiltin || got.Output != "jsonl" ||
		got.FailOn != "critical" || !got.Follow || !got.Quiet || strings.Join(got.RuleFiles, ",") != "a.yaml,b.yaml" ||
		strings.Join(got.Args, ",") != "x.log,s3://b/p/" {
		t.Fatalf("options %+v", got)
	}
}

// TestAlertsUndatedAsOtherCommands: the events of a real log that carry no
// timestamp (48 of Panther's EKS-shaped fixtures) are reported as query,
// history and policy check report theirs (cmdutil.RejectReporter): one
// stderr line naming the first FILE:LINE, said once (the error that sets
// exit status 1 does not say it again: it counts only rejected lines),
// one line without the listing under -q, said even when an alert decides
// the exit status (--fail-on), and when following.
func TestAlertsUndatedAsOtherCommands(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(testutil.RealData(t), "audit", "panther-analysis-kubernetes-rules-tests.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	p := filepath.Join(dir, "panther.jsonl")
	os.WriteFile(p, b, 0o644)
	lines := int64(bytes.Count(b, []byte("\n")))
	line := "audittui: 48 events without a timestamp were not evaluated: no rule can place them in time (the first: " + p + ":1)\n"
	quiet := "audittui: 48 events without a timestamp not evaluated\n"

	if code, _, errOut := runCLI(t, "", p); code != cmdutil.ExitInputError || errOut != line {
		t.Errorf("exit %d, stderr %q; want %q", code, errOut, line)
	}
	// -q: the line is not printed; one line says why the status is 1.
	if code, _, errOut := runCLI(t, "", "-q", p); code != cmdutil.ExitInputError || errOut != quiet {
		t.Errorf("-q: exit %d, stderr %q; want %q", code, errOut, quiet)
	}
	// A rejected line and the undated events: each said once, as query's.
	bad := filepath.Join(dir, "bad.jsonl")
	os.WriteFile(bad, append(append([]byte(nil), b...), "not an event\n"...), 0o644)
	code, _, errOut := runCLI(t, "", bad)
	wantLast := "audittui: 1 input line rejected (see above)\n"
	if code != cmdutil.ExitInputError || !strings.Contains(errOut, fmt.Sprintf("audittui: skipped %s:%d: ", bad, lines+1)) ||
		!strings.Contains(errOut, strings.Replace(line, p, bad, 1)) || !strings.HasSuffix(errOut, wantLast) || strings.Count(errOut, "48 events") != 1 {
		t.Errorf("rejected line: exit %d, stderr %q", code, errOut)
	}
	if code, _, errOut := runCLI(t, "", "-q", bad); code != cmdutil.ExitInputError ||
		errOut != "audittui: 1 input line rejected and 48 events without a timestamp not evaluated\n" {
		t.Errorf("rejected line, -q: exit %d, stderr %q", code, errOut)
	}
	// An alert fired at --fail-on decides the status; the undated events
	// are still said.
	code, out, errOut := runCLI(t, "", "--fail-on", "critical", p)
	if code != cmdutil.ExitAlerts || !strings.Contains(out, "AnonymousRequestAllowed") || !strings.Contains(errOut, line) {
		t.Errorf("--fail-on critical: exit %d, stderr %q", code, errOut)
	}

	// Followed: the undated events read before an exec fires are
	// reported when the command stops.
	rulesFile := filepath.Join(dir, "team.yaml")
	os.WriteFile(rulesFile, []byte(teamRules), 0o644)
	base := time.Date(2026, 5, 4, 12, 0, 5, 0, time.UTC)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ios, outb, errb := clitest.Streams("")
	done := make(chan int, 1)
	go func() {
		done <- clitest.Exec(ctx, ios, func(f *cmdutil.Factory) *cobra.Command { return NewCmdAlerts(f, nil) },
			"--follow", "--no-builtin", "--rules", rulesFile, "-o", "jsonl", p)
	}()
	fh, err := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fh.WriteString(auditLine("a-2", "alice", "create", "pods", "web", "p1", "exec", 101, base.Add(30*time.Second)) + "\n")
	fh.WriteString(auditLine("a-3", "alice", "get", "pods", "web", "p1", "", 200, base.Add(2*time.Minute)) + "\n")
	fh.Close()
	deadline := time.After(20 * time.Second)
	for !strings.Contains(outb.String(), `"state":"firing"`) {
		select {
		case <-deadline:
			t.Fatalf("no firing line; stdout %q stderr %q", outb.String(), errb.String())
		case code := <-done:
			t.Fatalf("alerts --follow exited %d early; stderr %q", code, errb.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	cancel()
	if code := <-done; code != cmdutil.ExitInputError || errb.String() != line {
		t.Errorf("--follow: exit %d, stderr %q; want %q", code, errb.String(), line)
	}
}

// TestAlertsQuietNotices: the real data given twice (every line a
// duplicate). Without -q stderr says the duplicates once (of the lines
// that feed a rule, which is what the rules check), with the undated
// events; -q quiets the duplicates as it does the other notices,
// and says only why the exit status is 1.
func TestAlertsQuietNotices(t *testing.T) {
	var all []byte
	for _, f := range testutil.RealAuditFiles(t) {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, b...)
	}
	p := filepath.Join(t.TempDir(), "twice.jsonl")
	os.WriteFile(p, append(append([]byte(nil), all...), all...), 0o644)
	code, _, errOut := runCLI(t, "", p)
	// The rules check only the lines that feed one: the message says so.
	if code != cmdutil.ExitInputError || !strings.Contains(errOut, " of the lines that feed a rule were duplicates (identical to one read before) and counted once\n") ||
		strings.Count(errOut, "were duplicate") != 1 || strings.Count(errOut, "without a timestamp") != 1 {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
	code, _, errOut = runCLI(t, "", "-q", p)
	if code != cmdutil.ExitInputError || errOut != "audittui: 48 events without a timestamp not evaluated\n" { // 48 distinct, each read twice
		t.Errorf("-q: exit %d, stderr %q", code, errOut)
	}
}

// TestAlertsPrettyCopyOnce: a `jq .` export of the real logs beside them
// is a copy of every event (its compacted bytes are the lines): the
// alerts are those of the logs alone, in either order, and stderr counts
// the copies.
func TestAlertsPrettyCopyOnce(t *testing.T) {
	var all, indented bytes.Buffer
	for _, f := range testutil.RealAuditFiles(t) {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		all.Write(b)
	}
	for _, l := range strings.Split(strings.TrimSuffix(all.String(), "\n"), "\n") {
		if err := json.Indent(&indented, []byte(l), "", "  "); err != nil {
			t.Fatal(err)
		}
		indented.WriteByte('\n')
	}
	dir := t.TempDir()
	real, pretty := filepath.Join(dir, "audit.log"), filepath.Join(dir, "evidence-export.json")
	os.WriteFile(real, all.Bytes(), 0o644)
	os.WriteFile(pretty, indented.Bytes(), 0o644)
	_, want, _ := runCLI(t, "", "-o", "jsonl", real)
	if strings.Count(want, "\n") < 5 {
		t.Fatalf("the real logs fire %d alerts", strings.Count(want, "\n"))
	}
	for _, args := range [][]string{{real, pretty}, {pretty, real}} {
		_, got, errOut := runCLI(t, "", append([]string{"-o", "jsonl"}, args...)...)
		if got != want {
			t.Errorf("%v: the alerts differ from the logs alone's:\n%s\nwant\n%s", args, got, want)
		}
		if !strings.Contains(errOut, " of the lines that feed a rule were duplicates") {
			t.Errorf("%v: stderr %q", args, errOut)
		}
	}
}

// A window's alerts are the ones Loki's ruler raises at its steps: the
// rules count what came before --from (their range and `for`), so a
// burst that straddles the window's start, or a day-long rule run by an
// hourly cron, fires as it does over the whole file (review H finding 3:
// `--from 03:36:30` lost suspicious-user's ForbiddenBurst of 03:37, whose
// refusals began at 03:32). Checked on the sample and on real logs: the
// instances with a window are exactly those of the whole input that are
// active at a step in it, with the same first activity, firing time and
// events.
func TestAlertsWindowCountsTheLookBack(t *testing.T) {
	checkWindowsOf(t, filepath.Join("..", "..", "..", "testdata", "sample", "audit.log"))
	t.Run("realdata", func(t *testing.T) {
		for _, in := range testutil.RealAuditFiles(t) {
			checkWindowsOf(t, in)
		}
	})
}

// checkWindowsOf compares alerts over windows of input in with those of
// the whole input active in each window.
func checkWindowsOf(t *testing.T, in string) {
	t.Helper()
	type inst struct {
		Alert                             string
		Labels                            map[string]string
		State, FirstActive, FiredAt, Last string
		Events                            int
	}
	parse := func(out string) map[string]inst {
		m := map[string]inst{}
		for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
			if l == "" {
				continue
			}
			var a struct {
				Alert       string            `json:"alert"`
				Labels      map[string]string `json:"labels"`
				State       string            `json:"state"`
				FirstActive string            `json:"firstActive"`
				FiredAt     string            `json:"firedAt"`
				LastActive  string            `json:"lastActive"`
				Events      int               `json:"events"`
			}
			if err := json.Unmarshal([]byte(l), &a); err != nil {
				t.Fatalf("%v: %s", err, l)
			}
			lb, _ := json.Marshal(a.Labels)
			m[a.Alert+" "+string(lb)+" "+a.LastActive] = inst{a.Alert, a.Labels, a.State, a.FirstActive, a.FiredAt, a.LastActive, a.Events}
		}
		return m
	}
	{
		_, all, _ := runCLI(t, "", "-q", "-o", "jsonl", in)
		whole := parse(all)
		if len(whole) == 0 {
			return
		}
		// Windows that start in the middle of the alerts' activity.
		var starts []string
		for _, a := range whole {
			starts = append(starts, a.FirstActive, a.Last)
		}
		sort.Strings(starts)
		for _, from := range []string{starts[len(starts)/3], starts[len(starts)/2], starts[2*len(starts)/3]} {
			_, win, errOut := runCLI(t, "", "-q", "-o", "jsonl", "--from", from, in)
			got := parse(win)
			want := map[string]inst{}
			for k, a := range whole {
				if a.Last >= from {
					want[k] = a
				}
			}
			for k, a := range want {
				if g, ok := got[k]; !ok {
					t.Errorf("%s --from %s: %s missing (stderr %q)", filepath.Base(in), from, k, errOut)
				} else if fmt.Sprint(g) != fmt.Sprint(a) {
					t.Errorf("%s --from %s: %s\n got %+v\nwant %+v", filepath.Base(in), from, k, g, a)
				}
			}
			for k := range got {
				if _, ok := want[k]; !ok {
					t.Errorf("%s --from %s: %s is not active in the window", filepath.Base(in), from, k)
				}
			}
		}
	}
}

// Undated events given twice (the same file twice, a copy beside it) are
// counted once in the notice, as the dated copies are in the rules
// (review H finding 15: 96 said for 48 real undated events).
func TestAlertsUndatedCopiesCountOnce(t *testing.T) {
	files := testutil.RealAuditFiles(t)
	_, _, once := runCLI(t, "", append([]string{"-o", "jsonl"}, files...)...)
	_, _, twice := runCLI(t, "", append([]string{"-o", "jsonl"}, append(files, files...)...)...)
	count := func(s string) string {
		for _, l := range strings.Split(s, "\n") {
			if i := strings.Index(l, " events without a timestamp"); i > 0 {
				return l[strings.LastIndex(l[:i], " ")+1 : i]
			}
		}
		return ""
	}
	if count(once) == "" || count(once) != count(twice) {
		t.Fatalf("undated: %q once, %q twice\nonce: %s\ntwice: %s", count(once), count(twice), once, twice)
	}
}

// A gate does not pass on no input (review H finding 14): an empty log,
// or a window after the log stopped, exits 1 with --fail-on and says why;
// without --fail-on it is not an error. When nothing fires, no table
// header is printed (a cron job would mail it every run); stderr says
// so unless -q.
func TestAlertsGateFailsOnNoEvents(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.log")
	os.WriteFile(empty, nil, 0o644)
	sample := filepath.Join("..", "..", "..", "testdata", "sample", "audit.log")
	for _, c := range []struct {
		args     []string
		code     int
		out, err string
	}{
		{[]string{"--fail-on", "info", empty}, cmdutil.ExitInputError, "", "has the audit log stopped?"},
		{[]string{"--fail-on", "info", "--from", "2026-11-20T04:30:00Z", sample}, cmdutil.ExitInputError, "", "has the audit log stopped?"},
		{[]string{empty}, 0, "", "no alert fired, but the input holds no dated event: no evidence either way (80 rules; has the audit log stopped?)"},
		// The rules read the day before the window; the window itself
		// holds nothing, and stderr says where the events are.
		{[]string{"--from", "2026-11-20T04:30:00Z", sample}, 0, "", "no event read falls in the window (from 2026-11-20T04:30:00Z): all 3948 events read are before it"},
		{[]string{"-q", empty}, 0, "", ""},
		{[]string{"--fail-on", "critical", "--from", "2026-11-20T03:59:00Z", sample}, 0, "SecretAccessed", ""},
	} {
		code, out, errOut := runCLI(t, "", c.args...)
		if code != c.code || (c.out == "") != (out == "") || !strings.Contains(out, c.out) || (c.err == "") != (errOut == "") || !strings.Contains(errOut, c.err) {
			t.Errorf("alerts %v: exit %d, stdout %q, stderr %q; want exit %d, stdout with %q, stderr with %q", c.args, code, out, errOut, c.code, c.out, c.err)
		}
	}
}

// TestAlertsAbsentRuleOverFiles: the canonical pipeline alert, "no audit
// events from a cluster for 10m", over a file with a 20-minute gap: one
// instance, active at the steps 12:21 to 12:30 whose (s-10m, s] windows
// are empty, firing after `for` (12:26), resolved at 12:31. A rule for a
// cluster the files do not carry fires from the first step and is not
// reported as one that can never fire.
func TestAlertsAbsentRuleOverFiles(t *testing.T) {
	dir := t.TempDir()
	rulesFile := filepath.Join(dir, "pipeline.yaml")
	if err := os.WriteFile(rulesFile, []byte(`groups:
  - name: pipeline
    interval: 1m
    rules:
      - alert: AuditSilent
        expr: absent_over_time({job="audit", cluster="prod"}[10m])
        for: 5m
        labels:
          severity: critical
      - alert: StagingSilent
        expr: absent_over_time({job="audit", cluster="staging"}[10m])
`), 0o644); err != nil {
		t.Fatal(err)
	}
	base := time.Date(2026, 5, 4, 12, 0, 30, 0, time.UTC)
	var lines []string
	for m := 0; m <= 40; m++ {
		if m > 10 && m < 30 {
			continue
		}
		lines = append(lines, auditLine(fmt.Sprintf("p-%d", m), "alice", "get", "pods", "web", "p1", "", 200, base.Add(time.Duration(m)*time.Minute)))
	}
	f := writeEvents(t, dir, "prod.log", lines)
	code, out, errOut := runCLI(t, "", "--no-builtin", "--rules", rulesFile, "--cluster", "prod", "-o", "jsonl", "--fail-on", "critical", f)
	if code != cmdutil.ExitAlerts {
		t.Fatalf("exit %d, want %d; stderr: %s", code, cmdutil.ExitAlerts, errOut)
	}
	if strings.Contains(errOut, "never fire") {
		t.Errorf("an absent rule is reported as one that can never fire: %s", errOut)
	}
	got := map[string]map[string]any{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("bad jsonl %q: %v", line, err)
		}
		got[m["alert"].(string)] = m
	}
	a := got["AuditSilent"]
	if len(got) != 2 || a == nil || a["firstActive"] != "2026-05-04T12:21:00Z" || a["lastActive"] != "2026-05-04T12:30:00Z" ||
		a["value"].(float64) != 1 || a["events"].(float64) != 0 || a["labels"].(map[string]any)["cluster"] != "prod" {
		t.Errorf("alerts:\n%s", out)
	}
	if s := got["StagingSilent"]; s == nil || s["firstActive"] != "2026-05-04T12:01:00Z" {
		t.Errorf("StagingSilent:\n%s", out)
	}
}

// TestAlertsAbsentRuleWindow (review M 12): with --from, an
// absent_over_time instance active since before what was read shows
// FIRST ACTIVE --from (it showed the look-back's start, 12:05 for
// --from 12:20), one whose start the read shows keeps it; and when the
// window holds no event, stderr does not read as all-clear.
func TestAlertsAbsentRuleWindow(t *testing.T) {
	dir := t.TempDir()
	rulesFile := filepath.Join(dir, "pipeline.yaml")
	if err := os.WriteFile(rulesFile, []byte(`groups:
  - name: pipeline
    interval: 1m
    rules:
      - alert: AuditSilent
        expr: absent_over_time({job="audit", cluster="prod"}[10m])
        for: 5m
        labels:
          severity: critical
      - alert: StagingSilent
        expr: absent_over_time({job="audit", cluster="staging"}[10m])
`), 0o644); err != nil {
		t.Fatal(err)
	}
	base := time.Date(2026, 5, 4, 12, 0, 30, 0, time.UTC)
	var lines []string
	for m := 0; m <= 40; m++ {
		if m > 10 && m < 30 {
			continue
		}
		lines = append(lines, auditLine(fmt.Sprintf("p-%d", m), "alice", "get", "pods", "web", "p1", "", 200, base.Add(time.Duration(m)*time.Minute)))
	}
	f := writeEvents(t, dir, "prod.log", lines)
	first := func(out string) map[string]string {
		got := map[string]string{}
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
			var m map[string]any
			if err := json.Unmarshal([]byte(line), &m); err != nil {
				t.Fatalf("bad jsonl %q: %v", line, err)
			}
			got[m["alert"].(string)] = m["firstActive"].(string) + " " + m["firedAt"].(string)
		}
		return got
	}
	for _, c := range []struct {
		from            string
		staging, silent string
	}{
		// Read from 12:04: staging's absence began before; prod's
		// silence began at 12:21, inside what was read.
		{"2026-05-04T12:20:00Z", "2026-05-04T12:20:00Z 2026-05-04T12:20:00Z", "2026-05-04T12:21:00Z 2026-05-04T12:26:00Z"},
		// Read from 12:22, the first event at 12:30:30: staging is
		// judged from 12:32 (the first step whose window was read),
		// shown from 12:38 (it showed 12:31); prod's silence ended
		// before the window.
		{"2026-05-04T12:38:00Z", "2026-05-04T12:38:00Z 2026-05-04T12:38:00Z", ""},
	} {
		code, out, errOut := runCLI(t, "", "--no-builtin", "--rules", rulesFile, "--cluster", "prod", "-o", "jsonl", "--from", c.from, f)
		got := first(out)
		want := 2
		if c.silent == "" {
			want = 1
		}
		if code != 0 || len(got) != want || got["StagingSilent"] != c.staging || got["AuditSilent"] != c.silent {
			t.Errorf("--from %s: exit %d, firstActive firedAt %v, want StagingSilent %s, AuditSilent %s; stderr %s", c.from, code, got, c.staging, c.silent, errOut)
		}
	}
	// After the log stopped: no event in the window (nor in the look-back).
	code, out, errOut := runCLI(t, "", "--no-builtin", "--rules", rulesFile, "--cluster", "prod", "--from", "2026-05-04T13:20:00Z", f)
	if code != 0 || out != "" || strings.Contains(errOut, "0 events evaluated") || !strings.Contains(errOut, "no alert fired, but the window holds no event: no evidence either way (2 rules; has the audit log stopped?)") {
		t.Errorf("empty window: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}

// manyToOneRules: a ratio without group_left (two verbs of one user on
// the left, one series on the right of `on ()`): its vector matching fails
// wherever a user has two verbs in the window.
const manyToOneRules = `groups:
  - name: team
    interval: 1m
    rules:
      - alert: ManyToOne
        expr: sum by (user_username, verb) (count_over_time({job="audit"} | json [5m])) / on () sum(count_over_time({job="audit"} | json [5m])) > 0
      - alert: ExecSeen
        expr: sum by (user_username, objectRef_name) (count_over_time({job="audit"} | json | objectRef_subresource="exec" [5m])) > 0
        labels:
          severity: warning
`

// TestAlertsFollowSaysFailures: `alerts -f` printed no word of the rules
// whose evaluation failed when it stopped, and --fail-on passed them.
// Now, when the input ends (stdin) it names them as `alerts` without -f
// does (the same line) and --fail-on exits 1; interrupted (SIGINT: the
// context ends) after an alert fired, it names them too, and the alert
// decides the status (3), as without -f.
func TestAlertsFollowSaysFailures(t *testing.T) {
	dir := t.TempDir()
	rulesFile := filepath.Join(dir, "team.yaml")
	if err := os.WriteFile(rulesFile, []byte(manyToOneRules), 0o644); err != nil {
		t.Fatal(err)
	}
	base := time.Date(2026, 5, 4, 12, 0, 5, 0, time.UTC)
	lines := []string{
		auditLine("a-1", "alice", "get", "pods", "web", "p1", "", 200, base),
		auditLine("a-2", "alice", "list", "pods", "web", "", "", 200, base.Add(10*time.Second)),
		auditLine("a-3", "alice", "get", "pods", "web", "p1", "", 200, base.Add(3*time.Minute)),
	}
	in := strings.Join(lines, "\n") + "\n"
	want := "audittui: warning: rule ManyToOne (" + rulesFile + ":5) failed at "

	code, _, replayErr := runCLI(t, in, "--no-builtin", "--rules", rulesFile, "--fail-on", "info", "-")
	_, said, ok := strings.Cut(replayErr, want)
	said, _, _ = strings.Cut(said, "\n")
	if code != cmdutil.ExitInputError || !ok {
		t.Fatalf("alerts: exit %d, stderr %q", code, replayErr)
	}
	code, _, errOut := runCLI(t, in, "--follow", "--no-builtin", "--rules", rulesFile, "--fail-on", "info", "-")
	if code != cmdutil.ExitInputError || !strings.Contains(errOut, want+said+"\n") ||
		!strings.Contains(errOut, "1 rule failed to evaluate (see above): --fail-on does not pass") {
		t.Errorf("alerts -f, input ended: exit %d, stderr %q\nwant %q", code, errOut, want+said)
	}

	// Interrupted once the exec fired (steps run in time order across
	// rules: ManyToOne's failed steps before it have run).
	f := writeEvents(t, dir, "audit.log", lines[:2])
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ios, out, errb := clitest.Streams("")
	done := make(chan int, 1)
	go func() {
		done <- clitest.Exec(ctx, ios, func(f *cmdutil.Factory) *cobra.Command { return NewCmdAlerts(f, nil) },
			"--follow", "--no-builtin", "--rules", rulesFile, "-o", "jsonl", "--fail-on", "warning", f)
	}()
	fh, err := os.OpenFile(f, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fh.WriteString(auditLine("a-4", "bob", "create", "pods", "web", "p1", "exec", 101, base.Add(30*time.Second)) + "\n")
	fh.WriteString(lines[2] + "\n")
	fh.Close()
	deadline := time.After(20 * time.Second)
	for !strings.Contains(out.String(), `"state":"firing"`) {
		select {
		case <-deadline:
			t.Fatalf("no firing line; stdout %q stderr %q", out.String(), errb.String())
		case code := <-done:
			t.Fatalf("alerts --follow exited %d early; stderr %q", code, errb.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	cancel()
	if code := <-done; code != cmdutil.ExitAlerts || !strings.Contains(errb.String(), "audittui: warning: rule ManyToOne ("+rulesFile+":5) failed at ") {
		t.Errorf("alerts -f, interrupted: exit %d, stderr %q", code, errb.String())
	}
}

// TestAlertsAbsentSilenceSpansFrom: a silence that began before what
// --from reads (its look-back) and runs on past --from is reported as
// Loki's range query from --from reports it (each step judges its own
// (t-10m, t] window), not missed because the first event read comes
// after --from; stderr says that the window starts before the first
// event read, so that an input that does not reach back that far is not
// taken for a silent log.
func TestAlertsAbsentSilenceSpansFrom(t *testing.T) {
	dir := t.TempDir()
	rulesFile := filepath.Join(dir, "pipeline.yaml")
	if err := os.WriteFile(rulesFile, []byte(`groups:
  - name: pipeline
    interval: 1m
    rules:
      - alert: AuditSilent
        expr: absent_over_time({job="audit", cluster="prod"}[10m])
        for: 5m
        labels:
          severity: critical
`), 0o644); err != nil {
		t.Fatal(err)
	}
	base := time.Date(2026, 5, 4, 12, 0, 30, 0, time.UTC)
	var lines []string
	for m := 0; m <= 60; m++ {
		if m > 10 && m < 50 {
			continue
		}
		lines = append(lines, auditLine(fmt.Sprintf("p-%d", m), "alice", "get", "pods", "web", "p1", "", 200, base.Add(time.Duration(m)*time.Minute)))
	}
	f := writeEvents(t, dir, "prod.log", lines)
	for _, c := range []struct {
		from, first, last string
	}{
		// Read from 12:24: nothing until 12:50:30.
		{"2026-05-04T12:40:00Z", "2026-05-04T12:40:00Z", "2026-05-04T12:50:00Z"},
		// Before the file: judged silent as Loki would, and said.
		{"2026-05-04T11:00:00Z", "2026-05-04T11:00:00Z", "2026-05-04T12:00:00Z"},
	} {
		code, out, errOut := runCLI(t, "", "--no-builtin", "--rules", rulesFile, "--cluster", "prod", "-o", "jsonl", "--from", c.from, f)
		var got []map[string]any
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
			var m map[string]any
			if err := json.Unmarshal([]byte(line), &m); err != nil {
				t.Fatalf("--from %s: bad jsonl %q: %v", c.from, line, err)
			}
			got = append(got, m)
		}
		if code != 0 || len(got) < 1 || got[0]["firstActive"] != c.first || got[0]["firedAt"] != c.first || got[0]["lastActive"] != c.last {
			t.Errorf("--from %s: exit %d, want AuditSilent active and firing from %s to %s:\n%s\nstderr %s", c.from, code, c.first, c.last, out, errOut)
		}
		if !strings.Contains(errOut, "--from "+c.from+" is before the first event read (2026-05-04T12:") ||
			!strings.Contains(errOut, "no evidence either way") {
			t.Errorf("--from %s: stderr does not say the window starts before the first event read:\n%s", c.from, errOut)
		}
	}
	// The first event read before --from: nothing to say.
	_, _, errOut := runCLI(t, "", "--no-builtin", "--rules", rulesFile, "--cluster", "prod", "--from", "2026-05-04T12:05:00Z", f)
	if strings.Contains(errOut, "before the first event read") {
		t.Errorf("--from 12:05: %s", errOut)
	}
	// Followed: said once the file's history is read, while following.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ios, _, errb := clitest.Streams("")
	done := make(chan int, 1)
	go func() {
		done <- clitest.Exec(ctx, ios, func(f *cmdutil.Factory) *cobra.Command { return NewCmdAlerts(f, nil) },
			"--follow", "--no-builtin", "--rules", rulesFile, "--cluster", "prod", "--from", "2026-05-04T11:00:00Z", f)
	}()
	deadline := time.After(20 * time.Second)
	for !strings.Contains(errb.String(), "--from 2026-05-04T11:00:00Z is before the first event read (2026-05-04T12:") {
		select {
		case <-deadline:
			t.Fatalf("alerts --follow --from: stderr does not say the window starts before the first event read while following: %q", errb.String())
		case code := <-done:
			t.Fatalf("alerts --follow exited %d early; stderr %q", code, errb.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	cancel()
	<-done
	if n := strings.Count(errb.String(), "before the first event read"); n != 1 {
		t.Errorf("said %d times: %q", n, errb.String())
	}
}
