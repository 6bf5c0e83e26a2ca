package alerts

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/audittui/audittui/internal/cli/clitest"
	"github.com/audittui/audittui/internal/cli/cmdutil"
	"github.com/audittui/audittui/internal/testutil"
)

// firedKeys returns alert, labels and firedAt of each line of jsonl whose
// state is want ("" for every line).
func firedKeys(t *testing.T, jsonl, want string) []string {
	t.Helper()
	var keys []string
	for line := range strings.Lines(jsonl) {
		var a struct {
			Alert   string            `json:"alert"`
			State   string            `json:"state"`
			Labels  map[string]string `json:"labels"`
			FiredAt string            `json:"firedAt"`
		}
		if err := json.Unmarshal([]byte(line), &a); err != nil {
			t.Fatalf("%v: %q", err, line)
		}
		if want != "" && a.State != want {
			continue
		}
		lb, _ := json.Marshal(a.Labels) // map keys sorted
		keys = append(keys, a.Alert+" "+string(lb)+" "+a.FiredAt)
	}
	slices.Sort(keys)
	return keys
}

// TestAlertsFollowCountsTheFileAsReplay (review L 1): Falco's real traces
// are captures concatenated out of time order. Followed (as the TUI and
// `alerts -f` read a plain file), what the file holds when it is opened
// fires the same alerts as `alerts` without --follow: every event counts,
// not only those within 10 s of the newest read so far (5 of the 17 rules
// fired before). Two files followed at once (the other still reading its
// history when the first has caught up) too.
func TestAlertsFollowCountsTheFileAsReplay(t *testing.T) {
	src, err := os.ReadFile(filepath.Join(testutil.RealData(t), "audit", "falco-legacy-k8s-audit-traces.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	falco := filepath.Join(dir, "falco.jsonl")
	if err := os.WriteFile(falco, src, 0o644); err != nil {
		t.Fatal(err)
	}
	// The same traces, last line first, as a second node's log.
	lines := strings.SplitAfter(strings.TrimSuffix(string(src), "\n"), "\n")
	slices.Reverse(lines)
	other := filepath.Join(dir, "node2.jsonl")
	if err := os.WriteFile(other, []byte(strings.Join(lines, "")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, files := range [][]string{{falco}, {falco, other}} {
		_, replayOut, _ := runCLI(t, "", append([]string{"-o", "jsonl"}, files...)...)
		want := firedKeys(t, replayOut, "")
		if len(want) < 20 {
			t.Fatalf("%v: only %d alerts replayed", files, len(want))
		}
		ctx, cancel := context.WithCancel(context.Background())
		ios, out, errb := clitest.Streams("")
		done := make(chan int, 1)
		go func() {
			done <- clitest.Exec(ctx, ios, func(f *cmdutil.Factory) *cobra.Command { return NewCmdAlerts(f, nil) },
				append([]string{"--follow", "-o", "jsonl"}, files...)...)
		}()
		var got []string
		deadline := time.After(30 * time.Second)
	wait:
		for {
			got = firedKeys(t, completeLines(out.String()), "firing")
			if len(got) >= len(want) {
				break
			}
			select {
			case <-deadline:
				break wait
			case code := <-done:
				t.Fatalf("alerts --follow exited %d early; stderr %q", code, errb.String())
			case <-time.After(20 * time.Millisecond):
			}
		}
		cancel()
		<-done
		if !slices.Equal(got, want) {
			t.Errorf("%v: --follow fired %d alerts, replay %d:\nfollow: %s\nreplay: %s", files, len(got), len(want),
				strings.Join(got, "\n  "), strings.Join(want, "\n  "))
		}
	}
}

// completeLines drops a last line still being written.
func completeLines(s string) string {
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[:i+1]
	}
	return ""
}
