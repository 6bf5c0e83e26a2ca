package cmdutil

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/audittui/audittui/internal/data"
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
		// As the TUI's :from takes them (no zone: UTC, as the other
		// zoneless forms).
		{"minutes with a space", []string{"--from", "2026-05-01 05:00", "--to", "2026-05-01T06:30"}, ns("2026-05-01T05:00:00Z"), ns("2026-05-01T06:30:00Z"), ""},
		{"seconds with a space", []string{"--from", "2026-05-01 05:00:07"}, ns("2026-05-01T05:00:07Z"), 0, ""},
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

// TestWindowWatchMessage: what stderr says when a window let none of the
// events read through, for each kind of window; nothing when it let one
// through or nothing was read.
func TestWindowWatchMessage(t *testing.T) {
	ns := func(s string) int64 { tt, _ := time.Parse(time.RFC3339Nano, s); return tt.UnixNano() }
	newest, oldest := ns("2026-11-20T03:29:59.5Z"), ns("2026-11-20T02:00:00.25Z")
	cases := []struct {
		name string
		w    windowDesc
		c    data.WindowCounts
		want string
	}{
		{"since from now", windowDesc{from: ns("2026-12-06T23:51:37.123Z"), since: time.Hour}, data.WindowCounts{Before: 27096, NewestBefore: newest},
			"no event read falls in the window (from 2026-12-06T23:51:37Z: --since 1h counts back from now, not from the newest event as the TUI's :since does): all 27096 events read are before it, the newest at 2026-11-20T03:29:59.500000Z"},
		{"since from --to", windowDesc{from: ns("2026-11-21T22:30:00Z"), to: ns("2026-11-22T00:00:00Z"), since: 90 * time.Minute, toSet: true, prefiltered: true}, data.WindowCounts{Before: 12, NewestBefore: newest},
			"no event the query could match falls in the window (from 2026-11-21T22:30:00Z to 2026-11-22T00:00:00Z: --since 1h30m counts back from --to): all 12 events that it could match are before it, the newest at 2026-11-20T03:29:59.500000Z"},
		{"to", windowDesc{to: ns("2026-11-19T00:00:00Z")}, data.WindowCounts{After: 5, OldestAfter: oldest},
			"no event read falls in the window (before 2026-11-19T00:00:00Z): all 5 events read are at or after its end, the oldest at 2026-11-20T02:00:00.250000Z"},
		{"between", windowDesc{from: ns("2026-11-20T03:00:00Z"), to: ns("2026-11-20T03:00:01Z")}, data.WindowCounts{Before: 3, After: 4, NewestBefore: oldest, OldestAfter: newest},
			"no event read falls in the window (from 2026-11-20T03:00:00Z to 2026-11-20T03:00:01Z): of the 7 events read, 3 are before it (the newest at 2026-11-20T02:00:00.250000Z) and 4 at or after its end (the oldest at 2026-11-20T03:29:59.500000Z)"},
		{"one let through", windowDesc{to: ns("2026-11-19T00:00:00Z")}, data.WindowCounts{In: 1, After: 5, OldestAfter: oldest}, ""},
		{"nothing read", windowDesc{to: ns("2026-11-19T00:00:00Z")}, data.WindowCounts{}, ""},
	}
	for _, tc := range cases {
		if got := tc.w.message(tc.c); got != tc.want {
			t.Errorf("%s:\n got %q\nwant %q", tc.name, got, tc.want)
		}
	}
}
