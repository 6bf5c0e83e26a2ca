package data_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"testing"

	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/gen"
	"github.com/audittui/audittui/internal/testutil"
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
	cpu0 := testutil.CPUTime()
	for i := 0; i < b.N; i++ {
		for _, l := range lines {
			var rej *data.Reject
			evs, rej = d.Decode(evs[:0], l, data.Origin{})
			if rej != nil {
				b.Fatal(rej.Reason)
			}
		}
	}
	// The CPU time too: on a loaded machine the wall time is not the work.
	if cpu := testutil.CPUTime() - cpu0; cpu > 0 {
		b.ReportMetric(float64(b.N)*float64(len(in))/cpu.Seconds()/1e6, "cpu-MB/s")
	}
}

// BenchmarkReadShapes measures the reader of each input shape (all
// cores): JSON lines, concatenated pretty-printed objects (jq . output)
// and a Logs Insights CSV export, each holding the same ~32 MiB of events.
func BenchmarkReadShapes(b *testing.B) {
	in := benchLines(b, 32<<20)
	lines := bytes.Split(bytes.TrimSuffix(in, []byte{'\n'}), []byte{'\n'})
	var pretty, csv bytes.Buffer
	csv.WriteString("@timestamp,@message\n")
	for _, l := range lines {
		if err := json.Indent(&pretty, l, "", "  "); err != nil {
			b.Fatal(err)
		}
		pretty.WriteByte('\n')
		csv.WriteString(`2026-11-20 02:00:08.789,"`)
		csv.Write(bytes.ReplaceAll(l, []byte(`"`), []byte(`""`)))
		csv.WriteString("\"\n")
	}
	for _, tc := range []struct {
		name string
		in   []byte
	}{{"lines", in}, {"pretty", pretty.Bytes()}, {"csv", csv.Bytes()}} {
		b.Run(tc.name, func(b *testing.B) {
			b.SetBytes(int64(len(in)))
			for i := 0; i < b.N; i++ {
				st := data.NewReaderStream(context.Background(), bytes.NewReader(tc.in), &data.SourceInfo{Name: tc.name}, data.ReadOptions{}, nil)
				n := 0
				for {
					bt, err := st.Next(context.Background())
					if errors.Is(err, io.EOF) {
						break
					}
					if err != nil {
						b.Fatal(err)
					}
					if len(bt.Rejects) > 0 {
						b.Fatal(bt.Rejects[0].Error())
					}
					n += len(bt.Events)
				}
				st.Close()
				if n != len(lines) {
					b.Fatalf("%d events of %d", n, len(lines))
				}
			}
		})
	}
}
