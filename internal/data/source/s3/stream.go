package s3

import (
	"cmp"
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
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

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

// reading is one Open of a source: its objects, each a stream that a
// merge (data.MergeStreams) reads from the time its events start, and the
// fetches started ahead of it.
type reading struct {
	src      *Source
	opts     data.ReadOptions
	ctx      context.Context // Open's: the fetches live as long as the read
	objs     []*objStream
	progress progressState

	mu sync.Mutex
	// order is the objects by start (then listing order), the order in
	// which the merge opens them; order[next:] are not fetched yet, ahead
	// counts those fetched before the merge opened them.
	order     []*objStream
	next      int
	ahead     int
	lagWarned bool
	ranged    atomic.Bool // an object is being fetched in parts
}

// objStream is one object as a data.Stream and data.Starter. Its events
// are passed on in time order: each batch is sorted, and an event waits
// until the object has moved Skew past it (an object's events are in
// order within Skew).
type objStream struct {
	rd  *reading
	idx int
	o   Object

	start         int64
	startKnown    bool
	startOK       bool
	started, open bool
	ch            chan piece
	cancel        context.CancelFunc

	curMax    int64   // newest event time seen
	oldest    int64   // oldest event time seen (0: none)
	pending   runHeap // sorted runs, one per batch
	nextSeq   int
	rejects   []data.Reject
	bytes     int64
	undated   int
	undatedAt string
	done      bool
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

// Open lists the window's objects and returns them merged in time order.
// An object is fetched once the merge reaches the time its events start
// (its key time less Skew; for a key without a time, the first event of
// its head, fetched first), and Concurrency more are fetched ahead: memory
// holds the objects that overlap in time, not the archive (see
// data.MergeStreams). Events outside [From, To) are not selected.
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
	if len(l.Objects) > 1 && opts.ChunkBytes == 0 {
		// The objects read at once share the read-ahead of one, as
		// data.OpenAll's sources do.
		opts.ChunkBytes = mergeChunk
	}
	rd := &reading{src: s, opts: opts, ctx: ctx}
	var streams []data.Stream
	if len(l.Archived) > 0 {
		b := &data.Batch{}
		for _, o := range l.Archived {
			b.Rejects = append(b.Rejects, data.Reject{Origin: data.Origin{Source: s.info(o)}, Reason: restoreMessage(o)})
		}
		streams = append(streams, &batchStream{b: b})
	}
	var total int64
	for i, o := range l.Objects {
		total += o.Size
		os := &objStream{rd: rd, idx: i, o: o}
		rd.objs = append(rd.objs, os)
		streams = append(streams, os)
	}
	rd.progress = progressState{cb: s.opts.Progress, rawCb: opts.Progress,
		p: Progress{ObjectsTotal: len(l.Objects), BytesTotal: total, Started: time.Now()}}
	if len(streams) == 0 {
		return &batchStream{}, nil
	}
	return data.MergeStreams(streams), nil
}

// mergeChunk is the decode chunk of an object read among several (see
// data.ReadOptions.ChunkBytes): the pieces an object has decoded ahead of
// the merge are its memory.
const mergeChunk = 512 << 10

// batchStream yields one batch (or none).
type batchStream struct{ b *data.Batch }

func (b *batchStream) Next(context.Context) (*data.Batch, error) {
	if b.b == nil {
		return nil, io.EOF
	}
	out := b.b
	b.b = nil
	return out, nil
}

func (b *batchStream) Close() error { return nil }

// Start is when the object's events start, less Skew (its events are in
// order within Skew), and no earlier than the window's start: for a key
// that tells the time to the minute or better, its key time; for one
// without a time (Firehose's layout) or with a coarse one (an hour, a
// day: every object of the hour would be read at once), the time of the
// first event of its head, fetched for it.
func (o *objStream) Start(ctx context.Context) (int64, bool) {
	if o.startKnown {
		return o.start, o.startOK
	}
	o.startKnown = true
	ro := o.rd.opts
	kt := o.o.KeyTime
	switch t, ok := int64(0), false; {
	case !kt.IsZero() && unitDuration(o.o.KeyUnit) <= fineKey:
		o.start, o.startOK = kt.UnixNano(), true
	default:
		if t, ok = o.rd.src.peek(ctx, o.o, ro); ok {
			o.start, o.startOK = t, true
		} else if !kt.IsZero() {
			o.start, o.startOK = kt.UnixNano(), true
		}
	}
	if o.startOK {
		o.start -= int64(o.rd.src.opts.Skew)
		if ro.From != 0 && o.start < ro.From {
			o.start = ro.From
		}
	}
	return o.start, o.startOK
}

// fineKey is the coarsest key time a merge waits on without looking at
// the object's head.
const fineKey = 10 * time.Minute

// peekBytes is how much of an object without a time in its key is fetched
// to learn when its events start.
const peekBytes = 1 << 20

// peek fetches the head of an object and returns the time of its first
// event (data.PeekStart).
func (s *Source) peek(ctx context.Context, o Object, ro data.ReadOptions) (int64, bool) {
	in := &awss3.GetObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(o.Key)}
	if o.Size > peekBytes {
		in.Range = aws.String(fmt.Sprintf("bytes=0-%d", peekBytes-1))
	}
	if o.ETag != "" {
		in.IfMatch = aws.String(`"` + o.ETag + `"`)
	}
	out, err := s.client.GetObject(ctx, in)
	if err != nil {
		return 0, false // read at once: the read reports the error
	}
	defer out.Body.Close()
	r, _, done, err := data.Decompress(out.Body)
	if err != nil {
		return 0, false
	}
	defer done()
	return data.PeekStart(ctx, r, s.info(o), ro)
}

// opened starts o's fetch if it was not fetched ahead, and fetches the
// next objects in start order ahead of the merge, Concurrency at most.
func (rd *reading) opened(o *objStream) {
	rd.mu.Lock()
	defer rd.mu.Unlock()
	if rd.order == nil {
		rd.order = slices.Clone(rd.objs)
		slices.SortStableFunc(rd.order, func(a, b *objStream) int {
			return cmp.Or(cmp.Compare(a.start, b.start), cmp.Compare(a.idx, b.idx))
		})
	}
	if o.started {
		rd.ahead--
	} else {
		rd.fetch(o)
	}
	for rd.ahead < rd.src.opts.Concurrency && rd.next < len(rd.order) {
		n := rd.order[rd.next]
		rd.next++
		if !n.started && !n.open && !rd.big(n.o) {
			rd.fetch(n)
			rd.ahead++
		}
	}
}

// fetch starts o's download and decoding into o.ch. Of the big objects
// (RangeThreshold) being read at once, one is fetched in parallel parts:
// the others stream (objects that overlap in time are fetched in parallel
// anyway, and parts fetched ahead are memory).
func (rd *reading) fetch(o *objStream) {
	o.started = true
	ctx, cancel := context.WithCancel(rd.ctx)
	o.cancel = cancel
	o.ch = make(chan piece, 2)
	ranged := rd.big(o.o) && rd.ranged.CompareAndSwap(false, true)
	go func() {
		defer close(o.ch)
		if ranged {
			defer rd.ranged.Store(false)
		}
		rd.src.fetch(ctx, o.o, rd.opts, o.ch, &rd.progress, ranged)
	}()
}

// big reports whether o is fetched in parts when read alone: it is then
// not fetched ahead of the merge either.
func (rd *reading) big(o Object) bool {
	t := rd.src.opts.RangeThreshold
	return t >= 0 && o.Size >= t && o.Size > rd.src.opts.PartSize
}

func (s *Source) info(o Object) *data.SourceInfo {
	labels := s.labels()
	labels = append(labels, data.Label{Name: "filename", Value: s.URL(o)})
	return &data.SourceInfo{Name: s.URL(o), Labels: labels}
}

// labels are the stream labels every object has: job ("audit" unless
// Labels set it), cluster (when set), the other Labels; filename is each
// object's URL.
func (s *Source) labels() data.Labels {
	job := data.DefaultJob
	if v, ok := s.opts.Labels.Get("job"); ok {
		job = v
	}
	labels := data.Labels{{Name: "job", Value: job}}
	if s.opts.Cluster != "" {
		labels = append(labels, data.Label{Name: "cluster", Value: s.opts.Cluster})
	}
	for _, l := range s.opts.Labels {
		switch l.Name {
		case "job", "filename", "cluster":
		default:
			labels = append(labels, l)
		}
	}
	return labels
}

// StreamLabels returns the labels of the objects' streams
// (data.StreamLabeler) without listing them: every object has the same
// labels but its filename, which any value may be.
func (s *Source) StreamLabels(context.Context, data.ReadOptions, []string) (*data.StreamLabels, error) {
	sl := &data.StreamLabels{}
	sl.AddStream(s.labels())
	sl.AddOpen("filename")
	return sl, nil
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

// fetch downloads, decompresses and decodes one object into ch (ranged:
// see openObject).
func (s *Source) fetch(ctx context.Context, o Object, ro data.ReadOptions, ch chan<- piece, ps *progressState, ranged bool) {
	info := s.info(o)
	rejectObj := func(reason string) {
		send(ctx, ch, piece{batch: &data.Batch{Rejects: []data.Reject{{Origin: data.Origin{Source: info}, Reason: reason}}}})
	}
	body, _, err := s.openObject(ctx, o, ranged)
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
	body, out, err := s.openObject(ctx, o, true)
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

// Next returns the object's next batch of events in time order.
func (o *objStream) Next(ctx context.Context) (*data.Batch, error) {
	if !o.open {
		o.open = true
		o.rd.opened(o)
	}
	for {
		if o.done {
			if len(o.rejects) > 0 || len(o.pending) > 0 || o.undated > 0 {
				return o.emit(true), nil
			}
			return nil, io.EOF
		}
		var p piece
		var ok bool
		select {
		case p, ok = <-o.ch:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if !ok {
			o.done = true
			o.rd.checkLag(o)
			continue
		}
		if p.err != nil {
			return nil, p.err
		}
		if p.batch == nil {
			continue
		}
		if evs := p.batch.Events; len(evs) > 0 {
			for i := range evs {
				t := evs[i].Time
				o.curMax = max(o.curMax, t)
				if t != 0 && (o.oldest == 0 || t < o.oldest) {
					o.oldest = t
				}
			}
			if !slices.IsSortedFunc(evs, byTime) {
				slices.SortStableFunc(evs, byTime)
			}
			heap.Push(&o.pending, &run{evs: evs, seq: o.nextSeq})
			o.nextSeq++
		}
		o.rejects = append(o.rejects, p.batch.Rejects...)
		o.bytes += p.batch.Bytes
		if o.undated == 0 {
			o.undatedAt = p.batch.UndatedAt
		}
		o.undated += p.batch.Undated
		if b := o.emit(false); b != nil {
			return b, nil
		}
	}
}

// emit returns the events the object has moved Skew past (all of them
// when final) plus the rejects gathered so far, or nil when there is
// nothing to say. The pending events are a heap of sorted runs (one per
// batch), so each event is moved once, in O(log runs).
func (o *objStream) emit(final bool) *data.Batch {
	wm := int64(-1)
	if !final {
		wm = o.curMax - int64(o.rd.src.opts.Skew)
	}
	var out []data.Event
	for len(o.pending) > 0 {
		r := o.pending[0]
		if wm != -1 && r.evs[r.i].Time >= wm {
			break
		}
		out = append(out, r.evs[r.i])
		r.i++
		if r.i == len(r.evs) {
			heap.Pop(&o.pending)
		} else {
			heap.Fix(&o.pending, 0)
		}
	}
	if len(out) == 0 && len(o.rejects) == 0 && o.undated == 0 {
		return nil
	}
	b := &data.Batch{Events: out, Rejects: o.rejects, Bytes: o.bytes, Undated: o.undated, UndatedAt: o.undatedAt}
	o.rejects = nil
	o.bytes = 0
	o.undated, o.undatedAt = 0, ""
	return b
}

// checkLag warns, once a read, when an object read for a window with an
// end holds events older than its key time by more than KeyLag: objects
// keyed after the window's end plus KeyLag were not listed, and may hold
// events of the window too.
func (rd *reading) checkLag(o *objStream) {
	if rd.opts.To == 0 || o.o.KeyTime.IsZero() || o.oldest == 0 {
		return
	}
	lag := o.o.KeyTime.Sub(time.Unix(0, o.oldest))
	if lag <= rd.src.opts.KeyLag {
		return
	}
	rd.mu.Lock()
	said := rd.lagWarned
	rd.lagWarned = true
	rd.mu.Unlock()
	if said {
		return
	}
	rd.src.notice("lag", fmt.Sprintf("warning: %s holds events up to %s older than the time in its key (%s), more than --s3-key-lag %s: "+
		"the writer fell behind, and objects keyed after %s (not read) may hold events of the window too; read again with a larger --s3-key-lag",
		rd.src.URL(o.o), shortDur(lag), o.o.KeyTime.UTC().Format(time.RFC3339), shortDur(rd.src.opts.KeyLag),
		time.Unix(0, rd.opts.To).UTC().Add(rd.src.opts.KeyLag).Format(time.RFC3339)))
}

// Close stops the object's fetch and waits for it.
func (o *objStream) Close() error {
	if o.cancel != nil {
		o.cancel()
		for range o.ch {
		}
		o.cancel = nil
	}
	o.pending = nil
	return nil
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
