package data

import (
	"hash/maphash"
	"slices"
	"time"
)

// Dups finds exact duplicates in a stream: events whose bytes (Raw) equal
// an earlier event's. An at-least-once shipper sends lines again after a
// crash or a failed upload, and forensic copies get concatenated twice;
// Loki stores such copies once, and so the answers of `query` count them
// once. (The TUI's index and the rules have their own filters, over rows
// and contributions.)
//
// Events are remembered by a 64-bit hash of their bytes per minute of
// event time (a copy has the same time; two different events of one
// minute share a hash once in 10^10 minutes of 20,000 events). Only the events a
// caller asks about are remembered: a query asks about the entries that
// match, so memory grows with the answer, not the input. With a horizon
// (a followed input), minutes older than that behind the newest event are
// forgotten.
type Dups struct {
	seed    maphash.Seed
	minutes map[int64]map[uint64]struct{}
	keys    []int64 // minutes held, sorted (with a horizon)
	horizon int64
	newest  int64
	n       int64
}

// NewDups returns an empty filter; horizon 0 remembers every event.
func NewDups(horizon time.Duration) *Dups {
	return &Dups{seed: maphash.MakeSeed(), minutes: map[int64]map[uint64]struct{}{}, horizon: int64(horizon)}
}

// Seen reports whether e repeats an event seen before (and counts it);
// else it remembers e.
func (d *Dups) Seen(e *Event) bool {
	m := e.Time / int64(time.Minute)
	set := d.minutes[m]
	if set == nil {
		set = map[uint64]struct{}{}
		d.minutes[m] = set
		if d.horizon > 0 {
			i, _ := slices.BinarySearch(d.keys, m)
			d.keys = slices.Insert(d.keys, i, m)
		}
	}
	k := maphash.Bytes(d.seed, e.Raw)
	if _, dup := set[k]; dup {
		d.n++
		return true
	}
	set[k] = struct{}{}
	if d.horizon > 0 && e.Time > d.newest {
		d.newest = e.Time
		old := (d.newest - d.horizon) / int64(time.Minute)
		for len(d.keys) > 0 && d.keys[0] < old {
			delete(d.minutes, d.keys[0])
			d.keys = d.keys[1:]
		}
	}
	return false
}

// Count is the number of duplicates seen.
func (d *Dups) Count() int64 { return d.n }
