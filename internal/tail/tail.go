// Package tail follows a growing log file the way the apiserver's
// lumberjack rotates it, and hands out complete lines with the position
// after them. It serves both `audittui ship` (with checkpoints) and the
// file source's --follow.
//
// It follows rename+create rotation (the old file is read to its end, then
// the backups rotated after it, oldest first, then the new file),
// copytruncate (the file shrinks or its first bytes change: restart at 0),
// deletion (keep the open file, wait for the path to come back), a path
// that does not exist yet, a partial last line (held until its newline
// arrives) and lines longer than the limit (written whole to an overflow
// writer and reported, never sent in pieces). Change notification comes
// from fsnotify on the directory with a polling fallback every Refresh
// interval; MinInterval coalesces bursts of notifications.
//
// A file is identified by device, inode and a fingerprint of its first
// bytes (ID), so a Position taken in one file is found again after the
// file was renamed, compressed, or replaced by another with the same inode.
// Rotated copies are found by a Finder (Lumberjack by default): it lists
// candidates, and identity decides which one is the file a position names.
package tail

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/fsnotify/fsnotify"
)

// Position is a point in one file: the bytes before Offset have been
// handed out. ship's checkpoints store it.
type Position struct {
	// Path is where the file was when the position was taken (it may have
	// been renamed since; ID finds it).
	Path   string `json:"path"`
	ID     ID     `json:"id"`
	Offset int64  `json:"offset"`
}

// Chunk is a run of complete lines from one file.
type Chunk struct {
	// Data holds whole lines, each ending in '\n'. The receiver owns it.
	// It is the file's bytes from Start to End.Offset, except that the
	// last line of a finished file (rotated away, or the end with Once)
	// gets the newline it lacked.
	Data []byte
	// Start is the file offset of Data[0] (for a compressed backup, the
	// offset in its decompressed content). Over-long lines are never inside
	// a chunk: the chunks before and after one are emitted separately,
	// with OnLongLine called in between.
	Start int64
	// End is the position just after the last line of Data.
	End Position
}

// Options configure a Tailer.
type Options struct {
	// Path is the live audit log.
	Path string
	// Refresh is the polling interval (the fallback when no notification
	// arrives). Default 5s.
	Refresh time.Duration
	// MinInterval is the least time between two reads of an idle file:
	// notifications that arrive sooner are coalesced, so an apiserver
	// writing one event at a time does not wake the tailer a thousand
	// times a second. Default 100ms; negative means none.
	MinInterval time.Duration
	// ReadSize is the read buffer size and so the typical chunk size.
	// Default 256 KiB.
	ReadSize int
	// MaxLine: longer lines go to LongLines instead of being emitted.
	// Default 16 MiB.
	MaxLine int
	// LongLines receives over-long lines whole (newline-terminated); nil
	// discards them. OnLongLine is told about each one.
	LongLines  io.Writer
	OnLongLine func(path string, offset, size int64)
	// Start resumes from a checkpoint; nil reads the live file from its
	// beginning.
	Start *Position
	// File, if set, is Path already open: reading continues in it at
	// Start.Offset (0 without Start, or when its first bytes no longer
	// match Start.ID: rewritten by copytruncate), whatever happened to the
	// path since it was opened. The tailer owns it and closes it.
	File *os.File
	// Backups lists the rotated copies of Path (default Lumberjack).
	Backups Finder
	// Once stops at the end of the live file instead of following it
	// (for --dry-run).
	Once bool
	// NoNotify disables fsnotify (polling only).
	NoNotify bool
	// OnOpen is told the position each file is opened at (its identity
	// fingerprints the bytes already there), so a first checkpoint can be
	// saved before anything is delivered.
	OnOpen func(Position)
	// OnIdle is told, each time the tailer has read everything there is
	// and is about to wait for more, the size of the last line it holds
	// back until its newline arrives (0: none). It runs on the tailer's
	// goroutine and may block. Not called with Once.
	OnIdle func(partial int64)
	Logger *slog.Logger
}

// Tailer follows one audit log.
type Tailer struct {
	o   Options
	log *slog.Logger

	// the file being read
	f       *os.File
	name    string // path the file had when opened
	readPos int64  // next byte to read
	partial []byte // bytes after the last newline, not yet emitted
	long    bool   // inside an over-long line (bytes go to LongLines)
	longOff int64  // offset where that line started
	longLen int64
	id      ID       // cached id (final once FPLen == PrefixLen)
	gz      *gzState // set while a compressed backup is read
	buf     []byte
}

// New returns a tailer.
func New(o Options) *Tailer {
	if o.Refresh <= 0 {
		o.Refresh = 5 * time.Second
	}
	if o.ReadSize <= 0 {
		o.ReadSize = 256 << 10
	}
	if o.MinInterval == 0 {
		o.MinInterval = 100 * time.Millisecond
	}
	if o.MaxLine <= 0 {
		o.MaxLine = 16 << 20
	}
	if o.Backups == nil {
		o.Backups = Lumberjack
	}
	lg := o.Logger
	if lg == nil {
		lg = slog.New(slog.DiscardHandler)
	}
	return &Tailer{o: o, log: lg}
}

// Emit receives chunks. It may block: that is backpressure (the audit file
// is the buffer). An error stops the tailer.
type Emit func(ctx context.Context, c Chunk) error

// Run tails until ctx ends (or, with Once, until the live file's end).
func (t *Tailer) Run(ctx context.Context, emit Emit) error {
	defer t.closeFile()
	wake, stopWatch := t.watch(ctx)
	defer stopWatch()

	if err := t.resume(ctx, emit); err != nil {
		return err
	}
	ticker := time.NewTicker(t.o.Refresh)
	defer ticker.Stop()
	for {
		if t.f == nil {
			if err := t.openLive(0); err != nil {
				return err
			}
		}
		if t.f != nil {
			if err := t.drain(ctx, emit); err != nil {
				return err
			}
			switched, err := t.checkFile(ctx, emit)
			if err != nil {
				return err
			}
			if switched {
				continue
			}
			if t.o.Once {
				return t.finishFile(ctx, emit)
			}
		} else if t.o.Once {
			return fmt.Errorf("open %s: %w", t.o.Path, os.ErrNotExist)
		}
		if t.o.OnIdle != nil {
			t.o.OnIdle(t.pending())
		}
		idle := time.Now()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-wake:
		case <-ticker.C:
		}
		if wait := t.o.MinInterval - time.Since(idle); wait > 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(wait):
			}
		}
	}
}

// resume continues from the checkpoint. If the checkpointed file is the
// live file, reading continues there. If it was rotated away (even if it
// was compressed meanwhile), it is read from the checkpoint to its end,
// then every backup rotated after it, then the live file from the start.
func (t *Tailer) resume(ctx context.Context, emit Emit) error {
	st := t.o.Start
	if f := t.o.File; f != nil {
		t.o.File = nil
		if st == nil {
			t.openAt(f, t.o.Path, 0)
			return nil
		}
		ok, err := st.ID.Matches(f)
		if err != nil {
			f.Close()
			return err
		}
		if !ok {
			t.log.Warn("file rewritten since it was opened (copytruncate); reading from the start", "path", t.o.Path)
			t.openAt(f, t.o.Path, 0)
			return nil
		}
		t.openAt(f, t.o.Path, st.Offset)
		return nil
	}
	if st == nil {
		return nil
	}
	live, liveInfo, err := t.pinLive()
	if err != nil {
		return err
	}
	if live != nil {
		ok, err := st.ID.Matches(live)
		if err != nil {
			live.Close()
			return err
		}
		if ok {
			off := st.Offset
			if liveInfo.Size() < off {
				t.log.Warn("checkpointed file is shorter than the checkpoint (truncated while stopped); reading from the start",
					"path", t.o.Path, "offset", off, "size", liveInfo.Size())
				off = 0
			}
			t.openAt(live, t.o.Path, off)
			return nil
		}
	}
	bs := t.o.Backups(t.o.Path)
	i := locate(bs, nil, st.ID, liveInfo)
	if i < 0 {
		t.log.Warn("checkpointed file not found among the backups (deleted while stopped); reading the live file from the start",
			"checkpoint_path", st.Path, "id", st.ID.String(), "offset", st.Offset)
		if live != nil {
			t.openAt(live, t.o.Path, 0)
		}
		return nil
	}
	t.log.Info("resuming a rotated file before the live one", "path", bs[i].Path, "offset", st.Offset, "compressed", bs[i].Gzip)
	if err := t.readBackup(ctx, bs[i], st.Offset, emit); err != nil {
		closeIf(live)
		return err
	}
	return t.catchUp(ctx, emit, bs[i].Order, live, liveInfo)
}

func closeIf(f *os.File) {
	if f != nil {
		f.Close()
	}
}

// pinLive opens the live file (nil when it does not exist).
func (t *Tailer) pinLive() (*os.File, os.FileInfo, error) {
	live, err := os.Open(t.o.Path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil, nil
		}
		return nil, nil, fmt.Errorf("open %s: %w", t.o.Path, err)
	}
	fi, err := live.Stat()
	if err != nil {
		live.Close()
		return nil, nil, fmt.Errorf("stat %s: %w", t.o.Path, err)
	}
	return live, fi, nil
}

// catchUp reads every backup rotated after the one ordered lastOrder,
// oldest first (re-listing after each, as rotation may go on), then
// continues with the pinned live file.
func (t *Tailer) catchUp(ctx context.Context, emit Emit, lastOrder string, live *os.File, liveInfo os.FileInfo) error {
	for {
		var next *Backup
		for _, b := range t.o.Backups(t.o.Path) {
			if b.Order > lastOrder && !b.isFile(liveInfo) {
				next = &b
				break
			}
		}
		if next == nil {
			break
		}
		t.log.Info("reading a backup rotated before it was opened", "path", next.Path, "compressed", next.Gzip)
		if err := t.readBackup(ctx, *next, 0, emit); err != nil {
			closeIf(live)
			return err
		}
		lastOrder = next.Order
	}
	if live != nil {
		t.openAt(live, t.o.Path, 0)
	}
	return nil
}

// readBackup reads a rotated file from off to its end.
func (t *Tailer) readBackup(ctx context.Context, b Backup, off int64, emit Emit) error {
	if b.Gzip {
		return t.readGz(ctx, b.Path, off, emit)
	}
	f, err := os.Open(b.Path)
	if err != nil {
		t.log.Warn("backup vanished before it could be read", "path", b.Path, "err", err)
		return nil
	}
	t.openAt(f, b.Path, off)
	if err := t.drain(ctx, emit); err != nil {
		return err
	}
	return t.finishFile(ctx, emit)
}

func (t *Tailer) openAt(f *os.File, name string, off int64) {
	t.closeFile()
	t.f, t.name, t.readPos = f, name, off
	t.partial = t.partial[:0]
	t.long = false
	t.id = ID{}
	t.log.Debug("reading file", "path", name, "offset", off)
	if t.o.OnOpen != nil {
		if id, err := Identify(f, PrefixLen); err == nil {
			t.o.OnOpen(Position{Path: name, ID: id, Offset: off})
		}
	}
}

func (t *Tailer) openLive(off int64) error {
	f, err := os.Open(t.o.Path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil // not there yet: wait
		}
		return fmt.Errorf("open %s: %w", t.o.Path, err)
	}
	t.openAt(f, t.o.Path, off)
	return nil
}

func (t *Tailer) closeFile() {
	if t.f != nil {
		t.f.Close()
		t.f = nil
	}
}

// pending is the size of the last line read but held back: the bytes
// after the last newline (an over-long line counts what went to the
// overflow writer so far). 0 without an open file.
func (t *Tailer) pending() int64 {
	if t.f == nil {
		return 0
	}
	if t.long {
		return t.longLen
	}
	return int64(len(t.partial))
}

// emitted is the offset just after the last emitted (or overflowed) line.
func (t *Tailer) emitted() int64 { return t.readPos - int64(len(t.partial)) }

// position returns the position at offset end of the current file.
func (t *Tailer) position(end int64) (Position, error) {
	if t.gz != nil {
		return t.gz.position(t.name, end), nil
	}
	if t.id.FPLen < PrefixLen && int64(t.id.FPLen) < end || t.id.Ino == 0 {
		id, err := Identify(t.f, end)
		if err != nil {
			return Position{}, err
		}
		t.id = id
	}
	return Position{Path: t.name, ID: t.id, Offset: end}, nil
}

// drain reads the open file to its current end, emitting complete lines.
func (t *Tailer) drain(ctx context.Context, emit Emit) error {
	if t.buf == nil {
		t.buf = make([]byte, t.o.ReadSize)
	}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		n, err := t.f.ReadAt(t.buf, t.readPos)
		if n > 0 {
			if e := t.consume(ctx, t.buf[:n], emit); e != nil {
				return e
			}
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return fmt.Errorf("read %s: %w", t.name, err)
		}
		if n == 0 {
			return nil
		}
	}
}

func (t *Tailer) consume(ctx context.Context, data []byte, emit Emit) error {
	start := t.readPos
	t.readPos += int64(len(data))
	if t.long {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			t.writeLong(data)
			return nil
		}
		t.writeLong(data[:i+1])
		t.endLong()
		data = data[i+1:]
		start += int64(i + 1)
	}
	i := bytes.LastIndexByte(data, '\n')
	if i < 0 {
		if len(t.partial)+len(data) > t.o.MaxLine {
			t.startLong(start - int64(len(t.partial)))
			t.writeLong(t.partial)
			t.writeLong(data)
			t.partial = t.partial[:0]
			return nil
		}
		t.partial = append(t.partial, data...)
		return nil
	}
	out := make([]byte, 0, len(t.partial)+i+1)
	out = append(out, t.partial...)
	out = append(out, data[:i+1]...)
	t.partial = append(t.partial[:0], data[i+1:]...)
	return t.emitLines(ctx, out, t.emitted()-int64(len(out)), emit)
}

// emitLines emits whole lines (base is the file offset of data[0]); lines
// longer than MaxLine go to the overflow writer, and the runs of lines
// before and after each are emitted as separate chunks, so that every
// chunk is contiguous in the file and OnLongLine comes in file order.
func (t *Tailer) emitLines(ctx context.Context, data []byte, base int64, emit Emit) error {
	if len(data) <= t.o.MaxLine {
		return t.emitRun(ctx, data, base, emit)
	}
	run := 0 // start of the run of short lines not yet emitted
	for off := 0; off < len(data); {
		j := bytes.IndexByte(data[off:], '\n')
		line := data[off : off+j+1]
		if len(line)-1 > t.o.MaxLine {
			if err := t.emitRun(ctx, data[run:off], base+int64(run), emit); err != nil {
				return err
			}
			t.startLong(base + int64(off))
			t.writeLong(line)
			t.endLong()
			run = off + j + 1
		}
		off += j + 1
	}
	return t.emitRun(ctx, data[run:], base+int64(run), emit)
}

// emitRun emits data, the file's bytes from start, as one chunk.
func (t *Tailer) emitRun(ctx context.Context, data []byte, start int64, emit Emit) error {
	if len(data) == 0 {
		return nil
	}
	pos, err := t.position(start + int64(len(data)))
	if err != nil {
		return err
	}
	return emit(ctx, Chunk{Data: data, Start: start, End: pos})
}

func (t *Tailer) startLong(off int64) { t.long, t.longOff, t.longLen = true, off, 0 }

func (t *Tailer) writeLong(b []byte) {
	t.longLen += int64(len(b))
	if t.o.LongLines != nil && len(b) > 0 {
		if _, err := t.o.LongLines.Write(b); err != nil {
			t.log.Error("write over-long line", "err", err)
		}
	}
}

func (t *Tailer) endLong() {
	t.long = false
	t.log.Warn("line longer than the limit written to the overflow file", "path", t.name, "offset", t.longOff,
		"bytes", t.longLen, "max_line", t.o.MaxLine)
	if t.o.OnLongLine != nil {
		t.o.OnLongLine(t.name, t.longOff, t.longLen)
	}
}

// finishFile emits a last line without a trailing newline (the writer is
// done with this file), then closes it.
func (t *Tailer) finishFile(ctx context.Context, emit Emit) error {
	if t.long {
		t.writeLong([]byte("\n"))
		t.endLong()
	}
	if len(bytes.TrimSpace(t.partial)) > 0 {
		start := t.emitted()
		out := make([]byte, 0, len(t.partial)+1)
		out = append(out, t.partial...)
		out = append(out, '\n')
		t.partial = t.partial[:0]
		pos, err := t.position(t.readPos)
		if err != nil {
			return err
		}
		if err := emit(ctx, Chunk{Data: out, Start: start, End: pos}); err != nil {
			return err
		}
	}
	t.closeFile()
	return nil
}

// checkFile looks for truncation and rotation at the end of the file.
// switched is true when a new file was opened.
func (t *Tailer) checkFile(ctx context.Context, emit Emit) (switched bool, err error) {
	fi, err := t.f.Stat()
	if err != nil {
		return false, fmt.Errorf("stat %s: %w", t.name, err)
	}
	truncated := fi.Size() < t.readPos
	if !truncated && t.emitted() > 0 && t.id.Ino != 0 {
		// Same size or larger but rewritten from the start (copytruncate
		// followed by fast writes)?
		ok, err := t.id.Matches(t.f)
		if err != nil {
			return false, err
		}
		truncated = !ok
	}
	if truncated {
		t.log.Warn("file truncated (copytruncate); reading from the start", "path", t.name,
			"offset", t.readPos, "size", fi.Size())
		t.readPos, t.partial, t.long, t.id = 0, t.partial[:0], false, ID{}
		return true, nil
	}
	pfi, err := os.Stat(t.o.Path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return false, nil // deleted: keep reading the open file until the path returns
		}
		return false, fmt.Errorf("stat %s: %w", t.o.Path, err)
	}
	if os.SameFile(fi, pfi) {
		return false, nil
	}
	// Rotated (rename+create) or deleted and recreated: the old file is
	// complete. Read what was written before the switch, then move on.
	t.log.Info("file rotated; finishing the old file", "path", t.name)
	if err := t.drain(ctx, emit); err != nil {
		return false, err
	}
	oldInfo, err := t.f.Stat()
	if err != nil {
		return false, fmt.Errorf("stat %s: %w", t.name, err)
	}
	// Several rotations may have happened since the last look: pin the
	// live file, then read every backup rotated after the old file.
	oldID := t.id
	if err := t.finishFile(ctx, emit); err != nil {
		return false, err
	}
	live, liveInfo, err := t.pinLive()
	if err != nil {
		return false, err
	}
	bs := t.o.Backups(t.o.Path)
	if i := locate(bs, oldInfo, oldID, liveInfo); i >= 0 {
		return true, t.catchUp(ctx, emit, bs[i].Order, live, liveInfo)
	}
	// The old file is not among the backups (deleted, or moved
	// elsewhere): take plain backups modified after it.
	for _, p := range newerBackups(bs, oldInfo, liveInfo) {
		if err := t.readBackup(ctx, Backup{Path: p}, 0, emit); err != nil {
			closeIf(live)
			return false, err
		}
	}
	if live != nil {
		t.openAt(live, t.o.Path, 0)
	}
	return true, nil
}

// newerBackups lists the uncompressed backups among bs rotated after old,
// oldest first, excluding the live file. The backups' order (for
// lumberjack, the rotation time in their names) gives the order when old
// is found among them; otherwise (old was deleted or renamed elsewhere)
// backups modified strictly after old are taken, by modification time.
func newerBackups(bs []Backup, old, live os.FileInfo) []string {
	var sibs []string // in rotation order
	for _, b := range bs {
		if !b.Gzip {
			sibs = append(sibs, b.Path)
		}
	}
	infos := make([]os.FileInfo, len(sibs))
	at := -1
	for i, c := range sibs {
		fi, err := os.Stat(c)
		if err != nil {
			continue
		}
		infos[i] = fi
		if os.SameFile(fi, old) {
			at = i
		}
	}
	var out []string
	if at >= 0 {
		for i := at + 1; i < len(sibs); i++ {
			if infos[i] != nil && !os.SameFile(infos[i], live) {
				out = append(out, sibs[i])
			}
		}
		return out
	}
	type mf struct {
		path string
		mod  time.Time
	}
	var ms []mf
	for i, c := range sibs {
		fi := infos[i]
		if fi == nil || (live != nil && os.SameFile(fi, live)) || !fi.ModTime().After(old.ModTime()) {
			continue
		}
		ms = append(ms, mf{c, fi.ModTime()})
	}
	sort.SliceStable(ms, func(i, j int) bool { return ms[i].mod.Before(ms[j].mod) })
	for _, m := range ms {
		out = append(out, m.path)
	}
	return out
}

// watch returns a channel signalled on any change in Path's directory.
func (t *Tailer) watch(ctx context.Context) (<-chan struct{}, func()) {
	wake := make(chan struct{}, 1)
	if t.o.NoNotify {
		return wake, func() {}
	}
	w, err := fsnotify.NewWatcher()
	if err != nil {
		t.log.Warn("fsnotify unavailable; polling", "err", err, "interval", t.o.Refresh)
		return wake, func() {}
	}
	dir := filepath.Dir(t.o.Path)
	if err := w.Add(dir); err != nil {
		t.log.Warn("cannot watch directory; polling", "dir", dir, "err", err, "interval", t.o.Refresh)
	}
	done := make(chan struct{})
	pause := time.NewTimer(time.Hour)
	pause.Stop()
	go func() {
		defer pause.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case _, ok := <-w.Events:
				if !ok {
					return
				}
				select {
				case wake <- struct{}{}:
				default:
				}
				// Not reading for a moment lets the kernel merge the
				// apiserver's per-event writes into one notification.
				if t.o.MinInterval > 0 {
					pause.Reset(t.o.MinInterval)
					select {
					case <-pause.C:
					case <-done:
						return
					case <-ctx.Done():
						return
					}
				}
			case err, ok := <-w.Errors:
				if !ok {
					return
				}
				t.log.Warn("fsnotify error; polling continues", "err", err)
			}
		}
	}()
	return wake, func() { close(done); w.Close() }
}
