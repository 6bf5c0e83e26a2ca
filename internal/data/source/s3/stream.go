package s3

import (
	"container/heap"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/audittui/audittui/internal/data"
)

// Digest is the identity of an object's bytes as downloaded.
type Digest struct {
	Object Object
	URL    string
	SHA256 string // hex (computed when Options.OnObject is set)
	Bytes  int64  // bytes downloaded (compressed, as stored)
	// VersionID is the version read, on versioned buckets ("" otherwise).
	VersionID string
	// Decompressed is the size after decompression.
	Decompressed int64
	Compression  string // "gzip", "zstd" or "none"
}

// Progress reports how far a read is.
type Progress struct {
	Objects, ObjectsTotal int
	Bytes, BytesTotal     int64 // downloaded (as stored)
	Started               time.Time
}

// Rate returns bytes per second so far.
func (p Progress) Rate() float64 {
	d := time.Since(p.Started).Seconds()
	if d <= 0 {
		return 0
	}
	return float64(p.Bytes) / d
}

// ETA estimates the time left (-1 when unknown).
func (p Progress) ETA() time.Duration {
	r := p.Rate()
	if r <= 0 || p.BytesTotal <= 0 {
		return -1
	}
	return time.Duration(float64(p.BytesTotal-p.Bytes) / r * float64(time.Second))
}

// String renders "12/200 objects, 61.2/980.0 MB, 45.1 MB/s, ETA 20s".
func (p Progress) String() string {
	eta := "?"
	if e := p.ETA(); e >= 0 {
		eta = e.Round(time.Second).String()
	}
	return fmt.Sprintf("%d/%d objects, %.1f/%.1f MB, %.1f MB/s, ETA %s",
		p.Objects, p.ObjectsTotal, float64(p.Bytes)/1e6, float64(p.BytesTotal)/1e6, p.Rate()/1e6, eta)
}

// piece is what an object's fetcher sends: a batch, or the end (digest or
// error).
type piece struct {
	batch  *data.Batch
	digest *Digest
	err    error // fatal for the whole read
}

type stream struct {
	src    *Source
	opts   data.ReadOptions
	cancel context.CancelFunc
	order  chan objFeed // object feeds in key-time order
	objs   []Object
	wg     sync.WaitGroup

	cur       objFeed
	curMax    int64 // newest event time seen in the current object
	started   bool
	pending   runHeap // merge buffer: sorted runs, one per batch
	nextSeq   int
	rejects   []data.Reject
	bytes     int64
	undated   int    // events a time window left out for lack of a time
	undatedAt string // the first of them (file:line)
	done      bool
	progress  progressState
}

type objFeed struct {
	idx int
	ch  chan piece
}

type progressState struct {
	mu      sync.Mutex
	p       Progress
	bytes   atomic.Int64
	cb      func(Progress)
	rawCb   func(done, total int64)
	lastCb  time.Time
	objects atomic.Int64
}

func (ps *progressState) add(n int64, objDone bool) {
	if ps.cb == nil && ps.rawCb == nil {
		return
	}
	b := ps.bytes.Add(n)
	o := ps.objects.Load()
	if objDone {
		o = ps.objects.Add(1)
	}
	ps.mu.Lock()
	defer ps.mu.Unlock()
	now := time.Now()
	if !objDone && now.Sub(ps.lastCb) < 100*time.Millisecond {
		return
	}
	ps.lastCb = now
	ps.p.Bytes = b
	ps.p.Objects = int(o)
	if ps.cb != nil {
		ps.cb(ps.p)
	}
	if ps.rawCb != nil {
		ps.rawCb(b, ps.p.BytesTotal)
	}
}

// Open lists the window's objects and starts fetching them. Events come
// out in time order; events outside [From, To) are not selected.
// Archived objects are reported as rejects (restore first), as are objects
// that cannot be read or decompressed; bad credentials and a missing bucket
// stop the read with an error.
func (s *Source) Open(ctx context.Context, opts data.ReadOptions) (data.Stream, error) {
	l, err := s.List(ctx, opts.From, opts.To)
	if err != nil {
		return nil, err
	}
	s.log.Debug("s3 listing", "source", s.String(), "prefixes", len(l.Prefixes), "list_calls", l.ListCalls,
		"objects", len(l.Objects), "archived", len(l.Archived), "skipped", l.Skipped)
	ctx, cancel := context.WithCancel(ctx)
	st := &stream{src: s, opts: opts, cancel: cancel, objs: l.Objects,
		order: make(chan objFeed, s.opts.Concurrency)}
	for _, o := range l.Archived {
		st.rejects = append(st.rejects, data.Reject{
			Origin: data.Origin{Source: s.info(o)},
			Reason: restoreMessage(o),
		})
	}
	var total int64
	for _, o := range l.Objects {
		total += o.Size
	}
	st.progress = progressState{cb: s.opts.Progress, rawCb: opts.Progress,
		p: Progress{ObjectsTotal: len(l.Objects), BytesTotal: total, Started: time.Now()}}
	st.wg.Add(1)
	go st.dispatch(ctx)
	return st, nil
}

// dispatch starts one fetcher per object, at most Concurrency at a time,
// and hands their feeds to Next in key order.
func (st *stream) dispatch(ctx context.Context) {
	defer st.wg.Done()
	defer close(st.order)
	sem := make(chan struct{}, st.src.opts.Concurrency)
	for i, o := range st.objs {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			return
		}
		f := objFeed{idx: i, ch: make(chan piece, 4)}
		select {
		case st.order <- f:
		case <-ctx.Done():
			return
		}
		st.wg.Add(1)
		go func() {
			defer st.wg.Done()
			defer func() { <-sem }()
			defer close(f.ch)
			st.src.fetch(ctx, o, st.opts, f.ch, &st.progress)
		}()
	}
}

func (s *Source) info(o Object) *data.SourceInfo {
	labels := data.Labels{{Name: "job", Value: "audit"}}
	if s.opts.Cluster != "" {
		labels = append(labels, data.Label{Name: "cluster", Value: s.opts.Cluster})
	}
	labels = append(labels, data.Label{Name: "filename", Value: s.URL(o)})
	return &data.SourceInfo{Name: s.URL(o), Labels: labels}
}

// send delivers p unless ctx ends.
func send(ctx context.Context, ch chan<- piece, p piece) bool {
	select {
	case ch <- p:
		return true
	case <-ctx.Done():
		return false
	}
}

// fetch downloads, decompresses and decodes one object into ch.
func (s *Source) fetch(ctx context.Context, o Object, ro data.ReadOptions, ch chan<- piece, ps *progressState) {
	info := s.info(o)
	rejectObj := func(reason string) {
		send(ctx, ch, piece{batch: &data.Batch{Rejects: []data.Reject{{Origin: data.Origin{Source: info}, Reason: reason}}}})
	}
	body, _, err := s.openObject(ctx, o)
	if err != nil {
		switch {
		case archivedState(err):
			rejectObj(restoreMessage(o))
		case fatal(err):
			send(ctx, ch, piece{err: s.explain(err, "get "+s.URL(o))})
		default:
			rejectObj("object not read: " + s.explain(err, "get").Error())
		}
		return
	}
	defer body.Close()
	// The digest costs a sixth of the read: compute it only when asked.
	var h hash.Hash
	if s.opts.OnObject != nil {
		h = sha256.New()
	}
	cr := &countingReader{r: body, h: h, ps: ps}
	d := &Digest{Object: o, URL: s.URL(o)}
	n, _, err := s.decodeObject(ctx, &errReader{r: cr, name: s.URL(o)}, info, ro, ch, d)
	if err != nil {
		if ctx.Err() != nil {
			return
		}
		// Events decoded before the error were delivered; say where the
		// object broke off.
		rejectObj(fmt.Sprintf("object read stopped at line %d: %v", n, err))
		ps.add(0, true)
		return
	}
	// Drain what the decompressor did not need (trailing bytes) so the
	// digest covers the whole object as stored.
	if _, err := io.Copy(io.Discard, cr); err != nil {
		rejectObj("object not fully read: " + err.Error())
		ps.add(0, true)
		return
	}
	ps.add(cr.pending, true)
	cr.pending = 0
	d.Bytes = cr.n
	if s.opts.OnObject != nil {
		d.SHA256 = hex.EncodeToString(h.Sum(nil))
		s.opts.OnObject(*d)
	}
	send(ctx, ch, piece{digest: d})
}

// countingReader hashes and counts what is read, reporting progress.
type countingReader struct {
	r       io.Reader
	h       hash.Hash
	n       int64
	pending int64
	ps      *progressState
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if n > 0 {
		if c.h != nil {
			c.h.Write(p[:n])
		}
		c.n += int64(n)
		c.pending += int64(n)
		if c.pending >= 256<<10 {
			c.ps.add(c.pending, false)
			c.pending = 0
		}
	}
	return n, err
}

// decodeObject decodes r (its shape told by content, as for files and
// stdin: see data.DecodeReader) and sends the batches. It returns the
// number of lines read and rejected.
func (s *Source) decodeObject(ctx context.Context, r io.Reader, info *data.SourceInfo, ro data.ReadOptions,
	ch chan<- piece, d *Digest) (int64, int, error) {
	dr, kind, closeFn, err := data.Decompress(r)
	if err != nil {
		return 0, 0, err
	}
	defer closeFn()
	if kind == "" {
		kind = "none"
	}
	d.Compression = kind
	if kind != "none" {
		dr = &errReader{r: dr, name: kind + " stream"}
	}
	rejected := 0
	n, err := data.DecodeReader(ctx, dr, info, ro, s.opts.MaxLine, func(b *data.Batch) bool {
		d.Decompressed += b.Bytes
		rejected += int(data.RejectedLines(b.Rejects))
		return send(ctx, ch, piece{batch: b})
	})
	if err == nil {
		err = ctx.Err()
	}
	return n, rejected, err
}

// Download copies an object's bytes as stored (not decompressed) to w and
// returns their digest. Archived objects fail with the restore message.
func (s *Source) Download(ctx context.Context, o Object, w io.Writer) (Digest, error) {
	d := Digest{Object: o, URL: s.URL(o), Compression: "as stored"}
	if o.Archived() {
		return d, fmt.Errorf("%s: %s", s.URL(o), restoreMessage(o))
	}
	body, out, err := s.openObject(ctx, o)
	if err != nil {
		if archivedState(err) {
			return d, fmt.Errorf("%s: %s", s.URL(o), restoreMessage(o))
		}
		return d, s.explain(err, "get "+s.URL(o))
	}
	defer body.Close()
	if o.ETag == "" {
		d.Object.ETag = strings.Trim(aws.ToString(out.ETag), `"`)
	}
	d.VersionID = aws.ToString(out.VersionId)
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(w, h), &errReader{r: body, name: s.URL(o)})
	if err != nil {
		return d, err
	}
	if want := o.Size; want > 0 && n != want {
		return d, fmt.Errorf("%s: got %d bytes, the listing said %d", s.URL(o), n, want)
	}
	d.Bytes = n
	d.SHA256 = hex.EncodeToString(h.Sum(nil))
	return d, nil
}

// Next returns the next batch of events in time order.
func (st *stream) Next(ctx context.Context) (*data.Batch, error) {
	for {
		if st.done {
			if len(st.rejects) > 0 || len(st.pending) > 0 {
				return st.emit(true), nil
			}
			return nil, io.EOF
		}
		if !st.started || st.cur.ch == nil {
			st.started = true
			select {
			case f, ok := <-st.order:
				if !ok {
					st.done = true
					continue
				}
				st.cur = f
				st.curMax = 0
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		var p piece
		var ok bool
		select {
		case p, ok = <-st.cur.ch:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if !ok {
			// The object is read: its events wait only for later objects.
			st.cur.ch = nil
			st.curMax = -1
			if b := st.emit(false); b != nil {
				return b, nil
			}
			continue
		}
		if p.err != nil {
			st.cancel()
			return nil, p.err
		}
		if p.batch == nil {
			continue
		}
		for i := range p.batch.Events {
			if t := p.batch.Events[i].Time; t > st.curMax && st.curMax != -1 {
				st.curMax = t
			}
		}
		if len(p.batch.Events) > 0 {
			evs := p.batch.Events
			if !slices.IsSortedFunc(evs, byTime) {
				slices.SortStableFunc(evs, byTime)
			}
			heap.Push(&st.pending, &run{evs: evs, seq: st.nextSeq})
			st.nextSeq++
		}
		st.rejects = append(st.rejects, p.batch.Rejects...)
		st.bytes += p.batch.Bytes
		if st.undated == 0 {
			st.undatedAt = p.batch.UndatedAt
		}
		st.undated += p.batch.Undated
		if b := st.emit(false); b != nil {
			return b, nil
		}
	}
}

// watermark returns the time below which no event can come any more:
// later objects start no earlier than their key time minus Skew, and the
// object being read is taken to be in order up to Skew. -1 means none
// (everything may go), 0 means hold everything.
func (st *stream) watermark() int64 {
	wm := int64(-1)
	if next := st.cur.idx + 1; next < len(st.objs) {
		kt := st.objs[next].KeyTime
		if kt.IsZero() {
			return 0 // undated objects follow: hold everything
		}
		wm = kt.Add(-st.src.opts.Skew).UnixNano()
	}
	if st.curMax != -1 && st.cur.ch != nil {
		cm := st.curMax - int64(st.src.opts.Skew)
		if wm == -1 || cm < wm {
			wm = cm
		}
	}
	return wm
}

// emit returns the events below the watermark (all of them when final)
// plus the rejects gathered so far, or nil when there is nothing to say.
// The pending events are a heap of sorted runs (one per batch), so each
// event is moved once, in O(log runs).
func (st *stream) emit(final bool) *data.Batch {
	wm := int64(-1)
	if !final {
		wm = st.watermark()
	}
	var out []data.Event
	for len(st.pending) > 0 {
		r := st.pending[0]
		if wm != -1 && r.evs[r.i].Time >= wm {
			break
		}
		out = append(out, r.evs[r.i])
		r.i++
		if r.i == len(r.evs) {
			heap.Pop(&st.pending)
		} else {
			heap.Fix(&st.pending, 0)
		}
	}
	if len(out) == 0 && len(st.rejects) == 0 && st.undated == 0 {
		return nil
	}
	b := &data.Batch{Events: out, Rejects: st.rejects, Bytes: st.bytes, Undated: st.undated, UndatedAt: st.undatedAt}
	st.rejects = nil
	st.bytes = 0
	st.undated, st.undatedAt = 0, ""
	return b
}

func byTime(a, b data.Event) int {
	switch {
	case a.Time < b.Time:
		return -1
	case a.Time > b.Time:
		return 1
	}
	return 0
}

// run is a time-sorted batch of events being merged.
type run struct {
	evs []data.Event
	i   int
	seq int // arrival order: ties keep it
}

type runHeap []*run

func (h runHeap) Len() int { return len(h) }
func (h runHeap) Less(i, j int) bool {
	a, b := h[i].evs[h[i].i].Time, h[j].evs[h[j].i].Time
	if a != b {
		return a < b
	}
	return h[i].seq < h[j].seq
}
func (h runHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *runHeap) Push(x any)   { *h = append(*h, x.(*run)) }
func (h *runHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return x
}

// Close stops the fetchers and waits for them.
func (st *stream) Close() error {
	st.cancel()
	go func() {
		for f := range st.order {
			for range f.ch {
			}
		}
	}()
	st.wg.Wait()
	return nil
}
