package evidence

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/audittui/audittui/internal/data"
)

// Finding a file again after a rotation, by its content: the one matcher
// that `audittui report` (a case's source rotated since the case recorded
// it) and the TUI (a followed file rotated while it is read, so that its
// events are cited where their bytes are now) share. A file holds the
// bytes a Fingerprint names when its first Size bytes, as stored or
// decompressed (a .gz or .zst file), have that sha256: the same bytes, or
// those bytes followed by more (a live file that grew after they were
// recorded, then was rotated).

// HeadLen is how many leading bytes a Fingerprint's Head holds at most.
const HeadLen = 4096

// MaxSiblings bounds the files beside a file that are compared with its
// fingerprint.
const MaxSiblings = 64

// RotationSibling reports whether name, in the directory of the file
// named base, is a name the file could have been rotated, moved or
// compressed to: base.1, base.1.gz, base.gz (logrotate, gzip),
// base-DATE[.gz|.zst] (logrotate's dateext: audit.log-20261207, as ship's
// tail.Logrotate accepts), or STEM-TIMESTAMP.EXT[.gz|.zst] for base
// STEM.EXT (the apiserver's audit-2026-11-20T08-00-00.000.log).
func RotationSibling(base, name string) bool {
	if name == base {
		return false
	}
	if strings.HasPrefix(name, base+".") {
		return true
	}
	if rest, ok := strings.CutPrefix(name, base+"-"); ok && rest != "" && rest[0] >= '0' && rest[0] <= '9' {
		return true
	}
	stem, ext := base, ""
	if i := strings.LastIndexByte(base, '.'); i > 0 {
		stem, ext = base[:i], base[i:]
	}
	rest, ok := strings.CutPrefix(name, stem+"-")
	if !ok {
		return false
	}
	for _, z := range []string{"", ".gz", ".zst"} {
		if len(rest) > len(ext+z) && strings.HasSuffix(rest, ext+z) {
			return true
		}
	}
	return false
}

// Siblings are the regular files beside path named as its rotation names
// them (RotationSibling), in name order, at most MaxSiblings.
func Siblings(path string) []string {
	dir, base := filepath.Split(path)
	ents, err := os.ReadDir(filepath.Clean(dir + "."))
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range ents {
		if e.Type().IsRegular() && RotationSibling(base, e.Name()) {
			out = append(out, filepath.Join(dir, e.Name()))
		}
	}
	slices.Sort(out)
	if len(out) > MaxSiblings {
		out = out[:MaxSiblings]
	}
	return out
}

// FindRotated looks beside path (Siblings; those in first, when beside
// it, first) for a file that holds the bytes fp names (Holds, as stored
// or decompressed), and returns it and how it holds them ("" when none
// does).
func FindRotated(path string, fp Fingerprint, first ...string) (found, how string) {
	cands := Siblings(path)
	slices.SortStableFunc(cands, func(a, b string) int {
		ia, ib := slices.Index(first, a), slices.Index(first, b)
		switch {
		case ia == ib:
			return 0
		case ia < 0:
			return 1
		case ib < 0:
			return -1
		}
		return ia - ib
	})
	for _, p := range cands {
		if how, ok := Holds(p, fp, true); ok {
			return p, how
		}
	}
	return "", ""
}

// Holds reports whether the file at path holds the bytes fp names: the
// same bytes, or those bytes followed by more (a live file that grew after
// they were recorded, then was rotated), as stored (raw) or decompressed
// (a .gz or .zst file). When fp has a Head, a file that does not begin
// with it is passed over after reading that much. It reads no further
// than fp.Size bytes and one; how says which.
func Holds(path string, fp Fingerprint, raw bool) (how string, ok bool) {
	f, err := os.Open(path)
	if err != nil {
		return "", false
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		return "", false
	}
	if raw && fi.Size() >= fp.Size && begins(f, fp.Head) {
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return "", false
		}
		if prefixSHA(f, fp.Size) == fp.SHA256 {
			if fi.Size() == fp.Size {
				return "the same bytes", true
			}
			return fmt.Sprintf("followed by %d bytes appended since", fi.Size()-fp.Size), true
		}
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return "", false
	}
	r, kind, done, err := data.Decompress(f)
	if err != nil || kind == "" {
		return "", false
	}
	defer done()
	head := make([]byte, len(fp.Head))
	if n, _ := io.ReadFull(r, head); n < len(head) || !bytes.Equal(head, fp.Head) {
		return "", false
	}
	if prefixSHA(io.MultiReader(bytes.NewReader(head), r), fp.Size) != fp.SHA256 {
		return "", false
	}
	if n, _ := io.ReadFull(r, make([]byte, 1)); n == 0 {
		return kind + "-compressed: decompressed, the same bytes", true
	}
	return kind + "-compressed: decompressed, those bytes followed by more", true
}

// begins reports whether r's first bytes are head (true for no head).
func begins(r io.Reader, head []byte) bool {
	if len(head) == 0 {
		return true
	}
	b := make([]byte, len(head))
	n, _ := io.ReadFull(r, b)
	return n == len(head) && bytes.Equal(b, head)
}

// prefixSHA is the sha256 of the first n bytes of r ("" when r is
// shorter or cannot be read).
func prefixSHA(r io.Reader, n int64) string {
	h := sha256.New()
	if k, err := io.Copy(h, io.LimitReader(r, n)); err != nil || k != n {
		return ""
	}
	return hex.EncodeToString(h.Sum(nil))
}

// FingerprintPrefix fingerprints the first n bytes of the open file f (a
// file read up to there, perhaps renamed or deleted since: the descriptor
// still reads it), with their Head.
func FingerprintPrefix(f *os.File, n int64) (Fingerprint, error) {
	h := sha256.New()
	head := make([]byte, min(n, HeadLen))
	k, err := f.ReadAt(head, 0)
	if int64(k) < int64(len(head)) {
		if err == nil {
			err = io.ErrUnexpectedEOF
		}
		return Fingerprint{}, fmt.Errorf("read %s: %w", f.Name(), err)
	}
	h.Write(head)
	if n > int64(len(head)) {
		got, err := io.Copy(h, io.NewSectionReader(f, int64(len(head)), n-int64(len(head))))
		if err != nil {
			return Fingerprint{}, fmt.Errorf("read %s: %w", f.Name(), err)
		}
		if got != n-int64(len(head)) {
			return Fingerprint{}, fmt.Errorf("read %s: %d of its first %d bytes (cut since they were read?)", f.Name(), got+int64(len(head)), n)
		}
	}
	return Fingerprint{Size: n, SHA256: hex.EncodeToString(h.Sum(nil)), Head: head}, nil
}
