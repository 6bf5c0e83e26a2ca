package evidence

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

func sumOf(b []byte) string { h := sha256.Sum256(b); return hex.EncodeToString(h[:]) }

// TestFingerprintFile: the size, modification time and sha256 of the
// file; cached by path, size and modification time, so a change is
// hashed again.
func TestFingerprintFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "audit.log")
	os.WriteFile(p, []byte("a\nb\n"), 0o644)
	fp, err := CachedFingerprint(p)
	if err != nil || fp.Size != 4 || fp.SHA256 != sumOf([]byte("a\nb\n")) || fp.ModTime.IsZero() {
		t.Fatalf("%+v %v", fp, err)
	}
	os.WriteFile(p, []byte("a\nX\n"), 0o644)
	os.Chtimes(p, time.Now(), fp.ModTime.Add(time.Second))
	fp2, err := CachedFingerprint(p)
	if err != nil || fp2.SHA256 != sumOf([]byte("a\nX\n")) {
		t.Fatalf("after a change: %+v %v", fp2, err)
	}
	if _, err := FingerprintFile(t.TempDir()); err == nil {
		t.Error("a directory was fingerprinted")
	}
}

// TestHashFileAtEach: one read gives the whole file's sha256 and that of
// its first N bytes for each N it reaches.
func TestHashFileAtEach(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	b := []byte("0123456789")
	os.WriteFile(p, b, 0o644)
	sum, n, pre, err := HashFileAtEach(p, []int64{0, 4, 10, 11})
	if err != nil || n != 10 || sum != sumOf(b) {
		t.Fatalf("%s %d %v", sum, n, err)
	}
	for _, k := range []int64{0, 4, 10} {
		if pre[k] != sumOf(b[:k]) {
			t.Errorf("prefix %d: %s", k, pre[k])
		}
	}
	if _, ok := pre[11]; ok {
		t.Error("a prefix longer than the file")
	}
}

// TestCachedFingerprintConcurrent: sessions asking at once get one
// answer (go test -race).
func TestCachedFingerprintConcurrent(t *testing.T) {
	p := filepath.Join(t.TempDir(), "audit.log")
	b := make([]byte, 1<<20)
	os.WriteFile(p, b, 0o644)
	var wg sync.WaitGroup
	got := make([]Fingerprint, 8)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i], _ = CachedFingerprint(p)
		}()
	}
	wg.Wait()
	for _, fp := range got {
		if fp.SHA256 != sumOf(b) || fp.Size != 1<<20 {
			t.Fatalf("%+v", fp)
		}
	}
}
