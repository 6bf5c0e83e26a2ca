package data

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// This file reads a CloudWatch Logs Insights export in CSV (the console's
// "Export results, Download table (CSV)"): a header naming the query's
// fields, @timestamp and @message among them, then one row per log event
// whose @message is the API server's audit event (quoted CSV, quotes
// doubled). Each row's @message is a document; its Raw is that field (the
// CSV quoting undone), its time the event's own, else @timestamp.
//
// A malformed row is rejected at the line where it starts. A row whose
// quoted field does not close (a cut row, a stray quote) makes encoding/csv
// read on into the next lines, which are rows of their own: those lines are
// read again, so a bad row costs its own line, never the valid rows after
// it. A row over the line limit is rejected with the lines it spans and
// skipped without being held.

// isCSVHeader reports whether line is a CSV header with an @message column.
func isCSVHeader(line []byte) bool {
	line = bytes.TrimRight(line, "\r")
	if !bytes.Contains(line, []byte("@message")) {
		return false
	}
	r := csv.NewReader(bytes.NewReader(line))
	r.FieldsPerRecord = -1
	fields, err := r.Read()
	if err != nil {
		return false
	}
	for _, f := range fields {
		if strings.TrimSpace(f) == "@message" {
			return true
		}
	}
	return false
}

func (in *input) csv(ctx context.Context, head []byte, rerr error) error {
	var src io.Reader = bytes.NewReader(head)
	var readErr error
	if rerr == nil {
		src = io.MultiReader(src, in.r)
	} else if !errors.Is(rerr, io.EOF) {
		readErr = rerr
	}
	lr := &csvLines{br: bufio.NewReaderSize(src, 64<<10), line: in.line, off: in.off, limit: in.maxLine}
	// lineBase+n is the line number of line n of cr (1-based): cr is
	// replaced when lines are read again.
	var cr *csv.Reader
	var lineBase int64
	restart := func() {
		cr = csv.NewReader(lr)
		cr.FieldsPerRecord = -1
		cr.ReuseRecord = true
		lineBase = lr.nextLine() - 1
	}
	restart()
	done := func() error {
		in.line, in.off = lr.line, lr.off
		if readErr != nil {
			return readErr
		}
		return lr.readErr()
	}
	lr.mark()
	header, err := cr.Read()
	if err != nil {
		if err != io.EOF && lr.readErr() == nil {
			first, off := lr.firstTaken()
			lr.skipRest()
			reason := fmt.Sprintf("malformed CSV header: %v; the rest of the input (from line %d) is not read", err, first)
			if errors.Is(err, errCSVRowTooLong) {
				reason = fmt.Sprintf("CSV header of more than %s; the rest of the input (from line %d) is not read", sizeText(lr.limit), first)
			}
			in.emit(&chunk{docs: []docRef{}, rejects: []Reject{{Origin: Origin{Source: in.info, Line: first, Offset: off}, Reason: reason}}})
		}
		return done()
	}
	msgCol, tsCol := -1, -1
	for i, f := range header {
		switch strings.TrimSpace(f) {
		case "@message":
			msgCol = i
		case "@timestamp":
			tsCol = i
		}
	}
	// rows counts the data rows; first and last are the @timestamp of
	// the first and last (0 when unread): an export of exactly as many
	// rows as Logs Insights returns at most is visibly cut (insightsCap).
	var rows int
	var first, last int64
	var cur *chunk
	flush := func() bool {
		if cur == nil {
			return true
		}
		c := cur
		cur = nil
		if c.docs == nil {
			c.docs = []docRef{}
		}
		return in.emit(c)
	}
	reject := func(line, off int64, lines int64, reason string) {
		if cur == nil {
			cur = &chunk{data: make([]byte, 0, chunkSize/2)}
		}
		cur.rejects = append(cur.rejects, Reject{Origin: Origin{Source: in.info, Line: line, Offset: off}, Lines: lines, Reason: reason})
	}
	for {
		if ctx.Err() != nil {
			done()
			return ctx.Err()
		}
		lr.mark()
		rec, err := cr.Read()
		if lr.over {
			// The row went over the limit: reject the lines it took and
			// skip the rest of the last one unheld.
			first, off := lr.firstTaken()
			lr.skipRest()
			last := lr.line - 1
			reject(first, off, last-first+1, fmt.Sprintf("CSV row of more than %s (lines %d-%d); skipped", sizeText(lr.limit), first, last))
			restart()
			continue
		}
		if err == io.EOF {
			break
		}
		var pe *csv.ParseError
		if err != nil && !errors.As(err, &pe) {
			break // a read error
		}
		if pe != nil {
			start := lineBase + int64(pe.StartLine)
			end := lineBase + int64(pe.Line)
			off := lr.offsetOf(start)
			reason := fmt.Sprintf("malformed CSV row: %v", pe.Err)
			if end > start {
				// The parser read on into the next lines looking for the
				// end of the row: they are read again, as rows.
				lr.replayAfter(start)
				restart()
				again := fmt.Sprintf("line %d read again as a row", end)
				if end > start+1 {
					again = fmt.Sprintf("lines %d-%d read again as rows", start+1, end)
				}
				reason += fmt.Sprintf(" at line %d; %s", end, again)
			}
			reject(start, off, 0, reason)
			rows++
			continue
		}
		if len(rec) == 0 {
			continue
		}
		rows++
		l, _ := cr.FieldPos(0)
		line := lineBase + int64(l)
		off := lr.offsetOf(line)
		var span int64 // the lines of a row of more than one
		if last := lr.lastTaken(); last > line {
			span = last - line + 1
		}
		if msgCol >= len(rec) || strings.TrimSpace(rec[msgCol]) == "" {
			reject(line, off, span, "Logs Insights CSV row without @message")
			continue
		}
		var carrier int64
		if tsCol >= 0 && tsCol < len(rec) {
			if t, err := ParseTime(strings.TrimSpace(rec[tsCol])); err == nil {
				carrier = t
				if first == 0 {
					first = t
				}
				last = t
			}
		}
		if cur == nil {
			cur = &chunk{data: make([]byte, 0, chunkSize/2)}
		}
		cur.docs = append(cur.docs, docRef{start: len(cur.data), end: len(cur.data) + len(rec[msgCol]),
			line: line, off: off, carrier: carrier, lines: span})
		cur.data = append(cur.data, rec[msgCol]...)
		if len(cur.data) >= chunkSize/2 {
			in.progress(lr.off)
			if !flush() {
				done()
				return ctx.Err()
			}
		}
	}
	err = done()
	in.progress(in.off)
	if !flush() {
		return ctx.Err()
	}
	if err == nil {
		if msg := insightsCap(in.info, rows, first, last); msg != "" {
			in.opts.Warnf("%s", msg)
		}
	}
	return err
}

// insightsCap says when a Logs Insights export holds exactly as many rows
// as a query returns at most (10,000 without a limit command, 100,000
// with the largest limit): the query likely matched more, and the events
// past the last row are not in the export. first and last are the
// @timestamp of the first and last rows (0: unknown), which say which
// end is missing.
func insightsCap(info *SourceInfo, rows int, first, last int64) string {
	var most string
	switch rows {
	case 10000:
		most = "as many as a Logs Insights query returns without a limit command"
	case 100000:
		most = "as many as a Logs Insights query returns at most (limit 100000)"
	default:
		return ""
	}
	missing := "the events past its last row are missing"
	switch {
	case first > last && last != 0:
		missing = "the events before its oldest row (" + time.Unix(0, last).UTC().Format(time.RFC3339Nano) + ") are missing: the rows are newest first"
	case first < last && first != 0:
		missing = "the events after its newest row (" + time.Unix(0, last).UTC().Format(time.RFC3339Nano) + ") are missing: the rows are oldest first"
	}
	return fmt.Sprintf("%s: %d rows, %s: the query very likely matched more, and %s; narrow the time range (or raise the query's limit) and export again", info.Name, rows, most, missing)
}

// errCSVRowTooLong stops the CSV parser in a row over the line limit.
var errCSVRowTooLong = errors.New("CSV row over the line limit")

// csvLine is one physical line handed to the CSV parser.
type csvLine struct {
	b       []byte
	num     int64 // its line number
	off     int64 // its stream offset
	partial bool  // cut at the limit: the rest of the line is unread
}

// csvLines hands the CSV parser its input one physical line at a time: a
// Read never returns bytes past a newline, so the parser (which reads
// through its own bufio.Reader only until the newline that ends a row)
// has taken exactly the lines kept since mark, and those after a bad row's
// first can be handed out again.
type csvLines struct {
	br     *bufio.Reader
	line   int64 // number of the next line read from br
	off    int64 // stream offset of the next byte read from br
	limit  int   // bytes a row may take
	err    error // br's read error (io.EOF at the end)
	replay []csvLine
	taken  []csvLine // lines handed out since mark
	size   int       // their bytes
	rest   []byte    // what is left of the line being handed out
	over   bool      // the row being read went over limit
	arena  []byte    // the bytes of the lines taken (reused row to row)
}

// mark starts a row: the lines handed out from now on are its own.
func (l *csvLines) mark() {
	clear(l.taken)
	l.taken, l.size, l.rest, l.over, l.arena = l.taken[:0], 0, nil, false, l.arena[:0]
}

// nextLine is the number of the next line Read hands out.
func (l *csvLines) nextLine() int64 {
	if len(l.replay) > 0 {
		return l.replay[0].num
	}
	return l.line
}

func (l *csvLines) Read(p []byte) (int, error) {
	for len(l.rest) == 0 {
		if l.over {
			return 0, errCSVRowTooLong
		}
		var ln csvLine
		if len(l.replay) > 0 {
			ln = l.replay[0]
			l.replay = l.replay[1:]
		} else {
			if l.err != nil {
				return 0, l.err
			}
			ln = l.readLine(l.limit - l.size)
			if len(ln.b) == 0 {
				return 0, l.err
			}
		}
		l.taken = append(l.taken, ln)
		l.size += len(ln.b)
		if l.size > l.limit || ln.partial {
			l.over = true
			return 0, errCSVRowTooLong
		}
		l.rest = ln.b
	}
	n := copy(p, l.rest)
	l.rest = l.rest[n:]
	return n, nil
}

// readLine reads the next line from br (a copy of it, in the arena). A
// line longer than max comes back partial once it is (at most max plus the
// buffer's size held): the rest is left in br.
func (l *csvLines) readLine(max int) csvLine {
	ln := csvLine{num: l.line, off: l.off}
	start := len(l.arena)
	for {
		s, err := l.br.ReadSlice('\n')
		l.off += int64(len(s))
		l.arena = append(l.arena, s...)
		ln.b = l.arena[start:len(l.arena):len(l.arena)]
		if err == bufio.ErrBufferFull {
			if len(ln.b) > max {
				ln.partial = true
				return ln
			}
			continue
		}
		if err != nil {
			l.err = err
		}
		if len(ln.b) > 0 {
			l.line++
		}
		return ln
	}
}

// skipRest discards the rest of a line cut at the limit, and what is left
// to hand out of the row.
func (l *csvLines) skipRest() {
	if n := len(l.taken); n > 0 && l.taken[n-1].partial {
		for {
			s, err := l.br.ReadSlice('\n')
			l.off += int64(len(s))
			if err == bufio.ErrBufferFull {
				continue
			}
			if err != nil {
				l.err = err
			}
			break
		}
		l.line++
	}
	l.mark()
}

// replayAfter hands out again the lines taken after line start.
func (l *csvLines) replayAfter(start int64) {
	var again []csvLine
	for _, ln := range l.taken {
		if ln.num > start {
			ln.b = bytes.Clone(ln.b) // (the arena is reused)
			again = append(again, ln)
		}
	}
	l.replay = append(again, l.replay...)
	l.mark()
}

// firstTaken returns the number and offset of the first line of the row
// being read (the parser skips blank lines before a row).
func (l *csvLines) firstTaken() (int64, int64) {
	for _, ln := range l.taken {
		if len(bytes.TrimRight(ln.b, "\r\n")) > 0 {
			return ln.num, ln.off
		}
	}
	if len(l.taken) > 0 {
		return l.taken[0].num, l.taken[0].off
	}
	return l.line, l.off
}

// lastTaken returns the number of the last line handed out since mark.
func (l *csvLines) lastTaken() int64 {
	if n := len(l.taken); n > 0 {
		return l.taken[n-1].num
	}
	return l.line - 1
}

// offsetOf returns the stream offset of line n, one of the lines taken
// since mark.
func (l *csvLines) offsetOf(n int64) int64 {
	for _, ln := range l.taken {
		if ln.num == n {
			return ln.off
		}
	}
	_, off := l.firstTaken()
	return off
}

// readErr is the read error that ended the input, if any.
func (l *csvLines) readErr() error {
	if l.err == nil || errors.Is(l.err, io.EOF) {
		return nil
	}
	return l.err
}
