package file

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"github.com/audittui/audittui/internal/data"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/audittui/audittui/internal/tail"
)

// PollInterval is how often a followed file is checked when no fsnotify
// event arrives (the polling fallback, also for file systems without
// inotify).
const PollInterval = 250 * time.Millisecond

// followStream reads a file to its end with the parallel reader, then
// follows it with the shared tailer (internal/tail): what is appended,
// rename rotation (the old file is read to its end first, then backups
// rotated after it, then the new file from its start), copytruncate
// (restart at offset 0), deletion (keep the open file until the path comes
// back). A partial last line waits for its newline; lines over
// data.DefaultMaxLineBytes are rejected and skipped whole. Each time the
// tailer has read everything (the first time, and again when the size of
// the held-back partial line changes) Next returns a batch marked CaughtUp
// with that size in Partial, before it waits.
type followStream struct {
	path string
	info *data.SourceInfo
	opts data.ReadOptions
	ctx  context.Context // the Open context: the tailer's lifetime

	fh      *os.File           // until the tailer takes it
	initial *data.ReaderStream // the content present at open, read in parallel
	off     int64              // end of the initial content
	id      tail.ID            // the file's identity when opened
	line    int64              // number of the next line
	cur     *data.SourceInfo   // the file the tailer is in
	curPath string             // its path when opened
	next    int64              // its offset after the last line seen

	// moves tracks where the files read are now (moves.go; the chain
	// stream's, which closes it).
	moves *tracker
	// idle and partial: the last batch said the tailer had read
	// everything, holding back a partial line of that size.
	idle    bool
	partial int

	items  chan followItem
	cancel context.CancelFunc
	done   chan struct{} // closed when the tailer has stopped, with runErr
	runErr error
	err    error // the tailer stopped: every later Next returns it
	d      data.Decoder
}

// followItem is what the tailer reported, in file order: a chunk of lines,
// an over-long line (path, off, size), or that it has read everything and
// holds back a partial last line of size bytes (idle).
type followItem struct {
	chunk *tail.Chunk
	long  bool
	idle  bool
	path  string
	off   int64
	size  int64
}

func newFollowStream(ctx context.Context, fh *os.File, path string, info *data.SourceInfo, opts data.ReadOptions, moves *tracker) (data.Stream, error) {
	fi, err := fh.Stat()
	if err != nil {
		fh.Close()
		return nil, fmt.Errorf("stat %s: %w", path, err)
	}
	info.Seekable = true
	f := &followStream{path: path, info: info, opts: opts, ctx: ctx, fh: fh, line: 1, cur: info, curPath: path, moves: moves}
	// Read the existing content, up to its last newline, with the parallel
	// reader; the tail starts after it.
	end, err := lastNewline(fh, fi.Size())
	if err != nil {
		fh.Close()
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if end < fi.Size() && finished(fi.ModTime(), time.Now()) {
		// A last line without its newline in a file nothing has written
		// to for a while is not a line being written: an archive, a
		// download, concatenated or `jq -j` JSON. It is read with the
		// rest, as --follow=false reads it, instead of being held back
		// forever (and a pretty document cut before its closing brace,
		// every line of it then a reject). Bytes appended later start
		// after it.
		end = fi.Size()
	}
	// Its identity covers the initial content: a copytruncate while that is
	// read makes the tail start again at 0.
	if f.id, err = tail.Identify(fh, end); err != nil {
		fh.Close()
		return nil, err
	}
	moves.add(info, path, f.id.Dev, f.id.Ino, end, false)
	if end > 0 {
		f.initial = data.NewReaderStream(ctx, io.NewSectionReader(fh, 0, end), info, opts, nil)
		f.off, f.next = end, end
	}
	return f, nil
}

// finishedAfter is how long a file must have been left unwritten for its
// last line without a newline to be read as finished rather than waited
// for: a writer mid-line (the API server, a shipper) completes its line
// within milliseconds.
const finishedAfter = time.Minute

// finished says whether a file last modified at mod is finished at now.
func finished(mod, now time.Time) bool {
	return now.Sub(mod) >= finishedAfter
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

// startTail hands the open file to a tailer that continues after the
// initial content.
func (f *followStream) startTail() {
	ctx, cancel := context.WithCancel(f.ctx)
	f.items, f.cancel, f.done = make(chan followItem, 1), cancel, make(chan struct{})
	send := func(it followItem) error {
		select {
		case f.items <- it:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	var reported bool // the last idle item sent (on the tailer's goroutine)
	var reportedPartial int64
	t := tail.New(tail.Options{
		Path: f.path, File: f.fh, Start: &tail.Position{Path: f.path, ID: f.id, Offset: f.off},
		Refresh: PollInterval, MaxLine: data.DefaultMaxLineBytes, // ReadSize: the tailer's 256 KiB
		OnLongLine: func(path string, off, size int64) {
			_ = send(followItem{long: true, path: path, off: off, size: size})
		},
		// Caught up: said once, then again only when the held-back
		// partial line changes, not on every wake-up.
		OnIdle: func(partial int64) {
			if reported && partial == reportedPartial {
				return
			}
			if send(followItem{idle: true, size: partial}) == nil {
				reported, reportedPartial = true, partial
			}
		},
		Logger: slog.New(slog.DiscardHandler),
	})
	f.fh = nil // the tailer owns it now
	go func() {
		defer close(f.done)
		f.runErr = t.Run(ctx, func(_ context.Context, c tail.Chunk) error { return send(followItem{chunk: &c}) })
	}()
}

func (f *followStream) Next(ctx context.Context) (*data.Batch, error) {
	if f.initial != nil {
		b, err := f.initial.Next(ctx)
		if err == nil {
			f.line = max(f.line, lastLine(b)+1)
			return b, nil
		}
		if !errors.Is(err, io.EOF) {
			return nil, err
		}
		// Line numbers continue after the initial content: the reader
		// counted its lines (JSON lines), else they are counted again.
		n, ok := f.initial.Lines()
		f.initial.Close()
		f.initial = nil
		if !ok {
			if n, err = countLines(f.fh, f.off); err != nil {
				return nil, fmt.Errorf("read %s: %w", f.path, err)
			}
		}
		f.line = n + 1
	}
	if f.err != nil {
		return nil, f.err
	}
	if f.items == nil {
		f.startTail()
	}
	var it followItem
	select {
	case it = <-f.items:
	case <-f.done:
		// Whatever the tailer sent before it stopped comes first.
		select {
		case it = <-f.items:
		default:
			f.err = fmt.Errorf("follow %s: %w", f.path, f.runErr)
			return nil, f.err
		}
	case <-f.moves.changes():
		// A file read moved (rotated): nothing new, but the citations
		// of its events changed; the reading state is as last said.
		return &data.Batch{CaughtUp: f.idle, Partial: f.partial}, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if it.idle {
		f.idle, f.partial = true, int(it.size)
		return &data.Batch{CaughtUp: true, Partial: int(it.size)}, nil
	}
	f.idle = false
	if it.long {
		f.at(it.path, nil, it.off, it.off+it.size)
		r := data.Reject{Origin: data.Origin{Source: f.cur, Line: f.line, Offset: it.off},
			Reason: fmt.Sprintf("line of %d bytes exceeds the %d MiB limit; skipped", it.size-1, data.DefaultMaxLineBytes>>20)}
		f.line++
		return &data.Batch{Rejects: []data.Reject{r}}, nil
	}
	c := it.chunk
	f.at(c.End.Path, &c.End.ID, c.Start, c.End.Offset)
	b := data.DecodeLines(&f.d, c.Data, f.line, c.Start, f.cur, &f.opts)
	f.line += int64(bytes.Count(c.Data, []byte{'\n'}))
	return b, nil
}

// at notes that the tailer reported bytes [start, end) of the file opened
// as path. Bytes that do not follow the last ones seen are another file
// (the new file after a rotation, a backup rotated in between, or the
// file again after copytruncate): line numbers restart at 1, and its
// events get their own data.SourceInfo, so that reading an event back by
// offset opens the file it came from. Labels stay the followed path's.
// What was read of the file left is final, and the new one is tracked
// (moves.go). id is the file's identity (nil: the file at path).
func (f *followStream) at(path string, id *tail.ID, start, end int64) {
	if path != f.curPath || start != f.next {
		f.moves.left(f.cur)
		var dev, ino uint64
		if id != nil {
			dev, ino = id.Dev, id.Ino
		}
		f.curPath = path
		f.cur = &data.SourceInfo{Name: path, Labels: f.info.Labels, Seekable: !isCompressedName(path)}
		if start == 0 {
			f.line = 1
		}
		f.moves.add(f.cur, path, dev, ino, end, false)
	}
	f.next = end
	f.moves.read(f.cur, end)
}

func lastLine(b *data.Batch) int64 {
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

func (f *followStream) Close() error {
	if f.initial != nil {
		f.initial.Close()
	}
	if f.cancel != nil {
		f.cancel()
		<-f.done // the tailer closes the file
	}
	if f.fh != nil {
		return f.fh.Close()
	}
	return nil
}
