package ship

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/audittui/audittui/internal/plural"
	"github.com/audittui/audittui/internal/ship/checkpoint"
	"github.com/audittui/audittui/internal/ship/metrics"
	"github.com/audittui/audittui/internal/ship/pipe"
	"github.com/audittui/audittui/internal/tail"
)

// tracker collects acknowledgements. It keeps, for every sink, how far
// that sink has delivered, and the checkpoint (where reading resumes) at
// the slowest sink. Progress is written after every acknowledgement (not
// fsynced: it survives the process) and made durable every
// Checkpoint_interval. After a restart a sink that was ahead skips what it
// had delivered, so a crash re-sends at most the batch a sink had in
// flight.
type tracker struct {
	saveMu sync.Mutex // serialises writes, in the order states were built
	mu     sync.Mutex
	store  *checkpoint.Store
	key    string
	budget *pipe.Budget
	m      *metrics.Metrics
	lg     *slog.Logger
	now    func() time.Time

	batches map[uint64]*tracked
	next    uint64 // lowest batch not acknowledged by every sink
	pos     checkpoint.Position
	havePos bool
	sinks   []*sinkState
	raw     int64 // bytes of the file handed in and not acknowledged by every sink

	version, saved, durable uint64 // state version built, last written, last made durable
	saveErr                 error
	errLogged               time.Time
}

type tracked struct {
	b     *pipe.Batch
	acked []bool
	left  int
	sent  []bool // false: skipped for that sink (it had the lines already)
}

type sinkState struct {
	name string
	next uint64
	// pos is how far the sink has delivered; skip, while set, is the
	// position it had reached before a restart (ahead of the checkpoint).
	pos         tail.Position
	havePos     bool
	skip        *tail.Position
	outstanding int
	since       time.Time // when it last went from idle to holding batches
	lastAck     time.Time
	// While skipping: files finds content on disk; found says the file
	// skip was taken in was among the live file and its backups at
	// startup (so every other file read before it is older); reached
	// says a batch from that file has come (so every other file after it
	// is newer); same caches sameFile's answers that read the disk.
	files   *files
	found   bool
	reached bool
	same    map[tail.ID]bool
}

func newTracker(names []string, b *pipe.Budget, m *metrics.Metrics, store *checkpoint.Store, key string, st checkpoint.State, fs *files, lg *slog.Logger) *tracker {
	t := &tracker{store: store, key: key, budget: b, m: m, lg: lg, now: time.Now, batches: map[uint64]*tracked{}, next: 1}
	if p, ok := st.Checkpoints[key]; ok {
		t.pos, t.havePos = p, true
	}
	for _, n := range names {
		s := &sinkState{name: n, next: 1}
		if p, ok := st.Sinks[key][n]; ok && t.havePos && p != t.pos.Position {
			p := p
			s.skip, s.files = &p, fs
			s.found = fs.find(p)
			lg.Debug("sink resumes ahead of the checkpoint", "sink", n, "path", p.Path, "offset", p.Offset, "id", p.ID.String(), "found", s.found)
		}
		t.sinks = append(t.sinks, s)
	}
	return t
}

// handed counts file bytes taken into the pipeline (negative: given back).
func (t *tracker) handed(n int64) {
	t.mu.Lock()
	t.raw += n
	t.mu.Unlock()
}

// inFlight returns the file bytes read and not acknowledged by every sink.
func (t *tracker) inFlight() int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.raw
}

// left is what a stop leaves unacknowledged: per sink, the lines handed
// to it and not acknowledged (in order of t.sinks); the file bytes read
// after the checkpoint and not acknowledged by every sink; and the
// checkpoint, where the next start reads again from.
type left struct {
	lines []int
	raw   int64
	from  checkpoint.Position
	ok    bool
}

func (t *tracker) unacked() left {
	t.mu.Lock()
	defer t.mu.Unlock()
	l := left{lines: make([]int, len(t.sinks)), raw: t.raw, from: t.pos, ok: t.havePos}
	for _, tr := range t.batches {
		for i := range t.sinks {
			if tr.sent[i] && !tr.acked[i] {
				l.lines[i] += len(tr.b.Records)
			}
		}
	}
	return l
}

// route registers b and returns what each sink is to get: b, b without
// the lines a sink had delivered before a restart, or nil (nothing).
func (t *tracker) route(b *pipe.Batch) []*pipe.Batch {
	t.mu.Lock()
	defer t.mu.Unlock()
	tr := &tracked{b: b, acked: make([]bool, len(t.sinks)), sent: make([]bool, len(t.sinks)), left: len(t.sinks)}
	t.batches[b.Seq] = tr
	out := make([]*pipe.Batch, len(t.sinks))
	now := t.now()
	for i, s := range t.sinks {
		out[i] = s.route(b)
		if out[i] == nil {
			tr.acked[i] = true
			tr.left--
			continue
		}
		tr.sent[i] = true
		if s.outstanding == 0 {
			s.since = now
		}
		s.outstanding++
	}
	for i := range t.sinks {
		t.advanceSink(i)
	}
	t.advance()
	return out
}

// route applies the sink's resume position to b.
func (s *sinkState) route(b *pipe.Batch) *pipe.Batch {
	p := s.skip
	if p == nil {
		return b
	}
	switch {
	case s.sameFile(b.End):
		s.reached = true
		if b.End.Offset > p.Offset {
			s.caughtUp()
		}
		k := 0
		for k < len(b.Ends) && b.Ends[k] <= p.Offset {
			k++
		}
		if k == len(b.Records) {
			return nil
		}
		return b.Skip(k)
	case s.reached || p.ModTime == 0 || b.End.ModTime >= p.ModTime && !(s.found && isGzip(b.End.Path)):
		// A file read after the one the sink had reached; or rotated
		// after it, by its time (or no way to tell: deliver, a duplicate
		// at worst). A compressed backup's time is not trusted while the
		// sink's file is still to come: a compressor that does not keep
		// the time gives an older file a new one.
		s.caughtUp()
		return b
	}
	return nil // a file before the one the sink had reached
}

// caughtUp ends the skipping: the sink has delivered up to where it had
// reached before the restart.
func (s *sinkState) caughtUp() {
	if !s.havePos {
		s.pos, s.havePos = *s.skip, true
	}
	s.skip, s.files, s.same = nil, nil, nil
}

// sameFile reports whether b was taken in the content the sink's resume
// position names. With fingerprints of the same length, they decide (the
// device and inode when nothing was fingerprinted). With different
// lengths (one taken as the file grew), the longer must begin with the
// shorter: the file's start is read again from disk and must match both,
// and the file must not be shorter than the sink's offset. The same
// inode is not enough: copytruncate keeps it for new content.
func (s *sinkState) sameFile(b tail.Position) bool {
	a, p := b.ID, s.skip.ID
	if a.FPLen == p.FPLen {
		return a.FPLen > 0 && a.FP == p.FP || a.FPLen == 0 && a.Dev == p.Dev && a.Ino == p.Ino
	}
	if a.FPLen == 0 || p.FPLen == 0 {
		return a.Dev == p.Dev && a.Ino == p.Ino
	}
	if v, ok := s.same[a]; ok {
		return v
	}
	h, ok := s.files.headOf(b)
	v := ok && h.holds(*s.skip)
	if s.same == nil {
		s.same = map[tail.ID]bool{}
	}
	s.same[a] = v
	return v
}

// ackFor returns sink i's acknowledgement function. It returns once the
// progress is written.
func (t *tracker) ackFor(i int) func(...*pipe.Batch) {
	return func(bs ...*pipe.Batch) {
		if len(bs) == 0 {
			return
		}
		t.saveMu.Lock()
		defer t.saveMu.Unlock()
		t.mu.Lock()
		now := t.now()
		s := t.sinks[i]
		for _, b := range bs {
			tr := t.batches[b.Seq]
			if tr == nil || tr.acked[i] {
				continue
			}
			tr.acked[i] = true
			tr.left--
			s.outstanding--
		}
		s.lastAck = now
		if s.outstanding > 0 {
			s.since = now
		}
		t.advanceSink(i)
		t.advance()
		st, ok := t.buildLocked()
		t.mu.Unlock()
		t.m.SinkAcked(s.name, now)
		if ok {
			t.write(st, false)
		}
	}
}

// advanceSink moves sink i over the batches it has acknowledged, in order.
func (t *tracker) advanceSink(i int) {
	s := t.sinks[i]
	for {
		tr := t.batches[s.next]
		if tr == nil || !tr.acked[i] {
			return
		}
		if tr.sent[i] {
			s.pos, s.havePos = tr.b.End, true
			t.version++
		}
		s.next++
	}
}

// advance moves the checkpoint over the batches every sink has
// acknowledged, in order, and frees them.
func (t *tracker) advance() {
	for {
		tr := t.batches[t.next]
		if tr == nil || tr.left > 0 {
			break
		}
		delete(t.batches, t.next)
		t.next++
		b := tr.b
		t.budget.Release(b.Bytes)
		t.raw -= b.Raw
		b.Release()
		t.pos, t.havePos = checkpoint.Position{Position: b.End, EventTime: b.LastTime}, true
		t.version++
		t.m.Acked(b.LastTime)
	}
	t.m.BufferBytes.WithLabelValues("memory").Set(float64(t.budget.Used()))
}

// opened records the first file's start when there is no position yet, so
// a crash before the first delivery followed by a rotation still finds it.
func (t *tracker) opened(p tail.Position) {
	t.saveMu.Lock()
	defer t.saveMu.Unlock()
	t.mu.Lock()
	if t.havePos {
		t.mu.Unlock()
		return
	}
	t.pos, t.havePos = checkpoint.Position{Position: p}, true
	t.version++
	st, ok := t.buildLocked()
	t.mu.Unlock()
	if ok {
		t.write(st, true)
	}
}

func (t *tracker) position() (checkpoint.Position, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.pos, t.havePos
}

// buildLocked returns the state to write (false: nothing new since the
// last write).
func (t *tracker) buildLocked() (checkpoint.State, bool) {
	if !t.havePos || t.version == t.saved {
		return checkpoint.State{}, false
	}
	t.saved = t.version
	pos := t.pos
	pos.Updated = t.now().UTC()
	sinks := map[string]tail.Position{}
	for _, s := range t.sinks {
		switch {
		case s.skip != nil:
			sinks[s.name] = *s.skip
		case s.havePos:
			sinks[s.name] = s.pos
		}
	}
	return checkpoint.State{Checkpoints: map[string]checkpoint.Position{t.key: pos},
		Sinks: map[string]map[string]tail.Position{t.key: sinks}}, true
}

// write saves st (durably or as progress); saveMu is held.
func (t *tracker) write(st checkpoint.State, durable bool) {
	err := t.store.SaveState(st, durable)
	t.mu.Lock()
	defer t.mu.Unlock()
	if err != nil {
		t.saved = 0 // write again at the next chance
		t.m.CheckpointErrors.Inc()
		if t.saveErr == nil || t.now().Sub(t.errLogged) > 30*time.Second {
			t.lg.Error("cannot save the checkpoint; shipping goes on (a restart would re-send what was shipped since the last save)", "err", err)
			t.errLogged = t.now()
		}
		t.saveErr = err
		return
	}
	if t.saveErr != nil {
		t.lg.Info("checkpoint saved again")
	}
	t.saveErr = nil
	if durable {
		t.m.Saved(t.now())
		t.durable = t.saved
	}
}

// sync makes the latest progress durable (periodically, and at the end).
// It returns the write's error.
func (t *tracker) sync() error {
	t.saveMu.Lock()
	defer t.saveMu.Unlock()
	t.mu.Lock()
	if !t.havePos || t.version == t.durable && t.saveErr == nil {
		t.mu.Unlock()
		return nil
	}
	t.saved = 0
	st, _ := t.buildLocked()
	t.mu.Unlock()
	t.write(st, true)
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.saveErr
}

// health says why ship is not ready: the checkpoint cannot be written, or
// a sink holding lines has acknowledged none for longer than timeout.
func (t *tracker) health(timeout time.Duration) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	var errs []error
	if t.saveErr != nil {
		errs = append(errs, fmt.Errorf("the checkpoint cannot be written: %w", t.saveErr))
	}
	now := t.now()
	for _, s := range t.sinks {
		if s.outstanding == 0 {
			continue
		}
		since := s.since
		if s.lastAck.After(since) {
			since = s.lastAck
		}
		if d := now.Sub(since); d > timeout {
			errs = append(errs, fmt.Errorf("%s: holds %s and acknowledged none for %s (Ready_ack_timeout %s)",
				s.name, plural.Count(s.outstanding, "batch", "batches"), d.Round(time.Second), timeout))
		}
	}
	return errors.Join(errs...)
}
