package data

import (
	"testing"
	"time"
)

// TestDupsHorizon: copies are found by their bytes at any distance with no
// horizon; with one (a followed input), minutes of event time that far
// behind the newest event are forgotten, so memory stays bounded.
func TestDupsHorizon(t *testing.T) {
	t0 := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC).UnixNano()
	ev := func(min int, body string) *Event {
		return &Event{Time: t0 + int64(min)*int64(time.Minute), Raw: []byte(body)}
	}
	all := NewDups(0)
	bounded := NewDups(10 * time.Minute)
	for _, d := range []*Dups{all, bounded} {
		if d.Seen(ev(0, "a")) || d.Seen(ev(0, "b")) || !d.Seen(ev(0, "a")) || d.Seen(ev(1, "a")) {
			t.Fatal("same minute: a copy is a copy, other bytes or another time are not")
		}
		for m := 2; m < 120; m++ {
			d.Seen(ev(m, "x"))
		}
	}
	if !all.Seen(ev(0, "b")) || all.Count() != 2 {
		t.Fatalf("no horizon: the copy two hours back was not found (%d)", all.Count())
	}
	if bounded.Seen(ev(0, "b")) || len(bounded.minutes) > 12 {
		t.Fatalf("horizon 10m: %d minutes held, or a forgotten minute still known", len(bounded.minutes))
	}
	if !bounded.Seen(ev(115, "x")) {
		t.Fatal("horizon 10m: a copy within it was not found")
	}
}
