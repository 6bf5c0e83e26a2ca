package data

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// A document the decoder refuses is not always broken JSON: one that jq
// reads gladly can hold a field of another type than the API server
// writes (`"code":"403"`, `"user":"alice"`). Calling it "malformed JSON"
// sends a reviewer looking for corruption in good evidence; typeMismatch
// names the field and what it holds instead. It runs on refused
// documents only.

// typeMismatch explains a decode error at byte off of doc when doc is
// valid JSON: which field holds what (ok false when doc is not valid JSON
// or no value is found there).
func typeMismatch(doc []byte, off int) (string, bool) {
	if !json.Valid(doc) {
		return "", false
	}
	path, what, ok := valueAt(doc, off)
	if !ok || path == "" {
		return "", false
	}
	return fmt.Sprintf("valid JSON, but not an audit event as the API server writes it: %s is %s", path, what), true
}

// jsonFrame is an object or array valueAt is inside.
type jsonFrame struct {
	obj     bool
	key     string
	haveKey bool // an object's key was read, its value comes next
	index   int  // an array's current element
}

// valueAt returns the path (a.b[2].c) of the innermost value of doc that
// spans byte off (a container only where it starts), and what it is ("a
// string (\"403\")", "an object", "a number (403.0)").
func valueAt(doc []byte, off int) (path, what string, ok bool) {
	var stack []jsonFrame
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	for {
		start := int(dec.InputOffset())
		tok, err := dec.Token()
		if err != nil {
			return "", "", false
		}
		end := int(dec.InputOffset())
		top := len(stack) - 1
		if d, isDelim := tok.(json.Delim); isDelim && (d == '}' || d == ']') {
			stack = stack[:top]
			continue
		}
		if top >= 0 && stack[top].obj && !stack[top].haveKey {
			stack[top].key, _ = tok.(string)
			stack[top].haveKey = true
			continue
		}
		if top >= 0 {
			if stack[top].obj {
				stack[top].haveKey = false
			} else {
				stack[top].index++
			}
		}
		for start < len(doc) && strings.IndexByte(" \t\r\n,:", doc[start]) >= 0 {
			start++
		}
		if d, isDelim := tok.(json.Delim); isDelim {
			if start == off && top >= 0 {
				return jsonPath(stack), map[json.Delim]string{'{': "an object", '[': "an array"}[d], true
			}
			stack = append(stack, jsonFrame{obj: d == '{', index: -1})
			continue
		}
		if start <= off && off <= end {
			return jsonPath(stack), describeToken(tok), true
		}
	}
}

// jsonPath names the value the frames lead to: keys joined by dots,
// array elements as [i].
func jsonPath(stack []jsonFrame) string {
	var b strings.Builder
	for _, f := range stack {
		if f.obj {
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(f.key)
		} else {
			fmt.Fprintf(&b, "[%d]", f.index)
		}
	}
	return b.String()
}

// describeToken says what a JSON scalar is, with its text.
func describeToken(tok json.Token) string {
	switch v := tok.(type) {
	case string:
		if r := []rune(v); len(r) > 40 {
			v = string(r[:40]) + "…"
		}
		return "a string (" + strconv.Quote(v) + ")"
	case json.Number:
		return "a number (" + string(v) + ")"
	case bool:
		return "a boolean (" + strconv.FormatBool(v) + ")"
	}
	return "null"
}
