package data

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
)

// firstTime is the time of the first event a read of b yields (with a
// window, the first with a time), as a merge sees it.
func firstTime(t *testing.T, b []byte, opts ReadOptions) (int64, bool) {
	t.Helper()
	var first int64
	found := false
	DecodeReader(context.Background(), bytes.NewReader(b), &SourceInfo{Name: "x"}, opts, 0, func(bt *Batch) bool {
		for i := range bt.Events {
			first, found = bt.Events[i].Time, true
			return false
		}
		return true
	})
	return first, found
}

// PeekStart answers what a read would start with, for every shape the
// readers take (the shape fixtures, and Firehose's concatenated messages
// behind a CONTROL_MESSAGE), with and without a window.
func TestPeekStartIsTheFirstEventRead(t *testing.T) {
	paths, _ := filepath.Glob("../../testdata/shapes/*")
	paths = append(paths, "../../testdata/sample/audit.log")
	n := 0
	for _, p := range paths {
		raw, err := os.ReadFile(p)
		if err != nil || filepath.Ext(p) == ".md" {
			continue
		}
		r, _, done, err := Decompress(bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		var dec bytes.Buffer
		dec.ReadFrom(r)
		done()
		want, wok := firstTime(t, dec.Bytes(), ReadOptions{})
		got, ok := PeekStart(context.Background(), bytes.NewReader(dec.Bytes()), &SourceInfo{Name: p}, ReadOptions{})
		if ok != wok || got != want {
			t.Errorf("%s: PeekStart %d %v, the read starts at %d %v", p, got, ok, want, wok)
		}
		if !wok {
			continue
		}
		n++
		// A window that starts after the first event: the window's start
		// (every event read is at or after it).
		from := want + 1
		got, ok = PeekStart(context.Background(), bytes.NewReader(dec.Bytes()), &SourceInfo{Name: p}, ReadOptions{From: from})
		if w, wok := firstTime(t, dec.Bytes(), ReadOptions{From: from}); !ok || got != from || (wok && w < from) {
			t.Errorf("%s, from %d: PeekStart %d %v", p, from, got, ok)
		}
	}
	if n < 8 {
		t.Fatalf("only %d shapes peeked", n)
	}
}
