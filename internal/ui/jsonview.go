package ui

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf16"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/audittui/audittui/internal/termsafe"
)

// jnode is a JSON value with object key order preserved.
type jnode struct {
	kind  byte // 'o' object, 'a' array, 's' string, 'n' number, 'b' bool, 'z' null
	key   string
	text  string // scalar text (strings unquoted)
	items []*jnode
}

// parseJSON parses one JSON document keeping key order.
func parseJSON(raw []byte) (*jnode, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	n, err := parseValue(dec, 0)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("unexpected data after the JSON value")
	}
	return n, nil
}

func parseValue(dec *json.Decoder, depth int) (*jnode, error) {
	if depth > 256 {
		return nil, fmt.Errorf("JSON nested too deeply")
	}
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch v := tok.(type) {
	case json.Delim:
		switch v {
		case '{':
			n := &jnode{kind: 'o'}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				k, _ := kt.(string)
				child, err := parseValue(dec, depth+1)
				if err != nil {
					return nil, err
				}
				child.key = k
				n.items = append(n.items, child)
			}
			if _, err := dec.Token(); err != nil {
				return nil, err
			}
			return n, nil
		case '[':
			n := &jnode{kind: 'a'}
			for dec.More() {
				child, err := parseValue(dec, depth+1)
				if err != nil {
					return nil, err
				}
				n.items = append(n.items, child)
			}
			if _, err := dec.Token(); err != nil {
				return nil, err
			}
			return n, nil
		}
		return nil, fmt.Errorf("unexpected %v", v)
	case string:
		return &jnode{kind: 's', text: v}, nil
	case json.Number:
		return &jnode{kind: 'n', text: v.String()}, nil
	case bool:
		return &jnode{kind: 'b', text: strconv.FormatBool(v)}, nil
	case nil:
		return &jnode{kind: 'z', text: "null"}, nil
	}
	return nil, fmt.Errorf("unexpected token %v", tok)
}

// field returns the direct child of an object by key.
func (n *jnode) field(key string) *jnode {
	if n == nil || n.kind != 'o' {
		return nil
	}
	for _, c := range n.items {
		if c.key == key {
			return c
		}
	}
	return nil
}

// countLines is how many lines n takes when fully expanded.
func (n *jnode) countLines() int {
	if (n.kind != 'o' && n.kind != 'a') || len(n.items) == 0 {
		return 1
	}
	c := 2
	for _, it := range n.items {
		c += it.countLines()
	}
	return c
}

// renderJSON renders n as indented, syntax-coloured lines of valid JSON:
// keys and strings are JSON-encoded (jsonStringSegments), so what is shown
// parses back to the event, and every character a terminal could
// interpret is an escape. Keys in folded are shown collapsed at the top
// level. With wrap, a string longer than the width continues on the next
// lines (cont marks them: joining a continuation line to the line before,
// without its indentation, gives the one-line form); without, lines are
// as long as their values.
func renderJSON(st *Styles, n *jnode, folded map[string]bool, width int, wrap bool) (out []string, cont []bool) {
	emit := func(l string, c bool) {
		out = append(out, l)
		cont = append(cont, c)
	}
	var walk func(n *jnode, indent int, last bool, path string, inObj bool)
	walk = func(n *jnode, indent int, last bool, path string, inObj bool) {
		prefix := strings.Repeat("  ", indent)
		key, keyW := "", 0
		if inObj {
			ks := jsonStringSegments(n.key)
			key = renderSegments(ks, st.JSONKey, st.Escape) + st.JSONPunct.Render(": ")
			keyW = segWidth(ks) + 2
		}
		comma := ""
		if !last {
			comma = st.JSONPunct.Render(",")
		}
		switch n.kind {
		case 'o', 'a':
			open, close := "{", "}"
			if n.kind == 'a' {
				open, close = "[", "]"
			}
			if len(n.items) == 0 {
				emit(prefix+key+st.JSONPunct.Render(open+close)+comma, false)
				return
			}
			if folded[path] {
				summary := fmt.Sprintf(" … %d lines folded (z) ", n.countLines())
				emit(prefix+key+st.JSONPunct.Render(open)+st.Muted.Render(summary)+st.JSONPunct.Render(close)+comma, false)
				return
			}
			emit(prefix+key+st.JSONPunct.Render(open), false)
			for k, it := range n.items {
				childPath := path + "." + it.key
				if n.kind == 'a' {
					childPath = fmt.Sprintf("%s[%d]", path, k)
				}
				walk(it, indent+1, k == len(n.items)-1, childPath, n.kind == 'o')
			}
			emit(prefix+st.JSONPunct.Render(close)+comma, false)
		case 's':
			segs := jsonStringSegments(n.text)
			first := width - len(prefix) - keyW - 1 // the comma
			if !wrap || segWidth(segs) <= first {
				emit(prefix+key+renderSegments(segs, st.JSONString, st.Escape)+comma, false)
				return
			}
			// Continuation lines are indented one level deeper.
			rest := max(8, width-len(prefix)-2-1)
			for k, part := range wrapSegments(segs, max(8, first), rest) {
				l := renderSegments(part, st.JSONString, st.Escape)
				if k == 0 {
					emit(prefix+key+l, false)
				} else {
					emit(prefix+"  "+l, true)
				}
			}
			out[len(out)-1] += comma
		default:
			emit(prefix+key+scalar(st, n)+comma, false)
		}
	}
	walk(n, 0, true, "", false)
	return out, cont
}

func scalar(st *Styles, n *jnode) string {
	switch n.kind {
	case 'n':
		return st.JSONNumber.Render(n.text)
	case 'b':
		return st.JSONBool.Render(n.text)
	}
	return st.JSONNull.Render(n.text)
}

// jsonStringSegments returns s as a JSON string literal, quotes included,
// split into kept text and escapes: \" and \\ are text; every character
// termsafe would escape (C0 and C1 controls, DEL, format characters such
// as bidi overrides, the line and paragraph separators) is a JSON escape
// (\n, \t, \r, \uXXXX, surrogate pairs above U+FFFF) marked Escape, so
// the literal is valid JSON that decodes to s, and safe to draw. The kept
// text still goes through termsafe (it finds nothing left to escape).
func jsonStringSegments(s string) []termsafe.Segment {
	out := []termsafe.Segment{{Text: `"`}}
	var b strings.Builder
	flush := func() {
		if b.Len() > 0 {
			for _, sg := range termsafe.Segments(b.String()) {
				out = append(out, sg)
			}
			b.Reset()
		}
	}
	for _, sg := range termsafe.Segments(s) {
		if !sg.Escape {
			for _, r := range sg.Text {
				switch r {
				case '"':
					b.WriteString(`\"`)
				case '\\':
					b.WriteString(`\\`)
				default:
					b.WriteRune(r)
				}
			}
			continue
		}
		// The runes termsafe escaped, re-read from the token.
		flush()
		out = append(out, termsafe.Segment{Text: jsonEscape(sg.Text), Escape: true})
	}
	flush()
	return append(out, termsafe.Segment{Text: `"`})
}

// jsonEscape turns one termsafe token (\t \n \r \xNN <U+XXXX>) into the
// JSON escape of the same character.
func jsonEscape(tok string) string {
	switch tok {
	case `\t`:
		return `\t`
	case `\n`:
		return `\n`
	case `\r`:
		return `\r`
	}
	var r rune
	switch {
	case strings.HasPrefix(tok, `\x`):
		v, err := strconv.ParseUint(tok[2:], 16, 8)
		if err != nil {
			return `\ufffd`
		}
		r = rune(v)
		if r >= 0x80 {
			// An invalid UTF-8 byte: JSON cannot hold it; the decoder
			// read it as U+FFFD.
			return `\ufffd`
		}
	case strings.HasPrefix(tok, "<U+") && strings.HasSuffix(tok, ">"):
		v, err := strconv.ParseUint(tok[3:len(tok)-1], 16, 32)
		if err != nil {
			return `\ufffd`
		}
		r = rune(v)
	default:
		return `\ufffd`
	}
	if r > 0xffff {
		hi, lo := utf16.EncodeRune(r)
		return fmt.Sprintf(`\u%04x\u%04x`, hi, lo)
	}
	return fmt.Sprintf(`\u%04x`, r)
}

// renderSegments styles text segments and escape tokens.
func renderSegments(segs []termsafe.Segment, base, esc lipgloss.Style) string {
	var b strings.Builder
	for _, sg := range segs {
		if sg.Escape {
			b.WriteString(esc.Render(sg.Text))
		} else {
			b.WriteString(base.Render(sg.Text))
		}
	}
	return b.String()
}

// wrapSegments cuts segs into lines of at most first cells, then rest
// cells each. Escape tokens are never split; a line holds at least one
// segment piece.
func wrapSegments(segs []termsafe.Segment, first, rest int) [][]termsafe.Segment {
	var lines [][]termsafe.Segment
	var cur []termsafe.Segment
	room := first
	next := func() {
		lines = append(lines, cur)
		cur = nil
		room = rest
	}
	for _, sg := range segs {
		w := ansi.StringWidth(sg.Text)
		if sg.Escape {
			if w > room && len(cur) > 0 {
				next()
			}
			cur = append(cur, sg)
			room -= w
			continue
		}
		text := sg.Text
		for text != "" {
			if room <= 0 {
				next()
			}
			tw := ansi.StringWidth(text)
			if tw <= room {
				cur = append(cur, termsafe.Segment{Text: text})
				room -= tw
				break
			}
			head := ansi.Truncate(text, room, "")
			if head == "" { // a wide character that does not fit
				next()
				continue
			}
			cur = append(cur, termsafe.Segment{Text: head})
			text = text[len(head):]
			room = 0
		}
	}
	if len(cur) > 0 || len(lines) == 0 {
		lines = append(lines, cur)
	}
	return lines
}
