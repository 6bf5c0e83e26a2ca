package data

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/fsnotify/fsnotify"
)

// PollInterval is how often a followed file is checked when no fsnotify
// event arrives (the polling fallback, also for file systems without
// inotify).
const PollInterval = 250 * time.Millisecond

// followStream reads a file to its end, then keeps reading what is
// appended, following rename-rotation (the old file is read to its end
// first, then the new file from its start) and truncation (copytruncate:
// restart at offset 0). A partial last line waits for its newline. Each
// time it has read everything (and when the held-back partial line
// changes) it returns a batch marked CaughtUp before it waits.
type followStream struct {
	path string
	info *SourceInfo
	opts ReadOptions

	fh      *os.File
	ino     uint64
	dev     uint64
	initial *ReaderStream // the content present at open, read in parallel
	line    int64
	off     int64
	partial []byte
	// head is the first bytes of the file as first read: if they change,
	// the file was truncated and rewritten (copytruncate), even when it has
	// grown back past our offset by the time we look.
	head []byte

	d       Decoder
	watcher *fsnotify.Watcher
	ticker  *time.Ticker
	// reported/reportedPartial: the last CaughtUp batch returned, so it
	// is sent once per change, not on every wake-up.
	reported        bool
	reportedPartial int
}

func fileID(fi os.FileInfo) (dev, ino uint64) {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return uint64(st.Dev), uint64(st.Ino)
	}
	return 0, 0
}

func newFollowStream(ctx context.Context, fh *os.File, path string, info *SourceInfo, opts ReadOptions) (Stream, error) {
	fi, err := fh.Stat()
	if err != nil {
		fh.Close()
		return nil, fmt.Errorf("stat %s: %w", path, err)
	}
	info.Seekable = true
	f := &followStream{path: path, info: info, opts: opts, fh: fh, line: 1}
	f.dev, f.ino = fileID(fi)
	// Read the existing content, up to its last newline, with the parallel
	// reader; the tail starts after it.
	end, err := lastNewline(fh, fi.Size())
	if err != nil {
		fh.Close()
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if end > 0 {
		f.initial = NewReaderStream(ctx, io.NewSectionReader(fh, 0, end), info, opts, nil)
		f.off = end
	}
	if w, err := fsnotify.NewWatcher(); err == nil {
		if err := w.Add(filepath.Dir(path)); err == nil {
			f.watcher = w
		} else {
			w.Close()
		}
	}
	f.ticker = time.NewTicker(PollInterval)
	f.head = readHead(fh)
	return f, nil
}

// lastNewline returns the offset just after the last '\n' in [0, size).
func lastNewline(fh *os.File, size int64) (int64, error) {
	buf := make([]byte, 64<<10)
	for end := size; end > 0; {
		start := max(0, end-int64(len(buf)))
		n, err := fh.ReadAt(buf[:end-start], start)
		if err != nil && !errors.Is(err, io.EOF) {
			return 0, err
		}
		if i := bytes.LastIndexByte(buf[:n], '\n'); i >= 0 {
			return start + int64(i) + 1, nil
		}
		end = start
	}
	return 0, nil
}

func (f *followStream) Next(ctx context.Context) (*Batch, error) {
	if f.initial != nil {
		b, err := f.initial.Next(ctx)
		if err == nil {
			f.line = max(f.line, lastLine(b)+1)
			return b, nil
		}
		if !errors.Is(err, io.EOF) {
			return nil, err
		}
		f.initial = nil
		// Line numbers continue after the initial content.
		n, err := countLines(f.fh, f.off)
		if err != nil {
			return nil, err
		}
		f.line = n + 1
	}
	buf := make([]byte, 1<<20)
	for {
		n, err := f.fh.ReadAt(buf, f.off+int64(len(f.partial)))
		if n > 0 {
			data := append(f.partial, buf[:n]...)
			last := bytes.LastIndexByte(data, '\n')
			if last < 0 {
				if len(data) > DefaultMaxLineBytes {
					r := Reject{Origin: Origin{Source: f.info, Line: f.line, Offset: f.off},
						Reason: fmt.Sprintf("line exceeds the %d MiB limit; skipped", DefaultMaxLineBytes>>20)}
					// Skip to the next newline on later reads.
					f.off += int64(len(data))
					f.partial = nil
					return &Batch{Rejects: []Reject{r}}, nil
				}
				f.partial = data
				continue
			}
			c := &chunk{data: data[:last+1], firstLine: f.line, offset: f.off}
			f.line += int64(bytes.Count(c.data, []byte{'\n'}))
			f.off += int64(last + 1)
			f.partial = append([]byte(nil), data[last+1:]...)
			return decodeChunk(&f.d, c, f.info, &f.opts), nil
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("read %s: %w", f.path, err)
		}
		// At the end: rotated, truncated, or just quiet?
		if b, switched, err := f.checkRotation(); err != nil || switched {
			if b != nil && (len(b.Events) > 0 || len(b.Rejects) > 0) {
				return b, err
			}
			if err != nil {
				return nil, err
			}
			continue
		}
		// Everything there is has been read: say so (once per change of
		// the held-back partial line) before waiting.
		if !f.reported || f.reportedPartial != len(f.partial) {
			f.reported, f.reportedPartial = true, len(f.partial)
			return &Batch{CaughtUp: true, Partial: len(f.partial)}, nil
		}
		if err := f.wait(ctx); err != nil {
			return nil, err
		}
	}
}

func lastLine(b *Batch) int64 {
	var l int64
	for _, e := range b.Events {
		l = max(l, e.Origin.Line)
	}
	for _, r := range b.Rejects {
		l = max(l, r.Origin.Line)
	}
	return l
}

func countLines(fh *os.File, end int64) (int64, error) {
	buf := make([]byte, 1<<20)
	var n, off int64
	for off < end {
		k, err := fh.ReadAt(buf[:min(int64(len(buf)), end-off)], off)
		n += int64(bytes.Count(buf[:k], []byte{'\n'}))
		off += int64(k)
		if err != nil && !errors.Is(err, io.EOF) {
			return 0, err
		}
		if k == 0 {
			break
		}
	}
	return n, nil
}

const headBytes = 256

func readHead(fh *os.File) []byte {
	b := make([]byte, headBytes)
	n, _ := fh.ReadAt(b, 0)
	return b[:n]
}

// checkRotation looks at the path after the open file reached its end.
func (f *followStream) checkRotation() (*Batch, bool, error) {
	fi, err := os.Stat(f.path)
	cur, _ := f.fh.Stat()
	if len(f.head) < headBytes && f.off > int64(len(f.head)) {
		f.head = readHead(f.fh)
	}
	if cur != nil && (cur.Size() < f.off+int64(len(f.partial)) || !bytes.HasPrefix(readHead(f.fh), f.head)) {
		f.head = nil
		// Truncated in place (copytruncate): start again at 0.
		f.off, f.line, f.partial = 0, 1, nil
		return nil, true, nil
	}
	if err != nil {
		return nil, false, nil // deleted or not yet recreated: keep waiting
	}
	dev, ino := fileID(fi)
	if dev == f.dev && ino == f.ino {
		return nil, false, nil
	}
	// Renamed away and a new file created: the old file has been read to
	// its end; a partial last line there is final.
	var b *Batch
	if len(f.partial) > 0 {
		c := &chunk{data: f.partial, firstLine: f.line, offset: f.off}
		b = decodeChunk(&f.d, c, f.info, &f.opts)
	}
	nf, err := os.Open(f.path)
	if err != nil {
		return b, false, nil
	}
	f.fh.Close()
	f.fh, f.dev, f.ino = nf, dev, ino
	f.off, f.line, f.partial = 0, 1, nil
	f.head = readHead(nf)
	return b, true, nil
}

func (f *followStream) wait(ctx context.Context) error {
	var events <-chan fsnotify.Event
	var errs <-chan error
	if f.watcher != nil {
		events, errs = f.watcher.Events, f.watcher.Errors
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-events:
	case <-errs: // overflow etc.: the poll below still catches up
	case <-f.ticker.C:
	}
	return nil
}

func (f *followStream) Close() error {
	f.ticker.Stop()
	if f.watcher != nil {
		f.watcher.Close()
	}
	if f.initial != nil {
		f.initial.Close()
	}
	return f.fh.Close()
}
