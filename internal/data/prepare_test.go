package data

import (
	"bytes"
	"context"
	"os"
	"slices"
	"testing"
	"time"
)

// prepTrack is what the test's Prepare attaches to a batch: the auditIDs
// of the events it saw, in order, and how often it was called.
type prepTrack struct {
	ids   []string
	calls int
}

func trackPrepare(b *Batch) {
	tr, _ := b.Prepared.(*prepTrack)
	if tr == nil {
		tr = &prepTrack{}
		b.Prepared = tr
	}
	tr.calls++
	for i := len(tr.ids); i < len(b.Events); i++ {
		tr.ids = append(tr.ids, b.Events[i].AuditID)
	}
}

// TestPrepareSeesEveryEventOnce: ReadOptions.Prepare is called on each
// batch while its events are decoded (several times for a batch of many
// events) and once more at its end, so that at the batch's hand-over it
// has seen each event the batch holds, once, in order: none it saw is
// dropped or changed afterwards (a time window drops lines before Prepare
// sees them; a bad line is a reject). The events read are those read
// without Prepare. JSON lines (recycled or not, with and without a
// window) and whole documents (pretty-printed JSON).
func TestPrepareSeesEveryEventOnce(t *testing.T) {
	lines := recycleInput(3000)
	pretty, err := os.ReadFile(shapePath("pretty.json"))
	if err != nil {
		t.Fatal(err)
	}
	from := time.Date(2026, 11, 20, 8, 10, 0, 0, time.UTC).UnixNano()
	to := time.Date(2026, 11, 20, 8, 40, 0, 0, time.UTC).UnixNano()
	for _, tc := range []struct {
		name  string
		in    []byte
		opts  ReadOptions
		multi bool // some batch must be prepared in several calls
	}{
		{"lines", lines, ReadOptions{ChunkBytes: 256 << 10, Workers: 3}, true},
		{"lines recycled", lines, ReadOptions{ChunkBytes: 256 << 10, Workers: 3, Recycle: true}, true},
		{"lines in a window", lines, ReadOptions{ChunkBytes: 256 << 10, Workers: 3, From: from, To: to}, true},
		{"pretty documents", pretty, ReadOptions{Workers: 2}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			info := &SourceInfo{Name: tc.name}
			want, wantRejs := drain(t, NewReaderStream(context.Background(), bytes.NewReader(tc.in), info, tc.opts, nil))
			if len(want) == 0 {
				t.Fatal("no event read")
			}
			opts := tc.opts
			opts.Prepare = trackPrepare
			st := NewReaderStream(context.Background(), bytes.NewReader(tc.in), info, opts, nil)
			defer st.Close()
			var got []Event
			var rejs []Reject
			multi := 0
			for {
				b, err := st.Next(context.Background())
				if b == nil {
					if err == nil {
						continue
					}
					break
				}
				tr, _ := b.Prepared.(*prepTrack)
				if len(b.Events) > 0 {
					if tr == nil {
						t.Fatalf("a batch of %d events was handed on unprepared", len(b.Events))
					}
					ids := make([]string, len(b.Events))
					for i := range b.Events {
						ids[i] = b.Events[i].AuditID
					}
					if !slices.Equal(tr.ids, ids) {
						t.Fatalf("Prepare saw %d events %v..., the batch holds %d %v...", len(tr.ids), tr.ids[:min(3, len(tr.ids))], len(ids), ids[:min(3, len(ids))])
					}
					if tr.calls > 1 {
						multi++
					}
				}
				for i := range b.Events {
					got = append(got, b.Events[i].Clone())
				}
				rejs = append(rejs, b.Rejects...)
				b.Release()
				if err != nil {
					break
				}
			}
			if len(got) != len(want) || len(rejs) != len(wantRejs) {
				t.Fatalf("with Prepare: %d events, %d rejects; without: %d, %d", len(got), len(rejs), len(want), len(wantRejs))
			}
			for i := range got {
				if got[i].AuditID != want[i].AuditID || got[i].Origin.Line != want[i].Origin.Line {
					t.Fatalf("event %d: %s line %d with Prepare, %s line %d without", i, got[i].AuditID, got[i].Origin.Line, want[i].AuditID, want[i].Origin.Line)
				}
			}
			if tc.multi && multi == 0 {
				t.Errorf("no batch was prepared in more than one call (every %d events)", prepareEvery)
			}
		})
	}
}
