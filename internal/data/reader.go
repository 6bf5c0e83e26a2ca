package data

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// DefaultMaxLineBytes is the longest line decoded; longer lines are
// rejected (counted, with file:line) and skipped.
const DefaultMaxLineBytes = 16 << 20

const chunkSize = 4 << 20

// Decompress returns a reader that decompresses r when it starts with the
// gzip or zstd magic bytes, and r itself otherwise. kind is "gzip", "zstd"
// or "".
func Decompress(r io.Reader) (io.Reader, string, func(), error) {
	br := bufio.NewReaderSize(r, 64<<10)
	magic, err := br.Peek(4)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, "", nil, err
	}
	switch {
	case len(magic) >= 2 && magic[0] == 0x1f && magic[1] == 0x8b:
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, "", nil, fmt.Errorf("gzip header: %w", err)
		}
		return zr, "gzip", func() { zr.Close() }, nil
	case len(magic) >= 4 && magic[0] == 0x28 && magic[1] == 0xb5 && magic[2] == 0x2f && magic[3] == 0xfd:
		zr, err := zstd.NewReader(br, zstd.WithDecoderConcurrency(1))
		if err != nil {
			return nil, "", nil, fmt.Errorf("zstd header: %w", err)
		}
		return zr, "zstd", zr.Close, nil
	}
	return br, "", func() {}, nil
}

// chunk is a run of whole lines.
type chunk struct {
	data      []byte
	firstLine int64 // line number of data's first line (1-based)
	offset    int64 // stream offset of data[0]
	lines     int64 // newlines in data (0 if not counted)
	rejects   []Reject
	res       chan *Batch
}

// ReaderStream decodes JSON lines from r with parallel workers, keeping
// input order. It is the engine behind file, stdin and S3 object sources.
type ReaderStream struct {
	order  chan *chunk
	cancel context.CancelFunc
	closer func() error
	wg     sync.WaitGroup
	errMu  sync.Mutex
	err    error
}

// NewReaderStream starts decoding r (already decompressed) described by
// info. closer is called by Close.
func NewReaderStream(ctx context.Context, r io.Reader, info *SourceInfo, opts ReadOptions, closer func() error) *ReaderStream {
	ctx, cancel := context.WithCancel(ctx)
	workers := opts.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	s := &ReaderStream{order: make(chan *chunk, workers), cancel: cancel, closer: closer}
	jobs := make(chan *chunk, workers)
	for i := 0; i < workers; i++ {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			var d Decoder
			for c := range jobs {
				c.res <- decodeChunk(&d, c, info, &opts)
			}
		}()
	}
	go func() {
		defer close(s.order)
		defer close(jobs)
		err := splitChunks(ctx, r, info, opts, func(c *chunk) bool {
			c.res = make(chan *Batch, 1)
			select {
			case s.order <- c:
			case <-ctx.Done():
				return false
			}
			select {
			case jobs <- c:
			case <-ctx.Done():
				return false
			}
			return true
		})
		if err != nil {
			s.errMu.Lock()
			s.err = err
			s.errMu.Unlock()
		}
	}()
	return s
}

// Next returns the next batch in input order.
func (s *ReaderStream) Next(ctx context.Context) (*Batch, error) {
	select {
	case c, ok := <-s.order:
		if !ok {
			s.errMu.Lock()
			err := s.err
			s.errMu.Unlock()
			if err != nil {
				return nil, err
			}
			return nil, io.EOF
		}
		select {
		case b := <-c.res:
			return b, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Close stops reading and releases the input.
func (s *ReaderStream) Close() error {
	s.cancel()
	// Drain so the producer and workers can exit.
	go func() {
		for c := range s.order {
			<-c.res
		}
	}()
	if s.closer != nil {
		return s.closer()
	}
	return nil
}

// splitChunks reads r and emits chunks of whole lines. A read error
// (truncated gzip, I/O error) ends the stream with a Reject naming the
// position, not with a lost tail: everything read before it is emitted.
func splitChunks(ctx context.Context, r io.Reader, info *SourceInfo, opts ReadOptions, emit func(*chunk) bool) error {
	maxLine := DefaultMaxLineBytes
	line := int64(1)
	var off int64
	buf := make([]byte, 0, chunkSize)
	skipping := false // inside an over-long line
	var skipStart, skipLine int64
	var pending []Reject
	for {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if cap(buf)-len(buf) < chunkSize/4 {
			nb := make([]byte, len(buf), max(chunkSize, 2*len(buf)))
			copy(nb, buf)
			buf = nb
		}
		n, rerr := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if skipping {
			i := bytes.IndexByte(buf, '\n')
			if i < 0 {
				off += int64(len(buf))
				buf = buf[:0]
			} else {
				off += int64(i + 1)
				pending = append(pending, Reject{Origin: Origin{Source: info, Line: skipLine, Offset: skipStart},
					Reason: fmt.Sprintf("line of %d bytes exceeds the %d MiB limit; skipped", off-skipStart-1, maxLine>>20)})
				line++
				buf = append(buf[:0], buf[i+1:]...)
				skipping = false
			}
		}
		if !skipping {
			last := bytes.LastIndexByte(buf, '\n')
			tail := len(buf) - (last + 1)
			if tail > maxLine || (last >= 0 && (last+1 >= chunkSize/2 || rerr != nil)) {
				if last >= 0 {
					// Hand over whole lines; keep the tail in a fresh
					// buffer so the emitted chunk is never written again.
					c := &chunk{data: buf[:last+1], firstLine: line, offset: off, rejects: pending}
					pending = nil
					c.lines = int64(bytes.Count(c.data, []byte{'\n'}))
					line += c.lines
					off += int64(last + 1)
					rest := buf[last+1:]
					nb := make([]byte, len(rest), max(chunkSize, len(rest)+chunkSize/4))
					copy(nb, rest)
					buf = nb
					if opts.Progress != nil {
						opts.Progress(off, -1)
					}
					if !emit(c) {
						return ctx.Err()
					}
				}
				if tail > maxLine {
					// An over-long line: reject it and skip to its end
					// without holding it in memory.
					skipping, skipStart, skipLine = true, off, line
					off += int64(len(buf))
					buf = buf[:0]
				}
			}
		}
		if rerr != nil {
			if skipping {
				pending = append(pending, Reject{Origin: Origin{Source: info, Line: skipLine, Offset: skipStart},
					Reason: fmt.Sprintf("line of %d bytes exceeds the %d MiB limit; skipped", off-skipStart, maxLine>>20)})
				buf = buf[:0]
			}
			if errors.Is(rerr, io.EOF) {
				if len(buf) > 0 || len(pending) > 0 {
					// Last line without a trailing newline.
					emit(&chunk{data: buf, firstLine: line, offset: off, rejects: pending})
				}
				if opts.Progress != nil {
					opts.Progress(off+int64(len(buf)), -1)
				}
				return nil
			}
			why := rerr.Error()
			if errors.Is(rerr, io.ErrUnexpectedEOF) {
				why = "compressed stream is truncated"
			}
			pending = append(pending, Reject{Origin: Origin{Source: info, Line: line, Offset: off},
				Reason: fmt.Sprintf("read error after %d bytes: %s; the rest of this input is lost", off+int64(len(buf)), why)})
			// A partial last line before a read error is suspect: decode
			// it anyway; if it is cut, it is rejected with its own reason.
			emit(&chunk{data: buf, firstLine: line, offset: off, rejects: pending})
			return nil
		}
	}
}

// decodeChunk splits a chunk into lines and decodes them.
func decodeChunk(d *Decoder, c *chunk, info *SourceInfo, opts *ReadOptions) *Batch {
	b := &Batch{Bytes: int64(len(c.data)), Rejects: c.rejects}
	if opts.Prefilter == nil && c.lines > 0 {
		b.Events = make([]Event, 0, c.lines) // one allocation, not a doubling series
	}
	data := c.data
	ln := c.firstLine
	off := c.offset
	windowed := opts.From != 0 || opts.To != 0
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		var l []byte
		if i < 0 {
			l, data = data, nil
		} else {
			l, data = data[:i], data[i+1:]
		}
		if n := len(l); n > 0 && l[n-1] == '\r' {
			l = l[:n-1]
		}
		if len(l) > DefaultMaxLineBytes {
			b.Rejects = append(b.Rejects, Reject{Origin: Origin{Source: info, Line: ln, Offset: off},
				Reason: fmt.Sprintf("line of %d bytes exceeds the %d MiB limit; skipped", len(l), DefaultMaxLineBytes>>20),
				Sample: append([]byte(nil), l[:200]...)})
		} else if len(l) > 0 && !isBlank(l) && opts.Prefilter.Match(l) {
			o := Origin{Source: info, Line: ln, Offset: off}
			n0 := len(b.Events)
			var rej *Reject
			b.Events, rej = d.Decode(b.Events, l, o)
			if rej != nil {
				b.Rejects = append(b.Rejects, *rej)
			} else if windowed {
				// Drop events outside the window (they are not selected,
				// not rejected). Events without any timestamp cannot be
				// placed in a window and are left out of windowed reads.
				k := n0
				for _, e := range b.Events[n0:] {
					if e.Time != 0 && opts.InWindow(e.Time) {
						b.Events[k] = e
						k++
					}
				}
				b.Events = b.Events[:k]
			}
		}
		ln++
		off += int64(len(l)) + 1
		if i >= 0 && len(l) < i {
			off++ // the stripped \r
		}
	}
	return b
}

func isBlank(b []byte) bool {
	for _, c := range b {
		if c != ' ' && c != '\t' && c != '\r' {
			return false
		}
	}
	return true
}
