package jsonscan

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// walk turns the value at s.I into the same Go value encoding/json's
// Unmarshal into `any` (with UseNumber) builds, using only the pull API:
// the independent oracle of the fuzz target compares the two.
func walk(s *Scanner, depth int) (any, error) {
	switch s.Peek() {
	case '{':
		if err := s.BeginObject(); err != nil {
			return nil, err
		}
		m := map[string]any{}
		for first := true; ; first = false {
			raw, esc, done, err := s.NextKey(first)
			if err != nil {
				return nil, err
			}
			if done {
				return m, nil
			}
			key := string(raw)
			if esc {
				u, err := Unescape(raw, nil)
				if err != nil {
					return nil, err
				}
				key = string(u)
			}
			v, err := walk(s, depth+1)
			if err != nil {
				return nil, err
			}
			m[key] = v // the last duplicate wins, as in encoding/json
		}
	case '[':
		if err := s.BeginArray(); err != nil {
			return nil, err
		}
		a := []any{}
		for first := true; ; first = false {
			done, err := s.NextElem(first)
			if err != nil {
				return nil, err
			}
			if done {
				return a, nil
			}
			v, err := walk(s, depth+1)
			if err != nil {
				return nil, err
			}
			a = append(a, v)
		}
	case '"':
		st, en, esc, err := s.String()
		if err != nil {
			return nil, err
		}
		if !esc {
			return string(s.B[st:en]), nil
		}
		u, err := Unescape(s.B[st:en], nil)
		return string(u), err
	case 't':
		return true, s.Literal("true")
	case 'f':
		return false, s.Literal("false")
	case 'n':
		return nil, s.Literal("null")
	case 0:
		return nil, s.EOFErr()
	}
	n, err := s.Number()
	return json.Number(n), err
}

func TestSkipValueAndErrors(t *testing.T) {
	for _, tc := range []struct {
		in, err string
		eof     bool
	}{
		{in: `{"a":[1,2.5e-3,-0,true,false,null,"x\"\u00e9"],"b":{}}`},
		{in: ` [ ] `},
		{in: `"\ud83d\ude00"`},
		{in: `{"a":1`, err: "unexpected end of input", eof: true},
		{in: `{"a":"abc`, err: "unexpected end of input", eof: true},
		{in: `{"a":"\u12`, err: "unexpected end of input", eof: true},
		{in: `[1.`, err: "unexpected end of input", eof: true},
		{in: `[tr`, err: "unexpected end of input", eof: true},
		{in: `{"a":1,}`, err: "expected object key"},
		{in: `{"a" 1}`, err: `expected ':', found '1'`},
		{in: `[1 2]`, err: "expected ',' or ']' in array"},
		{in: `{"a":1 "b":2}`, err: "expected ',' or '}' in object"},
		{in: `"a\qb"`, err: "invalid escape"},
		{in: `"\u12g4"`, err: `invalid \u escape`},
		{in: "\"a\x01b\"", err: "control character in string"},
		{in: `01`, err: ""}, // 0 then trailing 1: SkipValue stops after 0
		{in: `-x`, err: "invalid number"},
		{in: `nul!`, err: "invalid literal"},
		{in: `@`, err: "unexpected character '@'"},
		{in: strings.Repeat("[", 600) + strings.Repeat("]", 600), err: "nesting too deep"},
	} {
		s := Scanner{B: []byte(tc.in)}
		err := s.SkipValue(0)
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("%q: %v", tc.in, err)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%q: error %v, want %q", tc.in, err, tc.err)
		case tc.err != "" && IsEOF(err) != tc.eof:
			t.Errorf("%q: IsEOF = %v", tc.in, IsEOF(err))
		}
	}
}

func TestIteration(t *testing.T) {
	s := Scanner{B: []byte(" { \"a\" : [ 1 , {\"b\\u0041\":\"c\"} ] , \"d\":null } ")}
	v, err := walk(&s, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(v); got != "map[a:[1 map[bA:c]] d:<nil>]" {
		t.Fatalf("walk = %s", got)
	}
	s.SkipWS()
	if s.I != len(s.B) {
		t.Fatalf("stopped at %d of %d", s.I, len(s.B))
	}
}

func TestUnescape(t *testing.T) {
	for in, want := range map[string]string{
		`a\"b\\c\/d\b\f\n\r\t`:   "a\"b\\c/d\b\f\n\r\t",
		`\u00e9\ud83d\ude00`:     "é😀",
		`\ud800x`:                "\uFFFDx",
		`\udc00\ud800\udc00`:     "\uFFFD𐀀",
		`plain`:                  "plain",
		`\u0000`:                 "\x00",
		`\ud83d\u0041`:           "\uFFFDA",
		`\ud83d`:                 "\uFFFD",
		`x\ud83d\ude00\ud83d\ud`: "", // bad \u escape
	} {
		got, err := Unescape([]byte(in), nil)
		if want == "" {
			if err == nil {
				t.Errorf("%q: accepted as %q", in, got)
			}
			continue
		}
		if err != nil || string(got) != want {
			t.Errorf("%q: %q, %v; want %q", in, got, err, want)
		}
	}
}

// FuzzScanner checks the scanner against encoding/json, an independent
// implementation: it accepts exactly the documents json.Valid accepts, and
// walking a valid document with the pull API (NextKey, NextElem, String,
// Unescape, Number, Literal) gives the value json.Unmarshal builds.
func FuzzScanner(f *testing.F) {
	for _, s := range []string{
		`{"kind":"Event","user":{"username":"a","groups":["x","y"]},"code":403,"f":-1.5e+3,"t":true,"n":null}`,
		`[{"a":"\u00e9\ud83d\ude00\n"},[],{},"",0]`,
		`{"a":"x","a":"y"}`, ` "s" `, `1e5`, `{"a":}`, `[1,]`, `"\ud800"`, `{"\u0041":1}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > 4096 {
			return // encoding/json's depth limit (10000) differs from ours; stay far below it
		}
		s := Scanner{B: b, MaxDepth: 5000}
		err := s.SkipValue(0)
		if err == nil {
			s.SkipWS()
			if s.I != len(b) {
				err = s.ErrAt("data after the value")
			}
		}
		if valid := json.Valid(b); (err == nil) != valid {
			t.Fatalf("%q: scanner error %v, json.Valid %v", b, err, valid)
		}
		if err != nil {
			if s.I > len(b) || s.I < 0 {
				t.Fatalf("%q: position %d out of range", b, s.I)
			}
			return
		}
		w := Scanner{B: b, MaxDepth: 5000}
		got, werr := walk(&w, 0)
		if werr != nil {
			t.Fatalf("%q: SkipValue accepted it but walking failed: %v", b, werr)
		}
		if !utf8.Valid(b) {
			return // encoding/json replaces invalid UTF-8; we keep the bytes
		}
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.UseNumber()
		var want any
		if err := dec.Decode(&want); err != nil {
			t.Fatalf("%q: encoding/json: %v", b, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%q:\n got  %#v\n want %#v", b, got, want)
		}
	})
}

// FuzzNextStop: the SWAR search finds the same stop byte as a byte-by-byte
// scan, from any start, for any bytes (high bytes and every control byte
// around the stops, where a borrow could mislead a SWAR mask).
func FuzzNextStop(f *testing.F) {
	f.Add([]byte(`"plain ascii text of some length" and more`), 0)
	f.Add([]byte("\xff\x80\x1f\x20\x21\x22\x5b\x5c\x5d\x7f\x00"), 1)
	f.Add([]byte("0123456789abcdef\\\"\x01"), 3)
	f.Add(bytes.Repeat([]byte{0x21, 0xa2}, 20), 0)
	f.Fuzz(func(t *testing.T, b []byte, i int) {
		if i < 0 || i > len(b) {
			return
		}
		want := i
		for want < len(b) && b[want] != '"' && b[want] != '\\' && b[want] >= 0x20 {
			want++
		}
		if got := nextStop(b, i); got != want {
			t.Fatalf("nextStop(%q, %d) = %d, want %d", b, i, got, want)
		}
	})
}

// TestNextStopEveryByte puts every byte value at every position of a word,
// followed by every byte value, after plain bytes: the stop found is the
// first one, whatever follows it.
func TestNextStopEveryByte(t *testing.T) {
	b := make([]byte, 16)
	isStop := func(c byte) bool { return c == '"' || c == '\\' || c < 0x20 }
	for p := range 8 {
		for v := range 256 {
			for w := range 256 {
				for k := range b {
					b[k] = 'a'
				}
				b[p], b[p+1] = byte(v), byte(w)
				want := len(b)
				switch {
				case isStop(byte(v)):
					want = p
				case isStop(byte(w)):
					want = p + 1
				}
				if got := nextStop(b, 0); got != want {
					t.Fatalf("nextStop(%q) = %d, want %d", b, got, want)
				}
			}
		}
	}
}
