package rules

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/testutil"
)

// firedNames returns the names of the rules that fired in as.
func firedNames(as []*Alert) []string {
	var names []string
	for _, a := range as {
		if !slices.Contains(names, a.Name) {
			names = append(names, a.Name)
		}
	}
	slices.Sort(names)
	return names
}

// TestBacklogCountsHistoryInAnyOrder (review L 1): Falco's real traces,
// as the file holds them (captures concatenated, hours and years out of
// time order), evaluated live as a followed file is: with Backlog, what
// the file held counts as a replay counts it, and once the input says it
// has caught up (EndBacklog; a batch marked CaughtUp for Parallel and
// Live) the alerts of that history have fired, before any Finish.
// Without Backlog the live evaluator counts only events within Reorder
// of the newest read so far: most of the traces' alerts never fire.
func TestBacklogCountsHistoryInAnyOrder(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(testutil.RealData(t), "audit", falcoFile))
	if err != nil {
		t.Fatal(err)
	}
	set, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	given := decodeInOrder(t, falcoFile, b)
	replay := replayWith(t, set, given, Options{})
	want := alertsDigest(replay.Alerts)
	names := firedNames(replay.Alerts)

	plain, err := NewEvaluator(set, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range given {
		plain.Push(&given[i])
	}
	if got := alertsDigest(plain.Finish()); got == want || plain.Late() == 0 {
		t.Fatalf("the live evaluator without Backlog counts the traces as a replay does (%d late): the input no longer tests Backlog", plain.Late())
	}

	ev, err := NewEvaluator(set, Options{Backlog: true})
	if err != nil {
		t.Fatal(err)
	}
	for i := range given {
		ev.Push(&given[i])
	}
	if n := len(ev.Snapshot()); n != 0 {
		t.Errorf("%d alerts fired while the history was still being read", n)
	}
	ev.EndBacklog()
	if got := firedNames(ev.Snapshot()); !slices.Equal(got, names) {
		t.Errorf("caught up: fired %v, replay %v", got, names)
	}
	if got := alertsDigest(ev.Finish()); got != want || ev.Late() != 0 {
		t.Errorf("backlog then live (%d late) differs from replay:\n%s", ev.Late(), diffLines(want, got))
	}

	// Parallel, as the TUI's feed pushes batches: the last one says the
	// followed file has been read to its end.
	p, err := NewParallel(set, Options{Backlog: true}, 3)
	if err != nil {
		t.Fatal(err)
	}
	for lo := 0; lo < len(given); lo += 7 {
		p.Push(&data.Batch{Events: given[lo:min(lo+7, len(given))], CaughtUp: lo+7 >= len(given)})
	}
	for p.Pending() > 0 {
		// The shards evaluate the batches pushed (Push blocks only on
		// the hand-over); EndBacklog is the last item.
		time.Sleep(time.Millisecond)
	}
	if got := firedNames(p.Snapshot()); !slices.Equal(got, names) {
		t.Errorf("parallel, caught up: fired %v, replay %v", got, names)
	}
	p.Finish()
	if got := alertsDigest(p.Snapshot()); got != want {
		t.Errorf("parallel backlog differs from replay:\n%s", diffLines(want, got))
	}
}
