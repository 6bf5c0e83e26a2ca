package loki

import (
	"hash/maphash"
	"math/rand/v2"
	"sort"
	"strconv"
	"testing"

	"github.com/valyala/fastjson"

	"github.com/audittui/audittui/internal/data"
)

func FuzzDecodePushProtobuf(f *testing.F) {
	raw, _ := EncodePushProtobuf(nil, samplePush())
	f.Add(raw)
	f.Add([]byte{0x0a, 0x02, 0x0a, 0x00})
	f.Fuzz(func(t *testing.T, b []byte) {
		req, err := DecodePushProtobuf(b)
		if err != nil {
			return
		}
		// Whatever decodes re-encodes and decodes to the same entries.
		for i := range req.Streams {
			if len(req.Streams[i].Labels) == 0 {
				return
			}
		}
		again, err := EncodePushProtobuf(nil, req)
		if err != nil {
			return // e.g. duplicate label names: refused on encode
		}
		back, err := DecodePushProtobuf(again)
		if err != nil {
			t.Fatalf("re-decode: %v", err)
		}
		if len(back.Streams) != len(req.Streams) {
			t.Fatalf("streams %d != %d", len(back.Streams), len(req.Streams))
		}
		for i := range req.Streams {
			if len(back.Streams[i].Entries) != len(req.Streams[i].Entries) {
				t.Fatalf("stream %d: entries differ", i)
			}
		}
	})
}

func FuzzParseLabels(f *testing.F) {
	for _, s := range []string{`{a="b"}`, `{a="b", c="d\"e"}`, "{a=`x`}", `{}`, `{a=}`, `{1a="x"}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ls, err := ParseLabels(s)
		if err != nil {
			return
		}
		// Formatting and parsing again gives the same set.
		back, err := ParseLabels(FormatLabels(ls))
		if err != nil {
			t.Fatalf("%q -> %q: %v", s, FormatLabels(ls), err)
		}
		if FormatLabels(back) != FormatLabels(ls) {
			t.Fatalf("round trip %q != %q", FormatLabels(back), FormatLabels(ls))
		}
	})
}

func FuzzParseQueryResponse(f *testing.F) {
	f.Add([]byte(`{"status":"success","data":{"resultType":"streams","result":[{"stream":{"a":"b"},"values":[["1","x"],["2","y",{"k":"v"}]]}]}}`))
	f.Add([]byte(`{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[1.5,"NaN"]]}]}}`))
	f.Add([]byte(`{"status":"success","data":{"resultType":"vector","result":[{"metric":{"l":"v"},"value":[1588889221,"37.69"]}]}}`))
	f.Add([]byte(`{"status":"success","data":{"resultType":"scalar","result":[1,"2"]}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var p fastjson.Parser
		for _, dir := range []Direction{Forward, Backward} {
			res, err := parseQueryResponse(&p, b, dir, newStreamCache())
			if err != nil {
				continue
			}
			for i := 1; i < len(res.Entries); i++ {
				a, c := res.Entries[i-1], res.Entries[i]
				if (dir == Forward && c.Time < a.Time) || (dir == Backward && c.Time > a.Time) {
					t.Fatalf("entries out of %s order at %d", dir, i)
				}
			}
		}
	})
}

// TestSortEntriesMatchesStableSort checks the run merge against a plain
// stable sort on random pages.
func TestSortEntriesMatchesStableSort(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for round := range 200 {
		nStreams := 1 + r.IntN(6)
		streams := make([]*Stream, nStreams)
		for i := range streams {
			k := "{s=\"" + strconv.Itoa(r.IntN(4)) + "\"}" // keys may repeat across runs
			streams[i] = &Stream{Key: k, Labels: data.Labels{{Name: "s", Value: k}}}
		}
		for _, dir := range []Direction{Forward, Backward} {
			var es []Entry
			seq := 0
			for _, st := range streams {
				n := r.IntN(30)
				times := make([]int64, n)
				for i := range times {
					times[i] = int64(r.IntN(20))
				}
				sort.Slice(times, func(i, j int) bool {
					if dir == Backward {
						return times[i] > times[j]
					}
					return times[i] < times[j]
				})
				for _, ts := range times {
					es = append(es, Entry{Time: ts, Stream: st, Line: []byte(strconv.Itoa(seq))})
					seq++
				}
			}
			want := append([]Entry(nil), es...)
			sort.SliceStable(want, func(i, j int) bool {
				a, b := want[i], want[j]
				if a.Time != b.Time {
					if dir == Backward {
						return a.Time > b.Time
					}
					return a.Time < b.Time
				}
				return a.Stream.Key < b.Stream.Key
			})
			sortEntries(es, dir)
			for i := range es {
				if string(es[i].Line) != string(want[i].Line) {
					t.Fatalf("round %d %s: entry %d = %s, want %s", round, dir, i, es[i].Line, want[i].Line)
				}
			}
		}
	}
}

func FuzzTailMessage(f *testing.F) {
	f.Add([]byte(`{"streams":[{"stream":{"job":"a"},"values":[["2","y"],["1","x"]]}],"dropped_entries":[{"labels":{"job":"a"},"timestamp":"3"}]}`))
	f.Add([]byte(`{"streams":[],"dropped_entries":null}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		tl := &Tailer{req: TailRequest{Slack: 5e9}, sc: newStreamCache(), seed: maphash.MakeSeed(), seen: map[seenKey]struct{}{}}
		m, err := tl.parse(b)
		if err != nil {
			return
		}
		for i := 1; i < len(m.Entries); i++ {
			if m.Entries[i].Time < m.Entries[i-1].Time {
				t.Fatalf("entries out of order")
			}
		}
		// The same message again is entirely a duplicate.
		again, err := tl.parse(b)
		if err == nil && len(again.Entries) != 0 && len(m.Entries) > 0 {
			for _, e := range again.Entries {
				if e.Time >= m.Entries[len(m.Entries)-1].Time-5e9 {
					t.Fatalf("duplicate delivered: %d %q", e.Time, e.Line)
				}
			}
		}
	})
}
