package tail

// The backups waiting to be read. While the tailer is held (a sink is
// down and memory is full, or it reads slowly) it lists nothing, and
// retention may delete backups it has not opened yet: when it moves on,
// the files that are gone could not be told from files that never
// existed. A lister goroutine therefore notes, every Refresh (and on
// changes in the directory), the backups rotated after the file being
// read: their bytes are in Lag, and one that is gone before it was read
// is a gap (OnGap, OnUnrecoverable with its size, an ERROR naming it).
// A backup rotated and deleted between two listings leaves no trace.

import (
	"context"
	"os"
	"sort"
	"time"
)

// listed is what the lister keeps of a backup between listings.
type listed struct {
	head []byte
	size int64
}

// lister lists the backups waiting to be read until done.
func (t *Tailer) lister(ctx context.Context, done <-chan struct{}) {
	every := min(t.o.Refresh, time.Second)
	tick := time.NewTicker(every)
	defer tick.Stop()
	cache := map[headKey]listed{}
	var heads map[headKey][]byte // the lister's head cache for candidatesIn
	for {
		select {
		case <-ctx.Done():
			return
		case <-done:
			return
		case <-tick.C:
		case <-t.listWake:
		}
		t.listPending(cache)
		// Report listed backups deleted before they were read now, while
		// reading may be held, not when the tailer gets to them.
		t.checkPendingGone(&heads)
		// The polling fallback for pin.go: a new file at the path is kept
		// open even while the tailer is held.
		t.pinPath()
		t.prunePins(cache)
		t.checkUnkept(cache, false)
		t.expireAtPath()
		select {
		case <-ctx.Done():
			return
		case <-done:
			return
		case <-time.After(min(every, 200*time.Millisecond)):
		}
	}
}

// listPending notes the backups rotated after the file being read that
// were not read yet.
func (t *Tailer) listPending(cache map[headKey]listed) {
	t.lagMu.Lock()
	s := t.lag
	fin := append([]ident(nil), t.finished...)
	t.lagMu.Unlock()
	if !s.open {
		return
	}
	if s.live {
		// The live file not rotated yet: every backup is older.
		if fi, err := os.Stat(t.o.Path); err == nil {
			if dev, ino := DevIno(fi); dev == s.dev && ino == s.ino {
				t.setLag(func(l *lagState) {
					if l.dev == s.dev && l.ino == s.ino {
						l.listed, l.listedDev, l.listedIno = 0, s.dev, s.ino
					}
				})
				return
			}
		}
	}
	finSet := newFPSet(fin)
	found := map[ident]pendingFile{}
	var total int64
	keep := map[headKey]bool{}
	for _, b := range t.o.Backups(t.o.Path) {
		fi, err := os.Stat(b.Path)
		if err != nil || fi.IsDir() {
			continue
		}
		dev, ino := DevIno(fi)
		if !b.Gzip && dev == s.dev && ino == s.ino {
			continue // the file being read, renamed
		}
		mtime := fi.ModTime().UnixNano()
		if mtime < s.mtime {
			continue // rotated before the file being read
		}
		k := headKey{dev, ino, fi.Size(), mtime, b.Gzip}
		e, ok := cache[k]
		if !ok {
			e.head, err = headOf(b)
			e.size = fi.Size()
			if b.Gzip {
				if f, ferr := os.Open(b.Path); ferr == nil {
					e.size = gzSize(f, fi.Size())
					f.Close()
				}
			}
			if err != nil {
				continue
			}
			cache[k] = e
		}
		keep[k] = true
		if len(e.head) == 0 || finSet.has(e.head) || matches(e.head, s.fpLen, s.fp) {
			continue // empty, read, or the content being read (compressed)
		}
		found[ident{fpLen: len(e.head), fp: Fingerprint(e.head)}] = pendingFile{path: b.Path, gz: b.Gzip, size: e.size, head: e.head, mtime: mtime}
		total += e.size
	}
	for k := range cache {
		if !keep[k] {
			delete(cache, k)
		}
	}
	t.setLag(func(l *lagState) {
		if l.dev != s.dev || l.ino != s.ino {
			return // moved on meanwhile: listed against a file no longer read
		}
		l.listed, l.listedDev, l.listedIno = total, s.dev, s.ino
		if l.pending == nil {
			l.pending = map[ident]pendingFile{}
		}
		for id, p := range found {
			if _, ok := l.pending[id]; ok || len(l.pending) < maxPending {
				l.pending[id] = p
			}
		}
	})
}

// checkPendingGone reports, from the lister (and as the tailer stops), the
// listed backups that are gone before they were read. The backups are
// listed again (heads read) only when one listed is no longer at its
// path.
func (t *Tailer) checkPendingGone(heads *map[headKey][]byte) {
	t.lagMu.Lock()
	var gone bool
	for _, p := range t.lag.pending {
		if _, err := os.Stat(p.path); err != nil {
			gone = true
			break
		}
	}
	t.lagMu.Unlock()
	if gone {
		list := func() []candidate { return listCandidates(func() []Backup { return t.o.Backups(t.o.Path) }, heads) }
		t.checkPending(list(), list)
	}
}

// checkPending reports the backups listed as waiting that are no longer
// among cands (the current listing) and were not read: deleted before
// they were read.
func (t *Tailer) checkPending(cands []candidate, relist func() []candidate) {
	t.lagMu.Lock()
	defer t.lagMu.Unlock()
	if len(t.lag.pending) == 0 {
		return
	}
	finSet := newFPSet(t.finished)
	var missing []ident
	present := listedSet(cands, t.lag.pending)
	for id, p := range t.lag.pending {
		switch {
		case finSet.has(p.head):
		case present[id]:
			continue
		case id == t.lag.next || matches(p.head, t.lag.fpLen, t.lag.fp):
			// Opened (or being opened) to be read: the open descriptor
			// keeps it whatever happens to its name.
			continue
		default:
			missing = append(missing, id)
			continue
		}
		delete(t.lag.pending, id)
	}
	if len(missing) == 0 {
		return
	}
	// Listed again: a backup compressed between the listing and its stat
	// (the plain file removed, the .gz not listed yet) is not gone.
	present = listedSet(relist(), t.lag.pending)
	var gone []pendingFile
	for _, id := range missing {
		if !present[id] {
			gone = append(gone, t.lag.pending[id])
			delete(t.lag.pending, id)
		}
	}
	if len(gone) == 0 {
		return
	}
	sort.Slice(gone, func(i, j int) bool {
		if gone[i].mtime != gone[j].mtime {
			return gone[i].mtime < gone[j].mtime
		}
		return gone[i].path < gone[j].path
	})
	var total int64
	for _, p := range gone {
		total += p.size
		t.log.Error("backup deleted (retention?) before it was read: its lines are lost", "path", p.path, "bytes", p.size, "compressed", p.gz)
		if t.o.OnGap != nil {
			t.o.OnGap(Gap{Path: p.path, ID: ID{FPLen: len(p.head), FP: Fingerprint(p.head)}, Bytes: p.size,
				Reason: "backup deleted before it was read"})
		}
		if t.o.OnUnrecoverable != nil && p.size > 0 {
			t.o.OnUnrecoverable(p.path, p.size)
		}
	}
	if len(gone) > 1 {
		t.log.Error("backups deleted before they were read", "files", len(gone), "bytes", total,
			"first", gone[0].path, "last", gone[len(gone)-1].path)
	}
}

// listedSet returns which of the pending fingerprints begin a listed
// backup.
func listedSet(cands []candidate, pending map[ident]pendingFile) map[ident]bool {
	lens := map[int]bool{}
	for id := range pending {
		lens[id.fpLen] = true
	}
	out := map[ident]bool{}
	for _, c := range cands {
		for l := range lens {
			if l > 0 && len(c.head) >= l {
				if id := (ident{fpLen: l, fp: Fingerprint(c.head[:l])}); pending[id].head != nil {
					out[id] = true
				}
			}
		}
	}
	return out
}

// fpSet holds fingerprints by length: whether a head begins with one of
// them costs one checksum per distinct length, not one per fingerprint.
type fpSet map[int]map[uint64]bool

func newFPSet(ids []ident) fpSet {
	s := fpSet{}
	for _, id := range ids {
		if id.fpLen == 0 {
			continue
		}
		if s[id.fpLen] == nil {
			s[id.fpLen] = map[uint64]bool{}
		}
		s[id.fpLen][id.fp] = true
	}
	return s
}

func (s fpSet) has(head []byte) bool {
	for l, fps := range s {
		if len(head) >= l && fps[Fingerprint(head[:l])] {
			return true
		}
	}
	return false
}
