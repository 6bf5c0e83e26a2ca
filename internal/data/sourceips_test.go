package data

import (
	"testing"

	"github.com/audittui/audittui/internal/data/logql"
)

// TestSourceIPsJSON: the whole sourceIPs array as `| json x="sourceIPs"`
// extracts it from an API server's line, built from the decoded addresses
// (the built-in rules' "from inside" test reads it for every service
// account's request): read straight from the line, without allocating,
// when the line is written as the API server writes it, also in a clone;
// built, compact, from the decoded addresses otherwise (spaces, an escape
// the decoder undid).
func TestSourceIPsJSON(t *testing.T) {
	const head = `{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"a1","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/payments/secrets","verb":"list","user":{"username":"system:serviceaccount:monitoring:prometheus-operator"},`
	const tail = `,"userAgent":"PrometheusOperator/0.78.1","objectRef":{"resource":"secrets","namespace":"payments","apiVersion":"v1"},"responseStatus":{"metadata":{},"code":200},"stageTimestamp":"2026-11-20T10:14:02.000000Z"}`
	for _, c := range []struct{ ips, want string }{
		{`"sourceIPs":["203.0.113.77"]`, `["203.0.113.77"]`},
		{`"sourceIPs":["10.0.2.63","203.0.113.77"]`, `["10.0.2.63","203.0.113.77"]`},
		{`"sourceIPs":["10.1.2.3","172.16.4.4","2001:db8::7"]`, `["10.1.2.3","172.16.4.4","2001:db8::7"]`},
		{`"sourceIPs": [ "10.0.2.63", "203.0.113.77" ]`, `["10.0.2.63","203.0.113.77"]`},
		{`"sourceIPs":["10.0.2.63", "203.0.113.77"]`, `["10.0.2.63","203.0.113.77"]`},
		{`"sourceIPs":["10.0.2.63","203.0.113.77" ]`, `["10.0.2.63","203.0.113.77"]`},
		{`"sourceIPs":["10\u002e0.2.63","203.0.113.77"]`, `["10.0.2.63","203.0.113.77"]`},
		{`"sourceIPs":[]`, ``},
		{`"sourceIPs":null`, ``},
	} {
		var dec Decoder
		line := []byte(head + c.ips + tail)
		evs, rej := dec.Decode(nil, line, Origin{Line: 1})
		if rej != nil || len(evs) != 1 {
			t.Fatalf("%s: %v", c.ips, rej)
		}
		e := &evs[0]
		for _, ev := range []*Event{e, new(e.Clone())} {
			got, ok := SourceIPsJSON(ev)
			if got != c.want || ok != (c.want != "") {
				t.Errorf("%s: %q, %v; want %q", c.ips, got, ok, c.want)
			}
			if v, _ := ev.JSONPath(SourceIPsPath); v != c.want {
				t.Errorf("%s: JSONPath %q, want %q", c.ips, v, c.want)
			}
			// As the API server writes it: the line's own bytes, no
			// allocation; the same text Loki's | json x="sourceIPs" gives.
			if c.ips == `"sourceIPs":`+c.want {
				if raw, _ := logql.ExtractJSONPath(ev.EntryLine(), SourceIPsPath); raw != got {
					t.Errorf("%s: %q, the line has %q", c.ips, got, raw)
				}
				if n := testing.AllocsPerRun(100, func() { SourceIPsJSON(ev) }); n != 0 {
					t.Errorf("%s: %v allocations", c.ips, n)
				}
			}
		}
	}
}

// TestSourceIPsText: the first address (the sourceIP field), "via" the
// others when there are more.
func TestSourceIPsText(t *testing.T) {
	for _, c := range []struct {
		ips  []string
		want string
	}{
		{nil, ""},
		{[]string{"10.0.0.5"}, "10.0.0.5"},
		{[]string{"203.0.113.9", "10.0.0.5"}, "203.0.113.9 via 10.0.0.5"},
		{[]string{"198.51.100.23", "172.16.4.4", "10.0.0.5"}, "198.51.100.23 via 172.16.4.4, 10.0.0.5"},
	} {
		if got := SourceIPsText(c.ips); got != c.want {
			t.Errorf("%q: %q, want %q", c.ips, got, c.want)
		}
	}
}
