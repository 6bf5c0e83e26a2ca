package rules

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/testutil"
)

// TestParallelEqualsOneEvaluator: the pack split over shards raises
// exactly the instances one live Evaluator raises, with unique keys, for
// any number of shards, on generated traffic with the attack stories
// written out of order by concurrent apiservers.
func TestParallelEqualsOneEvaluator(t *testing.T) {
	set, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	evs, _ := genEvents(t, 100, 3*time.Second, 3)
	want := oneEvaluatorDigest(t, set, evs)
	if strings.Count(want, "\n") < 20 {
		t.Fatalf("too few alerts to compare:\n%s", want)
	}
	for _, n := range []int{1, 2, 3, 7} {
		p, err := NewParallel(set, Options{}, n)
		if err != nil {
			t.Fatal(err)
		}
		if p.Shards() != n || p.Rules() != len(set.Rules()) {
			t.Fatalf("%d shards asked: %d shards, %d rules", n, p.Shards(), p.Rules())
		}
		// Batches of 500 events, as a reader hands them over.
		for lo := 0; lo < len(evs); lo += 500 {
			p.Push(&data.Batch{Events: evs[lo:min(lo+500, len(evs))]})
			if lo == 5000 {
				p.Advance(time.Now()) // a tick in between changes nothing
				_ = p.Snapshot()
			}
		}
		p.Finish()
		got := p.Snapshot()
		if d := alertsDigest(got); d != want {
			t.Errorf("%d shards differ from one evaluator:\n%s", n, diffLines(want, d))
		}
		keys := map[string]bool{}
		for _, a := range got {
			if keys[a.Key()] {
				t.Errorf("%d shards: key %q twice", n, a.Key())
			}
			keys[a.Key()] = true
		}
		if p.Pending() != 0 {
			t.Errorf("%d shards: %d batches pending after Finish", n, p.Pending())
		}
		ev, _, _ := p.Stats()
		if ev != int64(len(evs)) {
			t.Errorf("%d shards: %d events evaluated, want %d", n, ev, len(evs))
		}
		p.Close()
	}
}

// TestParallelAdvanceAndClose: the clock reaches every shard (a quiet
// stream fires), and Close releases a Push blocked behind a full queue.
func TestParallelAdvanceAndClose(t *testing.T) {
	set := parseSet(t, `groups:
  - name: g
    rules:
      - alert: Exec
        expr: sum by (user_username) (count_over_time({job="audit"} | json | objectRef_subresource="exec" [5m])) > 0
      - alert: Attach
        expr: sum by (user_username) (count_over_time({job="audit"} | json | objectRef_subresource="attach" [5m])) > 0
`)
	changed := make(chan string, 8)
	p, err := NewParallel(set, Options{OnChange: func(a *Alert) { changed <- a.Name + " " + a.State.String() }}, 2)
	if err != nil {
		t.Fatal(err)
	}
	evs := decodeInOrder(t, "quiet", []byte(auditLine("x-1", "ResponseStarted", "mallory", "exec", t10.Add(5*time.Second))+"\n"+
		auditLine("x-2", "ResponseStarted", "mallory", "attach", t10.Add(6*time.Second))))
	p.Push(&data.Batch{Events: evs})
	wall := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	deadline := time.Now().Add(10 * time.Second)
	got := map[string]bool{}
	for step := time.Duration(0); len(got) < 2 && time.Now().Before(deadline); step += 5 * time.Second {
		p.Advance(wall.Add(step))
		select {
		case c := <-changed:
			got[c] = true
		case <-time.After(20 * time.Millisecond):
		}
	}
	if !got["Exec firing"] || !got["Attach firing"] {
		t.Fatalf("a quiet stream did not fire in both shards: %v", got)
	}
	p.Close()
	p.Push(&data.Batch{Events: evs}) // after Close: returns at once
	p.Finish()
	if n := len(p.Snapshot()); n != 2 {
		t.Errorf("snapshot after Close: %d alerts", n)
	}
}

// TestDuplicateFilterForgetsByRuleHorizon: the duplicate filter keeps a
// rule's lines only as long as the rule's own windows can see them: a
// 5-minute rule's entries go after minutes even when a 24-hour rule
// shares the evaluator (whose entries stay), and duplicates within the
// windows still count once.
func TestDuplicateFilterForgetsByRuleHorizon(t *testing.T) {
	set := parseSet(t, `groups:
  - name: short
    rules:
      - alert: Exec
        expr: sum by (user_username) (count_over_time({job="audit"} | json | objectRef_subresource="exec" [5m])) > 0
  - name: long
    interval: 30m
    rules:
      - alert: ExecDaily
        expr: sum by (user_username) (count_over_time({job="audit"} | json | objectRef_subresource="exec" [1d])) > 100
`)
	ev, err := NewEvaluator(set, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for i := range 120 { // one exec a minute for two hours
		b.WriteString(auditLine(fmt.Sprintf("x-%d", i), "ResponseComplete", "mallory", "exec", t10.Add(time.Duration(i)*time.Minute)) + "\n")
	}
	evs := decodeInOrder(t, "execs", []byte(b.String()))
	for i := range evs {
		ev.Push(&evs[i])
		ev.Push(&evs[i]) // an at-least-once duplicate
	}
	entries := map[int64]int{}
	for _, bk := range ev.dedup.buckets {
		for h, set := range bk.sets {
			entries[h] += len(set)
		}
	}
	short, long := entries[int64(5*time.Minute)], entries[int64(24*time.Hour)]
	if long != 120 || short > 10 {
		t.Errorf("entries kept: %d of the 5-minute rule (want the last few minutes'), %d of the daily rule (want 120)", short, long)
	}
	if ev.Duplicates() != 120 {
		t.Errorf("%d duplicates reported, want 120", ev.Duplicates())
	}
	var n int
	for _, a := range ev.Finish() {
		if a.Name == "Exec" {
			n += a.Events
		}
	}
	if n != 120 {
		t.Errorf("the 5-minute rule counted %d events, want 120", n)
	}
}

// TestSharedPipelineAnswersAsAlone: rules with the same pipeline but
// other groupings, ranges and thresholds (as the SecretRead and Forbidden
// families have) run it once per event; each still fires exactly as it
// does alone, with its own labels, in one evaluator and in shards (which
// keep such a family together).
func TestSharedPipelineAnswersAsAlone(t *testing.T) {
	set := parseSet(t, `groups:
  - name: g
    interval: 1m
    rules:
      - alert: ByUser
        expr: sum by (user_username) (count_over_time({job="audit"} | json | verb=~"get|list" | objectRef_resource="secrets" [5m])) > 0
      - alert: ByVerbResource
        expr: sum by (verb, objectRef_namespace) (count_over_time({job="audit"} | json | verb=~"get|list" | objectRef_resource="secrets" [1h])) > 2
      - alert: Ungrouped
        expr: count_over_time({job="audit"} | json | verb=~"get|list" | objectRef_resource="secrets" [10m]) > 0
      - alert: Other
        expr: sum by (user_username) (count_over_time({job="audit"} | json | verb=~"get|list" | objectRef_resource="configmaps" [5m])) > 0
`)
	e, err := NewEvaluator(set, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var pipes []int
	for _, rs := range e.rules {
		pipes = append(pipes, rs.pipe)
	}
	if fmt.Sprint(pipes) != "[0 0 0 -1]" {
		t.Fatalf("pipelines shared %v, want [0 0 0 -1]", pipes)
	}
	evs, _ := genEvents(t, 100, 3*time.Second, 3)
	var want strings.Builder
	for _, r := range set.Rules() {
		alone, err := NewEvaluator(singleRuleSet(r), Options{})
		if err != nil {
			t.Fatal(err)
		}
		for i := range evs {
			alone.Push(&evs[i])
		}
		as := alone.Finish()
		if len(as) == 0 {
			t.Fatalf("%s alone fires nothing: nothing to compare", r.Alert)
		}
		want.WriteString(alertsDigest(as))
	}
	for i := range evs {
		e.Push(&evs[i])
	}
	digest := func(as []*Alert) string {
		byRule := map[string][]*Alert{}
		for _, a := range as {
			byRule[a.Name] = append(byRule[a.Name], a)
		}
		var sb strings.Builder
		for _, r := range set.Rules() {
			sb.WriteString(alertsDigest(byRule[r.Alert]))
		}
		return sb.String()
	}
	if got := digest(e.Finish()); got != want.String() {
		t.Errorf("one evaluator differs from each rule alone:\n%s", diffLines(want.String(), got))
	}
	p, err := NewParallel(set, Options{}, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	for _, sh := range p.shards {
		if n := len(sh.ev.rules); n != 3 && n != 1 {
			t.Errorf("a shard has %d rules: the family of three is split", n)
		}
	}
	for lo := 0; lo < len(evs); lo += 500 {
		p.Push(&data.Batch{Events: evs[lo:min(lo+500, len(evs))]})
	}
	p.Finish()
	if got := digest(p.Snapshot()); got != want.String() {
		t.Errorf("two shards differ from each rule alone:\n%s", diffLines(want.String(), got))
	}
}

// TestParallelWithFromEqualsOneEvaluator: with a window start (From), the
// shards read as far back as the whole set looks, not as their own rules
// do: an instance active since before From has the first activity and
// events one Evaluator gives it, however the rules are split (a shard
// without the day-long rules once left out the events its steps before
// From count), and every shard counts the same events.
func TestParallelWithFromEqualsOneEvaluator(t *testing.T) {
	set, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	evs, _ := genEvents(t, 100, 3*time.Second, 3)
	lo, hi := evs[0].Time, evs[0].Time
	for i := range evs {
		lo, hi = min(lo, evs[i].Time), max(hi, evs[i].Time)
	}
	for _, from := range []int64{lo + (hi-lo)/2, lo + (hi-lo)*2/3} {
		opts := Options{From: from}
		one, err := NewEvaluator(set, opts)
		if err != nil {
			t.Fatal(err)
		}
		for i := range evs {
			one.Push(&evs[i])
		}
		one.Finish()
		want := alertsDigest(one.Snapshot())
		wantEv, _, _ := one.Stats()
		before := 0
		for _, a := range one.Snapshot() {
			if a.ActiveAt.UnixNano() < from {
				before++
			}
		}
		if before == 0 {
			t.Fatalf("no instance active since before From %d: nothing to compare", from)
		}
		for _, n := range []int{2, 3, 7} {
			p, err := NewParallel(set, opts, n)
			if err != nil {
				t.Fatal(err)
			}
			for k := 0; k < len(evs); k += 500 {
				p.Push(&data.Batch{Events: evs[k:min(k+500, len(evs))]})
			}
			p.Finish()
			if d := alertsDigest(p.Snapshot()); d != want {
				t.Errorf("From %d, %d shards differ from one evaluator:\n%s", from, n, diffLines(want, d))
			}
			p.mu.RLock()
			for k, sh := range p.shards {
				if ev, _, _ := sh.ev.Stats(); ev != wantEv {
					t.Errorf("From %d, %d shards: shard %d evaluated %d events, one evaluator %d", from, n, k, ev, wantEv)
				}
			}
			p.mu.RUnlock()
			p.Close()
		}
	}
}

// TestPreparedPushEqualsPush: batches whose dispatch was worked out by
// Prepare on other goroutines, a few events at a time as a reader decodes
// them (data.ReadOptions.Prepare), give each event the candidates the
// Parallel's own dispatch gives it, and the same alerts as one evaluator.
// Answers prepared for another Parallel, or for events the batch no
// longer holds, are not used.
func TestPreparedPushEqualsPush(t *testing.T) {
	set, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	evs, _ := genEvents(t, 100, 3*time.Second, 3)
	// Some events of a stream with a label named as a json expression's
	// (src_ips, as Loki's streams may have): the gates on it do not
	// apply, the candidates are not proven.
	labeled := &data.SourceInfo{Name: "x", Labels: data.Labels{{Name: "job", Value: "audit"}, {Name: "src_ips", Value: `["10.0.0.1"]`}}}
	for i := range evs[:300] {
		ev := evs[i].Clone()
		ev.Origin.Source = labeled
		evs = append(evs, ev)
	}
	for _, f := range testutil.RealAuditFiles(t) {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		evs = append(evs, decodeInOrder(t, filepath.Base(f), b)...)
	}
	want := oneEvaluatorDigest(t, set, evs)
	p, err := NewParallel(set, Options{}, 3)
	if err != nil {
		t.Fatal(err)
	}
	// Another rule set's Parallel: what it prepares must not be used.
	other, err := NewParallel(parseSet(t, `groups:
  - name: g
    rules:
      - alert: Nothing
        expr: sum by (user_username) (count_over_time({job="audit"} | json | verb="nothing" [5m])) > 0
`), Options{}, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	var batches []*data.Batch
	for lo := 0; lo < len(evs); lo += 500 {
		// A copy per batch: the events of a stale batch are moved.
		batches = append(batches, &data.Batch{Events: append([]data.Event(nil), evs[lo:min(lo+500, len(evs))]...)})
	}
	// Prepared on four goroutines at once, each batch as it grows by 37
	// events; every fifth by the other Parallel, every seventh then moved.
	var wg sync.WaitGroup
	next := make(chan int)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range next {
				b := batches[k]
				all := b.Events
				by := p
				if k%5 == 1 {
					by = other
				}
				for n := min(37, len(all)); ; n = min(n+37, len(all)) {
					b.Events = all[:n]
					by.Prepare(b)
					if n == len(all) {
						break
					}
				}
				if k%7 == 3 {
					b.Events = append([]data.Event(nil), all...)
				}
			}
		}()
	}
	for k := range batches {
		next <- k
	}
	close(next)
	wg.Wait()
	used, unproven := 0, 0
	for k, b := range batches {
		pr := p.prep.preparedFor(b)
		if stale := k%5 == 1 || k%7 == 3; stale {
			if pr != nil {
				t.Errorf("batch %d: answers prepared for another Parallel or other events are used", k)
			}
			continue
		}
		if pr == nil {
			t.Fatalf("batch %d: prepared by p, not used by p", k)
		}
		used++
		words := p.disp.words
		for i := range b.Events {
			wantCand := p.disp.candidates(&b.Events[i])
			if !p.disp.proven {
				unproven++
			}
			if got := pr.cand[i*words : (i+1)*words]; !slices.Equal(got, wantCand) || pr.proven[i] != p.disp.proven {
				t.Fatalf("batch %d event %d: prepared candidates %x proven %v, the dispatch's %x %v", k, i, got, pr.proven[i], wantCand, p.disp.proven)
			}
		}
	}
	if used == 0 || unproven == 0 {
		t.Fatalf("%d batches prepared, %d events not proven: the test compares nothing", used, unproven)
	}
	for _, b := range batches {
		p.Push(b)
	}
	p.Finish()
	if d := alertsDigest(p.Snapshot()); d != want {
		t.Errorf("prepared batches give other alerts than one evaluator:\n%s", diffLines(want, d))
	}
}

// oneEvaluatorDigest is the digest of the alerts one Evaluator raises
// over evs, pushed in their order.
func oneEvaluatorDigest(t *testing.T, set *Set, evs []data.Event) string {
	t.Helper()
	one, err := NewEvaluator(set, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range evs {
		one.Push(&evs[i])
	}
	return alertsDigest(one.Finish())
}
