package query

import (
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/audittui/audittui/internal/cli/cmdutil"
	"github.com/audittui/audittui/internal/testutil"
)

// TestRangeQueryCountsEveryEvent: without --to, a range query's steps run
// from the first match (rounded down to a multiple of the step, as Grafana
// aligns them) to the first step at or after the last match, so that
// count_over_time with a range equal to the step counts every matching
// event exactly once over the steps. The last step used to stop short of
// the last events: 220 of the sample's 241 4xx responses were counted.
func TestRangeQueryCountsEveryEvent(t *testing.T) {
	files := []string{filepath.Join("..", "..", "..", "testdata", "sample", "audit.log")}
	real := testutil.RealData(t)
	for _, n := range []string{"audit2rbac-demo-v1.jsonl", "falco-legacy-k8s-audit-traces.jsonl"} {
		files = append(files, filepath.Join(real, "audit", n))
	}
	for _, f := range files {
		for _, sel := range []string{`{job="audit"} | json | responseStatus_code >= 401 | responseStatus_code < 500`, `{job="audit"} | json`} {
			// The events' count, from a log query.
			code, out, errOut := queryCLI(t, "-o", "jsonl", sel, f)
			if code != cmdutil.ExitOK {
				t.Fatalf("%s: exit %d: %s", f, code, errOut)
			}
			want := strings.Count(out, "\n")
			for _, step := range []time.Duration{time.Minute, 7 * time.Minute, 15 * time.Minute, time.Hour} {
				q := "sum(count_over_time(" + sel + " [" + step.String() + "]))"
				code, out, errOut := queryCLI(t, "-o", "csv", "--step", step.String(), q, f)
				if code == cmdutil.ExitUsage && strings.Contains(errOut, "maximum resolution") {
					continue // the Falco traces span two years: too many steps of a minute
				}
				if code != cmdutil.ExitOK {
					t.Fatalf("%s %s: exit %d: %s", f, step, code, errOut)
				}
				got := 0
				for i, line := range strings.Split(strings.TrimSpace(out), "\n") {
					if i == 0 || line == "" {
						continue // the header
					}
					cells := strings.Split(line, ",")
					ts, err := time.Parse(time.RFC3339Nano, cells[len(cells)-2])
					if err != nil {
						t.Fatal(err)
					}
					if ts.UnixNano()%int64(step) != 0 {
						t.Errorf("%s step %s: step time %s is not a multiple of the step", f, step, ts)
					}
					v, err := strconv.Atoi(cells[len(cells)-1])
					if err != nil {
						t.Fatal(err)
					}
					got += v
				}
				if got != want {
					t.Errorf("%s step %s, %s: the steps count %d events, the log query finds %d", filepath.Base(f), step, sel, got, want)
				}
			}
		}
	}
}
