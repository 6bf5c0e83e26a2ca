package termsafe

import (
	"bytes"
	"io"
)

// Writer sanitises a stream of lines: each line written through it reaches
// the underlying writer as String(line) followed by its '\n'. A line is
// held until its '\n' arrives (so a rune split between two writes is not
// taken for invalid bytes); Flush writes out a last line without one.
type Writer struct {
	w    io.Writer
	line []byte
}

// NewWriter returns a Writer writing to w.
func NewWriter(w io.Writer) *Writer { return &Writer{w: w} }

// Write sanitises the complete lines of p and holds the rest.
func (w *Writer) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			w.line = append(w.line, p...)
			break
		}
		var line []byte
		if len(w.line) > 0 {
			line = append(w.line, p[:i]...)
		} else {
			line = p[:i]
		}
		if err := w.emit(line, true); err != nil {
			return n - len(p), err
		}
		w.line = w.line[:0]
		p = p[i+1:]
	}
	return n, nil
}

// Flush writes out the held part of a last line, if any.
func (w *Writer) Flush() error {
	if len(w.line) == 0 {
		return nil
	}
	err := w.emit(w.line, false)
	w.line = w.line[:0]
	return err
}

func (w *Writer) emit(line []byte, newline bool) error {
	s := String(string(line))
	if newline {
		s += "\n"
	}
	_, err := io.WriteString(w.w, s)
	return err
}
