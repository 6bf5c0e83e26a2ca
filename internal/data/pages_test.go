package data

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

// readWarned decodes in as a file called name and returns the events
// read and what the reader said with ReadOptions.Warn.
func readWarned(t *testing.T, name string, in []byte, maxLine int) (events int, warnings []string) {
	t.Helper()
	opts := ReadOptions{Warn: func(m string) { warnings = append(warnings, m) }}
	_, err := DecodeReader(context.Background(), bytes.NewReader(in), &SourceInfo{Name: name}, opts, maxLine, func(b *Batch) bool {
		events += len(b.Events)
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	return events, warnings
}

// TestFilterLogEventsPageSaid: `aws logs filter-log-events` output that
// still has a nextToken (the API's, --no-paginate) or a NextToken (the
// AWS CLI's, --max-items) is one page of a longer answer: it is read, and
// the reader says which file is a page (review G finding 11: read without
// a word). Whole documents and documents too big to hold (read member by
// member) alike; a null token or none says nothing.
func TestFilterLogEventsPageSaid(t *testing.T) {
	doc, err := os.ReadFile("../../testdata/shapes/eks-filter-log-events.json")
	if err != nil {
		t.Fatal(err)
	}
	whole, _ := readWarned(t, "fle.json", doc, 0)
	end := []byte("\n    ]\n}")
	if !bytes.HasSuffix(bytes.TrimSpace(doc), end) || whole != 16 {
		t.Fatalf("the fixture changed: %d events", whole)
	}
	withToken := func(key, value string) []byte {
		d := bytes.TrimSpace(doc)
		return append(bytes.Clone(d[:len(d)-1]), fmt.Sprintf("    ,%q: %s\n}\n", key, value)...)
	}
	for _, tc := range []struct {
		key, value, want string
	}{
		{"nextToken", `"Bxkq6kVGFtq2y_MoigeqscPOdhXVbhiVtLoAmXb5jCrI"`, "fle.json:1: this `aws logs filter-log-events` output has nextToken: it is one page of a longer answer, and the events of the pages after it are missing unless they are read too (without --max-items or --no-paginate the AWS CLI fetches every page; --next-token resumes after this one)"},
		{"NextToken", `"eyJuZXh0VG9rZW4iOiBudWxsLCAiYm90b190cnVuY2F0ZV9hbW91bnQiOiAxfQ=="`, "fle.json:1: this `aws logs filter-log-events` output has NextToken: it is one page of a longer answer, and the events of the pages after it are missing unless they are read too (without --max-items or --no-paginate the AWS CLI fetches every page; --starting-token resumes after this one)"},
		{"nextToken", "null", ""},
	} {
		in := withToken(tc.key, tc.value)
		for _, maxLine := range []int{0, 4096} { // held whole; read member by member
			n, warns := readWarned(t, "fle.json", in, maxLine)
			if n != 16 {
				t.Errorf("%s %s (limit %d): %d events", tc.key, tc.value, maxLine, n)
			}
			if tc.want == "" && len(warns) != 0 || tc.want != "" && (len(warns) != 1 || warns[0] != tc.want) {
				t.Errorf("%s %s (limit %d): said %q, want %q", tc.key, tc.value, maxLine, warns, tc.want)
			}
		}
	}
	if _, warns := readWarned(t, "fle.json", doc, 0); len(warns) != 0 {
		t.Errorf("no token: %q", warns)
	}
	// On one line (jq -c), among the fast path's lines.
	compact := append(compactJSON(withToken("nextToken", `"x"`)), '\n')
	if n, warns := readWarned(t, "fle.jsonl", compact, 0); n != 16 || len(warns) != 1 || !strings.HasPrefix(warns[0], "fle.jsonl:1: this `aws logs filter-log-events` output has nextToken") {
		t.Errorf("one line: %d events, %q", n, warns)
	}
}

// TestInsightsCapSaid: a Logs Insights CSV export of exactly 10,000 rows
// (what a query returns without a limit command) or 100,000 (the largest
// limit) is very likely cut: the reader says which file and which end is
// missing (review G finding 11). The rows are the real audit logs' events,
// newest first as `sort @timestamp desc` gives them.
func TestInsightsCapSaid(t *testing.T) {
	lines := realLines(t)
	build := func(n int, newestFirst bool) []byte {
		var b bytes.Buffer
		w := csv.NewWriter(&b)
		w.Write([]string{"@timestamp", "@message"})
		t0 := time.Date(2026, 11, 20, 2, 0, 0, 0, time.UTC)
		for i := range n {
			k := i
			if newestFirst {
				k = n - 1 - i
			}
			w.Write([]string{t0.Add(time.Duration(k) * time.Second).Format("2006-01-02 15:04:05.000"), string(lines[i%len(lines)])})
		}
		w.Flush()
		return b.Bytes()
	}
	for _, tc := range []struct {
		rows        int
		newestFirst bool
		want        string
	}{
		{9999, true, ""},
		{10000, true, "insights.csv: 10000 rows, as many as a Logs Insights query returns without a limit command: the query very likely matched more, and the events before its oldest row (2026-11-20T02:00:00Z) are missing: the rows are newest first; narrow the time range (or raise the query's limit) and export again"},
		{10000, false, "the events after its newest row (2026-11-20T04:46:39Z) are missing: the rows are oldest first"},
		{10001, true, ""},
	} {
		n, warns := readWarned(t, "insights.csv", build(tc.rows, tc.newestFirst), 0)
		if n == 0 {
			t.Fatalf("%d rows: no event read", tc.rows)
		}
		if tc.want == "" && len(warns) != 0 || tc.want != "" && (len(warns) != 1 || !strings.Contains(warns[0], tc.want)) {
			t.Errorf("%d rows: said %q, want %q", tc.rows, warns, tc.want)
		}
	}
}
