package lokisink

// The Loki sink's optional disk buffer (Loki.Store_dir), as the S3 sink's
// Store_dir: with it, a batch is acknowledged once its lines are written
// and fsynced in a segment file, so the checkpoint moves on (and S3 keeps
// receiving) while Loki is down; a sender pushes the segments to Loki in
// order, with the same retries, refusal handling and dead-letter file as
// without it, and deletes a segment only after Loki accepted every line in
// it. Segments left by a previous run are pushed first (their lines were
// acknowledged: the file is not read for them again). When the segments
// reach StoreLimit, the sink stops acknowledging (reading pauses) until a
// push frees space: never a silent drop.
//
// A segment holds at most one push (Batch_size of lines, or one batch
// when a batch is larger), so a crash re-sends at most the push in flight.
// It is closed (and queued for the sender) when it is full or Batch_wait
// old. Record format, one per line: 4 bytes big-endian payload length,
// 4 bytes CRC-32C of the payload, payload = varint time, uvarint field
// count, per field uvarint length and bytes, then the line. A torn record
// at a segment's end (a crash mid-write, never acknowledged) is cut off
// on recovery.

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/data/source/loki"
	"github.com/audittui/audittui/internal/plural"
	"github.com/audittui/audittui/internal/ship/checkpoint"
	"github.com/audittui/audittui/internal/ship/pipe"
	"github.com/audittui/audittui/internal/ship/process"
)

const segExt = ".seg"

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// segment is a closed segment file waiting to be pushed.
type segment struct {
	path string
	size int64
}

// store is the disk buffer's shared state (writer and sender).
type store struct {
	dir   string
	limit int64

	mu    sync.Mutex
	cond  *sync.Cond
	queue []segment
	used  int64 // bytes on disk, the open segment included
	open  bool  // a segment is open for writing
	// closed: the writer is done; the sender stops once the queue is empty.
	closed bool
	// senderDone: the sender returned (the writer stops waiting for room).
	senderDone bool
	// waitingSince: when the oldest queued segment was queued (or the last
	// push was accepted, if later); zero with an empty queue.
	waitingSince time.Time
	// freed counts segments pushed and deleted.
	freed uint64
	next  uint64 // the next segment's number
}

func newStore(dir string, limit int64) (*store, error) {
	if limit <= 0 {
		limit = 1 << 30
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("create Loki.Store_dir %s: %w", dir, err)
	}
	st := &store{dir: dir, limit: limit, next: 1}
	st.cond = sync.NewCond(&st.mu)
	return st, nil
}

func segName(n uint64) string { return fmt.Sprintf("%020d%s", n, segExt) }

// recover queues the segments a previous run left, oldest first, cutting
// a torn last record off each.
func (s *Sink) recoverStore() error {
	st := s.st
	ents, err := os.ReadDir(st.dir)
	if err != nil {
		return fmt.Errorf("read Loki.Store_dir %s: %w", st.dir, err)
	}
	var nums []uint64
	for _, e := range ents {
		name, ok := strings.CutSuffix(e.Name(), segExt)
		if !ok {
			continue
		}
		n, err := strconv.ParseUint(name, 10, 64)
		if err != nil {
			continue
		}
		nums = append(nums, n)
	}
	sort.Slice(nums, func(i, j int) bool { return nums[i] < nums[j] })
	st.mu.Lock()
	defer st.mu.Unlock()
	var lines int
	for _, n := range nums {
		p := filepath.Join(st.dir, segName(n))
		st.next = max(st.next, n+1)
		recs, size, cut, damaged, err := scanSegment(p, true)
		if err != nil {
			return err
		}
		switch {
		case damaged:
			s.log.Error("Loki.Store_dir segment damaged: a record fails its checksum; it and the bytes after it are cut off and not pushed to Loki (their lines were acknowledged: they are lost for Loki)",
				"segment", p, "offset", size, "bytes", cut)
			s.damaged(cut)
		case cut > 0:
			s.log.Warn("cut a record torn by a crash off a Loki.Store_dir segment (never acknowledged: its lines are read again from the file)", "segment", p, "offset", size, "bytes", cut)
		}
		if recs == 0 {
			os.Remove(p)
			continue
		}
		lines += recs
		if len(st.queue) == 0 {
			st.waitingSince = time.Now()
		}
		st.queue = append(st.queue, segment{path: p, size: size})
		st.used += size
	}
	if len(st.queue) > 0 {
		s.log.Info("pushing the lines a previous run left in Loki.Store_dir first", "segments", len(st.queue), "lines", lines, "bytes", st.used, "dir", st.dir)
	}
	s.storeMetrics()
	return nil
}

// storeMetrics publishes the store's size (st.mu held).
func (s *Sink) storeMetrics() {
	m := s.o.Metrics
	if m == nil {
		return
	}
	n := len(s.st.queue)
	if s.st.open {
		n++
	}
	m.BufferBytes.WithLabelValues("loki_disk").Set(float64(s.st.used))
	m.StoreSegments.WithLabelValues("loki").Set(float64(n))
}

// appendRecord encodes r into buf (see the package's record format).
func appendRecord(buf []byte, r *process.Record) []byte {
	start := len(buf)
	buf = append(buf, 0, 0, 0, 0, 0, 0, 0, 0)
	buf = binary.AppendVarint(buf, r.Time)
	buf = binary.AppendUvarint(buf, uint64(len(r.Fields)))
	for _, f := range r.Fields {
		buf = binary.AppendUvarint(buf, uint64(len(f)))
		buf = append(buf, f...)
	}
	buf = append(buf, r.Line...)
	payload := buf[start+8:]
	binary.BigEndian.PutUint32(buf[start:], uint32(len(payload)))
	binary.BigEndian.PutUint32(buf[start+4:], crc32.Checksum(payload, castagnoli))
	return buf
}

// segReader reads a segment's records one at a time, so a segment costs
// at most the records the caller keeps (a segment written with a larger
// Batch_size, the config changed between runs, is not read whole).
type segReader struct {
	f    *os.File
	br   *bufio.Reader
	path string
	size int64 // the file's size
	off  int64 // the end of the last whole record read
	n    int   // the next record's payload length (peek)
	// bad: a record failed its checksum or decoding; nothing after it
	// is read.
	bad bool
}

func openSegReader(p string) (*segReader, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, fmt.Errorf("read Loki.Store_dir segment %s: %w", p, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("read Loki.Store_dir segment %s: %w", p, err)
	}
	return &segReader{f: f, br: bufio.NewReaderSize(f, 64<<10), path: p, size: fi.Size(), n: -1}, nil
}

func (r *segReader) Close() error { return r.f.Close() }

// peek returns the next record's payload length without reading it;
// false at the end, or at a torn record (its length passes the end).
func (r *segReader) peek() (int, bool) {
	if r.n >= 0 {
		return r.n, true
	}
	if r.bad {
		return 0, false
	}
	h, err := r.br.Peek(8)
	if err != nil {
		return 0, false
	}
	n := int64(binary.BigEndian.Uint32(h))
	if n > r.size-r.off-8 {
		return 0, false
	}
	r.n = int(n)
	return r.n, true
}

// next reads the next record; false at the end or at a torn or damaged
// record (the records end there).
func (r *segReader) next() (process.Record, bool) {
	n, ok := r.peek()
	if !ok {
		return process.Record{}, false
	}
	var h [8]byte
	if _, err := io.ReadFull(r.br, h[:]); err != nil {
		return process.Record{}, false
	}
	payload := make([]byte, n)
	if _, err := io.ReadFull(r.br, payload); err != nil {
		return process.Record{}, false
	}
	r.n = -1
	if crc32.Checksum(payload, castagnoli) != binary.BigEndian.Uint32(h[4:]) {
		r.bad = true
		return process.Record{}, false
	}
	rec, ok := decodeRecord(payload)
	if !ok {
		r.bad = true
		return process.Record{}, false
	}
	r.off += 8 + int64(n)
	return rec, true
}

// scanSegment counts a segment's whole records, one at a time. With
// trim, the file is cut after the last one. It returns the records, the
// size of the records read, the bytes cut off, and whether the cut was
// at a damaged record (one that fails its checksum or decoding) rather
// than a record torn by a crash mid-write (its length passes the end:
// that batch was never acknowledged).
func scanSegment(p string, trim bool) (n int, size, cut int64, damaged bool, err error) {
	r, err := openSegReader(p)
	if err != nil {
		return 0, 0, 0, false, err
	}
	defer r.Close()
	for {
		if _, ok := r.next(); !ok {
			break
		}
		n++
	}
	if r.off != r.size && trim {
		if err := os.Truncate(p, r.off); err != nil {
			return 0, 0, 0, false, fmt.Errorf("cut the torn end off Loki.Store_dir segment %s: %w", p, err)
		}
		cut = r.size - r.off
	}
	return n, r.off, cut, r.bad, nil
}

func decodeRecord(p []byte) (process.Record, bool) {
	var r process.Record
	t, k := binary.Varint(p)
	if k <= 0 {
		return r, false
	}
	r.Time, p = t, p[k:]
	nf, k := binary.Uvarint(p)
	if k <= 0 || nf > uint64(len(p)) {
		return r, false
	}
	p = p[k:]
	if nf > 0 {
		r.Fields = make([]string, nf)
	}
	for i := range r.Fields {
		l, k := binary.Uvarint(p)
		if k <= 0 || l > uint64(len(p)-k) {
			return r, false
		}
		r.Fields[i] = string(p[k : k+int(l)])
		p = p[k+int(l):]
	}
	r.Line = p
	return r, true
}

// openSeg is the segment being written.
type openSeg struct {
	f         *os.File
	path      string
	size      int64
	lineBytes int64
	first     time.Time // when its first record was written
}

// tooLong returns the batch's records that are not pushed (longer than
// MaxLineSize, or spooled, which are longer still), as build does, and
// whether any record is to be stored.
func (s *Sink) tooLong(b *pipe.Batch) (streams []data.Labels, es []entry, keep bool) {
	for i := range b.Records {
		r := &b.Records[i]
		if s.o.MaxLineSize > 0 && r.Len() > s.o.MaxLineSize || r.Spool != nil {
			streams = append(streams, s.Labels(r))
			es = append(es, entry{stream: len(streams) - 1, e: loki.PushEntry{Time: r.Time, Line: r.Line, Metadata: s.metadata(r)}, rec: r})
			continue
		}
		keep = true
	}
	return streams, es, keep
}

// runStore is Run with Store_dir: the writer (this goroutine) stores and
// acknowledges batches; the sender pushes segments.
func (s *Sink) runStore(ctx context.Context, in <-chan *pipe.Batch, ack func(...*pipe.Batch)) error {
	if err := s.recoverStore(); err != nil {
		return err
	}
	st := s.st
	// The sender's pushes end with ctx, or at once when ship stops while
	// Loki takes no pushes (the stop gate): what is queued is on disk.
	pctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-s.gate.Done():
			cancel()
		case <-pctx.Done():
		}
	}()
	sendErr := make(chan error, 1)
	go func() {
		err := s.sender(pctx)
		if err != nil && s.pushesStopped() && ctx.Err() == nil {
			err = errPushesStopped
		}
		st.mu.Lock()
		st.senderDone = true
		st.cond.Broadcast()
		st.mu.Unlock()
		sendErr <- err
	}()
	err := s.storeWriter(ctx, in, ack, sendErr)
	st.mu.Lock()
	st.closed = true
	st.cond.Broadcast()
	st.mu.Unlock()
	serr := <-sendErr
	st.mu.Lock()
	left, used := len(st.queue), st.used
	st.mu.Unlock()
	if errors.Is(serr, errPushesStopped) {
		s.log.Info("stopping without waiting for Loki, which takes no pushes: the lines acknowledged are fsynced in Loki.Store_dir and pushed on the next start",
			"segments", left, "bytes", used, "dir", st.dir)
	} else if left > 0 {
		s.log.Warn("segments left in Loki.Store_dir; they are pushed on the next start", "segments", left, "bytes", used, "dir", st.dir)
	}
	if err != nil && !errors.Is(err, errPushesStopped) {
		return err
	}
	if serr != nil && !errors.Is(serr, context.Canceled) && !errors.Is(serr, context.DeadlineExceeded) && !errors.Is(serr, errSenderStopped) && !errors.Is(serr, errPushesStopped) {
		return serr
	}
	return nil
}

var (
	errSenderStopped = errors.New("loki sender stopped")
	// errPushesStopped: ship is stopping and Loki takes no pushes; the
	// sender stopped at once (the stop gate).
	errPushesStopped = errors.New("stopping while Loki takes no pushes")
)

// stoppedDrain is the writer's end once the sender stopped for a stop
// (errPushesStopped): a batch it cannot store (the store full, the disk
// full) is not acknowledged and is read again on restart; the rest of in
// is taken without acknowledgement so ship's dispatcher does not wait on
// this sink until the grace period ends.
func stoppedDrain(in <-chan *pipe.Batch) error {
	for range in {
	}
	return errPushesStopped
}

func (s *Sink) storeWriter(ctx context.Context, in <-chan *pipe.Batch, ack func(...*pipe.Batch), sendErr chan error) error {
	st := s.st
	var cur *openSeg
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	defer func() {
		if cur != nil {
			cur.f.Close()
		}
	}()
	roll := func() error {
		if cur == nil {
			return nil
		}
		if err := cur.f.Close(); err != nil {
			return fmt.Errorf("close Loki.Store_dir segment %s: %w", cur.path, err)
		}
		st.mu.Lock()
		st.open = false
		if cur.size == 0 {
			os.Remove(cur.path)
		} else {
			if len(st.queue) == 0 {
				st.waitingSince = time.Now()
			}
			st.queue = append(st.queue, segment{path: cur.path, size: cur.size})
			st.cond.Broadcast()
		}
		s.storeMetrics()
		st.mu.Unlock()
		cur = nil
		timer.Stop()
		return nil
	}
	var buf []byte
	diskFull := false // counted in Metrics.Blocked while the disk is full
	defer func() {
		if diskFull && s.o.Metrics != nil {
			s.o.Metrics.Blocked(false)
			s.o.Metrics.StoreFull.WithLabelValues("loki").Set(0)
		}
	}()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err := <-sendErr:
			sendErr <- err // for runStore
			if errors.Is(err, errPushesStopped) {
				// Stopping with Loki failing: the writer goes on storing
				// (and acknowledging) what is read, as long as it fits.
				sendErr = nil
				continue
			}
			if err == nil {
				err = errSenderStopped
			}
			return err
		case <-timer.C:
			if err := roll(); err != nil {
				return err
			}
		case b, ok := <-in:
			if !ok {
				return roll()
			}
			streams, long, keep := s.tooLong(b)
			if len(long) > 0 {
				reason := fmt.Sprintf("line longer than Loki.Max_line_size (%d bytes): not pushed, Loki would refuse it", s.o.MaxLineSize)
				if err := s.refuse(streams, long, 0, reason); err != nil {
					return err
				}
			}
			if !keep {
				ack(b)
				continue
			}
			buf = buf[:0]
			for i := range b.Records {
				r := &b.Records[i]
				if s.o.MaxLineSize > 0 && r.Len() > s.o.MaxLineSize || r.Spool != nil {
					continue
				}
				buf = appendRecord(buf, r)
			}
			// A segment is one push: a crash re-sends at most that.
			if cur != nil && cur.lineBytes > 0 && cur.lineBytes+b.LineBytes > s.o.BatchSize {
				if err := roll(); err != nil {
					return err
				}
			}
			if err := s.waitRoom(ctx, int64(len(buf)), roll, &cur); err != nil {
				if errors.Is(err, errSenderStopped) && s.pushesStopped() {
					return stoppedDrain(in)
				}
				return err
			}
			for {
				var err error
				if cur == nil {
					if cur, err = s.createSeg(); err == nil {
						timer.Reset(s.o.BatchWait)
					}
				}
				if err == nil {
					err = s.writeSeg(cur, buf)
				}
				if err == nil {
					break
				}
				if !errors.Is(err, syscall.ENOSPC) {
					return err
				}
				// The disk is full before Loki.Store_dir_limit_size: the
				// same backpressure (nothing acknowledged, reading pauses)
				// until a push frees space.
				if !diskFull {
					diskFull = true
					s.log.Warn("Loki.Store_dir's disk is full; waiting for Loki to accept pushes (reading pauses)", "dir", st.dir, "err", err)
					if m := s.o.Metrics; m != nil {
						m.StoreFull.WithLabelValues("loki").Set(1)
						m.Blocked(true)
					}
				}
				if err := roll(); err != nil {
					return err
				}
				if err := s.waitFreed(ctx); err != nil {
					if errors.Is(err, errSenderStopped) && s.pushesStopped() {
						return stoppedDrain(in)
					}
					return err
				}
			}
			if diskFull {
				diskFull = false
				s.log.Info("Loki.Store_dir's disk has space again; reading resumes", "dir", st.dir)
				if m := s.o.Metrics; m != nil {
					m.StoreFull.WithLabelValues("loki").Set(0)
					m.Blocked(false)
				}
			}
			if err := cur.f.Sync(); err != nil {
				return fmt.Errorf("sync Loki.Store_dir segment %s: %w", cur.path, err)
			}
			cur.size += int64(len(buf))
			cur.lineBytes += b.LineBytes
			st.mu.Lock()
			st.used += int64(len(buf))
			s.storeMetrics()
			st.mu.Unlock()
			// Written and fsynced: durable, so acknowledged (the
			// checkpoint may move past it; the sender pushes it).
			ack(b)
			if cur.lineBytes >= s.o.BatchSize {
				if err := roll(); err != nil {
					return err
				}
			}
		}
	}
}

// writeSeg appends buf to the segment; on failure the part written is cut
// off again, so the segment ends on a whole record.
func (s *Sink) writeSeg(cur *openSeg, buf []byte) error {
	var w io.Writer = cur.f
	if s.wrapWrite != nil {
		w = s.wrapWrite(w)
	}
	_, err := w.Write(buf)
	if err == nil {
		return nil
	}
	if terr := cur.f.Truncate(cur.size); terr != nil {
		return fmt.Errorf("write Loki.Store_dir segment %s: %w (and cutting it back: %v)", cur.path, err, terr)
	}
	if _, serr := cur.f.Seek(cur.size, io.SeekStart); serr != nil {
		return fmt.Errorf("write Loki.Store_dir segment %s: %w (and seeking back: %v)", cur.path, err, serr)
	}
	return fmt.Errorf("write Loki.Store_dir segment %s: %w", cur.path, err)
}

// diskFullRetry is how long a full disk with nothing to push waits before
// the write is tried again.
var diskFullRetry = 2 * time.Second

// waitFreed waits, after a write found the disk full, until a push freed a
// segment or, with nothing queued (the space is held by something else),
// for diskFullRetry.
func (s *Sink) waitFreed(ctx context.Context) error {
	st := s.st
	st.mu.Lock()
	freed := st.freed
	st.mu.Unlock()
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	deadline := time.Now().Add(diskFullRetry)
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
		st.mu.Lock()
		done := st.freed != freed || (len(st.queue) == 0 && !time.Now().Before(deadline))
		stopped := st.senderDone
		st.mu.Unlock()
		if stopped {
			return errSenderStopped
		}
		if done {
			return nil
		}
	}
}

// createSeg opens the next segment file.
func (s *Sink) createSeg() (*openSeg, error) {
	st := s.st
	st.mu.Lock()
	n := st.next
	st.next++
	st.mu.Unlock()
	p := filepath.Join(st.dir, segName(n))
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		return nil, fmt.Errorf("create a Loki.Store_dir segment: %w", err)
	}
	if err := checkpoint.SyncDir(st.dir); err != nil {
		f.Close()
		os.Remove(p)
		return nil, err
	}
	st.mu.Lock()
	st.open = true
	s.storeMetrics()
	st.mu.Unlock()
	return &openSeg{f: f, path: p, first: time.Now()}, nil
}

// waitRoom blocks while need more bytes would pass the limit: the open
// segment is queued for the sender and nothing is acknowledged until a
// push frees space (reading pauses; the audit file is the buffer).
func (s *Sink) waitRoom(ctx context.Context, need int64, roll func() error, cur **openSeg) error {
	st := s.st
	st.mu.Lock()
	full := func() bool { return st.used > 0 && st.used+need > st.limit }
	wait, used := full(), st.used
	st.mu.Unlock()
	if !wait {
		return nil
	}
	if *cur != nil {
		if err := roll(); err != nil {
			return err
		}
	}
	s.log.Warn("Loki.Store_dir is full; waiting for Loki to accept pushes (reading pauses)", "used", used, "limit", st.limit, "dir", st.dir)
	if m := s.o.Metrics; m != nil {
		m.StoreFull.WithLabelValues("loki").Set(1)
		m.Blocked(true)
		defer func() {
			m.Blocked(false)
			m.StoreFull.WithLabelValues("loki").Set(0)
		}()
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if err := pipe.WaitCond(ctx, st.cond, func() bool { return !full() || st.senderDone }); err != nil {
		return err
	}
	if full() {
		return errSenderStopped
	}
	s.log.Info("Loki.Store_dir has room again; reading resumes", "used", st.used, "limit", st.limit)
	return nil
}

// sender pushes the queued segments, oldest first, until the writer is
// done and the queue is empty, or ctx ends.
func (s *Sink) sender(ctx context.Context) error {
	st := s.st
	for {
		st.mu.Lock()
		err := pipe.WaitCond(ctx, st.cond, func() bool { return len(st.queue) > 0 || st.closed })
		if err == nil {
			err = ctx.Err()
		}
		if err != nil || len(st.queue) == 0 {
			st.mu.Unlock()
			return err // nil: the writer is done and everything pushed
		}
		seg := st.queue[0]
		st.mu.Unlock()

		if !s.inTime() {
			// Stopping: a push cancelled when the grace period ends may be
			// stored and sent again after the restart. The segment stays
			// and is pushed then.
			s.log.Info("not starting a push the grace period leaves no time for; Loki.Store_dir keeps it for the next start", "segment", seg.path)
			s.gate.Stop()
			return errPushesStopped
		}
		start := time.Now()
		if err := s.pushSegment(ctx, seg.path); err != nil {
			return err
		}
		s.took.Store(int64(time.Since(start)))
		// Loki accepted (or the dead-letter file took) every line in it.
		if err := os.Remove(seg.path); err != nil {
			return fmt.Errorf("remove pushed Loki.Store_dir segment: %w", err)
		}
		st.mu.Lock()
		st.queue = st.queue[1:]
		st.used -= seg.size
		st.freed++
		st.waitingSince = time.Time{}
		if len(st.queue) > 0 {
			st.waitingSince = time.Now()
		}
		s.storeMetrics()
		st.cond.Broadcast()
		st.mu.Unlock()
	}
}

// pushSegment pushes a segment's records in pushes of at most BatchSize
// bytes of records (or one record, when it is larger), reading them as it
// goes: what it holds is bounded by the current Batch_size, not by the
// segment (one written with a larger Batch_size is read in pieces).
func (s *Sink) pushSegment(ctx context.Context, p string) error {
	r, err := openSegReader(p)
	if err != nil {
		return err
	}
	defer r.Close()
	var recs []process.Record
	var held, lineBytes int64
	push := func() error {
		if len(recs) == 0 {
			return nil
		}
		err := s.push(ctx, []*pipe.Batch{{Records: recs, LineBytes: lineBytes}})
		s.hold(-held)
		recs, held, lineBytes = nil, 0, 0
		return err
	}
	for {
		n, ok := r.peek()
		if !ok {
			break
		}
		if len(recs) > 0 && held+int64(n) > s.o.BatchSize {
			if err := push(); err != nil {
				return err
			}
		}
		rec, ok := r.next()
		if !ok {
			break
		}
		s.hold(int64(n))
		held += int64(n)
		lineBytes += int64(len(rec.Line))
		recs = append(recs, rec)
	}
	if err := push(); err != nil {
		return err
	}
	if r.off != r.size {
		s.log.Error("Loki.Store_dir segment damaged: the bytes after its last whole record are not pushed", "segment", p, "offset", r.off, "bytes", r.size-r.off)
		s.damaged(r.size - r.off)
	}
	return nil
}

// damaged counts bytes of the store cut off at a damaged record.
func (s *Sink) damaged(n int64) {
	if m := s.o.Metrics; m != nil && n > 0 {
		m.StoreDamaged.WithLabelValues("loki").Add(float64(n))
	}
}

// Stalled implements pipe.Health: with Store_dir, a segment has waited
// longer than timeout and no push was accepted meanwhile.
func (s *Sink) Stalled(now time.Time, timeout time.Duration) error {
	if s.st == nil {
		return nil
	}
	st := s.st
	st.mu.Lock()
	defer st.mu.Unlock()
	if len(st.queue) == 0 || st.waitingSince.IsZero() {
		return nil
	}
	if d := now.Sub(st.waitingSince); d > timeout {
		return fmt.Errorf("loki: %s in Loki.Store_dir waiting, no push accepted for %s (Ready_ack_timeout %s)", plural.Count(len(st.queue), "segment", "segments"), d.Round(time.Second), timeout)
	}
	return nil
}
