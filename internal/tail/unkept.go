package tail

// Files at the path that are not kept open to be read because the bound
// on the files kept open is reached (pin.go): a sink outage holds reading
// while the live file is deleted and recreated again and again. Such a
// file is read if it is still at the path, or a listed backup, when the
// tailer gets to it; one deleted (or renamed to a name no pattern lists)
// before that is lost. That loss used to leave one WARN, given when the
// bound was reached, and no metric (review E, finding 2: 7,046 of 42,000
// events lost, gap_files_total 0).
//
// So such a file is still opened, but only held while it is at the path,
// where it holds no disk space of its own. Once it is not (each listing,
// at most every second and on changes in the directory), it is looked for
// among the listed backups (renamed: the same file; compressed or copied:
// a backup that begins as it does), which are read in rotation order
// (pending.go counts one deleted first); one that is read already, or that
// the tailer opened, is dropped too. One found nowhere on two listings in a
// row (a rename and compression in progress, or the tailer opening it at
// that moment, show on the second) is closed, and its loss counted: an
// ERROR naming its inode and its size, OnGap and OnUnrecoverable with that
// size (what was written to it before it was closed; a writer still
// writing to it after that loses more, unseen). One that is empty held
// nothing: no gap. Its disk space is freed when it is closed, a listing or
// two after it left the path.
//
// A file that is at the path is still kept open (pinned) as soon as the
// bound allows.

import (
	"bytes"
	"os"
	"slices"
	"time"
)

// maxUnkept bounds the files held this way. Each is closed at most two
// listings after it left the path, so only a writer replacing the file at
// the path many times between two listings could reach it.
const maxUnkept = 64

// unkeptFile is a file seen at the path and not kept open to be read.
type unkeptFile struct {
	f        *os.File
	dev, ino uint64
	seenAt   time.Time
	// suspect: not at the path and found nowhere on the last listing.
	suspect bool
}

// unkeptIndexLocked returns the index of dev/ino among the unkept files,
// or -1. pinMu held.
func (t *Tailer) unkeptIndexLocked(dev, ino uint64) int {
	for i, u := range t.unkept {
		if u.dev == dev && u.ino == ino {
			return i
		}
	}
	return -1
}

// noteUnkeptLocked holds f (dev/ino, at the path, not kept open) until it
// leaves the path; it owns f. pinMu held.
func (t *Tailer) noteUnkeptLocked(f *os.File, dev, ino uint64) {
	if len(t.unkept) >= maxUnkept {
		f.Close()
		// Nothing holds it: its deletion is a file nothing opened (a gap
		// when the watcher saw it written to, see notice).
		t.forgetAtPathLocked(dev, ino)
		if !t.unkeptFull {
			t.unkeptFull = true
			t.log.Error("too many files at the path not kept open to follow: one deleted before it is read is lost, and counted (without its size) only when the directory's notifications showed it written to",
				"path", t.o.Path, "followed", len(t.unkept))
		}
		return
	}
	t.unkeptFull = false
	t.unkept = append(t.unkept, unkeptFile{f: f, dev: dev, ino: ino, seenAt: time.Now()})
	t.log.Debug("new file at the path not kept open to be read (too many waiting); followed while it is there", "path", t.o.Path, "ino", ino)
}

// promoteUnkeptLocked keeps the unkept file dev/ino open to be read when
// the bound allows it now. It reports whether dev/ino is an unkept file.
// pinMu held.
func (t *Tailer) promoteUnkeptLocked(dev, ino uint64) bool {
	i := t.unkeptIndexLocked(dev, ino)
	if i < 0 {
		return false
	}
	if !t.pinStopped && !t.pinBoundLocked() {
		f := t.unkept[i].f
		t.unkept = slices.Delete(t.unkept, i, i+1)
		t.pinLocked(f, dev, ino)
	}
	return true
}

// takeUnkeptLocked closes the unkept file dev/ino: the tailer opened it.
// pinMu held.
func (t *Tailer) takeUnkeptLocked(dev, ino uint64) {
	if i := t.unkeptIndexLocked(dev, ino); i >= 0 {
		t.unkept[i].f.Close()
		t.unkept = slices.Delete(t.unkept, i, i+1)
	}
}

// checkUnkept settles the unkept files no longer at the path: a listed
// backup holds it, or it was read: closed; found nowhere on two listings
// in a row (final: at once, the tailer stopping): closed, and lost unless
// empty. cache is the lister's.
func (t *Tailer) checkUnkept(cache map[headKey]listed, final bool) {
	var pdev, pino uint64
	if fi, err := os.Stat(t.o.Path); err == nil {
		pdev, pino = DevIno(fi)
	}
	t.pinMu.Lock()
	var gone []unkeptFile
	for i := range t.unkept {
		u := &t.unkept[i]
		if u.dev == pdev && u.ino == pino {
			u.suspect = false
			continue
		}
		gone = append(gone, *u)
	}
	t.pinMu.Unlock()
	if len(gone) == 0 {
		return
	}
	bs := t.listBackups(cache)
	t.lagMu.Lock()
	fin := newFPSet(t.finished)
	t.lagMu.Unlock()
	type outcome struct {
		found bool
		size  int64
		head  []byte
	}
	out := map[*os.File]outcome{}
	for _, u := range gone {
		fi, err := u.f.Stat()
		if err != nil {
			continue
		}
		head, err := readPrefix(u.f, PrefixLen)
		if err != nil {
			continue
		}
		found := inListed(fi, head, bs) || len(head) > 0 && fin.has(head)
		out[u.f] = outcome{found: found, size: max(fi.Size(), int64(len(head))), head: head}
	}
	type loss struct {
		unkeptFile
		outcome
	}
	var lost []loss
	t.pinMu.Lock()
	keep := t.unkept[:0]
	for _, u := range t.unkept {
		o, checked := out[u.f]
		switch {
		case !checked || u.dev == pdev && u.ino == pino:
		case !o.found && !u.suspect && !final:
			u.suspect = true
		default:
			u.f.Close()
			switch {
			case o.found:
			case o.size > 0:
				lost = append(lost, loss{u, o})
			default:
				t.log.Debug("a file at the path not kept open to be read was deleted empty: nothing lost", "path", t.o.Path, "ino", u.ino)
			}
			continue
		}
		keep = append(keep, u)
	}
	clear(t.unkept[len(keep):])
	t.unkept = keep
	t.pinMu.Unlock()
	for _, l := range lost {
		t.log.Error("a file at the path was deleted (or renamed to a name no pattern lists) before it was read; it was not kept open to be read, as too many files were waiting: its lines are lost",
			"path", t.o.Path, "ino", l.ino, "bytes", l.size, "seen", l.seenAt.UTC().Format(time.RFC3339))
		if t.o.OnGap != nil {
			t.o.OnGap(Gap{Path: t.o.Path, ID: ID{Dev: l.dev, Ino: l.ino, FPLen: len(l.head), FP: Fingerprint(l.head)}, Bytes: l.size,
				Reason: "a file at the path not kept open (too many waiting) was deleted before it was read"})
		}
		if t.o.OnUnrecoverable != nil {
			t.o.OnUnrecoverable(t.o.Path, l.size)
		}
	}
}

// inListed reports whether a listed backup holds the file fi, which
// begins with head: renamed (the same file), or compressed or copied
// (copytruncate): it begins as the file does, when that is a whole line
// (an event, unique: audit events share only their first ~90 bytes) or
// PrefixLen bytes.
func inListed(fi os.FileInfo, head []byte, bs []listedBackup) bool {
	byContent := len(head) == PrefixLen || bytes.IndexByte(head, '\n') >= 0
	for _, b := range bs {
		if !b.gz && os.SameFile(fi, b.fi) {
			return true
		}
		if byContent && len(b.head) >= len(head) && bytes.HasPrefix(b.head, head) {
			return true
		}
	}
	return false
}

// closeUnkept closes the unkept files still held (the tailer stopping:
// those at the path are read on the next start).
func (t *Tailer) closeUnkept() {
	t.pinMu.Lock()
	defer t.pinMu.Unlock()
	for _, u := range t.unkept {
		u.f.Close()
	}
	t.unkept = nil
}
