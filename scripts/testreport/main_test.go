package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// events renders test2json events, one a line.
func events(t *testing.T, evs ...event) string {
	t.Helper()
	var b strings.Builder
	for _, e := range evs {
		j, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		b.Write(j)
		b.WriteByte('\n')
	}
	return b.String()
}

func lastLine(s string) string {
	l := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return l[len(l)-1]
}

// Every skip is counted and named under its category; a skip without a
// category prefix is listed under other with its message.
func TestReportSkips(t *testing.T) {
	const p = module + "internal/x"
	in := events(t,
		event{Action: "output", Package: p, Test: "TestA/realdata", Output: "=== RUN   TestA/realdata\n"},
		event{Action: "output", Package: p, Test: "TestA/realdata", Output: "    a_test.go:12: realdata: needs ../shared/realdata\n"},
		event{Action: "skip", Package: p, Test: "TestA/realdata"},
		event{Action: "output", Package: p, Test: "TestS3", Output: "    s3_test.go:3: server: AUDITTUI_S3_ENDPOINT not set\n"},
		event{Action: "skip", Package: p, Test: "TestS3"},
		event{Action: "output", Package: p, Test: "TestOdd", Output: "    odd_test.go:9: not on this OS\n"},
		event{Action: "skip", Package: p, Test: "TestOdd"},
		event{Action: "pass", Package: p, Test: "TestB"},
		event{Action: "pass", Package: p, Elapsed: 1.5},
		event{Action: "skip", Package: module + "internal/empty"}, // no test files
	)
	var out strings.Builder
	if code := report(strings.NewReader(in), &out); code != 0 {
		t.Fatalf("exit %d, want 0:\n%s", code, out.String())
	}
	want := "skipped 3 tests: realdata (../shared/realdata absent; AUDITTUI_REALDATA makes it required): TestA/realdata (internal/x); " +
		"server (test server not running; make test starts them): TestS3 (internal/x); other: TestOdd (internal/x): not on this OS"
	if got := lastLine(out.String()); got != want {
		t.Fatalf("summary:\n got %s\nwant %s", got, want)
	}
	if !strings.Contains(out.String(), "ok   internal/x 1.5s\n") {
		t.Errorf("no package line:\n%s", out.String())
	}
}

// A failing test, a failing package and a failed build each make the
// exit status 1, and the failing test's output is shown.
func TestReportFailures(t *testing.T) {
	const p = module + "internal/x"
	for name, evs := range map[string][]event{
		"test": {
			{Action: "output", Package: p, Test: "TestA", Output: "    a_test.go:7: got 1, want 2\n"},
			{Action: "fail", Package: p, Test: "TestA"},
			{Action: "fail", Package: p},
		},
		"package": {
			{Action: "output", Package: p, Output: "panic: boom\n"},
			{Action: "fail", Package: p},
		},
		"build": {
			{Action: "build-output", ImportPath: p, Output: "x.go:1: syntax error\n"},
			{Action: "build-fail", ImportPath: p},
		},
	} {
		t.Run(name, func(t *testing.T) {
			var out strings.Builder
			if code := report(strings.NewReader(events(t, evs...)), &out); code != 1 {
				t.Fatalf("exit %d, want 1:\n%s", code, out.String())
			}
			for _, e := range evs {
				if e.Output != "" && !strings.Contains(out.String(), e.Output) {
					t.Errorf("output %q not shown:\n%s", e.Output, out.String())
				}
			}
		})
	}
}

// No skip: the summary says so.
func TestReportNoSkips(t *testing.T) {
	in := events(t, event{Action: "pass", Package: module + "internal/x", Test: "TestA"}, event{Action: "pass", Package: module + "internal/x"})
	var out strings.Builder
	if code := report(strings.NewReader(in), &out); code != 0 || lastLine(out.String()) != "skipped 0 tests" {
		t.Fatalf("exit %d:\n%s", code, out.String())
	}
}
