package policy

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/audittui/audittui/internal/testutil"
)

// TestCheckSaysRuleSelectsNoStream: policy check counts for each rule the
// events it matches; a rule whose selector no stream of the sources has
// matches none, which read as "this policy loses nothing of it". stderr
// now names it; with --label job=kube-audit the rule matches what the
// seed's own does.
func TestCheckSaysRuleSelectsNoStream(t *testing.T) {
	seed := testutil.SeedDir(t)
	b, err := os.ReadFile(filepath.Join(seed, "loki-audit-rules.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	team := filepath.Join(t.TempDir(), "team.yaml")
	os.WriteFile(team, []byte(strings.ReplaceAll(string(b), `job="audit"`, `job="kube-audit"`)), 0o644)
	sample := filepath.Join(testutil.RepoRoot(), "testdata", "sample", "audit.log")
	policy := filepath.Join(seed, "audit-policy.yaml")

	_, want, _ := runPolicyCLI(t, "", "check", "--policy", policy, "--no-builtin", "--rules", filepath.Join(seed, "loki-audit-rules.yaml"), "-o", "jsonl", sample)
	_, out, errOut := runPolicyCLI(t, "", "check", "--policy", policy, "--no-builtin", "--rules", team, "-o", "jsonl", sample)
	if !strings.Contains(errOut, "audittui: warning: "+team+": 5 rules can never fire: UnauthorizedAPIAccess ("+team+":6)") ||
		!strings.Contains(errOut, `{job="kube-audit"} selects no stream of the sources: their job is "audit"; --label job=kube-audit gives local files that label`) {
		t.Errorf("stderr %q", errOut)
	}
	// What the warning is about: the team's rules match nothing, the
	// seed's match events.
	if matched(t, out) != 0 || matched(t, want) == 0 {
		t.Errorf("matched: %d for the team's rules, %d for the seed's", matched(t, out), matched(t, want))
	}
	_, out, errOut = runPolicyCLI(t, "", "check", "--policy", policy, "--no-builtin", "--rules", team, "--label", "job=kube-audit", "-o", "jsonl", sample)
	if strings.Contains(errOut, "selects no stream") {
		t.Errorf("--label job=kube-audit: stderr %q", errOut)
	}
	if out != want {
		t.Errorf("--label job=kube-audit: the replay differs from the seed's rules (%d bytes, want %d)", len(out), len(want))
	}
}

// matched sums the alert rules' matched events of a jsonl check's summary.
func matched(t *testing.T, out string) int64 {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var last struct {
		Summary struct {
			Alerts []struct {
				Matched int64 `json:"matched"`
			} `json:"alerts"`
		} `json:"summary"`
	}
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &last); err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, a := range last.Summary.Alerts {
		n += a.Matched
	}
	return n
}

// TestCheckSaysRuleLegSelectsNoStream (review M7): a ratio rule whose
// right leg selects a job the files do not carry was not named (only a
// rule whose every leg missed was); now it is, with its file:line.
func TestCheckSaysRuleLegSelectsNoStream(t *testing.T) {
	rulesFile := filepath.Join(t.TempDir(), "ratio.yaml")
	os.WriteFile(rulesFile, []byte(`groups:
  - name: g
    rules:
      - alert: Ratio
        expr: sum(count_over_time({job="audit"}[5m])) / sum(count_over_time({job="kube-audit"}[5m])) > 0
`), 0o644)
	sample := filepath.Join(testutil.RepoRoot(), "testdata", "sample", "audit.log")
	policy := filepath.Join(testutil.SeedDir(t), "audit-policy.yaml")
	_, _, errOut := runPolicyCLI(t, "", "check", "--policy", policy, "--no-builtin", "--rules", rulesFile, "-o", "jsonl", sample)
	want := "audittui: warning: " + rulesFile + ": rule Ratio (" + rulesFile + `:4) can never fire: {job="kube-audit"} selects no stream of the sources`
	if !strings.Contains(errOut, want) {
		t.Errorf("stderr %q\nwant %q", errOut, want)
	}
}
