package data

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
)

// batchStream yields fixed batches.
type batchStream struct {
	batches []*Batch
}

func (s *batchStream) Next(context.Context) (*Batch, error) {
	if len(s.batches) == 0 {
		return nil, io.EOF
	}
	b := s.batches[0]
	s.batches = s.batches[1:]
	return b, nil
}

func (s *batchStream) Close() error { return nil }

// naiveMerge is the k-way merge one event at a time: the source whose
// head has the least time; on a tie, the one whose file comes first
// (citeOrder of the event's source), then the first source.
func naiveMerge(inputs [][][]Event) []string {
	type cur struct{ b, i int }
	pos := make([]cur, len(inputs))
	var out []string
	for {
		best := -1
		var bt int64
		for k, in := range inputs {
			p := pos[k]
			for p.b < len(in) && p.i >= len(in[p.b]) {
				p.b, p.i = p.b+1, 0
			}
			pos[k] = p
			if p.b >= len(in) {
				continue
			}
			e := &in[p.b][p.i]
			if best < 0 || e.Time < bt {
				best, bt = k, e.Time
				continue
			}
			if b := &inputs[best][pos[best].b][pos[best].i]; e.Time == bt && e.Origin.Source != b.Origin.Source &&
				citeOrder(e.Origin.Source.Name).cmp(citeOrder(b.Origin.Source.Name)) < 0 {
				best = k
			}
		}
		if best < 0 {
			return out
		}
		p := pos[best]
		out = append(out, inputs[best][p.b][p.i].AuditID)
		pos[best].i++
	}
}

// TestMergeRunsEqualOneAtATime: the merge takes runs of events from one
// source at once; the order is the one-event-at-a-time merge's, on
// overlapping, disjoint, unsorted and tied inputs.
func TestMergeRunsEqualOneAtATime(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for iter := 0; iter < 300; iter++ {
		k := 1 + rng.IntN(5)
		var inputs [][][]Event
		id := 0
		names := []string{"audit.log", "audit (copy).log", "b/audit.log", "audit.log.1", "x.json", "audit-2026-11-20T02-40-20.120.log.gz"}
		for s := 0; s < k; s++ {
			src := &SourceInfo{Name: names[rng.IntN(len(names))]}
			var batches [][]Event
			base := int64(rng.IntN(3)) * 1000 * int64(s) // disjoint ranges sometimes
			tm := base
			for b := rng.IntN(4); b >= 0; b-- {
				var evs []Event
				for e := rng.IntN(6); e >= 0; e-- {
					switch rng.IntN(4) {
					case 0: // a tie
					case 1: // out of order
						tm -= int64(rng.IntN(5))
					default:
						tm += int64(rng.IntN(5))
					}
					evs = append(evs, Event{Time: tm, AuditID: fmt.Sprint(id), Origin: Origin{Source: src}})
					id++
				}
				batches = append(batches, evs)
			}
			inputs = append(inputs, batches)
		}
		var streams []Stream
		for _, in := range inputs {
			bs := &batchStream{}
			for _, evs := range in {
				bs.batches = append(bs.batches, &Batch{Events: append([]Event(nil), evs...)})
			}
			streams = append(streams, bs)
		}
		evs, _ := drain(t, MergeStreams(streams))
		var got []string
		for _, e := range evs {
			got = append(got, e.AuditID)
		}
		if want := naiveMerge(inputs); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("iteration %d: merged %v, one at a time %v", iter, got, want)
		}
	}
}

// TestCiteOrder: among files holding the same events, the one the
// apiserver's rotation named comes first, then the shorter name, then
// the name; never the order given.
func TestCiteOrder(t *testing.T) {
	for _, tc := range []struct {
		a, b string // a before b
	}{
		{"ev/audit-2026-11-20T02-40-20.120.log.gz", "ev/audit-2026-11-20T02-40-20.120 (copy).log.gz"},
		{"audit.log", "audit (copy).log"},
		{"audit.log", "audit - Copy.log"},
		{"audit.log", "audit 2.log"},
		{"audit.log.1.gz", "audit.json"},
		{"kube-apiserver-audit.log", "evidence-export.json"},
		{"audit.log", "audit.log.1"},
		{"a/audit.log", "b/audit.log"},
		{"x.json", "x-copy.json"},
		// Review K finding 8: an extract, a damaged copy or a copied
		// folder is not cited before the apiserver's file.
		{"ev/node1/audit-2026-11-20T03-00-00.000.log.gz", "ev/misc/truncated-p2.log.gz"},
		{"ev/node1/audit-2026-11-20T03-30-00.000.log", "ev/misc/all-unordered.log"},
		{"ev/node1/audit-2026-11-20T02-30-00.000.log", "p1.log"},
		{"ev/node1/audit-2026-11-20T03-00-00.000.log.gz", "ev/node1 (copy)/audit-2026-11-20T03-00-00.000.log.gz"},
		{"ev/node1/audit-2026-11-20T03-00-00.000.log.gz", "/tmp/rk/node1copy2/audit-2026-11-20T03-00-00.000.log.gz"},
		{"/home/J Smith/ev/audit.log", "/home/J Smith/ev (copy)/audit.log"},
		{"/var/log/kubernetes/audit/audit.log.2.gz", "/tmp/extract.log.gz"},
		{"ev/extract-2026.log", "ev/a.json"}, // an export is a copy, however short its name
	} {
		if c := citeOrder(tc.a).cmp(citeOrder(tc.b)); c >= 0 {
			t.Errorf("%q does not come before %q (%d)", tc.a, tc.b, c)
		}
		if c := citeOrder(tc.b).cmp(citeOrder(tc.a)); c <= 0 {
			t.Errorf("%q comes before %q (%d)", tc.b, tc.a, c)
		}
	}
}

// TestMergeCopyOrderIndependent: a file and its copy merged in either
// order give the copy's events after the original's, so the first of
// two identical events (the one kept) is the original's.
func TestMergeCopyOrderIndependent(t *testing.T) {
	orig := &SourceInfo{Name: "ev/audit-2026-11-20T02-40-20.120.log.gz"}
	cp := &SourceInfo{Name: "ev/audit-2026-11-20T02-40-20.120 (copy).log.gz"}
	mk := func(src *SourceInfo) Stream {
		var evs []Event
		for i := range 10 {
			evs = append(evs, Event{Time: int64(i / 2), AuditID: fmt.Sprint(i), Origin: Origin{Source: src, Line: int64(i + 1)}})
		}
		return &batchStream{batches: []*Batch{{Events: evs}}}
	}
	for _, first := range []*SourceInfo{orig, cp} {
		second := orig
		if first == orig {
			second = cp
		}
		evs, _ := drain(t, MergeStreams([]Stream{mk(first), mk(second)}))
		d := NewDups(0)
		for i := range evs {
			if !d.Seen(&evs[i]) && evs[i].Origin.Source != orig {
				t.Fatalf("%s first: %s:%d kept", first.Name, evs[i].Origin.Source.Name, evs[i].Origin.Line)
			}
		}
		if d.Count() != 10 {
			t.Errorf("%s first: %d duplicates", first.Name, d.Count())
		}
	}
}

// optsSource records the options it is opened with.
type optsSource struct{ got *[]ReadOptions }

func (s optsSource) String() string { return "opts" }
func (s optsSource) Open(_ context.Context, o ReadOptions) (Stream, error) {
	*s.got = append(*s.got, o)
	return &batchStream{}, nil
}

// Several sources share one source's read-ahead: what a merge of n files
// holds does not grow with n.
func TestOpenAllSharesReadAhead(t *testing.T) {
	for _, n := range []int{1, 2, 3, 10, 40} {
		var got []ReadOptions
		srcs := make([]Source, n)
		for i := range srcs {
			srcs[i] = optsSource{&got}
		}
		st, err := OpenAll(context.Background(), srcs, ReadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		st.Close()
		chunk := 0
		for _, o := range got {
			c := o.ChunkBytes
			if c == 0 {
				c = chunkSize
			}
			chunk += c
		}
		if n == 1 && got[0].ChunkBytes != 0 {
			t.Errorf("one source: options changed: %+v", got[0])
		}
		if n > 1 && chunk > max(chunkSize, n*minMergeChunk) {
			t.Errorf("%d sources: %d bytes of chunks in all, one source alone has %d", n, chunk, chunkSize)
		}
	}
}

// startStream is a batchStream that tells when its events start
// (Starter) and counts, in *open, the streams read and not ended.
type startStream struct {
	batchStream
	start        int64
	ok           bool
	read, ended  bool
	open, opened *int
	maxOpen      *int
}

func (s *startStream) Start(context.Context) (int64, bool) { return s.start, s.ok }

func (s *startStream) Next(ctx context.Context) (*Batch, error) {
	if !s.read && s.open != nil {
		s.read = true
		*s.open++
		*s.opened++
		*s.maxOpen = max(*s.maxOpen, *s.open)
	}
	b, err := s.batchStream.Next(ctx)
	if errors.Is(err, io.EOF) && !s.ended && s.open != nil {
		s.ended = true
		*s.open--
	}
	return b, err
}

// TestLazyMergeEqualsOneAtATime: inputs that tell when they start (their
// first event's time, or earlier) are read only from then on, and the
// order is still the one-event-at-a-time merge's, with inputs that do not
// tell among them.
func TestLazyMergeEqualsOneAtATime(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for iter := 0; iter < 500; iter++ {
		k := 1 + rng.IntN(7)
		var inputs [][][]Event
		id := 0
		for s := 0; s < k; s++ {
			var batches [][]Event
			tm := int64(rng.IntN(3000))
			for b := rng.IntN(4); b >= 0; b-- {
				var evs []Event
				for e := rng.IntN(6); e >= 0; e-- {
					switch rng.IntN(4) {
					case 0: // a tie
					case 1: // out of order
						tm -= int64(rng.IntN(5))
					default:
						tm += int64(rng.IntN(400))
					}
					evs = append(evs, Event{Time: tm, AuditID: fmt.Sprint(id)})
					id++
				}
				batches = append(batches, evs)
			}
			inputs = append(inputs, batches)
		}
		var streams []Stream
		for _, in := range inputs {
			bs := batchStream{}
			first := int64(-1)
			for _, evs := range in {
				bs.batches = append(bs.batches, &Batch{Events: append([]Event(nil), evs...)})
				if first < 0 && len(evs) > 0 {
					first = evs[0].Time
				}
			}
			switch rng.IntN(3) {
			case 0: // cannot tell
				streams = append(streams, &bs)
			case 1: // its first event's time
				streams = append(streams, &startStream{batchStream: bs, start: first, ok: true})
			default: // earlier
				streams = append(streams, &startStream{batchStream: bs, start: first - int64(rng.IntN(500)), ok: true})
			}
		}
		evs, _ := drain(t, MergeStreams(streams))
		var got []string
		for _, e := range evs {
			got = append(got, e.AuditID)
		}
		if want := naiveMerge(inputs); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("iteration %d: merged %v, one at a time %v", iter, got, want)
		}
	}
}

// manyInputs returns n streams of m events each, the i-th starting at
// starts(i), one unit apart, which tell their start; *open counts those
// read and not ended.
func manyInputs(n, m int, starts func(i int) int64, open, opened, maxOpen *int) []Stream {
	var streams []Stream
	for i := 0; i < n; i++ {
		var evs []Event
		for j := 0; j < m; j++ {
			evs = append(evs, Event{Time: starts(i) + int64(j), AuditID: fmt.Sprintf("%d/%d", i, j)})
		}
		streams = append(streams, &startStream{batchStream: batchStream{batches: []*Batch{{Events: evs}}},
			start: starts(i), ok: true, open: open, opened: opened, maxOpen: maxOpen})
	}
	return streams
}

// A merge of many inputs that follow one another in time (a day of minute
// objects) reads them one after the other, not all at once, whatever the
// order they are given in; the answer is the same.
func TestLazyMergeReadsInputsInTurn(t *testing.T) {
	const n, m = 1000, 10
	perm := rand.New(rand.NewPCG(1, 2)).Perm(n)
	var open, opened, maxOpen int
	streams := manyInputs(n, m, func(i int) int64 { return int64(perm[i]) * 100 }, &open, &opened, &maxOpen)
	evs, _ := drain(t, MergeStreams(streams))
	if len(evs) != n*m || opened != n {
		t.Fatalf("%d events from %d inputs, want %d from %d", len(evs), opened, n*m, n)
	}
	for i := 1; i < len(evs); i++ {
		if evs[i].Time < evs[i-1].Time {
			t.Fatalf("out of order at %d: %d after %d", i, evs[i].Time, evs[i-1].Time)
		}
	}
	if maxOpen > 2 {
		t.Fatalf("%d inputs read at once, want at most 2 (they do not overlap)", maxOpen)
	}
}

// When more inputs overlap in time than MaxOpenInputs, the merge reads no
// more than that many at once and still delivers every event, each
// input's in its order.
func TestLazyMergeBoundsOverlappingInputs(t *testing.T) {
	defer func(n int) { MaxOpenInputs = n }(MaxOpenInputs)
	MaxOpenInputs = 16
	const n, m = 200, 50
	var open, opened, maxOpen int
	streams := manyInputs(n, m, func(i int) int64 { return int64(i) }, &open, &opened, &maxOpen)
	evs, _ := drain(t, MergeStreams(streams))
	if len(evs) != n*m {
		t.Fatalf("%d events, want %d", len(evs), n*m)
	}
	if maxOpen > 16 {
		t.Fatalf("%d inputs read at once, want at most MaxOpenInputs (16)", maxOpen)
	}
	next := map[string]int{}
	for _, e := range evs {
		in, j, _ := strings.Cut(e.AuditID, "/")
		if fmt.Sprint(next[in]) != j {
			t.Fatalf("input %s: event %s came before %d", in, j, next[in])
		}
		next[in]++
	}
}
