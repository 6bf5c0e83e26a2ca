package alerts

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/audittui/audittui/internal/cli/clitest"
	"github.com/audittui/audittui/internal/cli/cmdutil"
	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/data/source/loki"
	"github.com/audittui/audittui/internal/data/source/loki/lokitest"
	"github.com/audittui/audittui/internal/testutil"
)

// kubeAuditRules writes the seed's ruler file (dir: testdata/seed or the
// shared seed) rewritten for a team whose Loki labels audit events
// job="kube-audit", and the original beside it.
func kubeAuditRules(t *testing.T, seedDir string) (team, orig string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(seedDir, "loki-audit-rules.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `{job="audit"}`) {
		t.Fatal("the seed's rules do not select job=\"audit\"")
	}
	dir := t.TempDir()
	team, orig = filepath.Join(dir, "team.yaml"), filepath.Join(dir, "seed.yaml")
	os.WriteFile(team, []byte(strings.ReplaceAll(string(b), `job="audit"`, `job="kube-audit"`)), 0o644)
	os.WriteFile(orig, b, 0o644)
	return team, orig
}

// alertsWithoutRule decodes jsonl alerts and drops their "rule" (the rule
// file's path and line), so two rule files' answers compare.
func alertsWithoutRule(t *testing.T, out string) []map[string]any {
	t.Helper()
	var got []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("bad jsonl %q: %v", line, err)
		}
		delete(m, "rule")
		got = append(got, m)
	}
	return got
}

func sameAlerts(t *testing.T, what string, got, want []map[string]any) {
	t.Helper()
	g, _ := json.Marshal(got)
	w, _ := json.Marshal(want)
	if len(want) == 0 || string(g) != string(w) {
		t.Errorf("%s: %d alerts, want the %d of the original:\n%s\nwant\n%s", what, len(got), len(want), g, w)
	}
}

// TestAlertsRuleSelectsNoStream (review H11): a team's ruler file written
// for job="kube-audit" over files (job="audit") fired nothing and exited 0
// even with --fail-on info. Now stderr names each rule, with its
// file:line and the labels the files carry; --fail-on exits 1 (the gate
// does not pass on rules that watch nothing); --label job=kube-audit
// gives the files that job, and the file then raises exactly what the
// seed's own file raises, as does the built-in pack, which follows the
// job.
func TestAlertsRuleSelectsNoStream(t *testing.T) {
	team, orig := kubeAuditRules(t, testutil.SeedDir(t))
	sample := filepath.Join(testutil.RepoRoot(), "testdata", "sample", "audit.log")

	code, out, errOut := runCLI(t, "", "--no-builtin", "--rules", team, "--fail-on", "info", sample)
	warning := "audittui: warning: " + team + ": 5 rules can never fire: UnauthorizedAPIAccess (" + team + ":6), SecretAccessed (" + team + ":20), RBACModification (" + team + ":33), PodExecDetected (" + team + ":46), ServiceAccountTokenCreated (" + team + ":59): " +
		`{job="kube-audit"} selects no stream of the sources: their job is "audit"; --label job=kube-audit gives local files that label` + "\n"
	if code != cmdutil.ExitInputError || out != "" || !strings.HasPrefix(errOut, warning) ||
		!strings.Contains(errOut, "audittui: 5 rules select no stream of the sources (--fail-on does not pass on a rule that watches nothing") {
		t.Fatalf("--fail-on info: exit %d, stdout %q, stderr %q\nwant first %q", code, out, errOut, warning)
	}
	// Without --fail-on the warning does not change the exit status.
	if code, _, errOut := runCLI(t, "", "--no-builtin", "--rules", team, sample); code != cmdutil.ExitOK || !strings.HasPrefix(errOut, warning) {
		t.Errorf("no --fail-on: exit %d, stderr %q", code, errOut)
	}

	// --label job=kube-audit: the seed's alerts, and the gate sees them.
	_, want, _ := runCLI(t, "", "--no-builtin", "--rules", orig, "-o", "jsonl", sample)
	code, out, errOut = runCLI(t, "", "--no-builtin", "--rules", team, "--label", "job=kube-audit", "-o", "jsonl", "--fail-on", "info", sample)
	if code != cmdutil.ExitAlerts || strings.Contains(errOut, "selects no stream") {
		t.Errorf("--label job=kube-audit: exit %d, stderr %q", code, errOut)
	}
	sameAlerts(t, "--label job=kube-audit", alertsWithoutRule(t, out), alertsWithoutRule(t, want))

	// The built-in pack follows the job: the same alerts with and
	// without --label, and no warning.
	_, want, _ = runCLI(t, "", "-o", "jsonl", sample)
	code, out, errOut = runCLI(t, "", "--label", "job=kube-audit", "-o", "jsonl", sample)
	if code != cmdutil.ExitOK || strings.Contains(errOut, "selects no stream") {
		t.Errorf("built-in pack with --label: exit %d, stderr %q", code, errOut)
	}
	sameAlerts(t, "built-in pack with --label", alertsWithoutRule(t, out), alertsWithoutRule(t, want))

	// An alert at or above --fail-on decides the status (3), as it does
	// over rejected input.
	mixed := filepath.Join(t.TempDir(), "mixed.yaml")
	os.WriteFile(mixed, []byte(`groups:
  - name: mixed
    rules:
      - alert: ExecSeen
        expr: sum by (user_username) (count_over_time({job="audit"} | json | objectRef_subresource="exec" [5m])) > 0
        labels: {severity: warning}
      - alert: TeamExec
        expr: sum by (user_username) (count_over_time({app="kube-apiserver"} | json | objectRef_subresource="exec" [5m])) > 0
        labels: {severity: warning}
`), 0o644)
	code, _, errOut = runCLI(t, "", "--no-builtin", "--rules", mixed, "--fail-on", "warning", sample)
	if code != cmdutil.ExitAlerts || !strings.Contains(errOut, "rule TeamExec ("+mixed+":7) can never fire: {app=\"kube-apiserver\"} selects no stream of the sources: none has the label app") ||
		strings.Contains(errOut, "ExecSeen (") {
		t.Errorf("mixed: exit %d, stderr %q", code, errOut)
	}
}

// TestAlertsRuleSelectsNoStreamRealLogs: the shared seed's ruler file
// rewritten for job="kube-audit", on each real log: warned about and a
// failed gate without --label, the seed's own alerts with it.
func TestAlertsRuleSelectsNoStreamRealLogs(t *testing.T) {
	team, orig := kubeAuditRules(t, testutil.SharedSeedDir(t))
	fired := 0
	for _, f := range testutil.RealAuditFiles(t) {
		code, _, errOut := runCLI(t, "", "--no-builtin", "--rules", team, "--fail-on", "info", f)
		if code != cmdutil.ExitInputError || !strings.Contains(errOut, ": 5 rules can never fire: ") || !strings.Contains(errOut, `their job is "audit"; --label job=kube-audit`) {
			t.Errorf("%s: exit %d, stderr %q", f, code, errOut)
		}
		_, want, _ := runCLI(t, "", "--no-builtin", "--rules", orig, "-o", "jsonl", f)
		_, out, errOut := runCLI(t, "", "--no-builtin", "--rules", team, "--label", "job=kube-audit", "-o", "jsonl", f)
		if strings.Contains(errOut, "selects no stream") {
			t.Errorf("%s with --label: %s", f, errOut)
		}
		got, w := alertsWithoutRule(t, out), alertsWithoutRule(t, want)
		if len(w) > 0 {
			fired++
			sameAlerts(t, f, got, w)
		} else if len(got) != 0 {
			t.Errorf("%s: %d alerts with --label, none without", f, len(got))
		}
	}
	if fired == 0 {
		t.Error("the seed's rules fired on no real log")
	}
}

// TestAlertsRuleSelectorOnLoki: over Loki, alerts read the streams of
// --loki-selector and judge the rules by the labels the server reports
// for them: a rule for job="kube-audit" is warned about while
// {job="audit"} is read, and not once --label job=kube-audit makes the
// read select that job.
func TestAlertsRuleSelectorOnLoki(t *testing.T) {
	s := lokitest.New(lokitest.Options{})
	defer s.Close()
	clitest.SeedLoki(s) // {job="audit", cluster="prod"}
	s.Push("", loki.PushRequest{Streams: []loki.PushStream{{
		Labels:  data.Labels{{Name: "job", Value: "kube-audit"}},
		Entries: []loki.PushEntry{{Time: time.Now().UnixNano() - 1e9, Line: []byte(auditLine("k1", "bob", "create", "pods", "web", "p1", "exec", 101, time.Now().Add(-time.Second)))}},
	}}})
	arg := strings.Replace(s.URL, "http://", "loki://", 1)
	rulesFile := filepath.Join(t.TempDir(), "team.yaml")
	os.WriteFile(rulesFile, []byte(strings.ReplaceAll(teamRules, `job="audit"`, `job="kube-audit"`)), 0o644)

	_, _, errOut := runCLI(t, "", "--no-builtin", "--rules", rulesFile, arg)
	want := `rule ExecSeen (` + rulesFile + `:5) can never fire: {job="kube-audit"} selects no stream of the sources: their job is "audit"; Loki is read with --loki-selector {job="audit"}`
	if !strings.Contains(errOut, want) {
		t.Errorf("stderr %q\nwant %q", errOut, want)
	}
	code, out, errOut := runCLI(t, "", "--no-builtin", "--rules", rulesFile, "--label", "job=kube-audit", "-o", "jsonl", "--fail-on", "warning", arg)
	if code != cmdutil.ExitAlerts || strings.Contains(errOut, "selects no stream") || !strings.Contains(out, `"k1"`) {
		t.Errorf("--label job=kube-audit: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}

// TestExportForJob: `alerts export --job kube-audit` writes the pack for a
// Loki that stores audit events under that job; loaded back over files
// labelled so, it raises what the built-in pack raises over job="audit".
func TestExportForJob(t *testing.T) {
	code, pack, errOut := runCLI(t, "", "export", "--job", "kube-audit")
	if code != cmdutil.ExitOK || strings.Contains(pack, `{job="audit"}`) || !strings.Contains(pack, `{job="kube-audit"}`) {
		t.Fatalf("export: exit %d, stderr %q", code, errOut)
	}
	p := filepath.Join(t.TempDir(), "exported.yaml")
	os.WriteFile(p, []byte(pack), 0o644)
	sample := filepath.Join(testutil.RepoRoot(), "testdata", "sample", "audit.log")
	_, want, _ := runCLI(t, "", "-o", "jsonl", sample)
	code, out, errOut := runCLI(t, "", "--no-builtin", "--rules", p, "--label", "job=kube-audit", "-o", "jsonl", sample)
	if code != cmdutil.ExitOK || strings.Contains(errOut, "selects no stream") {
		t.Errorf("exported pack: exit %d, stderr %q", code, errOut)
	}
	sameAlerts(t, "exported pack for kube-audit", alertsWithoutRule(t, out), alertsWithoutRule(t, want))
}

// TestAlertsRuleLegSelectsNoStream (review M7): a rule whose leg of a
// binary operation between vectors selects no stream printed "no alert
// fired", named no rule, and passed --fail-on info, while the same
// selector in a one-leg rule was warned about and failed the gate. Each
// leg is judged now: a division by a leg that watches nothing (either
// side) can never fire, an or with one can fire only on its other legs;
// both are named with file:line and refuse the gate (exit 1) unless an
// alert at or above --fail-on decides it (3, the or's other leg fires);
// once --label gives the files the leg's label, no warning, and the rule
// fires.
func TestAlertsRuleLegSelectsNoStream(t *testing.T) {
	sample := filepath.Join(testutil.RepoRoot(), "testdata", "sample", "audit.log")
	const good, bad = `sum(count_over_time({job="audit"}[5m]))`, `sum(count_over_time({job="audit", team="sec"}[5m]))`
	why := `{job="audit", team="sec"} selects no stream of the sources: none has the label team (their labels: job="audit", filename="` + sample + `"); --label team=sec gives local files that label`
	for _, tc := range []struct {
		name, expr, verdict string
		info, critical      int // exit status with --fail-on info, critical
	}{
		{"right leg", good + " / " + bad + " > 0", "can never fire", cmdutil.ExitInputError, cmdutil.ExitInputError},
		{"left leg", bad + " / " + good + " > 0", "can never fire", cmdutil.ExitInputError, cmdutil.ExitInputError},
		{"and", good + " and " + bad, "can never fire", cmdutil.ExitInputError, cmdutil.ExitInputError},
		{"or", bad + " or " + good, "can fire only on its other legs", cmdutil.ExitAlerts, cmdutil.ExitInputError},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := filepath.Join(t.TempDir(), "ratio.yaml")
			os.WriteFile(f, []byte("groups:\n  - name: g\n    rules:\n      - alert: Ratio\n        expr: "+tc.expr+"\n        labels: {severity: warning}\n"), 0o644)
			want := "audittui: warning: " + f + ": rule Ratio (" + f + ":4) " + tc.verdict + ": " + why + "\n"
			gate := "audittui: 1 rule selects no stream of the sources (--fail-on does not pass on a rule that watches nothing"
			for _, c := range []struct {
				failOn string
				code   int
			}{{"info", tc.info}, {"critical", tc.critical}} {
				code, _, errOut := runCLI(t, "", "--no-builtin", "--rules", f, "--fail-on", c.failOn, sample)
				if code != c.code || !strings.HasPrefix(errOut, want) || (code == cmdutil.ExitInputError) != strings.Contains(errOut, gate) {
					t.Errorf("--fail-on %s: exit %d (want %d), stderr %q\nwant first %q", c.failOn, code, c.code, errOut, want)
				}
			}
			// With --label team=sec every leg selects a stream: no
			// warning, and the rule fires.
			code, _, errOut := runCLI(t, "", "--no-builtin", "--rules", f, "--fail-on", "info", "--label", "team=sec", sample)
			if code != cmdutil.ExitAlerts || strings.Contains(errOut, "selects no stream") {
				t.Errorf("--label team=sec: exit %d, stderr %q", code, errOut)
			}
		})
	}
}
