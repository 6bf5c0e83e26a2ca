package tail

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/klauspost/compress/gzip"
)

// Backup is a rotated copy of the live file.
type Backup struct {
	Path string
	// Order sorts backups in rotation order, oldest first (for lumberjack,
	// the file name without .gz, which carries the rotation time).
	Order string
	// Gzip marks a compressed backup: it is read through gzip, and found
	// by the fingerprint of its decompressed start.
	Gzip bool
}

// A Finder lists the rotated copies of the live file at path, in rotation
// order (oldest first). It only names candidates: which one is the file a
// position was taken in is decided by identity (device, inode and
// fingerprint; for a .gz the fingerprint alone), so a finder may list
// more than the true backups.
type Finder func(path string) []Backup

// isFile reports whether b is the file described by fi.
func (b Backup) isFile(fi os.FileInfo) bool {
	if fi == nil || b.Gzip {
		return false
	}
	bi, err := os.Stat(b.Path)
	return err == nil && os.SameFile(bi, fi)
}

// Lumberjack is the Finder for the apiserver's rotation: backups named
// <name>-<time><ext> next to <name><ext>, gzipped to <that>.gz with
// --audit-log-compress. While lumberjack compresses, a backup exists both
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
		if old, ok := byBase[base]; ok && !old.Gzip {
			continue
		}
		byBase[base] = Backup{Path: filepath.Join(dir, n), Order: base, Gzip: gz}
	}
	out := make([]Backup, 0, len(byBase))
	for _, b := range byBase {
		out = append(out, b)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Order < out[j].Order })
	return out
}

// locate returns the index of the backup that is the file described by
// info (same device and inode) or id (device, inode and fingerprint; for
// a .gz, the fingerprint of its decompressed start), or -1. The live file
// is never a backup.
func locate(bs []Backup, info os.FileInfo, id ID, live os.FileInfo) int {
	for i, b := range bs {
		if b.Gzip {
			continue
		}
		fi, err := os.Stat(b.Path)
		if err != nil || (live != nil && os.SameFile(fi, live)) {
			continue
		}
		if info != nil && os.SameFile(fi, info) {
			return i
		}
		if id.Ino != 0 {
			if ok, _ := id.MatchesPath(b.Path); ok {
				return i
			}
		}
	}
	if id.FPLen == 0 {
		return -1
	}
	for i, b := range bs {
		if !b.Gzip {
			continue
		}
		prefix, err := gzPrefix(b.Path, id.FPLen)
		if err == nil && id.MatchesPrefix(prefix) {
			return i
		}
	}
	return -1
}

func gzPrefix(p string, n int) ([]byte, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(bufio.NewReader(f))
	if err != nil {
		return nil, err
	}
	buf := make([]byte, n)
	got, err := io.ReadFull(zr, buf)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, err
	}
	return buf[:got], nil
}

// gzState identifies the .gz being read: positions carry its device and
// inode with the fingerprint of its decompressed start, so a checkpoint
// taken inside it is found again.
type gzState struct {
	dev, ino uint64
	prefix   []byte
}

func (g *gzState) position(name string, end int64) Position {
	n := min(int64(len(g.prefix)), end)
	id := ID{Dev: g.dev, Ino: g.ino, FPLen: int(n), FP: Fingerprint(g.prefix[:n])}
	return Position{Path: name, ID: id, Offset: end}
}

// readGz reads a compressed backup from decompressed offset off to its
// end. A damaged .gz is reported and read as far as it goes.
func (t *Tailer) readGz(ctx context.Context, p string, off int64, emit Emit) error {
	f, err := os.Open(p)
	if err != nil {
		t.log.Warn("backup vanished before it could be read", "path", p, "err", err)
		return nil
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("stat %s: %w", p, err)
	}
	zr, err := gzip.NewReader(bufio.NewReaderSize(f, 64<<10))
	if err != nil {
		t.log.Error("cannot read compressed backup", "path", p, "err", err)
		return nil
	}
	t.closeFile()
	dev, ino := DevIno(fi)
	g := &gzState{dev: dev, ino: ino}
	t.name, t.readPos, t.partial, t.long, t.gz = p, 0, t.partial[:0], false, g
	defer func() { t.gz = nil }()
	pre := make([]byte, PrefixLen)
	n, err := io.ReadFull(zr, pre)
	g.prefix = pre[:n]
	eof := err != nil
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		t.log.Error("damaged compressed backup", "path", p, "err", err)
	}
	// Skip to off.
	if off < int64(n) {
		t.readPos = off
		if err := t.consume(ctx, g.prefix[off:], emit); err != nil {
			return err
		}
	} else {
		skip := off - int64(n)
		if !eof {
			if _, err := io.CopyN(io.Discard, zr, skip); err != nil {
				t.log.Warn("compressed backup is shorter than the checkpoint", "path", p, "offset", off)
				eof = true
			}
		}
		t.readPos = off
	}
	if t.buf == nil {
		t.buf = make([]byte, t.o.ReadSize)
	}
	for !eof {
		if err := ctx.Err(); err != nil {
			return err
		}
		n, err := zr.Read(t.buf)
		if n > 0 {
			if e := t.consume(ctx, t.buf[:n], emit); e != nil {
				return e
			}
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				t.log.Error("damaged compressed backup; read as far as it goes", "path", p, "err", err)
			}
			break
		}
	}
	return t.finishFile(ctx, emit)
}
