package rules

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/testutil"
)

// offers checks, for every event and every rule of set, that the
// dispatch offers the event to each rule whose pipeline accepts it (a
// gate is a necessary condition: TestDispatchOffersEveryContributor), and
// counts the (event, rule) pairs offered, and those offered where the
// pipeline ran without the filters the dispatch tested (gated), which
// must answer as the whole pipeline.
func offers(t *testing.T, set *Set, name string, evs []data.Event) (offered, pairs, gated int) {
	t.Helper()
	e, err := newEvaluator(set, Options{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	for i := range evs {
		ev := &evs[i]
		cand := e.dispatch().candidates(ev)
		for _, f := range append(e.dispatch().primary[:len(e.dispatch().primary):len(e.dispatch().primary)], e.dispatch().fields...) {
			parts := f.parts
			if parts == nil {
				parts = []fieldPart{f.fieldPart}
			}
			for _, p := range parts {
				v, found, applies := p.value(ev)
				wv, wfound, wapplies := p.gate.Value(ev)
				if v != wv || found != wfound || applies != wapplies {
					t.Errorf("%s: event %d, label %s: the decoded event gives (%q, %v, %v), the pipeline's look-up (%q, %v, %v)",
						name, i, p.gate.Name, v, found, applies, wv, wfound, wapplies)
				}
			}
		}
		for _, rs := range e.rules {
			in := cand[rs.idx/64]&(1<<(rs.idx%64)) != 0
			if in {
				offered++
			}
			pairs++
			key, ok := rs.contributes(ev, false)
			if ok && !in {
				t.Errorf("%s: event %d (%s %s %s by %s, line %q) feeds %s, which the dispatch does not offer it to",
					name, i, ev.Verb, ev.Resource, ev.Subresource, ev.User, truncate(ev.Raw, 200), rs.r.Alert)
			}
			if in && e.dispatch().proven {
				// The pipeline without the filters the dispatch tested
				// (what the evaluator runs) answers as the whole one.
				gkey, gok := rs.contributes(ev, true)
				if gkey != key || gok != ok {
					t.Errorf("%s: event %d (%s %s %s by %s, line %q): %s's pipeline without its proven gates gives (%q, %v), the whole one (%q, %v)",
						name, i, ev.Verb, ev.Resource, ev.Subresource, ev.User, truncate(ev.Raw, 200), rs.r.Alert, gkey, gok, key, ok)
				}
				if rs.gated != nil {
					gated++
				}
			}
		}
	}
	return offered, pairs, gated
}

func truncate(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "..."
	}
	return string(b)
}

// TestDispatchOffersEveryContributor runs every rule of the built-in pack
// over every event of the fixtures (each rule's firing line and benign
// twin), the real audit logs of ../shared/realdata and generated traffic
// with the attack stories: no event that feeds a rule is kept from it.
// On the generated traffic the dispatch must also spare most pipelines
// (the reason it exists).
func TestDispatchOffersEveryContributor(t *testing.T) {
	set, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	fixtures, _ := filepath.Glob(filepath.Join("testdata", "fixtures", "*.jsonl"))
	if len(fixtures) == 0 {
		t.Fatal("no fixtures")
	}
	for _, f := range fixtures {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		offers(t, set, f, decodeSelected(t, filepath.Base(f), b, nil))
	}
	// A stream label named like a field hides it from the decoded look-up.
	for _, f := range fixtures[:20] {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		evs := decodeSelected(t, filepath.Base(f), b, nil)
		info := &data.SourceInfo{Name: "x", Labels: data.Labels{{Name: "job", Value: "audit"}, {Name: "verb", Value: "get"}, {Name: "src_ips", Value: "[\"10.0.0.1\"]"}}}
		for i := range evs {
			evs[i].Origin.Source = info
		}
		offers(t, set, f+" (stream labels verb and src_ips)", evs)
	}
	t.Run("realdata", func(t *testing.T) {
		for _, f := range testutil.RealAuditFiles(t) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			offers(t, set, f, decodeSelected(t, filepath.Base(f), b, nil))
		}
	})
	evs, _ := genEvents(t, 30, 0, 1)
	offered, pairs, gated := offers(t, set, "generated", evs)
	t.Logf("generated: %d events, %d of %d (event, rule) pairs offered (%.1f%%), %d without the filters the dispatch tested", len(evs), offered, pairs, 100*float64(offered)/float64(pairs), gated)
	if offered*10 > pairs {
		t.Errorf("the dispatch offers %d of %d (event, rule) pairs: more than a tenth", offered, pairs)
	}
	// Most rules filter on labels the dispatch tests: their pipelines
	// need not test them again.
	if gated*2 < offered {
		t.Errorf("%d of the %d (event, rule) pairs offered ran the pipeline without the filters the dispatch tested: fewer than half", gated, offered)
	}
}

// TestDispatchOrGates: a rule whose pipeline has an `or` of label filters
// (ServiceAccountInteractiveRequest's `(objectRef_subresource =~
// "exec|attach|portforward" or objectRef_resource =
// "selfsubjectrulesreviews")`) is offered the events that pass either
// side, and no other: before `or` gates it ran on every service
// account's request (28% of the generated traffic).
func TestDispatchOrGates(t *testing.T) {
	set := parseSet(t, `groups:
  - name: g
    rules:
      - alert: Either
        expr: sum by (user_username) (count_over_time({job="audit"} | json | (objectRef_subresource=~"exec|attach" or objectRef_resource="selfsubjectrulesreviews") [5m])) > 0
      - alert: EitherOrVerb
        expr: sum by (user_username) (count_over_time({job="audit"} | json | objectRef_resource="pods" | (objectRef_subresource="attach" or verb="delete" or objectRef_name="") [5m])) > 0
`)
	line := func(verb, resource, sub, name string) string {
		return fmt.Sprintf(`{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"a","stage":"ResponseComplete","requestURI":"/x","verb":%q,"user":{"username":"u"},"objectRef":{"resource":%q,"subresource":%q,"name":%q},"responseStatus":{"code":200},"stageTimestamp":"2026-11-20T10:00:00Z"}`,
			verb, resource, sub, name)
	}
	for _, c := range []struct {
		line string
		want string // the rules offered the event
	}{
		{line("create", "pods", "exec", "p"), "Either"},
		{line("create", "pods", "attach", "p"), "Either EitherOrVerb"},
		{line("create", "selfsubjectrulesreviews", "", ""), "Either"},
		{line("get", "pods", "log", "p"), ""},
		{line("delete", "pods", "", "p"), "EitherOrVerb"},
		{line("list", "pods", "", ""), "EitherOrVerb"},
		{line("list", "secrets", "", ""), ""},
		{`{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"b","stage":"ResponseComplete","requestURI":"/healthz","verb":"get","user":{"username":"u"},"responseStatus":{"code":200},"stageTimestamp":"2026-11-20T10:00:00Z"}`, ""}, // no objectRef
	} {
		evs := decodeSelected(t, "or", []byte(c.line+"\n"), nil)
		if len(evs) != 1 {
			t.Fatalf("%s: %d events", c.line, len(evs))
		}
		offers(t, set, "or", evs)
		e, err := newEvaluator(set, Options{}, 0)
		if err != nil {
			t.Fatal(err)
		}
		cand := e.dispatch().candidates(&evs[0])
		var got []string
		for _, rs := range e.rules {
			if cand[rs.idx/64]&(1<<(rs.idx%64)) != 0 {
				got = append(got, rs.r.Alert)
			}
		}
		if s := strings.Join(got, " "); s != c.want {
			t.Errorf("%s: offered to %q, want %q", c.line, s, c.want)
		}
	}
}

// TestValueTable: the dispatch's cache by value finds every value kept,
// and no other, when many share their length and their first, middle and
// last bytes (user names of one namespace, user agents of one client),
// across its growth; it says when it holds its max.
func TestValueTable(t *testing.T) {
	tab := newValueTable(3000)
	var keys []string
	for i := range 3000 {
		k := fmt.Sprintf("system:serviceaccount:ns:%04d-x-controller", i)
		if i%3 == 1 {
			k = fmt.Sprintf("%d", i) // short values too
		}
		keys = append(keys, k)
		if tab.full() {
			t.Fatalf("full at %d values of 3000", i)
		}
		tab.put(k, []uint64{uint64(i)})
	}
	if !tab.full() {
		t.Error("3000 values kept, max 3000: not full")
	}
	for i, k := range keys {
		if bs := tab.get(k); len(bs) != 1 || bs[0] != uint64(i) {
			t.Errorf("get(%q) = %v, want [%d]", k, bs, i)
		}
	}
	for _, k := range []string{"", "system:serviceaccount:ns:3000-x-controller", "system:serviceaccount:ns:0000-x-controllex", "3001"} {
		if bs := tab.get(k); bs != nil {
			t.Errorf("get(%q) = %v, never put", k, bs)
		}
	}
	tab.put("", []uint64{7})
	if bs := tab.get(""); len(bs) != 1 || bs[0] != 7 {
		t.Errorf(`get("") = %v, want [7]`, bs)
	}
}

// TestDispatchSelectsByStream: a rule whose stream selector does not
// select an event's stream is never offered it, decided once per source
// (its pipeline refuses every event of the source), whether or not the
// event's line is JSON the gates apply to; the selected rules are.
func TestDispatchSelectsByStream(t *testing.T) {
	set := parseSet(t, `groups:
  - name: g
    rules:
      - alert: Audit
        expr: sum by (verb) (count_over_time({job="audit"} | json | verb="get" [5m])) > 0
      - alert: Other
        expr: sum by (verb) (count_over_time({job="other"} | json | verb="get" [5m])) > 0
      - alert: AnyJob
        expr: sum by (verb) (count_over_time({job=~".+"} |= "get" [5m])) > 0
`)
	const line = `{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"a","stage":"ResponseComplete","requestURI":"/x","verb":"get","user":{"username":"u"},"objectRef":{"resource":"pods"},"responseStatus":{"code":200},"stageTimestamp":"2026-11-20T10:00:00Z"}`
	e, err := newEvaluator(set, Options{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		job, line, want string
	}{
		{"audit", line, "Audit AnyJob"},
		{"other", line, "Other AnyJob"},
		{"audit", `{"verb":"get", not json`, "Audit AnyJob"},
		{"", line, ""},
	} {
		evs := decodeSelected(t, "sel", []byte(line+"\n"), nil)
		if len(evs) != 1 {
			t.Fatalf("%d events", len(evs))
		}
		ev := evs[0]
		ev.Line, ev.Raw = []byte(c.line), []byte(c.line)
		ev.Origin.Source = &data.SourceInfo{Name: "sel", Labels: data.Labels{{Name: "job", Value: c.job}}}
		offers(t, set, "sel "+c.job, []data.Event{ev})
		cand := e.dispatch().candidates(&ev)
		var got []string
		for _, rs := range e.rules {
			if cand[rs.idx/64]&(1<<(rs.idx%64)) != 0 {
				got = append(got, rs.r.Alert)
			}
		}
		if s := strings.Join(got, " "); s != c.want {
			t.Errorf("job %q, line %s: offered to %q, want %q", c.job, c.line, s, c.want)
		}
	}
}
