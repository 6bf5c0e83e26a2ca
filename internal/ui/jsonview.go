package ui

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

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

// renderJSON renders n as indented, syntax-coloured lines. Every string is
// sanitised. Keys in folded are shown collapsed at the top level.
func renderJSON(st *Styles, n *jnode, folded map[string]bool, width int) []string {
	var out []string
	var walk func(n *jnode, indent int, last bool, path string, inObj bool)
	walk = func(n *jnode, indent int, last bool, path string, inObj bool) {
		prefix := strings.Repeat("  ", indent)
		key := ""
		if inObj {
			key = st.JSONKey.Render(strconv.Quote(termsafe.String(n.key))) + st.JSONPunct.Render(": ")
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
				out = append(out, prefix+key+st.JSONPunct.Render(open+close)+comma)
				return
			}
			if folded[path] {
				summary := fmt.Sprintf(" … %d lines folded (z) ", n.countLines())
				out = append(out, prefix+key+st.JSONPunct.Render(open)+st.Muted.Render(summary)+st.JSONPunct.Render(close)+comma)
				return
			}
			out = append(out, prefix+key+st.JSONPunct.Render(open))
			for k, it := range n.items {
				childPath := path + "." + it.key
				if n.kind == 'a' {
					childPath = fmt.Sprintf("%s[%d]", path, k)
				}
				walk(it, indent+1, k == len(n.items)-1, childPath, n.kind == 'o')
			}
			out = append(out, prefix+st.JSONPunct.Render(close)+comma)
		default:
			room := width - len(prefix) - SafeWidth(n.key) - 4 - 1
			out = append(out, prefix+key+scalar(st, n, max(room, 8))+comma)
		}
	}
	walk(n, 0, true, "", false)
	return out
}

func scalar(st *Styles, n *jnode, width int) string {
	switch n.kind {
	case 's':
		return st.JSONString.Render(`"`) + st.Safe(n.text, width-2, st.JSONString) + st.JSONString.Render(`"`)
	case 'n':
		return st.JSONNumber.Render(n.text)
	case 'b':
		return st.JSONBool.Render(n.text)
	}
	return st.JSONNull.Render(n.text)
}
