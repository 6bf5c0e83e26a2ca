package data

import (
	"cmp"
	"container/heap"
	"context"
	"errors"
	"io"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
)

// mergeBatch is how many events a merged batch holds at most.
const mergeBatch = 4096

// MergeStreams merges finite streams in time order (a k-way merge on the
// event time). Events of one time from different files are taken in the
// order of their files' names (citeOrder), else in input order: a copy of
// a file (audit-....log.gz and "audit-.... (copy).log.gz") repeats the
// events of the file the apiserver's rotation named, whatever the order
// of the arguments, so the original is what a reader that keeps the first
// of identical events keeps and cites. Rejects are passed on as soon as
// they are read. Events without a timestamp sort as time 0.
func MergeStreams(streams []Stream) Stream {
	if len(streams) == 1 {
		return streams[0]
	}
	m := &mergeStream{evs: make(chan []Event, 2)}
	ranks := &citeRanks{}
	for i, s := range streams {
		m.ins = append(m.ins, &mergeIn{s: s, idx: i, ranks: ranks})
	}
	return m
}

type mergeIn struct {
	s     Stream
	idx   int
	b     *Batch
	i     int
	done  bool
	ranks *citeRanks // shared by the merge's inputs
}

func (in *mergeIn) head() *Event { return &in.b.Events[in.i] }

// precedes reports whether event a of input in comes before event b of
// input other: by time, then by the names of their files, then by input
// order.
func (in *mergeIn) precedes(a *Event, other *mergeIn, b *Event) bool {
	if a.Time != b.Time {
		return a.Time < b.Time
	}
	if a.Origin.Source != b.Origin.Source {
		if c := in.ranks.of(a.Origin.Source).cmp(in.ranks.of(b.Origin.Source)); c != 0 {
			return c < 0
		}
	}
	return in.idx < other.idx
}

type mergeHeap []*mergeIn

func (h mergeHeap) Len() int { return len(h) }
func (h mergeHeap) Less(i, j int) bool {
	return h[i].precedes(h[i].head(), h[j], h[j].head())
}
func (h mergeHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *mergeHeap) Push(x any)   { *h = append(*h, x.(*mergeIn)) }
func (h *mergeHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

type mergeStream struct {
	// evs takes back the event slices of released merged batches (when
	// the sources recycle); their stale events point into a few of the
	// sources' buffers, which bounds what the two kept pin.
	evs       chan []Event
	ins       []*mergeIn
	h         mergeHeap
	primed    bool
	rejects   []Reject
	bytes     int64
	undated   int
	undatedAt string // cites the first of them
}

// fill loads the next batch with events into in; it collects rejects.
func (m *mergeStream) fill(ctx context.Context, in *mergeIn) error {
	for {
		b, err := in.s.Next(ctx)
		if errors.Is(err, io.EOF) {
			in.done = true
			return nil
		}
		if err != nil {
			return err
		}
		m.rejects = append(m.rejects, b.Rejects...)
		m.bytes += b.Bytes
		if m.undated == 0 {
			m.undatedAt = b.UndatedAt
		}
		m.undated += b.Undated
		if len(b.Events) > 0 {
			in.b, in.i = b, 0
			return nil
		}
		b.Release() // nothing of it is kept
	}
}

func (m *mergeStream) Next(ctx context.Context) (*Batch, error) {
	if !m.primed {
		m.primed = true
		for _, in := range m.ins {
			if err := m.fill(ctx, in); err != nil {
				return nil, err
			}
			if !in.done {
				m.h = append(m.h, in)
			}
		}
		heap.Init(&m.h)
	}
	out := &Batch{}
	select {
	case out.Events = <-m.evs:
	default:
	}
	var deps []*Batch // the batches out's events come from, held for it
	recycled := false
	for len(m.h) > 0 && len(out.Events) < mergeBatch {
		in := m.h[0]
		// The run of in's events that come before every other source's
		// head, taken at once: what one event at a time would take, without
		// a heap operation per event (rotated files do not overlap: whole
		// batches go).
		n := m.run(in, mergeBatch-len(out.Events))
		out.Events = append(out.Events, in.b.Events[in.i:in.i+n]...)
		if !slices.Contains(deps, in.b) {
			in.b.Hold()
			deps = append(deps, in.b)
			recycled = recycled || in.b.lease != nil
		}
		in.i += n
		if in.i < len(in.b.Events) {
			heap.Fix(&m.h, 0)
			continue
		}
		in.b.Release() // the merge's own hold: out holds what it took
		if err := m.fill(ctx, in); err != nil {
			return nil, err
		}
		if in.done {
			heap.Pop(&m.h)
		} else {
			heap.Fix(&m.h, 0)
		}
	}
	if recycled {
		// Releasing out releases the batches its events alias, and gives
		// its event slice back to the merge.
		out.lease = &lease{deps: deps, back: m.evs}
		out.lease.evs = out.Events
		out.lease.refs.Store(1)
	}
	out.Rejects, m.rejects = m.rejects, nil
	out.Bytes, m.bytes = m.bytes, 0
	out.Undated, m.undated = m.undated, 0
	out.UndatedAt, m.undatedAt = m.undatedAt, ""
	if len(out.Events) == 0 && len(out.Rejects) == 0 && out.Undated == 0 && len(m.h) == 0 {
		return nil, io.EOF
	}
	return out, nil
}

// run counts the events of in (the heap's root) from in.i, at most max,
// that the merge takes before any other source's: each comes before the
// least of the other heads (by time, then source order).
func (m *mergeStream) run(in *mergeIn, max int) int {
	var other *mergeIn
	for _, c := range m.h[1:min(3, len(m.h))] { // the root's children
		if other == nil || c.precedes(c.head(), other, other.head()) {
			other = c
		}
	}
	evs := in.b.Events[in.i:]
	n := 0
	if other == nil {
		return min(len(evs), max)
	}
	oh := other.head()
	for n < len(evs) && n < max {
		if t := evs[n].Time; t > oh.Time || (t == oh.Time && !in.precedes(&evs[n], other, oh)) {
			break
		}
		n++
	}
	return n
}

// citeRanks caches citeOrder by source.
type citeRanks struct {
	m map[*SourceInfo]citeRank
}

func (r *citeRanks) of(s *SourceInfo) citeRank {
	if s == nil {
		return citeRank{}
	}
	k, ok := r.m[s]
	if !ok {
		k = citeOrder(s.Name)
		if r.m == nil {
			r.m = map[*SourceInfo]citeRank{}
		}
		r.m[s] = k
	}
	return k
}

// citeRank orders the files that may hold the same events (citeOrder).
type citeRank struct {
	copied bool // the name does not fit the apiserver's rotation naming
	base   int  // the length of the file's base name
	name   string
}

func (a citeRank) cmp(b citeRank) int {
	switch {
	case a.copied != b.copied:
		if a.copied {
			return 1
		}
		return -1
	case a.base != b.base:
		return cmp.Compare(a.base, b.base)
	}
	return strings.Compare(a.name, b.name)
}

// rotationName is the apiserver's naming of its audit log and its backups
// (audit.log, lumberjack's audit-2026-11-20T08-00-00.000.log[.gz]) and
// logrotate's (audit.log.1[.gz]): no blank or parenthesis, which the
// copies people make have ("audit (copy).log", "audit - Copy.log",
// "audit 2.log").
var rotationName = regexp.MustCompile(`^[^\s()]+?(\.log(\.\d+)?|-\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}\.\d{3}\.[^.\s()]+)(\.gz|\.zst)?$`)

// citeOrder ranks a file (by its name) among files that hold the same
// events, the one to cite first: a name that fits the apiserver's
// rotation naming, then the shorter base name (a copy's name is
// longer), then the name. It depends on the names only, never on the
// order the files were given in.
func citeOrder(name string) citeRank {
	base := filepath.Base(name)
	return citeRank{copied: !rotationName.MatchString(base), base: len(base), name: name}
}

func (m *mergeStream) Close() error {
	var first error
	for _, in := range m.ins {
		if err := in.s.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// FanIn passes on batches from several (possibly endless) streams as they
// arrive; it is used for live tails where a time merge would wait forever on
// a quiet file.
func FanIn(ctx context.Context, streams []Stream) Stream {
	ctx, cancel := context.WithCancel(ctx)
	f := &fanIn{ch: make(chan fanItem, len(streams)), cancel: cancel, streams: streams}
	f.wg.Add(len(streams))
	for _, s := range streams {
		go func(s Stream) {
			defer f.wg.Done()
			for {
				b, err := s.Next(ctx)
				if err != nil {
					if !errors.Is(err, io.EOF) && ctx.Err() == nil {
						select {
						case f.ch <- fanItem{err: err}:
						case <-ctx.Done():
						}
					}
					return
				}
				select {
				case f.ch <- fanItem{b: b}:
				case <-ctx.Done():
					return
				}
			}
		}(s)
	}
	go func() { f.wg.Wait(); close(f.ch) }()
	return f
}

type fanItem struct {
	b   *Batch
	err error
}

type fanIn struct {
	ch      chan fanItem
	cancel  context.CancelFunc
	streams []Stream
	wg      sync.WaitGroup
}

func (f *fanIn) Next(ctx context.Context) (*Batch, error) {
	select {
	case it, ok := <-f.ch:
		if !ok {
			return nil, io.EOF
		}
		return it.b, it.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (f *fanIn) Close() error {
	f.cancel()
	var first error
	for _, s := range f.streams {
		if err := s.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// minMergeChunk is the least ChunkBytes OpenAll gives each of several
// sources.
const minMergeChunk = 512 << 10

// OpenAll opens every source and merges them in time order (or fans them
// in when following). Several sources share the read-ahead of one: each
// decodes chunks of 2 MiB/n (at least 512 KiB). A merge holds a batch of
// every source and each source reads a few chunks ahead, so a rotated set
// of ten files would otherwise hold ten times what one file does; each
// source keeps its decode goroutines (idle while the merge takes from
// another), so the one the merge is reading, in a set of rotated files
// that do not overlap, still decodes on every core.
func OpenAll(ctx context.Context, srcs []Source, opts ReadOptions) (Stream, error) {
	if n := len(srcs); n > 1 && opts.ChunkBytes == 0 {
		opts.ChunkBytes = max(minMergeChunk, chunkSize/n)
	}
	if opts.Recycle && opts.pool == nil {
		opts.pool = newRecyclePool()
	}
	var streams []Stream
	for _, s := range srcs {
		st, err := s.Open(ctx, opts)
		if err != nil {
			for _, o := range streams {
				o.Close()
			}
			return nil, err
		}
		streams = append(streams, st)
	}
	if opts.Follow && len(streams) > 1 {
		return FanIn(ctx, streams), nil
	}
	return MergeStreams(streams), nil
}
