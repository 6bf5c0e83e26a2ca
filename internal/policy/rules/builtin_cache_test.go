package rules

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// setDigest renders everything a caller can read or change of a set: the
// groups, every rule's fields and maps, the warnings and the lists.
func setDigest(s *Set) string {
	var b strings.Builder
	fmt.Fprintf(&b, "warnings %q\n", s.Warnings)
	for _, g := range s.Groups {
		fmt.Fprintf(&b, "group %s %v %d %s:%d rules=%d\n", g.Name, g.Interval, g.Limit, g.File, g.Line, len(g.Rules))
		for _, r := range g.Rules {
			fmt.Fprintf(&b, "  %s %s group=%s for=%v count=%v expr=%q source=%q query=%s\n",
				r.Alert, r.Where(), r.Group.Name, r.For, r.CountRequests, r.Expr, r.Source, r.Query())
			for _, m := range []map[string]string{r.Labels, r.Annotations} {
				keys := make([]string, 0, len(m))
				for k := range m {
					keys = append(keys, k)
				}
				sort.Strings(keys)
				for _, k := range keys {
					fmt.Fprintf(&b, "    %s=%q\n", k, m[k])
				}
			}
		}
	}
	ls := s.Lists()
	for _, name := range ls.Names() {
		l := ls.Get(name)
		fmt.Fprintf(&b, "list %s %v %v\n", name, l.Items, l.Exceptions)
	}
	return b.String()
}

// TestBuiltinParsedOnceCopiesIndependent: Builtin and BuiltinFor parse
// the pack once per job (the second call's rules share the first's
// parsed queries), and what one caller does to its set (Override with a
// group of the pack's name and with a lists: file, which re-expands the
// rules' expressions in place; editing a group, a rule, their maps, the
// warnings) changes neither another caller's set nor what the next call
// returns, which stays what parsing builtin.yaml gives.
func TestBuiltinParsedOnceCopiesIndependent(t *testing.T) {
	fresh, err := Parse(builtinName, builtinYAML)
	if err != nil {
		t.Fatal(err)
	}
	want := setDigest(fresh)
	a, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	b, err := BuiltinFor("audit")
	if err != nil {
		t.Fatal(err)
	}
	if got := setDigest(a); got != want {
		t.Fatalf("Builtin differs from parsing builtin.yaml:\n%s", diffLines(want, got))
	}
	ar, br := a.Rules(), b.Rules()
	if len(ar) < 10 || len(ar) != len(br) {
		t.Fatalf("%d and %d rules", len(ar), len(br))
	}
	for i := range ar {
		if ar[i] == br[i] || ar[i].Group == br[i].Group {
			t.Fatalf("%s: two callers share the rule or its group", ar[i].Alert)
		}
		if ar[i].Query() != br[i].Query() {
			t.Fatalf("%s: parsed twice (the second call has its own query)", ar[i].Alert)
		}
	}

	site, err := Parse("site.yaml", []byte(`lists:
  cluster_cidrs:
    append: [203.0.113.0/24]
  human_user_agents:
    items: ['^zzz']
`))
	if err != nil {
		t.Fatal(err)
	}
	a.Override(site)
	g0 := a.Groups[0]
	mine, err := Parse("mine.yaml", []byte(`groups:
  - name: `+g0.Name+`
    rules:
      - alert: Mine
        expr: sum(count_over_time({job="audit"} [5m])) > 0
`))
	if err != nil {
		t.Fatal(err)
	}
	if replaced := a.Override(mine); len(replaced) != 1 {
		t.Fatalf("replaced %v", replaced)
	}
	g1 := a.Groups[1]
	g1.Interval, g1.Limit, g1.Name = 7*time.Hour, 3, "renamed"
	g1.Rules[0].Labels["severity"] = "changed"
	g1.Rules[0].Annotations["summary"] = "changed"
	g1.Rules[0].For, g1.Rules[0].CountRequests = time.Hour, !g1.Rules[0].CountRequests
	g1.Rules = append(g1.Rules[:1], g1.Rules[2:]...)
	a.Warnings = append(a.Warnings, "mine")
	if setDigest(a) == want {
		t.Fatal("the edits changed nothing: the test checks nothing")
	}

	for name, s := range map[string]*Set{"the other caller's set": b, "the next call": must(t, Builtin)} {
		if got := setDigest(s); got != want {
			t.Errorf("%s changed with the first's edits:\n%s", name, diffLines(want, got))
		}
	}
	kube := must(t, func() (*Set, error) { return BuiltinFor("kube-audit") })
	if kube.Rules()[0].Query() == br[0].Query() || !strings.Contains(kube.Rules()[0].Expr, `job="kube-audit"`) {
		t.Errorf("BuiltinFor(kube-audit) shares the default job's parse: %s", kube.Rules()[0].Expr)
	}
}

func must(t *testing.T, f func() (*Set, error)) *Set {
	t.Helper()
	s, err := f()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestBuiltinCopiesEvaluateConcurrently: two callers' copies share the
// parsed queries; replaying both at once (under -race) raises in each
// what one replay alone raises.
func TestBuiltinCopiesEvaluateConcurrently(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "scenarios", "stolen-token-outside.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	evs := decodeLines(t, "stolen-token-outside.jsonl", b, nil)
	want := alertsDigest(replayEvents(t, must(t, Builtin), evs).Alerts)
	if want == "" {
		t.Fatal("no alerts to compare")
	}
	var wg sync.WaitGroup
	got := make([]string, 3)
	errs := make([]error, 3)
	for i := range got {
		set := must(t, Builtin)
		wg.Go(func() {
			res, err := Replay(context.Background(), &sliceStream{evs: evs, n: 7}, set, Options{})
			if err != nil {
				errs[i] = err
				return
			}
			got[i] = alertsDigest(res.Alerts)
		})
	}
	wg.Wait()
	for i := range got {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if got[i] != want {
			t.Errorf("replay %d beside the others:\n%s", i, diffLines(want, got[i]))
		}
	}
}
