package evidence

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/audittui/audittui/internal/data"
)

// Fingerprint is what a case records of a local source file when a
// session opens it: its size, its modification time and the sha256 of its
// bytes as stored (a .gz file's compressed bytes). A file still being
// written (a live audit.log) grows past Size; SHA256 is of its first Size
// bytes, so a report tells growth (those bytes unchanged) from a change.
type Fingerprint struct {
	Size    int64
	SHA256  string
	ModTime time.Time
	// Head, when set, is the first bytes of those Size (up to HeadLen):
	// Holds passes over a file that does not begin with them without
	// hashing it (rotated.go).
	Head []byte
	// ContentSHA256 and ContentSize, for a compressed file (gzip, zstd),
	// are the sha256 and size of its bytes decompressed: a file
	// recompressed since (other stored bytes, the same content) is told
	// from one changed. "" for a plain file, or one that does not
	// decompress whole.
	ContentSHA256 string
	ContentSize   int64
}

// FingerprintFile fingerprints the file at path: its size and
// modification time when opened, and the sha256 of that many bytes (what
// was appended while it was read is left out).
func FingerprintFile(path string) (Fingerprint, error) {
	f, err := os.Open(path)
	if err != nil {
		return Fingerprint{}, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return Fingerprint{}, err
	}
	if !fi.Mode().IsRegular() {
		return Fingerprint{}, fmt.Errorf("%s: not a regular file", path)
	}
	h := sha256.New()
	cr := &countReader{r: io.TeeReader(io.LimitReader(f, fi.Size()), h)}
	// One read: the stored bytes hashed as they pass to the decompressor
	// (a compressed file's content is hashed too), the rest after it.
	content, contentSize := contentSHA(cr)
	if _, err := io.Copy(io.Discard, cr); err != nil {
		return Fingerprint{}, fmt.Errorf("read %s: %w", path, err)
	}
	if cr.err != nil {
		return Fingerprint{}, fmt.Errorf("read %s: %w", path, cr.err)
	}
	n := cr.n
	if n != fi.Size() {
		return Fingerprint{}, fmt.Errorf("read %s: %d of its %d bytes (truncated while read?)", path, n, fi.Size())
	}
	return Fingerprint{Size: n, SHA256: hex.EncodeToString(h.Sum(nil)), ModTime: fi.ModTime().UTC(),
		ContentSHA256: content, ContentSize: contentSize}, nil
}

// countReader counts the bytes read and keeps the first read error.
type countReader struct {
	r   io.Reader
	n   int64
	err error
}

func (c *countReader) Read(p []byte) (int, error) {
	k, err := c.r.Read(p)
	c.n += int64(k)
	if err != nil && !errors.Is(err, io.EOF) && c.err == nil {
		c.err = err
	}
	return k, err
}

// contentSHA is the sha256 and size of r's bytes decompressed when r is
// gzip or zstd ("" when it is neither, or does not decompress whole).
func contentSHA(r io.Reader) (string, int64) {
	dr, kind, done, err := data.Decompress(r)
	if err != nil || kind == "" {
		return "", 0
	}
	defer done()
	h := sha256.New()
	n, err := io.Copy(h, dr)
	if err != nil {
		return "", 0
	}
	return hex.EncodeToString(h.Sum(nil)), n
}

// ContentSHA256 is the sha256 and size of the decompressed bytes of the
// compressed file at path ("" when it is not gzip or zstd, or does not
// decompress whole).
func ContentSHA256(path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	sum, n := contentSHA(f)
	return sum, n, nil
}

// fingerprints caches FingerprintFile by path, size and modification time
// for the process: a file is hashed once however many sessions and cases
// open it (audittui serve), and again only when it changed.
var fingerprints = struct {
	sync.Mutex
	m map[fpKey]*fpEntry
}{m: map[fpKey]*fpEntry{}}

type fpKey struct {
	path  string
	size  int64
	mtime int64
}

type fpEntry struct {
	once sync.Once
	fp   Fingerprint
	err  error
}

// CachedFingerprint is FingerprintFile, computed once per path, size and
// modification time (concurrent callers wait for the one hashing).
func CachedFingerprint(path string) (Fingerprint, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return Fingerprint{}, err
	}
	k := fpKey{path, fi.Size(), fi.ModTime().UnixNano()}
	fingerprints.Lock()
	e := fingerprints.m[k]
	if e == nil {
		e = &fpEntry{}
		fingerprints.m[k] = e
	}
	fingerprints.Unlock()
	e.once.Do(func() { e.fp, e.err = FingerprintFile(path) })
	if e.err != nil {
		fingerprints.Lock()
		delete(fingerprints.m, k) // try again next time
		fingerprints.Unlock()
	}
	return e.fp, e.err
}

// HashFileAtEach returns, in one read, the sha256 and size of a file's
// bytes as stored and the sha256 of its first N bytes for each N of at
// (sorted, ascending) that the file reaches.
func HashFileAtEach(path string, at []int64) (sum string, size int64, prefixes map[int64]string, err error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, nil, err
	}
	defer f.Close()
	h := sha256.New()
	prefixes = map[int64]string{}
	for _, n := range at {
		if n < size {
			continue
		}
		k, err := io.Copy(h, io.LimitReader(f, n-size))
		size += k
		if err != nil {
			return "", size, nil, fmt.Errorf("read %s: %w", path, err)
		}
		if size < n {
			break // shorter than n
		}
		prefixes[n] = hex.EncodeToString(h.Sum(nil))
	}
	k, err := io.Copy(h, f)
	size += k
	if err != nil {
		return "", size, nil, fmt.Errorf("read %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), size, prefixes, nil
}

// PrefixSHA256 returns the sha256 of the first n bytes of the file at
// path, as stored (an error when the file is shorter).
func PrefixSHA256(path string, n int64) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	k, err := io.Copy(h, io.LimitReader(f, n))
	if err != nil {
		return "", fmt.Errorf("read %s: %w", path, err)
	}
	if k < n {
		return "", fmt.Errorf("read %s: %d of %d bytes", path, k, n)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
