package loki_test

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/data/source/loki"
	"github.com/audittui/audittui/internal/data/source/loki/lokitest"
	"github.com/audittui/audittui/internal/testutil"
)

// realDated returns the real audit events that have a time of their own,
// each with its line, in time order.
func realDated(t *testing.T) []data.Event {
	t.Helper()
	var out []data.Event
	var dec data.Decoder
	for _, f := range testutil.RealAuditFiles(t) {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(fh)
		sc.Buffer(make([]byte, 1<<20), 16<<20)
		for sc.Scan() {
			l := append([]byte(nil), bytes.TrimSpace(sc.Bytes())...)
			evs, rej := dec.Decode(nil, l, data.Origin{})
			if rej != nil || len(evs) != 1 || evs[0].Time == 0 {
				continue
			}
			out = append(out, evs[0].Clone())
		}
		fh.Close()
	}
	slices.SortStableFunc(out, func(a, b data.Event) int { return cmp.Compare(a.Time, b.Time) })
	return out
}

// pushStamped stores events in one stream, each entry stamped delay(i)
// after its event's time (as a shipper stamps the time it read the line).
func pushStamped(s *lokitest.Server, labels data.Labels, evs []data.Event, delay func(i int) time.Duration) {
	st := loki.PushStream{Labels: labels}
	for i, e := range evs {
		st.Entries = append(st.Entries, loki.PushEntry{Time: e.Time + int64(delay(i)), Line: e.Raw})
	}
	slices.SortStableFunc(st.Entries, func(a, b loki.PushEntry) int { return cmp.Compare(a.Time, b.Time) })
	s.Push("", loki.PushRequest{Streams: []loki.PushStream{st}})
}

func readWarned(t *testing.T, src *loki.Source, opts data.ReadOptions) (evs []data.Event, warnings []string) {
	t.Helper()
	opts.Warn = func(m string) { warnings = append(warnings, m) }
	st, err := src.Open(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	evs, _ = readAll(t, st)
	return evs, warnings
}

// TestWindowOnEventTimeRealData: the real audit logs (2017-2023 events)
// pushed with entry timestamps 1.5 s to 2 min after each event (a shipper
// stamps the time it reads the line; batches wait, retries and restarts
// delay it): a window keeps the
// events whose own time is in it, the ones a file reader keeps, at every
// boundary between two events; with a limit, the newest (oldest) events of
// the window. An entry stamped an hour late is outside the margin: the
// read says so, naming it.
func TestWindowOnEventTimeRealData(t *testing.T) {
	evs := realDated(t)
	if len(evs) < 50 {
		t.Fatalf("%d dated real events", len(evs))
	}
	s := lokitest.New(lokitest.Options{})
	defer s.Close()
	// Entries 1.5 s to 2 min after their events: the entries' order is
	// not quite the events'.
	pushStamped(s, auditLabels, evs, func(i int) time.Duration { return 1500*time.Millisecond + time.Duration(i%7)*20*time.Second })
	c := newClient(t, s, loki.Config{})
	src := newSource(t, c, loki.SourceOptions{BatchSize: 7})
	in := func(from, to int64) (ids []string) {
		for _, e := range evs {
			if e.Time >= from && e.Time < to {
				ids = append(ids, e.AuditID+"@"+e.Stage+"@"+time.Unix(0, e.Time).String())
			}
		}
		return ids
	}
	idsOf := func(evs []data.Event) (ids []string) {
		for _, e := range evs {
			ids = append(ids, e.AuditID+"@"+e.Stage+"@"+time.Unix(0, e.Time).String())
		}
		return ids
	}
	for i := 1; i+3 < len(evs); i += 9 {
		// From at an event, to just after one: the entries of both
		// edges' events are stamped after them.
		from, to := evs[i].Time, evs[i+3].Time+int64(time.Millisecond)
		if from == evs[i-1].Time {
			continue
		}
		var tally data.WindowTally
		got, warns := readWarned(t, src, data.ReadOptions{From: from, To: to, Tally: &tally})
		want := in(from, to)
		if g := idsOf(got); !slices.Equal(g, want) {
			t.Fatalf("[%s, %s): %v, want %v", time.Unix(0, from).UTC(), time.Unix(0, to).UTC(), g, want)
		}
		if len(warns) != 0 {
			t.Errorf("warnings with every entry within 2 min of its event: %v", warns)
		}
		if c := tally.Counts(); c.In != int64(len(want)) || c.Before == 0 {
			t.Errorf("tally %+v: want %d let through and those before the window counted", c, len(want))
		}
	}
	// Limits: the read holds the newest (oldest) 5 events of a window,
	// which the caller keeps (query's keepN), as from the files.
	from, to := evs[3].Time, evs[len(evs)-3].Time
	var want []int64
	for _, e := range evs {
		if e.Time >= from && e.Time < to {
			want = append(want, e.Time)
		}
	}
	timesOf := func(evs []data.Event) (ts []int64) {
		for _, e := range evs {
			ts = append(ts, e.Time)
		}
		slices.Sort(ts)
		return ts
	}
	got, _ := readWarned(t, src, data.ReadOptions{From: from, To: to, Limit: 5, Newest: true})
	if g := timesOf(got); len(g) < 5 || !slices.Equal(g[len(g)-5:], want[len(want)-5:]) || len(g) == len(want) {
		t.Errorf("newest 5: %d events read, the newest at %v, want %v (and not the whole window)", len(g), g[max(0, len(g)-5):], want[len(want)-5:])
	}
	got, _ = readWarned(t, src, data.ReadOptions{From: from, To: to, Limit: 5})
	if g := timesOf(got); len(g) < 5 || !slices.Equal(g[:5], want[:5]) || len(g) == len(want) {
		t.Errorf("oldest 5: %d events read, the oldest at %v, want %v (and not the whole window)", len(g), g[:min(5, len(g))], want[:5])
	}

	// An entry an hour late (a shipper catching up after an outage).
	late := evs[len(evs)/2]
	pushStamped(s, data.Labels{{Name: "job", Value: "audit"}, {Name: "node", Value: "late"}}, []data.Event{late}, func(int) time.Duration { return time.Hour })
	_, warns := readWarned(t, src, data.ReadOptions{From: evs[0].Time, To: evs[len(evs)-1].Time + int64(2*time.Hour)})
	if len(warns) != 1 || !strings.Contains(warns[0], "1 entry was stamped more than --loki-lag (5m) from their event's own time, the furthest 1h after it") ||
		!strings.Contains(warns[0], `{job="audit", node="late"} @`) || !strings.Contains(warns[0], "raise --loki-lag above 1h1m") {
		t.Errorf("late entry: %q", warns)
	}
}

// TestNothingInTheDefaultWindow: without --from or --since, a Loki read
// covers the last --loki-since only (as logcli): finding nothing there,
// it says which window it read (review G finding 10: nothing printed, exit
// 0, for an archive of yesterday).
func TestNothingInTheDefaultWindow(t *testing.T) {
	s := lokitest.New(lokitest.Options{})
	defer s.Close()
	now := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	pushLines(s, auditLabels, now.Add(-20*time.Hour).UnixNano(), fixtureLines(t))
	src := newSource(t, newClient(t, s, loki.Config{}), loki.SourceOptions{Now: func() time.Time { return now }})
	evs, warns := readWarned(t, src, data.ReadOptions{})
	if len(evs) != 0 || len(warns) != 1 || !strings.Contains(warns[0], "nothing read from 2026-11-21T11:00:00Z to 2026-11-21T12:00:00Z: without --from or --since, a Loki read covers only the last 1h (--loki-since") {
		t.Errorf("%d events, warnings %q", len(evs), warns)
	}
	// With a window, or when something was read, nothing is said.
	if _, warns := readWarned(t, src, data.ReadOptions{From: now.Add(-2 * time.Hour).UnixNano()}); len(warns) != 0 {
		t.Errorf("a window: %q", warns)
	}
	src = newSource(t, newClient(t, s, loki.Config{}), loki.SourceOptions{Now: func() time.Time { return now }, Since: 24 * time.Hour})
	if evs, warns := readWarned(t, src, data.ReadOptions{}); len(evs) == 0 || len(warns) != 0 {
		t.Errorf("--loki-since 24h: %d events, %q", len(evs), warns)
	}
}
