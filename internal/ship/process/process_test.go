package process

import (
	"strings"
	"testing"
	"time"

	"github.com/valyala/fastjson"
)

const secretEvent = `{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"RequestResponse","auditID":"a1","stage":"ResponseComplete","verb":"create","user":{"username":"alice"},"objectRef":{"resource":"secrets","namespace":"prod","name":"db","apiVersion":"v1"},"requestObject":{"kind":"Secret","apiVersion":"v1","metadata":{"name":"db","managedFields":[{"manager":"kubectl"}]},"data":{"password":"aHVudGVyMg=="},"stringData":{"token":"plain"}},"responseObject":{"kind":"Secret","metadata":{"name":"db","managedFields":[{"manager":"kubectl"}]},"data":{"password":"aHVudGVyMg=="}},"requestReceivedTimestamp":"2026-11-25T10:00:00.000000Z","stageTimestamp":"2026-11-25T10:00:00.123456Z"}`

func defaults() Options {
	return Options{
		Add:        []KV{{"cluster", "prod-eu"}, {"source", "k8s-audit"}},
		RemoveKeys: []string{"requestObject.metadata.managedFields", "responseObject.metadata.managedFields", "requestObject.items.*.metadata.managedFields", "responseObject.items.*.metadata.managedFields"},
		Redact:     true,
		Fields:     [][]string{{"verb"}, {"user", "username"}, {"objectRef", "resource"}, {"objectRef", "namespace"}, {"responseStatus", "code"}},
	}
}

func TestSecretRedactedAndManagedFieldsRemoved(t *testing.T) {
	p := New(defaults())
	rec, _ := p.Process(nil, []byte(secretEvent))
	out := string(rec.Line)
	for _, leak := range []string{"aHVudGVyMg==", "plain", "managedFields", "kubectl"} {
		if strings.Contains(out, leak) {
			t.Errorf("output still has %q: %s", leak, out)
		}
	}
	if rec.Redacted != 3 || !rec.Changed {
		t.Errorf("redacted %d changed %v", rec.Redacted, rec.Changed)
	}
	v := fastjson.MustParse(out)
	h1 := string(v.GetStringBytes("requestObject", "data", "password"))
	h2 := string(v.GetStringBytes("responseObject", "data", "password"))
	if !strings.HasPrefix(h1, RedactPrefix) || h1 != h2 {
		t.Errorf("hashes %q %q: same value must hash the same", h1, h2)
	}
	if string(v.GetStringBytes("cluster")) != "prod-eu" || string(v.GetStringBytes("source")) != "k8s-audit" {
		t.Errorf("keys not added: %s", out)
	}
	if string(v.GetStringBytes("auditID")) != "a1" || !strings.HasPrefix(out, `{"kind":"Event","apiVersion"`) {
		t.Errorf("key order or content changed: %s", out)
	}
	want := time.Date(2026, 11, 25, 10, 0, 0, 123456000, time.UTC).UnixNano()
	if rec.Time != want {
		t.Errorf("time %d want %d", rec.Time, want)
	}
	if strings.Join(rec.Fields, ",") != "create,alice,secrets,prod," {
		t.Errorf("fields %q", rec.Fields)
	}
	// Different value -> different hash; HMAC key changes the hash.
	rec2, _ := p.Process(nil, []byte(strings.ReplaceAll(secretEvent, "aHVudGVyMg==", "b3RoZXI=")))
	if string(fastjson.MustParse(string(rec2.Line)).GetStringBytes("requestObject", "data", "password")) == h1 {
		t.Error("a changed value kept its hash")
	}
	o := defaults()
	o.RedactKey = []byte("k")
	rec3, _ := New(o).Process(nil, []byte(secretEvent))
	if string(fastjson.MustParse(string(rec3.Line)).GetStringBytes("requestObject", "data", "password")) == h1 {
		t.Error("HMAC key did not change the hash")
	}
}

func TestNoRedact(t *testing.T) {
	o := defaults()
	o.Redact = false
	rec, _ := New(o).Process(nil, []byte(secretEvent))
	if !strings.Contains(string(rec.Line), "aHVudGVyMg==") || strings.Contains(string(rec.Line), "managedFields") {
		t.Errorf("got %s", rec.Line)
	}
}

func TestRedactVariants(t *testing.T) {
	tests := []struct{ name, in, leak string }{
		{"secret list", `{"objectRef":{"resource":"secrets"},"responseObject":{"kind":"SecretList","items":[{"data":{"a":"czE="}},{"data":{"b":"czI="}}]}}`, "czE="},
		{"generic list", `{"objectRef":{"resource":"configmaps"},"responseObject":{"kind":"List","items":[{"kind":"Secret","data":{"a":"czE="}}]}}`, "czE="},
		{"json patch", `{"objectRef":{"resource":"secrets"},"requestObject":[{"op":"replace","path":"/data/pw","value":"czE="},{"op":"add","path":"/stringData","value":{"x":"plain1"}}]}`, "czE="},
		{"merge patch", `{"objectRef":{"resource":"secrets"},"requestObject":{"data":{"pw":"czE="}}}`, "czE="},
		{"non-string value", `{"objectRef":{"resource":"secrets"},"requestObject":{"kind":"Secret","data":{"pw":123}}}`, "123"},
		// Duplicate keys (a patch is logged as sent): every one redacted.
		{"duplicate key", `{"objectRef":{"resource":"secrets"},"requestObject":{"kind":"Secret","data":{"pw":"czE=","pw":"czE="}}}`, "czE="},
		{"duplicate map", `{"objectRef":{"resource":"secrets"},"requestObject":{"data":{"a":"czE="},"data":{"b":"czE="}}}`, "czE="},
		{"duplicate patch value", `{"objectRef":{"resource":"secrets"},"requestObject":[{"path":"/data/pw","value":"czE=","value":"czE="}]}`, "czE="},
		{"duplicate object", `{"objectRef":{"resource":"secrets"},"requestObject":{"kind":"Secret","data":{"a":"x"}},"requestObject":{"kind":"Secret","data":{"a":"czE="}}}`, "czE="},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec, _ := New(defaults()).Process(nil, []byte(tt.in))
			if strings.Contains(string(rec.Line), tt.leak) || strings.Contains(string(rec.Line), "plain1") || rec.Redacted == 0 {
				t.Errorf("leaked: %s", rec.Line)
			}
		})
	}
	// A configmap's data is not a secret.
	cm := `{"objectRef":{"resource":"configmaps"},"requestObject":{"kind":"ConfigMap","data":{"a":"keep"}}}`
	rec, _ := New(defaults()).Process(nil, []byte(cm))
	if !strings.Contains(string(rec.Line), `"a":"keep"`) || rec.Redacted != 0 {
		t.Errorf("configmap changed: %s", rec.Line)
	}
}

func TestUnchangedLineIsForwardedVerbatim(t *testing.T) {
	o := defaults()
	o.Add = nil
	in := []byte(`{ "verb" : "get", "stageTimestamp":"2026-01-01T00:00:00Z" }`)
	rec, _ := New(o).Process(nil, in)
	if string(rec.Line) != string(in) || rec.Changed {
		t.Errorf("got %s", rec.Line)
	}
}

func TestAddKeys(t *testing.T) {
	p := New(Options{Add: []KV{{"cluster", "c1"}, {"source", "k8s-audit"}}})
	tests := map[string]string{
		`{"a":1}`:                    `{"a":1,"cluster":"c1","source":"k8s-audit"}`,
		`{}`:                         `{"cluster":"c1","source":"k8s-audit"}`,
		`{"cluster":"x"} `:           `{"cluster":"x","source":"k8s-audit"} `,
		`{"a":"q\"}"}`:               `{"a":"q\"}","cluster":"c1","source":"k8s-audit"}`,
		`{"cluster":"x","source":1}`: `{"cluster":"x","source":1}`,
	}
	for in, want := range tests {
		rec, _ := p.Process(nil, []byte(in))
		if string(rec.Line) != want {
			t.Errorf("%s: got %s want %s", in, rec.Line, want)
		}
	}
}

func TestUnparsedLinesAreKept(t *testing.T) {
	p := New(defaults())
	p.Now = func() time.Time { return time.Unix(7, 0) }
	for _, in := range []string{`not json`, `[1,2]`, `{"a":`} {
		rec, _ := p.Process(nil, []byte(in))
		if !rec.Unparsed || string(rec.Line) != in || rec.Time != 7e9 {
			t.Errorf("%q: %+v", in, rec)
		}
	}
}

func TestRemoveKeysPaths(t *testing.T) {
	p := New(Options{RemoveKeys: []string{"annotations", "responseObject.items.*.metadata.managedFields", "a.0.b", "requestObject.*"}})
	in := `{"annotations":{"x":"y"},"a":[{"b":1,"c":2}],"requestObject":{"k":1},"responseObject":{"items":[{"metadata":{"managedFields":[1],"name":"n"}}]}}`
	rec, _ := p.Process(nil, []byte(in))
	want := `{"a":[{"c":2}],"requestObject":{},"responseObject":{"items":[{"metadata":{"name":"n"}}]}}`
	if string(rec.Line) != want {
		t.Errorf("got  %s\nwant %s", rec.Line, want)
	}
}

func FuzzProcess(f *testing.F) {
	f.Add([]byte(secretEvent))
	f.Add([]byte(`{"objectRef":{"resource":"secrets"},"requestObject":[{"path":"/data/x","value":{"a":1}}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		rec, _ := New(defaults()).Process(nil, b)
		if fastjson.ValidateBytes(b) != nil {
			return // the parser is lenient (raw control characters); no promise about such input
		}
		if rec.Changed || (!rec.Unparsed && len(rec.Line) != len(b)) {
			if err := fastjson.ValidateBytes(rec.Line); err != nil {
				t.Fatalf("invalid output %q from %q: %v", rec.Line, b, err)
			}
		}
	})
}
