package data

import (
	"strings"
	"unsafe"

	"github.com/audittui/audittui/internal/data/logql"
)

// Event implements logql.Entry: the LogQL engine reads stream labels from
// the event's source and `| json` fields from the decoded columns, falling
// back to flattening the raw line only for fields the decoder does not
// keep (request/response bodies and the like).
var _ logql.Entry = (*Event)(nil)

// EntryTime is the event time in Unix nanoseconds.
func (e *Event) EntryTime() int64 { return e.Time }

// EntryLine is the audit event's JSON as LogQL reads it: Line (the event
// inside a record, or built from a Cloud Logging entry), else Raw.
func (e *Event) EntryLine() []byte {
	if e.Line != nil {
		return e.Line
	}
	return e.Raw
}

// StreamLabel returns a stream label of the event's source.
func (e *Event) StreamLabel(name string) (string, bool) {
	if e.Origin.Source == nil {
		return "", false
	}
	return e.Origin.Source.Labels.Get(name)
}

// RangeStreamLabels calls fn for every stream label.
func (e *Event) RangeStreamLabels(fn func(name, value string)) {
	if e.Origin.Source == nil {
		return
	}
	for _, l := range e.Origin.Source.Labels {
		fn(l.Name, l.Value)
	}
}

// JSONField returns what `| json` extracts under a flattened name.
func (e *Event) JSONField(name string) (string, bool) {
	if v, ok, known := e.Field(name); known {
		return v, ok
	}
	var val string
	var found bool
	_ = logql.FlattenJSON(e.EntryLine(), func(n, v string) {
		if !found && n == name {
			val, found = v, true
		}
	})
	return val, found
}

// JSONPath evaluates a `| json x="a.b[0].c"` expression: from the decoded
// event when the schema has a getter for that path (sourceIPs[0],
// user.username, ...), else on the raw line.
func (e *Event) JSONPath(path string) (string, bool) {
	if i, ok := byPath[path]; ok && schema[i].Get != nil {
		return schema[i].Get(e)
	}
	if path == SourceIPsPath {
		return SourceIPsJSON(e)
	}
	return logql.ExtractJSONPath(e.EntryLine(), path)
}

// SourceIPsPath is the JSON expression of the whole sourceIPs array
// (`| json src_ips="sourceIPs"`), which SourceIPsJSON answers from the
// decoded event.
const SourceIPsPath = "sourceIPs"

// SourceIPsJSON returns the event's sourceIPs as the JSON text `| json
// x="sourceIPs"` extracts from an apiserver's line (["10.1.2.3","203.0.113.7"]:
// the apiserver writes it compact, and addresses need no escapes), built
// from the decoded addresses instead of scanning the line: the built-in
// rules ask for it on every service-account and node request (a request is
// from inside the cluster only when every address is). ok is false when
// the event has no address.
func SourceIPsJSON(e *Event) (string, bool) {
	if len(e.SourceIPs) == 0 {
		return "", false
	}
	if s, ok := sourceIPsInLine(e); ok {
		return s, true
	}
	n := 1
	for _, ip := range e.SourceIPs {
		n += len(ip) + 3
	}
	var b strings.Builder // one allocation: String does not copy
	b.Grow(n)
	b.WriteByte('[')
	for i, ip := range e.SourceIPs {
		if i > 0 {
			b.WriteByte(',')
		}
		writeJSONString(&b, ip)
	}
	b.WriteByte(']')
	return b.String(), true
}

// SourceIPsText renders sourceIPs on one line: the first address (the
// sourceIP field, sourceIPs[0]) and, when the API server recorded more,
// " via " and the others, "203.0.113.9 via 10.0.0.5". The API server
// lists X-Forwarded-For's addresses, then X-Real-Ip's, then the address
// its connection came from, last (k8s.io/apimachinery's SourceIPs): all
// but the last are whatever the client sent. Untrusted: sanitise to draw.
func SourceIPsText(ips []string) string {
	switch len(ips) {
	case 0:
		return ""
	case 1:
		return ips[0]
	}
	return ips[0] + " via " + strings.Join(ips[1:], ", ")
}

// writeJSONString writes s as a JSON string: quotes, backslashes and
// control characters escaped (an address has none).
func writeJSONString(b *strings.Builder, s string) {
	const hex = "0123456789abcdef"
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20:
			b.WriteString(`\u00`)
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
}

// RangeJSONFields calls fn for every field `| json` would extract.
func (e *Event) RangeJSONFields(fn func(name, value string)) {
	_ = logql.FlattenJSON(e.EntryLine(), fn)
}

// sourceIPsInLine returns the array's text straight from the event's line,
// without a copy, when the decoded addresses are views of that line
// written as the API server writes them: ["a","b"], nothing between. The
// text is then exactly what SourceIPsJSON would build; an address the
// decoder had to unescape (a copy) or any space in the array gives ok
// false.
func sourceIPsInLine(e *Event) (string, bool) {
	line := e.EntryLine()
	if len(line) == 0 {
		return "", false
	}
	base := uintptr(unsafe.Pointer(unsafe.SliceData(line)))
	first, next := 0, 0 // where the text starts; just past the last address
	for i, ip := range e.SourceIPs {
		p := uintptr(unsafe.Pointer(unsafe.StringData(ip)))
		if ip == "" || p < base || p+uintptr(len(ip)) > base+uintptr(len(line)) {
			return "", false
		}
		off := int(p - base)
		if i == 0 {
			if off < 2 || line[off-2] != '[' || line[off-1] != '"' {
				return "", false
			}
			first = off - 2
		} else if off != next+3 || line[next] != '"' || line[next+1] != ',' || line[next+2] != '"' {
			return "", false
		}
		next = off + len(ip)
	}
	if next+2 > len(line) || line[next] != '"' || line[next+1] != ']' {
		return "", false
	}
	return b2s(line[first : next+2]), true
}
