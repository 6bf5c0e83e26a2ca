package logql_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/audittui/audittui/internal/data/logql"
	"github.com/audittui/audittui/internal/testutil"
)

func ruleExprs(t *testing.T) map[string]string {
	b, err := os.ReadFile(filepath.Join(testutil.SeedDir(t), "loki-audit-rules.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var rules struct {
		Groups []struct {
			Rules []struct {
				Alert string `json:"alert"`
				Expr  string `json:"expr"`
			} `json:"rules"`
		} `json:"groups"`
	}
	if err := yaml.Unmarshal(b, &rules); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			out[r.Alert] = r.Expr
		}
	}
	return out
}

// TestSeedRulesEvaluate evaluates every seed alert rule at many instants
// over generated traffic with attack stories, and checks that Contributes
// finds exactly the series that fire: every firing series has an entry in
// its window contributing to it, and every contributing entry in the
// window belongs to a firing series.
func TestSeedRulesEvaluate(t *testing.T) {
	es := genEntries(8_000, 8)
	first, last := es[0].Time, es[len(es)-1].Time
	for name, expr := range ruleExprs(t) {
		t.Run(name, func(t *testing.T) {
			mq, err := logql.ParseMetric(expr)
			if err != nil {
				t.Fatal(err)
			}
			// The range query, evaluated once, must agree with instant
			// queries at each step.
			step := 2 * time.Minute
			rev, err := mq.NewRangeEvaluator(first, last, step)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range es {
				rev.Add(e)
			}
			matrix := rev.Result()
			firedAny := false
			for ts := first; ts <= last; ts += int64(step) {
				ev := mq.NewInstantEvaluator(ts)
				from, to := ev.Window()
				fired := map[string]bool{}
				for _, e := range es {
					ev.Add(e)
				}
				for _, s := range ev.Vector() {
					fired[s.Labels.String()] = true
					firedAny = true
					if s.V <= 0 {
						t.Errorf("at %d: %s = %g, but the rule has > 0", ts, s.Labels, s.V)
					}
					// Same value in the range result.
					found := false
					for _, rs := range matrix {
						if rs.Labels.Equal(s.Labels) {
							for _, p := range rs.Points {
								if p.T == ts && p.V == s.V {
									found = true
								}
							}
						}
					}
					if !found {
						t.Errorf("at %d: instant sample %s=%g missing from the range result", ts, s.Labels, s.V)
					}
				}
				contrib := map[string]bool{}
				for _, e := range es {
					if e.Time <= from || e.Time > to {
						continue
					}
					if ls, ok := mq.Contributes(e); ok {
						contrib[ls.String()] = true
					}
				}
				for k := range fired {
					if !contrib[k] {
						t.Errorf("at %d: series %s fires but no entry contributes", ts, k)
					}
				}
				for k := range contrib {
					if !fired[k] {
						t.Errorf("at %d: entries contribute to %s, which does not fire", ts, k)
					}
				}
			}
			if !firedAny {
				t.Errorf("rule %s never fired on generated traffic with attack stories", name)
			}
		})
	}
}

// TestSeedLogQueriesEvaluate runs the investigation queries and checks
// them against hand-written predicates over encoding/json (and that every
// match holds the RequiredLiterals).
func TestSeedLogQueriesEvaluate(t *testing.T) {
	es := genEntries(8_000, 8)
	b, err := os.ReadFile(filepath.Join(testutil.SeedDir(t), "investigation-queries.logql"))
	if err != nil {
		t.Fatal(err)
	}
	str := func(m map[string]any, path ...string) string {
		var cur any = m
		for _, p := range path {
			o, ok := cur.(map[string]any)
			if !ok {
				return ""
			}
			cur = o[p]
		}
		s, _ := cur.(string)
		return s
	}
	preds := []func(m map[string]any) bool{
		func(m map[string]any) bool { return str(m, "user", "username") == "suspicious-user" },
		func(m map[string]any) bool {
			return str(m, "objectRef", "resource") == "secrets" && str(m, "objectRef", "namespace") == "production"
		},
		func(m map[string]any) bool {
			rs, _ := m["responseStatus"].(map[string]any)
			c, ok := rs["code"].(float64)
			return ok && c >= 401 && c < 500
		},
		func(m map[string]any) bool {
			return str(m, "objectRef", "resource") == "pods" && str(m, "verb") == "delete"
		},
	}
	maps := make([]map[string]any, len(es))
	for i, e := range es {
		if err := json.Unmarshal(e.Line, &maps[i]); err != nil {
			t.Fatal(err)
		}
	}
	n := 0
	for _, block := range strings.Split(string(b), "\n\n") {
		var lines []string
		for _, l := range strings.Split(block, "\n") {
			if !strings.HasPrefix(strings.TrimSpace(l), "#") {
				lines = append(lines, l)
			}
		}
		qs := strings.TrimSpace(strings.Join(lines, "\n"))
		if qs == "" {
			continue
		}
		n++
		q, err := logql.ParseLog(qs)
		if err != nil {
			t.Fatalf("%s: %v", qs, err)
		}
		lits := q.RequiredLiterals()
		if n > len(preds) {
			t.Fatalf("more investigation queries than predicates: %s", qs)
		}
		pred := preds[n-1]
		matched := 0
		for i, e := range es {
			m := maps[i]
			got := q.Matches(e)
			if got != pred(m) {
				t.Errorf("%s: Matches = %v, predicate = %v on %.300s", qs, got, !got, e.Line)
			}
			if !got {
				continue
			}
			matched++
			for _, l := range lits {
				if !strings.Contains(string(e.Line), string(l)) {
					t.Errorf("%s: match lacks literal %s", qs, l)
				}
			}
		}
		if matched == 0 {
			t.Errorf("%s matched nothing in generated traffic", qs)
		}
		t.Logf("%d matches, literals %q: %s", matched, lits, strings.Join(strings.Fields(qs), " "))
	}
	if n != 4 {
		t.Errorf("expected 4 investigation queries, found %d", n)
	}
}
