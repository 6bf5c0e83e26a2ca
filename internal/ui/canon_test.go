package ui

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/testutil"
)

// readIndexPrepared reads paths as readIndex does, the column values
// looked up on the decoding goroutines (Index.Prepare) when prepare is
// set, as the TUI reads them: several decoders, small chunks (many
// batches), recycled batches.
func readIndexPrepared(t *testing.T, prepare bool, paths ...string) *Index {
	t.Helper()
	return readIndexWith(t, func(ix *Index) data.ReadOptions {
		ro := data.ReadOptions{Workers: 3, ChunkBytes: 16 << 10, Recycle: true}
		if prepare {
			ro.Prepare = ix.Prepare
		}
		return ro
	}, paths...)
}

// sameIndex fails unless got and want hold the same rows with the same
// values in every dictionary column and the path column, and the same
// dictionaries (ids given in the same order).
func sameIndex(t *testing.T, name string, got, want *Index) {
	t.Helper()
	g, w := got.Snapshot(), want.Snapshot()
	if g.Len() != w.Len() || g.Len() == 0 {
		t.Fatalf("%s: %d rows, want %d (not 0)", name, g.Len(), w.Len())
	}
	for c := range numCols {
		if !slices.Equal(g.Values(c), w.Values(c)) {
			t.Errorf("%s: column %s's dictionary %q, want %q", name, ColField(c), g.Values(c), w.Values(c))
		}
	}
	if !slices.Equal(g.pathVals, w.pathVals) || !slices.Equal(g.codeInts, w.codeInts) {
		t.Errorf("%s: paths %q codes %v, want %q %v", name, g.pathVals, g.codeInts, w.pathVals, w.codeInts)
	}
	bad := 0
	for i := range g.Len() {
		for c := range numCols {
			if g.ID(c, i) != w.ID(c, i) || g.Str(c, i) != w.Str(c, i) {
				if bad++; bad <= 5 {
					t.Errorf("%s row %d: %s %q, want %q", name, i, ColField(c), g.Str(c, i), w.Str(c, i))
				}
			}
		}
		if g.Path(i) != w.Path(i) || g.Code(i) != w.Code(i) {
			if bad++; bad <= 5 {
				t.Errorf("%s row %d: path %q code %d, want %q %d", name, i, g.Path(i), g.Code(i), w.Path(i), w.Code(i))
			}
		}
	}
}

// TestPreparedIndexEqualsIndex: the index built from the values the
// decoding goroutines looked up is the one built without them, row for
// row and id for id, on the sample, the managed-cluster shapes (pretty
// JSON, documents), copies, several files merged and the real audit logs;
// with the entries' table full from the third value on (the values past
// it looked up by the indexing goroutine), and with it unbounded.
func TestPreparedIndexEqualsIndex(t *testing.T) {
	sample := filepath.Join(testutil.RepoRoot(), "testdata", "sample", "audit.log")
	shapes, _ := filepath.Glob(filepath.Join(testutil.RepoRoot(), "testdata", "shapes", "*.json*"))
	lines := fixtureLines(t, sample)
	twice := writeLines(t, "twice.jsonl", append(slices.Clone(lines), lines...))
	cases := [][]string{{sample}, {twice}, {"testdata/events.jsonl", sample}}
	for _, p := range shapes {
		cases = append(cases, []string{p})
	}
	t.Run("realdata", func(t *testing.T) {
		for _, p := range testutil.RealAuditFiles(t) {
			cases = append(cases, []string{p})
		}
	})
	for _, max := range []int{2, 1 << 30} {
		defer func(m int) { canonMax = m }(canonMax)
		canonMax = max
		for _, paths := range cases {
			name := strings.Join(paths, "+")
			want := readIndexPrepared(t, false, paths...)
			if want.Snapshot().Len() == 0 {
				continue // a shape with no events (its rejects are tested elsewhere)
			}
			sameIndex(t, name, readIndexPrepared(t, true, paths...), want)
		}
	}
}

// TestPreparedEntriesOnlyForTheirEvents: a batch whose events were moved
// or changed in number after Prepare (a stream that makes new batches of
// them) is indexed from the events, not from the entries.
func TestPreparedEntriesOnlyForTheirEvents(t *testing.T) {
	content, err := os.ReadFile("testdata/events.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	d := decodeFixture(content)
	info := &data.SourceInfo{Name: "testdata/events.jsonl", Seekable: true}
	batch := func() *data.Batch {
		b := &data.Batch{}
		for k := range d.events {
			b.Events = append(b.Events, d.events[k].Clone())
			b.Events[k].Origin.Source = info
		}
		return b
	}
	want := NewIndex(t.TempDir(), nil)
	defer want.Close()
	wb := batch()
	slices.Reverse(wb.Events)
	if err := want.Add(wb); err != nil {
		t.Fatal(err)
	}
	// other has indexed the events in file order: its entries hold
	// other ids than want's.
	other := NewIndex(t.TempDir(), nil)
	defer other.Close()
	ob := batch()
	other.Prepare(ob)
	if err := other.Add(ob); err != nil {
		t.Fatal(err)
	}
	for name, prepare := range map[string]func(ix *Index, b *data.Batch){
		// the batch's events moved to a new array after Prepare
		"moved": func(ix *Index, b *data.Batch) {
			ix.Prepare(b)
			b.Events = slices.Clone(b.Events)
			slices.Reverse(b.Events)
		},
		// more events added after Prepare saw the first ones
		"added to": func(ix *Index, b *data.Batch) {
			slices.Reverse(b.Events)
			all := b.Events
			b.Events = all[:len(all)/2]
			ix.Prepare(b)
			b.Events = all
		},
		// prepared for another index (whose entries hold its ids)
		"another index": func(_ *Index, b *data.Batch) {
			slices.Reverse(b.Events)
			other.Prepare(b)
		},
	} {
		ix := NewIndex(t.TempDir(), nil)
		defer ix.Close()
		b := batch()
		prepare(ix, b)
		if err := ix.Add(b); err != nil {
			t.Fatal(err)
		}
		sameIndex(t, name, ix, want)
	}
}
