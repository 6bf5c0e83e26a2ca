package cmdutil

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
)

func TestWindowRange(t *testing.T) {
	now := func() time.Time { return time.Date(2026, 5, 4, 12, 0, 0, 0, time.UTC) }
	ns := func(s string) int64 { tt, _ := time.Parse(time.RFC3339, s); return tt.UnixNano() }
	cases := []struct {
		name     string
		args     []string
		from, to int64
		err      string
	}{
		{"open", nil, 0, 0, ""},
		{"since from now", []string{"--since", "1h"}, ns("2026-05-04T11:00:00Z"), 0, ""},
		{"since before to", []string{"--since", "1h", "--to", "2026-05-01T10:00:00Z"}, ns("2026-05-01T09:00:00Z"), ns("2026-05-01T10:00:00Z"), ""},
		{"from and to", []string{"--from", "2026-05-01", "--to", "2026-05-02T00:00:00Z"}, ns("2026-05-01T00:00:00Z"), ns("2026-05-02T00:00:00Z"), ""},
		{"nanoseconds", []string{"--from", "2026-05-01T00:00:00.000000001Z"}, ns("2026-05-01T00:00:00Z") + 1, 0, ""},
		{"since and from", []string{"--since", "1h", "--from", "2026-05-01"}, 0, 0, "mutually exclusive"},
		{"negative since", []string{"--since", "-1h"}, 0, 0, "--since -1h0m0s: want a positive duration"},
		{"bad from", []string{"--from", "yesterday"}, 0, 0, `--from: cannot parse "yesterday"`},
		{"bad to", []string{"--to", "./case-4711"}, 0, 0, `--to: cannot parse "./case-4711"`},
		{"empty", []string{"--from", "2026-05-02", "--to", "2026-05-01"}, 0, 0, "empty window"},
		{"to equals from", []string{"--from", "2026-05-02", "--to", "2026-05-02"}, 0, 0, "empty window"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var w WindowFlags
			fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
			w.AddFlags(fs)
			if err := fs.Parse(tc.args); err != nil {
				t.Fatal(err)
			}
			from, to, err := w.Range(now)
			if tc.err != "" {
				var ee *ExitError
				if err == nil || !strings.Contains(err.Error(), tc.err) || !errors.As(err, &ee) || ee.Code != ExitUsage {
					t.Fatalf("err = %v, want a usage error with %q", err, tc.err)
				}
				return
			}
			if err != nil || from != tc.from || to != tc.to {
				t.Fatalf("got %d, %d, %v; want %d, %d", from, to, err, tc.from, tc.to)
			}
		})
	}
}

// The clock is read only when --since has no --to to count back from.
func TestWindowReadsTheClockOnlyForSince(t *testing.T) {
	stopped := func() time.Time { t.Fatal("clock read"); return time.Time{} }
	for _, w := range []WindowFlags{{}, {From: "2026-05-01"}, {Since: time.Hour, To: "2026-05-02"}} {
		if _, _, err := w.Range(stopped); err != nil {
			t.Fatal(err)
		}
	}
}
