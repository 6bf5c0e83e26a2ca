package rules

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
	"weak"

	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/gen"
	"github.com/audittui/audittui/internal/testutil"
)

// decodeInOrder decodes every line in file order (decodeLines sorts by
// time).
func decodeInOrder(t testing.TB, name string, content []byte) []data.Event {
	t.Helper()
	return decodeSelected(t, name, content, nil)
}

func sortedByTime(evs []data.Event) []data.Event {
	out := slices.Clone(evs)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Time < out[j].Time })
	return out
}

func shuffled(evs []data.Event, seed uint64) []data.Event {
	out := slices.Clone(evs)
	rng := rand.New(rand.NewPCG(seed, 7))
	rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

// replayWith replays evs (batches of 7) with opts.
func replayWith(t testing.TB, set *Set, evs []data.Event, opts Options) *Result {
	t.Helper()
	res, err := Replay(context.Background(), &sliceStream{evs: evs, n: 7}, set, opts)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// checkCited: every instance cites the events behind its value.
func checkCited(t *testing.T, what string, as []*Alert) {
	t.Helper()
	for _, a := range as {
		if a.Events == 0 || len(a.AuditIDs) == 0 || len(a.AuditIDs) != min(a.Events, MaxSampleIDs) || len(a.EventTimes) != len(a.AuditIDs) {
			t.Errorf("%s: %s %s: value %v, events %d, auditIDs %v", what, a.Name, LabelsString(a.Labels), a.Value, a.Events, a.AuditIDs)
		}
		if !slices.IsSortedFunc(a.EventTimes, func(x, y time.Time) int { return x.Compare(y) }) {
			t.Errorf("%s: %s cites events out of time order: %v", what, a.Name, a.EventTimes)
		}
	}
}

// TestFalcoTracesAnyOrder: Falco's real audit traces are several captures
// concatenated (2018 and 2020, not in time order). As given, sorted,
// reversed and shuffled they raise the same alerts, each citing its
// events.
func TestFalcoTracesAnyOrder(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(testutil.RealData(t), "audit", falcoFile))
	if err != nil {
		t.Fatal(err)
	}
	set, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	given := decodeInOrder(t, falcoFile, b)
	if slices.IsSortedFunc(given, func(x, y data.Event) int { return int(x.Time - y.Time) }) {
		t.Fatal("the Falco traces are expected out of time order")
	}
	sorted := replayWith(t, set, sortedByTime(given), Options{})
	want := alertsDigest(sorted.Alerts)
	checkCited(t, "sorted", sorted.Alerts)
	// The captures hold alerts of these rules (among others); a
	// replay that loses out-of-order events loses them.
	for _, name := range []string{"PrivilegedPodCreated", "SensitiveHostPathMounted", "PodExecDetected", "ClusterAdminBindingCreated"} {
		if !slices.ContainsFunc(sorted.Alerts, func(a *Alert) bool { return a.Name == name }) {
			t.Errorf("no %s alert on the sorted traces", name)
		}
	}
	reversed := slices.Clone(given)
	slices.Reverse(reversed)
	orders := map[string][]data.Event{"as given": given, "reversed": reversed}
	for seed := range uint64(5) {
		orders[fmt.Sprintf("shuffled %d", seed)] = shuffled(given, seed)
	}
	for name, evs := range orders {
		res := replayWith(t, set, evs, Options{})
		if got := alertsDigest(res.Alerts); got != want {
			t.Errorf("%s: alerts differ from the sorted input:\n%s\n--- sorted:\n%s", name, got, want)
		}
		if res.Late != 0 {
			t.Errorf("%s: %d late events in a replay", name, res.Late)
		}
	}
	t.Logf("%d alerts in every order", len(sorted.Alerts))
}

// genned caches genEvents' results (tests only read them).
type genned struct {
	evs  []data.Event
	node []int
}

var genCache = map[string]genned{}

// genEvents generates n minutes of audit events with the stories, with
// events up to disorder out of time order (as concurrent apiserver
// writers leave them), from nodes apiservers.
func genEvents(t testing.TB, minutes int, disorder time.Duration, nodes int) (evs []data.Event, node []int) {
	t.Helper()
	k := fmt.Sprint(minutes, disorder, nodes)
	if c, ok := genCache[k]; ok {
		return c.evs, c.node
	}
	defer func() { genCache[k] = genned{evs, node} }()
	g := gen.New(gen.Config{Seed: 3, Stories: true, Rate: 3, Nodes: nodes, Disorder: disorder})
	end := gen.DefaultStart.Add(time.Duration(minutes) * time.Minute).UnixNano()
	var buf bytes.Buffer
	for {
		r := g.Next()
		if r.Time > end {
			break
		}
		buf.Write(r.Line)
		node = append(node, r.Node)
	}
	evs = decodeInOrder(t, "gen.log", buf.Bytes())
	if len(evs) != len(node) {
		t.Fatalf("%d lines decoded into %d events", len(node), len(evs))
	}
	return evs, node
}

// TestGeneratedAnyOrder: generated traffic with the attack stories,
// written out of time order by up to 3 s, then concatenated per node
// (cat node1 node2 node3), shuffled, or sorted: the same alerts.
func TestGeneratedAnyOrder(t *testing.T) {
	set, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	jittered, node := genEvents(t, 100, 3*time.Second, 3)
	if slices.IsSortedFunc(jittered, func(x, y data.Event) int { return int(x.Time - y.Time) }) {
		t.Fatal("the generated input should be out of order")
	}
	sorted := replayWith(t, set, sortedByTime(jittered), Options{})
	want := alertsDigest(sorted.Alerts)
	checkCited(t, "sorted", sorted.Alerts)
	if len(sorted.Alerts) < 20 {
		t.Fatalf("only %d alerts on 100 minutes of traffic with stories", len(sorted.Alerts))
	}
	var concat []data.Event
	for n := range 3 {
		for i := range jittered {
			if node[i] == n {
				concat = append(concat, jittered[i])
			}
		}
	}
	orders := map[string][]data.Event{"jittered": jittered, "concatenated per node": concat,
		"shuffled": shuffled(jittered, 1)}
	for name, evs := range orders {
		res := replayWith(t, set, evs, Options{})
		if got := alertsDigest(res.Alerts); got != want {
			t.Errorf("%s: alerts differ from the sorted input:\n%s", name, diffLines(want, got))
		}
	}
	// Live evaluation (steps run DefaultReorder behind the newest event)
	// absorbs the writers' disorder exactly.
	ev, err := NewEvaluator(set, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range jittered {
		ev.Push(&jittered[i])
	}
	live := ev.Finish()
	if got := alertsDigest(live); got != want {
		t.Errorf("live over the jittered input differs from replay:\n%s", diffLines(want, got))
	}
	if ev.Late() != 0 {
		t.Errorf("live: %d late events with 3 s of disorder", ev.Late())
	}
	// A tight memory budget makes replay evaluate as it goes, a minute
	// behind the newest event: still exact on near-sorted input.
	tight := replayWith(t, set, jittered, Options{MaxRetained: 32 << 10})
	if got := alertsDigest(tight.Alerts); got != want || tight.Late != 0 {
		t.Errorf("replay with a 32 KiB budget (%d late) differs:\n%s", tight.Late, diffLines(want, got))
	}
}

// diffLines shows the lines only in a ("-") or only in b ("+").
func diffLines(a, b string) string {
	as, bs := strings.Split(a, "\n"), strings.Split(b, "\n")
	var out []string
	for _, l := range as {
		if !slices.Contains(bs, l) {
			out = append(out, "- "+l)
		}
	}
	for _, l := range bs {
		if !slices.Contains(as, l) {
			out = append(out, "+ "+l)
		}
	}
	return strings.Join(out, "\n")
}

// TestDuplicateLinesCountOnce: lines sent twice (an at-least-once shipper
// after a crash), next to the original or much later, change nothing.
func TestDuplicateLinesCountOnce(t *testing.T) {
	set, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	evs, _ := genEvents(t, 100, 3*time.Second, 1)
	base := replayWith(t, set, evs, Options{})
	want := alertsDigest(base.Alerts)
	if base.Duplicates != 0 {
		t.Fatalf("%d duplicates in generated input", base.Duplicates)
	}
	rng := rand.New(rand.NewPCG(9, 9))
	// Re-send a run of 500 lines right after (a crash before the
	// checkpoint), and every tenth line again at the end.
	cut := len(evs) / 2
	dup := slices.Concat(evs[:cut], evs[cut-500:cut], evs[cut:])
	for i := 0; i < len(evs); i += 10 {
		dup = append(dup, evs[i])
	}
	for name, in := range map[string][]data.Event{"re-sent": dup, "re-sent, shuffled": shuffled(dup, rng.Uint64())} {
		res := replayWith(t, set, in, Options{})
		if got := alertsDigest(res.Alerts); got != want {
			t.Errorf("%s: alerts differ:\n%s", name, diffLines(want, got))
		}
		if res.Duplicates == 0 {
			t.Errorf("%s: no duplicate reported", name)
		}
	}
	// Live (bounded memory) drops the duplicates that come within the
	// windows still open: here, the re-sent run.
	ev, err := NewEvaluator(set, Options{})
	if err != nil {
		t.Fatal(err)
	}
	resent := slices.Concat(evs[:cut], evs[cut-500:cut], evs[cut:])
	for i := range resent {
		ev.Push(&resent[i])
	}
	if got := alertsDigest(ev.Finish()); got != want {
		t.Errorf("live with a re-sent run: alerts differ:\n%s", diffLines(want, got))
	}
	// The real traces: sending every line twice changes nothing. (Lines
	// 24 and 51 repeat the auditID and time of lines 21 and 1 but differ
	// in their bytes, a user or a securityContext: they are not
	// duplicates, and count.)
	t.Run("realdata", func(t *testing.T) {
		b, err := os.ReadFile(filepath.Join(testutil.RealData(t), "audit", falcoFile))
		if err != nil {
			t.Fatal(err)
		}
		falco := decodeInOrder(t, falcoFile, b)
		once := replayWith(t, set, falco, Options{})
		twice := replayWith(t, set, slices.Concat(falco, falco), Options{})
		if a, b := alertsDigest(once.Alerts), alertsDigest(twice.Alerts); a != b {
			t.Errorf("Falco traces twice:\n%s", diffLines(a, b))
		}
		if once.Duplicates != 0 || twice.Duplicates == 0 {
			t.Errorf("Falco traces: %d duplicates once, %d twice", once.Duplicates, twice.Duplicates)
		}
	})
}

// TestDeduplicatedCountsRepeatsOnce: with Options.Deduplicated (the
// TUI, whose index marks every copy), an event marked Repeat counts as a
// duplicate and nothing else, an unmarked one counts even when its line
// was seen before (the reader decided it is no copy), and without the
// option the mark is ignored and the evaluator's own filter decides.
func TestDeduplicatedCountsRepeatsOnce(t *testing.T) {
	set, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	evs, _ := genEvents(t, 100, 3*time.Second, 1)
	base := replayWith(t, set, evs, Options{})
	want := alertsDigest(base.Alerts)
	// Every tenth event again, marked as the index marks it, and a marked
	// copy of an undated event.
	in := slices.Clone(evs)
	for i := 0; i < len(evs); i += 10 {
		c := evs[i]
		c.Repeat = true
		in = append(in, c)
	}
	undated := evs[0]
	undated.Time, undated.Repeat = 0, true
	in = append(in, undated)
	res := replayWith(t, set, in, Options{Deduplicated: true})
	if got := alertsDigest(res.Alerts); got != want {
		t.Errorf("marked copies: alerts differ:\n%s", diffLines(want, got))
	}
	if want := int64((len(evs)+9)/10 + 1); res.Duplicates != want {
		t.Errorf("marked copies: %d duplicates, want %d", res.Duplicates, want)
	}
	// A copy is no event read, dated or not ("rules over N events").
	if res.Events != base.Events || res.Untimed != base.Untimed {
		t.Errorf("marked copies: %d events, %d undated; without them %d and %d", res.Events, res.Untimed, base.Events, base.Untimed)
	}
	in = in[:len(in)-1]
	// Without the option the same input counts the same (its own filter).
	if got := alertsDigest(replayWith(t, set, in, Options{}).Alerts); got != want {
		t.Errorf("marks ignored: alerts differ:\n%s", diffLines(want, got))
	}
	// The copies unmarked, with the option: they count again (the
	// evaluator trusts the reader), so some alert counts more events.
	for i := len(evs); i < len(in); i++ {
		in[i].Repeat = false
	}
	if got := alertsDigest(replayWith(t, set, in, Options{Deduplicated: true}).Alerts); got == want {
		t.Errorf("unmarked copies with Deduplicated counted once: the evaluator kept a filter of its own")
	}
}

// TestBatchNotKeptByLastContribution: once a batch is evaluated, no rule
// keeps its memory alive: a rule's last contribution (the event, its
// label values) points into the batch, whose read buffer its stream
// reads into again or leaves to the collector. Each rule kept the batch
// of its last match: 12 MB of read buffers after a 1 GB read.
func TestBatchNotKeptByLastContribution(t *testing.T) {
	set, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	ev, err := NewEvaluator(set, Options{})
	if err != nil {
		t.Fatal(err)
	}
	gen, _ := genEvents(t, 20, 3*time.Second, 1)
	alive := func() weak.Pointer[byte] {
		// The batch: its events' lines in one read buffer, as a reader
		// decodes them.
		n := 0
		for i := range gen {
			n += len(gen[i].Line)
		}
		buf := make([]byte, 0, n)
		evs := slices.Clone(gen)
		for i := range evs {
			off := len(buf)
			buf = append(buf, evs[i].Line...)
			evs[i].Line, evs[i].Raw = buf[off:len(buf):len(buf)], buf[off:len(buf):len(buf)]
		}
		ev.pushBatch(evs, nil, 0, nil)
		return weak.Make(&buf[:1][0])
	}()
	runtime.GC()
	runtime.GC()
	if alive.Value() != nil {
		t.Fatal("the evaluator keeps the read buffer of a batch it is done with")
	}
	if events, _, _ := ev.Stats(); events == 0 {
		t.Fatal("no event was evaluated")
	}
}
