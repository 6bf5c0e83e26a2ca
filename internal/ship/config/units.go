package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Size is a byte count written as 50M, 50MB, 1MiB, 512k or a plain number
// (Fluent Bit's notation; K/M/G are powers of 1024 as in Fluent Bit).
type Size int64

// ParseSize parses a size such as "50M", "1MiB", "512k" or "1048576".
func ParseSize(s string) (Size, error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return 0, fmt.Errorf("empty size")
	}
	i := len(t)
	for i > 0 && (t[i-1] < '0' || t[i-1] > '9') && t[i-1] != '.' {
		i--
	}
	num, unit := strings.TrimSpace(t[:i]), strings.ToLower(strings.TrimSpace(t[i:]))
	f, err := strconv.ParseFloat(num, 64)
	if err != nil || f < 0 {
		return 0, fmt.Errorf("invalid size %q", s)
	}
	var mult float64
	switch unit {
	case "", "b":
		mult = 1
	case "k", "kb", "kib":
		mult = 1 << 10
	case "m", "mb", "mib":
		mult = 1 << 20
	case "g", "gb", "gib":
		mult = 1 << 30
	default:
		return 0, fmt.Errorf("invalid size unit %q in %q (use K, M or G)", unit, s)
	}
	return Size(f * mult), nil
}

// UnmarshalJSON accepts a number of bytes or a string with a unit.
func (s *Size) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var str string
		if err := json.Unmarshal(b, &str); err != nil {
			return err
		}
		v, err := ParseSize(str)
		if err != nil {
			return err
		}
		*s = v
		return nil
	}
	var n float64
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("invalid size %s", b)
	}
	if n < 0 {
		return fmt.Errorf("invalid size %s", b)
	}
	*s = Size(n)
	return nil
}

// Duration is a time.Duration written as "1m", "500ms" or a plain number of
// seconds (Fluent Bit's Refresh_Interval 5).
type Duration time.Duration

// ParseDuration parses "1m30s" or a number of seconds.
func ParseDuration(s string) (Duration, error) {
	t := strings.TrimSpace(s)
	if f, err := strconv.ParseFloat(t, 64); err == nil {
		if f < 0 {
			return 0, fmt.Errorf("negative duration %q", s)
		}
		return Duration(f * float64(time.Second)), nil
	}
	d, err := time.ParseDuration(t)
	if err != nil {
		return 0, fmt.Errorf("invalid duration %q (use 5s, 1m or a number of seconds)", s)
	}
	if d < 0 {
		return 0, fmt.Errorf("negative duration %q", s)
	}
	return Duration(d), nil
}

// UnmarshalJSON accepts a string duration or a number of seconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	str := string(b)
	if len(b) > 0 && b[0] == '"' {
		if err := json.Unmarshal(b, &str); err != nil {
			return err
		}
	}
	v, err := ParseDuration(str)
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// D returns the value as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// StringList is a list written either as a YAML list or as Fluent Bit's
// comma-separated string.
type StringList []string

// UnmarshalJSON accepts ["a","b"] or "a, b".
func (l *StringList) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*l = splitList(s)
		return nil
	}
	var arr []string
	if err := json.Unmarshal(b, &arr); err != nil {
		return fmt.Errorf("expected a list of strings or a comma-separated string")
	}
	out := arr[:0]
	for _, a := range arr {
		if a = strings.TrimSpace(a); a != "" {
			out = append(out, a)
		}
	}
	*l = out
	return nil
}

// splitList splits on commas that are not inside brackets, so a record
// accessor such as $user['username'] stays whole.
func splitList(s string) []string {
	var out []string
	depth, start := 0, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '[':
			depth++
		case ']':
			if depth > 0 {
				depth--
			}
		case ',':
			if depth == 0 {
				if p := strings.TrimSpace(s[start:i]); p != "" {
					out = append(out, p)
				}
				start = i + 1
			}
		}
	}
	if p := strings.TrimSpace(s[start:]); p != "" {
		out = append(out, p)
	}
	return out
}

// LabelMap is a set of static labels written as a YAML map or as Fluent
// Bit's "job=audit, cluster=prod" string. Order is kept.
type LabelMap []Label

// Label is one static label.
type Label struct{ Name, Value string }

// UnmarshalJSON accepts {"job":"audit"} or "job=audit, cluster=x".
func (m *LabelMap) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		var out LabelMap
		for _, p := range splitList(s) {
			k, v, ok := strings.Cut(p, "=")
			if !ok {
				return fmt.Errorf("label %q is not name=value", p)
			}
			out = append(out, Label{strings.TrimSpace(k), strings.TrimSpace(v)})
		}
		*m = out
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	tok, err := dec.Token()
	if err != nil || tok != json.Delim('{') {
		return fmt.Errorf("expected a map of labels or \"name=value, ...\"")
	}
	var out LabelMap
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return err
		}
		var v any
		if err := dec.Decode(&v); err != nil {
			return err
		}
		out = append(out, Label{kt.(string), fmt.Sprint(v)})
	}
	*m = out
	return nil
}
