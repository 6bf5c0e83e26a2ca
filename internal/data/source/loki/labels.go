package loki

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/audittui/audittui/internal/data"
)

// ParseLabels parses Prometheus label-set text such as {a="b", c="d"}
// (the labels field of a protobuf push stream). Values are Go-style quoted
// strings ("..." with \" \\ \n escapes); backquoted values are accepted
// as in LogQL.
func ParseLabels(s string) (data.Labels, error) {
	in := s
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, "{") || !strings.HasSuffix(s, "}") {
		return nil, fmt.Errorf("label set %q: want {name=\"value\", ...}", in)
	}
	s = strings.TrimSpace(s[1 : len(s)-1])
	var out data.Labels
	for s != "" {
		eq := strings.IndexByte(s, '=')
		if eq < 0 {
			return nil, fmt.Errorf("label set %q: missing '=' after %q", in, s)
		}
		name := strings.TrimSpace(s[:eq])
		if !data.ValidLabelName(name) {
			return nil, fmt.Errorf("label set %q: invalid label name %q", in, name)
		}
		s = strings.TrimSpace(s[eq+1:])
		if s == "" || (s[0] != '"' && s[0] != '`') {
			return nil, fmt.Errorf("label set %q: value of %s is not quoted", in, name)
		}
		q, err := strconv.QuotedPrefix(s)
		if err != nil {
			return nil, fmt.Errorf("label set %q: value of %s: %w", in, name, err)
		}
		v, err := strconv.Unquote(q)
		if err != nil {
			return nil, fmt.Errorf("label set %q: value of %s: %w", in, name, err)
		}
		out = append(out, data.Label{Name: name, Value: v})
		s = strings.TrimSpace(s[len(q):])
		if s == "" {
			break
		}
		if s[0] != ',' {
			return nil, fmt.Errorf("label set %q: expected ',' after %s", in, name)
		}
		s = strings.TrimSpace(s[1:])
	}
	return out, nil
}

// labelsFromMap turns a JSON label object into sorted Labels.
func labelsFromMap(m map[string]string) data.Labels {
	out := make(data.Labels, 0, len(m))
	for k, v := range m {
		out = append(out, data.Label{Name: k, Value: v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// jsonMessage returns the "error" or "message" member of a JSON error body.
func jsonMessage(b []byte) string {
	var m struct {
		Error   string `json:"error"`
		Message string `json:"message"`
	}
	if json.Unmarshal(b, &m) != nil {
		return ""
	}
	if m.Error != "" {
		return m.Error
	}
	return m.Message
}
