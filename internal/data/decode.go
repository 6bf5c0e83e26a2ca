package data

import (
	"fmt"
	"unicode/utf8"
	"unsafe"
)

// Decoder turns JSON lines into Events. It is a hand-written, validating
// scanner that extracts only the fields audittui indexes and skips the rest
// (request and response bodies above all) without building a tree: on audit
// logs it runs several times faster than encoding/json into a lean struct.
//
// Events alias the input: Raw and the string fields point into the line
// passed to Decode (escaped strings are copied). The caller must not modify
// or reuse that buffer while the events are in use (or must Clone them).
//
// A Decoder is not safe for concurrent use; it is cheap, so use one per
// goroutine.
type Decoder struct {
	strs []string // arena for Groups/SourceIPs slices
}

// MaxDepth bounds JSON nesting, so hostile input cannot exhaust the stack.
const MaxDepth = 512

// Decode decodes one JSON document (usually one line) and appends the
// events it holds to dst: one for an audit Event (also when wrapped in a
// record with extra keys, as Fluent Bit writes), several for an EventList
// (the webhook backend's batches). Anything else is a Reject.
func (d *Decoder) Decode(dst []Event, line []byte, o Origin) ([]Event, *Reject) {
	if !utf8.Valid(line) {
		i := invalidUTF8At(line)
		return dst, newReject(o, line, fmt.Sprintf("invalid UTF-8 at byte %d", i))
	}
	s := newScanner(line, 0)
	s.SkipWS()
	if s.I >= len(line) {
		return dst, newReject(o, line, "empty document")
	}
	if line[s.I] != '{' {
		if err := s.SkipValue(0); err == nil {
			s.SkipWS()
			if s.I == len(line) {
				return dst, newReject(o, line, "JSON value is not an object (not an audit event)")
			}
		}
		return dst, newReject(o, line, "malformed JSON: "+s.errAt("expected '{'").Error())
	}
	start := s.I
	var ev decEvent
	var items []span
	var wrapped span
	if err := d.object(&s, &ev, &items, &wrapped); err != nil {
		return dst, newReject(o, line, "malformed JSON: "+err.Error())
	}
	end := s.I
	s.SkipWS()
	if s.I != len(line) {
		return dst, newReject(o, line, "malformed JSON: "+s.errAt("unexpected data after the JSON object").Error())
	}
	switch {
	case ev.kind == "EventList" || items != nil:
		if len(items) == 0 {
			return dst, nil // an empty batch is valid and holds nothing
		}
		for n, it := range items {
			io := o
			io.Offset = o.Offset + int64(it.start)
			var sub decEvent
			is := newScanner(line[:it.end], it.start)
			var nested []span
			var w span
			if err := d.object(&is, &sub, &nested, &w); err != nil {
				return dst, newReject(io, line[it.start:it.end], fmt.Sprintf("EventList item %d: %v", n, err))
			}
			if r := finish(&sub, line[it.start:it.end], io); r != "" {
				return dst, newReject(io, line[it.start:it.end], fmt.Sprintf("EventList item %d: %s", n, r))
			}
			dst = append(dst, sub.Event)
		}
		return dst, nil
	case wrapped.end > 0 && !ev.looksLikeEvent():
		// {"log":"{...escaped event...}", ...}: a record whose event is a
		// JSON string (a tail input without a JSON parser).
		inner, err := unescape(line[wrapped.start:wrapped.end])
		if err != nil {
			return dst, newReject(o, line, "malformed JSON: log: "+err.Error())
		}
		out, rej := d.Decode(nil, inner, o)
		if rej != nil {
			return dst, newReject(o, line, "wrapped log field: "+rej.Reason)
		}
		iev := out[0]
		iev.Raw = line[start:end]
		iev.Origin = o
		if ev.Cluster != "" {
			iev.Cluster = ev.Cluster
		}
		return append(dst, iev), nil
	}
	if r := finish(&ev, line[start:end], o); r != "" {
		return dst, newReject(o, line, r)
	}
	return append(dst, ev.Event), nil
}

// decEvent is an Event plus decode-time bookkeeping.
type decEvent struct {
	Event
	kind                          string
	stageTS, receivedTS, legacyTS string
	hasStageTS, hasRecv, hasLegTS bool
	objectLike                    bool // a field only an audit event has was seen
}

func (e *decEvent) looksLikeEvent() bool { return e.objectLike || e.kind == "Event" }

type span struct{ start, end int }

// finish validates and completes an event; it returns a reject reason or "".
func finish(ev *decEvent, raw []byte, o Origin) string {
	if !ev.looksLikeEvent() {
		if ev.kind != "" {
			return fmt.Sprintf("JSON object of kind %q is not an audit event", ev.kind)
		}
		return "JSON object is not an audit event (no kind, auditID, verb or stage)"
	}
	ev.Raw = raw
	ev.Origin = o
	var err error
	// An event's time: stageTimestamp, else requestReceivedTimestamp, else
	// v1beta1's timestamp.
	if ev.hasRecv {
		if ev.Received, err = ParseTime(ev.receivedTS); err != nil {
			return "field requestReceivedTimestamp: " + err.Error()
		}
	}
	switch {
	case ev.hasStageTS:
		if ev.Time, err = ParseTime(ev.stageTS); err != nil {
			return "field stageTimestamp: " + err.Error()
		}
	case ev.hasRecv:
		ev.Time = ev.Received
	case ev.hasLegTS:
		if ev.Time, err = ParseTime(ev.legacyTS); err != nil {
			return "field timestamp: " + err.Error()
		}
	}
	return ""
}

func newReject(o Origin, line []byte, reason string) *Reject {
	n := len(line)
	if n > 200 {
		n = 200
	}
	return &Reject{Origin: o, Reason: reason, Sample: append([]byte(nil), line[:n]...)}
}

func invalidUTF8At(b []byte) int {
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size <= 1 {
			return i
		}
		i += size
	}
	return len(b)
}

// b2s views bytes as a string without copying.
func b2s(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(unsafe.SliceData(b), len(b))
}
