package data_test

import (
	"bytes"
	"testing"

	"github.com/audittui/audittui/internal/data"
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

// BenchmarkDecode measures the decoder alone, one core.
func BenchmarkDecode(b *testing.B) {
	in := benchLines(b, 32<<20)
	lines := bytes.Split(bytes.TrimSuffix(in, []byte{'\n'}), []byte{'\n'})
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	b.ResetTimer()
	var d data.Decoder
	evs := make([]data.Event, 0, 1)
	for i := 0; i < b.N; i++ {
		for _, l := range lines {
			var rej *data.Reject
			evs, rej = d.Decode(evs[:0], l, data.Origin{})
			if rej != nil {
				b.Fatal(rej.Reason)
			}
		}
	}
}
