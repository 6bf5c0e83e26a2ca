package live

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/audittui/audittui/internal/cli/alerts"
	"github.com/audittui/audittui/internal/cli/clitest"
	"github.com/audittui/audittui/internal/cli/cmdutil"
	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/data/source/file"
	"github.com/audittui/audittui/internal/policy/rules"
	"github.com/audittui/audittui/internal/testutil"
	"github.com/audittui/audittui/internal/ui"
)

// TestBinaryAndUnwrapRulesAsAlertsCommand: the TUI's alert engine, over
// the sample with a --rules file holding a ratio rule (two sides, each
// its own pipeline) and an unwrap rule, ends with the instances `audittui
// alerts` reports with that file: the same labels, activity, event counts
// and cited auditIDs. (internal/ui's TestAlertsPaneBinaryAndUnwrapRules
// checks that the pane lists, expands and drills them.)
func TestBinaryAndUnwrapRulesAsAlertsCommand(t *testing.T) {
	sample := filepath.Join(testutil.RepoRoot(), "testdata", "sample", "audit.log")
	rulesFile := filepath.Join(t.TempDir(), "ratios.yaml")
	if err := os.WriteFile(rulesFile, []byte(`groups:
  - name: ratios
    interval: 1m
    rules:
      - alert: ErrorRatioHigh
        expr: sum by (user_username) (count_over_time({job="audit"} | json | responseStatus_code >= 400 [5m])) / sum by (user_username) (count_over_time({job="audit"} | json [5m])) > 0.5
      - alert: ServerErrors
        expr: max_over_time({job="audit"} | json | unwrap responseStatus_code [5m]) by (verb) >= 500
`), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := clitest.Run(t, func(f *cmdutil.Factory) *cobra.Command { return alerts.NewCmdAlerts(f, nil) }, "",
		"--no-builtin", "--rules", rulesFile, "-o", "jsonl", sample)
	if code != 0 {
		t.Fatalf("audittui alerts: exit %d: %s", code, errOut)
	}
	type instance struct {
		Alert       string            `json:"alert"`
		Labels      map[string]string `json:"labels"`
		FirstActive string            `json:"firstActive"`
		LastActive  string            `json:"lastActive"`
		Events      int               `json:"events"`
		AuditIDs    []string          `json:"auditIDs"`
	}
	key := func(i instance) string {
		return i.Alert + " " + rules.LabelsString(i.Labels) + " " + i.FirstActive + " " + i.LastActive
	}
	want := map[string]instance{}
	perRule := map[string]int{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var i instance
		if err := json.Unmarshal([]byte(line), &i); err != nil {
			t.Fatalf("jsonl line %q: %v", line, err)
		}
		want[key(i)] = i
		perRule[i.Alert]++
	}
	if perRule["ErrorRatioHigh"] == 0 || perRule["ServerErrors"] == 0 {
		t.Fatalf("the sample should fire both rules: %v", perRule)
	}

	set, err := cmdutil.LoadRules([]string{rulesFile}, true, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	src, err := file.New(sample, file.Options{})
	if err != nil {
		t.Fatal(err)
	}
	lv, err := Open(context.Background(), Options{Sources: []data.Source{src}, Alerts: true, Rules: set})
	if err != nil {
		t.Fatal(err)
	}
	defer lv.Close()
	sub := lv.Alerts.Subscribe()
	defer sub.Close()
	st := waitDone(t, sub)
	got := map[string]bool{}
	for _, a := range st.Local {
		ids := []string{}
		for _, id := range a.AuditIDs {
			if !slices.Contains(ids, id) {
				ids = append(ids, id)
			}
		}
		g := instance{Alert: a.Name, Labels: a.Labels, FirstActive: a.ActiveAt.UTC().Format(time.RFC3339Nano),
			LastActive: a.LastActive.UTC().Format(time.RFC3339Nano), Events: a.Events, AuditIDs: ids}
		k := key(g)
		got[k] = true
		w, ok := want[k]
		if !ok {
			t.Errorf("the TUI has %s, audittui alerts does not", k)
			continue
		}
		if g.Events != w.Events || !slices.Equal(g.AuditIDs, w.AuditIDs) {
			t.Errorf("%s: the TUI has %d events %v, audittui alerts %d %v", k, g.Events, g.AuditIDs, w.Events, w.AuditIDs)
		}
	}
	for k := range want {
		if !got[k] {
			t.Errorf("the TUI does not have %s", k)
		}
	}
}

// TestRuleProblemsInAlertState: a rule whose vector matching fails (no
// group_left) was said only in the log; the TUI's alert state now names it
// (ui.AlertState.Problems, shown above the Alerts pane's list) with the
// error and the evaluations `audittui alerts` counts on stderr, after the
// rules that watch nothing (Options.Blind) given at start.
func TestRuleProblemsInAlertState(t *testing.T) {
	sample := filepath.Join(testutil.RepoRoot(), "testdata", "sample", "audit.log")
	rulesFile := filepath.Join(t.TempDir(), "m2o.yaml")
	if err := os.WriteFile(rulesFile, []byte(`groups:
  - name: g
    rules:
      - alert: ManyToOne
        expr: sum by (user_username, verb) (count_over_time({job="audit"} | json [5m])) / on () sum(count_over_time({job="audit"} | json [5m])) > 0
`), 0o644); err != nil {
		t.Fatal(err)
	}
	_, _, errOut := clitest.Run(t, func(f *cmdutil.Factory) *cobra.Command { return alerts.NewCmdAlerts(f, nil) }, "",
		"--no-builtin", "--rules", rulesFile, sample)
	_, said, ok := strings.Cut(errOut, "audittui: warning: rule ManyToOne ("+rulesFile+":4) failed at ")
	steps, _, _ := strings.Cut(said, ",") // "N evaluations" (or "1 evaluation")
	if !ok || steps == "" {
		t.Fatalf("audittui alerts does not say the rule failed: %s", errOut)
	}
	set, err := cmdutil.LoadRules([]string{rulesFile}, true, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	src, err := file.New(sample, file.Options{})
	if err != nil {
		t.Fatal(err)
	}
	blind := ui.RuleProblem{Rule: set.Rules()[0], Why: "can never fire: a test's word"}
	lv, err := Open(context.Background(), Options{Sources: []data.Source{src}, Alerts: true, Rules: set, Blind: []ui.RuleProblem{blind}})
	if err != nil {
		t.Fatal(err)
	}
	defer lv.Close()
	sub := lv.Alerts.Subscribe()
	defer sub.Close()
	st := waitDone(t, sub)
	if len(st.Problems) != 2 || st.Problems[0] != blind || st.Problems[1].Rule.Alert != "ManyToOne" ||
		!strings.HasPrefix(st.Problems[1].Why, "failed: found duplicate series for the match group") ||
		!strings.Contains(st.Problems[1].Why, " ("+steps+", ") {
		t.Errorf("problems %+v; audittui alerts: %s", st.Problems, errOut)
	}
}
