package tail

// Files at the path are kept open from the moment they are seen.
//
// The tailer reads one file at a time and looks at the path only between
// two reads. While it is held (a sink is slow and the buffer full: emit
// blocks) or busy finishing the file it has open, the path can name a new
// file that is deleted again before the tailer looks: the live file
// deleted and recreated every second, a writer that deletes rather than
// renames. Such a file was never opened, its inode was freed (and is
// often reused by the next file at once), and its lines were lost without
// a trace (review B, finding 8: lines_read_total stopped, a whole file
// missing, fewer "file rotated" lines than deletions).
//
// So whatever sees a new file at the path opens it at once ("pins" it)
// and keeps the descriptor until the tailer gets to it: the watcher on
// every event for the path, the lister at each listing (the polling
// fallback, every Refresh and at most every second), and the tailer when
// it finds the path changed. When the tailer moves on, pinned files that
// are no longer at the path and not a listed backup are read from their
// start, oldest first, as the live file would have been (see advance).
// A pin that turns out to be the live file, a listed backup (renamed, or
// compressed), or content already read is dropped. Their bytes count in
// Lag while they wait.
//
// A file created and deleted faster than anything could open it is still
// lost: the watcher reads its events late (it pauses after a write, see
// watch), and a file deleted by then cannot be opened any more. Whether
// anything else opened it (the lister, the tailer) cannot be told from
// the time it was opened (review J5: a file opened shortly before the
// previous one left, or a newer file already at the path when the
// watcher looked, hid such a loss: no gap, no metric, no log line). So
// every file opened at the path is recorded with a descriptor of its own
// (atPath, oldest first) until the watcher sees a file leave the path:
// files leave it in the order they were there, so each Remove or Rename
// of the path is the oldest recorded file that is no longer there, or,
// when none is, a file nothing opened. A deleted one that nothing opened
// (or that was empty when opened, while a write to the path was seen
// since the last file was created) is a gap (OnGap, an ERROR) when a
// write to it was seen; with none it was empty: no gap (a WARN, as lines
// written to it after its deletion could not be read). One renamed is a
// backup. A recorded file's disk space is held until the watcher gets to
// its event (a deleted one: milliseconds); without the watcher (polling)
// nothing is recorded.
//
// The files kept open are bounded (maxPins files, and no new one once the
// deleted ones kept open hold maxPinnedBytes: their disk space is not
// freed until they are read). Beyond the bound, a new file at the path is
// followed only while it is there (unkept.go): when it leaves the path and
// is neither a listed backup nor read, its loss is a gap, with its size.

import (
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"time"

	"github.com/fsnotify/fsnotify"
)

// maxPins and maxPinnedBytes bound the files kept open waiting to be
// read: at most maxPins descriptors, and no new file is kept open once
// the deleted ones kept open hold maxPinnedBytes (a deleted file kept
// open still holds its disk space; what they hold can still grow while a
// writer writes to them). 64 files of the apiserver's default 100 MB
// (--audit-log-maxsize) fit; so do 256 smaller ones.
const (
	maxPins        = 256
	maxPinnedBytes = 64 * 100 << 20
)

type pinnedFile struct {
	f        *os.File
	dev, ino uint64
}

// maxAtPath bounds the files recorded as opened at the path (see notice),
// and atPathTTL is how long one is kept once it is no longer there: the
// watcher reads a file's leave event within moments (its pause is
// MinInterval), so one still recorded after that left without an event it
// sees (a file renamed over the path, a swapped symlink, events dropped).
// Dropping it frees the disk space it holds; were its event only late,
// that event would be taken for a file nothing opened (a gap reported,
// never one hidden).
const (
	maxAtPath = maxPins + maxUnkept + 16
	atPathTTL = 10 * time.Second
)

// atPathFile is a file recorded as opened at the path, with a descriptor
// of its own; goneAt is when it was first seen no longer there.
type atPathFile struct {
	f        *os.File
	dev, ino uint64
	goneAt   time.Time
}

// seenAtPathLocked records f (dev/ino), just opened at the path, with a
// descriptor of its own until the watcher sees it leave the path. pinMu
// held.
func (t *Tailer) seenAtPathLocked(f *os.File, dev, ino uint64) {
	if !t.watching || t.pinStopped {
		return
	}
	for _, a := range t.atPath {
		if a.dev == dev && a.ino == ino {
			return
		}
	}
	d, err := dupFile(f)
	if err != nil {
		t.log.Warn("cannot keep a second descriptor of a file at the path: its deletion is taken for a file nothing opened", "path", t.o.Path, "err", err)
		return
	}
	if len(t.atPath) >= maxAtPath {
		t.atPath[0].f.Close()
		t.atPath = slices.Delete(t.atPath, 0, 1)
	}
	t.atPath = append(t.atPath, atPathFile{f: d, dev: dev, ino: ino})
}

// forgetAtPathLocked drops the record of dev/ino (see seenAtPathLocked):
// nothing reads it. pinMu held.
func (t *Tailer) forgetAtPathLocked(dev, ino uint64) {
	for i, a := range t.atPath {
		if a.dev == dev && a.ino == ino {
			a.f.Close()
			t.atPath = slices.Delete(t.atPath, i, i+1)
			return
		}
	}
}

// dupFile returns a second descriptor of f.
func dupFile(f *os.File) (*os.File, error) {
	rc, err := f.SyscallConn()
	if err != nil {
		return nil, err
	}
	var fd int
	var derr error
	if err := rc.Control(func(s uintptr) { fd, derr = syscall.Dup(int(s)) }); err != nil {
		return nil, err
	}
	if derr != nil {
		return nil, derr
	}
	syscall.CloseOnExec(fd)
	return os.NewFile(uintptr(fd), f.Name()), nil
}

// leftPath takes out the oldest file recorded as opened at the path that
// is no longer there (a file left the path: see notice), and returns its
// size; found is false when there is none (the file that left was never
// opened). Watcher goroutine.
func (t *Tailer) leftPath() (found bool, size int64) {
	var pdev, pino uint64
	there := false
	if fi, err := os.Stat(t.o.Path); err == nil {
		pdev, pino = DevIno(fi)
		there = true
	}
	t.pinMu.Lock()
	defer t.pinMu.Unlock()
	for i, a := range t.atPath {
		fi, err := a.f.Stat()
		if err == nil && there && links(fi) > 0 && a.dev == pdev && a.ino == pino {
			continue // still at the path
		}
		if err == nil {
			size = fi.Size()
		}
		a.f.Close()
		t.atPath = slices.Delete(t.atPath, i, i+1)
		return true, size
	}
	return false, 0
}

// expireAtPath drops the recorded files no longer at the path for longer
// than atPathTTL (see maxAtPath). Lister goroutine.
func (t *Tailer) expireAtPath() {
	var pdev, pino uint64
	there := false
	if fi, err := os.Stat(t.o.Path); err == nil {
		pdev, pino = DevIno(fi)
		there = true
	}
	now := time.Now()
	t.pinMu.Lock()
	defer t.pinMu.Unlock()
	keep := t.atPath[:0]
	for _, a := range t.atPath {
		fi, err := a.f.Stat()
		switch {
		case err == nil && there && links(fi) > 0 && a.dev == pdev && a.ino == pino:
			a.goneAt = time.Time{}
		case a.goneAt.IsZero():
			a.goneAt = now
		case now.Sub(a.goneAt) > t.atPathTTL:
			t.log.Debug("a file opened at the path left it with no event the watcher saw (renamed over, or events dropped); no longer recorded", "path", t.o.Path, "ino", a.ino)
			a.f.Close()
			continue
		}
		keep = append(keep, a)
	}
	clear(t.atPath[len(keep):])
	t.atPath = keep
}

// seenAtPath records f (fi), the tailer's file, when it is at the path.
func (t *Tailer) seenAtPath(f *os.File, fi os.FileInfo) {
	if pfi, err := os.Stat(t.o.Path); err != nil || !os.SameFile(fi, pfi) {
		return
	}
	dev, ino := DevIno(fi)
	t.pinMu.Lock()
	t.seenAtPathLocked(f, dev, ino)
	t.pinMu.Unlock()
}

// knownLocked reports whether dev/ino is the file the tailer has open or
// one already pinned (both open: an inode cannot be reused meanwhile).
func (t *Tailer) knownLocked(dev, ino uint64) bool {
	if t.heldOK && dev == t.heldDev && ino == t.heldIno {
		return true
	}
	for _, p := range t.pins {
		if p.dev == dev && p.ino == ino {
			return true
		}
	}
	return false
}

// pinPath keeps the file at Path open when it is neither the file being
// read nor one kept already. exists reports whether the path named a
// file when it looked (false: it was gone).
func (t *Tailer) pinPath() (exists bool) {
	if !t.pinning {
		return true
	}
	fi, err := os.Stat(t.o.Path)
	if err != nil {
		return false
	}
	if !fi.Mode().IsRegular() {
		return true
	}
	dev, ino := DevIno(fi)
	t.pinMu.Lock()
	known := t.knownLocked(dev, ino) || t.promoteUnkeptLocked(dev, ino)
	t.pinMu.Unlock()
	if known {
		return true
	}
	f, err := os.Open(t.o.Path)
	if err != nil {
		return !os.IsNotExist(err)
	}
	ffi, err := f.Stat()
	if err != nil {
		f.Close()
		return true
	}
	dev, ino = DevIno(ffi)
	t.pinMu.Lock()
	defer t.pinMu.Unlock()
	t.seenAtPathLocked(f, dev, ino)
	switch {
	case t.pinStopped || t.knownLocked(dev, ino):
		f.Close()
		return true
	case t.unkeptIndexLocked(dev, ino) >= 0:
		f.Close()
		return true
	case t.pinBoundLocked():
		t.noteUnkeptLocked(f, dev, ino)
		if !t.pinFull {
			t.pinFull = true
			t.log.Warn("too many files at the path waiting to be read: newer ones are not kept open; one deleted before it is read is lost, and counted as a gap",
				"path", t.o.Path, "kept_open", len(t.pins), "deleted_bytes_held", t.deletedPinnedLocked(),
				"max_files", t.maxPins, "max_deleted_bytes", t.maxPinBytes)
		}
		return true
	}
	t.pinLocked(f, dev, ino)
	return true
}

// pinBoundLocked reports whether the bound on the files kept open is
// reached. pinMu held.
func (t *Tailer) pinBoundLocked() bool {
	return len(t.pins) >= t.maxPins || t.deletedPinnedLocked() >= t.maxPinBytes
}

// pinLocked keeps f (dev/ino, at the path) open until it is read. pinMu
// held.
func (t *Tailer) pinLocked(f *os.File, dev, ino uint64) {
	t.pinFull = false
	t.pins = append(t.pins, pinnedFile{f: f, dev: dev, ino: ino})
	t.log.Debug("new file at the path kept open until it is read", "path", t.o.Path, "ino", ino, "waiting", len(t.pins))
	if t.wakeCh != nil {
		select {
		case t.wakeCh <- struct{}{}:
		default:
		}
	}
}

// hold records the file the tailer has just opened and drops the pins of
// that file.
func (t *Tailer) hold(dev, ino uint64) {
	t.pinMu.Lock()
	defer t.pinMu.Unlock()
	t.heldDev, t.heldIno, t.heldOK = dev, ino, true
	t.takeUnkeptLocked(dev, ino)
	keep := t.pins[:0]
	for _, p := range t.pins {
		if p.dev == dev && p.ino == ino {
			p.f.Close()
			continue
		}
		keep = append(keep, p)
	}
	clear(t.pins[len(keep):])
	t.pins = keep
}

// unhold records that the tailer has closed its file.
func (t *Tailer) unhold() {
	t.pinMu.Lock()
	t.heldOK = false
	t.pinMu.Unlock()
}

// stale reports whether pinned file f is not to be read through its pin:
// it is the live file (opened as such), a listed plain backup (renamed: it
// is read in rotation order), or content already read.
func (t *Tailer) stale(f *os.File, fi, liveInfo os.FileInfo, cands []candidate) bool {
	if liveInfo != nil && os.SameFile(fi, liveInfo) {
		return true
	}
	for _, c := range cands {
		if !c.Gzip && os.SameFile(fi, c.info) {
			return true
		}
	}
	head, err := readPrefix(f, PrefixLen)
	if err != nil {
		t.log.Warn("cannot read a file kept open since it was at the path", "path", t.o.Path, "err", err)
		return true
	}
	return len(head) > 0 && t.isFinished(head)
}

// nextPinned returns the oldest pinned file still to be read (deleted from
// the path, or renamed to a name no Finder lists, before the tailer got
// to it), taken out of the pins, or nil. liveInfo is the live file (nil
// when there is none) and cands the backups listed. Tailer goroutine.
func (t *Tailer) nextPinned(liveInfo os.FileInfo, cands []candidate) (*os.File, os.FileInfo) {
	t.pinMu.Lock()
	defer t.pinMu.Unlock()
	for len(t.pins) > 0 {
		p := t.pins[0]
		t.pins[0] = pinnedFile{}
		t.pins = t.pins[1:]
		fi, err := p.f.Stat()
		if err == nil && !t.stale(p.f, fi, liveInfo, cands) {
			return p.f, fi
		}
		p.f.Close()
	}
	return nil, nil
}

// firstPinned returns the oldest pinned file that was not read already (a
// file at the path since the one being read: the writer moved on), or
// nil. Tailer goroutine.
func (t *Tailer) firstPinned() os.FileInfo {
	t.pinMu.Lock()
	defer t.pinMu.Unlock()
	for len(t.pins) > 0 {
		p := t.pins[0]
		fi, err := p.f.Stat()
		if err == nil && !t.stale(p.f, fi, nil, nil) {
			return fi
		}
		p.f.Close()
		t.pins[0] = pinnedFile{}
		t.pins = t.pins[1:]
	}
	return nil
}

// listedBackup is a backup as prunePins sees it.
type listedBackup struct {
	fi   os.FileInfo
	head []byte // decompressed for .gz
	gz   bool
}

// prunePins drops the pins whose content a listed backup holds: renamed
// (the same file), or deleted after it was compressed (a .gz beginning
// as it does), so that a deleted file's disk space is not held for
// nothing. Backups older than the file being read cannot hold one.
// cache is the lister's (see listPending). Lister goroutine.
func (t *Tailer) prunePins(cache map[headKey]listed) {
	t.pinMu.Lock()
	n := len(t.pins)
	t.pinMu.Unlock()
	if n == 0 {
		return
	}
	t.lagMu.Lock()
	fin := newFPSet(t.finished)
	t.lagMu.Unlock()
	bs := t.listBackups(cache)
	t.pinMu.Lock()
	defer t.pinMu.Unlock()
	keep := t.pins[:0]
	for _, p := range t.pins {
		if inBackup(p, bs) || readAlready(p, fin) {
			p.f.Close()
			continue
		}
		keep = append(keep, p)
	}
	clear(t.pins[len(keep):])
	t.pins = keep
}

// listBackups lists the backups no older than the file being read (older
// ones cannot hold a file seen at the path since), with their heads
// (cache is the lister's, see listPending).
func (t *Tailer) listBackups(cache map[headKey]listed) []listedBackup {
	t.lagMu.Lock()
	floor := t.lag.mtime
	t.lagMu.Unlock()
	var bs []listedBackup
	for _, b := range t.o.Backups(t.o.Path) {
		fi, err := os.Stat(b.Path)
		if err != nil || fi.IsDir() || fi.ModTime().UnixNano() < floor {
			continue
		}
		dev, ino := DevIno(fi)
		k := headKey{dev, ino, fi.Size(), fi.ModTime().UnixNano(), b.Gzip}
		e, ok := cache[k]
		if !ok {
			if e.head, err = headOf(b); err != nil {
				continue
			}
			e.size = fi.Size()
			if b.Gzip {
				if f, ferr := os.Open(b.Path); ferr == nil {
					e.size = gzSize(f, fi.Size())
					f.Close()
				}
			}
			cache[k] = e
		}
		bs = append(bs, listedBackup{fi: fi, head: e.head, gz: b.Gzip})
	}
	return bs
}

// readAlready reports whether pinned file p begins as content already read
// (it was pinned as the tailer read it: a race the pins cannot rule out).
func readAlready(p pinnedFile, fin fpSet) bool {
	head, err := readPrefix(p.f, PrefixLen)
	return err == nil && len(head) > 0 && fin.has(head)
}

// inBackup reports whether a listed backup holds pinned file p.
func inBackup(p pinnedFile, bs []listedBackup) bool {
	fi, err := p.f.Stat()
	if err != nil {
		return true
	}
	var head []byte
	for _, b := range bs {
		if !b.gz && os.SameFile(fi, b.fi) {
			return true // renamed
		}
		if links(fi) > 0 || len(b.head) == 0 {
			continue
		}
		if head == nil {
			if head, err = readPrefix(p.f, PrefixLen); err != nil || len(head) == 0 {
				return false
			}
		}
		// Deleted, and a backup begins as it does (at least as far).
		if len(b.head) >= len(head) && string(b.head[:len(head)]) == string(head) {
			return true
		}
	}
	return false
}

// pinnedBytes is the size of the pinned files deleted from the path, for
// Lag (the live file and renamed ones are counted as such).
func (t *Tailer) pinnedBytes() int64 {
	t.pinMu.Lock()
	defer t.pinMu.Unlock()
	return t.deletedPinnedLocked()
}

// deletedPinnedLocked is the size of the pinned files deleted from the
// path: the disk space held by keeping them open.
func (t *Tailer) deletedPinnedLocked() int64 {
	var n int64
	for _, p := range t.pins {
		if fi, err := p.f.Stat(); err == nil && links(fi) == 0 {
			n += fi.Size()
		}
	}
	return n
}

// closePins closes every pin; no more are taken. A pinned file deleted
// from the path and not read yet is lost with its descriptor (a restart
// cannot find it): a gap, with its size.
func (t *Tailer) closePins() {
	t.pinMu.Lock()
	t.pinStopped = true
	pins := t.pins
	t.pins = nil
	for _, a := range t.atPath {
		a.f.Close()
	}
	t.atPath = nil
	t.pinMu.Unlock()
	// The files not kept open to be read that left the path are counted
	// now: nothing will read them.
	t.checkUnkept(map[headKey]listed{}, true)
	t.closeUnkept()
	fin := newFPSet(t.finished) // Run's goroutine: no lock needed
	var files, bytes int64
	for _, p := range pins {
		fi, err := p.f.Stat()
		if err == nil && links(fi) == 0 && fi.Size() > 0 && !readAlready(p, fin) {
			files++
			bytes += fi.Size()
			t.log.Error("stopped before reading a file deleted from the path (kept open to be read): its lines are lost",
				"path", t.o.Path, "ino", p.ino, "bytes", fi.Size())
			if t.o.OnGap != nil {
				t.o.OnGap(Gap{Path: t.o.Path, ID: ID{Dev: p.dev, Ino: p.ino}, Bytes: fi.Size(),
					Reason: "stopped before reading a file deleted from the path"})
			}
			if t.o.OnUnrecoverable != nil {
				t.o.OnUnrecoverable(t.o.Path, fi.Size())
			}
		}
		p.f.Close()
	}
	if files > 1 {
		t.log.Error("stopped before reading files deleted from the path (kept open to be read): their lines are lost; a restart cannot find them (stop ship only once lag_bytes is back down after a sink outage)",
			"path", t.o.Path, "files", files, "bytes", bytes)
	}
}

// notice handles one notification for the directory (watcher goroutine):
// a new file at the path is pinned at once. A file that leaves the path is
// the oldest one recorded as opened there and no longer there; when there
// is none, nothing opened it: deleted, it is a gap when a write to the
// path was seen since it was created (see the top of this file).
func (t *Tailer) notice(ev fsnotify.Event) {
	if !t.pinning || filepath.Clean(ev.Name) != filepath.Clean(t.o.Path) {
		return
	}
	switch {
	case ev.Has(fsnotify.Create):
		t.createdWritten = false
		t.pinPath()
	case ev.Has(fsnotify.Remove):
		opened, size := t.leftPath()
		switch {
		case t.createdWritten && (!opened || size == 0):
			// Written to, and nothing opened it (or only an empty file
			// was opened since: a newer one, this one nothing opened).
			t.log.Error("a new file at the path was deleted before it could be opened, and a write to the path was seen meanwhile: its lines are lost", "path", t.o.Path)
			if t.o.OnGap != nil {
				t.o.OnGap(Gap{Path: t.o.Path, Reason: "a new file at the path was written to and deleted before it could be opened"})
			}
		case !opened:
			// No write to it was seen between its creation and its
			// deletion: it was empty, nothing is counted lost.
			t.log.Warn("a new file at the path was deleted before it could be opened; no write to it was seen, so nothing is counted lost (lines written to it after its deletion could not be read)", "path", t.o.Path)
		}
	case ev.Has(fsnotify.Rename):
		t.leftPath() // a backup now
	default:
		if ev.Has(fsnotify.Write) {
			t.createdWritten = true
		}
		t.pinPath()
	}
}
