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

// MaxOpenInputs is how many inputs a merge reads at once at most (files,
// S3 objects). Inputs that can tell when their events start (Starter)
// are opened only when the merge reaches that time, so a day of minute
// objects holds the few that overlap, not the day; when more than this
// overlap in time, the merge takes the earliest of those it has open and
// opens the next when one ends: memory and file descriptors stay bounded
// and the output is then in time order only within each input (query's
// and alerts' notices say so).
var MaxOpenInputs = 64

// startWorkers is how many Starters a merge asks at once (a file's head
// is read, an undated S3 object's first bytes are fetched).
const startWorkers = 8

// Starter is a Stream that can tell, before it is read, a time no later
// than that of the first event it will yield (for an input in time
// order), cheaply and without keeping anything open: the time of a
// file's first event, the time an S3 key carries. A merge reads such a
// stream only once it reaches that time, so that inputs that do not
// overlap in time are read one after the other, not all at once. ok is
// false when the stream cannot tell (it is then read at once).
type Starter interface {
	Start(ctx context.Context) (t int64, ok bool)
}

// MergeStreams merges finite streams in time order (a k-way merge on the
// event time). Events of one time from different files are taken in the
// order of their files' names (citeOrder), else in input order: a copy of
// a file (audit-....log.gz and "audit-.... (copy).log.gz") repeats the
// events of the file the apiserver's rotation named, whatever the order
// of the arguments, so the original is what a reader that keeps the first
// of identical events keeps and cites. Rejects are passed on as soon as
// they are read. Events without a timestamp sort as time 0. Streams that
// are Starters are read only from their start on, at most MaxOpenInputs
// at once (see MaxOpenInputs); the merged stream is a Starter itself when
// all of its streams are.
func MergeStreams(streams []Stream) Stream {
	if len(streams) == 1 {
		return streams[0]
	}
	m := &mergeStream{evs: make(chan []Event, 2), maxOpen: MaxOpenInputs}
	ranks := &citeRanks{}
	for i, s := range streams {
		m.ins = append(m.ins, &mergeIn{s: s, idx: i, ranks: ranks})
	}
	return m
}

type mergeIn struct {
	s      Stream
	idx    int
	b      *Batch
	i      int
	done   bool
	closed bool
	ranks  *citeRanks // shared by the merge's inputs
	// start and started: the time the input's events start at, when it
	// told (Starter); it waits in mergeStream.wait until then.
	start   int64
	started bool
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

// close closes an input read to its end (its file, its connection) at
// once rather than with the merge.
func (in *mergeIn) close() error {
	if in.closed {
		return nil
	}
	in.closed = true
	return in.s.Close()
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
	// wait holds the inputs not read yet, by start time (then input
	// order); maxOpen bounds the inputs read at once (len(h)).
	wait    []*mergeIn
	maxOpen int
	// asked is set once the Starters have been asked (Start).
	asked bool
}

// ask asks every input that is a Starter when its events start (a few at
// a time: a file's head is read).
func (m *mergeStream) ask(ctx context.Context) {
	if m.asked {
		return
	}
	m.asked = true
	var wg sync.WaitGroup
	sem := make(chan struct{}, startWorkers)
	for _, in := range m.ins {
		st, ok := in.s.(Starter)
		if !ok {
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			in.start, in.started = st.Start(ctx)
		}()
	}
	wg.Wait()
}

// Start is the earliest start of the merged streams, when every one of
// them tells its own.
func (m *mergeStream) Start(ctx context.Context) (int64, bool) {
	if m.primed {
		return 0, false
	}
	m.ask(ctx)
	var t int64
	for i, in := range m.ins {
		if !in.started {
			return 0, false
		}
		if i == 0 || in.start < t {
			t = in.start
		}
	}
	return t, true
}

// prime reads the first batch of every input that cannot wait, and puts
// the others in line by their start.
func (m *mergeStream) prime(ctx context.Context) error {
	m.primed = true
	m.ask(ctx)
	for _, in := range m.ins {
		if in.started {
			m.wait = append(m.wait, in)
			continue
		}
		if err := m.fill(ctx, in); err != nil {
			return err
		}
		if !in.done {
			m.h = append(m.h, in)
		}
	}
	heap.Init(&m.h)
	slices.SortStableFunc(m.wait, func(a, b *mergeIn) int {
		return cmp.Or(cmp.Compare(a.start, b.start), cmp.Compare(a.idx, b.idx))
	})
	return nil
}

// due reports whether the next waiting input must be read before the
// merge takes the root's head: its events may come first.
func (m *mergeStream) due() bool {
	if len(m.wait) == 0 {
		return false
	}
	if len(m.h) == 0 {
		return true
	}
	// A tie opens the waiting input: which of two events of one time
	// comes first depends on their files' names (precedes), and the
	// waiting input's is known once it is read.
	return m.wait[0].start <= m.h[0].head().Time
}

// openDue reads the waiting inputs whose time has come, while fewer than
// maxOpen are read at once.
func (m *mergeStream) openDue(ctx context.Context) error {
	for m.due() && (len(m.h) < m.maxOpen || len(m.h) == 0) {
		in := m.wait[0]
		m.wait = m.wait[1:]
		if err := m.fill(ctx, in); err != nil {
			return err
		}
		if in.done {
			in.close()
			continue
		}
		heap.Push(&m.h, in)
	}
	return nil
}

// fill loads the next batch with events into in; it collects rejects.
func (m *mergeStream) fill(ctx context.Context, in *mergeIn) error {
	for {
		b, err := in.s.Next(ctx)
		if errors.Is(err, io.EOF) {
			in.done = true
			in.b = nil // what is left of it is out's (a merge of many holds none)
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
		if err := m.prime(ctx); err != nil {
			return nil, err
		}
	}
	out := &Batch{}
	select {
	case out.Events = <-m.evs:
	default:
	}
	var deps []*Batch // the batches out's events come from, held for it
	recycled := false
	for len(out.Events) < mergeBatch {
		if err := m.openDue(ctx); err != nil {
			return nil, err
		}
		if len(m.h) == 0 {
			break
		}
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
			in.close()
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
	if len(out.Events) == 0 && len(out.Rejects) == 0 && out.Undated == 0 && len(m.h) == 0 && len(m.wait) == 0 {
		return nil, io.EOF
	}
	return out, nil
}

// run counts the events of in (the heap's root) from in.i, at most max,
// that the merge takes before any other source's: each comes before the
// least of the other heads (by time, then source order), and before the
// start of the next input waiting to be read (unless maxOpen inputs are
// read already: the earliest open one goes on).
func (m *mergeStream) run(in *mergeIn, max int) int {
	var other *mergeIn
	for _, c := range m.h[1:min(3, len(m.h))] { // the root's children
		if other == nil || c.precedes(c.head(), other, other.head()) {
			other = c
		}
	}
	var w *mergeIn
	if len(m.wait) > 0 && len(m.h) < m.maxOpen {
		w = m.wait[0]
	}
	evs := in.b.Events[in.i:]
	if other == nil && w == nil {
		return min(len(evs), max)
	}
	n := 0
	for n < len(evs) && n < max {
		t := evs[n].Time
		if other != nil {
			if oh := other.head(); t > oh.Time || (t == oh.Time && !in.precedes(&evs[n], other, oh)) {
				break
			}
		}
		// An event at the waiting input's start stops the run: that
		// input is opened (openDue) and the heap orders the tie.
		if w != nil && t >= w.start {
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
	copies int // path components with a copy's marks (copyMarks)
	tier   int // 0: the apiserver's or logrotate's naming; 1: another log name
	base   int // the length of the file's base name
	name   string
}

func (a citeRank) cmp(b citeRank) int {
	if c := cmp.Compare(a.copies, b.copies); c != 0 {
		return c
	}
	if c := cmp.Compare(a.tier, b.tier); c != 0 {
		return c
	}
	if c := cmp.Compare(a.base, b.base); c != 0 {
		return c
	}
	return strings.Compare(a.name, b.name)
}

// logName is a log file's name: no blank or parenthesis, which the
// copies people make have ("audit (copy).log", "audit - Copy.log",
// "audit 2.log").
var logName = regexp.MustCompile(`^[^\s()]+?(\.log(\.\d+)?|-\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}\.\d{3}\.[^.\s()]+)(\.gz|\.zst)?$`)

// rotationName is the naming of an audit log and its backups by the
// apiserver (an audit log: audit.log, kube-apiserver-audit.log;
// lumberjack's backups audit-2026-11-20T08-00-00.000.log[.gz]) and by
// logrotate (audit.log.1[.gz]), as against another log name an analyst
// gives an extract or a damaged copy (p1.log, all-unordered.log,
// truncated.log.gz).
var rotationName = regexp.MustCompile(`^([^\s()]*audit[^\s()]*\.log|[^\s()]+\.log\.\d+|[^\s()]+-\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}\.\d{3}\.[^.\s()]+)(\.gz|\.zst)?$`)

// copyMark is what the copies people make put in a name: a blank, a
// parenthesis or the word copy ("node1 (copy)/", "audit - Copy.log",
// "x-copy.json").
var copyMark = regexp.MustCompile(`[\s()]|(?i:copy)`)

// citeOrder ranks a file (by its name) among files that hold the same
// events, the one to cite first: the fewest path components marked as a
// copy's (a base name that is no log name counts as one: an export, a
// copy), then a name of the apiserver's or logrotate's rotation naming
// before another log name, then the shorter base name (a copy's name is
// longer), then the name. It depends on the names only, never on the
// order the files were given in. Components the files share count alike
// for both ("/home/J Smith/cases/...").
func citeOrder(name string) citeRank {
	base := filepath.Base(name)
	r := citeRank{base: len(base), name: name}
	dir := filepath.Dir(name)
	for _, c := range strings.Split(filepath.ToSlash(dir), "/") {
		if copyMark.MatchString(c) {
			r.copies++
		}
	}
	switch {
	case !logName.MatchString(base) || copyMark.MatchString(base):
		r.copies++
		r.tier = 1
	case !rotationName.MatchString(base):
		r.tier = 1
	}
	return r
}

func (m *mergeStream) Close() error {
	var first error
	for _, in := range m.ins {
		if err := in.close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// FanIn passes on batches from several (possibly endless) streams as they
// arrive; it is used for live tails where a time merge would wait forever on
// a quiet file. A batch is marked CaughtUp only once every stream has
// caught up (or ended) at least once: until then the others are still
// reading what their files held (Batch.CaughtUp: "now live").
func FanIn(ctx context.Context, streams []Stream) Stream {
	ctx, cancel := context.WithCancel(ctx)
	f := &fanIn{ch: make(chan fanItem, len(streams)), cancel: cancel, streams: streams,
		caught: make([]bool, len(streams)), waiting: len(streams)}
	f.wg.Add(len(streams))
	for i, s := range streams {
		go func(i int, s Stream) {
			defer f.wg.Done()
			for {
				b, err := s.Next(ctx)
				if err != nil {
					it := fanItem{i: i, ended: true}
					if !errors.Is(err, io.EOF) {
						it = fanItem{i: i, err: err}
					}
					if it.err == nil || ctx.Err() == nil {
						select {
						case f.ch <- it:
						case <-ctx.Done():
						}
					}
					return
				}
				select {
				case f.ch <- fanItem{i: i, b: b}:
				case <-ctx.Done():
					return
				}
			}
		}(i, s)
	}
	go func() { f.wg.Wait(); close(f.ch) }()
	return f
}

type fanItem struct {
	i     int // the stream's index
	b     *Batch
	err   error
	ended bool // the stream ended (io.EOF)
}

type fanIn struct {
	ch      chan fanItem
	cancel  context.CancelFunc
	streams []Stream
	wg      sync.WaitGroup
	// caught: the stream has caught up (or ended) once; waiting counts
	// those that have not (Next's goroutine only).
	caught  []bool
	waiting int
}

func (f *fanIn) Next(ctx context.Context) (*Batch, error) {
	for {
		select {
		case it, ok := <-f.ch:
			if !ok {
				return nil, io.EOF
			}
			if it.err != nil {
				return nil, it.err
			}
			before := f.waiting
			if (it.ended || it.b.CaughtUp) && !f.caught[it.i] {
				f.caught[it.i] = true
				f.waiting--
			}
			if it.ended {
				if before > 0 && f.waiting == 0 {
					// The last stream still reading history ended.
					return &Batch{CaughtUp: true}, nil
				}
				continue
			}
			if it.b.CaughtUp && f.waiting > 0 {
				it.b.CaughtUp = false // the others are still reading
			}
			return it.b, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
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
