package ui

import (
	"bytes"
	"strings"

	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/data/jsonscan"
	"github.com/audittui/audittui/internal/data/logql"
)

// bodyNames are the names `| json` yields under the request and response
// bodies (requestObject_spec_replicas, responseObject_metadata_uid) of the
// events indexed, for tab completion in the filter bar: the schema names
// the families only by their prefix, and what is under it depends on the
// objects. The index does not keep bodies, so the names are collected as
// events are added, from every event with a body (not a sample: a field
// that one event in ten thousand carries is offered too). The set is
// bounded: the first maxBodyNames names are kept, and once it is full
// no body is parsed for names again.
//
// names is append-only: a snapshot keeps a prefix of it (index.go).
type bodyNames struct {
	seen  map[string]bool
	names []string
	buf   []byte // the names being walked (walk)
}

const maxBodyNames = 2000

// bodyPrefixes are the families whose names are collected: the bodies.
var bodyPrefixes = func() []string {
	var out []string
	for _, f := range data.Fields() {
		if f.Kind == data.FieldFamily && f.Level >= data.LevelRequest {
			out = append(out, f.Name)
		}
	}
	return out
}()

// bodyKeys are the body members in the order of data.Event.BodyAt, each
// the name `| json` gives it (a body family's name without its "_").
var bodyKeys = [2]string{"requestObject", "responseObject"}

// add collects the body names of e (see bodyNames): the names `| json`
// (logql.FlattenJSON) yields under the bodies, found by walking the
// event's JSON without copying a value, so each event with a body costs
// a scan, and a name an allocation only the first time it is seen. Only
// the bodies are walked where the decoder says where they are (BodyAt),
// else the whole line is (every value but the bodies' skipped).
func (b *bodyNames) add(e *data.Event) {
	if !e.HasRequestObject && !e.HasResponseObject || len(b.names) >= maxBodyNames {
		return
	}
	if b.buf == nil {
		b.buf = make([]byte, 0, 256)
	}
	line := e.EntryLine()
	at := e.BodyAt
	if at[0] >= 0 && at[1] >= 0 && e.HasRequestObject == (at[0] > 0) && e.HasResponseObject == (at[1] > 0) &&
		int(at[0]) < len(line) && int(at[1]) < len(line) {
		// The bodies alone, in the order the line has them (as the
		// whole walk would meet them).
		first := 0
		if at[0] == 0 || at[1] > 0 && at[1] < at[0] {
			first = 1
		}
		for _, k := range [2]int{first, 1 - first} {
			if at[k] == 0 || line[at[k]] != '{' || len(b.names) >= maxBodyNames {
				continue // (a body that is not an object has no names)
			}
			s := jsonscan.Scanner{B: line, I: int(at[k]), MaxDepth: maxBodyDepth}
			if b.walk(&s, append(b.buf[:0], bodyKeys[k]...), 1) != nil {
				return
			}
		}
		return
	}
	s := jsonscan.Scanner{B: line, MaxDepth: maxBodyDepth}
	s.SkipWS()
	if s.I >= len(s.B) || s.B[s.I] != '{' {
		return
	}
	_ = b.walk(&s, b.buf[:0], 0)
}

// maxBodyDepth bounds the nesting walked, as FlattenJSON's.
const maxBodyDepth = 10000

// walk collects the names of the object at s.I (its '{'), whose name is
// prefix, as FlattenJSON names its members: an object's members under
// its name joined by _, an array or null none, any other value its name.
// It stops at the first syntax error (the names before it are kept, as
// FlattenJSON's callback has them) or once maxBodyNames are kept.
func (b *bodyNames) walk(s *jsonscan.Scanner, prefix []byte, depth int) error {
	if depth >= maxBodyDepth {
		return s.ErrAt("nesting too deep")
	}
	s.I++ // '{'
	for first := true; ; first = false {
		key, esc, done, err := s.NextKey(first)
		if err != nil || done {
			return err
		}
		if esc {
			if key, err = jsonscan.Unescape(key, nil); err != nil {
				return err
			}
		}
		name := logql.AppendLabelName(prefix, key)
		switch c := s.B[s.I]; {
		case c == '{' && mayHoldBody(name):
			if err := b.walk(s, name, depth+1); err != nil {
				return err
			}
			if len(b.names) >= maxBodyNames {
				return nil
			}
		case c == 'n':
			if err := s.Literal("null"); err != nil {
				return err
			}
		default:
			if err := s.SkipValue(depth + 1); err != nil {
				return err
			}
			if c != '{' && c != '[' {
				b.keep(name)
			}
		}
	}
}

// keep adds name when it is a body name not seen yet (and the set has
// room).
func (b *bodyNames) keep(name []byte) {
	if !mayHoldBody(name) || b.seen[string(name)] || len(b.names) >= maxBodyNames || !isBodyName(string(name)) {
		return
	}
	if b.seen == nil {
		b.seen = map[string]bool{}
	}
	n := string(name)
	b.seen[n] = true
	b.names = append(b.names, n)
}

// mayHoldBody reports whether an object named name may hold body names:
// it is a body family (requestObject) or under one.
func mayHoldBody(name []byte) bool {
	for _, p := range bodyPrefixes {
		if bytes.HasPrefix(name, []byte(p)) || string(name) == p[:len(p)-1] {
			return true
		}
	}
	return false
}

// isBodyName reports whether name is under a body family.
func isBodyName(name string) bool {
	for _, p := range bodyPrefixes {
		if strings.HasPrefix(name, p) && len(name) > len(p) {
			return true
		}
	}
	return false
}

// BodyNames are the names `| json` yields under the bodies of the
// snapshot's events (the first maxBodyNames, see bodyNames), in the
// order first seen.
// Do not modify.
func (s *Snapshot) BodyNames() []string { return s.bodyNames }
