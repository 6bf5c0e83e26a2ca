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
	"sync/atomic"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// DefaultMaxLineBytes is the longest line (or JSON document) decoded;
// longer ones are rejected (counted, with file:line) and skipped.
const DefaultMaxLineBytes = 16 << 20

// chunkSize is how many bytes of lines a reader hands to a decode
// goroutine at a time (ReadOptions.ChunkBytes overrides it). With the
// goroutines' queue it sets what is read ahead: on the 1 GB benchmark
// file, 2 MiB against 4 MiB took the TUI's peak (alerts on, headless)
// from 204-211 to 175-188 MiB and `query`'s from 106-115 to 69-77 MB at
// the same speed; 1 MiB saved another 15 MiB but slowed `query` by 10%.
const chunkSize = 2 << 20

// Decompress returns a reader that decompresses r when it starts with the
// gzip or zstd magic bytes, and r itself otherwise. kind is "gzip", "zstd"
// or "". Concatenated gzip members (as Firehose writes them) are read as
// one stream.
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
			return nil, "", nil, &HeaderError{Kind: "gzip", Err: err}
		}
		return zr, "gzip", func() { zr.Close() }, nil
	case len(magic) >= 4 && magic[0] == 0x28 && magic[1] == 0xb5 && magic[2] == 0x2f && magic[3] == 0xfd:
		zr, err := zstdDecoder(br)
		if err != nil {
			return nil, "", nil, &HeaderError{Kind: "zstd", Err: err}
		}
		return zr, "zstd", func() { zr.Reset(nil); zstdDecoders.Put(zr) }, nil
	}
	return br, "", func() {}, nil
}

// HeaderError is a compressed input whose header could not be read: the
// input was not read at all (it is at its line 1). One cut short inside
// its header says so.
type HeaderError struct {
	Kind string // gzip or zstd
	Err  error
}

func (e *HeaderError) Error() string {
	s := e.Kind + " header: " + e.Err.Error()
	if errors.Is(e.Err, io.ErrUnexpectedEOF) || errors.Is(e.Err, io.EOF) {
		s += " (the file ends inside its " + e.Kind + " header: cut short; nothing of it could be read)"
	}
	return s
}

func (e *HeaderError) Unwrap() error { return e.Err }

// zstdDecoders keeps decoders for reuse: each holds a window of history
// (8 MiB for a stream the encoder did not size), which a read of many
// small zstd objects (a day of Fluent Bit uploads) would otherwise
// allocate anew for every object, and for every peek at one.
var zstdDecoders sync.Pool

func zstdDecoder(r io.Reader) (*zstd.Decoder, error) {
	if d, ok := zstdDecoders.Get().(*zstd.Decoder); ok {
		if err := d.Reset(r); err == nil {
			return d, nil
		}
		d.Close()
	}
	return zstd.NewReader(r, zstd.WithDecoderConcurrency(1))
}

// chunk is a stretch of input handed to a decode worker: whole lines
// (line mode), or framed documents copied into data (docs).
type chunk struct {
	data      []byte
	firstLine int64 // line number of data's first line (1-based)
	offset    int64 // stream offset of data[0]
	lines     int64 // newlines in data (0 if not counted)
	maxLine   int   // the line limit (0: DefaultMaxLineBytes)
	docs      []docRef
	rejects   []Reject
	res       chan *Batch
	// pool and mem, when recycling: the stream's pool, the whole read
	// buffer data is a part of and its event slice (lent with the batch).
	pool *recyclePool
	mem  lent
}

// docRef is one document of a chunk in document or CSV mode.
type docRef struct {
	start, end int
	line, off  int64
	col        int64 // the document's column in its line (Origin.Col)
	carrier    int64 // a time the container recorded (Logs Insights @timestamp), 0 if none
	lines      int64 // the lines a CSV row spans when more than one (0 otherwise)
}

// ReaderStream decodes audit events from r with parallel workers, keeping
// input order. It is the engine behind file, stdin and S3 object sources.
// The input's shape is detected from its first bytes (see readInput).
type ReaderStream struct {
	// lines is the number of lines of a JSON-lines input once read
	// whole (-1 until then, and for other shapes).
	lines  atomic.Int64
	order  chan *chunk
	cancel context.CancelFunc
	closer func() error
	// ended is closed when the producer has stopped reading the input:
	// only then may closer release it (a pooled decompressor).
	ended chan struct{}
	wg    sync.WaitGroup
	errMu sync.Mutex
	err   error
}

// NewReaderStream starts decoding r (already decompressed) described by
// info. closer is called by Close.
func NewReaderStream(ctx context.Context, r io.Reader, info *SourceInfo, opts ReadOptions, closer func() error) *ReaderStream {
	ctx, cancel := context.WithCancel(ctx)
	workers := opts.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	s := &ReaderStream{order: make(chan *chunk, workers), cancel: cancel, closer: closer, ended: make(chan struct{})}
	s.lines.Store(-1)
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
		defer close(s.ended)
		defer close(s.order)
		defer close(jobs)
		send := func(c *chunk) bool {
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
		}
		in := &input{r: r, info: info, opts: &opts, maxLine: DefaultMaxLineBytes, emit: send, line: 1}
		if opts.Recycle {
			in.pool = opts.pool // shared by OpenAll's sources
			if in.pool == nil {
				in.pool = newRecyclePool()
			}
		}
		err := in.run(ctx)
		if err == nil && in.shape == shapeLines {
			s.lines.Store(in.line - 1)
		}
		if err != nil && ctx.Err() == nil {
			// A read error (truncated gzip, I/O error) ends the stream with
			// a Reject naming the position, not with a lost tail:
			// everything read before it has been emitted.
			send(&chunk{rejects: []Reject{in.readErrReject(err)}})
			err = nil
		}
		if err != nil {
			s.errMu.Lock()
			s.err = err
			s.errMu.Unlock()
		}
	}()
	return s
}

// DecodeReader decodes r (already decompressed) in the calling goroutine,
// detecting its shape as NewReaderStream does, and calls emit with each
// batch in input order until emit returns false. Lines longer than maxLine
// bytes (0: DefaultMaxLineBytes) are rejected. It returns the number of
// lines read and the read error that ended the input early, if any
// (everything read before it has been emitted).
func DecodeReader(ctx context.Context, r io.Reader, info *SourceInfo, opts ReadOptions, maxLine int, emit func(*Batch) bool) (int64, error) {
	if maxLine <= 0 {
		maxLine = DefaultMaxLineBytes
	}
	var d Decoder
	in := &input{r: r, info: info, opts: &opts, maxLine: maxLine, line: 1, emit: func(c *chunk) bool {
		return emit(decodeChunk(&d, c, info, &opts))
	}}
	err := in.run(ctx)
	return in.line - 1, err
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

// Lines returns the number of lines of a JSON-lines input read to its end
// (every line counts: blank, rejected and over-long ones too), once Next
// has returned io.EOF; ok is false before that, after a read error and
// for inputs of other shapes.
func (s *ReaderStream) Lines() (n int64, ok bool) {
	n = s.lines.Load()
	return n, n >= 0
}

// Close stops reading and releases the input: at once when the producer
// has ended (an input read to its end), else once it has stopped.
func (s *ReaderStream) Close() error {
	s.cancel()
	// Drain so the producer and workers can exit.
	go func() {
		for c := range s.order {
			<-c.res
		}
	}()
	if s.closer == nil {
		return nil
	}
	select {
	case <-s.ended:
		return s.closer()
	default:
		go func() {
			<-s.ended
			s.closer()
		}()
		return nil
	}
}

// input is the producer side of a reader: it reads the stream, tells its
// shape and emits chunks.
type input struct {
	r       io.Reader
	info    *SourceInfo
	opts    *ReadOptions
	maxLine int
	emit    func(*chunk) bool

	line int64 // line number of the next unread line
	off  int64 // stream offset of the next unread byte

	pool  *recyclePool // when recycling (lines only)
	shape inputShape   // told by run
}

func (in *input) progress(done int64) {
	if in.opts.Progress != nil {
		in.opts.Progress(done, -1)
	}
}

func (in *input) readErrReject(err error) Reject {
	why := err.Error()
	if errors.Is(err, io.ErrUnexpectedEOF) {
		why = "compressed stream is truncated"
	}
	return Reject{Origin: Origin{Source: in.info, Line: in.line, Offset: in.off},
		Reason: fmt.Sprintf("read error after %d bytes: %s; the rest of this input is lost", in.off, why)}
}

// inputShape is how a stream is framed.
type inputShape int

const (
	shapeLines  inputShape = iota // one JSON document per line (the fast path)
	shapeDocs                     // JSON documents that span lines, arrays, concatenations
	shapeCSV                      // a Logs Insights CSV export
	shapeBinary                   // binary data: rejected whole
)

// run reads the stream: it reads its head, tells the shape and hands over
// to the reader of that shape. It returns a read error that ended the
// input early, or the context's error.
func (in *input) run(ctx context.Context) error {
	head, rerr := in.readHead()
	if is16, be, bom := utf16Head(head); is16 {
		// UTF-16 (Windows PowerShell's > writes it): read as UTF-8. Raw
		// is then the UTF-8 text, not the stream's bytes, and offsets
		// are in the decoded text (as in a decompressed stream).
		var rest io.Reader = errAfter{rerr}
		if rerr == nil {
			rest = in.r
		}
		in.r = newUTF16Reader(io.MultiReader(bytes.NewReader(head[bom:]), rest), be)
		in.info.Seekable = false
		head, rerr = in.readHead()
	}
	// A UTF-8 byte order mark (Windows tools write one) is not part of the
	// first document. JSON lines keep it before an event: the decoder
	// skips one that starts a line, and the event is cited at column 4 of
	// line 1, where its bytes start.
	bom := 0
	if bytes.HasPrefix(head, bomUTF8) {
		bom = len(bomUTF8)
	}
	if what, ok := binaryHead(head); ok {
		// Binary data (a Parquet or tar file, random bytes) is not read
		// line by line: one reject says what it is.
		in.shape = shapeBinary
		in.emit(&chunk{rejects: []Reject{{Origin: Origin{Source: in.info, Line: 1},
			Reason: "binary content (" + what + "), not JSON text: not read",
			Sample: append([]byte(nil), head[:min(len(head), 64)]...)}}})
		return nil
	}
	in.shape = detectShape(head[bom:], rerr != nil)
	first, _, _ := bytes.Cut(head[bom:], []byte{'\n'})
	if in.shape != shapeLines || isBlank(first) {
		head = head[bom:]
		in.off = int64(bom)
	}
	switch in.shape {
	case shapeDocs:
		return in.docs(ctx, head, rerr)
	case shapeCSV:
		// Raw is the @message field, not a slice of the stream: the
		// bytes cannot be read back by offset.
		in.info.Seekable = false
		return in.csv(ctx, head, rerr)
	}
	return in.lines(ctx, head, rerr)
}

// binarySniff is how much of an input's head binaryHead looks at (as
// git and GNU diff decide, a NUL byte in the first 8000 bytes).
const binarySniff = 8000

// binaryMagic names binary formats an archive may hold instead of JSON
// text, by their first bytes.
var binaryMagic = []struct{ magic, name string }{
	{"PAR1", "a Parquet file"},
	{"ORC", "an ORC file"},
	{"Obj\x01", "an Avro file"},
	{"PK\x03\x04", "a zip archive"},
	{"BZh", "bzip2-compressed data"},
	{"\xfd7zXZ\x00", "xz-compressed data"},
	{"\x04\x22\x4d\x18", "lz4-compressed data"},
	{"\xff\x06\x00\x00sNaPpY", "snappy-compressed data"},
	{"\x7fELF", "an executable"},
}

// binaryHead tells whether an input whose head (decompressed) is head is
// binary data rather than text, and says what it is: a NUL byte in its
// first 8000 bytes, unless it starts as a JSON document does (a log whose
// early lines are followed by a stretch of zero bytes, as a crash leaves
// them, is read line by line). UTF-16 text, which holds NUL bytes, is
// told before this.
func binaryHead(head []byte) (string, bool) {
	sniff := head[:min(len(head), binarySniff)]
	nul := bytes.IndexByte(sniff, 0)
	if nul < 0 {
		return "", false
	}
	if t := bytes.TrimLeft(bytes.TrimPrefix(sniff, bomUTF8), " \t\r\n"); len(t) > 0 && (t[0] == '{' || t[0] == '[') {
		return "", false
	}
	for _, m := range binaryMagic {
		if bytes.HasPrefix(head, []byte(m.magic)) {
			return m.name, true
		}
	}
	if len(head) > 262 && string(head[257:262]) == "ustar" {
		return "a tar archive", true
	}
	return fmt.Sprintf("a NUL byte at offset %d", nul), true
}

// errAfter is a reader that only returns err (io.EOF when nil).
type errAfter struct{ err error }

func (e errAfter) Read([]byte) (int, error) {
	if e.err == nil {
		return 0, io.EOF
	}
	return 0, e.err
}

// readHead reads until the buffer holds the first non-blank line whole,
// or maxLine bytes, or the input ends. rerr is the read error (io.EOF at
// the end).
func (in *input) readHead() ([]byte, error) {
	buf := make([]byte, 0, 64<<10)
	scanned := 0 // buf[:scanned] holds no newline after the leading blanks
	for {
		if len(buf) == cap(buf) {
			nb := make([]byte, len(buf), 2*cap(buf))
			copy(nb, buf)
			buf = nb
		}
		n, err := in.r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err != nil {
			return buf, err
		}
		// (Only what was read since is searched: a first line of
		// megabytes, a Firehose object's, is not scanned once per read.)
		lead := len(buf) - len(bytes.TrimLeft(buf, " \t\r\n\xef\xbb\xbf"))
		if bytes.IndexByte(buf[max(lead, scanned):], '\n') >= 0 || len(buf) > in.maxLine {
			return buf, nil
		}
		scanned = len(buf)
		if len(buf) >= binarySniff && bytes.IndexByte(buf[:binarySniff], 0) >= 0 {
			return buf, nil // binary (or UTF-16): told by the caller
		}
	}
}

// detectShape tells how a stream is framed from its head (which holds the
// first non-blank line whole unless atEOF or over-long):
//   - '[' opens a JSON array: documents;
//   - a first line that is one complete JSON value: JSON lines (also for a
//     malformed first line, rejected on its own);
//   - a first line that starts a value continued on the next lines
//     (pretty-printed), or several values on one line: documents;
//   - a CSV header naming @message: a Logs Insights export.
func detectShape(head []byte, atEOF bool) inputShape {
	t := bytes.TrimLeft(head, " \t\r\n")
	if len(t) == 0 {
		return shapeLines
	}
	first := t
	nl := bytes.IndexByte(t, '\n')
	if nl >= 0 {
		first = t[:nl]
	}
	switch t[0] {
	case '[':
		return shapeDocs
	case '{':
		s := newScanner(first, 0)
		err := s.SkipValue(0)
		if err == nil {
			s.SkipWS()
			if s.I == len(first) {
				return shapeLines
			}
			return shapeDocs // {...}{...} on one line
		}
		if nl >= 0 && isEOFErr(err) {
			// The value goes on: pretty-printed, unless the next line
			// starts a new object (JSON lines with a cut first line).
			if next := bytes.TrimLeft(t[nl+1:], "\r"); len(next) > 0 && next[0] == '{' {
				return shapeLines
			}
			return shapeDocs
		}
		return shapeLines
	}
	if isCSVHeader(first) {
		return shapeCSV
	}
	return shapeLines
}

// lines is the JSON lines reader: it emits chunks of whole lines, decoded
// in parallel.
func (in *input) lines(ctx context.Context, head []byte, rerr error) error {
	maxLine := in.maxLine
	chunkSize := chunkSize
	if n := in.opts.ChunkBytes; n > 0 {
		chunkSize = n
	}
	buf := head
	var bufEvs []Event // the event slice that goes with buf, when recycled
	// moveTo puts data at the start of a buffer of capacity c (recycled
	// when one is free), which becomes buf.
	moveTo := func(data []byte, c int) {
		m := in.pool.get(len(data), c)
		copy(m.buf, data)
		buf, bufEvs = m.buf, m.evs
	}
	if cap(buf) < chunkSize && rerr == nil {
		// (An input that ended within its head, a small file or object,
		// is decoded from the head's buffer.)
		moveTo(buf, chunkSize)
	}
	skipping := false // inside an over-long line
	var skipStart, skipLine int64
	var pending []Reject
	first := true
	for {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if !first {
			if cap(buf)-len(buf) < chunkSize/4 {
				moveTo(buf, max(chunkSize, 2*len(buf)))
			}
			var n int
			n, rerr = in.r.Read(buf[len(buf):cap(buf)])
			buf = buf[:len(buf)+n]
		}
		first = false
		if skipping {
			i := bytes.IndexByte(buf, '\n')
			if i < 0 {
				in.off += int64(len(buf))
				buf = buf[:0]
			} else {
				in.off += int64(i + 1)
				pending = append(pending, Reject{Origin: Origin{Source: in.info, Line: skipLine, Offset: skipStart},
					Reason: longLine(in.off-skipStart-1, maxLine)})
				in.line++
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
					c := &chunk{data: buf[:last+1], firstLine: in.line, offset: in.off, rejects: pending, maxLine: maxLine,
						pool: in.pool, mem: lent{buf: buf, evs: bufEvs}}
					pending = nil
					c.lines = int64(bytes.Count(c.data, []byte{'\n'}))
					in.line += c.lines
					in.off += int64(last + 1)
					rest := buf[last+1:]
					moveTo(rest, max(chunkSize, len(rest)+chunkSize/4))
					in.progress(in.off)
					if !in.emit(c) {
						return ctx.Err()
					}
				}
				if tail > maxLine {
					// An over-long line: reject it and skip to its end
					// without holding it in memory.
					skipping, skipStart, skipLine = true, in.off, in.line
					in.off += int64(len(buf))
					buf = buf[:0]
				}
			}
		}
		if rerr != nil {
			if skipping {
				pending = append(pending, Reject{Origin: Origin{Source: in.info, Line: skipLine, Offset: skipStart},
					Reason: longLine(in.off-skipStart, maxLine)})
				buf = buf[:0]
			}
			if len(buf) > 0 || len(pending) > 0 {
				// The last line without a trailing newline (before a read
				// error it is suspect: decoded anyway, and rejected with
				// its own reason if it is cut).
				if !in.emit(&chunk{data: buf, firstLine: in.line, offset: in.off, rejects: pending, maxLine: maxLine, pool: in.pool, mem: lent{buf: buf, evs: bufEvs}}) {
					return ctx.Err()
				}
				if len(buf) > 0 {
					in.line++
				}
			}
			in.off += int64(len(buf))
			in.progress(in.off)
			if errors.Is(rerr, io.EOF) {
				return nil
			}
			return rerr
		}
	}
}

// longLine is the reason an over-long line is rejected.
func longLine(n int64, limit int) string {
	return fmt.Sprintf("line of %d bytes is longer than the %s limit; skipped", n, sizeText(limit))
}

func sizeText(n int) string {
	if n >= 1<<20 && n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d bytes", n)
}

// prepareEvery is how many events a chunk's decoding adds to its batch
// between calls of ReadOptions.Prepare: few enough that they are still
// in the core's caches (an event and its line are about 1.5 KB), enough
// that the calls cost nothing. On the 1 GB benchmark file the rules'
// dispatch run there cost less than half what it did on the whole batch
// once decoded.
const prepareEvery = 128

// decodeChunk decodes a chunk into a batch.
func decodeChunk(d *Decoder, c *chunk, info *SourceInfo, opts *ReadOptions) *Batch {
	if c.docs != nil {
		return decodeDocs(d, c, info, opts)
	}
	b := &Batch{Bytes: int64(len(c.data)), Rejects: c.rejects}
	var wc WindowCounts // what the window did, added to opts.Tally once
	if opts.Prefilter == nil && c.lines > 0 {
		b.Events = c.pool.events(c.mem.evs, int(c.lines)) // one allocation, not a doubling series
	}
	if c.pool != nil {
		b.lease = &lease{pool: c.pool, lent: lent{buf: c.mem.buf, evs: b.Events}}
		b.lease.refs.Store(1)
	}
	data := c.data
	ln := c.firstLine
	off := c.offset
	limit := c.maxLine
	prep := 0
	if limit <= 0 {
		limit = DefaultMaxLineBytes
	}
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
		switch {
		case len(l) > limit:
			b.Rejects = append(b.Rejects, Reject{Origin: Origin{Source: info, Line: ln, Offset: off},
				Reason: longLine(int64(len(l)), limit), Sample: append([]byte(nil), l[:min(len(l), 200)]...)})
		case len(l) == 0 || isBlank(l):
		case !opts.Prefilter.Skip(l):
			// Lines the prefilter would skip are decoded when they do
			// not look like a whole, well-formed event, so that a bad
			// line is rejected whatever the query.
			n0 := len(b.Events)
			var rej *Reject
			b.Events, rej = d.Decode(b.Events, l, Origin{Source: info, Line: ln, Offset: off})
			if rej != nil {
				b.Rejects = append(b.Rejects, *rej)
			}
			b.Events = window(b, n0, opts, &wc)
			if opts.Prepare != nil && len(b.Events)-prep >= prepareEvery {
				opts.Prepare(b)
				prep = len(b.Events)
			}
		}
		ln++
		off += int64(len(l)) + 1
		if i >= 0 && len(l) < i {
			off++ // the stripped \r
		}
	}
	d.sayPage(opts)
	opts.Tally.add(wc)
	if opts.Prepare != nil && len(b.Events) > prep {
		opts.Prepare(b)
	}
	return b
}

// window drops the events from b.Events[n0:] outside the read window
// (they are not selected, not rejected), counting in c what it let
// through and left out (the caller adds c to opts.Tally once a chunk).
// Events without a time cannot be placed in a window: they are left out
// and counted in b.Undated, those the query would select (opts.Query)
// when there is one: an undated event the query would not have kept was
// not lost to it.
func window(b *Batch, n0 int, opts *ReadOptions, c *WindowCounts) []Event {
	if opts.From == 0 && opts.To == 0 {
		return b.Events
	}
	k := n0
	for i := range b.Events[n0:] {
		e := b.Events[n0+i]
		if e.Time == 0 {
			if opts.Query != nil && !opts.Query.Matches(&e) {
				continue
			}
			if b.Undated == 0 {
				b.UndatedAt = e.Origin.Cite()
			}
			b.Undated++
			continue
		}
		if opts.InWindow(e.Time) {
			b.Events[k] = e
			k++
			if e.Time < opts.TallyFrom {
				c.Before++ // read for a look-back, before the asked window
				c.NewestBefore = max(c.NewestBefore, e.Time)
				c.In--
			}
		} else {
			c.count(e.Time, opts)
		}
	}
	c.In += int64(k - n0)
	return b.Events[:k]
}

// count counts an event at t that the window of opts left out.
func (c *WindowCounts) count(t int64, opts *ReadOptions) {
	if opts.From != 0 && t < opts.From {
		c.Before++
		c.NewestBefore = max(c.NewestBefore, t)
		return
	}
	c.After++
	if c.OldestAfter == 0 || t < c.OldestAfter {
		c.OldestAfter = t
	}
}

// decodeDocs decodes the documents of a chunk (document and CSV modes).
func decodeDocs(d *Decoder, c *chunk, info *SourceInfo, opts *ReadOptions) *Batch {
	b := &Batch{Bytes: int64(len(c.data)), Rejects: c.rejects}
	var wc WindowCounts
	for _, dr := range c.docs {
		n0, r0 := len(b.Events), len(b.Rejects)
		d.DecodeTo(b, c.data[dr.start:dr.end], Origin{Source: info, Line: dr.line, Col: dr.col, Offset: dr.off})
		for i := r0; i < len(b.Rejects); i++ {
			if r := &b.Rejects[i]; r.Lines == 0 && r.Origin.Line == dr.line {
				r.Lines = dr.lines // a rejected CSV row costs all its lines
			}
		}
		for i := n0; i < len(b.Events); i++ {
			e := &b.Events[i]
			if e.Time == 0 {
				e.Time = dr.carrier
			}
		}
		b.Events = window(b, n0, opts, &wc)
	}
	d.sayPage(opts)
	opts.Tally.add(wc)
	if opts.Prepare != nil && len(b.Events) > 0 {
		opts.Prepare(b)
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
