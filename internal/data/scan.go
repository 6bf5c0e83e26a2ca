package data

import (
	"encoding/binary"
	"fmt"
	"strconv"

	"github.com/audittui/audittui/internal/data/logql"
)

// scanner is a minimal validating JSON scanner over one document.
type scanner struct {
	b []byte
	i int
}

type syntaxError struct {
	off int
	msg string
}

func (e *syntaxError) Error() string { return fmt.Sprintf("%s at byte %d", e.msg, e.off) }

func (s *scanner) errAt(msg string) error { return &syntaxError{off: s.i, msg: msg} }

func (s *scanner) eof() error {
	return &syntaxError{off: s.i, msg: "unexpected end of input (truncated line?)"}
}

func (s *scanner) skipWS() {
	if s.i < len(s.b) && s.b[s.i] > ' ' {
		return // the common case: compact JSON
	}
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// expect consumes byte c after optional whitespace.
func (s *scanner) expect(c byte) error {
	s.skipWS()
	if s.i >= len(s.b) {
		return s.eof()
	}
	if s.b[s.i] != c {
		return s.errAt(fmt.Sprintf("expected %q, found %q", c, s.b[s.i]))
	}
	s.i++
	return nil
}

// rawString scans a string starting at the opening quote and returns its
// content span (without quotes) and whether it holds escapes.
func (s *scanner) rawString() (start, end int, escaped bool, err error) {
	// s.b[s.i] == '"'
	s.i++
	start = s.i
	b := s.b
	for i := s.i; i < len(b); i++ {
		// Skip 8 bytes at a time while none is '"', '\\' or a control
		// character.
		for i+8 <= len(b) {
			x := binary.LittleEndian.Uint64(b[i:])
			if swarStop(x) {
				break
			}
			i += 8
		}
		if i >= len(b) {
			break
		}
		c := b[i]
		if c == '"' {
			s.i = i + 1
			return start, i, escaped, nil
		}
		if c == '\\' {
			escaped = true
			i++
			if i >= len(b) {
				break
			}
			switch b[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if i+4 >= len(b) {
					s.i = i
					return 0, 0, false, s.eof()
				}
				for k := 1; k <= 4; k++ {
					if !isHex(b[i+k]) {
						s.i = i + k
						return 0, 0, false, s.errAt("invalid \\u escape")
					}
				}
				i += 4
			default:
				s.i = i
				return 0, 0, false, s.errAt("invalid escape")
			}
			continue
		}
		if c < 0x20 {
			s.i = i
			return 0, 0, false, s.errAt("control character in string")
		}
	}
	s.i = len(b)
	return 0, 0, false, s.eof()
}

const (
	swarLo = 0x0101010101010101
	swarHi = 0x8080808080808080
)

// swarStop reports whether any byte of x is '"', '\\' or below 0x20.
func swarStop(x uint64) bool {
	q := x ^ (swarLo * '"')
	bs := x ^ (swarLo * '\\')
	return ((x-swarLo*0x20)&^x|(q-swarLo)&^q|(bs-swarLo)&^bs)&swarHi != 0
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// str reads a JSON string value (the scanner must be at '"'). Unescaped
// strings are views into the input; escaped ones are decoded copies.
func (s *scanner) str() (string, error) {
	start, end, esc, err := s.rawString()
	if err != nil {
		return "", err
	}
	if !esc {
		return b2s(s.b[start:end]), nil
	}
	u, err := unescape(s.b[start:end])
	if err != nil {
		return "", err
	}
	return b2s(u), nil
}

// strOrNull reads a string, or null (returning ""). Other types are errors
// naming field.
func (s *scanner) strOrNull(field string) (string, error) {
	s.skipWS()
	if s.i >= len(s.b) {
		return "", s.eof()
	}
	switch s.b[s.i] {
	case '"':
		return s.str()
	case 'n':
		return "", s.literal("null")
	}
	return "", s.errAt("field " + field + ": expected a string")
}

func (s *scanner) literal(lit string) error {
	if len(s.b)-s.i < len(lit) || string(s.b[s.i:s.i+len(lit)]) != lit {
		if len(s.b)-s.i < len(lit) && string(s.b[s.i:]) == lit[:len(s.b)-s.i] {
			return s.eof()
		}
		return s.errAt("invalid literal")
	}
	s.i += len(lit)
	return nil
}

// number scans a JSON number and returns its text.
func (s *scanner) number() ([]byte, error) {
	b := s.b
	start := s.i
	i := s.i
	if i < len(b) && b[i] == '-' {
		i++
	}
	if i >= len(b) {
		s.i = i
		return nil, s.eof()
	}
	switch {
	case b[i] == '0':
		i++
	case b[i] >= '1' && b[i] <= '9':
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	default:
		s.i = i
		return nil, s.errAt("invalid number")
	}
	if i < len(b) && b[i] == '.' {
		i++
		d := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == d {
			s.i = i
			return nil, s.errAt("invalid number")
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		d := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == d {
			s.i = i
			return nil, s.errAt("invalid number")
		}
	}
	s.i = i
	return b[start:i], nil
}

// skipValue validates and skips any JSON value.
func (s *scanner) skipValue(depth int) error {
	s.skipWS()
	if s.i >= len(s.b) {
		return s.eof()
	}
	switch c := s.b[s.i]; c {
	case '"':
		_, _, _, err := s.rawString()
		return err
	case '{':
		if depth >= MaxDepth {
			return s.errAt("nesting too deep")
		}
		s.i++
		s.skipWS()
		if s.i < len(s.b) && s.b[s.i] == '}' {
			s.i++
			return nil
		}
		for {
			s.skipWS()
			if s.i >= len(s.b) {
				return s.eof()
			}
			if s.b[s.i] != '"' {
				return s.errAt("expected object key")
			}
			if _, _, _, err := s.rawString(); err != nil {
				return err
			}
			if err := s.expect(':'); err != nil {
				return err
			}
			if err := s.skipValue(depth + 1); err != nil {
				return err
			}
			s.skipWS()
			if s.i >= len(s.b) {
				return s.eof()
			}
			if s.b[s.i] == ',' {
				s.i++
				continue
			}
			if s.b[s.i] == '}' {
				s.i++
				return nil
			}
			return s.errAt("expected ',' or '}' in object")
		}
	case '[':
		if depth >= MaxDepth {
			return s.errAt("nesting too deep")
		}
		s.i++
		s.skipWS()
		if s.i < len(s.b) && s.b[s.i] == ']' {
			s.i++
			return nil
		}
		for {
			if err := s.skipValue(depth + 1); err != nil {
				return err
			}
			s.skipWS()
			if s.i >= len(s.b) {
				return s.eof()
			}
			if s.b[s.i] == ',' {
				s.i++
				continue
			}
			if s.b[s.i] == ']' {
				s.i++
				return nil
			}
			return s.errAt("expected ',' or ']' in array")
		}
	case 't':
		return s.literal("true")
	case 'f':
		return s.literal("false")
	case 'n':
		return s.literal("null")
	default:
		if c == '-' || c >= '0' && c <= '9' {
			_, err := s.number()
			return err
		}
		return s.errAt(fmt.Sprintf("unexpected character %q", c))
	}
}

// objectKeys iterates the keys of an object; fn must consume the value.
func (s *scanner) objectKeys(fn func(key string) error) error {
	if err := s.expect('{'); err != nil {
		return err
	}
	s.skipWS()
	if s.i < len(s.b) && s.b[s.i] == '}' {
		s.i++
		return nil
	}
	for {
		s.skipWS()
		if s.i >= len(s.b) {
			return s.eof()
		}
		if s.b[s.i] != '"' {
			return s.errAt("expected object key")
		}
		key, err := s.str()
		if err != nil {
			return err
		}
		if err := s.expect(':'); err != nil {
			return err
		}
		s.skipWS()
		if err := fn(key); err != nil {
			return err
		}
		s.skipWS()
		if s.i >= len(s.b) {
			return s.eof()
		}
		if s.b[s.i] == ',' {
			s.i++
			continue
		}
		if s.b[s.i] == '}' {
			s.i++
			return nil
		}
		return s.errAt("expected ',' or '}' in object")
	}
}

// isNull consumes a null if one is next.
func (s *scanner) isNull() bool {
	if s.i < len(s.b) && s.b[s.i] == 'n' && s.literal("null") == nil {
		return true
	}
	return false
}

// object decodes an event object (or an EventList / wrapping record).
func (d *Decoder) object(s *scanner, ev *decEvent, items *[]span, wrapped *span) error {
	return s.objectKeys(func(key string) error {
		var err error
		switch key {
		case "kind":
			ev.kind, err = s.strOrNull(key)
		case "apiVersion":
			ev.APIVersion, err = s.strOrNull(key)
		case "level":
			ev.Level, err = s.strOrNull(key)
			ev.objectLike = true
		case "auditID":
			ev.AuditID, err = s.strOrNull(key)
			ev.objectLike = true
		case "stage":
			ev.Stage, err = s.strOrNull(key)
			ev.objectLike = true
		case "requestURI":
			ev.RequestURI, err = s.strOrNull(key)
			ev.objectLike = true
		case "verb":
			ev.Verb, err = s.strOrNull(key)
			ev.objectLike = true
		case "userAgent":
			ev.UserAgent, err = s.strOrNull(key)
		case "stageTimestamp":
			ev.stageTS, err = s.strOrNull(key)
			ev.hasStageTS = ev.stageTS != ""
		case "requestReceivedTimestamp":
			ev.receivedTS, err = s.strOrNull(key)
			ev.hasRecv = ev.receivedTS != ""
		case "timestamp":
			ev.legacyTS, err = s.strOrNull(key)
			ev.hasLegTS = ev.legacyTS != ""
		case "user":
			if s.isNull() {
				return nil
			}
			err = s.objectKeys(func(k string) error {
				var err error
				switch k {
				case "username":
					ev.User, err = s.strOrNull("user.username")
				case "uid":
					ev.UID, err = s.strOrNull("user.uid")
				case "groups":
					ev.Groups, err = d.strArray(s, "user.groups")
				default:
					err = s.skipValue(2)
				}
				return err
			})
		case "impersonatedUser":
			if s.isNull() {
				return nil
			}
			err = s.objectKeys(func(k string) error {
				var err error
				switch k {
				case "username":
					ev.ImpUser, err = s.strOrNull("impersonatedUser.username")
				case "groups":
					ev.ImpGroups, err = d.strArray(s, "impersonatedUser.groups")
				default:
					err = s.skipValue(2)
				}
				return err
			})
		case "sourceIPs":
			ev.SourceIPs, err = d.strArray(s, key)
		case "objectRef":
			if s.isNull() {
				return nil
			}
			err = s.objectKeys(func(k string) error {
				var err error
				switch k {
				case "resource":
					ev.Resource, err = s.strOrNull("objectRef.resource")
				case "subresource":
					ev.Subresource, err = s.strOrNull("objectRef.subresource")
				case "namespace":
					ev.Namespace, err = s.strOrNull("objectRef.namespace")
				case "name":
					ev.Name, err = s.strOrNull("objectRef.name")
				case "apiGroup":
					ev.APIGroup, err = s.strOrNull("objectRef.apiGroup")
				case "apiVersion":
					ev.ObjAPIVer, err = s.strOrNull("objectRef.apiVersion")
				default:
					err = s.skipValue(2)
				}
				return err
			})
		case "responseStatus":
			if s.isNull() {
				return nil
			}
			err = s.objectKeys(func(k string) error {
				var err error
				switch k {
				case "code":
					if s.isNull() {
						return nil
					}
					var num []byte
					if num, err = s.number(); err != nil {
						return err
					}
					code, perr := strconv.Atoi(string(num))
					if perr != nil {
						return s.errAt("field responseStatus.code: not an integer")
					}
					ev.Code = code
				case "status":
					ev.Status, err = s.strOrNull("responseStatus.status")
				case "reason":
					ev.Reason, err = s.strOrNull("responseStatus.reason")
				case "message":
					ev.Message, err = s.strOrNull("responseStatus.message")
				default:
					err = s.skipValue(2)
				}
				return err
			})
		case "annotations":
			if s.isNull() {
				return nil
			}
			err = s.objectKeys(func(k string) error {
				var err error
				switch k {
				case "authorization.k8s.io/decision":
					ev.Decision, err = s.strOrNull("annotations." + k)
				case "authorization.k8s.io/reason":
					ev.AuthReason, err = s.strOrNull("annotations." + k)
				default:
					err = s.skipValue(2)
				}
				return err
			})
		case "requestObject":
			ev.HasRequestObject = !s.isNull()
			if ev.HasRequestObject {
				err = s.skipValue(1)
			}
		case "responseObject":
			ev.HasResponseObject = !s.isNull()
			if ev.HasResponseObject {
				err = s.skipValue(1)
			}
		case "cluster":
			if s.i < len(s.b) && s.b[s.i] == '"' {
				ev.Cluster, err = s.str()
			} else {
				err = s.skipValue(1)
			}
		case "items":
			if s.isNull() {
				return nil
			}
			*items = []span{}
			err = d.itemSpans(s, items)
		case "log":
			if s.i < len(s.b) && s.b[s.i] == '"' {
				var st, en int
				st, en, _, err = s.rawString()
				if err == nil && en > st && s.b[st] == '{' {
					*wrapped = span{st, en}
				}
			} else {
				err = s.skipValue(1)
			}
		default:
			err = s.skipValue(1)
		}
		return err
	})
}

// itemSpans records the spans of the objects of an EventList's items array.
func (d *Decoder) itemSpans(s *scanner, items *[]span) error {
	if err := s.expect('['); err != nil {
		return err
	}
	s.skipWS()
	if s.i < len(s.b) && s.b[s.i] == ']' {
		s.i++
		return nil
	}
	for {
		s.skipWS()
		start := s.i
		if s.i >= len(s.b) {
			return s.eof()
		}
		if s.b[s.i] != '{' {
			return s.errAt("items: expected an object")
		}
		if err := s.skipValue(1); err != nil {
			return err
		}
		*items = append(*items, span{start, s.i})
		s.skipWS()
		if s.i >= len(s.b) {
			return s.eof()
		}
		if s.b[s.i] == ',' {
			s.i++
			continue
		}
		if s.b[s.i] == ']' {
			s.i++
			return nil
		}
		return s.errAt("expected ',' or ']' in items")
	}
}

// strArray reads an array of strings (or null).
func (d *Decoder) strArray(s *scanner, field string) ([]string, error) {
	if s.isNull() {
		return nil, nil
	}
	if err := s.expect('['); err != nil {
		return nil, err
	}
	start := len(d.strs)
	s.skipWS()
	if s.i < len(s.b) && s.b[s.i] == ']' {
		s.i++
		return []string{}, nil
	}
	for {
		s.skipWS()
		if s.i >= len(s.b) {
			return nil, s.eof()
		}
		if s.b[s.i] != '"' {
			return nil, s.errAt("field " + field + ": expected an array of strings")
		}
		v, err := s.str()
		if err != nil {
			return nil, err
		}
		if len(d.strs) == cap(d.strs) {
			// Start a new arena; slices handed out keep the old one alive.
			n := len(d.strs) - start
			arena := make([]string, n, 256+n)
			copy(arena, d.strs[start:])
			d.strs = arena
			start = 0
		}
		d.strs = append(d.strs, v)
		s.skipWS()
		if s.i >= len(s.b) {
			return nil, s.eof()
		}
		if s.b[s.i] == ',' {
			s.i++
			continue
		}
		if s.b[s.i] == ']' {
			s.i++
			out := d.strs[start:len(d.strs):len(d.strs)]
			return out, nil
		}
		return nil, s.errAt("expected ',' or ']' in array")
	}
}

// unescape decodes the content of a JSON string with escapes (a new slice:
// decoded strings must not alias the input buffer's escapes).
func unescape(b []byte) ([]byte, error) { return logql.UnescapeJSON(b, nil) }
