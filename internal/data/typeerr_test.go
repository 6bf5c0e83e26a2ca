package data

import (
	"strings"
	"testing"
)

// TestTypeMismatchIsNotMalformed: a line that is valid JSON (jq reads
// it) but holds a field of another type than the API server writes is
// refused with the field and what it holds, not as "malformed JSON"
// (review D: a reviewer told "malformed" looks for corruption in good
// evidence); broken JSON is still called malformed.
func TestTypeMismatchIsNotMalformed(t *testing.T) {
	ev := func(code string) string {
		return `{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"x","stage":"ResponseComplete","requestURI":"/api/v1/pods","verb":"get","user":{"username":"alice"},"objectRef":{"resource":"pods"},"responseStatus":{"code":` + code + `},"stageTimestamp":"2026-11-20T02:00:00Z"}`
	}
	for _, c := range []struct{ in, want string }{
		{ev(`"403"`), `responseStatus.code is a string ("403")`},
		{ev(`403.0`), `responseStatus.code is a number (403.0)`},
		{ev(`[403]`), `responseStatus.code is an array`},
		{`{"kind":"Event","auditID":"x","verb":"get","stage":"ResponseComplete","user":"alice","stageTimestamp":"2026-11-20T02:00:00Z"}`, `user is a string ("alice")`},
		{`{"kind":"Event","auditID":"y","verb":"get","user":{"username":"a","groups":"g"},"stageTimestamp":"2026-11-20T02:00:00Z"}`, `user.groups is a string ("g")`},
		{`{"kind":"Event","auditID":"y","verb":"get","sourceIPs":["10.0.0.1",7],"stageTimestamp":"2026-11-20T02:00:00Z"}`, `sourceIPs[1] is a number (7)`},
		{`{"kind":"Event","verb":`, "malformed JSON: unexpected end of input"},
		{ev(`20x`), "malformed JSON"},
	} {
		var d Decoder
		_, rej := d.Decode(nil, []byte(c.in), Origin{Line: 1})
		if rej == nil {
			t.Errorf("%s: decoded, want a reject", c.in)
			continue
		}
		if !strings.Contains(rej.Reason, c.want) {
			t.Errorf("%s:\nreason %q\nwant   %q", c.in, rej.Reason, c.want)
		}
		if strings.HasPrefix(c.want, "malformed") == strings.HasPrefix(rej.Reason, "valid JSON") {
			t.Errorf("%s: %q", c.in, rej.Reason)
		}
	}
}

// TestApplicationLogIsNotAnEvent: an application's JSON log line has a
// level too ("info", "error": controller-runtime, zap, cert-manager); it
// is not an audit event, bare or in a shipper's record (which would also
// have dated it), and is rejected as such (review F: such lines were
// events with no auditID, user or verb, counted by metric queries).
// An audit level still makes an event of a line without kind or auditID.
func TestApplicationLogIsNotAnEvent(t *testing.T) {
	for _, in := range []string{
		`{"level":"info","ts":1795140001.5,"logger":"controller","msg":"Reconciler error"}`,
		`{"@timestamp":"2026-11-20T02:00:00Z","log":{"file":{"path":"/var/log/app.log"}},"message":"{\"level\":\"info\",\"msg\":\"x\"}"}`,
		`{"file":"/var/log/pods/cm/0.log","host":"cp-1","message":"{\"level\":\"info\",\"msg\":\"renewed\"}","source_type":"kubernetes_logs","timestamp":"2026-11-20T02:00:01.5Z"}`,
		`{"log":"{\"level\":\"error\",\"msg\":\"x\"}\n","stream":"stderr","time":"2026-11-20T02:00:01.5Z"}`,
	} {
		var d Decoder
		evs, rej := d.Decode(nil, []byte(in), Origin{Line: 1})
		if len(evs) != 0 || rej == nil || !strings.Contains(rej.Reason, "not an audit event") {
			t.Errorf("%s: %d events, reject %v", in, len(evs), rej)
		}
	}
	var d Decoder
	evs, rej := d.Decode(nil, []byte(`{"level":"Metadata","stageTimestamp":"2026-11-20T02:00:00Z"}`), Origin{Line: 1})
	if len(evs) != 1 || rej != nil {
		t.Errorf("an audit level alone: %d events, reject %v", len(evs), rej)
	}
}
