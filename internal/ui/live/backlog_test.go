package live

import (
	"context"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/audittui/audittui/internal/cli/cmdutil"
	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/data/source/file"
	"github.com/audittui/audittui/internal/policy/rules"
	"github.com/audittui/audittui/internal/testutil"
)

// TestFollowedFileAlertsAsReplay: a followed file's content when it is
// opened is history, in whatever order it was written (the real traces,
// files concatenated, a shuffled copy): the Alerts pane raises the
// instances a read to the end (--follow=false, `audittui alerts`) raises,
// not only those of events less than 10 s out of order (review L 1: 6 of
// 22 groups on the Falco traces). rules.Options.Backlog until the input
// first catches up, then live.
func TestFollowedFileAlertsAsReplay(t *testing.T) {
	defer func(q time.Duration) { catchUpQuiet = q }(catchUpQuiet)
	catchUpQuiet = 300 * time.Millisecond
	set, err := cmdutil.LoadRules(nil, false, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	files := testutil.RealAuditFiles(t)
	// Every real file one after the other, shuffled (a fixed seed).
	var lines []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, strings.SplitAfter(strings.TrimRight(string(b), "\n")+"\n", "\n")...)
	}
	lines = slices.DeleteFunc(lines, func(l string) bool { return l == "" })
	r := rand.New(rand.NewPCG(3, 4))
	r.Shuffle(len(lines), func(i, j int) { lines[i], lines[j] = lines[j], lines[i] })
	shuffled := filepath.Join(t.TempDir(), "shuffled.jsonl")
	if err := os.WriteFile(shuffled, []byte(strings.Join(lines, "")), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, path := range append(files, shuffled) {
		want := groupsOf(t, set, path, false)
		if len(want) == 0 {
			continue
		}
		got := groupsOf(t, set, path, true, want...)
		if !slices.Equal(got, want) {
			t.Errorf("%s followed:\n got  %q\n want %q (read to its end)", filepath.Base(path), got, want)
		}
		t.Logf("%s: %d instances", filepath.Base(path), len(want))
	}
}

// groupsOf opens path (followed or read to its end) and returns its alert
// instances (name, labels, first active), sorted: when following, once
// they equal want or a minute has passed.
func groupsOf(t *testing.T, set *rules.Set, path string, follow bool, want ...string) []string {
	t.Helper()
	src, err := file.New(path, file.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	lv, err := Open(ctx, Options{Sources: []data.Source{src}, Alerts: true, Rules: set, Read: data.ReadOptions{Follow: follow}})
	if err != nil {
		t.Fatal(err)
	}
	defer lv.Close()
	sub := lv.Alerts.Subscribe()
	defer sub.Close()
	deadline := time.After(time.Minute)
	for {
		st := sub.Alerts()
		var got []string
		for _, a := range st.Local {
			got = append(got, a.Name+" "+rules.LabelsString(a.Labels)+" "+a.ActiveAt.UTC().Format(time.RFC3339Nano))
		}
		slices.Sort(got)
		if (!follow && st.Done) || (follow && slices.Equal(got, want)) {
			return got
		}
		select {
		case <-sub.Changed():
		case <-time.After(time.Second):
		case <-deadline:
			return got
		}
	}
}
