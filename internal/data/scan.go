package data

import (
	"strconv"

	"github.com/audittui/audittui/internal/data/jsonscan"
)

// scanner is the shared JSON lexer (internal/data/jsonscan) plus the
// decoder's helpers.
type scanner struct {
	jsonscan.Scanner
}

func newScanner(b []byte, i int) scanner {
	return scanner{jsonscan.Scanner{B: b, I: i, MaxDepth: MaxDepth}}
}

func (s *scanner) errAt(msg string) error { return s.ErrAt(msg) }

func (s *scanner) eof() error { return s.EOFErr() }

// str reads a JSON string value (the scanner must be at '"'). Unescaped
// strings are views into the input; escaped ones are decoded copies.
func (s *scanner) str() (string, error) {
	start, end, esc, err := s.String()
	if err != nil {
		return "", err
	}
	if !esc {
		return b2s(s.B[start:end]), nil
	}
	u, err := unescape(s.B[start:end])
	if err != nil {
		return "", err
	}
	return b2s(u), nil
}

// strOrNull reads a string, or null (returning ""). Other types are errors
// naming field.
func (s *scanner) strOrNull(field string) (string, error) {
	s.SkipWS()
	if s.I >= len(s.B) {
		return "", s.eof()
	}
	switch s.B[s.I] {
	case '"':
		return s.str()
	case 'n':
		return "", s.Literal("null")
	}
	return "", s.errAt("field " + field + ": expected a string")
}

// objectKeys iterates the keys of an object; fn must consume the value.
func (s *scanner) objectKeys(fn func(key string) error) error {
	if err := s.BeginObject(); err != nil {
		return err
	}
	for first := true; ; first = false {
		raw, esc, done, err := s.NextKey(first)
		if err != nil || done {
			return err
		}
		key := b2s(raw)
		if esc {
			u, err := unescape(raw)
			if err != nil {
				return err
			}
			key = b2s(u)
		}
		if err := fn(key); err != nil {
			return err
		}
	}
}

// isNull consumes a null if one is next.
func (s *scanner) isNull() bool { return s.IsNull() }

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
					err = s.SkipValue(2)
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
					err = s.SkipValue(2)
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
					err = s.SkipValue(2)
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
					if num, err = s.Number(); err != nil {
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
					err = s.SkipValue(2)
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
					err = s.SkipValue(2)
				}
				return err
			})
		case "requestObject":
			ev.HasRequestObject = !s.isNull()
			if ev.HasRequestObject {
				err = s.SkipValue(1)
			}
		case "responseObject":
			ev.HasResponseObject = !s.isNull()
			if ev.HasResponseObject {
				err = s.SkipValue(1)
			}
		case "cluster":
			if s.I < len(s.B) && s.B[s.I] == '"' {
				ev.Cluster, err = s.str()
			} else {
				err = s.SkipValue(1)
			}
		case "items":
			if s.isNull() {
				return nil
			}
			*items = []span{}
			err = d.itemSpans(s, items)
		case "log":
			if s.I < len(s.B) && s.B[s.I] == '"' {
				var st, en int
				st, en, _, err = s.String()
				if err == nil && en > st && s.B[st] == '{' {
					*wrapped = span{st, en}
				}
			} else {
				err = s.SkipValue(1)
			}
		default:
			err = s.SkipValue(1)
		}
		return err
	})
}

// itemSpans records the spans of the objects of an EventList's items array.
func (d *Decoder) itemSpans(s *scanner, items *[]span) error {
	if err := s.Expect('['); err != nil {
		return err
	}
	s.SkipWS()
	if s.I < len(s.B) && s.B[s.I] == ']' {
		s.I++
		return nil
	}
	for {
		s.SkipWS()
		start := s.I
		if s.I >= len(s.B) {
			return s.eof()
		}
		if s.B[s.I] != '{' {
			return s.errAt("items: expected an object")
		}
		if err := s.SkipValue(1); err != nil {
			return err
		}
		*items = append(*items, span{start, s.I})
		s.SkipWS()
		if s.I >= len(s.B) {
			return s.eof()
		}
		if s.B[s.I] == ',' {
			s.I++
			continue
		}
		if s.B[s.I] == ']' {
			s.I++
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
	if err := s.Expect('['); err != nil {
		return nil, err
	}
	start := len(d.strs)
	s.SkipWS()
	if s.I < len(s.B) && s.B[s.I] == ']' {
		s.I++
		return []string{}, nil
	}
	for {
		s.SkipWS()
		if s.I >= len(s.B) {
			return nil, s.eof()
		}
		if s.B[s.I] != '"' {
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
		s.SkipWS()
		if s.I >= len(s.B) {
			return nil, s.eof()
		}
		if s.B[s.I] == ',' {
			s.I++
			continue
		}
		if s.B[s.I] == ']' {
			s.I++
			out := d.strs[start:len(d.strs):len(d.strs)]
			return out, nil
		}
		return nil, s.errAt("expected ',' or ']' in array")
	}
}

// unescape decodes the content of a JSON string with escapes (a new slice:
// decoded strings must not alias the input buffer's escapes).
func unescape(b []byte) ([]byte, error) { return jsonscan.Unescape(b, nil) }
