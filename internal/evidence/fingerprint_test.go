package evidence

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
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

// TestFingerprintCompressedContent: a gzip or zstd file's fingerprint
// holds the sha256 and size of its bytes decompressed besides those of its
// bytes as stored, so a file recompressed since (other stored bytes, the
// same content) is told from a changed one; a plain file's has none.
func TestFingerprintCompressedContent(t *testing.T) {
	dir := t.TempDir()
	content := []byte(strings.Repeat("{\"kind\":\"Event\",\"auditID\":\"a\"}\n", 200))
	gz := func(level int) []byte {
		var b bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&b, level)
		zw.Write(content)
		zw.Close()
		return b.Bytes()
	}
	var zb bytes.Buffer
	zw, _ := zstd.NewWriter(&zb)
	zw.Write(content)
	zw.Close()
	for name, stored := range map[string][]byte{"fast.gz": gz(gzip.BestSpeed), "best.gz": gz(gzip.BestCompression), "a.zst": zb.Bytes()} {
		p := filepath.Join(dir, name)
		os.WriteFile(p, stored, 0o644)
		fp, err := FingerprintFile(p)
		if err != nil || fp.Size != int64(len(stored)) || fp.SHA256 != sumOf(stored) || fp.ContentSHA256 != sumOf(content) || fp.ContentSize != int64(len(content)) {
			t.Errorf("%s: %+v %v", name, fp, err)
		}
		if sum, n, err := ContentSHA256(p); err != nil || sum != sumOf(content) || n != int64(len(content)) {
			t.Errorf("%s: ContentSHA256 %s %d %v", name, sum, n, err)
		}
	}
	p := filepath.Join(dir, "plain.log")
	os.WriteFile(p, content, 0o644)
	if fp, err := FingerprintFile(p); err != nil || fp.SHA256 != sumOf(content) || fp.Size != int64(len(content)) || fp.ContentSHA256 != "" {
		t.Errorf("plain: %+v %v", fp, err)
	}
	// Cut short: the stored bytes are fingerprinted, the content is not.
	cut := gz(gzip.BestSpeed)
	cut = cut[:len(cut)/2]
	p = filepath.Join(dir, "cut.gz")
	os.WriteFile(p, cut, 0o644)
	if fp, err := FingerprintFile(p); err != nil || fp.SHA256 != sumOf(cut) || fp.ContentSHA256 != "" {
		t.Errorf("cut: %+v %v", fp, err)
	}
}
