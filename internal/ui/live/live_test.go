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
	"github.com/audittui/audittui/internal/testutil"
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
	lv, err := Open(context.Background(), Options{Sources: []data.Source{src}, Rules: set})
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
	// Finish runs after the alert stream ends: wait until both see the
	// final state.
	deadline := time.Now().Add(30 * time.Second)
	for {
		lv.Alerts.mu.Lock()
		ended := lv.Alerts.ended
		lv.Alerts.mu.Unlock()
		if ended {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the alerts never finished")
		}
		time.Sleep(10 * time.Millisecond)
	}
	wait(t, a.Changed(), "a after the end")
	wait(t, b.Changed(), "b after the end")
	as, bs := a.Alerts(), b.Alerts()
	if len(as) == 0 || len(as) != len(bs) {
		t.Fatalf("a sees %d alerts, b %d", len(as), len(bs))
	}
	for k := range as {
		if as[k].Key != bs[k].Key || as[k].State != bs[k].State {
			t.Fatalf("alert %d differs: %+v vs %+v", k, as[k], bs[k])
		}
	}
	if a.Rules() != len(set.Rules()) {
		t.Fatalf("Rules() = %d, want %d", a.Rules(), len(set.Rules()))
	}
	if s := lv.Index.Snapshot(); s.Len() == 0 || !s.Done {
		t.Fatalf("index: %d events, done %v", s.Len(), s.Done)
	}
}

// TestAlertsCoalesceWithATrailingNotification: pushes in quick
// succession notify at most every coalesce, and the last change is
// always notified.
func TestAlertsCoalesceWithATrailingNotification(t *testing.T) {
	set, err := cmdutil.LoadRules(nil, false, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	al, err := NewAlerts(set, nil)
	if err != nil {
		t.Fatal(err)
	}
	s := al.Subscribe()
	defer s.Close()
	<-s.Changed() // the first snapshot
	notes := 0
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 50 {
			al.Push(&data.Batch{})
			time.Sleep(time.Millisecond)
		}
	}()
	timeout := time.After(5 * time.Second)
	<-done
	// The pushes took ~50 ms: at most one immediate and one trailing
	// notification.
	for {
		select {
		case <-s.Changed():
			notes++
			continue
		case <-time.After(3 * coalesce):
		case <-timeout:
		}
		break
	}
	if notes == 0 {
		t.Fatal("no notification for 50 pushes (the trailing one is missing)")
	}
	if notes > 2 {
		t.Fatalf("%d notifications for 50 pushes within %v: not coalesced", notes, coalesce)
	}
}
