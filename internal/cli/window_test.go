package cli

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/audittui/audittui/internal/cli/cmdutil"
	"github.com/audittui/audittui/internal/testutil"
)

// TestWindowLeavesEverythingOut: the real logs (2017-2022) read with
// --since 1h, which counts back from now, or a --to before them. query
// (log and metric), alerts and history answer nothing, and stderr says
// why: no event read falls in the window, how many were before or after
// it and the newest or oldest time. A window that holds events says
// nothing of the kind. The exit status is that of the undated events
// (Panther's fixtures), not changed by the note.
func TestWindowLeavesEverythingOut(t *testing.T) {
	var all []byte
	for _, f := range testutil.RealAuditFiles(t) {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, b...)
	}
	p := filepath.Join(t.TempDir(), "audit.log")
	os.WriteFile(p, all, 0o644)
	// The dated events, and the newest and oldest time, as query sees them.
	out, _, _ := shapeCLI(t, nil, "query", "-o", "jsonl", `{job="audit"} | json`, p)
	var times []int64
	for _, r := range parseJSONL(t, out) {
		if r.Timestamp != nil {
			ts, err := time.Parse(time.RFC3339Nano, *r.Timestamp)
			if err != nil {
				t.Fatal(err)
			}
			times = append(times, ts.UnixNano())
		}
	}
	if len(times) < 100 {
		t.Fatalf("%d dated events", len(times))
	}
	newest, oldest := slices.Max(times), slices.Min(times)
	sinceHint := ": --since 1h counts back from now, not from the newest event as the TUI's :since does): all " + strconv.Itoa(len(times)) + " events read are before it, the newest at " + cmdutil.FormatTime(newest) + "\n"
	for _, args := range [][]string{
		{"query", "--since", "1h", `{job="audit"} | json`, p},
		{"query", "--since", "1h", `sum(count_over_time({job="audit"} | json [5m]))`, p},
		{"alerts", "--since", "1h", p},
	} {
		out, errOut, code := shapeCLI(t, nil, args...)
		if code != cmdutil.ExitInputError || !strings.Contains(errOut, "audittui: no event read falls in the window (from ") || !strings.Contains(errOut, sinceHint) || strings.Count(errOut, "falls in the window") != 1 {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", args[:3], code, out, errOut)
		}
	}
	// history reads with its query's words: the events that could match.
	_, errOut, _ := shapeCLI(t, nil, "history", "--since", "1h", "-n", "default", "configmap/my-config", p)
	if !strings.Contains(errOut, "audittui: no event the query could match falls in the window (from ") || !strings.Contains(errOut, " events that it could match are before it, the newest at ") {
		t.Errorf("history: stderr %q", errOut)
	}
	_, errOut, _ = shapeCLI(t, nil, "query", "--to", "2000-01-01", `{job="audit"} | json`, p)
	if want := "audittui: no event read falls in the window (before 2000-01-01T00:00:00Z): all " + strconv.Itoa(len(times)) + " events read are at or after its end, the oldest at " + cmdutil.FormatTime(oldest) + "\n"; !strings.Contains(errOut, want) {
		t.Errorf("--to: stderr %q, want %q", errOut, want)
	}
	// A window that holds the newest event: no such line.
	_, errOut, _ = shapeCLI(t, nil, "query", "--from", time.Unix(0, newest).UTC().Format(time.RFC3339Nano), `{job="audit"} | json | responseStatus_code > 999`, p)
	if strings.Contains(errOut, "falls in the window") {
		t.Errorf("a window that holds an event: stderr %q", errOut)
	}
}
