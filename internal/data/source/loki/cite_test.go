package loki_test

import (
	"context"
	"crypto/sha256"
	"strconv"
	"testing"
	"time"

	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/data/source/loki"
	"github.com/audittui/audittui/internal/data/source/loki/lokitest"
)

// TestCitations: a Loki entry is cited by its stream's labels and its own
// nanosecond timestamp (not a line number: Loki has none), from two
// streams read in parallel sub-ranges; the sha256 of an event's raw bytes
// is that of the line stored.
func TestCitations(t *testing.T) {
	s := lokitest.New(lokitest.Options{})
	defer s.Close()
	now := time.Now()
	lines := fixtureLines(t)
	// Timestamps with every nanosecond digit significant.
	base := now.Add(-20*time.Minute).Truncate(time.Second).UnixNano() + 123456789
	streams := []data.Labels{
		{{Name: "job", Value: "audit"}, {Name: "cluster", Value: "c1"}, {Name: "filename", Value: "/var/log/kubernetes/audit/audit.log"}},
		{{Name: "job", Value: "audit"}, {Name: "cluster", Value: "c2"}},
	}
	want := map[string][32]byte{} // citation -> sha256 of the line
	for k, ls := range streams {
		st := loki.PushStream{Labels: ls}
		for i, l := range lines {
			ts := base + int64(k) + int64(i)*int64(7*time.Second+1)
			st.Entries = append(st.Entries, loki.PushEntry{Time: ts, Line: l})
			want[data.Labels(ls).String()+" @"+strconv.FormatInt(ts, 10)] = sha256.Sum256(l)
		}
		s.Push("", loki.PushRequest{Streams: []loki.PushStream{st}})
	}
	c := newClient(t, s, loki.Config{})
	src := newSource(t, c, loki.SourceOptions{BatchSize: 4, ParallelDuration: time.Minute, ParallelMaxWorkers: 3, Now: func() time.Time { return now }})
	st, err := src.Open(context.Background(), data.ReadOptions{}) // the last hour of entries
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	evs, rejs := readAll(t, st)
	if len(rejs) != 0 {
		t.Fatalf("rejects %v", rejs)
	}
	seen := map[string]bool{}
	for _, e := range evs {
		cite := e.Origin.Cite()
		sum, ok := want[cite]
		if !ok {
			t.Errorf("citation %s names no stored entry", cite)
			continue
		}
		if sum != sha256.Sum256(e.Raw) {
			t.Errorf("%s: sha256 of the raw bytes is not that of the stored line", cite)
		}
		seen[cite] = true
	}
	if len(seen) != len(want) {
		t.Errorf("%d entries cited, %d stored", len(seen), len(want))
	}
	// The labels are sorted as Loki prints a stream.
	if got := streams[0].String(); got != `{cluster="c1", filename="/var/log/kubernetes/audit/audit.log", job="audit"}` {
		t.Errorf("labels %s", got)
	}
}
