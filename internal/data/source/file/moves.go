package file

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/evidence"
	"github.com/audittui/audittui/internal/tail"
)

// Where the files of a followed set are now. The apiserver rotates a busy
// audit.log every few minutes: it renames it (audit-<time>.log), starts a
// new audit.log, and, with --audit-log-compress, gzips the backup and
// removes the plain one; logrotate renames audit.log.1 to audit.log.2.gz.
// The events read from a file before it was rotated are then cited at the
// name that holds their bytes now (data.SourceInfo.Moved), not at the path
// that holds other bytes: a citation shown, bookmarked or written to a
// case is one that `sed -n LINEp FILE` (or zcat) checks.
//
// Each file a followed set reads is tracked from when it is opened: by
// its device and inode while a name beside the followed path has it (a
// rename), then, once no name has it (compressed: the .gz is a new file;
// copied), by its content, the bytes of it read: the tracker keeps a
// descriptor of the file until then, fingerprints those bytes through it,
// and looks for the file beside the path that holds them, as stored or
// decompressed (evidence.FindRotated: the matcher `audittui report` uses
// for a case's source rotated since). When none does (deleted by
// retention, cut in place) its events keep the name they were read at and
// say it is gone. Nothing is written: the files are only stat'ed, listed
// and read.

// moveCheck is how often the tracked files are looked for (tests lower
// it).
var moveCheck = 500 * time.Millisecond

// tracker follows where the files a followed set read are now.
type tracker struct {
	path string // the followed path: its rotation puts the files beside it
	ctx  context.Context

	// changed is signalled when a file moved (its events' citations
	// changed): the stream hands out an empty batch, so that what shows
	// them is redrawn.
	changed chan struct{}

	mu      sync.Mutex
	files   []*tracked
	started bool
	closed  bool
	cancel  context.CancelFunc
	done    chan struct{}
}

// tracked is one file read.
type tracked struct {
	info *data.SourceInfo
	// name is where the file is now, dev and ino its identity there, and
	// atSize its size when last found (a file found smaller was cut).
	name     string
	dev, ino uint64
	atSize   int64
	// fh reads the file's bytes until they are fingerprinted (fp): the
	// first size bytes as stored (all of a compressed file's). done says
	// size is final (the file was read to its end and left).
	fh         *os.File
	size       int64
	compressed bool
	done       bool
	fp         *evidence.Fingerprint
	// head is the file's first bytes as read (up to evidence.HeadLen).
	head []byte
}

func newTracker(ctx context.Context, path string) *tracker {
	return &tracker{path: path, ctx: ctx, changed: make(chan struct{}, 1)}
}

// changes is signalled when a file moved (nil: never).
func (t *tracker) changes() <-chan struct{} {
	if t == nil {
		return nil
	}
	return t.changed
}

// moved sets where info's file is now and signals the change.
func (t *tracker) moved(info *data.SourceInfo, name string, gone bool) {
	if gone {
		info.Moved.SetGone()
	} else {
		info.Moved.Set(name)
	}
	select {
	case t.changed <- struct{}{}:
	default:
	}
}

// add tracks the file info names, read from path (dev and ino: its
// identity when read; 0, 0 for the file at path now). It sets info.Moved:
// call it before any of info's events is handed out. size is how many of
// its bytes are read so far (final, with done).
func (t *tracker) add(info *data.SourceInfo, path string, dev, ino uint64, size int64, done bool) {
	if t == nil || path == "-" {
		return
	}
	info.Moved = &data.Moved{}
	fh, fi := openSame(t.path, path, dev, ino)
	e := &tracked{info: info, name: path, compressed: isCompressedName(path), size: size, done: done, fh: fh}
	if fi != nil {
		e.dev, e.ino = tail.DevIno(fi)
		e.atSize = fi.Size()
		if e.compressed {
			e.size, e.done = fi.Size(), true
		}
		e.head = headOf(fh, e.size)
		e.name = fh.Name()
		if e.name != info.Name {
			info.Moved.Set(e.name) // renamed before it was opened here (before any of its events is read)
		}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		if fh != nil {
			fh.Close()
		}
		return
	}
	t.files = append(t.files, e)
	if !t.started {
		t.started = true
		ctx, cancel := context.WithCancel(t.ctx)
		t.cancel, t.done = cancel, make(chan struct{})
		go t.run(ctx)
	}
}

// read notes that info's file has been read up to end (as stored).
func (t *tracker) read(info *data.SourceInfo, end int64) {
	if t == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if e := t.of(info); e != nil && !e.compressed && end > e.size {
		e.size = end
	}
}

// left notes that info's file was read to its end: what was read of it
// is final.
func (t *tracker) left(info *data.SourceInfo) {
	if t == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if e := t.of(info); e != nil {
		e.done = true
	}
}

func (t *tracker) of(info *data.SourceInfo) *tracked {
	for _, e := range t.files {
		if e.info == info {
			return e
		}
	}
	return nil
}

// close stops tracking and closes the descriptors held.
func (t *tracker) close() {
	if t == nil {
		return
	}
	t.mu.Lock()
	t.closed = true
	cancel, done := t.cancel, t.done
	t.mu.Unlock()
	if cancel != nil {
		cancel()
		<-done
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, e := range t.files {
		if e.fh != nil {
			e.fh.Close()
			e.fh = nil
		}
	}
	t.files = nil
}

func (t *tracker) run(ctx context.Context) {
	defer close(t.done)
	tick := time.NewTicker(moveCheck)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		t.mu.Lock()
		files := append([]*tracked(nil), t.files...)
		t.mu.Unlock()
		for _, e := range files {
			if ctx.Err() != nil {
				return
			}
			if t.check(e) {
				t.drop(e)
			}
		}
	}
}

func (t *tracker) drop(e *tracked) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for i, f := range t.files {
		if f == e {
			t.files = append(t.files[:i], t.files[i+1:]...)
			break
		}
	}
	if e.fh != nil {
		e.fh.Close()
		e.fh = nil
	}
}

// check looks for e's file (on the tracker's goroutine, the only one that
// changes where it is). It reports whether the file is gone: its events
// keep the name they were read at (or last found at), and it is tracked
// no more.
func (t *tracker) check(e *tracked) (gone bool) {
	t.mu.Lock()
	name, dev, ino, atSize, done, fh, size, head := e.name, e.dev, e.ino, e.atSize, e.done, e.fh, e.size, e.head
	t.mu.Unlock()
	// The file's first bytes as read: rewritten in place (copytruncate,
	// then new writes) it is another file under the same inode.
	intact := fh == nil || begins(fh, head)
	if intact {
		here := func(p string) bool {
			fi, err := os.Stat(p)
			if err != nil || !sameFile(fi, dev, ino) || fi.Size() < atSize {
				return false
			}
			t.found(e, name, p, fi)
			return true
		}
		// Where it was, or renamed: a name beside the path.
		if here(name) {
			return false
		}
		for _, p := range append([]string{t.path}, evidence.Siblings(t.path)...) {
			if p != name && here(p) {
				return false
			}
		}
		if !done {
			return false // still read (deleted meanwhile): what of it is read is not final yet
		}
	}
	// No name has it: a file beside the path that holds its bytes (a
	// rotation compressed or copied it): the bytes read, fingerprinted
	// through the descriptor held; for a file cut in place, whose
	// descriptor reads other bytes now, its first bytes as read (the copy
	// begins with them, as the tailer found it).
	t.mu.Lock()
	fp := e.fp
	t.mu.Unlock()
	if fp == nil && fh != nil && size > 0 && intact {
		if p, err := evidence.FingerprintPrefix(fh, size); err == nil {
			fp = &p
		}
	}
	if fp == nil && len(head) > 0 {
		sum := sha256.Sum256(head)
		fp = &evidence.Fingerprint{Size: int64(len(head)), SHA256: hex.EncodeToString(sum[:]), Head: head}
	}
	if fp == nil {
		t.moved(e.info, "", true)
		return true
	}
	t.mu.Lock()
	e.fp = fp
	if e.fh != nil {
		e.fh.Close()
		e.fh = nil
	}
	t.mu.Unlock()
	found, _ := evidence.FindRotated(t.path, *fp, name+".gz", name+".zst", name+".1")
	if found == "" {
		t.moved(e.info, "", true)
		return true
	}
	if fi, err := os.Stat(found); err == nil {
		t.mu.Lock()
		e.dev, e.ino = 0, 0 // found by content: found() takes its identity
		t.mu.Unlock()
		t.found(e, name, found, fi)
	}
	return false
}

// begins reports whether the file fh reads begins with head.
func begins(fh *os.File, head []byte) bool {
	if len(head) == 0 {
		return true
	}
	b := make([]byte, len(head))
	n, _ := fh.ReadAt(b, 0)
	return n == len(b) && bytes.Equal(b, head)
}

// headOf reads the first bytes of fh, up to evidence.HeadLen and to n.
func headOf(fh *os.File, n int64) []byte {
	if fh == nil || n <= 0 {
		return nil
	}
	b := make([]byte, min(n, evidence.HeadLen))
	k, _ := fh.ReadAt(b, 0)
	return b[:k]
}

// found notes e's file at path (it was at name).
func (t *tracker) found(e *tracked, name, path string, fi os.FileInfo) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if e.name != name {
		return // moved meanwhile
	}
	e.name, e.atSize = path, fi.Size()
	e.dev, e.ino = tail.DevIno(fi)
	if e.fh != nil && len(e.head) < evidence.HeadLen && e.size > int64(len(e.head)) {
		e.head = headOf(e.fh, e.size) // what is read of its first bytes, up to HeadLen
	}
	if now, _ := e.info.Moved.Now(); path != name || (now == "" && path != e.info.Name) {
		t.moved(e.info, path, false)
	}
}

func sameFile(fi os.FileInfo, dev, ino uint64) bool {
	d, i := tail.DevIno(fi)
	return d == dev && i == ino && (dev != 0 || ino != 0)
}

// openSame opens the file read from path: the one at path when it is the
// file with this device and inode (or when none is given), else the one
// beside the followed path live that is (renamed since). nil when none
// is.
func openSame(live, path string, dev, ino uint64) (*os.File, os.FileInfo) {
	try := func(p string) (*os.File, os.FileInfo) {
		f, err := os.Open(p)
		if err != nil {
			return nil, nil
		}
		fi, err := f.Stat()
		if err != nil || !fi.Mode().IsRegular() || ((dev != 0 || ino != 0) && !sameFile(fi, dev, ino)) {
			f.Close()
			return nil, nil
		}
		return f, fi
	}
	if f, fi := try(path); f != nil || (dev == 0 && ino == 0) {
		return f, fi
	}
	for _, p := range append([]string{live}, evidence.Siblings(live)...) {
		if filepath.Clean(p) == filepath.Clean(path) {
			continue
		}
		if f, fi := try(p); f != nil {
			return f, fi
		}
	}
	return nil, nil
}
