package data_test

import (
	"bytes"
	"testing"

	"github.com/audittui/audittui/internal/data"
)

// BenchmarkEventField measures Event.Field, the hot path of LogQL label
// filters on decoded events: every known name in turn, plus a name the
// decoder does not keep (known=false).
func BenchmarkEventField(b *testing.B) {
	in := benchLines(b, 1<<20)
	var dec data.Decoder
	var evs []data.Event
	for _, l := range bytes.Split(bytes.TrimSuffix(in, []byte{'\n'}), []byte{'\n'}) {
		evs, _ = dec.Decode(evs, l, data.Origin{})
	}
	names := append(append([]string(nil), data.KnownFields...), "requestObject_spec_replicas")
	b.ReportAllocs()
	i := 0
	n := 0
	for b.Loop() {
		e := &evs[i%len(evs)]
		for _, name := range names {
			if _, ok, _ := e.Field(name); ok {
				n++
			}
		}
		i++
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(names)), "ns/field")
	if n == 0 {
		b.Fatal("no field found")
	}
}
