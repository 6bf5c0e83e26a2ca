package logql

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"unicode/utf8"

	"github.com/audittui/audittui/internal/data/jsonscan"
)

// This file flattens JSON lines the way Loki's `| json` parser does, and
// evaluates Loki's JSON path expressions (`| json a="x.y[0].z"`).
//
// Flattening rules (Loki's JSONParser):
//   - nested object keys are joined with "_": {"user":{"username":"a"}}
//     gives user_username="a";
//   - every character of a key that is not [a-zA-Z0-9_] becomes "_" (one
//     "_" per character, also for multi-byte characters); leading and
//     trailing blanks of a key are trimmed; a top-level key starting with a
//     digit gets a "_" prefix;
//   - strings are unescaped; numbers keep their JSON text exactly (403,
//     1.5e3); booleans are true/false; null values and arrays are skipped;
//   - when the same name occurs twice, the first value wins.
//
// The "_extracted" suffix for a name that collides with a stream label is
// applied by the query engine, not here: FlattenJSON reports raw names.

// maxJSONDepth bounds nesting while scanning.
const maxJSONDepth = 10000

var errJSONDepth = errors.New("json nested too deeply")

// FlattenJSON calls fn for every field Loki's `| json` parser extracts from
// line, in document order, with its flattened name and its value. It
// returns an error when line is not a JSON object (fields seen before the
// error have been reported). Duplicate names are reported each time; a
// consumer that follows Loki keeps the first.
func FlattenJSON(line []byte, fn func(name, value string)) error {
	return flattenBytes(line, func(name, value []byte) { fn(string(name), string(value)) })
}

// flattenBytes is FlattenJSON with byte slices that are only valid during
// the call of fn.
func flattenBytes(line []byte, fn func(name, value []byte)) error {
	s := newJScan(line)
	s.SkipWS()
	if s.I >= len(s.B) || s.B[s.I] != '{' {
		return s.errf("expected a JSON object")
	}
	var buf [128]byte
	if err := s.flattenObject(buf[:0], fn); err != nil {
		return err
	}
	s.SkipWS()
	if s.I != len(s.B) {
		return s.errf("unexpected data after the JSON object")
	}
	return nil
}

// AppendLabelName appends the Loki label name for object key key to dst,
// where dst holds the name of the enclosing object ("" at top level).
func AppendLabelName(dst []byte, key []byte) []byte {
	key = bytes.TrimSpace(key)
	if len(dst) > 0 {
		dst = append(dst, '_')
	}
	if len(key) == 0 {
		return dst
	}
	if len(dst) == 0 && isDigit(key[0]) {
		dst = append(dst, '_')
	}
	for len(key) > 0 {
		c := key[0]
		if c < utf8.RuneSelf {
			if isIdentChar(c) {
				dst = append(dst, c)
			} else {
				dst = append(dst, '_')
			}
			key = key[1:]
			continue
		}
		_, size := utf8.DecodeRune(key)
		dst = append(dst, '_')
		key = key[size:]
	}
	return dst
}

// jscan is the shared JSON lexer (internal/data/jsonscan) with the state
// of one flattening: its nesting, and scratch space for unescaped strings
// and label names.
type jscan struct {
	jsonscan.Scanner
	depth   int
	scratch []byte // unescaped strings
	name    []byte // label names being emitted
}

func newJScan(line []byte) jscan {
	return jscan{Scanner: jsonscan.Scanner{B: line, MaxDepth: maxJSONDepth}}
}

func (s *jscan) errf(format string, args ...any) error {
	return fmt.Errorf("invalid json at offset %d: %s", s.I, fmt.Sprintf(format, args...))
}

// wrap turns a scanner error into the engine's error text.
func (s *jscan) wrap(err error) error {
	if err == nil {
		return err
	}
	var se *jsonscan.SyntaxError
	if errors.As(err, &se) {
		if se.Msg == "nesting too deep" {
			return errJSONDepth
		}
		return fmt.Errorf("invalid json at offset %d: %s", se.Off, se.Msg)
	}
	return err
}

// skipValue skips any JSON value at s.I.
func (s *jscan) skipValue() error {
	return s.wrap(s.SkipValue(s.depth))
}

// readString reads a string at s.I (which must be '"') and returns its raw
// contents (between the quotes) and whether it holds escapes.
func (s *jscan) readString() ([]byte, bool, error) {
	st, en, esc, err := s.String()
	if err != nil {
		return nil, false, s.wrap(err)
	}
	return s.B[st:en], esc, nil
}

func (s *jscan) flattenObject(prefix []byte, fn func(name, value []byte)) error {
	s.depth++
	defer func() { s.depth-- }()
	if s.depth > maxJSONDepth {
		return errJSONDepth
	}
	s.I++ // '{'
	for first := true; ; first = false {
		key, esc, done, err := s.NextKey(first)
		if err != nil {
			return s.wrap(err)
		}
		if done {
			return nil
		}
		if esc {
			k, err := jsonscan.Unescape(key, nil)
			if err != nil {
				return s.errf("%v", err)
			}
			key = k
		}
		switch c := s.B[s.I]; c {
		case '{':
			if err := s.flattenObject(AppendLabelName(prefix, key), fn); err != nil {
				return err
			}
		case '[':
			if err := s.skipValue(); err != nil {
				return err
			}
		case 'n':
			if err := s.Literal("null"); err != nil {
				return s.wrap(err)
			}
		case 't', 'f':
			lit := "true"
			if c == 'f' {
				lit = "false"
			}
			if err := s.Literal(lit); err != nil {
				return s.wrap(err)
			}
			s.emit(prefix, key, s.B[s.I-len(lit):s.I], fn)
		case '"':
			raw, vesc, err := s.readString()
			if err != nil {
				return err
			}
			if vesc {
				u, err := jsonscan.Unescape(raw, s.scratch[:0])
				if err != nil {
					return s.errf("%v", err)
				}
				s.scratch = u
				raw = u
			}
			s.emit(prefix, key, raw, fn)
		default:
			num, err := s.Number()
			if err != nil {
				return s.wrap(err)
			}
			s.emit(prefix, key, num, fn)
		}
	}
}

func (s *jscan) emit(prefix, key, value []byte, fn func(name, value []byte)) {
	s.name = AppendLabelName(append(s.name[:0], prefix...), key)
	if len(s.name) == 0 {
		return
	}
	fn(s.name, value)
}

// UnescapeJSON decodes the escapes of a JSON string body (the bytes between
// the quotes) into dst (nil: a new slice).
// Unpaired surrogates become U+FFFD, as encoding/json does.
func UnescapeJSON(raw []byte, dst []byte) ([]byte, error) { return jsonscan.Unescape(raw, dst) }

// JSONPath is a compiled Loki JSON expression such as
// `requestObject.spec.containers[0].securityContext.privileged` or
// `annotations["authorization.k8s.io/decision"]`.
type JSONPath struct {
	text  string
	elems []pathElem
}

type pathElem struct {
	key   string
	index int // >= 0 for an array index
}

// String returns the path as written.
func (p *JSONPath) String() string { return p.text }

// CompileJSONPath parses a JSON expression: a field name, then any of
// .field, [index] and ["field"].
func CompileJSONPath(path string) (*JSONPath, error) {
	p := &JSONPath{text: path}
	i := 0
	field := func() string {
		j := i
		for j < len(path) && path[j] != '.' && path[j] != '[' && path[j] != ']' && path[j] != '"' && path[j] != ' ' {
			j++
		}
		f := path[i:j]
		i = j
		return f
	}
	if path == "" {
		return nil, errors.New("empty path")
	}
	if path[0] != '[' {
		f := field()
		if f == "" {
			return nil, fmt.Errorf("unexpected %q at position %d", path[i], i+1)
		}
		p.elems = append(p.elems, pathElem{key: f, index: -1})
	}
	for i < len(path) {
		switch path[i] {
		case '.':
			i++
			f := field()
			if f == "" {
				return nil, fmt.Errorf("expected a field name at position %d", i+1)
			}
			p.elems = append(p.elems, pathElem{key: f, index: -1})
		case '[':
			i++
			if i < len(path) && path[i] == '"' {
				j := i + 1
				for j < len(path) && path[j] != '"' {
					if path[j] == '\\' {
						j++
					}
					j++
				}
				if j >= len(path) {
					return nil, errors.New("unterminated string in [\"...\"]")
				}
				k, err := strconv.Unquote(path[i : j+1])
				if err != nil {
					return nil, fmt.Errorf("bad string %s at position %d", path[i:j+1], i+1)
				}
				p.elems = append(p.elems, pathElem{key: k, index: -1})
				i = j + 1
			} else {
				j := i
				for j < len(path) && isDigit(path[j]) {
					j++
				}
				if j == i || j-i > 9 {
					return nil, fmt.Errorf("expected an array index or a quoted field at position %d", i+1)
				}
				n, _ := strconv.Atoi(path[i:j])
				p.elems = append(p.elems, pathElem{index: n})
				i = j
			}
			if i >= len(path) || path[i] != ']' {
				return nil, fmt.Errorf("expected ']' at position %d", i+1)
			}
			i++
		default:
			return nil, fmt.Errorf("unexpected %q at position %d", path[i], i+1)
		}
	}
	return p, nil
}

// Extract returns the value at the path in line, rendered as Loki does:
// strings unescaped, numbers and booleans as written, null as "", objects
// and arrays as their JSON text. ok is false when the path does not exist
// or line is not valid JSON up to the value.
func (p *JSONPath) Extract(line []byte) (string, bool) {
	s := newJScan(line)
	s.SkipWS()
	for _, el := range p.elems {
		if s.I >= len(s.B) {
			return "", false
		}
		if !s.descend(el) {
			return "", false
		}
		s.SkipWS()
	}
	if s.I >= len(s.B) {
		return "", false
	}
	start := s.I
	switch s.B[s.I] {
	case '"':
		raw, esc, err := s.readString()
		if err != nil {
			return "", false
		}
		if !esc {
			return string(raw), true
		}
		u, err := UnescapeJSON(raw, nil)
		if err != nil {
			return "", false
		}
		return string(u), true
	case 'n':
		if s.Literal("null") != nil {
			return "", false
		}
		return "", true
	}
	if err := s.skipValue(); err != nil {
		return "", false
	}
	return string(s.B[start:s.I]), true
}

// descend moves s from the container at s.I to the member el.
func (s *jscan) descend(el pathElem) bool {
	if el.index < 0 {
		if s.B[s.I] != '{' {
			return false
		}
		s.I++
		for first := true; ; first = false {
			key, esc, done, err := s.NextKey(first)
			if err != nil || done {
				return false
			}
			if esc {
				u, err := jsonscan.Unescape(key, nil)
				if err != nil {
					return false
				}
				key = u
			}
			if string(key) == el.key {
				return true
			}
			if s.skipValue() != nil {
				return false
			}
		}
	}
	if s.B[s.I] != '[' {
		return false
	}
	s.depth++
	s.I++
	for n := 0; ; n++ {
		done, err := s.NextElem(n == 0)
		if err != nil || done {
			return false
		}
		if n == el.index {
			return true
		}
		if s.skipValue() != nil {
			return false
		}
	}
}

// compiledPaths caches CompileJSONPath for ExtractJSONPath: a pipeline
// asks for the same few paths (those its queries name) on every entry.
var compiledPaths sync.Map // path -> *JSONPath, or nil when invalid

// ExtractJSONPath extracts path from line (see JSONPath.Extract), the
// path compiled once per process. An invalid path gives ok == false.
func ExtractJSONPath(line []byte, path string) (string, bool) {
	v, ok := compiledPaths.Load(path)
	if !ok {
		p, err := CompileJSONPath(path)
		if err != nil {
			p = nil
		}
		v, _ = compiledPaths.LoadOrStore(path, p)
	}
	p := v.(*JSONPath)
	if p == nil {
		return "", false
	}
	return p.Extract(line)
}

// JSONEntry is a ready Entry over one JSON line: stream labels given as
// pairs, fields flattened lazily on first use (into one allocation). It
// is not safe for concurrent use (the lazy flattening mutates it).
type JSONEntry struct {
	Time   int64       // Unix nanoseconds
	Line   []byte      // the raw line
	Labels [][2]string // stream labels (name, value)

	done   bool
	err    error
	fields [][2]string // document order, duplicates included
}

func (e *JSONEntry) flatten() {
	if e.done {
		return
	}
	e.done = true
	arena := make([]byte, 0, len(e.Line)+len(e.Line)/2)
	offs := make([]int32, 0, 128)
	e.err = flattenBytes(e.Line, func(name, value []byte) {
		arena = append(arena, name...)
		offs = append(offs, int32(len(arena)))
		arena = append(arena, value...)
		offs = append(offs, int32(len(arena)))
	})
	all := string(arena)
	e.fields = make([][2]string, len(offs)/2)
	prev := int32(0)
	for i := range e.fields {
		n, v := offs[2*i], offs[2*i+1]
		e.fields[i] = [2]string{all[prev:n], all[n:v]}
		prev = v
	}
}

// EntryTime returns Time.
func (e *JSONEntry) EntryTime() int64 { return e.Time }

// EntryLine returns Line.
func (e *JSONEntry) EntryLine() []byte { return e.Line }

// StreamLabel returns the stream label name.
func (e *JSONEntry) StreamLabel(name string) (string, bool) {
	for _, l := range e.Labels {
		if l[0] == name {
			return l[1], true
		}
	}
	return "", false
}

// RangeStreamLabels calls fn for each stream label.
func (e *JSONEntry) RangeStreamLabels(fn func(name, value string)) {
	for _, l := range e.Labels {
		fn(l[0], l[1])
	}
}

// JSONField returns the flattened field name (first occurrence).
func (e *JSONEntry) JSONField(name string) (string, bool) {
	e.flatten()
	for _, f := range e.fields {
		if f[0] == name {
			return f[1], true
		}
	}
	return "", false
}

// JSONPath extracts a JSON expression from the line.
func (e *JSONEntry) JSONPath(path string) (string, bool) {
	return ExtractJSONPath(e.Line, path)
}

// RangeJSONFields calls fn for each flattened field, first occurrence of
// each name only, in document order.
func (e *JSONEntry) RangeJSONFields(fn func(name, value string)) {
	e.flatten()
	var seen map[string]bool
	if len(e.fields) > 16 {
		seen = make(map[string]bool, len(e.fields))
	}
	for i, f := range e.fields {
		if seen != nil {
			if seen[f[0]] {
				continue
			}
			seen[f[0]] = true
		} else if dupBefore(e.fields[:i], f[0]) {
			continue
		}
		fn(f[0], f[1])
	}
}

func dupBefore(fs [][2]string, name string) bool {
	for _, f := range fs {
		if f[0] == name {
			return true
		}
	}
	return false
}

// JSONError reports why the line is not a JSON object (nil if it is).
func (e *JSONEntry) JSONError() error {
	e.flatten()
	return e.err
}

// jsonErrorer is implemented by entries that can tell the engine their
// line failed to parse, so `| json` sets __error__="JSONParserErr".
type jsonErrorer interface {
	JSONError() error
}

// LookupJSONField returns the value `| json` extracts from line under the
// flattened name (the first occurrence, as FlattenJSON's first-wins
// consumer sees it), scanning only the parts of the line whose names can
// lead to name: other subtrees are skipped without building names or
// values. It allocates only the returned value. ok is false when the field
// is absent; a malformed line gives ok == false as well, unless the field
// was found before the damage.
func LookupJSONField(line []byte, name string) (string, bool) {
	s := newJScan(line)
	s.SkipWS()
	if s.I >= len(s.B) || s.B[s.I] != '{' {
		return "", false
	}
	var buf [128]byte
	v, ok, _ := s.lookupObject(buf[:0], name)
	return v, ok
}

// lookupObject searches the object at s.I whose label prefix is prefix.
func (s *jscan) lookupObject(prefix []byte, name string) (string, bool, error) {
	s.depth++
	defer func() { s.depth-- }()
	if s.depth > maxJSONDepth {
		return "", false, errJSONDepth
	}
	s.I++ // '{'
	for first := true; ; first = false {
		key, esc, done, err := s.NextKey(first)
		if err != nil {
			return "", false, s.wrap(err)
		}
		if done {
			return "", false, nil
		}
		if esc {
			k, err := jsonscan.Unescape(key, nil)
			if err != nil {
				return "", false, err
			}
			key = k
		}
		full := AppendLabelName(prefix, key)
		switch c := s.B[s.I]; c {
		case '{':
			// Descend only if a field below can be called name.
			if len(full) == 0 || (len(name) > len(full) && name[len(full)] == '_' && name[:len(full)] == string(full)) {
				v, ok, err := s.lookupObject(full, name)
				if err != nil || ok {
					return v, ok, err
				}
				continue
			}
			if err := s.skipValue(); err != nil {
				return "", false, err
			}
		case '[', 'n':
			if err := s.skipValue(); err != nil {
				return "", false, err
			}
		case '"':
			raw, vesc, err := s.readString()
			if err != nil {
				return "", false, err
			}
			if string(full) != name {
				continue
			}
			if vesc {
				u, err := jsonscan.Unescape(raw, nil)
				if err != nil {
					return "", false, err
				}
				raw = u
			}
			return string(raw), true, nil
		default:
			start := s.I
			if err := s.skipValue(); err != nil {
				return "", false, err
			}
			if string(full) == name {
				return string(s.B[start:s.I]), true, nil
			}
		}
	}
}
