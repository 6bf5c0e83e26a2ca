// Package s3sink archives ship's lines to S3 the way Fluent Bit's s3
// output does, with Store_dir as a disk buffer.
//
// Lines are appended to a chunk file in Store_dir; each batch is
// acknowledged once it is fsynced there (the disk buffer is durable), so
// the checkpoint can move on while the chunk waits for its upload, and a
// crash re-sends at most the batch being written. A chunk is closed when
// it reaches Total_file_size or is Upload_timeout old, then uploaded with
// PutObject, or a multipart upload when it is larger than the part size;
// with gzip it is compressed while it is uploaded, through one buffer of
// the part size (Store_dir may be full: no second copy is written). Uploads are retried with backoff until
// they succeed; a chunk is deleted only after its upload succeeded. Chunks
// left by a crash are uploaded on the next start.
//
// A chunk's key is rendered from S3_key_format with the time of its first
// record and a $UUID fixed in the chunk's file name, so a retried upload
// (even after a crash between the upload and the delete) overwrites the
// same object instead of duplicating it.
//
// When the chunks on disk reach Store_dir_limit_size, or a chunk write
// finds the disk full (ENOSPC), the sink stops accepting batches until an
// upload frees space: the pipeline's memory budget fills and reading stops.
package s3sink

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"github.com/klauspost/compress/gzip"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/audittui/audittui/internal/data/source/s3/s3key"
	"github.com/audittui/audittui/internal/plural"
	"github.com/audittui/audittui/internal/ship/checkpoint"
	"github.com/audittui/audittui/internal/ship/metrics"
	"github.com/audittui/audittui/internal/ship/pipe"
)

// Options configure the sink.
type Options struct {
	Client *s3.Client
	Bucket string
	Format *s3key.Format
	// StoreDir is the disk buffer.
	StoreDir string
	// TotalFileSize closes a chunk at this size; UploadTimeout at this age.
	TotalFileSize int64
	UploadTimeout time.Duration
	// StoreLimit caps the bytes of chunks on disk.
	StoreLimit int64
	Gzip       bool
	// PartSize: chunks above it use a multipart upload with parts of this
	// size (minimum 5 MiB).
	PartSize int64
	// MinBackoff/MaxBackoff bound the delay between upload attempts.
	MinBackoff, MaxBackoff time.Duration
	Metrics                *metrics.Metrics
	Logger                 *slog.Logger
	// Now is the clock (tests).
	Now func() time.Time
}

const chunkExt = ".chunk"

// Sink is the S3 sink.
type Sink struct {
	o   Options
	log *slog.Logger

	mu       sync.Mutex
	cond     *sync.Cond
	queue    []string // closed chunks waiting for upload, oldest first
	diskUsed int64
	closed   bool // no more chunks will be queued
	uploads  int
	// waitingSince: when the oldest chunk in the queue was queued (or the
	// last upload succeeded, if later); zero with an empty queue.
	waitingSince time.Time
	lastUpload   time.Time
	// freed counts successful uploads (a full disk waits for one).
	freed int
	// partBuf is the uploader's buffer of compressed bytes.
	partBuf []byte
	// wrapWrite wraps chunk writes (tests inject a full disk).
	wrapWrite func(io.Writer) io.Writer

	// gate stops the uploader at once when ship stops while uploads fail:
	// the chunks are fsynced in Store_dir and uploaded on the next start.
	// upStopped (under mu) tells the writer's waits for room.
	gate      pipe.StopGate
	upStopped bool
}

// errUploadsStopped: ship is stopping, S3 takes no uploads and Store_dir
// has no room for the batch; it is not acknowledged (read again on the
// next start).
var errUploadsStopped = errors.New("stopping while S3 takes no uploads and Store_dir is full")

// StopBy implements pipe.StopBy: ship stops. While uploads fail (S3 down
// or refusing), the uploader stops at once instead of retrying until the
// grace period ends: what was acknowledged is in Store_dir.
func (s *Sink) StopBy(time.Time) { s.gate.Stopping() }

// New returns an S3 sink; Run recovers leftover chunks.
func New(o Options) (*Sink, error) {
	if o.Client == nil || o.Bucket == "" || o.Format == nil {
		return nil, errors.New("s3 sink: client, bucket and key format are required")
	}
	if o.StoreDir == "" {
		return nil, errors.New("s3 sink: no Store_dir")
	}
	if o.TotalFileSize <= 0 {
		o.TotalFileSize = 50 << 20
	}
	if o.UploadTimeout <= 0 {
		o.UploadTimeout = time.Minute
	}
	if o.StoreLimit <= 0 {
		o.StoreLimit = 1 << 30
	}
	if o.PartSize < 5<<20 {
		o.PartSize = 8 << 20
	}
	if o.MinBackoff <= 0 {
		o.MinBackoff = 500 * time.Millisecond
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = time.Minute
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	lg := o.Logger
	if lg == nil {
		lg = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(o.StoreDir, 0o750); err != nil {
		return nil, fmt.Errorf("create Store_dir %s: %w", o.StoreDir, err)
	}
	s := &Sink{o: o, log: lg}
	s.cond = sync.NewCond(&s.mu)
	if m := o.Metrics; m != nil {
		m.BufferLimit.WithLabelValues("disk").Set(float64(o.StoreLimit))
	}
	return s, nil
}

// Name implements pipe.Sink.
func (s *Sink) Name() string { return "s3" }

// chunk is the open chunk file.
type chunk struct {
	f     *os.File
	path  string
	size  int64
	start time.Time // when opened (for Upload_timeout)
}

// chunkName encodes the first record's time and the key's $UUID.
func chunkName(first time.Time) string {
	return strconv.FormatInt(first.UnixNano(), 10) + "-" + s3key.RandomUUID() + chunkExt
}

// parseChunkName returns the time and UUID of a chunk file name.
func parseChunkName(name string) (time.Time, string, bool) {
	base := strings.TrimSuffix(filepath.Base(name), chunkExt)
	ts, uuid, ok := strings.Cut(base, "-")
	if !ok || uuid == "" {
		return time.Time{}, "", false
	}
	n, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return time.Time{}, "", false
	}
	return time.Unix(0, n).UTC(), uuid, true
}

// Key returns the object key a chunk file is uploaded to.
func (s *Sink) Key(chunkPath string) (string, error) {
	t, uuid, ok := parseChunkName(chunkPath)
	if !ok {
		return "", fmt.Errorf("chunk %s: not a chunk file name", chunkPath)
	}
	return s.o.Format.Render(t, s3key.Vars{UUID: uuid}), nil
}

// recover queues the chunks a previous run left in Store_dir.
func (s *Sink) recover() error {
	ents, err := os.ReadDir(s.o.StoreDir)
	if err != nil {
		return fmt.Errorf("read Store_dir %s: %w", s.o.StoreDir, err)
	}
	var names []string
	for _, e := range ents {
		p := filepath.Join(s.o.StoreDir, e.Name())
		switch {
		case strings.HasSuffix(e.Name(), ".tmp"):
			os.Remove(p)
		case strings.HasSuffix(e.Name(), chunkExt):
			if _, _, ok := parseChunkName(p); ok {
				names = append(names, e.Name())
			}
		}
	}
	sort.Strings(names) // time-prefixed: oldest first
	for _, n := range names {
		p := filepath.Join(s.o.StoreDir, n)
		size, err := trimPartial(p)
		if err != nil {
			return err
		}
		if size == 0 {
			os.Remove(p)
			continue
		}
		s.log.Info("uploading a chunk left by a previous run", "chunk", p, "bytes", size)
		if len(s.queue) == 0 {
			s.waitingSince = s.o.Now()
		}
		s.queue = append(s.queue, p)
		s.diskUsed += size
	}
	s.setDisk()
	return nil
}

// trimPartial cuts a torn last line (a crash mid-write) off a chunk. The
// line's batch was not acknowledged, so it will be read again.
func trimPartial(p string) (int64, error) {
	f, err := os.OpenFile(p, os.O_RDWR, 0)
	if err != nil {
		return 0, fmt.Errorf("open chunk %s: %w", p, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return 0, err
	}
	size := fi.Size()
	if size == 0 {
		return 0, nil
	}
	buf := make([]byte, 64<<10)
	end := size
	for end > 0 {
		n := min(int64(len(buf)), end)
		if _, err := f.ReadAt(buf[:n], end-n); err != nil {
			return 0, fmt.Errorf("read chunk %s: %w", p, err)
		}
		if i := bytes.LastIndexByte(buf[:n], '\n'); i >= 0 {
			end = end - n + int64(i) + 1
			break
		}
		end -= n
	}
	if end != size {
		if err := f.Truncate(end); err != nil {
			return 0, fmt.Errorf("truncate chunk %s: %w", p, err)
		}
	}
	return end, nil
}

func (s *Sink) setDisk() {
	if m := s.o.Metrics; m != nil {
		m.BufferBytes.WithLabelValues("disk").Set(float64(s.diskUsed))
	}
}

// Run implements pipe.Sink.
func (s *Sink) Run(ctx context.Context, in <-chan *pipe.Batch, ack func(...*pipe.Batch)) error {
	s.mu.Lock()
	err := s.recover()
	s.mu.Unlock()
	if err != nil {
		return err
	}
	// The uploads end with ctx, or at once when ship stops while S3
	// takes no uploads (the stop gate); the writer's waits for room end
	// then too.
	uctx, ucancel := context.WithCancel(ctx)
	defer ucancel()
	go func() {
		select {
		case <-s.gate.Done():
			s.mu.Lock()
			s.upStopped = true
			s.cond.Broadcast()
			s.mu.Unlock()
			ucancel()
		case <-uctx.Done():
		}
	}()
	upErr := make(chan error, 1)
	go func() { upErr <- s.uploader(uctx) }()
	err = s.write(ctx, in, ack)
	var notStored int
	if errors.Is(err, errUploadsStopped) {
		// The rest is taken without acknowledgement, so that ship's
		// dispatcher does not wait on this sink until the grace ends.
		for b := range in {
			notStored += len(b.Records)
		}
		s.log.Warn("stopping while S3 takes no uploads and Store_dir is full: lines not stored are read again on the next start",
			"lines", notStored, "dir", s.o.StoreDir)
		err = nil
	}
	s.mu.Lock()
	s.closed = true
	s.cond.Broadcast()
	s.mu.Unlock()
	uerr := <-upErr
	if err != nil {
		return err
	}
	if uerr != nil && !errors.Is(uerr, context.Canceled) && !errors.Is(uerr, context.DeadlineExceeded) {
		return uerr
	}
	s.mu.Lock()
	left, used, stopped := len(s.queue), s.diskUsed, s.upStopped
	s.mu.Unlock()
	switch {
	case stopped:
		s.log.Info("stopping without waiting for S3, which takes no uploads: the chunks acknowledged are fsynced in Store_dir and uploaded on the next start",
			"chunks", left, "bytes", used, "dir", s.o.StoreDir)
	case left > 0:
		s.log.Warn("chunks left in Store_dir; they are uploaded on the next start", "chunks", left, "bytes", used, "dir", s.o.StoreDir)
	}
	return nil
}

func (s *Sink) write(ctx context.Context, in <-chan *pipe.Batch, ack func(...*pipe.Batch)) error {
	var cur *chunk
	var unsynced []*pipe.Batch
	tick := max(min(s.o.UploadTimeout/10, time.Second), 10*time.Millisecond)
	ticker := time.NewTicker(tick)
	defer ticker.Stop()
	syncAck := func() error {
		if len(unsynced) == 0 {
			return nil
		}
		if cur != nil {
			if err := cur.f.Sync(); err != nil {
				return fmt.Errorf("sync chunk %s: %w", cur.path, err)
			}
		}
		ack(unsynced...)
		for _, b := range unsynced {
			if m := s.o.Metrics; m != nil {
				m.SinkSentLines.WithLabelValues("s3").Add(float64(len(b.Records)))
				m.SinkSentBytes.WithLabelValues("s3").Add(float64(b.LineBytes))
			}
		}
		unsynced = unsynced[:0]
		return nil
	}
	roll := func() error {
		if cur == nil {
			return nil
		}
		if err := syncAck(); err != nil {
			return err
		}
		if err := cur.f.Close(); err != nil {
			return fmt.Errorf("close chunk %s: %w", cur.path, err)
		}
		if cur.size == 0 {
			os.Remove(cur.path)
		} else {
			s.mu.Lock()
			if len(s.queue) == 0 {
				s.waitingSince = s.o.Now()
			}
			s.queue = append(s.queue, cur.path)
			s.cond.Broadcast()
			s.mu.Unlock()
		}
		cur = nil
		return nil
	}
	diskBlocked := false // counted in Metrics.Blocked while the disk is full
	defer func() {
		if cur != nil {
			cur.f.Close()
		}
		if diskBlocked {
			s.o.Metrics.Blocked(false)
		}
	}()
	var line []byte
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-ticker.C:
			if cur != nil && s.o.Now().Sub(cur.start) >= s.o.UploadTimeout {
				if err := roll(); err != nil {
					return err
				}
			}
		case b, ok := <-in:
			if !ok {
				return roll()
			}
			need := b.LineBytes + int64(len(b.Records))
			if len(b.Records) == 0 {
				// Nothing to write (blank lines): acknowledged in order.
				unsynced = append(unsynced, b)
				if err := syncAck(); err != nil {
					return err
				}
				continue
			}
			if err := s.waitSpace(ctx, need, syncAck); err != nil {
				return err
			}
			var n int64
			for full := false; ; {
				var err error
				if cur == nil {
					cur, err = s.create(time.Unix(0, b.Records[0].Time))
				}
				if err == nil {
					n, err = s.writeBatch(cur, b, &line)
					if err != nil && errors.Is(err, syscall.ENOSPC) {
						// Take the partial batch back out: the chunk
						// ends on a line, as uploaded.
						if terr := cur.f.Truncate(cur.size); terr != nil {
							return fmt.Errorf("%w (and truncating the chunk back: %v)", err, terr)
						}
						if _, serr := cur.f.Seek(cur.size, io.SeekStart); serr != nil {
							return serr
						}
					}
				}
				if err == nil {
					if full {
						s.log.Info("Store_dir has space again; reading resumes", "dir", s.o.StoreDir)
						if diskBlocked {
							s.o.Metrics.Blocked(false)
							diskBlocked = false
						}
					}
					break
				}
				if !errors.Is(err, syscall.ENOSPC) {
					return err
				}
				// The disk is full before Store_dir_limit_size: the same
				// backpressure (reading pauses) until uploads free space.
				if !full {
					full = true
					s.mu.Lock()
					used := s.diskUsed
					s.mu.Unlock()
					s.log.Warn("Store_dir's disk is full; waiting for uploads (reading pauses)", "dir", s.o.StoreDir, "used", used, "limit", s.o.StoreLimit, "err", err)
					if m := s.o.Metrics; m != nil {
						m.Blocked(true)
						diskBlocked = true
					}
				}
				if cur != nil && cur.size > 0 {
					if err := roll(); err != nil {
						return err
					}
				} else if cur != nil {
					cur.f.Close()
					os.Remove(cur.path)
					cur = nil
				}
				if err := s.waitFreed(ctx, syncAck); err != nil {
					return err
				}
			}
			cur.size += n
			s.mu.Lock()
			s.diskUsed += n
			s.setDisk()
			s.mu.Unlock()
			// Synced and acknowledged batch by batch: a crash re-sends at
			// most the batch being written.
			unsynced = append(unsynced, b)
			if err := syncAck(); err != nil {
				return err
			}
			if cur != nil && cur.size >= s.o.TotalFileSize {
				if err := roll(); err != nil {
					return err
				}
			}
		}
	}
}

// create opens a new chunk named for the time of its first record.
func (s *Sink) create(first time.Time) (*chunk, error) {
	p := filepath.Join(s.o.StoreDir, chunkName(first))
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		return nil, fmt.Errorf("create chunk: %w", err)
	}
	if err := checkpoint.SyncDir(s.o.StoreDir); err != nil {
		f.Close()
		os.Remove(p)
		return nil, err
	}
	return &chunk{f: f, path: p, start: s.o.Now()}, nil
}

// waitFreed waits, after a write found the disk full, until an upload
// succeeds or, with nothing queued to upload (the space is held by
// something else), for a while before the write is tried again.
func (s *Sink) waitFreed(ctx context.Context, syncAck func() error) error {
	if err := syncAck(); err != nil {
		return err
	}
	s.mu.Lock()
	freed := s.freed
	s.mu.Unlock()
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	deadline := s.o.Now().Add(diskFullRetry)
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
		s.mu.Lock()
		done := s.freed != freed || (len(s.queue) == 0 && s.uploads == 0 && !s.o.Now().Before(deadline))
		stopped := s.upStopped
		s.mu.Unlock()
		if done {
			return nil
		}
		if stopped {
			return errUploadsStopped
		}
	}
}

// diskFullRetry is how long a full disk with nothing to upload waits
// before the write is tried again.
var diskFullRetry = 2 * time.Second

// writeBatch appends the batch's lines to the chunk (a spooled line is
// copied from its file) and returns the bytes written.
func (s *Sink) writeBatch(cur *chunk, b *pipe.Batch, buf *[]byte) (int64, error) {
	line := (*buf)[:0]
	var n int64
	var w io.Writer = cur.f
	if s.wrapWrite != nil {
		w = s.wrapWrite(w)
	}
	flush := func() error {
		if len(line) == 0 {
			return nil
		}
		k, err := w.Write(line)
		n += int64(k)
		line = line[:0]
		return err
	}
	for i := range b.Records {
		r := &b.Records[i]
		if r.Spool == nil {
			line = append(line, r.Line...)
			line = append(line, '\n')
			continue
		}
		if err := flush(); err != nil {
			return n, fmt.Errorf("write chunk %s: %w", cur.path, err)
		}
		k, err := io.Copy(w, io.NewSectionReader(r.Spool, 0, r.SpoolSize))
		n += k
		if err != nil {
			return n, fmt.Errorf("write chunk %s: %w", cur.path, err)
		}
		line = append(line, '\n')
	}
	if err := flush(); err != nil {
		return n, fmt.Errorf("write chunk %s: %w", cur.path, err)
	}
	*buf = line[:0]
	return n, nil
}

// Stalled implements pipe.Health: a chunk has waited longer than timeout
// and no upload succeeded meanwhile.
func (s *Sink) Stalled(now time.Time, timeout time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.queue) == 0 || s.waitingSince.IsZero() {
		return nil
	}
	if d := now.Sub(s.waitingSince); d > timeout {
		return fmt.Errorf("s3: %s in Store_dir waiting, no upload succeeded for %s (Ready_ack_timeout %s)", plural.Count(len(s.queue), "chunk", "chunks"), d.Round(time.Second), timeout)
	}
	return nil
}

// waitSpace blocks while the disk buffer is full. Batches already written
// are synced and acknowledged first so nothing waits on itself.
func (s *Sink) waitSpace(ctx context.Context, need int64, syncAck func() error) error {
	s.mu.Lock()
	full := s.diskUsed > 0 && s.diskUsed+need > s.o.StoreLimit
	s.mu.Unlock()
	if !full {
		return nil
	}
	if err := syncAck(); err != nil {
		return err
	}
	s.log.Warn("Store_dir is full; waiting for uploads (reading pauses)", "used", s.diskUsed, "limit", s.o.StoreLimit)
	if m := s.o.Metrics; m != nil {
		m.Blocked(true)
		defer m.Blocked(false)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	// Done when there is room, or when everything on disk is the open
	// chunk: it grows past the limit rather than deadlock (the open chunk
	// rolls at Total_file_size, which is below the limit).
	room := func() bool {
		return !(s.diskUsed > 0 && s.diskUsed+need > s.o.StoreLimit) || len(s.queue) == 0 && s.uploads == 0
	}
	if err := pipe.WaitCond(ctx, s.cond, func() bool { return room() || s.upStopped }); err != nil {
		return err
	}
	if !room() {
		return errUploadsStopped
	}
	return nil
}

// uploader uploads queued chunks, oldest first, until the writer is done
// and the queue is empty, or ctx ends.
func (s *Sink) uploader(ctx context.Context) error {
	for {
		s.mu.Lock()
		err := pipe.WaitCond(ctx, s.cond, func() bool { return len(s.queue) > 0 || s.closed })
		if err == nil {
			err = ctx.Err()
		}
		if err != nil || len(s.queue) == 0 {
			s.mu.Unlock()
			return err // nil: the writer is done and everything uploaded
		}
		p := s.queue[0]
		s.uploads++
		s.mu.Unlock()

		size, err := s.uploadWithRetry(ctx, p)

		s.mu.Lock()
		s.uploads--
		if err == nil {
			s.freed++
			s.queue = s.queue[1:]
			s.diskUsed -= size
			s.setDisk()
			s.lastUpload = s.o.Now()
			s.waitingSince = time.Time{}
			if len(s.queue) > 0 {
				s.waitingSince = s.lastUpload
			}
		}
		s.cond.Broadcast()
		s.mu.Unlock()
		if err != nil {
			return err
		}
	}
}

func (s *Sink) uploadWithRetry(ctx context.Context, p string) (int64, error) {
	for attempt := 0; ; attempt++ {
		size, err := s.upload(ctx, p)
		if err == nil {
			s.gate.Succeeded()
			return size, nil
		}
		if ctx.Err() != nil {
			return 0, ctx.Err()
		}
		s.gate.Failed()
		if m := s.o.Metrics; m != nil {
			m.SinkErrors.WithLabelValues("s3").Inc()
			m.SinkRetries.WithLabelValues("s3").Inc()
		}
		wait := min(s.o.MinBackoff<<min(attempt, 20), s.o.MaxBackoff)
		wait = wait/2 + rand.N(wait/2+1)
		s.log.Warn("s3 upload failed; retrying", "chunk", p, "attempt", attempt+1, "wait", wait, "err", err)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return 0, ctx.Err()
		case <-t.C:
		}
	}
}

// upload sends one chunk and deletes it. It returns the chunk's size.
// A gzip chunk is compressed while it is uploaded (no second copy on
// disk: Store_dir may be full): the compressed bytes go into a buffer of
// at most PartSize, sent with PutObject when the chunk ends within it, or
// as the parts of a multipart upload.
func (s *Sink) upload(ctx context.Context, p string) (int64, error) {
	key, err := s.Key(p)
	if err != nil {
		return 0, err
	}
	f, err := os.Open(p)
	if err != nil {
		return 0, fmt.Errorf("open chunk: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return 0, fmt.Errorf("stat chunk: %w", err)
	}
	size := fi.Size()
	bodySize := size
	switch {
	case s.o.Gzip:
		bodySize, err = s.uploadGzip(ctx, key, f)
	case size > s.o.PartSize:
		err = s.multipart(ctx, key, f, size)
	default:
		_, err = s.o.Client.PutObject(ctx, &s3.PutObjectInput{
			Bucket: aws.String(s.o.Bucket), Key: aws.String(key), Body: f,
			ContentLength: aws.Int64(size), ContentType: aws.String("application/json"),
		})
	}
	if err != nil {
		return 0, fmt.Errorf("upload s3://%s/%s: %w", s.o.Bucket, key, err)
	}
	s.log.Info("uploaded chunk", "key", key, "bytes", bodySize, "raw_bytes", size)
	if err := os.Remove(p); err != nil {
		return 0, fmt.Errorf("remove uploaded chunk: %w", err)
	}
	return size, nil
}

// uploadGzip streams src through gzip into the object key and returns the
// compressed size. Memory: one part buffer (PartSize), reused.
func (s *Sink) uploadGzip(ctx context.Context, key string, src io.Reader) (int64, error) {
	if cap(s.partBuf) < int(s.o.PartSize) {
		s.partBuf = make([]byte, 0, s.o.PartSize)
	}
	w := &partWriter{s: s, ctx: ctx, key: key, buf: s.partBuf[:0]}
	zw, _ := gzip.NewWriterLevel(w, gzip.DefaultCompression)
	_, err := io.Copy(zw, src)
	if err == nil {
		err = zw.Close()
	}
	if err == nil {
		err = w.finish()
	}
	if err != nil && w.id != nil {
		s.abort(key, w.id)
	}
	return w.total, err
}

// partWriter collects compressed bytes into parts of PartSize. The first
// full part starts a multipart upload; a body that never fills one is sent
// with PutObject by finish.
type partWriter struct {
	s     *Sink
	ctx   context.Context
	key   string
	buf   []byte
	id    *string
	parts []types.CompletedPart
	total int64
}

func (w *partWriter) Write(p []byte) (int, error) {
	n := 0
	for len(p) > 0 {
		k := min(int(w.s.o.PartSize)-len(w.buf), len(p))
		w.buf = append(w.buf, p[:k]...)
		p, n = p[k:], n+k
		if int64(len(w.buf)) >= w.s.o.PartSize {
			if err := w.part(); err != nil {
				return n, err
			}
		}
	}
	return n, nil
}

// part uploads the buffer as the next part.
func (w *partWriter) part() error {
	s := w.s
	if w.id == nil {
		up, err := s.o.Client.CreateMultipartUpload(w.ctx, &s3.CreateMultipartUploadInput{
			Bucket: aws.String(s.o.Bucket), Key: aws.String(w.key), ContentType: aws.String("application/json"),
		})
		if err != nil {
			return err
		}
		w.id = up.UploadId
	}
	n := int32(len(w.parts) + 1)
	out, err := s.o.Client.UploadPart(w.ctx, &s3.UploadPartInput{
		Bucket: aws.String(s.o.Bucket), Key: aws.String(w.key), UploadId: w.id,
		PartNumber: aws.Int32(n), Body: bytes.NewReader(w.buf), ContentLength: aws.Int64(int64(len(w.buf))),
	})
	if err != nil {
		return err
	}
	w.parts = append(w.parts, types.CompletedPart{ETag: out.ETag, PartNumber: aws.Int32(n)})
	w.total += int64(len(w.buf))
	w.buf = w.buf[:0]
	return nil
}

// finish sends what is buffered: the whole object, or the last part and
// the completion of the multipart upload.
func (w *partWriter) finish() error {
	s := w.s
	if w.id == nil {
		w.total = int64(len(w.buf))
		_, err := s.o.Client.PutObject(w.ctx, &s3.PutObjectInput{
			Bucket: aws.String(s.o.Bucket), Key: aws.String(w.key), Body: bytes.NewReader(w.buf),
			ContentLength: aws.Int64(w.total), ContentType: aws.String("application/json"),
		})
		return err
	}
	if len(w.buf) > 0 {
		if err := w.part(); err != nil {
			return err
		}
	}
	_, err := s.o.Client.CompleteMultipartUpload(w.ctx, &s3.CompleteMultipartUploadInput{
		Bucket: aws.String(s.o.Bucket), Key: aws.String(w.key), UploadId: w.id,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: w.parts},
	})
	return err
}

// multipart uploads body in parts of PartSize read straight from the file
// (no part is copied into memory), one after the other; a failed upload
// is aborted.
func (s *Sink) multipart(ctx context.Context, key string, ra io.ReaderAt, size int64) error {
	up, err := s.o.Client.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{
		Bucket: aws.String(s.o.Bucket), Key: aws.String(key), ContentType: aws.String("application/json"),
	})
	if err != nil {
		return err
	}
	var parts []types.CompletedPart
	for n, off := int32(1), int64(0); off < size; n, off = n+1, off+s.o.PartSize {
		l := min(s.o.PartSize, size-off)
		out, err := s.o.Client.UploadPart(ctx, &s3.UploadPartInput{
			Bucket: aws.String(s.o.Bucket), Key: aws.String(key), UploadId: up.UploadId,
			PartNumber: aws.Int32(n), Body: io.NewSectionReader(ra, off, l), ContentLength: aws.Int64(l),
		})
		if err != nil {
			s.abort(key, up.UploadId)
			return err
		}
		parts = append(parts, types.CompletedPart{ETag: out.ETag, PartNumber: aws.Int32(n)})
	}
	_, err = s.o.Client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket: aws.String(s.o.Bucket), Key: aws.String(key), UploadId: up.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
	})
	if err != nil {
		s.abort(key, up.UploadId)
	}
	return err
}

func (s *Sink) abort(key string, id *string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := s.o.Client.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{
		Bucket: aws.String(s.o.Bucket), Key: aws.String(key), UploadId: id,
	}); err != nil {
		s.log.Warn("abort multipart upload", "key", key, "err", err)
	}
}
