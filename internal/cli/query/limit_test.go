package query

import (
	"encoding/json"
	"math/rand/v2"
	"os"
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
// the first N read are neither. Ties are broken by the line's bytes, so
// the answer does not depend on the input's order.
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
		// The reference: every match in time order, ties by the line.
		sorted := slices.Clone(all)
		slices.SortStableFunc(sorted, func(a, b rec) int {
			if c := strings.Compare(a.Timestamp, b.Timestamp); c != 0 {
				return c
			}
			return strings.Compare(a.Line, b.Line)
		})
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

// TestLimitIgnoresInputOrder: --limit picks the same events from a real
// file and from a shuffled copy of it. audit2rbac's v1beta1 timestamp has
// a 1 s resolution (46 events share 20:27:42), and the Falco traces have
// undated events (first with --forward): which ones a tie at the cut keeps
// must not depend on the order they were read in.
func TestLimitIgnoresInputOrder(t *testing.T) {
	dir := t.TempDir()
	for _, f := range testutil.RealAuditFiles(t) {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		ls := strings.SplitAfter(strings.TrimRight(string(b), "\n")+"\n", "\n")
		ls = ls[:len(ls)-1]
		r := rand.New(rand.NewPCG(1, 2))
		r.Shuffle(len(ls), func(i, j int) { ls[i], ls[j] = ls[j], ls[i] })
		shuf := filepath.Join(dir, filepath.Base(f))
		if err := os.WriteFile(shuf, []byte(strings.Join(ls, "")), 0o600); err != nil {
			t.Fatal(err)
		}
		for _, q := range []string{`{job="audit"}`, `{job="audit"} | json | verb="get"`} {
			for _, n := range []int{1, 3, 10} {
				for _, extra := range [][]string{nil, {"--forward"}, {"--to", "2017-09-11T20:27:43Z"}} {
					args := append([]string{"-o", "raw", "-q", "--limit", itoa(n)}, extra...)
					args = append(args, q)
					// (--to leaves nothing of the later files: exit 1,
					// for both.)
					code, want, errOut := queryCLI(t, append(args, f)...)
					code2, got, errOut2 := queryCLI(t, append(args, shuf)...)
					if code != code2 {
						t.Fatalf("%s %v: exit %d (%s), shuffled exit %d (%s)", f, args, code, errOut, code2, errOut2)
					}
					if got != want {
						t.Errorf("%s %v: the shuffled copy gives other events:\n%s\nthe file:\n%s", filepath.Base(f), args, got, want)
					}
				}
			}
		}
	}
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}
