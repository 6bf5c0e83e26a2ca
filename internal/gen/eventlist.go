package gen

import (
	"bytes"
	"errors"
	"fmt"
	"io"
)

// The webhook backend (--audit-webhook-config-file) POSTs batches of events
// as one audit.k8s.io/v1 EventList document. Its items carry no kind or
// apiVersion of their own:
//
//	{"kind":"EventList","apiVersion":"audit.k8s.io/v1","metadata":{},"items":[{"level":...},...]}

const (
	eventPrefix     = `{"kind":"Event","apiVersion":"audit.k8s.io/v1",`
	eventListPrefix = `{"kind":"EventList","apiVersion":"audit.k8s.io/v1","metadata":{},"items":[`
	// DefaultBatch is kube-apiserver's --audit-webhook-batch-max-size default.
	DefaultBatch = 400
)

// EventListWriter turns the event lines written to it into EventList
// documents of up to Batch events, one document per line, as a webhook
// receiver would store the request bodies. Close writes the last, partial
// batch.
type EventListWriter struct {
	w       io.Writer
	batch   int
	partial []byte // an incomplete line carried over between writes
	doc     []byte
	items   int
	err     error
}

// NewEventListWriter returns an EventListWriter writing to w; batch <= 0
// means DefaultBatch.
func NewEventListWriter(w io.Writer, batch int) *EventListWriter {
	if batch <= 0 {
		batch = DefaultBatch
	}
	return &EventListWriter{w: w, batch: batch}
}

// Write accepts generated event lines (any chunking).
func (e *EventListWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			e.partial = append(e.partial, p...)
			break
		}
		line := p[:i]
		if len(e.partial) > 0 {
			e.partial = append(e.partial, line...)
			line = e.partial
		}
		if err := e.add(line); err != nil {
			e.err = err
			return 0, err
		}
		e.partial = e.partial[:0]
		p = p[i+1:]
	}
	return n, nil
}

func (e *EventListWriter) add(line []byte) error {
	if !bytes.HasPrefix(line, []byte(eventPrefix)) {
		return errors.New("eventlist: input is not a generated audit.k8s.io/v1 event line")
	}
	if e.items == 0 {
		e.doc = append(e.doc[:0], eventListPrefix...)
	} else {
		e.doc = append(e.doc, ',')
	}
	e.doc = append(e.doc, '{')
	e.doc = append(e.doc, line[len(eventPrefix):]...)
	e.items++
	if e.items == e.batch {
		return e.flush()
	}
	return nil
}

func (e *EventListWriter) flush() error {
	if e.items == 0 {
		return nil
	}
	e.doc = append(e.doc, ']', '}', '\n')
	e.items = 0
	if _, err := e.w.Write(e.doc); err != nil {
		return fmt.Errorf("write event list: %w", err)
	}
	return nil
}

// Close writes the last batch. It does not close the underlying writer.
func (e *EventListWriter) Close() error {
	if e.err != nil {
		return e.err
	}
	if len(e.partial) > 0 {
		return errors.New("eventlist: input ended inside a line")
	}
	e.err = e.flush()
	return e.err
}
