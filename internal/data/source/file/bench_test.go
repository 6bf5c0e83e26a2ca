package file_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"testing"

	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/data/source/file"
	"github.com/audittui/audittui/internal/gen"
)

// benchLines returns ~size bytes of generated audit events.
func benchLines(b *testing.B, size int64) []byte {
	b.Helper()
	var buf bytes.Buffer
	g := gen.New(gen.Config{Seed: 1, Stories: true})
	for int64(buf.Len()) < size {
		buf.Write(g.Next().Line)
	}
	return buf.Bytes()
}

// BenchmarkReadFile measures the parallel file reader (all cores), with
// and without the literal prefilter of the seed's secrets query. Set
// AUDITTUI_BENCH_FILE to a big generated file (bench/query.sh makes one).
func BenchmarkReadFile(b *testing.B) {
	path := os.Getenv("AUDITTUI_BENCH_FILE")
	if path == "" {
		path = b.TempDir() + "/audit.log"
		if err := os.WriteFile(path, benchLines(b, 64<<20), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	fi, _ := os.Stat(path)
	for _, tc := range []struct {
		name string
		pf   *data.Prefilter
	}{
		{"all", nil},
		{"prefilter-secrets", &data.Prefilter{All: [][]byte{[]byte(`"secrets"`)}}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.SetBytes(fi.Size())
			for i := 0; i < b.N; i++ {
				src, err := file.New(path, file.Options{})
				if err != nil {
					b.Fatal(err)
				}
				st, _ := src.Open(context.Background(), data.ReadOptions{Prefilter: tc.pf})
				n := 0
				for {
					bt, err := st.Next(context.Background())
					if errors.Is(err, io.EOF) {
						break
					}
					if err != nil {
						b.Fatal(err)
					}
					n += len(bt.Events)
				}
				st.Close()
				b.ReportMetric(float64(n), "events")
			}
		})
	}
}
