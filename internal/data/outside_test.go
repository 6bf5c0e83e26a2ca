package data

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"
	"time"
)

// TestWindowTally: a read window counts what it let through and what it
// left out on either side (the newest before, the oldest after), for JSON
// lines and for pretty-printed documents, and the counts add up to the
// dated events of the real logs.
func TestWindowTally(t *testing.T) {
	lines := realLines(t)
	all, _ := readBytes(t, append(bytes.Join(lines, []byte{'\n'}), '\n'), 0)
	var times []int64
	for _, e := range all {
		if e.Time != 0 {
			times = append(times, e.Time)
		}
	}
	var pretty bytes.Buffer
	for _, l := range lines {
		json.Indent(&pretty, l, "", "  ")
		pretty.WriteByte('\n')
	}
	from := time.Date(2018, 10, 26, 0, 0, 0, 0, time.UTC).UnixNano()
	to := time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano()
	var want WindowCounts
	for _, t := range times {
		switch {
		case t < from:
			want.Before++
			want.NewestBefore = max(want.NewestBefore, t)
		case t >= to:
			want.After++
			if want.OldestAfter == 0 || t < want.OldestAfter {
				want.OldestAfter = t
			}
		default:
			want.In++
		}
	}
	if want.In == 0 || want.Before == 0 || want.After == 0 {
		t.Fatalf("the window does not split the real logs: %+v", want)
	}
	for name, in := range map[string][]byte{"lines": append(bytes.Join(lines, []byte{'\n'}), '\n'), "jq .": pretty.Bytes()} {
		var tally WindowTally
		n := 0
		_, err := DecodeReader(context.Background(), bytes.NewReader(in), &SourceInfo{Name: "in"}, ReadOptions{From: from, To: to, Tally: &tally}, 0, func(b *Batch) bool {
			n += len(b.Events)
			return true
		})
		if err != nil {
			t.Fatal(err)
		}
		if got := tally.Counts(); got != want || int64(n) != want.In {
			t.Errorf("%s: %+v (%d events), want %+v", name, got, n, want)
		}
	}
}
