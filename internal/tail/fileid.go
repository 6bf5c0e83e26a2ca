package tail

// File identity: whether two files are the same file, by device and inode
// plus a checksum of the file's first bytes, as Vector's fingerprinter
// does. The inode survives renames (lumberjack's rotation); the checksum
// catches inode reuse after a delete and a copytruncate that rewrote the
// start, and finds a rotated file again after it was compressed (the
// checksum of its decompressed start).

import (
	"errors"
	"fmt"
	"hash/crc64"
	"io"
	"os"
	"syscall"
)

// PrefixLen is how many leading bytes are fingerprinted (fewer while the
// file is shorter).
const PrefixLen = 1024

var table = crc64.MakeTable(crc64.ECMA)

// ID identifies a file. It is stored in ship's checkpoints (JSON).
type ID struct {
	Dev uint64 `json:"dev"`
	Ino uint64 `json:"ino"`
	// FPLen is how many leading bytes FP covers (0..PrefixLen).
	FPLen int `json:"fp_len"`
	// FP is the CRC-64 of the first FPLen bytes.
	FP uint64 `json:"fp"`
}

// String renders the id for logs.
func (id ID) String() string {
	return fmt.Sprintf("dev=%d ino=%d fp=%016x/%d", id.Dev, id.Ino, id.FP, id.FPLen)
}

// DevIno returns the device and inode of fi (0, 0 when unavailable).
func DevIno(fi os.FileInfo) (dev, ino uint64) {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return uint64(st.Dev), st.Ino //nolint:unconvert // Dev is int32 on some platforms
	}
	return 0, 0
}

// links returns the number of names fi has (0: deleted, still open; 1
// when unavailable).
func links(fi os.FileInfo) uint64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return uint64(st.Nlink) //nolint:unconvert // Nlink is uint16/uint32 on some platforms
	}
	return 1
}

// Identify computes the id of an open file, fingerprinting up to limit bytes
// (capped at PrefixLen). Pass the bytes already consumed as limit so the
// fingerprint covers only data that will not change under a growing file.
func Identify(f *os.File, limit int64) (ID, error) {
	fi, err := f.Stat()
	if err != nil {
		return ID{}, fmt.Errorf("stat %s: %w", f.Name(), err)
	}
	dev, ino := DevIno(fi)
	id := ID{Dev: dev, Ino: ino}
	n := min(limit, PrefixLen, fi.Size())
	if n <= 0 {
		return id, nil
	}
	buf := make([]byte, n)
	got, err := f.ReadAt(buf, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return ID{}, fmt.Errorf("read %s: %w", f.Name(), err)
	}
	id.FPLen = got
	id.FP = crc64.Checksum(buf[:got], table)
	return id, nil
}

// Matches reports whether the open file f is the file id was taken from:
// same device and inode, and its first id.FPLen bytes have the same
// checksum.
func (id ID) Matches(f *os.File) (bool, error) {
	fi, err := f.Stat()
	if err != nil {
		return false, fmt.Errorf("stat %s: %w", f.Name(), err)
	}
	dev, ino := DevIno(fi)
	if dev != id.Dev || ino != id.Ino {
		return false, nil
	}
	if id.FPLen == 0 {
		return true, nil
	}
	if fi.Size() < int64(id.FPLen) {
		return false, nil
	}
	buf := make([]byte, id.FPLen)
	if _, err := f.ReadAt(buf, 0); err != nil && !errors.Is(err, io.EOF) {
		return false, fmt.Errorf("read %s: %w", f.Name(), err)
	}
	return crc64.Checksum(buf, table) == id.FP, nil
}

// MatchesPath opens path and reports whether it is the file id names.
func (id ID) MatchesPath(path string) (bool, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return false, nil
		}
		return false, err
	}
	defer f.Close()
	return id.Matches(f)
}

// Fingerprint returns the checksum of b (the first bytes of a file).
func Fingerprint(b []byte) uint64 { return crc64.Checksum(b, table) }
