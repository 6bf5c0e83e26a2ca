package cmdutil

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/data/logql"
	"github.com/audittui/audittui/internal/policy/rules"
)

// TestSayRuleMisses: one warning per rule file and explanation, naming at
// most five rules (with file:line) and counting the others; the hint
// names the --label that gives local files the label, not when the value
// is a typo of one they have, and says which selector Loki is read with.
func TestSayRuleMisses(t *testing.T) {
	var y strings.Builder
	y.WriteString("groups:\n  - name: g\n    rules:\n")
	for i := range 7 {
		fmt.Fprintf(&y, "      - alert: Team%d\n        expr: sum(count_over_time({job=\"kube-audit\"} | json [5m])) > 0\n", i)
	}
	y.WriteString("      - alert: Typo\n        expr: sum(count_over_time({job=\"adit\"} | json [5m])) > 0\n")
	y.WriteString("      - alert: Fine\n        expr: sum(count_over_time({job=\"audit\"} | json [5m])) > 0\n")
	set, err := rules.Parse("team.yaml", []byte(y.String()))
	if err != nil {
		t.Fatal(err)
	}
	sl := &data.StreamLabels{}
	sl.AddStream(data.Labels{{Name: "job", Value: "audit"}, {Name: "filename", Value: "a.log"}})
	st := Streams{Labels: sl, Local: true}
	misses := st.RuleMisses(set)
	if len(misses) != 8 {
		t.Fatalf("%d misses", len(misses))
	}
	var w bytes.Buffer
	SayRuleMisses(&w, misses)
	want := "audittui: warning: team.yaml: 7 rules can never fire: Team0 (team.yaml:4), Team1 (team.yaml:6), Team2 (team.yaml:8), Team3 (team.yaml:10), Team4 (team.yaml:12) and 2 more: " +
		`{job="kube-audit"} selects no stream of the sources: their job is "audit"; --label job=kube-audit gives local files that label` + "\n" +
		"audittui: warning: team.yaml: rule Typo (team.yaml:18) can never fire: " +
		`{job="adit"} selects no stream of the sources: their job is "audit" (did you mean job="audit"?)` + "\n"
	if w.String() != want {
		t.Errorf("got\n%s\nwant\n%s", w.String(), want)
	}
	if err := RuleMissError(misses); !strings.Contains(err.Error(), "8 rules select no stream") {
		t.Errorf("error %v", err)
	}

	// Loki, read with --loki-selector; two labels at once; a value a shell
	// would split.
	st = Streams{Labels: sl, Local: true, LokiSelector: `{job="audit"}`}
	lq, err := logql.ParseLog(`{job="kube audit", team="a'b"}`)
	if err != nil {
		t.Fatal(err)
	}
	why, ok := st.Miss(lq.Selector())
	if !ok || !strings.HasSuffix(why, `; --label job='kube audit' --label team='a'\''b' gives local files those labels; Loki is read with --loki-selector {job="audit"}`) {
		t.Errorf("%v %q", ok, why)
	}
	// No labels known: nothing is judged.
	if _, ok := (Streams{}).Miss(lq.Selector()); ok {
		t.Error("a miss without labels")
	}
}
