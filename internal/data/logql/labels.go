package logql

import (
	"strconv"
	"strings"
	"unsafe"
)

// Label is one name="value" pair of a result series.
type Label struct{ Name, Value string }

// Labels is a label set sorted by name.
type Labels []Label

// Get returns the value of label name.
func (ls Labels) Get(name string) (string, bool) {
	for _, l := range ls {
		if l.Name == name {
			return l.Value, true
		}
	}
	return "", false
}

// String renders {a="1", b="2"} (values quoted as strconv.Quote does).
func (ls Labels) String() string {
	n := 2
	for _, l := range ls {
		n += len(l.Name) + len(l.Value) + 5
	}
	b := make([]byte, 0, n)
	b = append(b, '{')
	for i, l := range ls {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = append(b, l.Name...)
		b = append(b, '=')
		b = appendQuote(b, l.Value)
	}
	b = append(b, '}')
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// appendQuote appends v quoted as strconv.Quote quotes it. Label values
// are nearly always printable ASCII without quotes or backslashes, which
// are copied as they are.
func appendQuote(b []byte, v string) []byte {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < ' ' || c > '~' || c == '"' || c == '\\' {
			return strconv.AppendQuote(b, v)
		}
	}
	b = append(b, '"')
	b = append(b, v...)
	return append(b, '"')
}

// Equal reports whether two label sets are identical.
func (ls Labels) Equal(o Labels) bool {
	if len(ls) != len(o) {
		return false
	}
	for i := range ls {
		if ls[i] != o[i] {
			return false
		}
	}
	return true
}

// compareLabels orders label sets (by names then values, pairwise).
func compareLabels(a, b Labels) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		if c := strings.Compare(a[i].Name, b[i].Name); c != 0 {
			return c
		}
		if c := strings.Compare(a[i].Value, b[i].Value); c != 0 {
			return c
		}
	}
	return len(a) - len(b)
}

// key returns a string identifying the label set (for maps).
func (ls Labels) key() string {
	var b strings.Builder
	for _, l := range ls {
		b.WriteString(l.Name)
		b.WriteByte(0xff)
		b.WriteString(l.Value)
		b.WriteByte(0xfe)
	}
	return b.String()
}
