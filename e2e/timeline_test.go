package e2e

import (
	"fmt"
	"sort"
	"testing"

	"github.com/audittui/audittui/internal/data"
)

// sampleEvents decodes the bundled sample.
func sampleEvents(t *testing.T) []data.Event {
	t.Helper()
	lines, _ := sampleLines(t)
	var dec data.Decoder
	var evs []data.Event
	for _, l := range lines {
		n := len(evs)
		evs, _ = dec.Decode(evs, l, data.Origin{})
		for k := n; k < len(evs); k++ {
			evs[k] = evs[k].Clone()
		}
	}
	return evs
}

// TestTimelineKeepsTheUser: the user picked in the Timeline's list stays
// picked when the filter is cleared (esc) and brought back (:undo), though
// the ranking moves them to another row; the title counts what others did
// as them apart; at 80x24 and 120x40.
func TestTimelineKeepsTheUser(t *testing.T) {
	evs := sampleEvents(t)
	const user = "bob@corp.example"
	deletes := map[string]int{}
	own, asImp := 0, 0
	for _, e := range evs {
		if e.Verb == "delete" {
			deletes[e.User]++
		}
		switch {
		case e.User == user:
			own++
		case e.ImpUser == user:
			asImp++
		}
	}
	if asImp == 0 {
		t.Fatal("the sample has no event made as bob: the test needs one")
	}
	// bob's row among the deleters (ranked by count, then name).
	var ranked []string
	for u := range deletes {
		ranked = append(ranked, u)
	}
	sort.Slice(ranked, func(i, j int) bool {
		a, b := ranked[i], ranked[j]
		return deletes[a] > deletes[b] || deletes[a] == deletes[b] && a < b
	})
	row := -1
	for k, u := range ranked {
		if u == user {
			row = k
		}
	}
	if row <= 0 {
		t.Fatal("bob is not below the first deleter: the test needs him further down")
	}
	for _, sz := range []struct{ w, h int }{{80, 24}, {120, 40}} {
		t.Run(fmt.Sprintf("%dx%d", sz.w, sz.h), func(t *testing.T) {
			s := startSample(t, sz.w, sz.h)
			s.keys("/")
			s.waitGone("filter bar opens", "no filter ·")
			s.text(`verb="delete"`)
			s.keys("Enter")
			s.waitFor("filter", `filter verb="delete"`)
			// Tab reaches the Timeline as left (2 would open the user
			// of the event selected in the Tail).
			s.keys("Tab")
			s.waitFor("timeline", "USERS BY EVENTS")
			for range row {
				s.keys("j")
			}
			s.waitFor("bob picked", fmt.Sprintf("user %s  %d events", user, deletes[user]))
			s.keys("Escape")
			// The hint names what undoes here: the Timeline's u is a
			// pivot, so :undo.
			// ... beside the counts (a message never covers them).
			s.waitFor("filter cleared", "no filter ·", "filter cleared · :undo brings it back",
				fmt.Sprintf("loaded %s · matching %s", thousands(len(evs)), thousands(len(evs))))
			title := fmt.Sprintf("user %s  %d events (%d ", user, own+asImp, asImp)
			s.waitFor("bob still picked", title)
			s.keys(":")
			s.text("undo")
			s.keys("Enter")
			s.waitFor("undone", `filter verb="delete"`, fmt.Sprintf("user %s  %d events", user, deletes[user]))
			s.keys("q")
			s.waitFor("quit", "audittui-exit=0")
		})
	}
}
