package policy

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/audittui/audittui/internal/cli/clitest"
	"github.com/audittui/audittui/internal/cli/cmdutil"
	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/data/source/file"
	"github.com/audittui/audittui/internal/termsafe/termsafetest"
	"github.com/audittui/audittui/internal/testutil"
)

// runPolicyCLI runs `audittui policy ARGS...`.
func runPolicyCLI(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	return clitest.Run(t, NewCmdPolicy, stdin, args...)
}

func seedPolicyPath(t *testing.T) string {
	return filepath.Join(testutil.SeedDir(t), "audit-policy.yaml")
}

func seedRulesArgs(t *testing.T) []string {
	return []string{"--no-builtin", "--rules", filepath.Join(testutil.SeedDir(t), "loki-audit-rules.yaml")}
}

func TestPolicyLintSeed(t *testing.T) {
	seed := seedPolicyPath(t)
	code, out, errOut := runPolicyCLI(t, "", append([]string{"lint"}, append(seedRulesArgs(t), seed)...)...)
	if code != cmdutil.ExitInputError {
		t.Fatalf("exit %d, want 1 (findings); stderr %s", code, errOut)
	}
	for _, want := range []string{
		seed + ":7: error: catch-all-not-last: rule 0 has no selectors",
		seed + ":40: warning: shadowed: rule 5 (RequestResponse) is never used",
		seed + ":40: warning: secret-bodies: rule 5 would log get,list on secrets at RequestResponse",
		"    fix: move this rule to the end of rules",
		"12 findings (1 error, 8 warning, 3 info) in 1 policy",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestPolicyLintJSONL(t *testing.T) {
	code, out, _ := runPolicyCLI(t, "", "lint", "-o", "jsonl", seedPolicyPath(t))
	if code != cmdutil.ExitInputError {
		t.Fatalf("exit %d", code)
	}
	n := 0
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var f struct {
			File, Severity, Code, Message, Fix string
			Line, Rule                         int
		}
		if err := json.Unmarshal(sc.Bytes(), &f); err != nil {
			t.Fatalf("line %d: %v: %s", n+1, err, sc.Text())
		}
		if f.Line <= 0 || f.Code == "" || f.Fix == "" || f.File != seedPolicyPath(t) {
			t.Fatalf("incomplete finding %s", sc.Text())
		}
		n++
	}
	// The seed's 12 structural findings plus the built-in pack's alerts
	// that need request bodies.
	if n <= 12 {
		t.Fatalf("%d findings", n)
	}
}

func TestPolicyLintCleanAndErrors(t *testing.T) {
	dir := t.TempDir()
	clean := filepath.Join(dir, "clean.yaml")
	os.WriteFile(clean, []byte(`apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived"]
rules:
- level: Metadata
  resources:
  - group: ""
    resources: ["secrets", "serviceaccounts/token"]
  - group: authentication.k8s.io
    resources: ["tokenreviews"]
- level: Request
  verbs: ["create", "update", "patch", "delete"]
  resources:
  - group: rbac.authorization.k8s.io
- level: Metadata
`), 0o644)
	code, out, _ := runPolicyCLI(t, "", append([]string{"lint"}, append(seedRulesArgs(t), clean)...)...)
	if code != cmdutil.ExitOK || !strings.Contains(out, "1 policy: no findings") {
		t.Fatalf("clean policy: exit %d\n%s", code, out)
	}

	// A policy the apiserver refuses is a finding with its line.
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: Loud\n"), 0o644)
	code, out, _ = runPolicyCLI(t, "", "lint", "--no-builtin", bad)
	if code != cmdutil.ExitInputError || !strings.Contains(out, bad+`:4: error: invalid: rules[0].level: Unsupported value: "Loud"`) {
		t.Fatalf("invalid policy: exit %d\n%s", code, out)
	}

	code, _, errOut := runPolicyCLI(t, "", "lint", filepath.Join(dir, "missing.yaml"))
	if code != cmdutil.ExitUsage || !strings.Contains(errOut, "missing.yaml") {
		t.Fatalf("missing file: exit %d, stderr %s", code, errOut)
	}
	code, _, _ = runPolicyCLI(t, "", "lint", "-o", "xml", clean)
	if code != cmdutil.ExitUsage {
		t.Fatalf("bad -o: exit %d", code)
	}
}

// Strings from a policy never reach the terminal raw.
func TestPolicyLintSanitises(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "evil.yaml")
	os.WriteFile(p, []byte("apiVersion: audit.k8s.io/v1\nkind: Policy\nomitStages: [RequestReceived]\nrules:\n- level: RequestResponse\n  users: [\"\\e]0;pwned\\a\"]\n- level: Metadata\n"), 0o644)
	code, out, _ := runPolicyCLI(t, "", "lint", "--no-builtin", p)
	if code != cmdutil.ExitInputError {
		t.Fatalf("exit %d\n%s", code, out)
	}
	if strings.ContainsAny(out, "\x1b\a") {
		t.Fatalf("raw control characters in output: %q", out)
	}
	if !strings.Contains(out, `user \x1b]0;pwned\x07`) {
		t.Fatalf("escaped user name missing:\n%s", out)
	}
}

func TestPolicyCheckJSONL(t *testing.T) {
	t.Run("fixtures", func(t *testing.T) {
		nodes, _ := filepath.Glob(filepath.Join(testutil.RepoRoot(), "testdata", "sample", "nodes", "*.log"))
		if len(nodes) != 3 {
			t.Fatalf("sample nodes: %v", nodes)
		}
		policyCheckJSONL(t, append(nodes, filepath.Join(testutil.RepoRoot(), "testdata", "identities", "identities.jsonl")))
	})
	t.Run("realdata", func(t *testing.T) { policyCheckJSONL(t, testutil.RealAuditFiles(t)) })
}

func policyCheckJSONL(t *testing.T, files []string) {
	want := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		want += bytes.Count(b, []byte("\n"))
	}
	args := append([]string{"check", "--policy", seedPolicyPath(t), "-o", "jsonl"}, files...)
	code, out, errOut := runPolicyCLI(t, "", args...)
	// Events without a timestamp (Panther's fixtures) are left out of the
	// built-in pack's counts, and that alone makes the exit status 1.
	if n := len(undatedLines(t, files...)); n > 0 {
		if code != cmdutil.ExitInputError || !strings.HasPrefix(errOut, fmt.Sprintf("audittui: %d events without a timestamp were not evaluated by the alert rules", n)) || strings.Count(errOut, "\n") != 1 {
			t.Fatalf("exit %d, %d undated: %s", code, n, errOut)
		}
	} else if code != cmdutil.ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != want+1 {
		t.Fatalf("%d lines for %d events + summary", len(lines), want)
	}
	for _, l := range lines[:want] {
		var r struct {
			AuditID *string `json:"auditID"`
			Level   string  `json:"level"`
			Rule    *int    `json:"rule"`
		}
		if err := json.Unmarshal([]byte(l), &r); err != nil || r.AuditID == nil || r.Rule == nil || r.Level == "" {
			t.Fatalf("bad event line %s (%v)", l, err)
		}
		// The seed's first rule takes everything.
		if *r.Rule != 0 || r.Level != "Metadata" {
			t.Fatalf("event %s: rule %d level %s", *r.AuditID, *r.Rule, r.Level)
		}
	}
	var sum struct {
		Summary struct {
			Events int `json:"events"`
			Rules  []struct {
				Rule   int `json:"rule"`
				Events int `json:"events"`
			} `json:"rules"`
		} `json:"summary"`
	}
	if err := json.Unmarshal([]byte(lines[want]), &sum); err != nil || sum.Summary.Events != want || sum.Summary.Rules[0].Events != want {
		t.Fatalf("summary %s (%v)", lines[want], err)
	}
}

// checkTableFixturePolicy drops the scheduler's gets and updates and asks
// for RBAC bodies the sample's policy never logged (cannot upgrade).
const checkTableFixturePolicy = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived"]
rules:
- level: None
  users: ["system:kube-scheduler"]
  verbs: ["get", "update"]
- level: RequestResponse
  resources: [{group: "rbac.authorization.k8s.io"}]
- level: Metadata
`

func TestPolicyCheckTableAgainstAndStdin(t *testing.T) {
	t.Run("fixtures", func(t *testing.T) {
		pol := filepath.Join(t.TempDir(), "policy.yaml")
		if err := os.WriteFile(pol, []byte(checkTableFixturePolicy), 0o644); err != nil {
			t.Fatal(err)
		}
		policyCheckTable(t, pol, filepath.Join(testutil.RepoRoot(), "testdata", "sample", "nodes", "audit-cp1.log"), 254)
	})
	t.Run("realdata", func(t *testing.T) {
		rd := testutil.RealData(t)
		policyCheckTable(t, filepath.Join(rd, "policy", "gce-configure-helper.yaml"), filepath.Join(rd, "audit", "falco-legacy-k8s-audit-traces.jsonl"), 51)
	})
}

// policyCheckTable runs policy check --policy pol --against the seed's
// policy with events on stdin.
func policyCheckTable(t *testing.T, pol, events string, n int) {
	b, err := os.ReadFile(events)
	if err != nil {
		t.Fatal(err)
	}
	args := append([]string{"check", "--policy", pol, "--against", seedPolicyPath(t)}, seedRulesArgs(t)...)
	code, out, errOut := runPolicyCLI(t, string(b), args...)
	if code != cmdutil.ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{
		fmt.Sprintf("policy %s: %d events", pol, n),
		"RULE  LINE",
		"total",
		"estimated per day:",
		"cannot upgrade:",
		"alert rules losing events: none (of 5 rules)",
		"against " + seedPolicyPath(t),
		"OLD RULE",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	code, _, _ = runPolicyCLI(t, "", "check", events)
	if code != cmdutil.ExitUsage {
		t.Fatalf("without --policy: exit %d", code)
	}
}

func TestPolicyFlagsToOptions(t *testing.T) {
	var lint *LintOptions
	code, _, errOut := clitest.Run(t, func(f *cmdutil.Factory) *cobra.Command {
		return NewCmdLint(f, func(o *LintOptions) error { lint = o; return nil })
	}, "", "-o", "jsonl", "--no-builtin", "--rules", "r.yaml", "a.yaml", "b.yaml")
	if code != 0 || lint.Output != "jsonl" || !lint.Rules.NoBuiltin || strings.Join(lint.Rules.Files, ",") != "r.yaml" || strings.Join(lint.Policies, ",") != "a.yaml,b.yaml" {
		t.Fatalf("lint: exit %d (%s), options %+v", code, errOut, lint)
	}
	var check *CheckOptions
	code, _, errOut = clitest.Run(t, func(f *cmdutil.Factory) *cobra.Command {
		return NewCmdCheck(f, func(o *CheckOptions) error { check = o; return nil })
	}, "", "--policy", "new.yaml", "--against", "old.yaml", "--since", "24h", "-o", "jsonl", "audit.log")
	if code != 0 || check.Policy != "new.yaml" || check.Against != "old.yaml" || check.Window.Since != 24*time.Hour || check.Output != "jsonl" ||
		strings.Join(check.Args, ",") != "audit.log" {
		t.Fatalf("check: exit %d (%s), options %+v", code, errOut, check)
	}
}

// A line that is not an audit event is reported (sanitised) and sets exit
// status 1; the other events are still replayed.
func TestPolicyCheckReportsRejects(t *testing.T) {
	good := `{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"a","stage":"ResponseComplete","verb":"get","user":{"username":"alice"},"stageTimestamp":"2026-02-10T10:00:00Z"}`
	code, out, errOut := runPolicyCLI(t, good+"\nnot json \x1b]0;pwned\x07\n", "check", "--no-builtin", "--policy", seedPolicyPath(t), "-o", "jsonl")
	if code != cmdutil.ExitInputError || !strings.Contains(errOut, "audittui: skipped -:2") || !strings.Contains(errOut, "1 input line rejected") {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	if err := termsafetest.CheckLines(errOut); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, `"auditID":"a"`) || !strings.Contains(out, `"summary"`) {
		t.Fatalf("stdout %q", out)
	}
}

// namesPolicy drops two objects by name (review C, finding 3).
const namesPolicy = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived"]
rules:
- level: None
  resources:
  - group: ""
    resources: ["configmaps", "serviceaccounts"]
    resourceNames: ["my-config", "myacct"]
- level: Metadata
`

// TestPolicyCheckCreatesHaveNoName: the apiserver evaluates the policy on
// the request URL, where a create names no object, so a resourceNames rule
// drops only the falco traces' 2 deletes, not their 11 creates (whose
// objectRef.name the apiserver took from the body afterwards).
func TestPolicyCheckCreatesHaveNoName(t *testing.T) {
	falco := filepath.Join(testutil.RealData(t), "audit", "falco-legacy-k8s-audit-traces.jsonl")
	pol := filepath.Join(t.TempDir(), "names.yaml")
	if err := os.WriteFile(pol, []byte(namesPolicy), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runPolicyCLI(t, "", "check", "--no-builtin", "--policy", pol, "-o", "jsonl", falco)
	if code != cmdutil.ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var sum struct {
		Summary struct {
			Rules []struct {
				Rule, Events int
			} `json:"rules"`
		} `json:"summary"`
	}
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &sum); err != nil || len(sum.Summary.Rules) != 3 {
		t.Fatalf("summary %s (%v)", lines[len(lines)-1], err)
	}
	if r := sum.Summary.Rules; r[0].Events != 2 || r[1].Events != 49 {
		t.Fatalf("rule 0 (None) decides %d events and rule 1 (Metadata) %d, want 2 (the deletes) and 49", r[0].Events, r[1].Events)
	}
}

// undatedLines reads files as audittui does and returns the lines (one
// set for all files: FILE:LINE) that hold events without a timestamp.
func undatedLines(t *testing.T, files ...string) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	for _, f := range files {
		src, err := file.New(f, file.Options{})
		if err != nil {
			t.Fatal(err)
		}
		st, err := data.OpenAll(context.Background(), []data.Source{src}, data.ReadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for {
			b, err := st.Next(context.Background())
			if b != nil {
				for i := range b.Events {
					if b.Events[i].Time == 0 {
						out[b.Events[i].Origin.Where()] = true
					}
				}
			}
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		st.Close()
	}
	return out
}

// TestPolicyCheckUndatedNotMatched: the alert rules never evaluate an
// event without a timestamp, so policy check's MATCHED and LOST leave them
// out: Panther's real EKS-shaped fixtures (48 of 49 undated) give the
// alert rules the same counts as their one dated event alone. The policy's
// own rules still count every event. The undated events are said as
// alerts says them (the first FILE:LINE on stderr, exit status 1), and
// under the alert rules in the table.
func TestPolicyCheckUndatedNotMatched(t *testing.T) {
	rd := testutil.RealData(t)
	pol := filepath.Join(rd, "policy", "audit2rbac-demo-policy.yaml") // logs almost nothing: many alert rules lose
	b, err := os.ReadFile(filepath.Join(rd, "audit", "panther-analysis-kubernetes-rules-tests.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	all, dated := filepath.Join(dir, "panther.jsonl"), filepath.Join(dir, "dated.jsonl")
	os.WriteFile(all, b, 0o644)
	undated := undatedLines(t, all)
	var keep []string
	for i, l := range strings.SplitAfter(string(b), "\n") {
		if l != "" && !undated[fmt.Sprintf("%s:%d", all, i+1)] {
			keep = append(keep, l)
		}
	}
	if len(undated) != 48 || len(keep) != 1 {
		t.Fatalf("%d undated, %d dated events", len(undated), len(keep))
	}
	os.WriteFile(dated, []byte(strings.Join(keep, "")), 0o644)

	type summary struct {
		Summary struct {
			Events int `json:"events"`
			Alerts []struct {
				Alert   string `json:"alert"`
				Matched int    `json:"matched"`
				Lost    int    `json:"lost"`
			} `json:"alerts"`
			AlertsUndated   int    `json:"alertsUndated"`
			AlertsUndatedAt string `json:"alertsUndatedAt"`
		} `json:"summary"`
	}
	check := func(f string) (summary, int, string) {
		code, out, errOut := runPolicyCLI(t, "", "check", "--policy", pol, "-o", "jsonl", f)
		lines := strings.Split(strings.TrimSpace(out), "\n")
		var s summary
		if err := json.Unmarshal([]byte(lines[len(lines)-1]), &s); err != nil {
			t.Fatalf("%s: summary %s (%v)", f, lines[len(lines)-1], err)
		}
		return s, code, errOut
	}
	got, code, errOut := check(all)
	want, wantCode, wantErr := check(dated)
	if wantCode != cmdutil.ExitOK || wantErr != "" || want.Summary.AlertsUndated != 0 {
		t.Fatalf("dated events: exit %d, stderr %q", wantCode, wantErr)
	}
	matched := 0
	for i, a := range got.Summary.Alerts {
		matched += a.Matched
		if a != want.Summary.Alerts[i] {
			t.Errorf("%s: matched %d lost %d, but %d and %d over the dated event alone", a.Alert, a.Matched, a.Lost, want.Summary.Alerts[i].Matched, want.Summary.Alerts[i].Lost)
		}
	}
	if matched == 0 {
		t.Error("no alert rule matches the dated event")
	}
	if got.Summary.Events != 49 || got.Summary.AlertsUndated != 48 || got.Summary.AlertsUndatedAt != all+":1" {
		t.Errorf("events %d, alertsUndated %d at %q", got.Summary.Events, got.Summary.AlertsUndated, got.Summary.AlertsUndatedAt)
	}
	line := "audittui: 48 events without a timestamp were not evaluated by the alert rules (not in MATCHED or LOST): no rule can place them in time (the first: " + all + ":1)\n"
	if code != cmdutil.ExitInputError || errOut != line {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
	code, out, _ := runPolicyCLI(t, "", "check", "--policy", pol, all)
	if code != cmdutil.ExitInputError || !strings.Contains(out, "\nleft out of the alert rules: 48 events without a timestamp (no rule can place them in time)\n") {
		t.Errorf("table: exit %d:\n%s", code, out)
	}
	// Without alert rules nothing is left out.
	if code, _, errOut := runPolicyCLI(t, "", "check", "--no-builtin", "--policy", pol, all); code != cmdutil.ExitOK || errOut != "" {
		t.Errorf("--no-builtin: exit %d, stderr %q", code, errOut)
	}
}

// lintSeverities runs lint -o jsonl and returns the exit status and the
// severity of each finding (each object must carry one).
func lintSeverities(t *testing.T, args ...string) (int, map[string]int) {
	t.Helper()
	code, out, errOut := runPolicyCLI(t, "", append([]string{"lint", "-o", "jsonl"}, args...)...)
	sev := map[string]int{}
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var f struct{ Severity string }
		if err := json.Unmarshal(sc.Bytes(), &f); err != nil {
			t.Fatalf("%v: %s", err, sc.Text())
		}
		switch f.Severity {
		case "error", "warning", "info":
			sev[f.Severity]++
		default:
			t.Fatalf("finding without a severity: %s", sc.Text())
		}
	}
	if code == cmdutil.ExitUsage {
		t.Fatalf("lint %v: usage error: %s", args, errOut)
	}
	return code, sev
}

// Review H finding 13: lint is a CI gate. --fail-on (default warning) sets
// the lowest severity that exits 1; a note (info) alone passes.
func TestPolicyLintFailOn(t *testing.T) {
	seedRules := seedRulesArgs(t)
	fixed := filepath.Join(testutil.RepoRoot(), "internal", "policy", "auditpolicy", "testdata", "seed-fixed.yaml")
	dir := t.TempDir()
	warnOnly := filepath.Join(dir, "no-catch-all.yaml")
	os.WriteFile(warnOnly, []byte("apiVersion: audit.k8s.io/v1\nkind: Policy\nomitStages: [RequestReceived]\nrules:\n- level: Metadata\n  verbs: [get]\n"), 0o644)
	cases := []struct {
		name   string
		args   []string
		want   int
		sevs   string // error/warning/info counts
		failOn []string
	}{
		// The README's fixed seed policy: one info note.
		{"info only, default", append(append([]string{}, seedRules...), fixed), 0, "0/0/1", nil},
		{"info only, --fail-on info", append(append([]string{}, seedRules...), fixed), 1, "0/0/1", []string{"--fail-on", "info"}},
		{"warning only, default", []string{"--no-builtin", warnOnly}, 1, "0/1/0", nil},
		{"warning only, --fail-on error", []string{"--no-builtin", warnOnly}, 0, "0/1/0", []string{"--fail-on", "error"}},
		{"errors, --fail-on error", append(append([]string{}, seedRules...), seedPolicyPath(t)), 1, "1/8/3", []string{"--fail-on", "error"}},
		{"errors, --fail-on none", append(append([]string{}, seedRules...), seedPolicyPath(t)), 0, "1/8/3", []string{"--fail-on", "none"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, sev := lintSeverities(t, append(c.failOn, c.args...)...)
			if got := fmt.Sprintf("%d/%d/%d", sev["error"], sev["warning"], sev["info"]); got != c.sevs {
				t.Errorf("findings error/warning/info %s, want %s", got, c.sevs)
			}
			if code != c.want {
				t.Errorf("exit %d, want %d", code, c.want)
			}
		})
	}
	// A v1beta1 policy: the apiserver refuses it, and lint says which line
	// and what to write instead.
	v1beta1 := filepath.Join(dir, "v1beta1.yaml")
	os.WriteFile(v1beta1, []byte("# old\napiVersion: audit.k8s.io/v1beta1\nkind: Policy\nrules:\n- level: Metadata\n"), 0o644)
	code, out, _ := runPolicyCLI(t, "", "lint", "--no-builtin", "--fail-on", "error", v1beta1)
	for _, want := range []string{
		v1beta1 + ":2: error: invalid: apiVersion audit.k8s.io/v1beta1 is not served",
		"    fix: set apiVersion: audit.k8s.io/v1 (the rules keep their meaning",
	} {
		if code != cmdutil.ExitInputError || !strings.Contains(out, want) {
			t.Errorf("v1beta1 policy: exit %d, output lacks %q:\n%s", code, want, out)
		}
	}
	code, _, errOut := runPolicyCLI(t, "", "lint", "--fail-on", "critical", fixed)
	if code != cmdutil.ExitUsage || !strings.Contains(errOut, "error, warning, info or none") {
		t.Fatalf("--fail-on critical: exit %d, stderr %s", code, errOut)
	}
}

// On the real policies, with the built-in pack and without it (only the
// policies' own problems), the exit status follows the most severe finding
// and --fail-on.
func TestPolicyLintFailOnRealPolicies(t *testing.T) {
	passedSome := false
	for _, p := range testutil.RealPolicyFiles(t) {
		for _, pack := range [][]string{nil, {"--no-builtin"}} {
			t.Run(filepath.Base(p)+strings.Join(pack, ""), func(t *testing.T) {
				_, sev := lintSeverities(t, append(append([]string{"--fail-on", "none"}, pack...), p)...)
				thresholds := []string{"error", "warning", "info"}
				if len(pack) == 0 {
					thresholds = thresholds[:1] // the pack's lint is the slow one
				}
				for _, failOn := range thresholds {
					want := 0
					for _, s := range []string{"error", "warning", "info"} {
						if sev[s] > 0 {
							want = 1
						}
						if s == failOn {
							break
						}
					}
					code, _ := lintSeverities(t, append(append([]string{"--fail-on", failOn}, pack...), p)...)
					if code != want {
						t.Errorf("--fail-on %s: exit %d, want %d (findings %v)", failOn, code, want, sev)
					}
					passedSome = passedSome || len(sev) > 0 && code == 0
				}
			})
		}
	}
	if !passedSome {
		t.Fatal("no real policy with findings passes any --fail-on: the check says nothing about thresholds")
	}
}
