package ui

import (
	"fmt"
	"strings"
	"testing"
)

// TestDictIntern: ids are dense and stable whatever the recent-value
// cache holds (values that share a slot alternate, values that differ
// only where the slot hash does not look).
func TestDictIntern(t *testing.T) {
	d := newDict()
	var vals []string
	for i := range 5000 {
		vals = append(vals, fmt.Sprintf("v%d-%s", i, strings.Repeat("x", i%40)))
	}
	// Same length, same first, middle and last bytes: one slot.
	vals = append(vals, "aXbYc", "aZbWc", "aQbRc")
	ids := map[string]uint32{"": 0}
	for round := range 3 {
		for i := range vals {
			v := vals[i]
			if round == 1 {
				v = vals[len(vals)-1-i]
			}
			id := d.intern(v)
			if want, ok := ids[v]; ok && want != id {
				t.Fatalf("round %d: %q got id %d, had %d", round, v, id, want)
			}
			ids[v] = id
			if d.vals[id] != v {
				t.Fatalf("vals[%d] = %q, want %q", id, d.vals[id], v)
			}
		}
	}
	if len(d.vals) != len(vals)+1 || d.intern("") != 0 {
		t.Fatalf("%d values for %d strings", len(d.vals), len(vals))
	}
}
