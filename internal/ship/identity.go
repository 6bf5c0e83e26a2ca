package ship

import (
	"os"
	"strings"

	"github.com/audittui/audittui/internal/tail"
)

// files finds, by content, the file a sink's resume position was taken in
// (the live file and its backups, as the tailer lists them). A sink that
// was ahead of the checkpoint before a restart uses it to tell its own
// file from the ones before it: the first bytes of a file (decompressed
// for .gz) survive a rename, a copy and a compression, where its inode and
// modification time do not (copytruncate keeps the inode for new content;
// a compressor that does not keep the time gives an old backup a new one).
type files struct {
	path   string
	finder tail.Finder
}

// fileHead is the start of a file (up to tail.PrefixLen bytes,
// decompressed for .gz) and its size (-1 for .gz: not known without
// reading it all).
type fileHead struct {
	head []byte
	size int64
}

func isGzip(path string) bool { return strings.HasSuffix(path, ".gz") }

// candidates lists where a file may be: first, when given, the path a
// position was taken at; then the live file and its backups.
func (f *files) candidates(first string) []tail.Backup {
	var out []tail.Backup
	if first != "" {
		out = append(out, tail.Backup{Path: first, Gzip: isGzip(first)})
	}
	out = append(out, tail.Backup{Path: f.path})
	if f.finder != nil {
		out = append(out, f.finder(f.path)...)
	}
	return out
}

// read returns the start of the file at b (ok false when it cannot be
// read), with its device and inode.
func read(b tail.Backup) (fileHead, uint64, uint64, bool) {
	fl, err := os.Open(b.Path)
	if err != nil {
		return fileHead{}, 0, 0, false
	}
	defer fl.Close()
	fi, err := fl.Stat()
	if err != nil || fi.IsDir() {
		return fileHead{}, 0, 0, false
	}
	dev, ino := tail.DevIno(fi)
	head, err := tail.PrefixOf(fl, tail.PrefixLen, b.Gzip)
	if err != nil {
		return fileHead{}, 0, 0, false
	}
	size := fi.Size()
	if b.Gzip {
		size = -1
	}
	return fileHead{head: head, size: size}, dev, ino, true
}

// holds reports whether h can be the content position p was taken in: it
// begins with p's fingerprinted bytes and is not shorter than p's offset.
func (h fileHead) holds(p tail.Position) bool {
	return p.ID.Begins(h.head) && (h.size < 0 || h.size >= p.Offset)
}

// find reports whether the content p was taken in is still among the live
// file and its backups (false when p has no fingerprint).
func (f *files) find(p tail.Position) bool {
	if f == nil || p.ID.FPLen == 0 {
		return false
	}
	for _, b := range f.candidates("") {
		if h, _, _, ok := read(b); ok && h.holds(p) {
			return true
		}
	}
	return false
}

// headOf returns the start of the file position b was taken in, as it is
// now: the file with b's device and inode whose first bytes still match
// b's fingerprint.
func (f *files) headOf(b tail.Position) (fileHead, bool) {
	if f == nil {
		return fileHead{}, false
	}
	for _, c := range f.candidates(b.Path) {
		h, dev, ino, ok := read(c)
		if ok && dev == b.ID.Dev && ino == b.ID.Ino && b.ID.Begins(h.head) {
			return h, true
		}
	}
	return fileHead{}, false
}
