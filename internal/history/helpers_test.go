package history

import (
	"bufio"
	"os"
	"testing"

	"github.com/audittui/audittui/internal/data"
)

// readFixture decodes a fixture, one event per line.
func readFixture(t testing.TB, path string) []data.Event {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	info := &data.SourceInfo{Name: path, Labels: data.Labels{{Name: "job", Value: "audit"}}}
	var dec data.Decoder
	var out []data.Event
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for n := int64(1); sc.Scan(); n++ {
		evs, rej := dec.Decode(nil, sc.Bytes(), data.Origin{Source: info, Line: n})
		if rej != nil {
			t.Fatalf("%s", rej.Error())
		}
		for k := range evs {
			out = append(out, evs[k].Clone())
		}
	}
	return out
}

func build(t testing.TB, evs []data.Event, spec, ns string, opts Options) *History {
	t.Helper()
	ref, err := ParseRef(spec, ns)
	if err != nil {
		t.Fatal(err)
	}
	b := NewBuilder(ref, opts)
	for k := range evs {
		b.Add(&evs[k])
	}
	return b.Build()
}
