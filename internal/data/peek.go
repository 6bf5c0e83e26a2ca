package data

import (
	"bytes"
	"context"
	"io"
)

// peekChunk is the chunk size a peek decodes with when it decodes as a
// reader does, and peekMax how much of an input it reads at most looking
// for a first event.
const (
	peekChunk = 64 << 10
	peekMax   = 4 << 20
)

// PeekStart reads the head of r (decompressed) and returns when the
// input's events start for a read with opts' window: the time of its
// first event (the first with a time when there is a window, which leaves
// out events without one), or the window's start when that is later. It
// is a Starter's answer for an input in time order. ok is false when the
// head (up to a few MiB) holds no event: the input is then read at once.
// Nothing is counted (opts' Tally and Progress are not called) and info
// is not changed.
//
// It decodes the input's first JSON values one by one as they become
// whole (a line of JSON lines, a CloudWatch message of a Firehose object,
// a pretty-printed event), so that a merge of a day of small objects pays
// for one event of each; other shapes (an array, a CSV export, UTF-16)
// are decoded as a reader does, up to the first batch with an event.
func PeekStart(ctx context.Context, r io.Reader, info *SourceInfo, opts ReadOptions) (int64, bool) {
	ci := *info
	windowed := opts.From != 0 || opts.To != 0
	var t int64
	ok := false
	take := func(evs []Event) bool {
		for i := range evs {
			if e := &evs[i]; e.Time != 0 || !windowed {
				t, ok = e.Time, true
				return true
			}
		}
		return false
	}
	buf := make([]byte, 0, 64<<10)
	var rerr error
	var d Decoder
	var evs []Event
	pos, tried := 0, 0 // the next value starts at pos; values were looked for up to tried bytes
	for !ok && ctx.Err() == nil {
		if rerr == nil && len(buf) < peekMax {
			if len(buf) == cap(buf) {
				buf = append(buf, 0)[:len(buf)]
			}
			var n int
			n, rerr = r.Read(buf[len(buf):cap(buf)])
			buf = buf[:len(buf)+n]
		}
		if len(buf) < 8 && rerr == nil {
			continue
		}
		if pos == 0 {
			if is16, _, _ := utf16Head(buf); is16 {
				break
			}
			if _, bin := binaryHead(buf); bin {
				return 0, false
			}
		}
		// Look for whole values once the buffer has doubled (or ended):
		// a long value is scanned a few times, not once per read.
		if rerr == nil && len(buf) < peekMax && len(buf) < 2*tried {
			continue
		}
		tried = len(buf)
		h := buf[pos:]
		if pos == 0 {
			h = bytes.TrimPrefix(h, bomUTF8)
		}
		s := newScanner(h, 0)
		s.SkipWS()
		if s.I == len(h) {
			if rerr != nil || len(buf) >= peekMax {
				break
			}
			continue
		}
		if h[s.I] != '{' {
			break // an array, a CSV export: as a reader
		}
		begin := s.I
		err := s.SkipValue(0)
		if err != nil {
			if isEOFErr(err) && rerr == nil && len(buf) < peekMax {
				continue // not whole yet
			}
			break // malformed, or too long: as a reader
		}
		evs, _ = d.Decode(evs[:0], h[begin:s.I], Origin{Source: &ci})
		if take(evs) {
			break
		}
		pos = len(buf) - len(h) + s.I // h is a suffix of buf
		tried = 0
	}
	if !ok && ctx.Err() == nil {
		var read int64
		rest := io.MultiReader(bytes.NewReader(buf), errAfter{rerr})
		if rerr == nil {
			rest = io.MultiReader(bytes.NewReader(buf), r)
		}
		DecodeReader(ctx, rest, &ci, ReadOptions{ChunkBytes: peekChunk}, peekMax, func(b *Batch) bool {
			read += b.Bytes
			return !take(b.Events) && read < peekMax
		})
	}
	if ok && opts.From != 0 && t < opts.From {
		t = opts.From
	}
	return t, ok
}
