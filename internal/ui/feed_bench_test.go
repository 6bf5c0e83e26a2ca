package ui

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/gen"
	"github.com/audittui/audittui/internal/testutil"
)

// genBatches decodes ~size bytes of generated audit events (as
// cmd/auditgen writes the benchmark file) into batches of about the
// reader's size, the events aliasing one buffer as a read's do.
func genBatches(b *testing.B, size int) []*data.Batch {
	b.Helper()
	var buf bytes.Buffer
	g := gen.New(gen.Config{Seed: 1, Stories: true})
	for buf.Len() < size {
		buf.Write(g.Next().Line)
	}
	// A seekable file, as the benchmark file is: the index reads events
	// back from it rather than spilling them.
	path := filepath.Join(b.TempDir(), "gen.log")
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		b.Fatal(err)
	}
	info := &data.SourceInfo{Name: path, Seekable: true, Labels: data.Labels{{Name: "job", Value: "audit"}}}
	var d data.Decoder
	var out []*data.Batch
	cur := &data.Batch{}
	in, off, line := buf.Bytes(), int64(0), int64(1)
	for len(in) > 0 {
		l, rest, _ := bytes.Cut(in, []byte{'\n'})
		var rej *data.Reject
		cur.Events, rej = d.Decode(cur.Events, l, data.Origin{Source: info, Line: line, Offset: off})
		if rej != nil {
			b.Fatal(rej.Reason)
		}
		cur.Bytes += int64(len(l)) + 1
		if cur.Bytes >= 2<<20 {
			out = append(out, cur)
			cur = &data.Batch{}
		}
		off += int64(len(l)) + 1
		line++
		in = rest
	}
	return append(out, cur)
}

// BenchmarkIndexAdd measures Index.Add over ~64 MB of generated events
// decoded in advance (more than the processor's caches hold, as on a
// big file): the columns, the dictionaries, duplicates and the body
// names of the filter's completion.
func BenchmarkIndexAdd(b *testing.B) {
	batches := genBatches(b, 64<<20)
	n := 0
	for _, bt := range batches {
		n += len(bt.Events)
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := testutil.CPUTime()
	for b.Loop() {
		ix := NewIndex(b.TempDir(), nil)
		for _, bt := range batches {
			if err := ix.Add(bt); err != nil {
				b.Fatal(err)
			}
		}
		ix.Close()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/event")
	// The CPU time too: on a loaded machine the wall time is not the work.
	b.ReportMetric(float64((testutil.CPUTime()-cpu0).Nanoseconds())/float64(b.N*n), "cpu-ns/event")
}

// BenchmarkBodyNames measures collecting the body names of the events
// of ~64 MB of generated events (bodyNames.add, as Index.Add does).
func BenchmarkBodyNames(b *testing.B) {
	batches := genBatches(b, 64<<20)
	var evs []*data.Event
	for _, bt := range batches {
		for i := range bt.Events {
			if e := &bt.Events[i]; e.HasRequestObject || e.HasResponseObject {
				evs = append(evs, e)
			}
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	names := 0
	cpu0 := testutil.CPUTime()
	for b.Loop() {
		var bn bodyNames
		for _, e := range evs {
			bn.add(e)
		}
		names = len(bn.names)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(evs)), "ns/body-event")
	b.ReportMetric(float64((testutil.CPUTime()-cpu0).Nanoseconds())/float64(b.N*len(evs)), "cpu-ns/body-event")
	b.ReportMetric(float64(names), "names")
}
