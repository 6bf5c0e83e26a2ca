package casefile

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// stateDigest renders what a State says, for comparing two.
func stateDigest(st *State) string {
	s := bookmarked(st)
	var filters []string
	for name, r := range st.Filters {
		filters = append(filters, name+"="+r.Query)
	}
	slices.Sort(filters)
	var notes []string
	for _, n := range st.Notes {
		notes = append(notes, n.Text)
	}
	var silences []string
	for _, r := range st.Silences {
		silences = append(silences, r.ID)
	}
	return fmt.Sprintf("%s\nfilters %v\nnotes %v\nsilences %v", s, filters, notes, silences)
}

// TestApplyAnyOrder: Apply gives the same state whatever order the
// records come in (files merged in any order, lines appended by two
// investigators): the latest filter of a name wins, a removal removes
// what it names even when it comes first, notes keep their time order.
func TestApplyAnyOrder(t *testing.T) {
	c := Memory()
	c.Now, c.Author = clock(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)), "alice"
	mustAdd(t, c, Record{Kind: KindFilter, Name: "secrets", Query: `{job="audit"} | json | objectRef_resource="secrets"`})
	b1 := mustAdd(t, c, Record{Kind: KindBookmark, Event: ev("e1", 1)})
	mustAdd(t, c, Record{Kind: KindBookmark, Event: ev("e2", 2)})
	mustAdd(t, c, Record{Kind: KindNote, Text: "first"})
	tag := mustAdd(t, c, Record{Kind: KindTag, Event: ev("e2", 2), Tag: "lateral"})
	mustAdd(t, c, Record{Kind: KindFilter, Name: "secrets", Query: `{job="audit"} | json | objectRef_resource="secrets" | verb="get"`})
	mustAdd(t, c, Record{Kind: KindNote, Text: "second"})
	mustAdd(t, c, Record{Kind: KindUnbookmark, Refs: []string{b1.ID}, Event: ev("e1", 1)})
	mustAdd(t, c, Record{Kind: KindTag, Event: ev("e2", 2), Tag: "exfil"})
	mustAdd(t, c, Record{Kind: KindUntag, Refs: []string{tag.ID}, Event: ev("e2", 2)})
	recs := c.Records()
	want := stateDigest(Apply(recs))
	if exp := "e2 #exfil\nfilters [secrets={job=\"audit\"} | json | objectRef_resource=\"secrets\" | verb=\"get\"]\nnotes [first second]\nsilences []"; want != exp {
		t.Fatalf("state in time order:\n%s\nwant\n%s", want, exp)
	}
	reversed := slices.Clone(recs)
	slices.Reverse(reversed)
	orders := [][]Record{reversed}
	rng := rand.New(rand.NewPCG(3, 4))
	for range 5 {
		s := slices.Clone(recs)
		rng.Shuffle(len(s), func(i, j int) { s[i], s[j] = s[j], s[i] })
		orders = append(orders, s)
	}
	for i, o := range orders {
		if got := stateDigest(Apply(o)); got != want {
			t.Errorf("order %d:\n%s\nwant\n%s", i, got, want)
		}
	}
}

// TestBookmarkLengthFromAnyRecord: an event bookmarked once by a build that
// did not record lengths and once by one that did has its length, in
// either order.
func TestBookmarkLengthFromAnyRecord(t *testing.T) {
	for _, order := range [][2]int64{{0, 816}, {816, 0}} {
		c := Memory()
		c.Now = clock(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC))
		for _, n := range order {
			e := ev("e1", 1)
			e.Length = n
			mustAdd(t, c, Record{Kind: KindBookmark, Event: e})
		}
		if bs := c.State().Bookmarks; len(bs) != 1 || bs[0].Event.Length != 816 {
			t.Errorf("%v: %+v", order, bs)
		}
	}
}
