package rules

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/gen"
	"github.com/audittui/audittui/internal/testutil"
)

// dumpAlerts renders what an alert says and cites.
func dumpAlerts(as []*Alert) string {
	var b strings.Builder
	for _, a := range as {
		fmt.Fprintf(&b, "%s %s %v %v %v %v %d %v %v %v %v\n", a.Key(), a.State, a.ActiveAt, a.LastActive, a.Value, a.MaxValue,
			a.Events, a.AuditIDs, a.EventTimes, a.Labels, a.Annotations)
	}
	return b.String()
}

// TestReplayAndLiveRecycledChangeNothing: Replay and Live release each
// batch once its events are pushed; over a recycling stream whose
// released memory is overwritten at once (data.PoisonRecycled), they give
// the alerts, counts and cited events they give over a stream that does
// not recycle. Small chunks make the reader reuse memory hundreds of
// times.
func TestReplayAndLiveRecycledChangeNothing(t *testing.T) {
	set, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	var genLog bytes.Buffer
	g := gen.New(gen.Config{Seed: 11, Stories: true})
	for genLog.Len() < 8<<20 {
		genLog.Write(g.Next().Line)
	}
	inputs := map[string][]byte{"gen.log": genLog.Bytes()}
	sample, err := os.ReadFile(filepath.Join(testutil.RepoRoot(), "testdata", "sample", "audit.log"))
	if err != nil {
		t.Fatal(err)
	}
	inputs["sample"] = sample
	for _, p := range testutil.RealAuditFiles(t) {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		inputs[filepath.Base(p)] = b
	}
	run := func(name string, in []byte, recycle, live bool) string {
		info := &data.SourceInfo{Name: name, Labels: data.Labels{{Name: "job", Value: "audit"}}}
		st := data.NewReaderStream(context.Background(), bytes.NewReader(in), info, data.ReadOptions{Recycle: recycle, ChunkBytes: 16 << 10}, nil)
		defer st.Close()
		if live {
			var changes []string
			e, err := NewEvaluator(set, Options{OnChange: func(a *Alert) { changes = append(changes, dumpAlerts([]*Alert{a})) }})
			if err != nil {
				t.Fatal(err)
			}
			if err := e.Live(context.Background(), st); err != nil {
				t.Fatal(err)
			}
			// Transitions at one step come in no set order.
			sort.Strings(changes)
			return strings.Join(changes, "") + dumpAlerts(e.Snapshot())
		}
		res, err := Replay(context.Background(), st, set, Options{})
		if err != nil {
			t.Fatal(err)
		}
		return fmt.Sprintf("events %d untimed %d late %d dups %d steps %d\n", res.Events, res.Untimed, res.Late, res.Duplicates, res.Steps) + dumpAlerts(res.Alerts)
	}
	for name, in := range inputs {
		for _, live := range []bool{false, true} {
			want := run(name, in, false, live)
			restore := data.PoisonRecycled()
			got := run(name, in, true, live)
			restore()
			if got != want {
				t.Errorf("%s (live %v): recycled and not differ:\nrecycled:\n%s\nnot:\n%s", name, live, got, want)
			}
			if name == "gen.log" && !strings.Contains(want, "firing") && !strings.Contains(want, "resolved") {
				t.Errorf("%s: no alert to compare", name)
			}
		}
	}
}
