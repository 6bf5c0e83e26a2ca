package process

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/audittui/audittui/internal/gen"
	"github.com/audittui/audittui/internal/testutil"
)

// sameProcessing checks that ProcessTo gives what Process gives: the same
// JSON (compared as values), time, fields, counts and flags.
func sameProcessing(t *testing.T, o Options, in []byte) {
	t.Helper()
	now := func() time.Time { return time.Unix(42, 0) }
	p1, p2 := New(o), New(o)
	p1.Now, p2.Now = now, now
	want, _ := p1.Process(nil, in)
	wantLine := append([]byte(nil), want.Line...)
	var out bytes.Buffer
	got, n, err := p2.ProcessTo(&out, in)
	if err != nil {
		t.Fatalf("ProcessTo: %v", err)
	}
	if n != int64(out.Len()) {
		t.Fatalf("wrote %d bytes, reported %d", out.Len(), n)
	}
	if got.Time != want.Time || got.Unparsed != want.Unparsed || got.Changed != want.Changed || got.Redacted != want.Redacted ||
		strings.Join(got.Fields, "\x00") != strings.Join(want.Fields, "\x00") {
		t.Fatalf("record differs for %.300s\nProcess:   %+v\nProcessTo: %+v", in, recNoLine(want), recNoLine(got))
	}
	if want.Unparsed || (!want.Changed && bytes.Equal(wantLine, in)) {
		if !bytes.Equal(out.Bytes(), wantLine) {
			t.Fatalf("unchanged line not forwarded verbatim:\n%.300s\n%.300s", out.Bytes(), wantLine)
		}
		return
	}
	var a, b any
	da, db := json.NewDecoder(bytes.NewReader(wantLine)), json.NewDecoder(bytes.NewReader(out.Bytes()))
	da.UseNumber()
	db.UseNumber()
	if err := da.Decode(&a); err != nil {
		t.Fatalf("Process output: %v", err)
	}
	if err := db.Decode(&b); err != nil {
		t.Fatalf("ProcessTo output is not JSON (%v): %.500s", err, out.Bytes())
	}
	if !reflect.DeepEqual(a, b) {
		t.Fatalf("outputs differ for %.300s\nProcess:   %.600s\nProcessTo: %.600s", in, wantLine, out.Bytes())
	}
}

func recNoLine(r Record) Record { r.Line = nil; return r }

var streamCases = []string{
	secretEvent,
	`{"objectRef":{"resource":"secrets"},"responseObject":{"kind":"SecretList","items":[{"data":{"a":"czE="}},{"data":{"b":"czI="}}]}}`,
	`{"objectRef":{"resource":"configmaps"},"responseObject":{"kind":"List","items":[{"kind":"Secret","data":{"a":"czE="}},{"kind":"ConfigMap","data":{"a":"keep"}}]}}`,
	`{"objectRef":{"resource":"secrets"},"requestObject":[{"op":"replace","path":"/data/pw","value":"czE="},{"op":"add","path":"/stringData","value":{"x":"plain1"}},{"op":"add","path":"/metadata/x","value":"keep"},7]}`,
	`{"objectRef":{"resource":"secrets"},"requestObject":{"data":{"pw":"czE="}}}`,
	`{"objectRef":{"resource":"secrets","apiGroup":"x.io"},"requestObject":{"data":{"pw":"czE="}}}`,
	`{"objectRef":{"resource":"secrets"},"requestObject":{"kind":"Secret","data":{"pw":123,"o":{"a": [1, 2 ,"x y"]},"done":"redacted:sha256:0123456789abcdef"}}}`,
	`{"objectRef":{"resource":"secrets"},"requestObject":{"kind":"Status","data":{"pw":"x"}},"responseObject":{"kind":"SecretList","items":"no"}}`,
	`{"objectRef":{"resource":"configmaps"},"requestObject":{"kind":"ConfigMap","data":{"a":"keep"}}}`,
	`{ "verb" : "get", "stageTimestamp":"2026-01-01T00:00:00Z" }`,
	`{"a":"q\"}","k\u0065y":{"x":1}, "user" : { "username" : "b\u00e9a" }, "responseStatus":{"code":403}}`,
	`{}`,
	`  {"cluster":"x"}  `,
	`not json`, `[1,2]`, `{"a":`, `{"a":1}x`, ``,
	`{"annotations":{"x":"y"},"a":[{"b":1,"c":2}],"requestObject":{"k":1,"metadata":{"managedFields":[{"m":1}],"name":"n"}},"responseObject":{"items":[{"metadata":{"managedFields":[1],"name":"n"}},{"metadata":{"name":"m"}}]}}`,
	`{"requestObject":{"metadata":{"managedFields":[]}},"responseObject":{"kind":"SecretList","items":[{"metadata":{"managedFields":1},"data":{"k":"v"}}]},"objectRef":{"resource":"secrets"}}`,
	`{"verb":true,"user":{"username":null},"objectRef":{"resource":["x"],"namespace":1.5e3},"stageTimestamp":"bad","timestamp":"2026-01-01T00:00:00.5Z"}`,
}

func TestProcessToMatchesProcess(t *testing.T) {
	opts := map[string]Options{
		"defaults": defaults(),
		"no-redact": func() Options {
			o := defaults()
			o.Redact = false
			return o
		}(),
		"wildcards": {RemoveKeys: []string{"annotations", "a.0.b", "requestObject.*", "responseObject.items.*.metadata", "x.*.*"},
			Fields: [][]string{{"a", "0", "c"}, {"verb"}}, Add: []KV{{"cluster", "c1"}}, Redact: true},
		"hmac": func() Options {
			o := defaults()
			o.RedactKey = []byte("key")
			return o
		}(),
	}
	for name, o := range opts {
		t.Run(name, func(t *testing.T) {
			for _, c := range streamCases {
				sameProcessing(t, o, []byte(c))
			}
			g := gen.New(gen.Config{Seed: 3, Rate: 500, Start: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)})
			for range 1000 {
				sameProcessing(t, o, g.Next().Line)
			}
		})
	}
}

func TestProcessToRealData(t *testing.T) {
	for _, f := range testutil.RealAuditFiles(t) {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(fh)
		sc.Buffer(make([]byte, 1<<20), 16<<20)
		n := 0
		for sc.Scan() {
			if len(bytes.TrimSpace(sc.Bytes())) == 0 {
				continue
			}
			sameProcessing(t, defaults(), sc.Bytes())
			n++
		}
		fh.Close()
		if err := sc.Err(); err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			t.Fatalf("%s: no lines", f)
		}
	}
}

// A huge SecretList response: every item redacted, managedFields removed,
// without Process's second copy of the line.
func TestProcessToHugeSecretList(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"kind":"Event","verb":"list","objectRef":{"resource":"secrets"},"responseObject":{"kind":"SecretList","items":[`)
	for i := range 2000 {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"metadata":{"name":"s","managedFields":[{"manager":"kubectl"}]},"data":{"tls.crt":"`)
		b.WriteString(strings.Repeat("QUJD", 500))
		b.WriteString(`"}}`)
	}
	b.WriteString(`]},"stageTimestamp":"2026-01-01T00:00:00Z"}`)
	in := []byte(b.String())
	sameProcessing(t, defaults(), in)
	var out bytes.Buffer
	rec, _, err := New(defaults()).ProcessTo(&out, in)
	if err != nil || rec.Redacted != 2000 || bytes.Contains(out.Bytes(), []byte("QUJD")) || bytes.Contains(out.Bytes(), []byte("managedFields")) {
		t.Fatalf("redacted %d, err %v, output %d bytes", rec.Redacted, err, out.Len())
	}
}

func FuzzProcessTo(f *testing.F) {
	for _, c := range streamCases {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if json.Valid(b) {
			sameProcessing(t, defaults(), b)
			return
		}
		var out bytes.Buffer
		if _, _, err := New(defaults()).ProcessTo(&out, b); err != nil {
			t.Fatal(err)
		}
	})
}
