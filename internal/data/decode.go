package data

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"unicode/utf8"
	"unsafe"

	"github.com/audittui/audittui/internal/data/jsonscan"
)

// Decoder turns JSON documents into Events. It is a hand-written, validating
// scanner that extracts only the fields audittui indexes and skips the rest
// (request and response bodies above all) without building a tree: on audit
// logs it runs several times faster than encoding/json into a lean struct.
//
// The shape of each document is told from its content, not from a file
// name (see Decode for the shapes). Events alias the input: Raw, Line and
// the string fields point into the document passed to Decode (escaped
// strings are decoded into blocks of 16 KiB the decoder shares among the
// events it decodes, never written again once handed out; events rebuilt
// from another shape are copies). The caller must not modify or reuse
// that buffer while the events are in use (or must Clone them), and what
// it keeps for long it copies, so as not to pin a buffer or a block.
//
// A Decoder is not safe for concurrent use; it is cheap, so use one per
// goroutine.
type Decoder struct {
	strs  []string // arena for Groups/SourceIPs slices
	bytes []byte   // arena for the decoded escapes of string values
	// page is set when a document decoded was one page of a longer
	// answer (filter-log-events output with a nextToken); the reader
	// says so (ReadOptions.Warn) and clears it.
	page *Origin
	// pageKey is the key that said so (nextToken or NextToken).
	pageKey string
	// minute spares reading the minute of each time again (parseTime).
	minute minuteCache
}

// MaxDepth bounds JSON nesting, so hostile input cannot exhaust the stack.
const MaxDepth = 512

// maxWrapDepth bounds records inside records (a CloudWatch event whose
// message is a Fluent Bit record whose log is the event is depth 2).
const maxWrapDepth = 4

// Decode decodes one JSON document (usually one line) and appends the
// events it holds to dst:
//   - an audit.k8s.io Event (v1 or v1beta1), also inside a record with extra
//     keys (Fluent Bit: cluster, source, date, ...);
//   - a batch: an EventList (items), AKS diagnostic records ({"records":
//     [...]}), `aws logs filter-log-events` output (events[].message), a
//     CloudWatch Logs subscription message (logEvents[].message;
//     CONTROL_MESSAGE holds no events);
//   - a record that carries an event as a JSON string or object under log,
//     message, @message or jsonPayload (shippers, CloudWatch Logs events),
//     or json in a Filebeat record (record.beats); when it has more than
//     one of these keys, the one that holds an audit event, whatever the
//     key order (chooseWrapped: Filebeat's log is the file the line came
//     from, its message the event);
//   - a line of Fluentd's out_file in its default format (time, tag and
//     record, tab-separated: outFileLine), the record one of these;
//   - an AKS diagnostic record (category kube-audit or kube-audit-admin,
//     the event in properties.log, a string or an object);
//   - a Cloud Logging LogEntry whose protoPayload is a Kubernetes
//     google.cloud.audit.AuditLog (GKE), mapped onto an audit event.
//
// Anything else is a Reject naming what it is. When a batch holds several
// bad items, the Reject names the first and counts the others (DecodeTo
// reports each).
func (d *Decoder) Decode(dst []Event, doc []byte, o Origin) ([]Event, *Reject) {
	var rejs []Reject
	dst = d.decodeTop(dst, &rejs, doc, o)
	if len(rejs) == 0 {
		return dst, nil
	}
	r := rejs[0]
	if len(rejs) > 1 {
		r.Reason += fmt.Sprintf(" (and %d more rejected items in this document)", len(rejs)-1)
	}
	return dst, &r
}

// DecodeTo decodes doc like Decode, appending its events to b.Events and a
// Reject for every bad item to b.Rejects.
func (d *Decoder) DecodeTo(b *Batch, doc []byte, o Origin) {
	b.Events = d.decodeTop(b.Events, &b.Rejects, doc, o)
}

func (d *Decoder) decodeTop(dst []Event, rejs *[]Reject, doc []byte, o Origin) []Event {
	n0, r0 := len(dst), len(*rejs)
	dst = d.decodeWhole(dst, rejs, doc, o)
	if len(*rejs) == r0 || len(dst) != n0 {
		return dst
	}
	return d.joined(dst, rejs, doc, o, r0)
}

// eventStart is how the API server begins every event it writes to its
// log ({"kind":"Event","apiVersion":"audit.k8s.io/v1",...): an audit
// event never holds another, so where it occurs after the start of a
// line, an event begins.
var eventStart = []byte(`{"kind":"Event","apiVersion":"audit.k8s.io/`)

// joined reads again a document rejected whole (o.Line's line) that holds
// more than one value: an event cut short by a crash mid-write with the
// next one appended when the API server restarted, whole events whose
// newline was lost, an event after a stretch of NUL bytes (a zero-filled
// block). The line is cut where an event begins as the API server writes
// one (eventStart) and after a whole value followed by '{'; each part is
// decoded on its own, the damaged ones rejected (saying where the rest
// of the line is read from), the others read and cited at their column.
// When no part holds an event, the line stays the one reject it was.
func (d *Decoder) joined(dst []Event, rejs *[]Reject, doc []byte, o Origin, r0 int) []Event {
	if s := newScanner(doc, 0); s.SkipValue(0) == nil {
		if s.SkipWS(); s.I == len(doc) {
			return dst // one JSON value, rejected for what it is
		}
	}
	n0 := len(dst)
	saved := append([]Reject(nil), (*rejs)[r0:]...)
	*rejs = (*rejs)[:r0]
	for pos := 0; pos < len(doc); {
		end, next := len(doc), len(doc)
		if k := bytes.Index(doc[pos+1:], eventStart); k >= 0 {
			end, next = pos+1+k, pos+1+k
		}
		s := newScanner(doc[:end], pos)
		s.SkipWS()
		if s.SkipValue(0) == nil {
			j := s.I
			if s.SkipWS(); s.I < end && doc[s.I] == '{' {
				// Whole values back to back: a newline lost.
				end, next = j, s.I
			}
		}
		seg := doc[pos:end]
		if !isBlank(seg) {
			m := len(*rejs)
			dst = d.decodeWhole(dst, rejs, seg, o.at(doc, pos))
			for i := m; i < len(*rejs); i++ {
				r := &(*rejs)[i]
				if len(bytes.Trim(seg, "\x00")) == 0 {
					r.Reason = nulReason(len(seg))
				}
				if next < len(doc) {
					r.Reason += fmt.Sprintf("; the rest of the line, from column %d, is read on its own (an event cut short, or a lost newline, joined it to this line)", max(o.Col, 1)+int64(next))
				}
			}
		}
		pos = next
	}
	if len(dst) == n0 {
		*rejs = append((*rejs)[:r0], saved...)
		if len(saved) == 1 && len(bytes.Trim(doc, "\x00")) == 0 {
			(*rejs)[r0].Reason = nulReason(len(doc))
		}
	}
	return dst
}

func nulReason(n int) string {
	return fmt.Sprintf("%d NUL bytes (a stretch of zeros, as a crash leaves in a file)", n)
}

// decodeWhole decodes doc as one document.
func (d *Decoder) decodeWhole(dst []Event, rejs *[]Reject, doc []byte, o Origin) []Event {
	if !utf8.Valid(doc) {
		reason := utf16Reason
		if !utf16Text(doc) {
			i := invalidUTF8At(doc)
			reason = fmt.Sprintf("invalid UTF-8 at byte %d%s", i, lineOf(doc, i, o))
		}
		*rejs = append(*rejs, *newReject(o, doc, reason))
		return dst
	}
	return d.decodeValue(dst, rejs, doc, o, 0)
}

// lineOf returns " (line N)" for byte i of a document that spans lines
// (whose first line is o.Line), "" for a one-line document.
func lineOf(doc []byte, i int, o Origin) string {
	i = min(i, len(doc))
	if o.Line == 0 || bytes.IndexByte(doc[:i], '\n') < 0 {
		return ""
	}
	return fmt.Sprintf(" (line %d)", o.Line+int64(bytes.Count(doc[:i], []byte{'\n'})))
}

// at returns the origin of doc[n:] when o is that of doc: the offset
// moves on by n bytes, the line by the newlines among them, and the
// column to where doc[n] is in its line (0 when it starts the line).
func (o Origin) at(doc []byte, n int) Origin {
	o.Offset += int64(n)
	if o.Line == 0 || n == 0 {
		return o
	}
	if k := bytes.LastIndexByte(doc[:n], '\n'); k >= 0 {
		o.Line += int64(bytes.Count(doc[:k+1], []byte{'\n'}))
		o.Col = int64(n - k)
	} else {
		o.Col = max(o.Col, 1) + int64(n)
	}
	if o.Col == 1 {
		o.Col = 0
	}
	return o
}

func (d *Decoder) malformed(doc []byte, o Origin, err error) *Reject {
	msg := err.Error()
	if se, ok := err.(*jsonscan.SyntaxError); ok {
		if why, ok := typeMismatch(doc, se.Off); ok {
			return newReject(o, doc, why+" ("+msg+lineOf(doc, se.Off, o)+")")
		}
		msg += lineOf(doc, se.Off, o)
	}
	return newReject(o, doc, "malformed JSON: "+msg)
}

// decodeValue decodes one JSON document (valid UTF-8) at nesting depth of
// records.
func (d *Decoder) decodeValue(dst []Event, rejs *[]Reject, doc []byte, o Origin, depth int) []Event {
	s := newScanner(doc, 0)
	s.arena = &d.bytes
	s.SkipWS()
	if s.I >= len(doc) {
		*rejs = append(*rejs, *newReject(o, doc, "empty document"))
		return dst
	}
	if doc[s.I] != '{' {
		if depth == 0 && doc[s.I] >= '0' && doc[s.I] <= '9' {
			if out, ok := d.outFileLine(dst, rejs, doc, s.I, o); ok {
				return out
			}
		}
		if depth == 0 && bytes.HasPrefix(doc[s.I:], bomUTF8) {
			// A UTF-8 byte order mark at the start of a line (`cat a.log
			// b.log` where b starts with one) is not part of the event.
			// One is skipped: a run of them is rejected, not recursed
			// into (a line of them would exhaust the stack).
			rest := doc[s.I+len(bomUTF8):]
			if !bytes.HasPrefix(bytes.TrimLeft(rest, " \t\r\n"), bomUTF8) {
				return d.decodeValue(dst, rejs, rest, o.at(doc, s.I+len(bomUTF8)), depth)
			}
		}
		if depth == 0 && utf16Text(doc) {
			*rejs = append(*rejs, *newReject(o, doc, utf16Reason))
			return dst
		}
		if err := s.SkipValue(0); err == nil {
			s.SkipWS()
			if s.I == len(doc) {
				*rejs = append(*rejs, *newReject(o, doc, "JSON value is not an object (not an audit event)"))
				return dst
			}
		}
		*rejs = append(*rejs, *d.malformed(doc, o, s.ErrAt("expected '{'")))
		return dst
	}
	start := s.I
	if start > 0 {
		// Blanks before the record (an indented line): the record, and
		// so its origin, starts after them.
		o = o.at(doc, start)
	}
	var r record
	if err := d.object(&s, &r); err != nil {
		*rejs = append(*rejs, *d.malformed(doc, o, err))
		return dst
	}
	end := s.I
	s.SkipWS()
	if s.I != len(doc) {
		*rejs = append(*rejs, *d.malformed(doc, o, s.ErrAt("unexpected data after the JSON object")))
		return dst
	}
	if s.Newline {
		// A pretty-printed document: LogQL reads its event compact, as
		// the API server writes it (Raw keeps the bytes as read).
		r.pretty = true
	}
	return d.classify(dst, rejs, doc, start, end, &r, o, depth)
}

// classify turns a decoded record into events by its shape.
func (d *Decoder) classify(dst []Event, rejs *[]Reject, doc []byte, start, end int, r *record, o Origin, depth int) []Event {
	raw := doc[start:end]
	switch {
	case r.batch != nil:
		return d.batchItems(dst, rejs, doc, start, r, o, depth)
	case r.proto.end > 0:
		return d.logEntry(dst, rejs, doc, start, end, r, o, depth)
	case r.category != "" && (r.props.end > 0 || r.resourceID != ""):
		return d.aksRecord(dst, rejs, doc, start, end, r, o, depth)
	case r.wrapKey != "" && r.kind != "Event" && r.AuditID == "":
		if r.wraps&(r.wraps-1) != 0 || r.jsonObj.end > 0 && r.beats(doc) {
			return d.chooseWrapped(dst, rejs, doc, start, end, r, o, depth)
		}
		return d.wrapped(dst, rejs, doc, start, end, r, o, depth)
	case r.looksLikeEvent():
	case r.jsonObj.end > 0 && r.kind == "":
		// Filebeat's json, the only key that may hold the event.
		if !r.beats(doc) {
			*rejs = append(*rejs, *newReject(o, raw, "JSON object is not an audit event (no kind, auditID, verb or stage); its json key is read only in a Filebeat record (with @metadata, ecs, agent, or @timestamp and log.offset or log.file.path)"))
			return dst
		}
		r.wrap, r.wrapKey, r.wrapStr, r.wrapEsc = r.jsonObj, "json", false, false
		return d.wrapped(dst, rejs, doc, start, end, r, o, depth)
	case r.kind == "EventList":
		// An EventList without an items array holds nothing.
		return dst
	case r.payloadKey != "" || r.logEntry:
		what := "no protoPayload"
		if r.payloadKey != "" {
			what = "it has " + r.payloadKey + " instead"
		}
		*rejs = append(*rejs, *newReject(o, raw, "GKE LogEntry without protoPayload ("+what+"): not a Kubernetes audit log entry"))
		return dst
	}
	r.placeBodies(start)
	if reason := r.finish(raw, o, &d.minute); reason != "" {
		*rejs = append(*rejs, *newReject(o, raw, reason))
		return dst
	}
	return append(dst, r.Event)
}

// batchLabel names an element of a batch in reject reasons.
func batchLabel(key string, n int) string {
	if key == "items" {
		return fmt.Sprintf("EventList item %d", n)
	}
	return fmt.Sprintf("%s[%d]", key, n)
}

// batchItems decodes the elements of a batch whose record starts at
// doc[start] (at o); each element's Raw is its own bytes, and its origin
// names the line and column where they start.
func (d *Decoder) batchItems(dst []Event, rejs *[]Reject, doc []byte, start int, r *record, o Origin, depth int) []Event {
	if r.msgType == "CONTROL_MESSAGE" {
		// CloudWatch Logs checks that its destination is reachable with
		// these; they hold no log events.
		return dst
	}
	if depth >= maxWrapDepth {
		*rejs = append(*rejs, *newReject(o, doc, "records nested too deeply"))
		return dst
	}
	if depth == 0 && r.batchKey == "events" && r.has&(hasNextToken|hasTokenCLI) != 0 {
		at := o
		d.page, d.pageKey = &at, "nextToken"
		if r.has&hasNextToken == 0 {
			d.pageKey = "NextToken"
		}
	}
	// Lines and the start of the current one are counted on from item to
	// item (ls: the index in doc where the item's line starts; -1 while
	// on the record's first line, which starts at column o.Col).
	line, counted, ls := o.Line, start, -1
	for n, it := range r.batch {
		io := o
		io.Offset = o.Offset + int64(it.start-start)
		if o.Line > 0 {
			if seg := doc[counted:it.start]; bytes.IndexByte(seg, '\n') >= 0 {
				line += int64(bytes.Count(seg, []byte{'\n'}))
				ls = counted + bytes.LastIndexByte(seg, '\n') + 1
			}
			counted = it.start
			io.Line = line
			if ls < 0 {
				io.Col = max(o.Col, 1) + int64(it.start-start)
			} else {
				io.Col = int64(it.start-ls) + 1
			}
			if io.Col == 1 {
				io.Col = 0
			}
		}
		before, n0 := len(*rejs), len(dst)
		dst = d.decodeValue(dst, rejs, doc[it.start:it.end], io, depth+1)
		for i := before; i < len(*rejs); i++ {
			(*rejs)[i].Reason = batchLabel(r.batchKey, n) + ": " + (*rejs)[i].Reason
		}
		for i := n0; i < len(dst); i++ {
			if dst[i].Cluster == "" {
				dst[i].Cluster = r.Cluster
			}
		}
	}
	return dst
}

// wrapped decodes the event a record carries under r.wrapKey.
func (d *Decoder) wrapped(dst []Event, rejs *[]Reject, doc []byte, start, end int, r *record, o Origin, depth int) []Event {
	raw := doc[start:end]
	what := "field " + r.wrapKey
	if r.logStream != "" {
		what = fmt.Sprintf("CloudWatch Logs event of log stream %q: %s", r.logStream, r.wrapKey)
	}
	if depth >= maxWrapDepth {
		*rejs = append(*rejs, *newReject(o, raw, what+": records nested too deeply"))
		return dst
	}
	inner := doc[r.wrap.start:r.wrap.end]
	if r.wrapStr {
		text := bytes.TrimLeft(inner, " \t")
		if len(text) == 0 || text[0] != '{' {
			if bytes.HasPrefix(text, []byte("CWL CONTROL MESSAGE")) {
				return dst // a CloudWatch Logs health check, not a log event
			}
			*rejs = append(*rejs, *newReject(o, raw, what+" holds text, not a JSON audit event"))
			return dst
		}
		if r.wrapEsc {
			u, err := unescape(inner)
			if err != nil {
				*rejs = append(*rejs, *newReject(o, raw, "malformed JSON: "+what+": "+err.Error()))
				return dst
			}
			inner = u
		}
	}
	var sub []Reject
	n0 := len(dst)
	dst = d.decodeValue(dst, &sub, inner, Origin{Source: o.Source, Line: o.Line, Offset: o.Offset}, depth+1)
	for _, rj := range sub {
		*rejs = append(*rejs, *newReject(o, raw, what+": "+rj.Reason))
	}
	carrier, kind := r.carrierTime(), r.carrier(doc)
	for i := n0; i < len(dst); i++ {
		e := &dst[i]
		e.Raw = raw
		e.Origin = o
		e.Carrier = kind // the outer record's, when records nest
		if r.Cluster != "" {
			e.Cluster = r.Cluster
		}
		if e.Time == 0 {
			e.Time = carrier
		}
	}
	return dst
}

// outFileLine decodes doc[i:] when it is a line of Fluentd's out_file in
// its default format (OutFileLine); ok is false when it is not. The
// record's events are cited at the line, their Raw the line from its time
// on; one without a time of its own (nor one its record gives) takes the
// line's. A bad record is rejected naming the line, its tag and where the
// record starts (the reason's byte offsets count from there).
func (d *Decoder) outFileLine(dst []Event, rejs *[]Reject, doc []byte, i int, o Origin) ([]Event, bool) {
	line := bytes.TrimRight(doc[i:], " \t\r\n")
	ts, tag, record, why, ok := OutFileLine(line)
	if !ok {
		return dst, false
	}
	o = o.at(doc, i)
	if why != "" {
		*rejs = append(*rejs, *newReject(o, line, "line of Fluentd's out_file format (time, tag, record): "+why))
		return dst, true
	}
	at := len(line) - len(record)
	var sub []Reject
	n0 := len(dst)
	dst = d.decodeValue(dst, &sub, record, o.at(line, at), 1)
	for _, rj := range sub {
		*rejs = append(*rejs, *newReject(o, line, fmt.Sprintf("Fluentd out_file line (tag %q), its record from byte %d: %s", tag, at, rj.Reason)))
	}
	for k := n0; k < len(dst); k++ {
		e := &dst[k]
		e.Raw, e.Origin, e.Carrier = line, o, CarrierFluentdFile
		if e.Time == 0 {
			e.Time = ts
		}
	}
	return dst, true
}

// wrapKeys are the keys a record may carry its event under, in the order
// chooseWrapped takes them when more than one holds the same event (json
// only in a Filebeat record: record.beats).
var wrapKeys = [...]string{"log", "message", "@message", "jsonPayload", "json"}

// wrapBit is key's bit in record.wraps.
func wrapBit(key string) uint8 {
	switch key {
	case "log":
		return 1
	case "message":
		return 2
	case "@message":
		return 4
	case "json":
		return 16
	}
	return 8 // jsonPayload
}

// chooseWrapped decodes a record that has more than one of the keys that
// may hold the event (log, message, @message, jsonPayload, and json in a
// Filebeat record), whatever their order: Filebeat and Logstash write the
// event under message (under json when Filebeat decodes JSON lines) and
// the file it came from under log ({"log":{"offset":...,"file":
// {"path":...}}}); a container log record may have a message beside its
// log. Each is decoded, and the event is the one that holds an audit
// event:
//   - a key whose value is text, or JSON that is not an audit event, does
//     not hold one; a value that is only event-like (a level or verb,
//     without an auditID or an audit.k8s.io apiVersion: ECS's log.level)
//     holds one only when no other key holds a true audit event;
//   - when several hold the same event (equal as JSON), the first of
//     log, message, @message, jsonPayload, json is taken;
//   - when they hold different events, which one the record carries is
//     ambiguous: the record is rejected naming the keys and the first
//     field that differs (eventsDiff; neither is read: a reject is seen,
//     a silent choice is not);
//   - when none holds one, the record is rejected with the reason of
//     each key.
func (d *Decoder) chooseWrapped(dst []Event, rejs *[]Reject, doc []byte, start, end int, r *record, o Origin, depth int) []Event {
	type cand struct {
		sp       span
		str, esc bool
		ok       bool
	}
	var cands [len(wrapKeys)]cand
	useJSON := r.jsonObj.end > 0 && r.beats(doc)
	// The same choice as the first reading made for a repeated key: the
	// first string, or the first object.
	s := newScanner(doc[:end], start)
	err := members(&s, func(k string) error {
		i := -1
		for j, w := range wrapKeys {
			if w == k {
				i = j
			}
		}
		if i < 0 || s.I >= len(s.B) || k == "json" && (!useJSON || s.B[s.I] != '{') {
			return s.SkipValue(1)
		}
		c := &cands[i]
		switch s.B[s.I] {
		case '"':
			if k == "jsonPayload" {
				return s.SkipValue(1)
			}
			st, en, esc, err := s.String()
			if err == nil && !c.ok {
				*c = cand{span{st, en}, true, esc, true}
			}
			return err
		case '{':
			sp, err := s.valueSpan(1)
			if err == nil && (!c.ok || c.str) {
				*c = cand{sp, false, false, true}
			}
			return err
		}
		return s.SkipValue(1)
	})
	if err != nil {
		// The record was read once already; it cannot fail now.
		return d.wrapped(dst, rejs, doc, start, end, r, o, depth)
	}
	type try struct {
		key    string
		evs    []Event
		rejs   []Reject
		strong bool
	}
	var tries []try
	strong := false
	for i, c := range cands {
		if !c.ok {
			continue
		}
		r.wrap, r.wrapKey, r.wrapStr, r.wrapEsc = c.sp, wrapKeys[i], c.str, c.esc
		var sub []Reject
		evs := d.wrapped(nil, &sub, doc, start, end, r, o, depth)
		t := try{key: wrapKeys[i], evs: evs, rejs: sub}
		for j := range evs {
			if evs[j].AuditID != "" || strings.HasPrefix(evs[j].APIVersion, "audit.k8s.io/") {
				t.strong = true
			}
		}
		strong = strong || t.strong
		tries = append(tries, t)
	}
	var held []int
	for i, t := range tries {
		if len(t.evs) > 0 && (t.strong || !strong) {
			held = append(held, i)
		}
	}
	raw := doc[start:end]
	if len(held) == 0 {
		keys := make([]string, len(tries))
		var reasons []string
		for i, t := range tries {
			keys[i] = t.key
			switch {
			case len(t.rejs) > 0:
				reasons = append(reasons, t.rejs[0].Reason)
			case len(t.evs) == 0:
				reasons = append(reasons, "field "+t.key+" holds no audit event")
			}
		}
		*rejs = append(*rejs, *newReject(o, raw, "no audit event under "+strings.Join(keys, ", ")+": "+strings.Join(reasons, "; ")))
		return dst
	}
	first := tries[held[0]]
	for _, h := range held[1:] {
		if t := tries[h]; !sameEvents(first.evs, t.evs) {
			*rejs = append(*rejs, *newReject(o, raw, fmt.Sprintf("%s and %s hold different audit events (%s): which one the record carries is ambiguous; neither is read",
				first.key, t.key, eventsDiff(first.evs, t.evs))))
			return dst
		}
	}
	*rejs = append(*rejs, first.rejs...)
	return append(dst, first.evs...)
}

// sameEvents reports whether a and b are the same events: as many, each
// equal to the other's as JSON (keys in any order, the same values).
func sameEvents(a, b []Event) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !bytes.Equal(a[i].Line, b[i].Line) && !jsonEqual(a[i].Line, b[i].Line) {
			return false
		}
	}
	return true
}

// jsonEqual reports whether a and b are equal JSON values (numbers
// compared as written).
func jsonEqual(a, b []byte) bool {
	var va, vb any
	for _, x := range []struct {
		in []byte
		v  *any
	}{{a, &va}, {b, &vb}} {
		dec := json.NewDecoder(bytes.NewReader(x.in))
		dec.UseNumber()
		if dec.Decode(x.v) != nil {
			return false
		}
	}
	return reflect.DeepEqual(va, vb)
}

// aksRecord decodes an AKS diagnostic record (Azure resource log).
func (d *Decoder) aksRecord(dst []Event, rejs *[]Reject, doc []byte, start, end int, r *record, o Origin, depth int) []Event {
	raw := doc[start:end]
	if r.category != "kube-audit" && r.category != "kube-audit-admin" {
		*rejs = append(*rejs, *newReject(o, raw, fmt.Sprintf("AKS record of category %q: not an audit log (AKS writes audit events under kube-audit and kube-audit-admin)", r.category)))
		return dst
	}
	// properties.log: the event as a JSON string (usual) or an object.
	found := false
	if r.props.end > 0 {
		s := newScanner(doc[:r.props.end], r.props.start)
		err := members(&s, func(k string) error {
			if k != "log" || found {
				return s.SkipValue(2)
			}
			switch s.B[s.I] {
			case '"':
				st, en, esc, err := s.String()
				if err == nil {
					r.wrap, r.wrapStr, r.wrapEsc, found = span{st, en}, true, esc, true
				}
				return err
			case '{':
				sp, err := s.valueSpan(2)
				if err == nil {
					r.wrap, r.wrapStr, r.wrapEsc, found = sp, false, false, true
				}
				return err
			}
			return s.SkipValue(2)
		})
		if err != nil {
			found = false
		}
	}
	if !found {
		*rejs = append(*rejs, *newReject(o, raw, fmt.Sprintf("AKS record of category %q without properties.log", r.category)))
		return dst
	}
	r.wrapKey = "properties.log"
	if c := AKSCluster(r.resourceID); c != "" && r.Cluster == "" {
		r.Cluster = c
	}
	n0 := len(dst)
	dst = d.wrapped(dst, rejs, doc, start, end, r, o, depth)
	for i := n0; i < len(dst); i++ {
		if dst[i].Cluster == "" {
			dst[i].Cluster = r.Cluster
		}
	}
	return dst
}

// errFound stops a walk over an object's members once what it looks for
// is found.
var errFound = errors.New("found")

// AKSCategory returns the category of an AKS diagnostic record (an Event's
// Raw when its Carrier is CarrierAKS): "kube-audit" or "kube-audit-admin";
// "" when raw is not a record with a category. AKS sends an event in two
// records, one of each, when a diagnostic setting enables both categories
// (kube-audit-admin is kube-audit without get and list): Dups and the
// TUI's index count such a pair once, and say why.
func AKSCategory(raw []byte) string {
	s := newScanner(raw, 0)
	s.SkipWS()
	if s.I >= len(raw) || raw[s.I] != '{' {
		return ""
	}
	var cat string
	err := members(&s, func(k string) error {
		if k != "category" || s.B[s.I] != '"' {
			return s.SkipValue(1)
		}
		v, err := s.str()
		if err != nil {
			return err
		}
		switch v { // constants, not views of raw
		case "kube-audit":
			cat = "kube-audit"
		case "kube-audit-admin":
			cat = "kube-audit-admin"
		default:
			cat = strings.Clone(v)
		}
		return errFound // category comes before properties, as AKS writes it
	})
	if err != nil && !errors.Is(err, errFound) {
		return ""
	}
	return cat
}

// PageMessage says that the `aws logs filter-log-events` output at o is
// one page of a longer answer: it has key (nextToken, from the API with
// --no-paginate; NextToken, from the AWS CLI with --max-items).
func PageMessage(o Origin, key string) string {
	resume := "--starting-token"
	if key == "nextToken" {
		resume = "--next-token"
	}
	return fmt.Sprintf("%s: this `aws logs filter-log-events` output has %s: it is one page of a longer answer, and the events of the pages after it are missing unless they are read too (without --max-items or --no-paginate the AWS CLI fetches every page; %s resumes after this one)", o.Where(), key, resume)
}

// sayPage tells opts.Warn that a document decoded was one page of a
// longer answer (once a chunk: no work per event).
func (d *Decoder) sayPage(opts *ReadOptions) {
	if d.page != nil {
		opts.Warnf("%s", PageMessage(*d.page, d.pageKey))
		d.page = nil
	}
}

// AKSCluster returns the cluster name of an AKS resource ID
// (/SUBSCRIPTIONS/.../PROVIDERS/MICROSOFT.CONTAINERSERVICE/MANAGEDCLUSTERS/NAME).
func AKSCluster(id string) string {
	const seg = "/managedclusters/"
	i := strings.LastIndex(strings.ToLower(id), seg)
	if i < 0 {
		return ""
	}
	name := id[i+len(seg):]
	if j := strings.IndexByte(name, '/'); j >= 0 {
		name = name[:j]
	}
	return name
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

// carrierTime is the time the carrier of an event recorded (0 if none or
// unreadable): a CloudWatch Logs event's timestamp, a Fluent Bit date, an
// AKS record's or a Docker record's time, a Logs Insights, Filebeat or
// Logstash @timestamp, a Vector timestamp (in that order when a record
// has several).
func (r *record) carrierTime() int64 {
	if r.carrierNS != 0 {
		return r.carrierNS
	}
	if r.carrierTS != "" {
		if t, err := ParseTime(r.carrierTS); err == nil {
			return t
		}
	}
	if r.legacyTS != "" {
		// The record's own timestamp as text: Vector's, a Cloud Logging
		// entry's (the record's decEvent reads it as v1beta1's).
		if t, err := ParseTime(r.legacyTS); err == nil {
			return t
		}
	}
	return 0
}

// finish validates and completes an event; it returns a reject reason or
// "". Its times are read with mc (ParseTime's answers).
func (r *record) finish(raw []byte, o Origin, mc *minuteCache) string {
	ev := &r.decEvent
	if !ev.looksLikeEvent() {
		if ev.kind != "" {
			return fmt.Sprintf("JSON object of kind %q is not an audit event", ev.kind)
		}
		return "JSON object is not an audit event (no kind, auditID, verb or stage)"
	}
	ev.Raw = raw
	ev.Line = raw
	if r.pretty {
		ev.Line = compactJSON(raw)
	}
	ev.Origin = o
	var err error
	// An event's time: stageTimestamp, else requestReceivedTimestamp, else
	// v1beta1's timestamp, else the time its carrier recorded.
	if ev.hasRecv {
		if ev.Received, err = mc.parseTime(ev.receivedTS); err != nil {
			return "field requestReceivedTimestamp: " + err.Error()
		}
	}
	ev.NoStageTime = !ev.hasStageTS
	switch {
	case ev.hasStageTS:
		if ev.Time, err = mc.parseTime(ev.stageTS); err != nil {
			return "field stageTimestamp: " + err.Error()
		}
	case ev.hasRecv:
		ev.Time = ev.Received
	case ev.hasLegTS:
		if ev.Time, err = mc.parseTime(ev.legacyTS); err != nil {
			return "field timestamp: " + err.Error()
		}
	default:
		ev.Time = r.carrierTime()
	}
	ev.DryRun = dryRunOf(&ev.Event)
	ev.IDHash = HashAuditID(ev.AuditID)
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
