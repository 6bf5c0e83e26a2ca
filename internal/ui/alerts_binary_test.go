package ui

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/spf13/cobra"

	"github.com/audittui/audittui/internal/cli/alerts"
	"github.com/audittui/audittui/internal/cli/clitest"
	"github.com/audittui/audittui/internal/cli/cmdutil"
	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/data/logql"
	"github.com/audittui/audittui/internal/policy/rules"
	"github.com/audittui/audittui/internal/testutil"
)

// binaryRules are a ratio rule (a binary operation between two vectors,
// each side its own pipeline) and an unwrap rule.
const binaryRules = `groups:
  - name: ratios
    interval: 1m
    rules:
      - alert: ErrorRatioHigh
        expr: sum by (user_username) (count_over_time({job="audit"} | json | responseStatus_code >= 400 [5m])) / sum by (user_username) (count_over_time({job="audit"} | json [5m])) > 0.5
        annotations:
          summary: "{{ $labels.user_username }} fails {{ $value }} of its requests"
      - alert: ServerErrors
        expr: max_over_time({job="audit"} | json | unwrap responseStatus_code [5m]) by (verb) >= 500
`

// cliInstance is one line of `audittui alerts -o jsonl`.
type cliInstance struct {
	Alert       string            `json:"alert"`
	Labels      map[string]string `json:"labels"`
	FirstActive string            `json:"firstActive"`
	LastActive  string            `json:"lastActive"`
	Events      int               `json:"events"`
	AuditIDs    []string          `json:"auditIDs"`
}

func (c cliInstance) key() string {
	return c.Alert + " " + rules.LabelsString(c.Labels) + " " + c.FirstActive + " " + c.LastActive
}

// TestAlertsPaneBinaryAndUnwrapRules: over the sample, with a --rules file
// holding a ratio rule and an unwrap rule, the Alerts pane lists the
// instances `audittui alerts` reports with that file (the same events and
// cited auditIDs); an instance of each expands to its cited events, and
// its drill-down selects every one of them in its window (the ratio's
// only its numerator's events: the failures that made it fire).
func TestAlertsPaneBinaryAndUnwrapRules(t *testing.T) {
	sample := filepath.Join(testutil.RepoRoot(), "testdata", "sample", "audit.log")
	rulesFile := filepath.Join(t.TempDir(), "ratios.yaml")
	if err := os.WriteFile(rulesFile, []byte(binaryRules), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := clitest.Run(t, func(f *cmdutil.Factory) *cobra.Command { return alerts.NewCmdAlerts(f, nil) }, "",
		"--no-builtin", "--rules", rulesFile, "-o", "jsonl", sample)
	if code != 0 {
		t.Fatalf("audittui alerts: exit %d: %s", code, errOut)
	}
	want := map[string]cliInstance{}
	perRule := map[string]int{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var c cliInstance
		if err := json.Unmarshal([]byte(line), &c); err != nil {
			t.Fatalf("jsonl line %q: %v", line, err)
		}
		want[c.key()] = c
		perRule[c.Alert]++
	}
	if perRule["ErrorRatioHigh"] == 0 || perRule["ServerErrors"] == 0 {
		t.Fatalf("the sample should fire both rules: %v", perRule)
	}

	set, err := cmdutil.LoadRules([]string{rulesFile}, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	evs := decodeLines(t, sample)
	ev, err := rules.NewEvaluator(set, rules.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range evs {
		ev.Push(&evs[i])
	}
	st := AlertState{Local: ev.Finish(), Rules: len(set.Rules()), Events: int64(len(evs)), Done: true}
	a := New(context.Background(), loadIndex(t, sample), nil, Options{Title: "audit.log", NoColor: true, Compile: CompileLogQL,
		Alerts: staticAlerts{st}})
	a.alerts.now = func() time.Time { return time.Date(2026, 11, 20, 5, 0, 0, 0, time.UTC) }
	a.Update(tea.WindowSizeMsg{Width: 140, Height: 40})
	a.alerts.SetState(st)
	send(t, a, "3")

	// Walk the pane from the top, listing every group and opening it.
	p := a.alerts
	send(t, a, "g")
	got := map[string]*rules.Alert{}
	for steps := 0; ; steps++ {
		it, ok := p.selected()
		if !ok || steps > 10000 {
			t.Fatalf("lost the cursor at step %d", steps)
		}
		switch {
		case it.kind == itemMore, it.kind == itemGroup && !p.openGroup[it.group.Key]:
			// The next groups take the place of "… more": look again.
			send(t, a, "enter")
			continue
		case it.kind == itemInstance:
			c := cliInstance{Alert: it.alert.Name, Labels: it.alert.Labels,
				FirstActive: it.alert.ActiveAt.UTC().Format(time.RFC3339Nano), LastActive: it.alert.LastActive.UTC().Format(time.RFC3339Nano)}
			got[c.key()] = it.alert
		}
		before := p.cursor
		send(t, a, "down")
		if p.cursor == before {
			break
		}
	}
	for k, w := range want {
		g := got[k]
		if g == nil {
			t.Errorf("the pane does not list %s", k)
			continue
		}
		if g.Events != w.Events || !slices.Equal(dedupeIDs(g.AuditIDs), w.AuditIDs) {
			t.Errorf("%s: the pane has %d events %v, audittui alerts %d %v", k, g.Events, g.AuditIDs, w.Events, w.AuditIDs)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("the pane lists %s, audittui alerts does not", k)
		}
	}

	// Expand the first instance of each rule with events, and drill.
	for _, name := range []string{"ErrorRatioHigh", "ServerErrors"} {
		t.Run(name, func(t *testing.T) {
			p.build()
			p.cursor = -1
			for i, it := range p.items {
				// The ratio's: one whose user also made requests that
				// did not fail (a value below 1), which its drill must
				// leave out.
				if it.kind == itemInstance && it.alert.Name == name && len(it.alert.AuditIDs) > 0 &&
					(name != "ErrorRatioHigh" || it.alert.Value < 1 && it.alert.Labels["user_username"] != "") {
					p.cursor = i
					break
				}
			}
			if p.cursor < 0 {
				t.Fatalf("no instance of %s with events", name)
			}
			inst := p.items[p.cursor].alert
			if !p.openInst[instKey(false, inst)] {
				send(t, a, "enter")
			}
			seen := map[string]bool{}
			for {
				send(t, a, "down")
				it, _ := p.selected()
				if it.kind != itemEvent || it.alert != inst {
					break
				}
				raw, err := a.c.Snap.Raw(it.row)
				if err != nil {
					t.Fatal(err)
				}
				var ev struct{ AuditID string }
				if err := json.Unmarshal(bytes.TrimSpace(raw), &ev); err != nil || !slices.Contains(inst.AuditIDs, ev.AuditID) {
					t.Fatalf("event row %d (%v) is not one the instance cites: %s", it.row, err, raw)
				}
				seen[ev.AuditID] = true
			}
			if len(seen) != len(dedupeIDs(inst.AuditIDs)) {
				t.Errorf("the instance lists %d of its %d cited events", len(seen), len(dedupeIDs(inst.AuditIDs)))
			}
			// The drill selects every cited event in its window (the
			// ratio's, every cited failure: the numerator's events;
			// the instance cites the denominator's too).
			numerator := func(e *data.Event) bool {
				return name != "ErrorRatioHigh" || e.Code >= 400
			}
			counted, others := 0, 0
			for i := range evs {
				if seen[evs[i].AuditID] {
					if numerator(&evs[i]) {
						counted++
					} else {
						others++
					}
				}
			}
			if name == "ErrorRatioHigh" && others == 0 {
				t.Fatalf("the ratio instance %v cites no request that did not fail: the test proves nothing", inst.Labels)
			}
			send(t, a, "up")
			d, ok := p.SelectedDrill()
			if !ok {
				t.Fatal("no drill on the instance's event")
			}
			q, err := logql.ParseLog(d.Query)
			if err != nil {
				t.Fatalf("drill %q is not a log query: %v", d.Query, err)
			}
			for i := range evs {
				e := &evs[i]
				if !seen[e.AuditID] || !numerator(e) {
					continue
				}
				if e.Time < d.From.UnixNano() || e.Time >= d.To.UnixNano() || !q.Matches(e) {
					t.Errorf("drill %s [%v, %v) misses cited event %s at %v", d.Query, d.From, d.To, e.AuditID, time.Unix(0, e.Time).UTC())
				}
			}
			// So does the drill of the instance's group.
			for i, it := range p.items {
				if it.kind == itemGroup && slices.Contains(it.group.Alerts, inst) {
					p.cursor = i
				}
			}
			gd, ok := p.SelectedDrill()
			if !ok {
				t.Fatal("no drill on the instance's group")
			}
			if gq, err := logql.ParseLog(gd.Query); err != nil || !gq.Matches(&evs[slices.IndexFunc(evs, func(e data.Event) bool { return seen[e.AuditID] && numerator(&e) })]) {
				t.Errorf("group drill %q: %v, or it misses a cited event", gd.Query, err)
			}
			p.cursor = slices.IndexFunc(p.items, func(it alertItem) bool { return it.kind == itemInstance && it.alert == inst })
			send(t, a, "f")
			if a.focus != paneTail || a.filter.Text != d.Query || a.c.Rows.Len() < counted {
				t.Errorf("f: focus %v, filter %q, %d rows for %d cited events", a.focus, a.filter.Text, a.c.Rows.Len(), counted)
			}
			if name == "ErrorRatioHigh" {
				// The ratio's drill shows the events that made it fire:
				// the numerator's (the user's failures), not every
				// request of theirs the denominator counts.
				for k := range a.c.Rows.Len() {
					row := a.c.Rows.At(k)
					if code := a.c.Snap.Code(row); code < 400 || a.c.Snap.Str(ColUser, row) != inst.Labels["user_username"] {
						t.Fatalf("f: the ratio's drill %q shows a %d of %s", a.filter.Text, code, a.c.Snap.Str(ColUser, row))
					}
				}
			}
			runCmd(t, a, a.applyFilter(&Filter{})) // no filter for the next rule
			send(t, a, "3")
		})
	}
}

func dedupeIDs(ids []string) []string {
	var out []string
	for _, id := range ids {
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}
