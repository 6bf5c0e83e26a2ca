// Package process applies ship's record processors to audit lines: add keys
// (cluster, source), remove keys (managedFields inside request/response
// objects by default) and redact Secret data/stringData values with a hash
// so changes stay visible. It also extracts what the sinks need: the entry
// time (stageTimestamp) and the values of the label-key fields.
//
// A line that needs no change is forwarded byte for byte; one that does is
// re-serialised with its key order kept. A line that is not a JSON object
// is forwarded unchanged and counted (nothing is dropped).
package process

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/valyala/fastjson"
)

// Options configure a Processor.
type Options struct {
	// Add: top-level keys added when absent, in order.
	Add []KV
	// RemoveKeys: dotted paths; "*" matches every key or array element.
	RemoveKeys []string
	// Redact Secret data/stringData values.
	Redact bool
	// RedactKey, when set, makes the hash an HMAC-SHA256 with this key.
	RedactKey []byte
	// Fields are JSON paths whose string values are extracted into
	// Record.Fields, in order (label keys, structured metadata keys).
	Fields [][]string
}

// KV is a key and its string value.
type KV struct{ Key, Value string }

// Record is a processed line.
type Record struct {
	// Line is the (possibly rewritten) line without its newline.
	Line []byte
	// Time is stageTimestamp (else requestReceivedTimestamp, else
	// timestamp) in Unix ns; the read time when the line has none.
	Time int64
	// Fields hold the values of Options.Fields ("" when absent or not a
	// scalar).
	Fields []string
	// Unparsed is set when the line is not a JSON object.
	Unparsed bool
	// Changed is set when the line was rewritten (keys removed/redacted).
	Changed bool
	// Redacted counts the values replaced by hashes.
	Redacted int
	// Spool, when set, holds the line instead of Line: SpoolSize bytes
	// from offset 0 (a line too long to keep in memory, from ProcessTo).
	Spool     io.ReaderAt
	SpoolSize int64
}

// Len is the length of the line.
func (r *Record) Len() int64 {
	if r.Spool != nil {
		return r.SpoolSize
	}
	return int64(len(r.Line))
}

// WriteLine writes the line (without a newline) to w.
func (r *Record) WriteLine(w io.Writer) error {
	if r.Spool == nil {
		_, err := w.Write(r.Line)
		return err
	}
	_, err := io.Copy(w, io.NewSectionReader(r.Spool, 0, r.SpoolSize))
	return err
}

// Processor processes lines. It is not safe for concurrent use; make one
// per goroutine.
type Processor struct {
	o      Options
	remove [][]string
	add    [][]byte // `,"key":"value"` fragments
	p      fastjson.Parser
	a      fastjson.Arena
	h      hash.Hash
	intern map[string]string
	fbuf   []string // Record.Fields are carved from blocks of this
	Now    func() time.Time
}

// New returns a processor.
func New(o Options) *Processor {
	p := &Processor{o: o, intern: map[string]string{}, Now: time.Now}
	for _, k := range o.RemoveKeys {
		p.remove = append(p.remove, strings.Split(k, "."))
	}
	for _, kv := range o.Add {
		p.add = append(p.add, []byte(","+strconv.Quote(kv.Key)+":"+strconv.Quote(kv.Value)))
	}
	if len(o.RedactKey) > 0 {
		p.h = hmac.New(sha256.New, o.RedactKey)
	} else {
		p.h = sha256.New()
	}
	return p
}

// Process processes one line (without its newline). The returned Line may
// alias line (unchanged) or dst's storage (appended to dst).
func (p *Processor) Process(dst, line []byte) (rec Record, out []byte) {
	if nf := len(p.o.Fields); nf > 0 {
		if len(p.fbuf) < nf {
			p.fbuf = make([]string, nf*512)
		}
		rec.Fields = p.fbuf[:nf:nf]
		p.fbuf = p.fbuf[nf:]
	}
	v, err := p.p.ParseBytes(line)
	if err != nil || v.Type() != fastjson.TypeObject {
		rec.Unparsed = true
		rec.Time = p.Now().UnixNano()
		rec.Line = line
		return rec, dst
	}
	rec.Time = eventTime(v)
	if rec.Time == 0 {
		rec.Time = p.Now().UnixNano()
	}
	for i, path := range p.o.Fields {
		rec.Fields[i] = p.field(v, path)
	}
	p.a.Reset()
	changed := false
	for _, path := range p.remove {
		if removePath(v, path) {
			changed = true
		}
	}
	if p.o.Redact {
		if n := p.redact(v); n > 0 {
			rec.Redacted = n
			changed = true
		}
	}
	var missing [][]byte
	for i, kv := range p.o.Add {
		if v.Get(kv.Key) == nil {
			missing = append(missing, p.add[i])
		}
	}
	if !changed && len(missing) == 0 {
		rec.Line = line
		return rec, dst
	}
	start := len(dst)
	if changed {
		dst = v.MarshalTo(dst)
		rec.Changed = true
	} else {
		dst = append(dst, line...)
	}
	if len(missing) > 0 {
		dst = appendKeys(dst, start, missing)
	}
	rec.Line = dst[start:]
	return rec, dst
}

// appendKeys inserts `,"k":"v"` fragments before the closing brace of the
// object in dst[start:].
func appendKeys(dst []byte, start int, frags [][]byte) []byte {
	end := len(dst)
	for end > start && isSpace(dst[end-1]) {
		end--
	}
	if end == start || dst[end-1] != '}' {
		return dst
	}
	empty := true
	for i := end - 2; i >= start; i-- {
		if isSpace(dst[i]) {
			continue
		}
		empty = dst[i] == '{'
		break
	}
	var ins []byte
	for i, f := range frags {
		if i == 0 && empty {
			f = f[1:]
		}
		ins = append(ins, f...)
	}
	closing := append([]byte(nil), dst[end-1:]...)
	dst = append(dst[:end-1], ins...)
	return append(dst, closing...)
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

func (p *Processor) field(v *fastjson.Value, path []string) string {
	f := v.Get(path...)
	if f == nil {
		return ""
	}
	var b []byte
	switch f.Type() {
	case fastjson.TypeString:
		b = f.GetStringBytes()
	case fastjson.TypeNumber:
		b = f.MarshalTo(nil)
	case fastjson.TypeTrue:
		return "true"
	case fastjson.TypeFalse:
		return "false"
	default:
		return ""
	}
	return p.internString(b)
}

// internString returns b as a string, shared with earlier equal values
// (label values repeat).
func (p *Processor) internString(b []byte) string {
	if s, ok := p.intern[string(b)]; ok {
		return s
	}
	s := string(b)
	if len(p.intern) < 10000 {
		p.intern[s] = s
	}
	return s
}

// eventTime returns the event's time in Unix ns, 0 if it has none.
func eventTime(v *fastjson.Value) int64 {
	for _, k := range [...]string{"stageTimestamp", "requestReceivedTimestamp", "timestamp"} {
		if b := v.GetStringBytes(k); len(b) > 0 {
			if t, err := parseRFC3339(string(b)); err == nil {
				return t
			}
		}
	}
	return 0
}

// removePath deletes the value at path; "*" fans out over object keys or
// array elements. It reports whether anything was removed.
func removePath(v *fastjson.Value, path []string) bool {
	if v == nil || len(path) == 0 {
		return false
	}
	head := path[0]
	if len(path) == 1 {
		switch v.Type() {
		case fastjson.TypeObject:
			if head == "*" {
				o := v.GetObject()
				if o.Len() == 0 {
					return false
				}
				var keys []string
				o.Visit(func(k []byte, _ *fastjson.Value) { keys = append(keys, string(k)) })
				for _, k := range keys {
					o.Del(k)
				}
				return true
			}
			if v.Get(head) == nil {
				return false
			}
			v.Del(head)
			return true
		}
		return false
	}
	removed := false
	switch v.Type() {
	case fastjson.TypeObject:
		if head == "*" {
			v.GetObject().Visit(func(_ []byte, c *fastjson.Value) {
				if removePath(c, path[1:]) {
					removed = true
				}
			})
			return removed
		}
		return removePath(v.Get(head), path[1:])
	case fastjson.TypeArray:
		arr, _ := v.Array()
		if head == "*" {
			for _, c := range arr {
				if removePath(c, path[1:]) {
					removed = true
				}
			}
			return removed
		}
		if i, err := strconv.Atoi(head); err == nil && i >= 0 && i < len(arr) {
			return removePath(arr[i], path[1:])
		}
	}
	return false
}

// RedactPrefix starts every redacted value.
const RedactPrefix = "redacted:sha256:"

// redact replaces Secret data/stringData values in requestObject and
// responseObject. It returns how many values it replaced. Every member
// with a name is visited, duplicates included: a patch is logged as it was
// sent, and a decoder that keeps the last duplicate would see the value a
// first-match lookup skips.
func (p *Processor) redact(v *fastjson.Value) int {
	secrets := string(v.GetStringBytes("objectRef", "resource")) == "secrets" &&
		len(v.GetStringBytes("objectRef", "apiGroup")) == 0
	n := 0
	for _, k := range [...]string{"requestObject", "responseObject"} {
		members(v, k, func(o *fastjson.Value) { n += p.redactObject(o, secrets) })
	}
	return n
}

// members calls f with every member of object v named key.
func members(v *fastjson.Value, key string, f func(*fastjson.Value)) {
	o, err := v.Object()
	if err != nil {
		return
	}
	o.Visit(func(k []byte, c *fastjson.Value) {
		if string(k) == key {
			f(c)
		}
	})
}

func (p *Processor) redactObject(obj *fastjson.Value, secrets bool) int {
	if obj == nil {
		return 0
	}
	n := 0
	switch obj.Type() {
	case fastjson.TypeObject:
		kind := string(obj.GetStringBytes("kind"))
		hasItems := obj.Get("items") != nil
		if kind == "Secret" || (secrets && kind != "SecretList" && kind != "Status" && !hasItems) {
			n += p.redactSecret(obj)
		}
		if kind == "SecretList" || (secrets && hasItems) || kind == "List" {
			members(obj, "items", func(items *fastjson.Value) {
				for _, it := range items.GetArray() {
					if kind == "List" && string(it.GetStringBytes("kind")) != "Secret" {
						continue
					}
					n += p.redactSecret(it)
				}
			})
		}
	case fastjson.TypeArray:
		// A JSON patch against a secret: [{"op":"add","path":"/data/x","value":"..."}].
		if !secrets {
			return 0
		}
		for _, op := range obj.GetArray() {
			path := string(op.GetStringBytes("path"))
			if !strings.HasPrefix(path, "/data") && !strings.HasPrefix(path, "/stringData") {
				continue
			}
			members(op, "value", func(val *fastjson.Value) {
				switch val.Type() {
				case fastjson.TypeString:
					*val = *p.hashValue(val.GetStringBytes())
					n++
				case fastjson.TypeObject:
					n += p.redactMap(val)
				}
			})
		}
	}
	return n
}

func (p *Processor) redactSecret(obj *fastjson.Value) int {
	n := 0
	for _, k := range [...]string{"data", "stringData"} {
		members(obj, k, func(m *fastjson.Value) { n += p.redactMap(m) })
	}
	return n
}

// redactMap replaces every value of object m (in place, so duplicate keys
// are each replaced).
func (p *Processor) redactMap(m *fastjson.Value) int {
	if m == nil || m.Type() != fastjson.TypeObject {
		return 0
	}
	n := 0
	m.GetObject().Visit(func(_ []byte, val *fastjson.Value) {
		if val.Type() == fastjson.TypeString && strings.HasPrefix(string(val.GetStringBytes()), RedactPrefix) {
			return
		}
		var raw []byte
		if val.Type() == fastjson.TypeString {
			raw = val.GetStringBytes()
		} else {
			raw = val.MarshalTo(nil)
		}
		*val = *p.hashValue(raw)
		n++
	})
	return n
}

func (p *Processor) hashValue(b []byte) *fastjson.Value {
	return p.a.NewString(p.hashString(b))
}

// hashString is what a redacted value becomes.
func (p *Processor) hashString(b []byte) string {
	p.h.Reset()
	p.h.Write(b)
	sum := p.h.Sum(nil)
	return RedactPrefix + hex.EncodeToString(sum[:8])
}

func parseRFC3339(s string) (int64, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return 0, err
	}
	return t.UnixNano(), nil
}
