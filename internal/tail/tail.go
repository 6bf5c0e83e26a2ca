// Package tail follows a growing log file through rotation and hands out
// complete lines with the position after them. It serves both `audittui
// ship` (with checkpoints) and the file source's --follow.
//
// Files are read one at a time, each once, oldest first:
//
//   - rename+create (the apiserver's lumberjack, logrotate's create): the
//     old file is read to its end through the descriptor already open
//     (while the new file is empty, until the old one has been idle for
//     RotateWait: a writer that reopens the path late, or never, still
//     writes to it), then every backup rotated after it that still exists
//     (plain or .gz), oldest first, then the new live file from its
//     start. A plain file found larger after it was finished is read on
//     from where it was left;
//   - copytruncate (logrotate): the copy is found among the backups by the
//     fingerprint of its first bytes (it begins as the file being read
//     did), finished from the offset already read, then the truncated
//     live file is read from its start. Bytes ship saw in the file (by its
//     size) that neither the copy nor a read holds are counted
//     (OnUnrecoverable); when no copy is found the loss is a gap (OnGap);
//   - deletion: the open file is read on; the path is watched until a new
//     file appears. A new file at the path is opened as soon as it is seen
//     (pin.go), even while reading is held, so a file deleted before the
//     tailer got to it is still read, from its start (up to a bound:
//     beyond it, one deleted before it is read is a gap, unkept.go);
//   - a checkpoint in a file that was rotated, compressed or copied while
//     ship was stopped is found again by its content's fingerprint; when
//     it was deleted (retention), that is a gap: every backup newer than
//     it is read, oldest first, then the live file;
//   - retention while reading is held (a sink outage): the backups waiting
//     to be read are listed every Refresh (see pending.go); one deleted
//     before it was read is a gap, with its size.
//
// The live file's first bytes are compared with the ones read before
// after every read and before anything read is handed out, so a file
// rewritten between two looks (copytruncate followed by fast writes) is
// never mistaken for the one being read.
//
// A partial last line is held until its newline arrives. A line longer
// than SpoolLine is written to a file in SpoolDir as it is read instead
// of being held in memory (Chunk.Spool), and one longer than MaxLine goes
// to the LongLines writer instead of being emitted; neither is ever
// sent in pieces. Change notification comes from fsnotify on the
// directory with a polling fallback every Refresh interval; MinInterval
// coalesces bursts of notifications.
//
// A file is identified by device, inode and a fingerprint of its first
// bytes (ID). Rotated copies are listed by a Finder (Standard by default:
// the apiserver's and logrotate's names); identity decides which one is
// the file a position names.
package tail

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"
	"github.com/klauspost/compress/gzip"
)

// Position is a point in one file: the bytes before Offset have been
// handed out. ship's checkpoints store it.
type Position struct {
	// Path is where the file was when the position was taken (it may have
	// been renamed since; ID finds it).
	Path   string `json:"path"`
	ID     ID     `json:"id"`
	Offset int64  `json:"offset"`
	// ModTime is the file's modification time (Unix ns) when the bytes
	// before Offset were read: every file rotated after this one was
	// modified at or after it. When the file is gone on restart, the
	// backups modified since are the ones still to read.
	ModTime int64 `json:"mtime,omitempty"`
	// Target is the file Path named through a symlink when it was opened
	// (a symlinked audit.log whose target is swapped): on restart the
	// checkpointed file is looked for there first, as no backup pattern
	// may name it.
	Target string `json:"target,omitempty"`
}

// Spooled is one line (without its newline) held in a file instead of
// memory. The file is already unlinked: closing it frees the space.
type Spooled struct {
	File *os.File
	Size int64
}

// Chunk is a run of complete lines from one file.
type Chunk struct {
	// Data holds whole lines, each ending in '\n'. The receiver owns it.
	// It is the file's bytes from Start to End.Offset, except that the
	// last line of a finished file (rotated away, or the end with Once)
	// gets the newline it lacked.
	Data []byte
	// Spool, when set instead of Data, is a single line longer than
	// SpoolLine (its bytes from Start to End.Offset without the newline).
	// The receiver owns it and must close it.
	Spool *Spooled
	// Start is the file offset of Data[0] (for a compressed backup, the
	// offset in its decompressed content). Over-long lines are never inside
	// a chunk: the chunks before and after one are emitted separately,
	// with OnLongLine called in between.
	Start int64
	// End is the position just after the last line of Data.
	End Position
}

// Gap says that a file was gone before it had been read to its end.
type Gap struct {
	// Path and Offset: where the file was and how far it had been read.
	Path   string
	Offset int64
	ID     ID
	// Reason explains the loss for the log.
	Reason string
	// Bytes is the size of what was lost when it is known (a backup
	// listed while it waited to be read, then deleted), else 0.
	Bytes int64
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
	// SpoolDir and SpoolLine: with SpoolDir set, a line longer than
	// SpoolLine (default 1 MiB) is written to a temporary file there while
	// it is read and emitted as Chunk.Spool, so memory never holds it
	// whole. Without SpoolDir lines up to MaxLine are held in memory.
	SpoolDir  string
	SpoolLine int
	// LongLines receives over-long lines whole (newline-terminated); nil
	// discards them. OnLongLine is told about each one.
	LongLines  io.Writer
	OnLongLine func(path string, offset, size int64)
	// OnGap is told when a file was gone before it was read to its end
	// (the tailer also logs it, once, at ERROR): once per file, for a
	// checkpointed file gone on a restart, for each listed backup
	// deleted before it was read (retention while reading was paused),
	// for a new file at the path written to and deleted before it could
	// be opened, for a file at the path not kept open (too many waiting
	// to be read) deleted before it was read, and for a file deleted from
	// the path and kept open that was not read when Run returned. It may
	// be called from another goroutine than Run's (the directory watcher,
	// the lister).
	OnGap func(Gap)
	// OnUnrecoverable is told how many bytes the tailer saw in a file
	// (by its size) that it could not read: the file was truncated before
	// they were read and no rotated copy holds them, or a file it had seen
	// was gone before it was read (a listed backup deleted, a file at the
	// path not kept open and deleted, a file kept open when Run returned:
	// also a Gap, with Bytes).
	OnUnrecoverable func(path string, bytes int64)
	// Start resumes from a checkpoint; nil reads the live file from its
	// beginning.
	Start *Position
	// File, if set, is Path already open: reading continues in it at
	// Start.Offset, whatever happened to the path since it was opened. If
	// its first bytes no longer match Start.ID (rewritten by
	// copytruncate), the copy is looked for as on a restart. The tailer
	// owns it and closes it.
	File *os.File
	// Backups lists the rotated copies of Path (default Standard).
	Backups Finder
	// beforeOpen, in tests, runs before a backup picked from a listing is
	// opened (what a compression finishing in between does).
	beforeOpen func(path string)
	// RotateWait is how long a file renamed away from Path is still read
	// after its last growth while the new file at Path is empty: a writer
	// reopens the path only later, or not at all (logrotate's create
	// without a reopen signal), and writes to the renamed file meanwhile.
	// Once the new file has data (the writer moved on) the renamed one is
	// read once more and finished. Like Fluent Bit's Rotate_Wait. Default
	// 5s; negative: none.
	RotateWait time.Duration
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

// file is the file being read.
type file struct {
	f    *os.File
	zr   io.Reader // compressed backups: the decompressed stream
	name string    // path the file had when opened
	// target is the file name resolved through a symlinked Path.
	target string
	gz     bool
	live   bool // opened as Path (its rotation and truncation are watched)
	dev    uint64
	ino    uint64
	// head is the file's first bytes (up to PrefixLen) as read: the
	// fingerprint of positions, and what a truncation is detected by.
	head  []byte
	fp    uint64
	fpLen int
	// readPos is the next byte to read; seen the largest size observed
	// (by fstat, of content the head check confirmed); size the last
	// known size (decompressed for .gz); mtime the modification time at
	// the fstat that preceded the last read.
	readPos int64
	seen    int64
	size    int64
	mtime   int64
	// rotated is when the path was first seen naming another file (the
	// live file renamed away), grew when this file last grew since, and
	// late how many bytes were read from it after that.
	rotated, grew time.Time
	late          int64
}

// ident is what identifies content that has been read: the fingerprint
// of its first bytes and when it was last modified.
type ident struct {
	fpLen int
	fp    uint64
	mtime int64
	// size is how far a plain file was read (0: unknown): one found
	// larger afterwards was written to after it was finished.
	size int64
}

// Tailer follows one audit log.
type Tailer struct {
	o    Options
	log  *slog.Logger
	emit Emit

	cur  *file
	buf  []byte
	hbuf []byte // for comparing the live file's head
	// bytes of the current line not yet emitted: in partial, or in a
	// spool file, or (over-long) written to LongLines.
	partial  []byte
	spool    *os.File
	spoolOff int64
	spoolLen int64
	long     bool
	longOff  int64
	longLen  int64
	noSpool  bool // spooling failed for the current line

	// prev, when set, is the content read last before the live file went
	// away (rotated and not yet recreated): what comes after it is decided
	// once the path exists again.
	prev *ident
	// finished are the contents read to their end (never read again,
	// unless they grow: a writer that kept writing after the rotation).
	finished []ident
	// lastRead is how far the file finished last was read.
	lastRead  int64
	headCache map[headKey][]byte

	// lagMu guards lag, and finished against the lister's reads.
	lagMu sync.Mutex
	lag   lagState
	// listWake wakes the lister on a change in the directory.
	listWake chan struct{}
	// wakeCh wakes Run (a change in the directory, a file pinned).
	wakeCh chan struct{}

	// pinMu guards the files kept open since they were seen at the path
	// (pins, oldest first; see pin.go), the identity of the file the
	// tailer has open (held*), and the files opened at the path that the
	// watcher has not seen leave it yet (atPath, oldest first; recorded
	// while watching).
	pinMu            sync.Mutex
	pins             []pinnedFile
	heldDev, heldIno uint64
	heldOK           bool
	atPath           []atPathFile
	atPathTTL        time.Duration // atPathTTL; tests lower it
	watching         bool
	pinning          bool // not with Once
	pinStopped       bool
	pinFull          bool // warned that maxPins was reached
	// maxPins and maxPinBytes: the bound on pins (maxPins and
	// maxPinnedBytes; tests lower them).
	maxPins     int
	maxPinBytes int64
	// unkept are the files seen at the path while the bound was reached,
	// open until they leave it (unkept.go), guarded by pinMu; unkeptFull:
	// warned that maxUnkept was reached.
	unkept     []unkeptFile
	unkeptFull bool
	// Watcher goroutine only: whether a write to the path was seen since
	// the last file was created there.
	createdWritten bool
}

// maxPending bounds the backups remembered as waiting to be read.
const maxPending = 1024

// pendingFile is a backup the lister saw waiting to be read (rotated after
// the file being read, not read yet): if it is gone before it is read,
// that is a gap.
type pendingFile struct {
	path  string
	gz    bool
	size  int64 // decompressed for .gz (from the trailer)
	head  []byte
	mtime int64
}

// lagState is what Lag needs, updated as the tailer reads.
type lagState struct {
	open     bool
	live     bool
	dev, ino uint64
	size     int64 // size of the current file
	emitted  int64 // offset after the last line handed out
	backlog  int64 // bytes of backups still to read after the current one
	// mtime and head fingerprint of the current file (for the lister).
	mtime int64
	fpLen int
	fp    uint64
	// listed is the size of the backups waiting after the current file as
	// the lister last saw them, valid while the current file is
	// listedDev/listedIno; pending are those backups by fingerprint.
	listed               int64
	listedDev, listedIno uint64
	pending              map[ident]pendingFile
	// next is the backup advance is about to open: the lister does not
	// take it for deleted once it is open.
	next ident
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
	if o.SpoolLine <= 0 {
		o.SpoolLine = 1 << 20
	}
	if o.Backups == nil {
		o.Backups = Standard
	}
	if o.RotateWait == 0 {
		o.RotateWait = 5 * time.Second
	}
	lg := o.Logger
	if lg == nil {
		lg = slog.New(slog.DiscardHandler)
	}
	return &Tailer{o: o, log: lg, maxPins: maxPins, maxPinBytes: maxPinnedBytes, atPathTTL: atPathTTL}
}

// Emit receives chunks. It may block: that is backpressure (the audit file
// is the buffer). An error stops the tailer.
type Emit func(ctx context.Context, c Chunk) error

// Run tails until ctx ends (or, with Once, until the live file's end).
func (t *Tailer) Run(ctx context.Context, emit Emit) error {
	t.emit = emit
	defer t.closePins()
	defer t.closeCur()
	defer t.stoppedInDeleted()
	// The listed backups deleted since the lister's last look are this
	// stop's losses (a restart cannot tell them from files never rotated).
	defer t.checkPendingGone(&t.headCache)
	defer t.dropSpool()
	t.wakeCh = make(chan struct{}, 1)
	if !t.o.Once {
		t.pinning = true
		t.listWake = make(chan struct{}, 1)
	}
	// Watching before anything opens a file at the path: each file opened
	// there is recorded until the watcher sees it leave (pin.go).
	wake, stopWatch := t.watch(ctx)
	defer stopWatch()
	if !t.o.Once {
		done := make(chan struct{})
		var wg sync.WaitGroup
		wg.Add(1)
		go func() { defer wg.Done(); t.lister(ctx, done) }()
		defer wg.Wait()
		defer close(done)
	}

	if err := t.resume(ctx); err != nil {
		return err
	}
	ticker := time.NewTicker(t.o.Refresh)
	defer ticker.Stop()
	for {
		if t.cur == nil {
			var err error
			if t.prev != nil {
				err = t.advance(ctx, *t.prev)
			} else {
				err = t.openLiveOrPinned()
			}
			if err != nil {
				return err
			}
		}
		if t.cur != nil {
			switched, err := t.follow(ctx)
			if err != nil {
				return err
			}
			if switched {
				continue
			}
			if t.o.Once {
				return t.finishFile(ctx)
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

// Lag returns the bytes not yet handed out: the rest of the file being
// read, the backups still to read after it, the files deleted from the
// path that are kept open to be read, and the live file (the
// decompressed size of compressed backups, from their trailer). Safe to
// call while Run runs.
func (t *Tailer) Lag() int64 {
	t.lagMu.Lock()
	s := t.lag
	t.lagMu.Unlock()
	var live int64
	fi, err := os.Stat(t.o.Path)
	if err == nil {
		live = fi.Size()
	}
	pinned := t.pinnedBytes()
	if !s.open {
		return live + pinned
	}
	if s.live && err == nil {
		if dev, ino := DevIno(fi); dev == s.dev && ino == s.ino {
			return max(0, live-s.emitted) + pinned
		}
	}
	backlog := s.backlog
	if s.listedDev == s.dev && s.listedIno == s.ino {
		backlog = max(backlog, s.listed)
	}
	return max(0, s.size-s.emitted) + backlog + live + pinned
}

func (t *Tailer) setLag(f func(*lagState)) {
	t.lagMu.Lock()
	f(&t.lag)
	t.lagMu.Unlock()
}

func (t *Tailer) noteRead() { t.noteAt(t.emitted()) }

// hand passes a chunk to emit; the lag counts it as handed out from now
// (the receiver accounts for what it holds).
func (t *Tailer) hand(ctx context.Context, ch Chunk) error {
	t.noteAt(ch.End.Offset)
	return t.emit(ctx, ch)
}

func (t *Tailer) noteAt(e int64) {
	c := t.cur
	if c.fpLen != len(c.head) {
		c.fp, c.fpLen = Fingerprint(c.head), len(c.head)
	}
	t.setLag(func(s *lagState) {
		s.open, s.live, s.dev, s.ino, s.size, s.emitted = true, c.live, c.dev, c.ino, max(c.size, c.readPos), e
		s.mtime, s.fpLen, s.fp = c.mtime, c.fpLen, c.fp
		if c.live {
			s.backlog = 0
		}
	})
}

// resume continues from the checkpoint (or from File).
func (t *Tailer) resume(ctx context.Context) error {
	st := t.o.Start
	if f := t.o.File; f != nil {
		t.o.File = nil
		fi, err := f.Stat()
		if err != nil {
			f.Close()
			return fmt.Errorf("stat %s: %w", t.o.Path, err)
		}
		if st == nil {
			return t.openLiveFile(f, fi, 0)
		}
		ok, err := holds(f, fi, st)
		if err != nil {
			f.Close()
			return err
		}
		if ok {
			return t.openLiveFile(f, fi, st.Offset)
		}
		f.Close()
		t.log.Warn("file rewritten since it was opened (copytruncate); looking for the copy", "path", t.o.Path)
		return t.resumeElsewhere(ctx, st)
	}
	if st == nil {
		return nil
	}
	live, liveInfo, err := t.pinLive()
	if err != nil {
		return err
	}
	if live != nil {
		ok, err := holds(live, liveInfo, st)
		if err != nil {
			live.Close()
			return err
		}
		if ok {
			return t.openLiveFile(live, liveInfo, st.Offset)
		}
		live.Close()
	}
	return t.resumeElsewhere(ctx, st)
}

// holds reports whether the open file f is the content st was taken in,
// with at least st.Offset bytes: the same first bytes (fingerprint), or,
// when nothing was fingerprinted yet (a first checkpoint, taken at offset
// 0), the same device and inode and a file not modified since. Device and
// inode alone prove nothing: copytruncate keeps the inode while the
// content moves to the copy, and a deleted file's inode is reused. A
// modified file is looked for as any other (resumeElsewhere: the backups
// modified since, then the live file).
func holds(f *os.File, fi os.FileInfo, st *Position) (bool, error) {
	if fi.Size() < st.Offset {
		return false, nil
	}
	if st.ID.FPLen == 0 {
		dev, ino := DevIno(fi)
		if dev != st.ID.Dev || ino != st.ID.Ino {
			return false, nil
		}
		return st.Offset > 0 || st.ModTime == 0 || fi.ModTime().UnixNano() == st.ModTime, nil
	}
	head, err := readPrefix(f, st.ID.FPLen)
	if err != nil {
		return false, err
	}
	return matches(head, st.ID.FPLen, st.ID.FP), nil
}

// symlinkTarget returns the file path names when path is a symlink
// resolving to the file fi describes ("" otherwise, or when it was
// swapped since).
func symlinkTarget(path string, fi os.FileInfo) string {
	if li, err := os.Lstat(path); err != nil || li.Mode()&os.ModeSymlink == 0 {
		return ""
	}
	target, err := filepath.EvalSymlinks(path)
	if err != nil {
		return ""
	}
	if abs, err := filepath.Abs(target); err == nil {
		target = abs
	}
	if ti, err := os.Stat(target); err != nil || !os.SameFile(ti, fi) {
		return ""
	}
	return target
}

// atTarget returns the checkpointed file at the symlink target it was
// read through, when it is still there (the symlink swapped since).
func (t *Tailer) atTarget(st *Position, liveInfo os.FileInfo) *candidate {
	if st.Target == "" {
		return nil
	}
	f, err := os.Open(st.Target)
	if err != nil {
		return nil
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || fi.IsDir() || liveInfo != nil && os.SameFile(fi, liveInfo) {
		return nil
	}
	if ok, err := holds(f, fi, st); err != nil || !ok {
		return nil
	}
	head, err := readPrefix(f, PrefixLen)
	if err != nil {
		return nil
	}
	return &candidate{Backup: Backup{Path: st.Target}, info: fi, head: head, mtime: fi.ModTime().UnixNano()}
}

// resumeElsewhere finds the checkpointed content among the backups (it was
// rotated, compressed or copied while ship was stopped), reads it from the
// checkpoint, then what came after it. When it is gone, that is a gap.
func (t *Tailer) resumeElsewhere(ctx context.Context, st *Position) error {
	for try := 1; ; try++ {
		err := t.resumeElsewhereOnce(ctx, st)
		if !errors.Is(err, errVanished) {
			return err
		}
		if try >= relists {
			t.gap(Gap{Path: st.Path, Offset: st.Offset, ID: st.ID,
				Reason: "the checkpointed file vanished each time it was about to be read (renamed or compressed faster than it could be listed): its lines after the checkpoint are not read; reading the backups modified since, then the live file"})
			return t.advance(ctx, ident{mtime: st.ModTime})
		}
	}
}

// resumeElsewhereOnce is resumeElsewhere with one listing: errVanished
// when the file found was gone when it was opened.
func (t *Tailer) resumeElsewhereOnce(ctx context.Context, st *Position) error {
	var liveInfo os.FileInfo
	if fi, err := os.Stat(t.o.Path); err == nil {
		liveInfo = fi
	}
	if c := t.atTarget(st, liveInfo); c != nil {
		t.log.Info("resuming in the file the symlinked path named at the checkpoint", "path", t.o.Path, "target", c.Path, "offset", st.Offset)
		if err := t.readBackup(ctx, *c, st.Offset, false); err != nil {
			return err
		}
		return t.advance(ctx, ident{fpLen: len(c.head), fp: Fingerprint(c.head), mtime: c.mtime})
	}
	var found *candidate
	for _, c := range t.candidates() {
		if !c.Gzip && liveInfo != nil && os.SameFile(c.info, liveInfo) {
			continue
		}
		if matches(c.head, st.ID.FPLen, st.ID.FP) && (found == nil || found.Gzip && !c.Gzip) {
			c := c
			found = &c
		}
	}
	if found != nil {
		t.log.Info("resuming in a rotated file before the live one", "path", found.Path, "offset", st.Offset, "compressed", found.Gzip)
		if err := t.readBackup(ctx, *found, st.Offset, false); err != nil {
			return err
		}
		return t.advance(ctx, ident{fpLen: len(found.head), fp: Fingerprint(found.head), mtime: found.mtime})
	}
	if st.ID.FPLen > 0 || st.Offset > 0 {
		t.gap(Gap{Path: st.Path, Offset: st.Offset, ID: st.ID,
			Reason: "the checkpointed file was not found at the path or under any backup name (deleted while ship was stopped, deleted before and still being read when it stopped, or renamed to a name no pattern lists: add it to Rotated_path): its lines after the checkpoint are not read; reading the backups modified since, then the live file"})
	}
	return t.advance(ctx, ident{mtime: st.ModTime})
}

func (t *Tailer) gap(g Gap) {
	t.log.Error(g.Reason, "checkpoint_path", g.Path, "checkpoint_offset", g.Offset, "checkpoint_id", g.ID.String())
	if t.o.OnGap != nil {
		t.o.OnGap(g)
	}
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

// openLiveOrPinned opens the live file from its start (nothing when it
// does not exist), or first a file pinned at the path and deleted since.
func (t *Tailer) openLiveOrPinned() error {
	f, fi, err := t.pinLive()
	if err != nil {
		return err
	}
	if pf, pfi := t.nextPinned(fi, nil); pf != nil {
		closeIf(f)
		t.log.Info("reading a file that was deleted from the path before it was read (kept open since it was seen)", "path", t.o.Path, "bytes", pfi.Size())
		return t.openLiveFile(pf, pfi, 0)
	}
	if f == nil {
		return nil
	}
	return t.openLiveFile(f, fi, 0)
}

// openLiveFile makes f (the live file) the current file at offset off.
func (t *Tailer) openLiveFile(f *os.File, fi os.FileInfo, off int64) error {
	t.closeCur()
	t.resetLine()
	t.prev = nil
	dev, ino := DevIno(fi)
	c := &file{f: f, name: t.o.Path, live: true, dev: dev, ino: ino, readPos: off, size: fi.Size(), mtime: fi.ModTime().UnixNano(),
		target: symlinkTarget(t.o.Path, fi)}
	if off > 0 {
		// The bytes before off were read in an earlier run: take the head
		// from the file (holds checked it is the same content).
		h, err := readPrefix(f, PrefixLen)
		if err != nil {
			f.Close()
			return err
		}
		c.head = h
		c.seen = off
	}
	t.cur = c
	t.hold(dev, ino)
	t.seenAtPath(f, fi)
	t.log.Debug("reading file", "path", c.name, "offset", off)
	t.opened(off)
	t.noteRead()
	return nil
}

func (t *Tailer) opened(off int64) {
	if t.o.OnOpen != nil {
		t.o.OnOpen(t.positionAt(off))
	}
}

func readPrefix(f *os.File, n int) ([]byte, error) {
	buf := make([]byte, n)
	got, err := f.ReadAt(buf, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("read %s: %w", f.Name(), err)
	}
	return buf[:got], nil
}

// stoppedInDeleted reports, as the tailer stops, a file being read that
// was deleted (from the path, or a backup by retention) with bytes not
// read yet: a restart cannot find it, so they are lost (OnUnrecoverable;
// the restart counts the file as a gap when the checkpoint is in it).
func (t *Tailer) stoppedInDeleted() {
	c := t.cur
	if c == nil || c.f == nil || c.gz || !t.pinning {
		return
	}
	fi, err := c.f.Stat()
	if err != nil || links(fi) > 0 || fi.Size() <= c.readPos {
		return
	}
	lost := fi.Size() - c.readPos
	t.log.Error("stopped while reading a file that was deleted: a restart cannot find it, so the bytes not read yet are lost (and the lines read but not yet delivered)",
		"path", c.name, "ino", c.ino, "bytes", lost, "offset", c.readPos)
	if t.o.OnUnrecoverable != nil {
		t.o.OnUnrecoverable(c.name, lost)
	}
}

func (t *Tailer) closeCur() {
	if t.cur != nil && t.cur.f != nil {
		t.cur.f.Close()
		t.unhold()
	}
	t.cur = nil
}

func (t *Tailer) resetLine() {
	t.partial = t.partial[:0]
	t.long = false
	t.dropSpool()
}

func (t *Tailer) dropSpool() {
	if t.spool != nil {
		t.spool.Close()
		t.spool = nil
	}
}

// emitted is the offset just after the last line handed out (or written
// to LongLines) in the current file.
func (t *Tailer) emitted() int64 {
	switch {
	case t.spool != nil:
		return t.spoolOff
	case t.long:
		return t.longOff
	}
	return t.cur.readPos - int64(len(t.partial))
}

// pending is the size of the last line read but held back until its
// newline arrives: the bytes after the last one handed out, whether held
// in memory, spooled or (over-long) written to LongLines so far. 0
// without an open file.
func (t *Tailer) pending() int64 {
	if t.cur == nil {
		return 0
	}
	return max(0, t.cur.readPos-t.emitted())
}

// positionAt returns the position at offset end of the current file.
func (t *Tailer) positionAt(end int64) Position {
	c := t.cur
	if c.fpLen != len(c.head) {
		c.fp, c.fpLen = Fingerprint(c.head), len(c.head)
	}
	return Position{Path: c.name, ID: ID{Dev: c.dev, Ino: c.ino, FPLen: c.fpLen, FP: c.fp}, Offset: end, ModTime: c.mtime, Target: c.target}
}

func (t *Tailer) identOf(c *file) ident {
	return ident{fpLen: len(c.head), fp: Fingerprint(c.head), mtime: c.mtime}
}

// extendHead adds the bytes read at readPos to the head while it is
// shorter than PrefixLen.
func (c *file) extendHead(data []byte) {
	h := int64(len(c.head))
	if h >= PrefixLen || c.readPos > h || c.readPos+int64(len(data)) <= h {
		return
	}
	from := h - c.readPos
	to := min(int64(len(data)), PrefixLen-c.readPos)
	c.head = append(c.head, data[from:to]...)
}

// headOK reports whether the live file still begins with the head read
// before (false: it was truncated or rewritten).
func (t *Tailer) headOK() (bool, error) {
	c := t.cur
	if len(c.head) == 0 {
		return true, nil
	}
	if cap(t.hbuf) < PrefixLen {
		t.hbuf = make([]byte, PrefixLen)
	}
	buf := t.hbuf[:len(c.head)]
	n, err := c.f.ReadAt(buf, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return false, fmt.Errorf("read %s: %w", c.name, err)
	}
	return n == len(c.head) && bytes.Equal(buf, c.head), nil
}

// follow reads the live file to its current end, then looks for
// truncation and rotation. switched is true when the current file
// changed.
func (t *Tailer) follow(ctx context.Context) (switched bool, err error) {
	truncated, pending, err := t.drainLive(ctx)
	if err != nil {
		return false, err
	}
	if truncated {
		return true, t.truncated(ctx, pending)
	}
	if t.o.Once {
		return false, nil
	}
	c := t.cur
	pfi, err := os.Stat(t.o.Path)
	if errors.Is(err, os.ErrNotExist) {
		// Deleted. The writer may still write to the open file, unless a
		// file was at the path since (kept open, pin.go) and holds data:
		// it moved on. An empty one deleted in turn says nothing of the
		// writer (kube-apiserver does not reopen a deleted audit.log: it
		// goes on writing to the file being read); it stays kept open in
		// case the writer does write to it.
		pfi, err = t.firstPinned(), nil
		if pfi != nil && pfi.Size() == 0 {
			pfi = nil
		}
	}
	if err != nil || pfi == nil {
		if err == nil {
			return false, nil // deleted: keep reading the open file until the path returns
		}
		return false, fmt.Errorf("stat %s: %w", t.o.Path, err)
	}
	if dev, ino := DevIno(pfi); dev == c.dev && ino == c.ino {
		return false, nil
	}
	// Another file: keep it open now. Finishing this one can be held
	// (backpressure) while that one is deleted in turn.
	t.pinPath()
	// Rotated (rename+create) or deleted and recreated. A writer that has
	// not reopened the path yet still writes to the old file: while the
	// new one is empty, the old one is read on until it has been idle for
	// RotateWait. Once the new one has data, the old one is read once
	// more (after that look at the path) and finished.
	now := time.Now()
	if c.rotated.IsZero() {
		t.log.Info("file rotated; finishing the old file", "path", c.name)
		c.rotated, c.grew, c.late = now, now, c.readPos
	} else if c.readPos > c.late {
		if c.grew == c.rotated {
			t.log.Warn("the writer kept writing to the file after it was rotated; reading it until it is idle",
				"path", c.name, "rotate_wait", t.o.RotateWait)
		}
		c.grew, c.late = now, c.readPos
	}
	if pfi.Size() == 0 && t.o.RotateWait > 0 && now.Sub(c.grew) < t.o.RotateWait {
		return false, nil
	}
	truncated, pending, err = t.drainLive(ctx)
	if err != nil {
		return false, err
	}
	if truncated {
		return true, t.truncated(ctx, pending)
	}
	if c.readPos > c.late && !c.rotated.IsZero() && c.grew != c.rotated {
		t.log.Info("finished the file written to after its rotation", "path", c.name, "bytes_after_rotation", c.readPos-c.late)
	}
	prev := t.identOf(c)
	if bytes.IndexByte(c.head, '\n') >= 0 {
		// Its fingerprint covers a whole line (an event, unique): a file
		// found beginning so and larger is this one grown.
		prev.size = c.readPos
	}
	if err := t.finishFile(ctx); err != nil {
		return false, err
	}
	t.addFinished(prev)
	return true, t.advance(ctx, prev)
}

// drainLive reads the live file to its end. Each read is checked against
// the file's first bytes afterwards: when they changed (truncated or
// rewritten), the read is returned unconsumed as pending.
func (t *Tailer) drainLive(ctx context.Context) (truncated bool, pending []byte, err error) {
	c := t.cur
	if t.buf == nil {
		t.buf = make([]byte, t.o.ReadSize)
	}
	for {
		if err := ctx.Err(); err != nil {
			return false, nil, err
		}
		fi, err := c.f.Stat()
		if err != nil {
			return false, nil, fmt.Errorf("stat %s: %w", c.name, err)
		}
		size := fi.Size()
		if size < c.readPos {
			return true, nil, nil
		}
		n := int(min(int64(len(t.buf)), size-c.readPos))
		var got int
		var rerr error
		if n > 0 {
			got, rerr = c.f.ReadAt(t.buf[:n], c.readPos)
		}
		ok, err := t.headOK()
		if err != nil {
			return false, nil, err
		}
		if !ok {
			return true, append([]byte(nil), t.buf[:got]...), nil
		}
		// The head is unchanged: what was read, and the size seen before
		// the read, belong to the content being read.
		c.seen, c.size, c.mtime = max(c.seen, size), size, fi.ModTime().UnixNano()
		if got > 0 {
			c.extendHead(t.buf[:got])
			if err := t.consume(ctx, t.buf[:got]); err != nil {
				return false, nil, err
			}
		}
		t.noteRead()
		if rerr != nil && !errors.Is(rerr, io.EOF) {
			return false, nil, fmt.Errorf("read %s: %w", c.name, rerr)
		}
		if n == 0 || got == 0 {
			return false, nil, nil
		}
	}
}

// truncated handles a live file that was truncated or rewritten in place
// (copytruncate). Its content up to the copy is in a backup that begins as
// it did: that copy is read from the offset already read, then the live
// file from its start. pending is a read taken while the truncation
// happened: kept when it is the old content's, dropped when it is the new
// content's or the copy holds it.
func (t *Tailer) truncated(ctx context.Context, pending []byte) error {
	c := t.cur
	r, seen := c.readPos, c.seen
	findCopy := func() *candidate {
		if len(c.head) == 0 {
			return nil
		}
		var cp *candidate
		fp := Fingerprint(c.head)
		for _, x := range t.candidates() {
			if !x.Gzip {
				if dev, ino := DevIno(x.info); dev == c.dev && ino == c.ino {
					continue
				}
			}
			if matches(x.head, len(c.head), fp) && !t.isFinished(x.head) && (cp == nil || cp.Gzip && !x.Gzip) {
				x := x
				cp = &x
			}
		}
		return cp
	}
	cp := findCopy()
	if len(pending) > 0 {
		// New content at the same place means the read came after the
		// truncation.
		buf := make([]byte, len(pending))
		if n, _ := c.f.ReadAt(buf, r); n == len(buf) && bytes.Equal(buf, pending) {
			pending = nil
		}
	}
	t.log.Warn("file truncated or rewritten in place (copytruncate)", "path", c.name, "offset", r,
		"copy", map[bool]string{true: "found", false: "not found"}[cp != nil])
	prev := t.identOf(c)
	live := c
	t.cur = nil // keep the descriptor until the copy is read
	defer closeIf(live.f)
	var have int64 // bytes of the old content read
	t.cur = &file{name: live.name, dev: live.dev, ino: live.ino, head: live.head, readPos: r, seen: seen, size: seen, mtime: live.mtime}
	for try := 0; cp != nil; try++ {
		size := cp.info.Size()
		if cp.Gzip {
			f, err := os.Open(cp.Path)
			if err == nil {
				size = gzSize(f, size)
				f.Close()
			}
		}
		if len(pending) > 0 && size >= r+int64(len(pending)) {
			pending = nil // the copy holds it
		}
		if len(pending) > 0 {
			if err := t.consume(ctx, pending); err != nil {
				return err
			}
			pending = nil
			r = t.cur.readPos
		}
		t.log.Info("reading the copy of the truncated file from the offset read", "copy", describe(cp.Backup), "offset", r)
		err := t.readBackup(ctx, *cp, r, true)
		if errors.Is(err, errVanished) {
			// Compressed (or deleted) since it was listed: look again.
			if cp = findCopy(); try+1 >= relists {
				cp = nil
			}
			continue
		}
		if err != nil {
			return err
		}
		have = max(size, r)
		t.addFinished(ident{fpLen: len(cp.head), fp: Fingerprint(cp.head), mtime: cp.mtime})
		prev.mtime = max(prev.mtime, cp.mtime)
		break
	}
	if cp == nil {
		if len(pending) > 0 {
			if err := t.consume(ctx, pending); err != nil {
				return err
			}
		}
		have = t.cur.readPos
		if err := t.finishFile(ctx); err != nil {
			return err
		}
		if len(live.head) > 0 {
			t.gap(Gap{Path: live.name, Offset: have, ID: ID{Dev: live.dev, Ino: live.ino, FPLen: len(live.head), FP: Fingerprint(live.head)},
				Reason: "file truncated in place and no rotated copy begins as it did: what was written after the offset read is lost (is the copy named as Rotated_path says?)"})
		}
	}
	if lost := seen - have; lost > 0 {
		t.log.Error("bytes written to the file before it was truncated could not be read", "path", live.name, "bytes", lost, "offset", have)
		if t.o.OnUnrecoverable != nil {
			t.o.OnUnrecoverable(live.name, lost)
		}
	}
	t.addFinished(prev)
	return t.advance(ctx, prev)
}

// advance moves on from content prev (read to its end): every backup
// rotated after it that was not read yet, oldest first, then the live file
// from its start.
func (t *Tailer) advance(ctx context.Context, prev ident) error {
	vanished := 0
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		// Pin the live file before listing the backups: a rotation after
		// the listing leaves the pinned file as the next backup, read
		// after the ones listed.
		live, liveInfo, err := t.pinLive()
		if err != nil {
			return err
		}
		var liveHead []byte
		if live != nil {
			if liveHead, err = readPrefix(live, PrefixLen); err != nil {
				live.Close()
				return err
			}
		}
		cands := t.candidates()
		t.checkPending(cands, func() []candidate { return t.candidates() })
		if g, f := t.grown(cands, liveInfo); g != nil {
			live.Close()
			t.log.Warn("a file already read to its end has grown: the writer kept writing to it after it was rotated; reading the rest",
				"path", g.Path, "offset", f.size, "size", g.info.Size())
			if err := t.readBackup(ctx, *g, f.size, false); errors.Is(err, errVanished) && vanished < relists {
				vanished++
				continue
			} else if err != nil && !errors.Is(err, errVanished) {
				return err
			}
			f.size = max(t.lastRead, g.info.Size())
			f.mtime = max(f.mtime, g.mtime)
			t.addFinished(f)
			continue
		}
		next, backlog := t.nextAfter(cands, prev, liveInfo, liveHead)
		if next == nil {
			// Files that were at the path after prev and were deleted
			// before the tailer got to them (kept open since they were
			// seen), oldest first, each read as the live file was.
			if f, fi := t.nextPinned(liveInfo, cands); f != nil {
				closeIf(live)
				t.log.Info("reading a file that was deleted from the path before it was read (kept open since it was seen)", "path", t.o.Path, "bytes", fi.Size())
				return t.openLiveFile(f, fi, 0)
			}
			if live == nil {
				t.prev = &prev
				t.setLag(func(s *lagState) { s.open = false })
				return nil
			}
			return t.openLiveFile(live, liveInfo, 0)
		}
		live.Close()
		t.setLag(func(s *lagState) {
			s.backlog = backlog
			s.next = ident{fpLen: len(next.head), fp: Fingerprint(next.head)}
		})
		t.log.Info("reading a backup rotated before it was opened", "path", next.Path, "compressed", next.Gzip)
		if err := t.readBackup(ctx, *next, 0, false); errors.Is(err, errVanished) && vanished < relists {
			// Compressed since it was listed: its .gz is listed next time
			// (not marked read: it was not).
			vanished++
			continue
		} else if errors.Is(err, errVanished) {
			t.log.Error("a backup vanished each time it was about to be read: its lines are not read", "path", next.Path)
		} else if err != nil {
			return err
		}
		prev = ident{fpLen: len(next.head), fp: Fingerprint(next.head), mtime: next.mtime}
		if !next.Gzip && bytes.IndexByte(next.head, '\n') >= 0 {
			prev.size = t.lastRead
		}
		t.addFinished(prev)
	}
}

// nextAfter returns the oldest backup not read yet that was rotated after
// content prev, or nil when the live file comes next. backlog is the size
// of the backups after the one returned.
func (t *Tailer) nextAfter(cands []candidate, prev ident, liveInfo os.FileInfo, liveHead []byte) (*candidate, int64) {
	finSet := newFPSet(t.finished)
	at := -1
	for i, c := range cands {
		if matches(c.head, prev.fpLen, prev.fp) {
			at = i
			break
		}
	}
	var next *candidate
	var backlog int64
	for i := at + 1; i < len(cands); i++ {
		c := cands[i]
		if !c.Gzip && liveInfo != nil && os.SameFile(c.info, liveInfo) {
			continue
		}
		// Empty, already read, or a copy of the live file (a copytruncate
		// in progress: the live file is read instead, and its copy found
		// when it is truncated).
		if len(c.head) == 0 || finSet.has(c.head) || copyOfLive(c, liveInfo, liveHead) {
			continue
		}
		// prev not found (deleted): what was modified since it was read.
		if at < 0 && c.mtime < prev.mtime {
			continue
		}
		if next == nil {
			next = &c
			continue
		}
		backlog += c.info.Size()
	}
	return next, backlog
}

func (t *Tailer) addFinished(id ident) {
	if id.fpLen == 0 {
		return
	}
	t.lagMu.Lock()
	defer t.lagMu.Unlock()
	for i, f := range t.finished {
		if f.fpLen == id.fpLen && f.fp == id.fp {
			t.finished[i].size = max(f.size, id.size)
			t.finished[i].mtime = max(f.mtime, id.mtime)
			return
		}
	}
	if len(t.finished) >= 256 {
		t.finished = t.finished[1:]
	}
	t.finished = append(t.finished, id)
}

// grown returns a plain backup read to its end before that is now larger
// than what was read (f.size, the offset to read it from).
func (t *Tailer) grown(cands []candidate, liveInfo os.FileInfo) (*candidate, ident) {
	sized := map[ident]ident{} // by length and fingerprint
	lens := map[int]bool{}
	for _, f := range t.finished {
		if f.size > 0 {
			sized[ident{fpLen: f.fpLen, fp: f.fp}] = f
			lens[f.fpLen] = true
		}
	}
	if len(sized) == 0 {
		return nil, ident{}
	}
	for i, c := range cands {
		if c.Gzip || len(c.head) == 0 || liveInfo != nil && os.SameFile(c.info, liveInfo) {
			continue
		}
		for l := range lens {
			if len(c.head) < l {
				continue
			}
			if f, ok := sized[ident{fpLen: l, fp: Fingerprint(c.head[:l])}]; ok && c.info.Size() > f.size {
				return &cands[i], f
			}
		}
	}
	return nil, ident{}
}

func (t *Tailer) isFinished(head []byte) bool { return finishedIn(t.finished, head) }

func finishedIn(finished []ident, head []byte) bool {
	for _, f := range finished {
		if matches(head, f.fpLen, f.fp) {
			return true
		}
	}
	return false
}

// readBackup reads a rotated file from off to its end. With cont, the
// current line state (a partial line, a spooled or over-long line) goes
// on in it: it is the copy of the file being read.
// errVanished is readBackup's: the backup was gone when it was opened.
var errVanished = errors.New("backup vanished")

// relists bounds how many times a backup that vanished between the
// listing and the open is looked for again (each time, a compression
// finished in between: a plain file then its .gz, at most twice per
// content; more means files vanish faster than they are listed).
const relists = 8

func (t *Tailer) readBackup(ctx context.Context, b candidate, off int64, cont bool) error {
	if t.o.beforeOpen != nil {
		t.o.beforeOpen(b.Path)
	}
	f, err := os.Open(b.Path)
	if errors.Is(err, fs.ErrNotExist) {
		// Compressed or deleted since it was listed: the caller lists
		// the backups again (a .gz of it holds the same content).
		t.log.Info("backup gone between listing and opening it; listing again", "path", b.Path)
		return errVanished
	}
	if err != nil {
		t.log.Warn("backup could not be opened; not read", "path", b.Path, "err", err)
		return nil
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("stat %s: %w", b.Path, err)
	}
	dev, ino := DevIno(fi)
	if !cont {
		t.closeCur()
		t.resetLine()
	}
	c := &file{f: f, name: b.Path, gz: b.Gzip, dev: dev, ino: ino, head: b.head, readPos: off, size: fi.Size(), mtime: fi.ModTime().UnixNano()}
	if cont && t.cur != nil {
		// Positions keep the identity of the content (the copy begins as
		// the original did).
		c.head = t.cur.head
	}
	t.cur = c
	t.hold(dev, ino)
	if b.Gzip {
		c.size = gzSize(f, fi.Size())
		zr, err := gzip.NewReader(bufio.NewReaderSize(f, 64<<10))
		if err != nil {
			t.log.Error("cannot read compressed backup", "path", b.Path, "err", err)
			return t.finishFile(ctx)
		}
		c.zr = zr
		if off > 0 {
			if n, err := io.CopyN(io.Discard, zr, off); err != nil {
				t.log.Warn("compressed backup is shorter than the offset to resume at", "path", b.Path, "offset", off, "size", n)
				return t.finishFile(ctx)
			}
		}
	}
	if !cont {
		t.opened(off)
	}
	t.noteRead()
	if t.buf == nil {
		t.buf = make([]byte, t.o.ReadSize)
	}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		var n int
		var err error
		if c.zr != nil {
			n, err = c.zr.Read(t.buf)
		} else {
			n, err = f.ReadAt(t.buf, c.readPos)
		}
		if n > 0 {
			if e := t.consume(ctx, t.buf[:n]); e != nil {
				return e
			}
			t.noteRead()
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				t.log.Error("damaged or unreadable backup; read as far as it goes", "path", b.Path, "err", err)
			}
			break
		}
		if n == 0 {
			break
		}
	}
	return t.finishFile(ctx)
}

// consume hands out the complete lines of data (the current file's bytes
// at readPos) and keeps the rest of the last line.
func (t *Tailer) consume(ctx context.Context, data []byte) error {
	c := t.cur
	start := c.readPos
	c.readPos += int64(len(data))
	for len(data) > 0 {
		switch {
		case t.long:
			i := bytes.IndexByte(data, '\n')
			if i < 0 {
				t.writeLong(data)
				return nil
			}
			t.writeLong(data[:i+1])
			t.endLong()
			data, start = data[i+1:], start+int64(i+1)
		case t.spool != nil:
			i := bytes.IndexByte(data, '\n')
			seg := data
			if i >= 0 {
				seg = data[:i]
			}
			if t.spoolLen+int64(len(seg)) > int64(t.o.MaxLine) {
				if err := t.spoolToLong(); err != nil {
					return err
				}
				continue
			}
			if _, err := t.spool.Write(seg); err != nil {
				return fmt.Errorf("spool a long line: %w", err)
			}
			t.spoolLen += int64(len(seg))
			if i < 0 {
				return nil
			}
			if err := t.emitSpool(ctx, start+int64(i)+1); err != nil {
				return err
			}
			data, start = data[i+1:], start+int64(i+1)
		default:
			i := bytes.LastIndexByte(data, '\n')
			if i < 0 {
				lineStart := start - int64(len(t.partial))
				switch n := len(t.partial) + len(data); {
				case n > t.o.MaxLine:
					t.startLong(lineStart)
					t.writeLong(t.partial)
					t.writeLong(data)
					t.partial = t.partial[:0]
				case t.o.SpoolDir != "" && n > t.o.SpoolLine && !t.noSpool:
					if err := t.startSpool(lineStart); err != nil {
						// Held in memory instead (up to MaxLine), as without
						// SpoolDir; the next long line tries again.
						t.log.Warn("cannot spool a long line; holding it in memory", "err", err)
						t.noSpool = true
						t.partial = append(t.partial, data...)
						return nil
					}
					continue // data goes to the spool
				default:
					t.partial = append(t.partial, data...)
				}
				return nil
			}
			t.noSpool = false
			out := make([]byte, 0, len(t.partial)+i+1)
			out = append(out, t.partial...)
			out = append(out, data[:i+1]...)
			base := start - int64(len(t.partial))
			t.partial = append(t.partial[:0], data[i+1:]...)
			return t.emitLines(ctx, out, base)
		}
	}
	return nil
}

// startSpool moves the partial line into a new spool file.
func (t *Tailer) startSpool(off int64) error {
	f, err := os.CreateTemp(t.o.SpoolDir, "line-*.spool")
	if err != nil {
		return fmt.Errorf("spool a long line: %w", err)
	}
	// Unlinked at once: the descriptor keeps it, a crash leaves nothing.
	os.Remove(f.Name())
	if _, err := f.Write(t.partial); err != nil {
		f.Close()
		return fmt.Errorf("spool a long line: %w", err)
	}
	t.spool, t.spoolOff, t.spoolLen = f, off, int64(len(t.partial))
	t.partial = t.partial[:0]
	return nil
}

// spoolToLong turns the spooled line into an over-long one: what was
// spooled goes to LongLines.
func (t *Tailer) spoolToLong() error {
	sp, off, n := t.spool, t.spoolOff, t.spoolLen
	t.spool = nil
	defer sp.Close()
	t.startLong(off)
	if t.o.LongLines != nil {
		w := &countWriter{w: t.o.LongLines}
		if _, err := io.Copy(w, io.NewSectionReader(sp, 0, n)); err != nil && w.err == nil {
			return fmt.Errorf("read spooled line: %w", err)
		}
		if w.err != nil {
			t.log.Error("write over-long line", "err", w.err)
		}
	}
	t.longLen = n
	return nil
}

type countWriter struct {
	w   io.Writer
	err error
}

func (c *countWriter) Write(p []byte) (int, error) {
	if c.err == nil {
		_, c.err = c.w.Write(p)
	}
	return len(p), nil
}

// emitSpool hands out the spooled line, which ends (newline included) at
// end.
func (t *Tailer) emitSpool(ctx context.Context, end int64) error {
	sp := &Spooled{File: t.spool, Size: t.spoolLen}
	off := t.spoolOff
	t.spool = nil
	return t.hand(ctx, Chunk{Spool: sp, Start: off, End: t.positionAt(end)})
}

// emitLines emits whole lines (base is the file offset of data[0]); lines
// longer than MaxLine go to the overflow writer, and the runs of lines
// before and after each are emitted as separate chunks, so that every
// chunk is contiguous in the file and OnLongLine comes in file order.
func (t *Tailer) emitLines(ctx context.Context, data []byte, base int64) error {
	if len(data) <= t.o.MaxLine {
		return t.emitRun(ctx, data, base, base+int64(len(data)))
	}
	run := 0 // start of the run of short lines not yet emitted
	for off := 0; off < len(data); {
		j := bytes.IndexByte(data[off:], '\n')
		line := data[off : off+j+1]
		if len(line)-1 > t.o.MaxLine {
			if err := t.emitRun(ctx, data[run:off], base+int64(run), base+int64(off)); err != nil {
				return err
			}
			t.startLong(base + int64(off))
			t.writeLong(line)
			t.endLong()
			run = off + j + 1
		}
		off += j + 1
	}
	return t.emitRun(ctx, data[run:], base+int64(run), base+int64(len(data)))
}

// emitRun emits data, the file's bytes from start, as one chunk ending at
// end.
func (t *Tailer) emitRun(ctx context.Context, data []byte, start, end int64) error {
	if len(data) == 0 {
		return nil
	}
	return t.hand(ctx, Chunk{Data: data, Start: start, End: t.positionAt(end)})
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
	t.log.Warn("line longer than the limit written to the overflow file", "path", t.cur.name, "offset", t.longOff,
		"bytes", t.longLen, "max_line", t.o.MaxLine)
	if t.o.OnLongLine != nil {
		t.o.OnLongLine(t.cur.name, t.longOff, t.longLen)
	}
}

// finishFile hands out a last line without a trailing newline (the writer
// is done with this file), then closes it.
func (t *Tailer) finishFile(ctx context.Context) error {
	c := t.cur
	if c == nil {
		return nil
	}
	switch {
	case t.long:
		t.writeLong([]byte("\n"))
		t.endLong()
	case t.spool != nil:
		if err := t.emitSpool(ctx, c.readPos); err != nil {
			return err
		}
	case len(bytes.TrimSpace(t.partial)) > 0:
		start := t.emitted()
		if len(t.partial) > t.o.MaxLine {
			t.startLong(start)
			t.writeLong(t.partial)
			t.writeLong([]byte("\n"))
			t.endLong()
			break
		}
		out := make([]byte, 0, len(t.partial)+1)
		out = append(out, t.partial...)
		out = append(out, '\n')
		if err := t.hand(ctx, Chunk{Data: out, Start: start, End: t.positionAt(c.readPos)}); err != nil {
			return err
		}
	}
	t.partial = t.partial[:0]
	t.noteRead()
	t.lastRead = c.readPos
	t.closeCur()
	return nil
}

// watch returns a channel signalled on any change in Path's directory.
func (t *Tailer) watch(ctx context.Context) (<-chan struct{}, func()) {
	wake := t.wakeCh
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
	} else if t.pinning {
		t.pinMu.Lock()
		t.watching = true
		t.pinMu.Unlock()
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
			case ev, ok := <-w.Events:
				if !ok {
					return
				}
				t.notice(ev)
				select {
				case wake <- struct{}{}:
				default:
				}
				if t.listWake != nil {
					select {
					case t.listWake <- struct{}{}:
					default:
					}
				}
				// Not reading for a moment lets the kernel merge the
				// apiserver's per-event writes into one notification. Not
				// after a file appeared or left: the next such event is
				// read (and a new file pinned) at once.
				if t.o.MinInterval > 0 && !ev.Has(fsnotify.Create) && !ev.Has(fsnotify.Remove) && !ev.Has(fsnotify.Rename) {
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
				// Events may have been dropped: a write among them.
				t.createdWritten = true
				t.pinPath()
			}
		}
	}()
	return wake, func() { close(done); w.Close() }
}
