package rules

import (
	"math/rand/v2"
	"testing"
	"time"
)

// TestDedupOthers: the events with the auditID, stage and time of another
// but another line are counted once per other line, whatever the order
// and however often each line comes (a line seen again counts nothing);
// another stage, time or auditID is another request or stage, not an
// other line.
func TestDedupOthers(t *testing.T) {
	t0 := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC).UnixNano()
	type ev struct {
		t         int64
		id, stage string
		line      uint64
	}
	group := []ev{
		{t0, "a", "ResponseComplete", 1}, {t0, "a", "ResponseComplete", 1},
		{t0, "a", "ResponseComplete", 2}, {t0, "a", "ResponseComplete", 2},
		{t0, "a", "ResponseComplete", 3}, {t0, "a", "ResponseComplete", 2},
		{t0, "a", "RequestReceived", 2}, {t0 + 1, "a", "ResponseComplete", 2}, {t0, "b", "ResponseComplete", 1},
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for n := range 20 {
		evs := append([]ev(nil), group...)
		if n > 0 {
			rng.Shuffle(len(evs), func(i, j int) { evs[i], evs[j] = evs[j], evs[i] })
		}
		d := newDedupStore()
		others := 0
		var mem int64
		for _, e := range evs {
			other, added := d.other(e.t, e.id, e.stage, e.line)
			if other {
				others++
			}
			mem += added
		}
		if others != 2 {
			t.Fatalf("order %v: %d others, want 2 (lines 1, 2 and 3 of one request and stage)", evs, others)
		}
		if mem != 6*otherBytes {
			t.Fatalf("order %v: %d bytes charged, want %d (four firsts, two others)", evs, mem, 6*otherBytes)
		}
	}
}
