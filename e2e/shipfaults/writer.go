package shipfaults

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Rotation is how the Writer rotates the live file.
type Rotation int

const (
	// RenameCreate is lumberjack's (the apiserver's own --audit-log-maxsize
	// rotation): audit.log is renamed to audit-<time>.log and a new
	// audit.log is created; with Compress the backup is gzipped to
	// audit-<time>.log.gz a moment later (lumberjack's mill), and backups
	// beyond MaxBackups are deleted, oldest first.
	RenameCreate Rotation = iota
	// CopyTruncateNumbered is logrotate's copytruncate with numbered
	// backups: audit.log.N are shifted to audit.log.N+1, audit.log is
	// copied to audit.log.1 and truncated in place. With Compress, backups
	// from audit.log.2 on are gzipped (compress + delaycompress).
	CopyTruncateNumbered
	// CopyTruncateTimed copies audit.log to audit-<time>.log (the
	// apiserver's backup names) and truncates it in place; with Compress
	// the copy is gzipped a moment later.
	CopyTruncateTimed
)

func (r Rotation) String() string {
	switch r {
	case RenameCreate:
		return "rename+create"
	case CopyTruncateNumbered:
		return "copytruncate (audit.log.N)"
	case CopyTruncateTimed:
		return "copytruncate (audit-<time>.log)"
	}
	return fmt.Sprintf("Rotation(%d)", int(r))
}

// WriterOptions configure a Writer.
type WriterOptions struct {
	// Path is the live audit log.
	Path string
	// Tag numbers the events' auditIDs.
	Tag Tag
	// Rate is the target events per second of Start's loop.
	Rate int
	// RotateBytes rotates the live file when it reaches this size (0 = only
	// when Rotate is called).
	RotateBytes int64
	Rotation    Rotation
	Compress    bool
	// MaxBackups deletes the oldest backups beyond this many (0 keeps all).
	MaxBackups int
	// WindowEvery/WindowEvents: on every WindowEvery-th copytruncate,
	// WindowEvents events are written between the copy and the truncate.
	// They are in neither the copy nor the truncated file: ship can only
	// have them if it read them before the truncate. They are marked
	// Event.Window (unrecoverable by construction when not read in time).
	WindowEvery, WindowEvents int
	// Seed makes the generated traffic deterministic.
	Seed int64
}

// Event is one event the Writer wrote.
type Event struct {
	Seq   int
	Bytes int // line length with its newline
	// Seg is the file generation it was written to: 0 for the first live
	// file, +1 at every rotation.
	Seg int
	// Window: written between a copytruncate's copy and its truncate.
	Window bool
	// Deleted: the backup holding it was deleted (retention).
	Deleted bool
	Huge    bool
}

type backupFile struct {
	path string
	seg  int
	gz   bool
}

// Writer plays the apiserver: it appends uniquely numbered audit events to
// the live file at a set rate and rotates it the configured way.
type Writer struct {
	o   WriterOptions
	src *eventSource

	mu        sync.Mutex
	f         *os.File
	size      int64
	seq       int
	seg       int
	events    []Event
	backups   []*backupFile // oldest first
	rotations int
	truncs    int
	lastStamp time.Time
	err       error

	mill   sync.Mutex // serialises background compression and retention
	bg     sync.WaitGroup
	cancel context.CancelFunc
	loop   chan struct{}
}

// NewWriter returns a writer; the live file is created on the first write.
func NewWriter(o WriterOptions) *Writer {
	if o.Rate <= 0 {
		o.Rate = 1000
	}
	return &Writer{o: o, src: newEventSource(o.Tag, o.Rate, o.Seed)}
}

// Start writes Rate events per second until Stop.
func (w *Writer) Start() {
	ctx, cancel := context.WithCancel(context.Background())
	w.cancel = cancel
	w.loop = make(chan struct{})
	go func() {
		defer close(w.loop)
		start := time.Now()
		done := 0
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			due := int(float64(w.o.Rate)*time.Since(start).Seconds()) - done
			// A slow moment (a compression, a loaded machine) is made
			// up for at no more than twice the rate.
			due = min(due, w.o.Rate/50+1)
			if due <= 0 {
				continue
			}
			if err := w.Write(due); err != nil {
				return
			}
			done += due
		}
	}()
}

// Stop ends Start's loop and waits for background compression. It returns
// the first error the writer met.
func (w *Writer) Stop() error {
	if w.cancel != nil {
		w.cancel()
		<-w.loop
		w.cancel = nil
	}
	w.bg.Wait()
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// Close stops the writer and closes the live file.
func (w *Writer) Close() error {
	err := w.Stop()
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.f != nil {
		w.f.Close()
		w.f = nil
	}
	return err
}

func (w *Writer) fail(err error) error {
	if w.err == nil {
		w.err = err
	}
	return err
}

func (w *Writer) openLocked() error {
	if w.f != nil {
		return nil
	}
	f, err := os.OpenFile(w.o.Path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return w.fail(err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return w.fail(err)
	}
	w.f, w.size = f, fi.Size()
	return nil
}

// Write appends n events in one write (as a busy apiserver's buffered
// writes arrive) and rotates when the file reached RotateBytes.
func (w *Writer) Write(n int) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return w.err
	}
	return w.writeLocked(n, false)
}

func (w *Writer) writeLocked(n int, window bool) error {
	if err := w.openLocked(); err != nil {
		return err
	}
	buf := make([]byte, 0, n*1200)
	for range n {
		start := len(buf)
		buf = w.src.appendEvent(buf, w.seq)
		w.events = append(w.events, Event{Seq: w.seq, Bytes: len(buf) - start, Seg: w.seg, Window: window})
		w.seq++
	}
	if _, err := w.f.Write(buf); err != nil {
		return w.fail(fmt.Errorf("write %s: %w", w.o.Path, err))
	}
	w.size += int64(len(buf))
	if !window && w.o.RotateBytes > 0 && w.size >= w.o.RotateBytes {
		return w.rotateLocked()
	}
	return nil
}

// WriteHuge appends one event of about size bytes.
func (w *Writer) WriteHuge(size int) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.openLocked(); err != nil {
		return err
	}
	b := hugeEvent(w.o.Tag, w.seq, size, time.Now())
	w.events = append(w.events, Event{Seq: w.seq, Bytes: len(b), Seg: w.seg, Huge: true})
	w.seq++
	if _, err := w.f.Write(b); err != nil {
		return w.fail(fmt.Errorf("write %s: %w", w.o.Path, err))
	}
	w.size += int64(len(b))
	return nil
}

// Rotate rotates now.
func (w *Writer) Rotate() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.openLocked(); err != nil {
		return err
	}
	return w.rotateLocked()
}

// stamp returns a lumberjack backup time, strictly after the previous one.
func (w *Writer) stamp() string {
	t := time.Now().UTC().Truncate(time.Millisecond)
	if !t.After(w.lastStamp) {
		t = w.lastStamp.Add(time.Millisecond)
	}
	w.lastStamp = t
	return t.Format("2006-01-02T15-04-05.000")
}

func (w *Writer) timedName() string {
	dir, name := filepath.Split(w.o.Path)
	ext := filepath.Ext(name)
	return filepath.Join(dir, strings.TrimSuffix(name, ext)+"-"+w.stamp()+ext)
}

func (w *Writer) rotateLocked() error {
	var err error
	switch w.o.Rotation {
	case RenameCreate:
		err = w.renameCreate()
	case CopyTruncateNumbered:
		err = w.copyTruncateNumbered()
	case CopyTruncateTimed:
		err = w.copyTruncateTimed()
	default:
		err = fmt.Errorf("unknown rotation %v", w.o.Rotation)
	}
	if err != nil {
		return w.fail(err)
	}
	w.rotations++
	return nil
}

func (w *Writer) renameCreate() error {
	if err := w.f.Close(); err != nil {
		return err
	}
	w.f = nil
	b := &backupFile{path: w.timedName(), seg: w.seg}
	if err := os.Rename(w.o.Path, b.path); err != nil {
		return err
	}
	w.backups = append(w.backups, b)
	w.seg++
	if err := w.openLocked(); err != nil {
		return err
	}
	w.millLater(b)
	return nil
}

// millLater compresses b (with Compress) and applies MaxBackups in the
// background, as lumberjack's mill goroutine does after a rotation.
func (w *Writer) millLater(b *backupFile) {
	w.bg.Add(1)
	go func() {
		defer w.bg.Done()
		w.mill.Lock()
		defer w.mill.Unlock()
		time.Sleep(20 * time.Millisecond)
		if w.o.Compress {
			if err := w.compress(b); err != nil {
				w.mu.Lock()
				w.fail(err)
				w.mu.Unlock()
				return
			}
		}
		w.mu.Lock()
		defer w.mu.Unlock()
		w.retainLocked()
	}()
}

// compress gzips b like lumberjack (write <name>.gz, then remove <name>);
// w.mu must not be held.
func (w *Writer) compress(b *backupFile) error {
	w.mu.Lock()
	src := b.path
	w.mu.Unlock()
	dst, err := gzipFile(src)
	if err != nil {
		return err
	}
	w.mu.Lock()
	if b.path == src {
		b.path, b.gz = dst, true
	}
	w.mu.Unlock()
	return nil
}

// gzipFile writes src.gz and removes src; a missing src (deleted by
// retention meanwhile) or one already compressed is left alone. It
// compresses at gzip.BestSpeed: what ship reads is a gzip stream either
// way (with back-references, unlike HuffmanOnly), and under -race the
// default level was the test process's largest cost (TestKill9Loop and
// TestLokiStoreKill9DuringOutage: 72.7 s of CPU, 48.5 s at BestSpeed).
func gzipFile(src string) (string, error) {
	if src == "" || strings.HasSuffix(src, ".gz") {
		return src, nil
	}
	data, err := os.ReadFile(src)
	if errors.Is(err, os.ErrNotExist) {
		return src, nil
	}
	if err != nil {
		return "", err
	}
	var z bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&z, gzip.BestSpeed)
	zw.Write(data)
	if err := zw.Close(); err != nil {
		return "", err
	}
	if err := os.WriteFile(src+".gz", z.Bytes(), 0o640); err != nil {
		return "", err
	}
	if err := os.Remove(src); err != nil {
		return "", err
	}
	return src + ".gz", nil
}

// retainLocked deletes the oldest backups beyond MaxBackups.
func (w *Writer) retainLocked() {
	for w.o.MaxBackups > 0 && len(w.backups) > w.o.MaxBackups {
		w.deleteLocked(w.backups[0])
	}
}

func (w *Writer) deleteLocked(b *backupFile) {
	if err := os.Remove(b.path); err != nil && !errors.Is(err, os.ErrNotExist) {
		w.fail(err)
	}
	for i := range w.events {
		if w.events[i].Seg == b.seg {
			w.events[i].Deleted = true
		}
	}
	for i, x := range w.backups {
		if x == b {
			w.backups = append(w.backups[:i], w.backups[i+1:]...)
			break
		}
	}
	b.path = ""
}

// copyAside copies the live file to dst (logrotate's copy step).
func (w *Writer) copyAside(dst string) error {
	data, err := os.ReadFile(w.o.Path)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, data, 0o640)
}

// truncate empties the live file in place; the writer keeps its O_APPEND
// descriptor, so the next write lands at offset 0.
func (w *Writer) truncateAfterCopy() error {
	w.truncs++
	if w.o.WindowEvery > 0 && w.truncs%w.o.WindowEvery == 0 && w.o.WindowEvents > 0 {
		if err := w.writeLocked(w.o.WindowEvents, true); err != nil {
			return err
		}
	}
	if err := w.f.Truncate(0); err != nil {
		return err
	}
	w.size = 0
	w.seg++
	return nil
}

func (w *Writer) copyTruncateNumbered() error {
	// Shift audit.log.N -> audit.log.N+1, oldest (highest N) first.
	for i := 0; i < len(w.backups); i++ {
		b := w.backups[i]
		n := len(w.backups) - i // audit.log.n today
		next := fmt.Sprintf("%s.%d", w.o.Path, n+1)
		if b.gz {
			next += ".gz"
		}
		if err := os.Rename(b.path, next); err != nil {
			return err
		}
		b.path = next
	}
	b := &backupFile{path: w.o.Path + ".1", seg: w.seg}
	if err := w.copyAside(b.path); err != nil {
		return err
	}
	w.backups = append(w.backups, b)
	if err := w.truncateAfterCopy(); err != nil {
		return err
	}
	// After the copytruncate, as logrotate does: delaycompress compresses
	// the previous copy (now .2), then old backups are removed.
	if w.o.Compress && len(w.backups) > 1 {
		prev := w.backups[len(w.backups)-2]
		if !prev.gz {
			dst, err := gzipFile(prev.path)
			if err != nil {
				return err
			}
			prev.path, prev.gz = dst, true
		}
	}
	w.retainLocked()
	return nil
}

func (w *Writer) copyTruncateTimed() error {
	b := &backupFile{path: w.timedName(), seg: w.seg}
	if err := w.copyAside(b.path); err != nil {
		return err
	}
	w.backups = append(w.backups, b)
	if err := w.truncateAfterCopy(); err != nil {
		return err
	}
	w.millLater(b)
	return nil
}

// DeleteOldestBackup deletes the oldest backup (retention while ship is
// down) and returns its path and file generation.
func (w *Writer) DeleteOldestBackup() (string, int, error) {
	w.bg.Wait()
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.backups) == 0 {
		return "", 0, errors.New("no backup to delete")
	}
	b := w.backups[0]
	p, seg := b.path, b.seg
	w.deleteLocked(b)
	return p, seg, w.err
}

// Events returns what was written so far.
func (w *Writer) Events() []Event {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]Event(nil), w.events...)
}

// Rotations returns how many rotations happened.
func (w *Writer) Rotations() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.rotations
}

// Backups lists the backup files now on disk, oldest first.
func (w *Writer) Backups() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []string
	for _, b := range w.backups {
		out = append(out, b.path)
	}
	return out
}

// Seg returns the current file generation.
func (w *Writer) Seg() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.seg
}
