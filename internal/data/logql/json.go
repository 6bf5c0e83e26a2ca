package logql

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
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
	s := jscan{b: line}
	s.ws()
	if s.i >= len(s.b) || s.b[s.i] != '{' {
		return s.errf("expected a JSON object")
	}
	var buf [128]byte
	if err := s.flattenObject(buf[:0], fn); err != nil {
		return err
	}
	s.ws()
	if s.i != len(s.b) {
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

type jscan struct {
	b       []byte
	i       int
	depth   int
	scratch []byte // unescaped strings
	name    []byte // label names being emitted
}

func (s *jscan) errf(format string, args ...any) error {
	return fmt.Errorf("invalid json at offset %d: %s", s.i, fmt.Sprintf(format, args...))
}

func (s *jscan) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// readString reads a string at s.i (which must be '"') and returns its raw
// contents (between the quotes) and whether it holds escapes.
func (s *jscan) readString() ([]byte, bool, error) {
	start := s.i + 1
	esc := false
	for j := start; j < len(s.b); j++ {
		switch c := s.b[j]; {
		case c == '"':
			s.i = j + 1
			return s.b[start:j], esc, nil
		case c == '\\':
			esc = true
			j++
		case c < 0x20:
			s.i = j
			return nil, false, s.errf("control character in string")
		}
	}
	s.i = len(s.b)
	return nil, false, s.errf("unterminated string")
}

// readNumber reads a JSON number at s.i.
func (s *jscan) readNumber() ([]byte, error) {
	start := s.i
	j := s.i
	if j < len(s.b) && s.b[j] == '-' {
		j++
	}
	digits := j
	for j < len(s.b) && isDigit(s.b[j]) {
		j++
	}
	if j == digits {
		s.i = start
		return nil, s.errf("invalid value")
	}
	if j < len(s.b) && s.b[j] == '.' {
		j++
		d := j
		for j < len(s.b) && isDigit(s.b[j]) {
			j++
		}
		if j == d {
			s.i = j
			return nil, s.errf("invalid number")
		}
	}
	if j < len(s.b) && (s.b[j] == 'e' || s.b[j] == 'E') {
		j++
		if j < len(s.b) && (s.b[j] == '+' || s.b[j] == '-') {
			j++
		}
		d := j
		for j < len(s.b) && isDigit(s.b[j]) {
			j++
		}
		if j == d {
			s.i = j
			return nil, s.errf("invalid number")
		}
	}
	s.i = j
	return s.b[start:j], nil
}

func (s *jscan) literal(lit string) error {
	if len(s.b)-s.i >= len(lit) && string(s.b[s.i:s.i+len(lit)]) == lit {
		s.i += len(lit)
		return nil
	}
	return s.errf("invalid value")
}

// skipValue skips any JSON value at s.i.
func (s *jscan) skipValue() error {
	if s.i >= len(s.b) {
		return s.errf("unexpected end of input")
	}
	switch s.b[s.i] {
	case '"':
		_, _, err := s.readString()
		return err
	case '{':
		return s.skipContainer('{', '}')
	case '[':
		return s.skipContainer('[', ']')
	case 't':
		return s.literal("true")
	case 'f':
		return s.literal("false")
	case 'n':
		return s.literal("null")
	}
	_, err := s.readNumber()
	return err
}

func (s *jscan) skipContainer(open, close byte) error {
	s.depth++
	defer func() { s.depth-- }()
	if s.depth > maxJSONDepth {
		return errJSONDepth
	}
	s.i++
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == close {
		s.i++
		return nil
	}
	for {
		if open == '{' {
			if s.i >= len(s.b) || s.b[s.i] != '"' {
				return s.errf("expected an object key")
			}
			if _, _, err := s.readString(); err != nil {
				return err
			}
			s.ws()
			if s.i >= len(s.b) || s.b[s.i] != ':' {
				return s.errf("expected ':'")
			}
			s.i++
			s.ws()
		}
		if err := s.skipValue(); err != nil {
			return err
		}
		s.ws()
		if s.i >= len(s.b) {
			return s.errf("unexpected end of input")
		}
		switch s.b[s.i] {
		case ',':
			s.i++
			s.ws()
		case close:
			s.i++
			return nil
		default:
			return s.errf("expected ',' or '%c'", close)
		}
	}
}

// objectEach calls fn for each member of the object at s.i with its raw
// key (escapes not decoded: check hasEsc); fn must consume the value.
func (s *jscan) objectEach(fn func(key []byte, hasEsc bool) error) error {
	s.depth++
	defer func() { s.depth-- }()
	if s.depth > maxJSONDepth {
		return errJSONDepth
	}
	s.i++ // '{'
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == '}' {
		s.i++
		return nil
	}
	for {
		if s.i >= len(s.b) || s.b[s.i] != '"' {
			return s.errf("expected an object key")
		}
		key, esc, err := s.readString()
		if err != nil {
			return err
		}
		s.ws()
		if s.i >= len(s.b) || s.b[s.i] != ':' {
			return s.errf("expected ':'")
		}
		s.i++
		s.ws()
		if s.i >= len(s.b) {
			return s.errf("unexpected end of input")
		}
		if err := fn(key, esc); err != nil {
			return err
		}
		s.ws()
		if s.i >= len(s.b) {
			return s.errf("unexpected end of input")
		}
		switch s.b[s.i] {
		case ',':
			s.i++
			s.ws()
		case '}':
			s.i++
			return nil
		default:
			return s.errf("expected ',' or '}'")
		}
	}
}

func (s *jscan) flattenObject(prefix []byte, fn func(name, value []byte)) error {
	return s.objectEach(func(rawKey []byte, esc bool) error {
		key := rawKey
		if esc {
			k, err := UnescapeJSON(rawKey, nil)
			if err != nil {
				return s.errf("%v", err)
			}
			key = k
		}
		switch c := s.b[s.i]; c {
		case '{':
			return s.flattenObject(AppendLabelName(prefix, key), fn)
		case '[':
			return s.skipValue()
		case 'n':
			return s.literal("null")
		case 't', 'f':
			lit := "true"
			if c == 'f' {
				lit = "false"
			}
			if err := s.literal(lit); err != nil {
				return err
			}
			s.emit(prefix, key, s.b[s.i-len(lit):s.i], fn)
			return nil
		case '"':
			raw, vesc, err := s.readString()
			if err != nil {
				return err
			}
			if vesc {
				u, err := UnescapeJSON(raw, s.scratch[:0])
				if err != nil {
					return s.errf("%v", err)
				}
				s.scratch = u
				raw = u
			}
			s.emit(prefix, key, raw, fn)
			return nil
		}
		num, err := s.readNumber()
		if err != nil {
			return err
		}
		s.emit(prefix, key, num, fn)
		return nil
	})
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
func UnescapeJSON(raw []byte, dst []byte) ([]byte, error) {
	if dst == nil {
		dst = make([]byte, 0, len(raw))
	}
	dst = dst[:0]
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if c != '\\' {
			dst = append(dst, c)
			continue
		}
		i++
		if i >= len(raw) {
			return nil, errors.New("bad escape at end of string")
		}
		switch raw[i] {
		case '"', '\\', '/':
			dst = append(dst, raw[i])
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r, ok := hex4(raw, i+1)
			if !ok {
				return nil, errors.New("bad \\u escape in string")
			}
			i += 4
			if utf16.IsSurrogate(r) {
				r2, ok2 := rune(-1), false
				if i+6 < len(raw) && raw[i+1] == '\\' && raw[i+2] == 'u' {
					r2, ok2 = hex4(raw, i+3)
				}
				if dec := utf16.DecodeRune(r, r2); ok2 && dec != utf8.RuneError {
					r = dec
					i += 6
				} else {
					r = utf8.RuneError
				}
			}
			dst = utf8.AppendRune(dst, r)
		default:
			return nil, fmt.Errorf("bad escape \\%c in string", raw[i])
		}
	}
	return dst, nil
}

func hex4(b []byte, i int) (rune, bool) {
	if i+4 > len(b) {
		return 0, false
	}
	v, err := strconv.ParseUint(string(b[i:i+4]), 16, 32)
	if err != nil {
		return 0, false
	}
	return rune(v), true
}

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
	s := jscan{b: line}
	s.ws()
	for _, el := range p.elems {
		if s.i >= len(s.b) {
			return "", false
		}
		if !s.descend(el) {
			return "", false
		}
		s.ws()
	}
	if s.i >= len(s.b) {
		return "", false
	}
	start := s.i
	switch s.b[s.i] {
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
		if s.literal("null") != nil {
			return "", false
		}
		return "", true
	}
	if err := s.skipValue(); err != nil {
		return "", false
	}
	return string(s.b[start:s.i]), true
}

// descend moves s from the container at s.i to the member el.
func (s *jscan) descend(el pathElem) bool {
	found := errors.New("found")
	if el.index < 0 {
		if s.b[s.i] != '{' {
			return false
		}
		err := s.objectEach(func(key []byte, esc bool) error {
			k := key
			if esc {
				u, err := UnescapeJSON(key, nil)
				if err != nil {
					return err
				}
				k = u
			}
			if string(k) == el.key {
				return found
			}
			return s.skipValue()
		})
		return err == found
	}
	if s.b[s.i] != '[' {
		return false
	}
	s.depth++
	s.i++
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == ']' {
		return false
	}
	for n := 0; ; n++ {
		if n == el.index {
			return s.i < len(s.b)
		}
		if s.skipValue() != nil {
			return false
		}
		s.ws()
		if s.i >= len(s.b) || s.b[s.i] != ',' {
			return false
		}
		s.i++
		s.ws()
	}
}

// ExtractJSONPath compiles path and extracts it from line (see
// JSONPath.Extract). An invalid path gives ok == false.
func ExtractJSONPath(line []byte, path string) (string, bool) {
	p, err := CompileJSONPath(path)
	if err != nil {
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
	s := jscan{b: line}
	s.ws()
	if s.i >= len(s.b) || s.b[s.i] != '{' {
		return "", false
	}
	var buf [128]byte
	v, ok, _ := s.lookupObject(buf[:0], name)
	return v, ok
}

var errFound = errors.New("found")

// lookupObject searches the object at s.i whose label prefix is prefix.
func (s *jscan) lookupObject(prefix []byte, name string) (string, bool, error) {
	var val string
	err := s.objectEach(func(rawKey []byte, esc bool) error {
		key := rawKey
		if esc {
			k, err := UnescapeJSON(rawKey, nil)
			if err != nil {
				return err
			}
			key = k
		}
		full := AppendLabelName(prefix, key)
		switch c := s.b[s.i]; c {
		case '{':
			// Descend only if a field below can be called name.
			if len(full) == 0 || (len(name) > len(full) && name[len(full)] == '_' && name[:len(full)] == string(full)) {
				v, ok, err := s.lookupObject(full, name)
				if err != nil {
					return err
				}
				if ok {
					val = v
					return errFound
				}
				return nil
			}
			return s.skipValue()
		case '[', 'n':
			return s.skipValue()
		case '"':
			raw, vesc, err := s.readString()
			if err != nil {
				return err
			}
			if string(full) != name {
				return nil
			}
			if vesc {
				u, err := UnescapeJSON(raw, nil)
				if err != nil {
					return err
				}
				raw = u
			}
			val = string(raw)
			return errFound
		}
		start := s.i
		if err := s.skipValue(); err != nil {
			return err
		}
		if string(full) == name {
			val = string(s.b[start:s.i])
			return errFound
		}
		return nil
	})
	if err == errFound {
		return val, true, nil
	}
	return "", false, err
}
