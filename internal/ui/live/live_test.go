package live

import (
	"context"
	"io"
	"path/filepath"
	"testing"
	"time"

	"github.com/audittui/audittui/internal/cli/cmdutil"
	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/data/source/file"
	"github.com/audittui/audittui/internal/policy/rules"
	"github.com/audittui/audittui/internal/testutil"
	"github.com/audittui/audittui/internal/ui"
)

func wait(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatalf("%s: no notification", what)
	}
}

// TestOpenSharesOneIndexAndOneEvaluation: Open indexes the sample once
// and evaluates the rules once; every subscriber sees the same final
// alerts, is notified without the others draining anything, and a closed
// subscription stops being notified.
func TestOpenSharesOneIndexAndOneEvaluation(t *testing.T) {
	src, err := file.New(filepath.Join(testutil.RepoRoot(), "testdata", "sample", "audit.log"), file.Options{})
	if err != nil {
		t.Fatal(err)
	}
	set, err := cmdutil.LoadRules(nil, false, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	opened := time.Now()
	lv, err := Open(context.Background(), Options{Sources: []data.Source{src}, Alerts: true, Rules: set})
	if err != nil {
		t.Fatal(err)
	}
	defer lv.Close()
	if lv.Alerts == nil {
		t.Fatal("no alert engine with the built-in rules")
	}
	a, b, gone := lv.Alerts.Subscribe(), lv.Alerts.Subscribe(), lv.Alerts.Subscribe()
	defer a.Close()
	defer b.Close()
	// Each starts with a notification (the first snapshot).
	wait(t, a.Changed(), "a's first")
	wait(t, b.Changed(), "b's first")
	gone.Close()
	n := 0
	for range gone.Changed() { // its pending first notification, then closed
		if n++; n > 1 {
			t.Fatal("a closed subscription is still notified")
		}
	}
	select {
	case <-lv.Feed.Done():
	case <-time.After(30 * time.Second):
		t.Fatal("the feed never finished")
	}
	// Finish drains the windows after the input ends: both see the final
	// state.
	as := waitDone(t, a)
	bs := waitDone(t, b)
	if len(as.Local) == 0 || len(as.Local) != len(bs.Local) {
		t.Fatalf("a sees %d alerts, b %d", len(as.Local), len(bs.Local))
	}
	for k := range as.Local {
		if as.Local[k].Key() != bs.Local[k].Key() || as.Local[k].State != bs.Local[k].State {
			t.Fatalf("alert %d differs: %+v vs %+v", k, as.Local[k], bs.Local[k])
		}
	}
	if as.Rules != len(set.Rules()) {
		t.Fatalf("Rules = %d, want %d", as.Rules, len(set.Rules()))
	}
	// The pane says how long the evaluation took, as the status says how
	// long indexing took.
	if as.EvaluatedIn <= 0 || as.EvaluatedIn > time.Since(opened) {
		t.Fatalf("EvaluatedIn %v, not within the %v since Open", as.EvaluatedIn, time.Since(opened))
	}
	s := lv.Index.Snapshot()
	if s.Len() == 0 || !s.Done {
		t.Fatalf("index: %d events, done %v", s.Len(), s.Done)
	}
	// One decode pass: the rules saw every event the index holds.
	if as.Events != int64(s.Len()) {
		t.Fatalf("the rules evaluated %d events, the index holds %d", as.Events, s.Len())
	}
}

// waitDone waits (notification by notification) for the state of a
// finished evaluation.
func waitDone(t *testing.T, s *Subscription) ui.AlertState {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		if st := s.Alerts(); st.Done {
			return st
		}
		select {
		case <-s.Changed():
		case <-deadline:
			t.Fatalf("the alerts never finished: %+v", s.Alerts())
		}
	}
}

// TestRulesLoadWhileTheFirstBatchesWait: with LoadRules and a first-screen
// gate, the batches read before the rules run are held, not lost: once
// the gate opens every event is evaluated, and the alerts are those of
// rules given up front.
func TestRulesLoadWhileTheFirstBatchesWait(t *testing.T) {
	path := filepath.Join(testutil.RepoRoot(), "testdata", "sample", "audit.log")
	set, err := cmdutil.LoadRules(nil, false, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	open := func(o Options) (*Live, *Subscription) {
		src, err := file.New(path, file.Options{})
		if err != nil {
			t.Fatal(err)
		}
		o.Sources, o.Alerts = []data.Source{src}, true
		lv, err := Open(context.Background(), o)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { lv.Close() })
		if lv.Alerts == nil {
			t.Fatal("no alert engine")
		}
		sub := lv.Alerts.Subscribe()
		t.Cleanup(sub.Close)
		return lv, sub
	}
	gate := make(chan struct{})
	loaded := make(chan struct{})
	lv, held := open(Options{FirstScreen: gate, LoadRules: func() (*rules.Set, error) {
		defer close(loaded)
		return cmdutil.LoadRules(nil, false, io.Discard)
	}})
	<-lv.Feed.Done()
	<-loaded
	close(gate)
	got := waitDone(t, held)
	_, direct := open(Options{Rules: set})
	want := waitDone(t, direct)
	if got.Events != int64(lv.Index.Snapshot().Len()) || got.Events != want.Events {
		t.Fatalf("held: %d events evaluated, index %d, up front %d", got.Events, lv.Index.Snapshot().Len(), want.Events)
	}
	if len(got.Local) == 0 || len(got.Local) != len(want.Local) {
		t.Fatalf("held: %d alerts, up front %d", len(got.Local), len(want.Local))
	}
	for k := range got.Local {
		if got.Local[k].Key() != want.Local[k].Key() || got.Local[k].State != want.Local[k].State {
			t.Fatalf("alert %d: %s %v vs %s %v", k, got.Local[k].Key(), got.Local[k].State, want.Local[k].Key(), want.Local[k].State)
		}
	}
}

// TestDoneStateHoldsTheFinalAlerts: a state that says Done carries every
// alert of the finished evaluation, however the panes' reads interleave
// with the end of the input (each read here recomputes the state while
// the windows drain; the completion flags were once read after the
// snapshot, so a drain finishing in between marked a partial list Done).
func TestDoneStateHoldsTheFinalAlerts(t *testing.T) {
	set, err := cmdutil.LoadRules(nil, false, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(testutil.RepoRoot(), "testdata", "sample", "audit.log")
	for round := 0; round < 5; round++ {
		src, err := file.New(path, file.Options{})
		if err != nil {
			t.Fatal(err)
		}
		lv, err := Open(context.Background(), Options{Sources: []data.Source{src}, Alerts: true, Rules: set})
		if err != nil {
			t.Fatal(err)
		}
		al := lv.Alerts
		var st ui.AlertState
		for {
			al.signal() // a new generation: State computes afresh
			if st = al.State(); st.Done {
				break
			}
		}
		<-al.getPar().Finished()
		if want := len(al.getPar().Snapshot()); len(st.Local) != want {
			t.Errorf("round %d: the Done state holds %d alerts, the finished evaluation %d", round, len(st.Local), want)
		}
		lv.Close()
	}
}

// TestFollowedOldFileCatchesUp: the sample, followed (as the TUI follows a
// single file by default), is history: once it is read and quiet, its
// alerts are those at the clock's time, none firing, as with
// --follow=false, instead of resolving one by one while it is looked at.
func TestFollowedOldFileCatchesUp(t *testing.T) {
	defer func(q time.Duration) { catchUpQuiet = q }(catchUpQuiet)
	catchUpQuiet = 300 * time.Millisecond
	set, err := cmdutil.LoadRules(nil, false, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(testutil.RepoRoot(), "testdata", "sample", "audit.log")
	src, err := file.New(path, file.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	lv, err := Open(ctx, Options{Sources: []data.Source{src}, Alerts: true, Rules: set, Read: data.ReadOptions{Follow: true}})
	if err != nil {
		t.Fatal(err)
	}
	defer lv.Close()
	sub := lv.Alerts.Subscribe()
	defer sub.Close()
	sawFiring := false
	deadline := time.After(time.Minute)
	for {
		st := sub.Alerts()
		firing := 0
		for _, a := range st.Local {
			if a.State == rules.StateFiring {
				firing++
			}
		}
		sawFiring = sawFiring || firing > 0
		if len(st.Local) > 0 && firing == 0 {
			break // caught up: every alert resolved, as at the clock's time
		}
		select {
		case <-sub.Changed():
		case <-deadline:
			t.Fatalf("the followed sample still has %d of %d alerts firing a minute on", firing, len(st.Local))
		}
	}
	if !sawFiring {
		t.Log("the alerts were already resolved when first seen")
	}
}

// TestWindowBeforeFirstEventAbsent: with a window that starts before the
// first event read, an absent_over_time rule is judged from the window's
// start as Loki's range query judges it (active, and firing, from From),
// and the state says where the first event read is, so that the pane can
// say that the silence before it is no evidence either way over an input
// that does not reach back that far.
func TestWindowBeforeFirstEventAbsent(t *testing.T) {
	set, err := rules.Parse("team.yaml", []byte(`groups:
  - name: team
    interval: 1m
    rules:
      - alert: NoSuchLine
        expr: absent_over_time({job="audit"} |= "no-such-line-in-the-sample" [10m])
`))
	if err != nil {
		t.Fatal(err)
	}
	src, err := file.New(filepath.Join(testutil.RepoRoot(), "testdata", "sample", "audit.log"), file.Options{})
	if err != nil {
		t.Fatal(err)
	}
	from := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	al := openAlerts(t, ctx, Options{Sources: []data.Source{src}, Read: data.ReadOptions{From: from.UnixNano()}, Rules: set})
	st := waitState(t, al, func(st ui.AlertState) bool { return st.Done })
	if !st.FirstRead.After(from) || st.FirstRead.After(from.Add(6*time.Hour)) {
		t.Errorf("FirstRead %v, want the sample's first event, after %v", st.FirstRead, from)
	}
	if len(st.Local) != 1 || !st.Local[0].ActiveAt.Equal(from) || !st.Local[0].FiredAt.Equal(from) {
		t.Errorf("want NoSuchLine active and firing from %v: %+v", from, st.Local)
	}
}
