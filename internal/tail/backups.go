package tail

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/klauspost/compress/gzip"
)

// Backup is a rotated copy of the live file.
type Backup struct {
	Path string
	// Order is the name the finder ordered the backup by (for lumberjack,
	// the file name without .gz, which carries the rotation time). It is
	// informational: the order of a Finder's result is what counts.
	Order string
	// Gzip marks a compressed backup: it is read through gzip, and found
	// by the fingerprint of its decompressed start.
	Gzip bool
}

// A Finder lists the rotated copies of the live file at path, in rotation
// order (oldest first). It only names candidates: which one holds the
// content a position was taken in is decided by that content's
// fingerprint, so a finder may list more than the true backups.
type Finder func(path string) []Backup

// Standard recognises the apiserver's backup names (Lumberjack) and
// logrotate's (Logrotate). It is the default Finder.
func Standard(path string) []Backup { return Combine(Lumberjack, Logrotate)(path) }

// Lumberjack is the Finder for the apiserver's rotation: backups named
// <name>-<time><ext> next to <name><ext>, gzipped to <that>.gz with
// --audit-log-compress. While a backup is being compressed it exists both
// plain and as .gz: the plain file is listed and the .gz skipped.
func Lumberjack(path string) []Backup {
	dir, name := filepath.Split(path)
	ext := filepath.Ext(name)
	prefix := strings.TrimSuffix(name, ext) + "-"
	ents, err := os.ReadDir(filepath.Clean(dir + "."))
	if err != nil {
		return nil
	}
	byBase := map[string]Backup{}
	for _, e := range ents {
		n := e.Name()
		if e.IsDir() || n == name || !strings.HasPrefix(n, prefix) {
			continue
		}
		base, gz := strings.CutSuffix(n, ".gz")
		if !strings.HasSuffix(base, ext) {
			continue
		}
		addBase(byBase, base, Backup{Path: filepath.Join(dir, n), Order: base, Gzip: gz})
	}
	out := values(byBase)
	sort.Slice(out, func(i, j int) bool { return out[i].Order < out[j].Order })
	return out
}

// addBase keeps one backup per name without .gz, the plain one when both
// exist (compression in progress).
func addBase(m map[string]Backup, base string, b Backup) {
	if old, ok := m[base]; ok && !old.Gzip {
		return
	}
	m[base] = b
}

func values(m map[string]Backup) []Backup {
	out := make([]Backup, 0, len(m))
	for _, b := range m {
		out = append(out, b)
	}
	return out
}

// Logrotate is the Finder for logrotate: numbered backups <name>.1,
// <name>.2.gz, ... (the highest number is the oldest) and dated ones
// (dateext: <name>-20260101[.gz], in name order, older than the numbered
// ones never mix in practice).
func Logrotate(path string) []Backup {
	dir, name := filepath.Split(path)
	ents, err := os.ReadDir(filepath.Clean(dir + "."))
	if err != nil {
		return nil
	}
	numbered := map[string]Backup{}
	nums := map[string]int{}
	dated := map[string]Backup{}
	for _, e := range ents {
		n := e.Name()
		if e.IsDir() || n == name {
			continue
		}
		base, gz := strings.CutSuffix(n, ".gz")
		switch {
		case strings.HasPrefix(base, name+"."):
			k, err := strconv.Atoi(base[len(name)+1:])
			if err != nil || k < 1 {
				continue
			}
			addBase(numbered, base, Backup{Path: filepath.Join(dir, n), Order: base, Gzip: gz})
			nums[base] = k
		case strings.HasPrefix(base, name+"-") && len(base) > len(name)+1 && isDigit(base[len(name)+1]):
			addBase(dated, base, Backup{Path: filepath.Join(dir, n), Order: base, Gzip: gz})
		}
	}
	d := values(dated)
	sort.Slice(d, func(i, j int) bool { return d[i].Order < d[j].Order })
	nb := values(numbered)
	sort.Slice(nb, func(i, j int) bool { return nums[nb[i].Order] > nums[nb[j].Order] })
	return append(d, nb...)
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// Glob returns a Finder for backups matching any of the glob patterns
// (filepath.Match syntax), ordered by modification time, oldest first.
// A relative pattern is relative to the live file's directory.
func Glob(patterns ...string) Finder {
	return func(path string) []Backup {
		dir := filepath.Dir(path)
		byBase := map[string]Backup{}
		for _, p := range patterns {
			if !filepath.IsAbs(p) {
				p = filepath.Join(dir, p)
			}
			ms, _ := filepath.Glob(p)
			for _, m := range ms {
				if m == filepath.Clean(path) {
					continue
				}
				if fi, err := os.Stat(m); err != nil || fi.IsDir() {
					continue
				}
				base, gz := strings.CutSuffix(m, ".gz")
				addBase(byBase, base, Backup{Path: m, Order: filepath.Base(base), Gzip: gz})
			}
		}
		return byModTime(values(byBase))
	}
}

// byModTime sorts backups by modification time (then name).
func byModTime(bs []Backup) []Backup {
	mt := make(map[string]int64, len(bs))
	for _, b := range bs {
		if fi, err := os.Stat(b.Path); err == nil {
			mt[b.Path] = fi.ModTime().UnixNano()
		}
	}
	sort.SliceStable(bs, func(i, j int) bool {
		if mt[bs[i].Path] != mt[bs[j].Path] {
			return mt[bs[i].Path] < mt[bs[j].Path]
		}
		return bs[i].Order < bs[j].Order
	})
	return bs
}

// Combine lists the backups every finder names (each path once). When
// only one finder names any, its order is kept; otherwise all are ordered
// by modification time.
func Combine(fs ...Finder) Finder {
	return func(path string) []Backup {
		var out []Backup
		seen := map[string]bool{}
		n := 0
		for _, f := range fs {
			bs := f(path)
			if len(bs) > 0 {
				n++
			}
			for _, b := range bs {
				if !seen[b.Path] {
					seen[b.Path] = true
					out = append(out, b)
				}
			}
		}
		if n > 1 {
			return byModTime(out)
		}
		return out
	}
}

// headKey identifies a version of a file for the head cache.
type headKey struct {
	dev, ino    uint64
	size, mtime int64
	gz          bool
}

// candidate is a listed backup with what identifies it.
type candidate struct {
	Backup
	info  os.FileInfo
	head  []byte // first bytes of its (decompressed) content, up to PrefixLen
	mtime int64
}

// heads reads the first PrefixLen bytes of each backup (decompressed for
// .gz), cached by device, inode, size and modification time.
func (t *Tailer) candidates() []candidate {
	return listCandidates(func() []Backup { return t.o.Backups(t.o.Path) }, &t.headCache)
}

// listCandidates lists the backups and reads their heads. A backup listed
// and gone before it was looked at (compressed in between: the plain file
// removed once its .gz was written, and the .gz not in the listing) makes
// it list again, so that the content is found under its new name. The
// same names gone again are names the finder lists that do not exist (a
// dangling symlink a glob matches): not listed again for them.
func listCandidates(list func() []Backup, headCache *map[headKey][]byte) []candidate {
	var before []string
	for try := 1; ; try++ {
		out, gone := candidatesIn(list(), headCache)
		if len(gone) == 0 || try >= relists || slices.Equal(gone, before) {
			return out
		}
		before = gone
	}
}

// candidatesIn is candidates for the backups bs with the head cache given
// (the lister keeps its own: the tailer's is not shared between
// goroutines). gone names those of bs that do not exist.
func candidatesIn(bs []Backup, headCache *map[headKey][]byte) (out []candidate, gone []string) {
	out = make([]candidate, 0, len(bs))
	keep := make(map[headKey]bool, len(bs))
	for _, b := range bs {
		fi, err := os.Stat(b.Path)
		if errors.Is(err, fs.ErrNotExist) {
			gone = append(gone, b.Path)
		}
		if err != nil || fi.IsDir() {
			continue
		}
		dev, ino := DevIno(fi)
		k := headKey{dev, ino, fi.Size(), fi.ModTime().UnixNano(), b.Gzip}
		h, ok := (*headCache)[k]
		if !ok {
			h, err = headOf(b)
			if errors.Is(err, fs.ErrNotExist) {
				gone = append(gone, b.Path)
			}
			if err != nil {
				continue
			}
			if *headCache == nil {
				*headCache = map[headKey][]byte{}
			}
			(*headCache)[k] = h
		}
		keep[k] = true
		out = append(out, candidate{Backup: b, info: fi, head: h, mtime: fi.ModTime().UnixNano()})
	}
	for k := range *headCache {
		if !keep[k] {
			delete(*headCache, k)
		}
	}
	return out, gone
}

// headOf reads the first PrefixLen bytes of the file at b (decompressed
// for .gz).
func headOf(b Backup) ([]byte, error) {
	f, err := os.Open(b.Path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return PrefixOf(f, PrefixLen, b.Gzip)
}

// PrefixOf reads up to n bytes from the start of f, decompressed when gz:
// what a fingerprint covers.
func PrefixOf(f *os.File, n int, gz bool) ([]byte, error) {
	if !gz {
		return readPrefix(f, n)
	}
	zr, err := gzip.NewReader(bufio.NewReader(io.NewSectionReader(f, 0, 1<<62)))
	if err != nil {
		return nil, err
	}
	defer zr.Close()
	buf := make([]byte, n)
	got, err := io.ReadFull(zr, buf)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, err
	}
	return buf[:got], nil
}

// gzSize returns the decompressed size a gzip file records in its trailer
// (modulo 4 GiB), or its own size when it cannot be read.
func gzSize(f *os.File, size int64) int64 {
	if size < 18 {
		return size
	}
	var b [4]byte
	if _, err := f.ReadAt(b[:], size-4); err != nil {
		return size
	}
	return int64(uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24)
}

// matches reports whether content starting with head is the content an
// identity with fingerprint (fpLen, fp) was taken from.
func matches(head []byte, fpLen int, fp uint64) bool {
	return fpLen > 0 && len(head) >= fpLen && Fingerprint(head[:fpLen]) == fp
}

// Begins reports whether content starting with head is the content id
// was taken from (false when id has no fingerprint).
func (id ID) Begins(head []byte) bool { return matches(head, id.FPLen, id.FP) }

// copyOfLive reports whether backup c may be a copy of the live file
// being made (copytruncate before its truncate): the live file begins with
// the backup's whole head (a copy is never longer than the file it is
// taken from), and a plain copy is not larger than the live file. A live
// file shorter than the backup's head is not enough: every audit event
// begins with the same ~80 bytes, so a new live file holding a partial
// first write begins like every backup.
func copyOfLive(c candidate, liveInfo os.FileInfo, liveHead []byte) bool {
	if len(c.head) == 0 || len(liveHead) < len(c.head) || string(liveHead[:len(c.head)]) != string(c.head) {
		return false
	}
	return c.Gzip || liveInfo == nil || c.info.Size() <= liveInfo.Size()
}

func describe(b Backup) string {
	if b.Gzip {
		return fmt.Sprintf("%s (compressed)", b.Path)
	}
	return b.Path
}
