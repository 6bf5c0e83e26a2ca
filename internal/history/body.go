package history

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Bodies (requestObject, responseObject) are decoded into generic JSON
// trees (map[string]any, []any, string, json.Number, bool, nil); numbers
// keep their text.

// decodeJSON decodes a JSON value with numbers kept as json.Number.
func decodeJSON(b []byte) (any, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}

// deepCopy copies a JSON tree.
func deepCopy(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = deepCopy(e)
		}
		return m
	case []any:
		s := make([]any, len(x))
		for i, e := range x {
			s[i] = deepCopy(e)
		}
		return s
	}
	return v
}

func asMap(v any) (map[string]any, bool) {
	m, ok := v.(map[string]any)
	return m, ok
}

// str returns the string at a path of keys, or "".
func str(v any, keys ...string) string {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return ""
		}
		v = m[k]
	}
	s, _ := v.(string)
	return s
}

// get returns the value at a path of keys.
func get(v any, keys ...string) (any, bool) {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		if v, ok = m[k]; !ok {
			return nil, false
		}
	}
	return v, true
}

// set sets the value at a path of keys, creating maps on the way.
func set(v any, val any, keys ...string) {
	m, ok := v.(map[string]any)
	if !ok {
		return
	}
	for _, k := range keys[:len(keys)-1] {
		next, ok := m[k].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[k] = next
		}
		m = next
	}
	m[keys[len(keys)-1]] = val
}

// bookkeeping are the metadata fields the API server maintains on every
// write: left out of diffs, they would show on every version.
var bookkeeping = []string{"managedFields", "resourceVersion", "generation", "creationTimestamp", "uid", "selfLink"}

// clean returns a copy of an object without bookkeeping (and without
// status unless keepStatus).
func clean(obj any, keepStatus bool) any {
	c := deepCopy(obj)
	m, ok := c.(map[string]any)
	if !ok {
		return c
	}
	if md, ok := m["metadata"].(map[string]any); ok {
		for _, k := range bookkeeping {
			delete(md, k)
		}
		if len(md) == 0 {
			delete(m, "metadata")
		}
	}
	if !keepStatus {
		delete(m, "status")
	}
	return c
}

// lastApplied is kubectl's client-side apply annotation: a copy of the
// applied configuration (for a Secret, with its data).
const lastApplied = "kubectl.kubernetes.io/last-applied-configuration"

// secretHasher hashes Secret values: a short hash per value, salted with
// the object and key, so a diff tells that a key changed (and whether it
// changed back) without showing the value or letting a table of common
// values be reused across objects.
type secretHasher struct{ object string }

func (h secretHasher) tag(key string, v any) any {
	var s string
	switch x := v.(type) {
	case nil:
		return nil // a merge patch's deletion stays visible
	case string:
		s = x
	default:
		b, _ := json.Marshal(x)
		s = string(b)
	}
	sum := sha256.Sum256([]byte("audittui secret\x00" + h.object + "\x00" + key + "\x00" + s))
	return "<redacted sha256:" + hex.EncodeToString(sum[:4]) + ">"
}

// redactSecret returns a copy of a Secret (or a merge or strategic merge
// patch of one) with the values of data and stringData hashed, also
// inside kubectl's last-applied-configuration annotation.
func (h secretHasher) redact(obj any) any {
	c := deepCopy(obj)
	m, ok := c.(map[string]any)
	if !ok {
		return c
	}
	for _, field := range []string{"data", "stringData"} {
		switch d := m[field].(type) {
		case map[string]any:
			for k, v := range d {
				d[k] = h.tag(k, v)
			}
		case nil:
		default:
			m[field] = h.tag(field, d)
		}
	}
	if ann, ok := get(m, "metadata", "annotations"); ok {
		if am, ok := ann.(map[string]any); ok {
			if la, ok := am[lastApplied].(string); ok {
				am[lastApplied] = h.redactApplied(la)
			}
		}
	}
	return c
}

// redactApplied hashes the values in a last-applied-configuration
// annotation (JSON text); text that is not JSON is hashed whole.
func (h secretHasher) redactApplied(text string) string {
	v, err := decodeJSON([]byte(text))
	if err != nil {
		return h.tag(lastApplied, text).(string)
	}
	return renderCompact(h.redact(v))
}

// redactJSONPatch hashes the values a JSON patch writes under /data,
// /stringData or the last-applied annotation of a Secret.
func (h secretHasher) redactJSONPatch(ops []any) []any {
	out := make([]any, len(ops))
	for i, op := range ops {
		m, ok := op.(map[string]any)
		if !ok {
			out[i] = op
			continue
		}
		c := deepCopy(m).(map[string]any)
		path, _ := c["path"].(string)
		v, has := c["value"]
		switch {
		case !has:
		case path == "/data" || path == "/stringData" || path == "":
			if path == "" {
				c["value"] = h.redact(v)
			} else {
				c["value"] = h.redact(map[string]any{path[1:]: v}).(map[string]any)[path[1:]]
			}
		case strings.HasPrefix(path, "/data/") || strings.HasPrefix(path, "/stringData/"):
			c["value"] = h.tag(unescapePointer(path[strings.IndexByte(path[1:], '/')+2:]), v)
		case path == "/metadata/annotations/"+escapePointer(lastApplied):
			if s, ok := v.(string); ok {
				c["value"] = h.redactApplied(s)
			}
		case path == "/metadata/annotations" || path == "/metadata":
			c["value"] = redactAnnotations(h, path, v)
		}
		out[i] = c
	}
	return out
}

func redactAnnotations(h secretHasher, path string, v any) any {
	wrapped := map[string]any{"metadata": v}
	if path == "/metadata/annotations" {
		wrapped = map[string]any{"metadata": map[string]any{"annotations": v}}
	}
	r := h.redact(wrapped)
	if path == "/metadata/annotations" {
		x, _ := get(r, "metadata", "annotations")
		return x
	}
	x, _ := get(r, "metadata")
	return x
}

func escapePointer(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

func unescapePointer(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~1", "/"), "~0", "~")
}

// render turns a JSON tree into YAML text ("" for nil): keys sorted,
// numbers as written, multi-line strings as literal blocks (so a
// ConfigMap's files diff line by line), long strings never folded.
func render(v any) string {
	if v == nil {
		return ""
	}
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	enc.CompactSeqIndent()
	if err := enc.Encode(yamlNode(v)); err != nil {
		// Unreachable for decoded JSON; fall back to JSON.
		return renderCompact(v) + "\n"
	}
	_ = enc.Close()
	return b.String()
}

// yamlNode converts a JSON tree into a YAML node.
func yamlNode(v any) *yaml.Node {
	switch x := v.(type) {
	case map[string]any:
		n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: k}, yamlNode(x[k]))
		}
		return n
	case []any:
		n := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
		for _, e := range x {
			n.Content = append(n.Content, yamlNode(e))
		}
		return n
	case string:
		n := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: x}
		if strings.Contains(x, "\n") && !strings.ContainsAny(x, "\r\t") && printable(x) {
			n.Style = yaml.LiteralStyle
		}
		return n
	case json.Number:
		tag := "!!int"
		if strings.ContainsAny(string(x), ".eE") {
			tag = "!!float"
		}
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: string(x)}
	case bool:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: strconv.FormatBool(x)}
	case nil:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null"}
	case float64:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!float", Value: strconv.FormatFloat(x, 'g', -1, 64)}
	}
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: renderCompact(v)}
}

// printable reports whether a string has no control characters other
// than newlines (those go into quoted YAML with escapes).
func printable(s string) bool {
	for _, r := range s {
		if r < 0x20 && r != '\n' || r == 0x7f || r >= 0x80 && r < 0xa0 || r == '\ufeff' {
			return false
		}
	}
	return true
}

// renderCompact is JSON on one line (without HTML escapes).
func renderCompact(v any) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return ""
	}
	return strings.TrimSuffix(b.String(), "\n")
}
