package ui

import (
	"bufio"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/data/logql"
)

// testdata/forwarded.jsonl: requests that came through proxies, whose
// sourceIPs list X-Forwarded-For's (and X-Real-Ip's) addresses before the
// address the API server's connection came from. A stolen token is used
// from 198.51.100.23 with a forged X-Forwarded-For naming a node
// (10.0.0.7, the sourceIP field); the same outside address comes through
// two proxies for bob, where it is a forwarded address only.
const forwardedFixture = "testdata/forwarded.jsonl"

// TestSnapshotSourceIPs: every address of each event, from the sourceIP
// column or the chain column (which costs nothing for logs without
// forwarded addresses), and the JSON text `| json x="sourceIPs"` gives,
// the same as the decoded event's.
func TestSnapshotSourceIPs(t *testing.T) {
	ix := loadIndex(t, forwardedFixture)
	s := ix.Snapshot()
	want := [][]string{
		{"203.0.113.9", "10.0.0.5"}, {"203.0.113.9"}, {"10.0.0.7", "198.51.100.23"}, {"10.0.0.7", "198.51.100.23"},
		{"198.51.100.23", "172.16.4.4", "10.0.0.5"}, {"10.0.0.7"}, {"192.168.1.77"}, nil,
	}
	if s.Len() != len(want) {
		t.Fatalf("%d events, want %d", s.Len(), len(want))
	}
	evs := decodeLines(t, forwardedFixture)
	for i, w := range want {
		if got := s.SourceIPs(i); !slices.Equal(got, w) {
			t.Errorf("event %d: SourceIPs %q, want %q", i, got, w)
		}
		got, _, _ := s.sourceIPsJSON(i)
		if js, _ := data.SourceIPsJSON(&evs[i]); got != js {
			t.Errorf("event %d: sourceIPs text %q, the event's %q", i, got, js)
		}
	}
	if plain := loadIndex(t, "testdata/events.jsonl").Snapshot(); plain.ipChains.col.chunks != nil {
		t.Error("a log without forwarded addresses allocated the chain column")
	}
}

// decodeLines decodes every line of path as `audittui query` reads a
// file: its events labelled job="audit".
func decodeLines(t *testing.T, path string) []data.Event {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var dec data.Decoder
	var evs []data.Event
	sc := bufio.NewScanner(f)
	for n := int64(1); sc.Scan(); n++ {
		k := len(evs)
		evs, _ = dec.Decode(evs, sc.Bytes(), data.Origin{Source: &data.SourceInfo{Name: path, Labels: data.Labels{{Name: "job", Value: "audit"}}}, Line: n})
		for j := k; j < len(evs); j++ {
			evs[j] = evs[j].Clone()
		}
	}
	return evs
}

// memoNeedsRaw reports whether a filter's evaluation had to read some
// event back (a leaf of its decision tree says "needs the raw event").
func memoNeedsRaw(f *Filter) bool {
	if f.memo == nil {
		return false
	}
	var walk func(n *memoNode) bool
	walk = func(n *memoNode) bool {
		if n == nil {
			return false
		}
		if n.col < 0 {
			return n.result < 0
		}
		return slices.ContainsFunc(n.kids, walk)
	}
	return walk(f.memo.root)
}

// TestIPPivotAnyAddress: the Timeline of a source IP lists the events
// that have it among their sourceIPs, wherever it is, and its title
// counts those where it is only a forwarded (client-set) address; f
// filters to the same events with LogQL that `audittui query` answers the
// same, answered from the columns.
func TestIPPivotAnyAddress(t *testing.T) {
	evs := decodeLines(t, forwardedFixture)
	for _, c := range []struct {
		ip        string
		rows      []int // index rows (the fixture's lines - 1)
		forwarded int
	}{
		{"198.51.100.23", []int{2, 3, 4}, 1},
		{"10.0.0.7", []int{2, 3, 5}, 2},
		{"10.0.0.5", []int{0, 4}, 0},
		{"172.16.4.4", []int{4}, 1},
		{"203.0.113.9", []int{0, 1}, 1},
		{"10.0.0", nil, 0},
	} {
		a := newTestAppFile(t, forwardedFixture, 120, 40)
		command_(t, a, "ip "+c.ip)
		if col, v := a.tl.Subject(); col != ColSourceIP || v != c.ip {
			t.Fatalf(":ip %s: subject %v %q", c.ip, col, v)
		}
		if !slices.Equal(a.tl.events, c.rows) || a.tl.fwd != c.forwarded {
			t.Errorf(":ip %s: events %v (%d forwarded only), want %v (%d)", c.ip, a.tl.events, a.tl.fwd, c.rows, c.forwarded)
		}
		var title string
		for _, l := range strings.Split(screen(a), "\n") {
			if strings.Contains(l, "source IP ") {
				title = l
			}
		}
		if want := fmt.Sprintf("(%d only as forwarded, client-set)", c.forwarded); (c.forwarded > 0) != strings.Contains(title, want) {
			t.Errorf(":ip %s: title %q (want %q: %v)", c.ip, title, want, c.forwarded > 0)
		}
		if len(c.rows) == 0 {
			continue
		}
		send(t, a, "f")
		if a.filter.Text != SourceIPQuery(c.ip) {
			t.Errorf(":ip %s: filter %s", c.ip, a.filter.Text)
		}
		var got []int
		for k := range a.c.Rows.Len() {
			got = append(got, a.c.Rows.At(k))
		}
		if !slices.Equal(got, c.rows) {
			t.Errorf(":ip %s, f: rows %v, want %v", c.ip, got, c.rows)
		}
		if a.filter.NeedsRaw() || memoNeedsRaw(a.filter) {
			t.Errorf(":ip %s: the filter read events back; the source-IP columns answer it", c.ip)
		}
		// `audittui query` evaluates the same text on the decoded events.
		q, err := logql.ParseLog(a.filter.Text)
		if err != nil {
			t.Fatal(err)
		}
		var byQuery []int
		for i := range evs {
			if q.Matches(&evs[i]) {
				byQuery = append(byQuery, i)
			}
		}
		if !slices.Equal(byQuery, c.rows) {
			t.Errorf(":ip %s: query selects %v, the pivot %v", c.ip, byQuery, c.rows)
		}
	}
	if got := SourceIPQuery("10.0.0.1"); got != `{job="audit"} | json | json src_ips="sourceIPs" | src_ips=~`+"`"+`.*"10\.0\.0\.1".*`+"`" {
		t.Errorf("SourceIPQuery = %s", got)
	}
	// An address that JSON escapes, or a backtick: the same query text
	// selects it (hostile logs only; an API server records parsed IPs).
	for _, ip := range []string{`a"b`, "a`b", `a\b`} {
		q, err := logql.ParseLog(SourceIPQuery(ip))
		if err != nil {
			t.Fatalf("%q: %v", ip, err)
		}
		ev := data.Event{SourceIPs: []string{"10.0.0.1", ip},
			Origin: data.Origin{Source: &data.SourceInfo{Name: "x", Labels: data.Labels{{Name: "job", Value: "audit"}}}}}
		if !q.Matches(&ev) {
			t.Errorf("%q: %s does not select it", ip, SourceIPQuery(ip))
		}
	}
}

// TestIPPivotWalksTheChain: p on an event with several addresses goes to
// its first (the sourceIP field), then each next one to the connection's
// (the last), then round; the status says which and that the forwarded
// ones are the client's to set.
func TestIPPivotWalksTheChain(t *testing.T) {
	a := newTestAppFile(t, forwardedFixture, 120, 40)
	command_(t, a, "user bob")
	// bob's first event came through two proxies.
	send(t, a, "g")
	if r, ok := a.tl.Selected(); !ok || r != 4 {
		t.Fatalf("cursor on row %d (%v), want bob's first event", r, ok)
	}
	for k, want := range []string{"198.51.100.23", "172.16.4.4", "10.0.0.5", "198.51.100.23"} {
		// Back on bob's event after the first pivot: it is among each
		// address's events.
		for a.tl.ecursor > 0 && a.tl.events[a.tl.ecursor] != 4 {
			send(t, a, "up")
		}
		if r, ok := a.tl.Selected(); !ok || r != 4 {
			t.Fatalf("step %d: cursor on row %d (%v)", k, r, ok)
		}
		send(t, a, "p")
		if col, v := a.tl.Subject(); col != ColSourceIP || v != want {
			t.Fatalf("step %d: p went to %v %q, want %s", k, col, v, want)
		}
		which := "forwarded (X-Forwarded-For, X-Real-Ip): set by the client"
		if want == "10.0.0.5" {
			which = "the address the connection came from"
		}
		if !strings.Contains(a.status, "(198.51.100.23, 172.16.4.4, 10.0.0.5): "+which) {
			t.Errorf("step %d: status %q", k, a.status)
		}
	}
	// An event with one address: p goes there, nothing to say.
	a = newTestAppFile(t, forwardedFixture, 120, 40)
	command_(t, a, "user alice")
	send(t, a, "G")
	send(t, a, "p")
	if _, v := a.tl.Subject(); v != "203.0.113.9" || a.status != "" {
		t.Errorf("p on alice's direct request: %q, status %q", v, a.status)
	}
}

// TestGoldenForwarded: the Timeline of an outside address that a stolen
// token used behind a forged X-Forwarded-For, and the Detail of such a
// request, at 80x24 and 120x40.
func TestGoldenForwarded(t *testing.T) {
	for _, sz := range sizes {
		a := newTestAppFile(t, forwardedFixture, sz.w, sz.h)
		command_(t, a, "ip 198.51.100.23")
		s := screen(a)
		checkScreen(t, s, sz.w, sz.h)
		golden(t, fmt.Sprintf("timeline_forwarded_%dx%d.txt", sz.w, sz.h), s)
		send(t, a, "g", "enter")
		s = screen(a)
		checkScreen(t, s, sz.w, sz.h)
		if !strings.Contains(s, "from      10.0.0.7, 198.51.100.23  curl/8.5.0") || !strings.Contains(s, "all but the last are client-set") {
			t.Errorf("%dx%d: the detail does not show the addresses and what they are:\n%s", sz.w, sz.h, s)
		}
		golden(t, fmt.Sprintf("detail_forwarded_%dx%d.txt", sz.w, sz.h), s)
	}
}
