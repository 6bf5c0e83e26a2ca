package tui

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/audittui/audittui/internal/cli/alerts"
	"github.com/audittui/audittui/internal/cli/clitest"
	"github.com/audittui/audittui/internal/cli/cmdutil"
	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/policy/rules"
	"github.com/audittui/audittui/internal/testutil"
	"github.com/audittui/audittui/internal/ui"
	"github.com/audittui/audittui/internal/ui/live"
)

// TestTUIWindowAlertsAsAlertsCommand: over a window (--from, --to), the
// Alerts pane lists the instances `audittui alerts` lists with the same
// flags and files (the rules read their look-back before the window, so
// a burst straddling its start and the day-long rules are seen whole),
// while the index, which every other pane and the status counts read,
// holds the window's events only: the events a read without alerts
// loads.
func TestTUIWindowAlertsAsAlertsCommand(t *testing.T) {
	checkWindowAlerts(t, filepath.Join(testutil.RepoRoot(), "testdata", "sample", "audit.log"))
	t.Run("realdata", func(t *testing.T) {
		for _, in := range testutil.RealAuditFiles(t) {
			checkWindowAlerts(t, in)
		}
	})
}

// inst is what the test compares of an alert instance.
type inst struct {
	Alert, Labels, State, FirstActive, FiredAt, LastActive string
	Events                                                 int
}

func (a inst) key() string { return a.Alert + " " + a.Labels + " " + a.FirstActive }

// alertsCLI runs `audittui alerts -q -o jsonl ARGS...`.
func alertsCLI(t *testing.T, args ...string) map[string]inst {
	t.Helper()
	_, out, errOut := clitest.Run(t, func(f *cmdutil.Factory) *cobra.Command { return alerts.NewCmdAlerts(f, nil) }, "",
		append([]string{"-q", "-o", "jsonl"}, args...)...)
	m := map[string]inst{}
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if l == "" {
			continue
		}
		var a struct {
			Alert       string            `json:"alert"`
			Labels      map[string]string `json:"labels"`
			State       string            `json:"state"`
			FirstActive string            `json:"firstActive"`
			FiredAt     string            `json:"firedAt"`
			LastActive  string            `json:"lastActive"`
			Events      int               `json:"events"`
		}
		if err := json.Unmarshal([]byte(l), &a); err != nil {
			t.Fatalf("alerts %v: %v: %s (stderr %q)", args, err, l, errOut)
		}
		i := inst{a.Alert, rules.LabelsString(a.Labels), a.State, a.FirstActive, a.FiredAt, a.LastActive, a.Events}
		m[i.key()] = i
	}
	return m
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// tuiRead is what the TUI reads with ARGS: the Alerts pane's final
// state and the index.
type tuiRead struct {
	alerts map[string]inst
	state  ui.AlertState
	snap   *ui.Snapshot
	from   int64
	to     int64
}

// tuiWindow opens what `audittui ARGS...` opens (its flags, inputs and
// live options: runTUI's path up to the screen) and waits until every
// event is read and evaluated.
func tuiWindow(t *testing.T, args ...string) tuiRead {
	t.Helper()
	var got tuiRead
	run := func(opts *TUIOptions) error {
		ctx := context.Background()
		from, to, err := opts.Window.Range(opts.Now)
		if err != nil {
			return err
		}
		srcs, _, _, follow, err := chooseInput(ctx, opts)
		if err != nil {
			return err
		}
		lo, err := liveOptions(opts, srcs, from, to, follow.On, data.DefaultJob, nil)
		if err != nil {
			return err
		}
		lv, err := live.Open(ctx, lo)
		if err != nil {
			return err
		}
		defer lv.Close()
		<-lv.Feed.Done()
		got.snap, got.from, got.to = lv.Index.Snapshot(), from, to
		if lv.Alerts == nil {
			return nil
		}
		sub := lv.Alerts.Subscribe()
		defer sub.Close()
		deadline := time.After(time.Minute)
		for {
			if got.state = sub.Alerts(); got.state.Done {
				break
			}
			select {
			case <-sub.Changed():
			case <-deadline:
				return fmt.Errorf("the alerts never finished: %+v", sub.Alerts())
			}
		}
		got.alerts = map[string]inst{}
		for _, a := range got.state.Local {
			i := inst{a.Name, rules.LabelsString(a.Labels), a.State.String(), fmtTime(a.ActiveAt), fmtTime(a.FiredAt), fmtTime(a.LastActive), a.Events}
			got.alerts[i.key()] = i
		}
		return nil
	}
	code, _, errOut := clitest.Run(t, func(f *cmdutil.Factory) *cobra.Command { return NewCmdTUI(f, run) }, "", args...)
	if code != 0 {
		t.Fatalf("audittui %v: exit %d: %s", args, code, errOut)
	}
	return got
}

// checkWindowAlerts compares, over windows of in that start and end in
// the middle of its alerts' activity, the Alerts pane with `audittui
// alerts`, and the index with a read without alerts.
func checkWindowAlerts(t *testing.T, in string) {
	t.Helper()
	name := filepath.Base(in)
	whole := alertsCLI(t, in)
	// Window ends: the alerts' first and last activities, and the
	// events' middle (a file where nothing fires is windowed too).
	all := tuiWindow(t, "--follow=false", "--no-alerts", in)
	var ends []string
	for _, a := range whole {
		ends = append(ends, a.FirstActive, a.LastActive)
	}
	if s := all.snap; s.MinTime != 0 {
		ends = append(ends, time.Unix(0, s.MinTime+(s.MaxTime-s.MinTime)/2).UTC().Format(time.RFC3339Nano))
	}
	sort.Strings(ends)
	if len(ends) == 0 {
		t.Fatalf("%s: no event has a time", name)
	}
	q := func(f float64) string { return ends[int(f*float64(len(ends)-1))] }
	windows := [][]string{
		{}, // no window: the whole file, in whatever order it is
		{"--from", q(0.5)},
		{"--from", q(1.0 / 3)},
		{"--from", q(1.0 / 3), "--to", q(2.0 / 3)},
		{"--from", q(2.0 / 3)},
	}
	for _, w := range windows {
		if len(w) == 4 && w[3] <= w[1] {
			continue // one time only: no window ends after it starts
		}
		want := alertsCLI(t, append(w, in)...)
		got := tuiWindow(t, append([]string{"--follow=false"}, append(w, in)...)...)
		for k, a := range want {
			if g, ok := got.alerts[k]; !ok {
				t.Errorf("%s %v: the Alerts pane misses %+v", name, w, a)
			} else if g != a {
				t.Errorf("%s %v: %s\n pane   %+v\n alerts %+v", name, w, k, g, a)
			}
		}
		for k, g := range got.alerts {
			if _, ok := want[k]; !ok {
				t.Errorf("%s %v: the Alerts pane lists %+v, alerts does not", name, w, g)
			}
		}
		t.Logf("%s %v: %d instances, %d events loaded, %d of %d evaluated before the window", name, w, len(want), got.snap.Len(),
			got.state.Before, got.state.Events)
		// The other panes: the window's events, as a read without the
		// rules loads them.
		plain := tuiWindow(t, append([]string{"--follow=false", "--no-alerts"}, append(w, in)...)...)
		s := got.snap
		if s.Len() != plain.snap.Len() {
			t.Errorf("%s %v: the index holds %d events, %d without the rules' look-back", name, w, s.Len(), plain.snap.Len())
		}
		before := 0
		for i := range all.snap.Len() {
			if tm := all.snap.Time(i); tm != 0 && tm < got.from && tm > got.from-int64(24*time.Hour) {
				before++
			}
		}
		for i := range s.Len() {
			if tm := s.Time(i); tm < got.from || (got.to != 0 && tm >= got.to) {
				t.Fatalf("%s %v: the index holds an event at %s, outside the window", name, w, time.Unix(0, tm).UTC().Format(time.RFC3339Nano))
			}
		}
		if s.Rejected != plain.snap.Rejected || s.Duplicates != plain.snap.Duplicates {
			t.Errorf("%s %v: status counts rejected %d duplicates %d, without the look-back %d and %d", name, w,
				s.Rejected, s.Duplicates, plain.snap.Rejected, plain.snap.Duplicates)
		}
		// The pane says how many events the rules read before the
		// window (those of the last day at least: the pack looks back a
		// day and a minute).
		if got.state.Before < int64(before) || got.state.Before > got.state.Events {
			t.Errorf("%s %v: the pane says %d of %d events were before the window; the file has %d in the day before it", name, w,
				got.state.Before, got.state.Events, before)
		}
	}
}

// TestTUIAlertsCountCopiesOnce: the Alerts pane counts a copy of a line
// once, as `audittui alerts` does, whether the copy comes later in the
// same file, in another file or out of order: the index marks the copies
// of each batch (data.Event.Repeat) before the rules read it, and the
// rules keep no duplicate filter of their own (rules.Options.Deduplicated).
func TestTUIAlertsCountCopiesOnce(t *testing.T) {
	sample := filepath.Join(testutil.RepoRoot(), "testdata", "sample", "audit.log")
	b, err := os.ReadFile(sample)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	twice := filepath.Join(dir, "twice.log")
	if err := os.WriteFile(twice, append(append([]byte{}, b...), b...), 0o600); err != nil {
		t.Fatal(err)
	}
	// Every line twice, in a shuffled order (a fixed seed).
	lines := strings.SplitAfter(string(b), "\n")
	lines = append(lines, lines...)
	r := rand.New(rand.NewPCG(1, 2))
	r.Shuffle(len(lines), func(i, j int) { lines[i], lines[j] = lines[j], lines[i] })
	shuffled := filepath.Join(dir, "shuffled.log")
	if err := os.WriteFile(shuffled, []byte(strings.Join(lines, "")), 0o600); err != nil {
		t.Fatal(err)
	}
	once := tuiWindow(t, "--follow=false", sample).state.Events
	for _, args := range [][]string{{twice}, {sample, twice}, {shuffled}} {
		want := alertsCLI(t, args...)
		got := tuiWindow(t, append([]string{"--follow=false"}, args...)...)
		if got.snap.Duplicates == 0 {
			t.Fatalf("%v: the index found no copy", args)
		}
		// "N rules over M events": the copies are not events read.
		if got.state.Events != once {
			t.Errorf("%v: the rules read %d events, %d without the copies", args, got.state.Events, once)
		}
		if len(want) == 0 {
			t.Fatalf("%v: alerts lists nothing", args)
		}
		for k, a := range want {
			if g, ok := got.alerts[k]; !ok {
				t.Errorf("%v: the Alerts pane misses %+v", args, a)
			} else if g != a {
				t.Errorf("%v: %s\n pane   %+v\n alerts %+v", args, k, g, a)
			}
		}
		for k, g := range got.alerts {
			if _, ok := want[k]; !ok {
				t.Errorf("%v: the Alerts pane lists %+v, alerts does not", args, g)
			}
		}
		t.Logf("%v: %d instances, %d duplicates", args, len(want), got.snap.Duplicates)
	}
}
