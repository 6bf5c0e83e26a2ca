package logql

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"testing"
)

func flattenMap(t *testing.T, line string) (map[string]string, []string, error) {
	t.Helper()
	m := map[string]string{}
	var order []string
	err := FlattenJSON([]byte(line), func(n, v string) {
		if _, dup := m[n]; dup {
			return
		}
		m[n] = v
		order = append(order, n)
	})
	return m, order, err
}

func TestFlattenJSON(t *testing.T) {
	tests := []struct {
		name, line string
		want       map[string]string
	}{
		{"nested", `{"user":{"username":"alice","groups":["a","b"]},"verb":"get"}`,
			map[string]string{"user_username": "alice", "verb": "get"}},
		{"deep", `{"a":{"b":{"c":{"d":"x"}}}}`, map[string]string{"a_b_c_d": "x"}},
		{"sanitize", `{"annotations":{"authorization.k8s.io/decision":"allow","pod-security.kubernetes.io/enforce-policy":"privileged:latest"}}`,
			map[string]string{"annotations_authorization_k8s_io_decision": "allow", "annotations_pod_security_kubernetes_io_enforce_policy": "privileged:latest"}},
		{"numbers kept as written", `{"code":403,"f":1.50,"e":-2E+3,"z":0}`,
			map[string]string{"code": "403", "f": "1.50", "e": "-2E+3", "z": "0"}},
		{"bools and null", `{"t":true,"f":false,"n":null,"o":{"n":null}}`, map[string]string{"t": "true", "f": "false"}},
		{"arrays skipped", `{"a":[{"b":1}],"c":[],"d":[[1,[2]]],"e":1}`, map[string]string{"e": "1"}},
		{"escapes", `{"m":"a\"b\\c\n\u00e9\ud83d\ude00\/","k\u0041":"v"}`, map[string]string{"m": "a\"b\\c\né😀/", "kA": "v"}},
		{"lone surrogate", `{"m":"\ud800x"}`, map[string]string{"m": "\uFFFDx"}},
		{"digit first key", `{"1a":"x","o":{"2b":"y"}}`, map[string]string{"_1a": "x", "o_2b": "y"}},
		{"key blanks trimmed, unicode", `{" a ":"1","é":"2","x y":"3"}`, map[string]string{"a": "1", "_": "2", "x_y": "3"}},
		{"first wins", `{"a_b":"1","a":{"b":"2"}}`, map[string]string{"a_b": "1"}},
		{"empty object and key", `{"e":{},"":"x","o":{"":"y"}}`, map[string]string{"o_": "y"}},
		{"whitespace", " {\n\t\"a\" : \"b\" ,\"c\":{ \"d\" :1 } }\n", map[string]string{"a": "b", "c_d": "1"}},
		{"empty string value", `{"a":""}`, map[string]string{"a": ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _, err := flattenMap(t, tt.line)
			if err != nil {
				t.Fatalf("FlattenJSON: %v", err)
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("got  %v\nwant %v", got, tt.want)
			}
		})
	}
}

func TestFlattenJSONErrors(t *testing.T) {
	for _, line := range []string{
		``, `[]`, `"x"`, `{`, `{"a"}`, `{"a":}`, `{"a":1,}`, `{"a":tru}`, `{"a":01x}`, `{"a":1} x`,
		`{"a":"\x"}`, "{\"a\":\"\x01\"}", `{"a":[1,2}`, `{"a":-}`, `{"a":1.}`, `{"a":1e}`, `{a:1}`,
		strings.Repeat(`{"a":`, 20000) + "1" + strings.Repeat("}", 20000),
	} {
		if _, _, err := flattenMap(t, line); err == nil {
			t.Errorf("FlattenJSON(%.40q) succeeded, want error", line)
		}
	}
}

// refFlatten is an independent implementation of Loki's flattening on top
// of encoding/json's tokenizer, to cross-check FlattenJSON on real events.
func refFlatten(line []byte) (map[string]string, error) {
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	out := map[string]string{}
	var walk func(prefix string) error
	sanitize := func(prefix, key string) string {
		key = strings.TrimSpace(key)
		var b strings.Builder
		b.WriteString(prefix)
		if prefix != "" {
			b.WriteByte('_')
		}
		if key == "" {
			return b.String()
		}
		if prefix == "" && key[0] >= '0' && key[0] <= '9' {
			b.WriteByte('_')
		}
		for _, r := range key {
			if r == '_' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') {
				b.WriteRune(r)
			} else {
				b.WriteByte('_')
			}
		}
		return b.String()
	}
	walk = func(prefix string) error {
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return err
			}
			name := sanitize(prefix, kt.(string))
			set := func(v string) {
				if _, dup := out[name]; !dup && name != "" {
					out[name] = v
				}
			}
			if !dec.More() {
				return fmt.Errorf("missing value")
			}
			// Peek by decoding a RawMessage, then re-tokenising it.
			var raw json.RawMessage
			if err := dec.Decode(&raw); err != nil {
				return err
			}
			switch raw[0] {
			case '{':
				sub := json.NewDecoder(bytes.NewReader(raw))
				sub.UseNumber()
				saved := dec
				dec = sub
				if _, err := dec.Token(); err != nil {
					return err
				}
				if err := walk(name); err != nil {
					return err
				}
				dec = saved
			case '[', 'n':
			case '"':
				var s string
				if err := json.Unmarshal(raw, &s); err != nil {
					return err
				}
				set(s)
			default:
				set(string(raw))
			}
		}
		_, err := dec.Token() // closing }
		return err
	}
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	if err := walk(""); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("trailing data")
	}
	return out, nil
}

// TestFlattenEvents: FlattenJSON and JSONEntry agree with an encoding/json
// reference flattening on every event.
func TestFlattenEvents(t *testing.T) {
	forEachLineSet(t, func(t *testing.T, lines [][]byte) {
		n := 0
		for i, line := range lines {
			want, err := refFlatten(line)
			if err != nil {
				t.Fatalf("line %d: reference: %v", i, err)
			}
			got, _, err := flattenMap(t, string(line))
			if err != nil {
				t.Errorf("line %d: FlattenJSON: %v", i, err)
				continue
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("line %d: flattening differs\n got %v\nwant %v", i, got, want)
			}
			n++
			// JSONEntry gives the same fields.
			e := &JSONEntry{Line: line}
			for k, v := range want {
				if g, ok := e.JSONField(k); !ok || g != v {
					t.Errorf("line %d: JSONEntry.JSONField(%q) = %q, %v; want %q", i, k, g, ok, v)
				}
			}
		}
		if n < 50 {
			t.Errorf("only %d events compared", n)
		}
		t.Logf("compared %d events", n)
	})
}

func TestJSONPath(t *testing.T) {
	line := []byte(`{"user":{"username":"bob","groups":["g1","g2"],"extra":{"authentication.kubernetes.io/credential-id":["JTI=1"],"sessionName":["alice"]}},"annotations":{"authorization.k8s.io/decision":"forbid"},` +
		`"requestObject":{"spec":{"containers":[{"name":"a","securityContext":{"privileged":true}},{"name":"b"}]}},` +
		`"code":403,"n":null,"esc":"a\u0041","obj":{"x": [1, 2]}}`)
	tests := []struct {
		path string
		want string
		ok   bool
	}{
		{"user.username", "bob", true},
		{"user.groups[1]", "g2", true},
		{"user.groups[2]", "", false},
		{"user.groups", `["g1","g2"]`, true},
		{`annotations["authorization.k8s.io/decision"]`, "forbid", true},
		{`["user"]["username"]`, "bob", true},
		// user.extra: keys with dots and slashes, array values.
		{`user.extra["authentication.kubernetes.io/credential-id"][0]`, "JTI=1", true},
		{`user.extra["authentication.kubernetes.io/credential-id"][1]`, "", false},
		{"user.extra.sessionName[0]", "alice", true},
		{`user["extra"]["sessionName"][0]`, "alice", true},
		{"requestObject.spec.containers[0].securityContext.privileged", "true", true},
		{"requestObject.spec.containers[1].securityContext.privileged", "", false},
		{"requestObject.spec.containers[0].name", "a", true},
		{"code", "403", true},
		{"n", "", true},
		{"esc", "aA", true},
		{"obj", `{"x": [1, 2]}`, true},
		{"obj.x[0]", "1", true},
		{"missing", "", false},
		{"code.x", "", false},
		{"user[0]", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			got, ok := ExtractJSONPath(line, tt.path)
			if got != tt.want || ok != tt.ok {
				t.Errorf("ExtractJSONPath(%q) = %q, %v; want %q, %v", tt.path, got, ok, tt.want, tt.ok)
			}
		})
	}
	for _, bad := range []string{"", ".a", "a..b", "a[", "a[x]", `a["x`, "a]", "a[1", "a b"} {
		if _, err := CompileJSONPath(bad); err == nil {
			t.Errorf("CompileJSONPath(%q) succeeded, want error", bad)
		}
	}
}

func TestJSONEntry(t *testing.T) {
	e := &JSONEntry{Time: 5, Line: []byte(`{"job":"inner","verb":"get","verb2":1}`), Labels: [][2]string{{"job", "audit"}}}
	if v, ok := e.StreamLabel("job"); !ok || v != "audit" {
		t.Errorf("StreamLabel(job) = %q, %v", v, ok)
	}
	if v, ok := e.JSONField("job"); !ok || v != "inner" {
		t.Errorf("JSONField(job) = %q, %v", v, ok)
	}
	var names []string
	e.RangeJSONFields(func(n, v string) { names = append(names, n+"="+v) })
	if strings.Join(names, ",") != "job=inner,verb=get,verb2=1" {
		t.Errorf("RangeJSONFields = %v", names)
	}
	if e.JSONError() != nil {
		t.Errorf("JSONError = %v", e.JSONError())
	}
	bad := &JSONEntry{Line: []byte(`not json`)}
	if bad.JSONError() == nil {
		t.Error("JSONError(nil) for a non-JSON line")
	}
}

func TestLookupJSONField(t *testing.T) {
	lookupJSONField(t, []string{
		`{"user":{"username":"alice","groups":["a"]},"a_b":"1","a":{"b":"2","c":{"d":true}},"n":null,"x":-1.5e3,"e":"\u00e9\"","":{"top":"t"},"o":{"":{"k":"v"}},"k.e y":{"z":0}}`,
	})
	forEachLineSet(t, func(t *testing.T, lines [][]byte) {
		var ls []string
		for _, l := range lines {
			ls = append(ls, string(l))
		}
		lookupJSONField(t, ls)
	})
}

func lookupJSONField(t *testing.T, lines []string) {
	for _, line := range lines {
		want, order, err := flattenMap(t, line)
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range order {
			got, ok := LookupJSONField([]byte(line), name)
			if !ok || got != want[name] {
				t.Errorf("LookupJSONField(%.60s, %q) = %q, %v; want %q", line, name, got, ok, want[name])
			}
		}
		for _, missing := range []string{"", "user", "user_", "nope", "user_groups", "a_c", "n", "user_username_x"} {
			if _, isField := want[missing]; isField {
				continue
			}
			if got, ok := LookupJSONField([]byte(line), missing); ok {
				t.Errorf("LookupJSONField(%.60s, %q) = %q, want absent", line, missing, got)
			}
		}
	}
}
