package query

import (
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestQueryVectorBinary: a ratio of two metric queries over a file is the
// ratio, row by row, of the two queries run alone (same window and
// steps); a comparison keeps the rows where it holds.
func TestQueryVectorBinary(t *testing.T) {
	sample, _ := sampleLines(t)
	const (
		errs = `sum by (verb) (count_over_time({job="audit"} | json | responseStatus_code >= 400 [30m]))`
		all  = `sum by (verb) (count_over_time({job="audit"} |= "verb" | json [30m]))`
	)
	run := func(q string) map[string]float64 {
		t.Helper()
		code, out, errOut := queryCLI(t, "-o", "csv", "--step", "30m", "--from", "2026-11-20T00:00:00Z", "--to", "2026-11-20T04:00:00Z", q, sample)
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", q, code, errOut)
		}
		rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
		if err != nil || len(rows) < 2 || strings.Join(rows[0], ",") != "verb,time,value" {
			t.Fatalf("%s: %v\n%s", q, err, out)
		}
		m := map[string]float64{}
		for _, r := range rows[1:] {
			v, err := strconv.ParseFloat(r[2], 64)
			if err != nil {
				t.Fatal(err)
			}
			m[r[0]+"@"+r[1]] = v
		}
		return m
	}
	e, a := run(errs), run(all)
	ratio := run(errs + ` / ` + all)
	above := run(errs + ` / ` + all + ` > 0.15`)
	n := 0
	for k, ev := range e {
		want := ev / a[k]
		got, ok := ratio[k]
		if !ok || strconv.FormatFloat(got, 'g', 6, 64) != strconv.FormatFloat(want, 'g', 6, 64) {
			t.Errorf("%s: ratio %v (%v), want %v / %v", k, got, ok, ev, a[k])
		}
		if _, ok := above[k]; ok != (want > 0.15) {
			t.Errorf("%s: > 0.15 kept %v for %v", k, ok, want)
		}
		if want > 0.15 {
			n++
		}
	}
	if len(ratio) != len(e) || len(e) < 10 || n == 0 || n == len(e) {
		t.Errorf("%d ratio rows, %d error rows, %d above 0.15", len(ratio), len(e), n)
	}
}

// TestQueryVectorMatchError: a many-to-one match without group_left (the
// "x / on () sum(x)" ratio) is refused, as Loki refuses it: exit 2 and
// the matching error on stderr, never "(no data)" with exit 0.
func TestQueryVectorMatchError(t *testing.T) {
	sample, _ := sampleLines(t)
	for _, q := range []string{
		`100 * sum by (user_username) (count_over_time({job="audit"} | json | responseStatus_code=403 [2h])) / on () sum(count_over_time({job="audit"}[2h]))`,
		`sum by (verb) (count_over_time({job="audit"} | json [2h])) / ignoring (verb) sum by (verb) (count_over_time({job="audit"} | json [2h]))`,
	} {
		for _, step := range [][]string{nil, {"--step", "1h"}} {
			args := append(append([]string{"-o", "table"}, step...), q, sample)
			code, out, errOut := queryCLI(t, args...)
			if code != 2 || !strings.Contains(errOut, "found duplicate series for the match group") || strings.Contains(out, "no data") {
				t.Errorf("%v %s: exit %d, stdout %q, stderr %q", step, q, code, out, errOut)
			}
		}
	}
}

// TestQueryAbsentNoWindow: absent_over_time without --from and --to is
// answered over the events read (every event of the sources, not only
// those matching the query, which for an absent thing are none): a user
// who never appears, and a job no stream has, are absent (1), as with an
// explicit window covering the file.
func TestQueryAbsentNoWindow(t *testing.T) {
	sample, _ := sampleLines(t)
	for _, c := range []struct{ q, want string }{
		{`absent_over_time({job="audit"} | json | user_username="nobody" [10m])`, `"job":"audit"`},
		{`absent_over_time({job="nope", cluster="prod"} [10m])`, `"job":"nope"`},
	} {
		for _, step := range [][]string{nil, {"--step", "30m"}} {
			args := append(append([]string{"-o", "jsonl"}, step...), c.q, sample)
			code, out, errOut := queryCLI(t, args...)
			if code != 0 || !strings.Contains(out, c.want) || !strings.Contains(out, `,"1"]`) {
				t.Errorf("%v %s: exit %d, stdout %q, stderr %q", step, c.q, code, out, errOut)
			}
		}
	}
}

// TestQueryUnwrapMissingLabel: an entry without the unwrapped label is
// skipped, as in Loki (grafana/loki#6713), not counted as a 0 under
// __error__: the sample's 3 watch events at stage RequestReceived have no
// responseStatus, every other watch got 200, so min and avg are 200, with
// no pipeline-error warning.
func TestQueryUnwrapMissingLabel(t *testing.T) {
	sample, _ := sampleLines(t)
	for _, f := range []string{"min_over_time", "avg_over_time"} {
		q := f + `({job="audit"} | json | verb="watch" | unwrap responseStatus_code [2h]) by (verb)`
		code, out, errOut := queryCLI(t, "-o", "csv", q, sample)
		if code != 0 || !strings.HasSuffix(strings.TrimSpace(out), ",200") || errOut != "" {
			t.Errorf("%s: exit %d, stdout %q, stderr %q", q, code, out, errOut)
		}
	}
}

// TestQueryAbsentNotBeforeFirstEvent (review M 14): a range query of
// absent_over_time without a window starts at the first step at or after
// the first event, as `alerts` judges such a rule: the step before it
// (12:00 for an event at 12:00:30) reads nothing, which is no evidence of
// absence. Two events, at 12:00:30 and 12:30:30, with [10m]: absent
// exactly at the steps 12:11 to 12:30.
func TestQueryAbsentNotBeforeFirstEvent(t *testing.T) {
	dir := t.TempDir()
	var lines []string
	for _, at := range []string{"2026-05-04T12:00:30Z", "2026-05-04T12:30:30Z"} {
		lines = append(lines, `{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"`+at+`","stage":"ResponseComplete","verb":"get","user":{"username":"alice"},"requestReceivedTimestamp":"`+at+`","stageTimestamp":"`+at+`"}`)
	}
	f := filepath.Join(dir, "two.log")
	if err := os.WriteFile(f, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{`absent_over_time({job="audit"} [10m])`, `absent_over_time({job="audit"} [10m]) * 2`} {
		code, out, errOut := queryCLI(t, "-o", "csv", "--step", "1m", q, f)
		rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
		if code != 0 || err != nil || len(rows) < 2 {
			t.Fatalf("%s: exit %d, %v, stdout %q, stderr %q", q, code, err, out, errOut)
		}
		var times []string
		for _, r := range rows[1:] {
			times = append(times, r[len(r)-2][11:16])
		}
		var want []string
		for m := 11; m <= 30; m++ {
			want = append(want, fmt.Sprintf("12:%02d", m))
		}
		if strings.Join(times, " ") != strings.Join(want, " ") {
			t.Errorf("%s: absent at %v, want %v", q, times, want)
		}
	}
}
