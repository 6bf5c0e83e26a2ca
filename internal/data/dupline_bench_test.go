package data_test

import (
	"bytes"
	"hash/maphash"
	"testing"

	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/testutil"
)

// BenchmarkDupLine measures the identity of an event for the duplicate
// filters (data.DupLine, hashed as the rules hash it) over ~32 MiB of
// generated events, a quarter of them with a \u0026 in their requestURI.
// cpu-ns/event (the process's CPU time: the machine is shared, and GC
// work on other threads counts) is the figure to compare.
func BenchmarkDupLine(b *testing.B) {
	benchDupLine(b, func(e *data.Event) []byte { return data.DupLine(e) })
}

// BenchmarkDupLineBuf is BenchmarkDupLine with the line built in a
// buffer kept from call to call (data.DupLineBuf), as the rules and query
// build it.
func BenchmarkDupLineBuf(b *testing.B) {
	var buf []byte
	benchDupLine(b, func(e *data.Event) []byte { return data.DupLineBuf(e, &buf) })
}

func benchDupLine(b *testing.B, dupLine func(*data.Event) []byte) {
	in := benchLines(b, 32<<20)
	lines := bytes.Split(bytes.TrimSuffix(in, []byte{'\n'}), []byte{'\n'})
	evs := make([]data.Event, 0, len(lines))
	var d data.Decoder
	for _, l := range lines {
		var rej *data.Reject
		if evs, rej = d.Decode(evs, l, data.Origin{}); rej != nil {
			b.Fatal(rej.Reason)
		}
	}
	seed := maphash.MakeSeed()
	var sum uint64
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	b.ResetTimer()
	cpu := testutil.CPUTime()
	for b.Loop() {
		for i := range evs {
			sum += maphash.Bytes(seed, dupLine(&evs[i]))
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(evs)), "ns/event")
	b.ReportMetric(float64(testutil.CPUTime()-cpu)/float64(b.N*len(evs)), "cpu-ns/event")
	_ = sum
}
