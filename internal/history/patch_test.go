package history

import (
	"strings"
	"testing"

	"github.com/audittui/audittui/internal/data/logql"
)

func mustParse(t *testing.T, q string) *logql.LogQuery {
	t.Helper()
	lq, err := logql.ParseLog(q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return lq
}

func js(t *testing.T, s string) any {
	t.Helper()
	v, err := decodeJSON([]byte(s))
	if err != nil {
		t.Fatalf("%s: %v", s, err)
	}
	return v
}

// TestJSONPatch: the operations of RFC 6902 (examples from its appendix).
func TestJSONPatch(t *testing.T) {
	for _, tt := range []struct{ doc, patch, want string }{
		{`{"foo":"bar"}`, `[{"op":"add","path":"/baz","value":"qux"}]`, `{"baz":"qux","foo":"bar"}`},
		{`{"foo":["bar","baz"]}`, `[{"op":"add","path":"/foo/1","value":"qux"}]`, `{"foo":["bar","qux","baz"]}`},
		{`{"foo":["bar"]}`, `[{"op":"add","path":"/foo/-","value":"x"}]`, `{"foo":["bar","x"]}`},
		{`{"baz":"qux","foo":"bar"}`, `[{"op":"remove","path":"/baz"}]`, `{"foo":"bar"}`},
		{`{"foo":["bar","qux","baz"]}`, `[{"op":"remove","path":"/foo/1"}]`, `{"foo":["bar","baz"]}`},
		{`{"baz":"qux","foo":"bar"}`, `[{"op":"replace","path":"/baz","value":"boo"}]`, `{"baz":"boo","foo":"bar"}`},
		{`{"foo":{"bar":"baz","waldo":"fred"},"qux":{"corge":"grault"}}`, `[{"op":"move","from":"/foo/waldo","path":"/qux/thud"}]`,
			`{"foo":{"bar":"baz"},"qux":{"corge":"grault","thud":"fred"}}`},
		{`{"foo":["all","grass","cows","eat"]}`, `[{"op":"move","from":"/foo/1","path":"/foo/3"}]`, `{"foo":["all","cows","eat","grass"]}`},
		{`{"a":{"b":1}}`, `[{"op":"copy","from":"/a","path":"/c"},{"op":"test","path":"/c/b","value":1}]`, `{"a":{"b":1},"c":{"b":1}}`},
		{`{"m":{"a/b":1,"c~d":2}}`, `[{"op":"remove","path":"/m/a~1b"},{"op":"replace","path":"/m/c~0d","value":3}]`, `{"m":{"c~d":3}}`},
	} {
		ops, _ := js(t, tt.patch).([]any)
		got, err := applyJSONPatch(js(t, tt.doc), ops)
		if err != nil || renderCompact(got) != renderCompact(js(t, tt.want)) {
			t.Errorf("%s + %s = %s, %v; want %s", tt.doc, tt.patch, renderCompact(got), err, tt.want)
		}
	}
	for _, bad := range []string{
		`[{"op":"remove","path":"/missing"}]`, `[{"op":"replace","path":"/nope","value":1}]`,
		`[{"op":"test","path":"/foo","value":"other"}]`, `[{"op":"add","path":"/foo/9/x","value":1}]`, `[{"op":"frob","path":"/foo"}]`,
		`[{"op":"add","value":1}]`, `["x"]`,
	} {
		ops, _ := js(t, bad).([]any)
		if _, err := applyJSONPatch(js(t, `{"foo":"bar"}`), ops); err == nil {
			t.Errorf("%s applied", bad)
		}
	}
}

// TestMergePatch: RFC 7386's examples.
func TestMergePatch(t *testing.T) {
	for _, tt := range []struct{ doc, patch, want string }{
		{`{"a":"b"}`, `{"a":"c"}`, `{"a":"c"}`},
		{`{"a":"b"}`, `{"b":"c"}`, `{"a":"b","b":"c"}`},
		{`{"a":"b"}`, `{"a":null}`, `{}`},
		{`{"a":"b","b":"c"}`, `{"a":null}`, `{"b":"c"}`},
		{`{"a":["b"]}`, `{"a":"c"}`, `{"a":"c"}`},
		{`{"a":{"b":"c"}}`, `{"a":{"b":"d","c":null}}`, `{"a":{"b":"d"}}`},
		{`{"a":[{"b":"c"}]}`, `{"a":[1]}`, `{"a":[1]}`},
		{`{"e":null}`, `{"a":1}`, `{"a":1,"e":null}`},
	} {
		got := mergePatch(js(t, tt.doc), js(t, tt.patch))
		if renderCompact(got) != renderCompact(js(t, tt.want)) {
			t.Errorf("%s + %s = %s, want %s", tt.doc, tt.patch, renderCompact(got), tt.want)
		}
	}
}

func TestGuessPatchType(t *testing.T) {
	for _, tt := range []struct {
		body, uri string
		builtIn   bool
		want      string
	}{
		{`[{"op":"add","path":"/a","value":1}]`, "", true, PatchJSON},
		{`{"spec":{"replicas":2}}`, "", true, PatchStrategic},
		{`{"spec":{"replicas":2}}`, "", false, PatchMerge},
		{`{"spec":{"$retainKeys":["a"]}}`, "", false, PatchStrategic},
		{`{"apiVersion":"apps/v1","kind":"Deployment","spec":{}}`, "/apis/apps/v1/namespaces/a/deployments/b?fieldManager=kubectl&force=true", true, PatchApply},
		{`{"apiVersion":"v1","kind":"Secret","data":{}}`, "/api/v1/namespaces/a/secrets/b?fieldManager=kubectl-client-side-apply", true, PatchStrategic},
	} {
		if got := guessPatchType(js(t, tt.body), tt.uri, tt.builtIn); got != tt.want {
			t.Errorf("%s %s: %s, want %s", tt.body, tt.uri, got, tt.want)
		}
	}
}

// TestSecretJSONPatchRedaction: every way a JSON patch writes Secret
// values is hashed.
func TestSecretJSONPatchRedaction(t *testing.T) {
	h := secretHasher{object: "ns/secrets/s"}
	ops, _ := js(t, `[{"op":"add","path":"/data","value":{"k":"c2VjcmV0"}},{"op":"replace","path":"/stringData/p~1q","value":"plain"},`+
		`{"op":"add","path":"/metadata/annotations/kubectl.kubernetes.io~1last-applied-configuration","value":"{\"data\":{\"k\":\"c2VjcmV0\"}}"},`+
		`{"op":"add","path":"/metadata/annotations","value":{"kubectl.kubernetes.io/last-applied-configuration":"{\"stringData\":{\"x\":\"plain\"}}"}},`+
		`{"op":"add","path":"","value":{"data":{"k":"c2VjcmV0"}}}]`).([]any)
	out := renderCompact(h.redactJSONPatch(ops))
	for _, v := range []string{"c2VjcmV0", "plain"} {
		if strings.Contains(out, v) {
			t.Errorf("value %q left in %s", v, out)
		}
	}
}
