package data

import (
	"bytes"
	"context"
	"io"
)

// peekChunk is the chunk size a peek decodes with, and peekMax how much of
// an input it reads at most looking for a first event.
const (
	peekChunk = 64 << 10
	peekMax   = 4 << 20
)

// PeekStart reads the head of r (decompressed) as a reader of it would,
// and returns when the input's events start for a read with opts' window:
// the time of its first event (the first with a time when there is a
// window, which leaves out events without one), or the window's start
// when that is later. It is a Starter's answer for an input in time
// order. ok is false when the head (up to a few MiB) holds no event: the
// input is then read at once. Nothing is counted (opts' Tally and
// Progress are not called) and info is not changed.
//
// JSON lines, the common shape, cost the first line that holds an event
// (a merge of a day of small objects peeks at every one); other shapes
// are decoded as a reader does, up to the first batch with an event.
func PeekStart(ctx context.Context, r io.Reader, info *SourceInfo, opts ReadOptions) (t int64, ok bool) {
	ci := *info
	windowed := opts.From != 0 || opts.To != 0
	take := func(evs []Event) bool {
		for i := range evs {
			if e := &evs[i]; e.Time != 0 || !windowed {
				t, ok = e.Time, true
				return true
			}
		}
		return false
	}
	in := &input{r: r, info: &ci, opts: &ReadOptions{}, maxLine: peekMax, line: 1}
	head, rerr := in.readHead()
	if is16, _, _ := utf16Head(head); !is16 {
		h := bytes.TrimPrefix(head, bomUTF8)
		if detectShape(h, rerr != nil) == shapeLines {
			var d Decoder
			var evs []Event
			for len(h) > 0 && !ok {
				l, rest, found := bytes.Cut(h, []byte{'\n'})
				if !found && rerr == nil {
					break // a cut line: read on as the reader does
				}
				h = rest
				if l = bytes.TrimRight(l, "\r"); isBlank(l) {
					continue
				}
				evs, _ = d.Decode(evs[:0], l, Origin{Source: &ci})
				take(evs)
			}
			if ok || rerr != nil {
				return clampStart(t, ok, opts)
			}
		}
	}
	var read int64
	rest := io.MultiReader(bytes.NewReader(head), errAfter{rerr})
	if rerr == nil {
		rest = io.MultiReader(bytes.NewReader(head), r)
	}
	DecodeReader(ctx, rest, &ci, ReadOptions{ChunkBytes: peekChunk}, peekMax, func(b *Batch) bool {
		read += b.Bytes
		return !take(b.Events) && read < peekMax
	})
	return clampStart(t, ok, opts)
}

func clampStart(t int64, ok bool, opts ReadOptions) (int64, bool) {
	if ok && opts.From != 0 && t < opts.From {
		t = opts.From
	}
	return t, ok
}
