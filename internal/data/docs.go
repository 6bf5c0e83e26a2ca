package data

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/audittui/audittui/internal/data/jsonscan"
)

// This file reads input whose JSON documents are not one per line:
// pretty-printed events (jq . output), arrays of events or records
// (gcloud logging read --format=json), concatenated objects with or
// without newlines between them (Firehose writes CloudWatch Logs
// subscription messages back to back), pretty EventLists, and
// `aws logs filter-log-events` output. The input is streamed, never held
// whole: a top-level array is read element by element, and a top-level
// object too big to hold (over the line limit) is read member by member,
// each element of its batch array (items, records, events, logEvents)
// being one document. Every document is validated here with the shared
// scanner; a syntax error becomes one Reject at the line where the bad
// value starts, and reading resumes at the next value.

// isEOFErr reports whether err says the input ended inside a value.
func isEOFErr(err error) bool { return jsonscan.IsEOF(err) }

// docReader frames JSON documents from a stream.
type docReader struct {
	in    *input
	ctx   context.Context
	buf   []byte
	pos   int   // next unread byte of buf
	base  int64 // stream offset of buf[0]
	eof   bool
	rerr  error // the read error that ended the input (not io.EOF)
	lnPos int   // newlines are counted in buf up to lnPos...
	lnNum int64 // ...where the line number is lnNum
	// lnStart is the stream offset where line lnNum starts, headStart
	// that of the line holding buf[0] (for the columns of citations).
	lnStart, headStart int64

	cur      *chunk
	emitted  int  // documents framed so far
	resynced bool // a syntax error moved pos to the next value
}

// errEnd stops framing: the input ended inside a value (already rejected).
var errEnd = errors.New("end of input")

// batchKeys are the members of a top-level object whose array elements
// are documents of their own when the object is too big to hold whole.
var batchKeys = map[string]bool{"items": true, "records": true, "events": true, "logEvents": true}

func (in *input) docs(ctx context.Context, head []byte, rerr error) error {
	// (Line 1 starts at stream offset 0: a byte order mark before buf[0]
	// is in it.)
	r := &docReader{in: in, ctx: ctx, buf: head, base: in.off, lnNum: in.line}
	if rerr != nil {
		r.eof = true
		if !errors.Is(rerr, io.EOF) {
			r.rerr = rerr
		}
	}
	err := r.top()
	if err == nil || errors.Is(err, errEnd) {
		err = r.flush()
	}
	in.line = r.lineAt(len(r.buf))
	if len(r.buf) > 0 && r.buf[len(r.buf)-1] != '\n' {
		in.line++
	}
	in.off = r.base + int64(len(r.buf))
	in.progress(in.off)
	if err != nil {
		return err
	}
	return r.rerr
}

// lineAt returns the line number of buf[i] (i >= lnPos).
func (r *docReader) lineAt(i int) int64 {
	switch {
	case i > r.lnPos:
		seg := r.buf[r.lnPos:i]
		if n := bytes.Count(seg, []byte{'\n'}); n > 0 {
			r.lnNum += int64(n)
			r.lnStart = r.base + int64(r.lnPos+bytes.LastIndexByte(seg, '\n')+1)
		}
		r.lnPos = i
	case i < r.lnPos:
		return r.lnNum - int64(bytes.Count(r.buf[i:r.lnPos], []byte{'\n'}))
	}
	return r.lnNum
}

// lineStart returns the stream offset where the line of buf[i] starts.
func (r *docReader) lineStart(i int) int64 {
	r.lineAt(i)
	if i >= r.lnPos || bytes.IndexByte(r.buf[i:r.lnPos], '\n') < 0 {
		return r.lnStart
	}
	// Behind the counted lines (rare: after a resync).
	if k := bytes.LastIndexByte(r.buf[:i], '\n'); k >= 0 {
		return r.base + int64(k+1)
	}
	return r.headStart
}

// origin returns where buf[i] is: its line, its 1-based byte column when
// it does not start the line (0 when it does), its stream offset.
func (r *docReader) origin(i int) Origin {
	o := Origin{Source: r.in.info, Line: r.lineAt(i), Offset: r.base + int64(i)}
	if c := o.Offset - r.lineStart(i) + 1; c > 1 {
		o.Col = c
	}
	return o
}

// fill reads more input, keeping buf[keep:] (keep <= pos). It returns
// false at the end of the input.
func (r *docReader) fill(keep int) bool {
	if r.eof {
		return false
	}
	if r.ctx.Err() != nil {
		r.eof = true
		return false
	}
	// Drop what is consumed (counting its lines first).
	if keep > 0 {
		r.headStart = r.lineStart(keep)
		n := copy(r.buf, r.buf[keep:])
		r.buf = r.buf[:n]
		r.pos -= keep
		r.lnPos -= keep
		r.base += int64(keep)
	}
	// Read at least as much again as is held, so that re-scanning a
	// growing value stays linear.
	want := max(256<<10, len(r.buf))
	if cap(r.buf)-len(r.buf) < want {
		nb := make([]byte, len(r.buf), len(r.buf)+want)
		copy(nb, r.buf)
		r.buf = nb
	}
	for {
		n, err := r.in.r.Read(r.buf[len(r.buf):cap(r.buf)])
		r.buf = r.buf[:len(r.buf)+n]
		if err != nil {
			r.eof = true
			if !errors.Is(err, io.EOF) {
				r.rerr = err
			}
			return n > 0
		}
		if n > 0 {
			r.in.progress(r.base + int64(len(r.buf)))
			return true
		}
	}
}

// skipWS skips whitespace, reading as needed; false at the end of input.
func (r *docReader) skipWS() bool {
	for {
		for r.pos < len(r.buf) {
			switch r.buf[r.pos] {
			case ' ', '\t', '\r', '\n':
				r.pos++
			default:
				return true
			}
		}
		if !r.fill(r.pos) {
			return false
		}
	}
}

// errValueTooBig says a value is over the line limit.
var errValueTooBig = errors.New("value too big")

// value frames the JSON value at pos: it reads until the value is whole
// (or over the limit) and returns its span (reading may move the buffer:
// start is where the value is now). pos is left at the value's start.
func (r *docReader) value() (start, end int, err error) {
	start = r.pos
	for {
		s := jsonscan.Scanner{B: r.buf, I: r.pos, MaxDepth: MaxDepth}
		err = s.SkipValue(0)
		if err == nil {
			if s.I-start > r.in.maxLine {
				return start, 0, errValueTooBig
			}
			// A number at the very end of the buffer may go on.
			if s.I < len(r.buf) || r.eof || !isNumberStart(r.buf[start]) {
				return start, s.I, nil
			}
		} else if !jsonscan.IsEOF(err) || r.eof {
			return start, 0, err
		}
		if s.I-start > r.in.maxLine {
			return start, 0, errValueTooBig
		}
		// (fill moves the buffer even when it reads nothing: at the end,
		// the next scan gives the final answer.)
		r.fill(start)
		start = r.pos
	}
}

func isNumberStart(c byte) bool { return c == '-' || c >= '0' && c <= '9' }

// top reads top-level values.
func (r *docReader) top() error {
	for {
		if r.ctx.Err() != nil {
			return r.ctx.Err()
		}
		if !r.skipWS() {
			return nil
		}
		switch r.buf[r.pos] {
		case '[':
			r.pos++
			if err := r.array(true); err != nil {
				return err
			}
		case '{':
			start, end, err := r.value()
			switch {
			case err == nil:
				if err := r.doc(start, end); err != nil {
					return err
				}
				r.pos = end
			case errors.Is(err, errValueTooBig):
				r.pos = start + 1
				if err := r.envelope(start); err != nil {
					return err
				}
			default:
				if err := r.syntaxError(start, err, true); err != nil {
					return err
				}
			}
		case 0xef:
			// A UTF-8 byte order mark between documents (`cat a.json
			// b.json` where b starts with one) is not part of either.
			if r.bom() {
				continue
			}
			if err := r.element(true); err != nil {
				return err
			}
		default:
			// A scalar, or text that is not JSON: at the top level, a
			// syntax error resumes at the next object of the run.
			if err := r.element(true); err != nil {
				return err
			}
		}
		r.resynced = false
	}
}

// bom skips a UTF-8 byte order mark at pos, reading as needed; false if
// there is none.
func (r *docReader) bom() bool {
	for len(r.buf)-r.pos < len(bomUTF8) && r.fill(r.pos) {
	}
	if bytes.HasPrefix(r.buf[r.pos:], bomUTF8) {
		r.pos += len(bomUTF8)
		return true
	}
	return false
}

// element frames one value (an array element or a top-level scalar) as a
// document.
func (r *docReader) element(topLevel bool) error {
	start, end, err := r.value()
	switch {
	case err == nil:
		r.pos = end
		return r.doc(start, end)
	case errors.Is(err, errValueTooBig):
		return r.skipHuge(start)
	}
	return r.syntaxError(start, err, topLevel)
}

// array reads the elements of an array whose '[' is consumed; each is a
// document. A syntax error inside an element resumes at the next element.
func (r *docReader) array(first bool) error {
	for {
		if r.ctx.Err() != nil {
			return r.ctx.Err()
		}
		if !r.skipWS() {
			return r.unexpectedEnd("the array")
		}
		c := r.buf[r.pos]
		switch {
		case c == ']' && first:
			r.pos++
			return nil
		case !first && c == ']':
			r.pos++
			return nil
		case !first && c == ',':
			r.pos++
			if !r.skipWS() {
				return r.unexpectedEnd("the array")
			}
		case !first:
			return r.syntaxError(r.pos, fmt.Errorf("expected ',' or ']' after an array element, found %q", c), false)
		}
		first = false
		if err := r.element(false); err != nil {
			return err
		}
		if r.resynced {
			r.resynced = false
			first = true
		}
	}
}

// envelope reads a top-level object too big to hold, member by member:
// the elements of its batch arrays are the documents (CloudWatch Logs
// messages of a CONTROL_MESSAGE hold none); other members are checked and
// skipped. An object with no batch array is rejected as too big.
func (r *docReader) envelope(start int) error {
	startAt := r.origin(start)
	docsBefore := r.emitted
	control := false
	var events bool  // a filter-log-events answer...
	var token string // ...that is one page (nextToken or NextToken)
	for first := true; ; first = false {
		if !r.skipWS() {
			return r.unexpectedEnd("the object")
		}
		c := r.buf[r.pos]
		if c == '}' {
			r.pos++
			break
		}
		if !first {
			if c != ',' {
				return r.syntaxError(r.pos, fmt.Errorf("expected ',' or '}' in object, found %q", c), false)
			}
			r.pos++
			if !r.skipWS() {
				return r.unexpectedEnd("the object")
			}
		}
		if r.buf[r.pos] != '"' {
			return r.syntaxError(r.pos, errors.New("expected object key"), false)
		}
		ks, ke, err := r.value()
		if err != nil {
			return r.syntaxError(ks, err, false)
		}
		key, uerr := jsonscan.Unescape(r.buf[ks+1:ke-1], nil)
		if uerr != nil {
			return r.syntaxError(ks, uerr, false)
		}
		r.pos = ke
		if !r.skipWS() {
			return r.unexpectedEnd("the object")
		}
		if r.buf[r.pos] != ':' {
			return r.syntaxError(r.pos, errors.New("expected ':' after an object key"), false)
		}
		r.pos++
		if !r.skipWS() {
			return r.unexpectedEnd("the object")
		}
		k := string(key)
		switch {
		case batchKeys[k] && r.buf[r.pos] == '[':
			events = events || k == "events"
			r.pos++
			if control {
				// Health checks: skip their (tiny) events.
				r.pos--
				vs, end, err := r.value()
				if err != nil {
					return r.syntaxError(vs, err, false)
				}
				r.pos = end
				continue
			}
			if err := r.array(true); err != nil {
				return err
			}
		default:
			vs, end, err := r.value()
			switch {
			case err == nil:
				if k == "messageType" && bytes.Equal(r.buf[vs:end], []byte(`"CONTROL_MESSAGE"`)) {
					control = true
				}
				if (k == "nextToken" || k == "NextToken") && !bytes.Equal(r.buf[vs:end], []byte("null")) {
					token = k
				}
				r.pos = end
			case errors.Is(err, errValueTooBig):
				if err := r.skipHuge(vs); err != nil {
					return err
				}
			default:
				return r.syntaxError(vs, err, false)
			}
		}
	}
	if r.emitted == docsBefore && !control {
		r.reject(Reject{Origin: startAt,
			Reason: fmt.Sprintf("JSON object of more than %s (no items, records, events or logEvents array to read one by one); skipped", sizeText(r.in.maxLine))})
	}
	if events && token != "" {
		r.in.opts.Warnf("%s", PageMessage(startAt, token))
	}
	return nil
}

// skipHuge skips an over-long value starting at start without holding it
// (a bracket counter that knows strings) and rejects it.
func (r *docReader) skipHuge(start int) error {
	at := r.origin(start)
	off := at.Offset
	depth, inStr, esc := 0, false, false
	i := start
	for {
		for ; i < len(r.buf); i++ {
			c := r.buf[i]
			switch {
			case inStr:
				switch {
				case esc:
					esc = false
				case c == '\\':
					esc = true
				case c == '"':
					inStr = false
					if depth == 0 {
						i++
						goto done
					}
				}
			case c == '"':
				inStr = true
			case c == '{' || c == '[':
				depth++
			case c == '}' || c == ']':
				depth--
				if depth <= 0 {
					i++
					goto done
				}
			}
		}
		r.pos = i
		if !r.fill(r.pos) {
			i = r.pos
			goto done
		}
		i = r.pos
	}
done:
	r.pos = i
	r.reject(Reject{Origin: at,
		Reason: fmt.Sprintf("JSON value of %d bytes is longer than the %s limit; skipped", r.base+int64(i)-off, sizeText(r.in.maxLine))})
	return nil
}

// unexpectedEnd rejects input that ends inside a container.
func (r *docReader) unexpectedEnd(what string) error {
	if r.ctx.Err() != nil {
		return r.ctx.Err()
	}
	r.reject(Reject{Origin: r.origin(len(r.buf)),
		Reason: "malformed JSON: unexpected end of input inside " + what + " (truncated file?)"})
	r.pos = len(r.buf)
	return errEnd
}

// syntaxError rejects the bad value that starts at start and resumes at
// the next value. Inside an array, that is the next line that starts at the
// bad value's column with the same bracket (how pretty-printers lay out
// siblings). At the top level (a broken object, or text that is not JSON
// between objects), it is the next whole object that starts a line or is
// followed by another object or by the end of the input (objects inside
// the broken one are indented, and followed by ',' or '}'), which finds the
// next of a run of concatenated objects, pretty or compact. Failing that,
// the rest of the input is lost (and said so, with its lines counted).
func (r *docReader) syntaxError(start int, err error, topLevel bool) error {
	if r.ctx.Err() != nil {
		return r.ctx.Err()
	}
	o := r.origin(start)
	line := o.Line
	smp := sample(r.buf, start)
	at := start
	var se *jsonscan.SyntaxError
	msg := err.Error()
	if errors.As(err, &se) {
		at, msg = se.Off, se.Msg
	}
	at = min(max(at, start+1), len(r.buf)) // never resume at the bad value itself
	errLine := r.lineAt(max(at-1, start))
	lineStart := bytes.LastIndexByte(r.buf[:start], '\n') + 1
	col := start - lineStart
	open := byte('{')
	if start < len(r.buf) {
		open = r.buf[start]
	}
	reason := fmt.Sprintf("malformed JSON at line %d: %s", errLine, msg)
	resume := func(j int) error {
		r.pos = j
		skipped := "skipped the rest of the line up to the next value"
		next := r.lineAt(j)
		if next > line+1 {
			skipped = fmt.Sprintf("skipped lines %d-%d up to the next value", line, next-1)
		} else if next == line+1 {
			skipped = fmt.Sprintf("skipped line %d up to the next value", line)
		}
		r.reject(Reject{Origin: o, Sample: smp,
			Reason: reason + "; " + skipped, Lines: max(next-line, 0)})
		r.resynced = true
		return nil
	}
	i := at
	if topLevel {
		// The next object may start before the error (a cut object runs
		// into the next one).
		i = min(start+1, len(r.buf))
	}
	// Trying candidates costs a scan each: past a budget, a top-level
	// resync falls back to the next line that starts with '{' (linear).
	budget := resyncBudget
	lastLook := false
	for {
		var found, more bool
		var j int
		if topLevel && budget > 0 {
			j, found, more = r.nextTopObject(i, &budget)
		} else if topLevel {
			j, found, more = r.nextSibling(i, 0, '{')
		} else {
			j, found, more = r.nextSibling(i, col, open)
		}
		if found {
			return resume(j)
		}
		if !more {
			i = len(r.buf)
		} else {
			i = j
		}
		r.pos = i
		// (keeping the byte before i: whether i starts a line)
		if !r.fill(i - min(i, 1)) {
			if r.eof && !lastLook && r.ctx.Err() == nil {
				// The read that found the end read nothing: look once
				// more, now that the end is known (the last object).
				lastLook = true
				i = r.pos
				continue
			}
			r.pos = len(r.buf)
			last := r.lineAt(len(r.buf))
			if n := len(r.buf); n > 0 && r.buf[n-1] == '\n' {
				last-- // no line after the final newline
			}
			last = max(last, line)
			r.reject(Reject{Origin: o, Sample: smp,
				Reason: fmt.Sprintf("%s; the rest of the input (lines %d-%d) could not be read", reason, line, last), Lines: last - line + 1})
			return errEnd
		}
		i = r.pos
	}
}

// nextSibling looks from i for a line that starts, after col blanks, with
// open. It returns its index, or (where to look on from, false, true) when
// more input is needed.
func (r *docReader) nextSibling(i, col int, open byte) (int, bool, bool) {
	for {
		nl := bytes.IndexByte(r.buf[i:], '\n')
		if nl < 0 {
			return i, false, true
		}
		ls := i + nl + 1
		j := ls
		for j < len(r.buf) && j-ls < col && (r.buf[j] == ' ' || r.buf[j] == '\t') {
			j++
		}
		if j == len(r.buf) && !r.eof {
			return i, false, true // read on before deciding
		}
		if j-ls == col && j < len(r.buf) && r.buf[j] == open {
			return j, true, false
		}
		i = ls
	}
}

// nextTopObject looks from i for an object that starts a line (how jq and
// other pretty-printers leave the objects of a run, whatever garbage lies
// between them) or is followed by another object or the end of the input
// (a run of compact objects). It returns its index, or (where to look on
// from, false, true) when more input is needed.
func (r *docReader) nextTopObject(i int, budget *int) (int, bool, bool) {
	for *budget > 0 {
		k := bytes.IndexByte(r.buf[i:], '{')
		if k < 0 {
			return len(r.buf), false, true
		}
		p := i + k
		s := jsonscan.Scanner{B: r.buf, I: p, MaxDepth: MaxDepth}
		err := s.SkipValue(0)
		*budget -= s.I - p + 1
		if err != nil && jsonscan.IsEOF(err) && !r.eof {
			if len(r.buf)-p > r.in.maxLine {
				i = p + 1
				continue
			}
			return p, false, true
		}
		end := s.I
		if err == nil {
			if p > 0 && r.buf[p-1] == '\n' || r.base+int64(p) == 0 {
				return p, true, false
			}
			if bytes.Contains(r.buf[p:end], []byte("\n{")) {
				// It holds an object that starts a line: that one is
				// the candidate (this one ran into it).
				i = p + 1
				continue
			}
			s.SkipWS()
			switch {
			case s.I == len(r.buf) && !r.eof:
				return p, false, true
			case s.I == len(r.buf) || r.buf[s.I] == '{' || r.buf[s.I] == '[':
				return p, true, false
			}
		}
		i = p + 1
	}
	return i, false, true
}

// resyncBudget bounds the bytes scanned while looking for the next
// top-level object after a syntax error.
const resyncBudget = 4 << 20

func sample(b []byte, start int) []byte {
	if start >= len(b) || start < 0 {
		return nil
	}
	return append([]byte(nil), b[start:min(len(b), start+200)]...)
}

// doc adds buf[start:end] to the current chunk.
func (r *docReader) doc(start, end int) error {
	if r.cur == nil {
		r.cur = &chunk{data: make([]byte, 0, max(chunkSize/2, end-start))}
	}
	c := r.cur
	o := r.origin(start)
	c.docs = append(c.docs, docRef{start: len(c.data), end: len(c.data) + end - start,
		line: o.Line, col: o.Col, off: o.Offset})
	c.data = append(c.data, r.buf[start:end]...)
	r.emitted++
	if len(c.data) >= chunkSize/2 {
		return r.flush()
	}
	return nil
}

// reject adds a reject to the current chunk (keeping input order).
func (r *docReader) reject(rj Reject) {
	if r.cur == nil {
		r.cur = &chunk{}
	}
	r.cur.rejects = append(r.cur.rejects, rj)
}

// flush emits the current chunk.
func (r *docReader) flush() error {
	c := r.cur
	if c == nil {
		return nil
	}
	r.cur = nil
	if c.docs == nil {
		c.docs = []docRef{}
	}
	if !r.in.emit(c) {
		if err := r.ctx.Err(); err != nil {
			return err
		}
		return context.Canceled
	}
	return nil
}

// compactJSON returns a copy of a valid JSON value without the whitespace
// between tokens.
func compactJSON(b []byte) []byte {
	out := make([]byte, 0, len(b))
	s := jsonscan.Scanner{B: b}
	for s.I < len(b) {
		c := b[s.I]
		switch c {
		case ' ', '\t', '\r', '\n':
			s.I++
		case '"':
			st := s.I
			if _, _, _, err := s.String(); err != nil {
				return append(out, b[st:]...)
			}
			out = append(out, b[st:s.I]...)
		default:
			out = append(out, c)
			s.I++
		}
	}
	return out
}
