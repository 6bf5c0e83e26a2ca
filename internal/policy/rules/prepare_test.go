package rules

import (
	"bytes"
	"context"
	"os"
	"testing"
	"time"

	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/gen"
	"github.com/audittui/audittui/internal/testutil"
)

// TestReplayerPreparedEqualsReplay: `alerts` reads with the Replayer's
// Prepare on the reader's decoding goroutines (data.ReadOptions.Prepare);
// its result is Replay's without it, on generated traffic written out of
// order by three apiservers and the real audit logs, read in small chunks
// by three decoders, recycled.
func TestReplayerPreparedEqualsReplay(t *testing.T) {
	set, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	g := gen.New(gen.Config{Seed: 3, Stories: true, Rate: 3, Nodes: 3, Disorder: 3 * time.Second})
	end := gen.DefaultStart.Add(100 * time.Minute).UnixNano()
	var lines bytes.Buffer
	for r := g.Next(); r.Time <= end; r = g.Next() {
		lines.Write(r.Line)
	}
	inputs := map[string][]byte{"generated": lines.Bytes()}
	for _, f := range testutil.RealAuditFiles(t) {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		inputs[f] = b
	}
	for name, in := range inputs {
		read := func(prepare func(*data.Batch)) data.Stream {
			return data.NewReaderStream(context.Background(), bytes.NewReader(in), &data.SourceInfo{Name: name, Labels: data.Labels{{Name: "job", Value: "audit"}}},
				data.ReadOptions{ChunkBytes: 64 << 10, Workers: 3, Recycle: true, Prepare: prepare}, nil)
		}
		want, err := Replay(context.Background(), read(nil), set, Options{})
		if err != nil {
			t.Fatal(err)
		}
		r, err := NewReplayer(set, Options{})
		if err != nil {
			t.Fatal(err)
		}
		prepared := 0
		got, err := r.Run(context.Background(), &countPrepared{Stream: read(r.Prepare), by: &r.prep, n: &prepared})
		if err != nil {
			t.Fatal(err)
		}
		if prepared == 0 {
			t.Fatalf("%s: no batch came prepared", name)
		}
		if w, g := alertsDigest(want.Alerts), alertsDigest(got.Alerts); w != g {
			t.Errorf("%s: prepared, other alerts than Replay:\n%s", name, diffLines(w, g))
		}
		if want.Events != got.Events || want.Untimed != got.Untimed || want.Late != got.Late || want.Duplicates != got.Duplicates ||
			want.Others != got.Others || want.Steps != got.Steps {
			t.Errorf("%s: prepared: events %d untimed %d late %d duplicates %d others %d steps %d; Replay: %d %d %d %d %d %d", name,
				got.Events, got.Untimed, got.Late, got.Duplicates, got.Others, got.Steps,
				want.Events, want.Untimed, want.Late, want.Duplicates, want.Others, want.Steps)
		}
		if name == "generated" && len(want.Alerts) < 10 {
			t.Errorf("generated: %d alerts: too few to compare", len(want.Alerts))
		}
	}
}

// countPrepared counts the batches that come prepared by by.
type countPrepared struct {
	data.Stream
	by *preparer
	n  *int
}

func (c *countPrepared) Next(ctx context.Context) (*data.Batch, error) {
	b, err := c.Stream.Next(ctx)
	if b != nil && c.by.preparedFor(b) != nil {
		*c.n++
	}
	return b, err
}
