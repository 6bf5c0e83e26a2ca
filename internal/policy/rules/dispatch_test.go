package rules

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/testutil"
)

// offers checks, for every event and every rule of set, that the
// dispatch offers the event to each rule whose pipeline accepts it (a
// gate is a necessary condition: TestDispatchOffersEveryContributor), and
// counts the (event, rule) pairs offered.
func offers(t *testing.T, set *Set, name string, evs []data.Event) (offered, pairs int) {
	t.Helper()
	e, err := newEvaluator(set, Options{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	for i := range evs {
		ev := &evs[i]
		cand := e.dispatch().candidates(ev)
		for _, f := range e.dispatch().fields {
			v, found, applies := f.value(ev)
			wv, wfound, wapplies := f.gate.Value(ev)
			if v != wv || found != wfound || applies != wapplies {
				t.Errorf("%s: event %d, label %s: the decoded event gives (%q, %v, %v), the pipeline's look-up (%q, %v, %v)",
					name, i, f.gate.Name, v, found, applies, wv, wfound, wapplies)
			}
		}
		for _, rs := range e.rules {
			in := cand[rs.idx/64]&(1<<(rs.idx%64)) != 0
			if in {
				offered++
			}
			pairs++
			if _, ok := rs.contributes(ev); ok && !in {
				t.Errorf("%s: event %d (%s %s %s by %s, line %q) feeds %s, which the dispatch does not offer it to",
					name, i, ev.Verb, ev.Resource, ev.Subresource, ev.User, truncate(ev.Raw, 200), rs.r.Alert)
			}
		}
	}
	return offered, pairs
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
		info := &data.SourceInfo{Name: "x", Labels: data.Labels{{Name: "job", Value: "audit"}, {Name: "verb", Value: "get"}, {Name: "src_ip", Value: "10.0.0.1"}}}
		for i := range evs {
			evs[i].Origin.Source = info
		}
		offers(t, set, f+" (stream labels verb and src_ip)", evs)
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
	offered, pairs := offers(t, set, "generated", evs)
	t.Logf("generated: %d events, %d of %d (event, rule) pairs offered (%.1f%%)", len(evs), offered, pairs, 100*float64(offered)/float64(pairs))
	if offered*10 > pairs {
		t.Errorf("the dispatch offers %d of %d (event, rule) pairs: more than a tenth", offered, pairs)
	}
}
