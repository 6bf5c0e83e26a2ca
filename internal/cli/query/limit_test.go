package query

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/audittui/audittui/internal/cli/cmdutil"
	"github.com/audittui/audittui/internal/testutil"
)

// TestLimitNewestOrOldest: --limit N prints the newest N matches (logcli's
// default direction) and --limit N --forward the oldest N, in time order,
// whatever the input's order: on the real Falco traces (not in time order)
// the first N read are neither. Ties keep the order they were read in.
func TestLimitNewestOrOldest(t *testing.T) {
	files := []string{
		filepath.Join(testutil.RealData(t), "audit", "falco-legacy-k8s-audit-traces.jsonl"),
		filepath.Join("..", "..", "..", "testdata", "shapes", "plain.jsonl"),
	}
	type rec struct {
		Timestamp string `json:"timestamp"`
		Line      string `json:"line"`
	}
	lines := func(out string) []rec {
		var rs []rec
		for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
			var r rec
			if err := json.Unmarshal([]byte(l), &r); err != nil {
				t.Fatalf("%q: %v", l, err)
			}
			rs = append(rs, r)
		}
		return rs
	}
	for _, f := range files {
		code, out, errOut := queryCLI(t, "-o", "jsonl", "-q", `{job="audit"}`, f)
		if code != cmdutil.ExitOK {
			t.Fatalf("%s: exit %d: %s", f, code, errOut)
		}
		all := lines(out)
		// The reference: every match in time order, ties as read.
		sorted := slices.Clone(all)
		slices.SortStableFunc(sorted, func(a, b rec) int { return strings.Compare(a.Timestamp, b.Timestamp) })
		if slices.Equal(sorted, all) && strings.Contains(f, "falco") {
			t.Fatal("the Falco traces are in time order: the test needs input that is not")
		}
		for _, n := range []int{1, 3, 10, len(all), len(all) + 5} {
			for _, forward := range []bool{false, true} {
				args := []string{"-o", "jsonl", "--limit", itoa(n)}
				want := sorted[max(0, len(sorted)-n):]
				if forward {
					args = append(args, "--forward")
					want = sorted[:min(n, len(sorted))]
				}
				code, out, errOut := queryCLI(t, append(args, `{job="audit"}`, f)...)
				if code != cmdutil.ExitOK {
					t.Fatalf("%v: exit %d: %s", args, code, errOut)
				}
				if got := lines(out); !slices.Equal(got, want) {
					t.Errorf("%s %v: got %d lines, first %v; want %d, first %v", filepath.Base(f), args, len(got), got[0].Timestamp, len(want), want[0].Timestamp)
				}
			}
		}
	}
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}
