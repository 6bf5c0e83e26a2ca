package data

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
)

// This file reads a CloudWatch Logs Insights export in CSV (the console's
// "Export results, Download table (CSV)"): a header naming the query's
// fields, @timestamp and @message among them, then one row per log event
// whose @message is the API server's audit event (quoted CSV, quotes
// doubled). Each row's @message is a document; its Raw is that field (the
// CSV quoting undone), its time the event's own, else @timestamp.

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
		src = io.MultiReader(src, &errKeeper{r: in.r, err: &readErr})
	} else if !errors.Is(rerr, io.EOF) {
		readErr = rerr
	}
	cr := csv.NewReader(src)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	base, firstLine := in.off, in.line
	header, err := cr.Read()
	if err != nil {
		in.line++
		return readErr
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
	prevOff := cr.InputOffset()
	lastLine := int64(1) // the header's line (relative to firstLine)
	for {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		rec, err := cr.Read()
		off := base + prevOff
		prevOff = cr.InputOffset()
		in.off = base + prevOff
		if err == io.EOF {
			break
		}
		if cur == nil {
			cur = &chunk{data: make([]byte, 0, chunkSize/2)}
		}
		var pe *csv.ParseError
		if err != nil && !errors.As(err, &pe) {
			break // a read error
		}
		if pe != nil {
			lastLine = max(lastLine, int64(pe.Line))
			cur.rejects = append(cur.rejects, Reject{Origin: Origin{Source: in.info, Line: firstLine - 1 + int64(pe.StartLine), Offset: off},
				Reason: fmt.Sprintf("malformed CSV row: %v", pe.Err)})
			continue
		}
		if len(rec) == 0 {
			continue
		}
		line, _ := cr.FieldPos(0)
		if _, endLine := fieldEndLine(cr, len(rec)-1); endLine > 0 {
			lastLine = max(lastLine, int64(endLine))
		}
		line += int(firstLine) - 1
		if msgCol >= len(rec) || strings.TrimSpace(rec[msgCol]) == "" {
			cur.rejects = append(cur.rejects, Reject{Origin: Origin{Source: in.info, Line: int64(line), Offset: off},
				Reason: "Logs Insights CSV row without @message"})
			continue
		}
		var carrier int64
		if tsCol >= 0 && tsCol < len(rec) {
			if t, err := ParseTime(strings.TrimSpace(rec[tsCol])); err == nil {
				carrier = t
			}
		}
		cur.docs = append(cur.docs, docRef{start: len(cur.data), end: len(cur.data) + len(rec[msgCol]),
			line: int64(line), off: off, carrier: carrier})
		cur.data = append(cur.data, rec[msgCol]...)
		if len(cur.data) >= chunkSize/2 {
			in.progress(in.off)
			if !flush() {
				return ctx.Err()
			}
		}
	}
	in.line = firstLine + lastLine
	in.progress(in.off)
	if !flush() {
		return ctx.Err()
	}
	return readErr
}

// errKeeper passes reads through and keeps a read error other than EOF
// (encoding/csv reports it too, but wrapped in its own terms).
type errKeeper struct {
	r   io.Reader
	err *error
}

func (e *errKeeper) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil && !errors.Is(err, io.EOF) && *e.err == nil {
		*e.err = err
	}
	return n, err
}

// fieldEndLine returns the line where field i of the record just read
// starts (a quoted field may span lines; the next record starts after it).
func fieldEndLine(cr *csv.Reader, i int) (int, int) {
	l, c := cr.FieldPos(i)
	return c, l
}
