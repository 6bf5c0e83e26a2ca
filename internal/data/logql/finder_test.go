package logql

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

func FuzzFinder(f *testing.F) {
	f.Add([]byte(`{"impersonatedUser":{"username":"x"}}`), []byte("impersonatedUser"))
	f.Add([]byte("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab"), []byte("aab"))
	f.Add([]byte("xyz"), []byte(""))
	f.Add([]byte("x"), []byte("xy"))
	f.Add([]byte("QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQaQ"), []byte("aQ"))
	f.Fuzz(func(t *testing.T, line, lit []byte) {
		fd := newFinder(lit)
		if got, want := fd.in(line), bytes.Contains(line, lit); got != want {
			t.Fatalf("finder(%q) in %q = %v, bytes.Contains says %v", lit, line, got, want)
		}
	})
}

// Lines where the rare byte is everywhere exercise the fall-back to
// bytes.Index; literals planted at every position, the edges.
func TestFinderRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for iter := 0; iter < 20000; iter++ {
		alpha := []byte("aQ\"{x")[:1+rng.IntN(5)]
		line := make([]byte, rng.IntN(200))
		for i := range line {
			line[i] = alpha[rng.IntN(len(alpha))]
		}
		lit := make([]byte, 1+rng.IntN(6))
		for i := range lit {
			lit[i] = alpha[rng.IntN(len(alpha))]
		}
		if len(line) >= len(lit) && rng.IntN(2) == 0 {
			copy(line[rng.IntN(len(line)-len(lit)+1):], lit)
		}
		fd := newFinder(lit)
		if got, want := fd.in(line), bytes.Contains(line, lit); got != want {
			t.Fatalf("finder(%q) in %q = %v, want %v", lit, line, got, want)
		}
	}
}

func BenchmarkFinder(b *testing.B) {
	line := bytes.Repeat([]byte(`{"kind":"Event","user":{"username":"system:serviceaccount:kube-system:deployment-controller","uid":"1"},"objectRef":{"resource":"pods","namespace":"default","name":"api-7d9f"},"verb":"get","requestURI":"/api/v1/namespaces/default/pods/api-7d9f","userAgent":"kube-controller-manager/v1.30.2 (linux/amd64) kubernetes/39683505/system:serviceaccount:kube-system:deployment-controller"},`), 4)
	lit := []byte("impersonatedUser")
	b.Run("finder", func(b *testing.B) {
		fd := newFinder(lit)
		b.SetBytes(int64(len(line)))
		for b.Loop() {
			fd.in(line)
		}
	})
	b.Run("bytes.Contains", func(b *testing.B) {
		b.SetBytes(int64(len(line)))
		for b.Loop() {
			bytes.Contains(line, lit)
		}
	})
}
