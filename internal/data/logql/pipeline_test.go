package logql

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/audittui/audittui/internal/testutil"
)

func entry(line string, labels ...string) *JSONEntry {
	e := &JSONEntry{Line: []byte(line)}
	for i := 0; i+1 < len(labels); i += 2 {
		e.Labels = append(e.Labels, [2]string{labels[i], labels[i+1]})
	}
	return e
}

var auditLabels = []string{"job", "audit", "cluster", "prod-eu", "filename", "/var/log/audit.log"}

const (
	evGetSecret = `{"verb":"get","user":{"username":"alice"},"objectRef":{"resource":"secrets","namespace":"production","name":"db"},"responseStatus":{"code":200},"annotations":{"authorization.k8s.io/decision":"allow"}}`
	evListPods  = `{"verb":"list","user":{"username":"bob"},"objectRef":{"resource":"pods","namespace":"dev"},"responseStatus":{"code":403}}`
	evExec      = `{"verb":"create","user":{"username":"mallory"},"objectRef":{"resource":"pods","subresource":"exec","namespace":"dev","name":"web-0"},"responseStatus":{"code":101},"job":"inner"}`
	evNoStatus  = `{"verb":"watch","user":{"username":"system:kube-proxy"},"objectRef":{"resource":"endpoints"},"responseStatus":{"code":"oops"}}`
	evNoCode    = `{"verb":"get","user":{"username":"carol"},"objectRef":{"resource":"configmaps"}}`
	evIPs       = `{"verb":"get","user":{"username":"alice"},"sourceIPs":["10.20.4.17","2001:db8::7","::ffff:10.1.2.3"],"ips":{"hostport":"10.0.0.1:443","kv":"client=10.0.0.1","list":"203.0.113.5, 10.0.0.1","zone":"fe80::1%eth0","v6port":"[::1]:443","host":"node-10.0.0.9","none":"ip-10-0-0-13 and 300.1.1.1"}}`
)

func TestMatches(t *testing.T) {
	tests := []struct {
		query string
		line  string
		want  bool
	}{
		// Stream selector.
		{`{job="audit"}`, evGetSecret, true},
		{`{job="other"}`, evGetSecret, false},
		{`{job="audit", cluster=~"prod-.*"}`, evGetSecret, true},
		{`{job="audit", cluster=~"prod"}`, evGetSecret, false}, // anchored
		{`{job="audit", cluster!~"dev-.*"}`, evGetSecret, true},
		{`{job="audit", region!="eu"}`, evGetSecret, true}, // missing label is ""
		{`{job="audit", region=""}`, evGetSecret, true},
		// Line filters (regexes unanchored).
		{`{job="audit"} |= "secrets"`, evGetSecret, true},
		{`{job="audit"} |= "secret" != "alice"`, evGetSecret, false},
		{`{job="audit"} |~ "sec.ets"`, evGetSecret, true},
		{`{job="audit"} |~ "^sec"`, evGetSecret, false},
		{`{job="audit"} !~ "bob|alice"`, evGetSecret, false},
		{`{job="audit"} |= "nope" or "alice"`, evGetSecret, true},
		{`{job="audit"} != "nope" or "alice"`, evGetSecret, false},
		// String label filters after | json.
		{`{job="audit"} | json | objectRef_resource="secrets" | objectRef_namespace="production"`, evGetSecret, true},
		{`{job="audit"} | json | objectRef_resource="secrets" | objectRef_namespace="production"`, evListPods, false},
		{`{job="audit"} | json | verb=~"get|list"`, evGetSecret, true},
		{`{job="audit"} | json | verb=~"ge"`, evGetSecret, false}, // anchored
		{`{job="audit"} | json | verb!~"get|list"`, evExec, true},
		{`{job="audit"} | json | annotations_authorization_k8s_io_decision="allow"`, evGetSecret, true},
		{`{job="audit"} | json | objectRef_subresource=""`, evGetSecret, true}, // missing is ""
		{`{job="audit"} | json | objectRef_subresource!="exec"`, evGetSecret, true},
		{`{job="audit"} | json | objectRef_subresource="exec"`, evExec, true},
		{`{job="audit"} | verb="get"`, evGetSecret, false}, // no | json: no such label
		// Numeric label filters.
		{`{job="audit"} | json | responseStatus_code >= 401 | responseStatus_code < 500`, evListPods, true},
		{`{job="audit"} | json | responseStatus_code >= 401 | responseStatus_code < 500`, evGetSecret, false},
		{`{job="audit"} | json | responseStatus_code == 403`, evListPods, true},
		{`{job="audit"} | json | responseStatus_code = 403.0`, evListPods, true},
		{`{job="audit"} | json | responseStatus_code != 403`, evListPods, false},
		{`{job="audit"} | json | responseStatus_code > 0`, evNoCode, false}, // missing: filtered out
		{`{job="audit"} | json | responseStatus_code != 0`, evNoCode, false},
		{`{job="audit"} | json | responseStatus_code > 0`, evNoStatus, true}, // not a number: kept with __error__
		{`{job="audit"} | json | responseStatus_code > 0 | __error__=""`, evNoStatus, false},
		{`{job="audit"} | json | responseStatus_code > 0 | __error__="LabelFilterErr"`, evNoStatus, true},
		{`{job="audit"} | json | responseStatus_code > 0 | verb="nope"`, evNoStatus, true}, // after an error only __error__ filters
		{`{job="audit"} | json | responseStatus_code="403"`, evListPods, true},             // string comparison of the number text
		// and / or / parentheses / precedence.
		{`{job="audit"} | json | verb="get" and user_username="alice"`, evGetSecret, true},
		{`{job="audit"} | json | verb="get", user_username="bob"`, evGetSecret, false},
		{`{job="audit"} | json | verb="get" user_username="alice"`, evGetSecret, true},
		{`{job="audit"} | json | verb="list" or user_username="alice"`, evGetSecret, true},
		// and binds tighter: list or (get and bob) -> false for alice's get
		{`{job="audit"} | json | verb="list" or verb="get" and user_username="bob"`, evGetSecret, false},
		{`{job="audit"} | json | (verb="list" or verb="get") and user_username="alice"`, evGetSecret, true},
		{`{job="audit"} | json | verb="get" and user_username="bob" or verb="get"`, evGetSecret, true},
		{`{job="audit"} | json | responseStatus_code >= 400 or objectRef_resource="secrets"`, evGetSecret, true},
		// Stream label collisions: the JSON "job" becomes job_extracted.
		{`{job="audit"} | json | job="audit"`, evExec, true},
		{`{job="audit"} | json | job_extracted="inner"`, evExec, true},
		{`{job="audit"} | json | cluster="prod-eu"`, evExec, true},
		// JSON expressions.
		{`{job="audit"} | json u="user.username", code="responseStatus.code" | u="bob" | code=403`, evListPods, true},
		{`{job="audit"} | json d="annotations[\"authorization.k8s.io/decision\"]" | d="allow"`, evGetSecret, true},
		{`{job="audit"} | json missing="nope.nope" | missing=""`, evGetSecret, true},
		{`{job="audit"} | json missing="nope.nope" | missing > 1`, evGetSecret, true}, // "" is not a number -> error, kept
		{`{job="audit"} | json job="verb" | job_extracted="create"`, evExec, true},
		{`{job="audit"} | json verb | verb="create"`, evExec, true},
		// drop / keep.
		{`{job="audit"} | json | drop verb | verb=""`, evGetSecret, true},
		{`{job="audit"} | json | keep user_username | verb="" | user_username="alice"`, evGetSecret, true},
		{`{job="audit"} | json | responseStatus_code > 0 | drop __error__, __error_details__ | verb="nope"`, evNoStatus, false},
		{`{job="audit"} | json | responseStatus_code > 0 | drop __error__ | __error__=""`, evNoStatus, true},
		{`{job="audit"} | json | responseStatus_code > 0 | keep verb | __error__=""`, evNoStatus, true},
		// line_format / label_format.
		{`{job="audit"} | json | line_format "{{.user_username}}:{{.verb}}" |= "alice:get"`, evGetSecret, true},
		{`{job="audit"} | json | line_format "{{.user_username}}:{{.verb}}" |= "secrets"`, evGetSecret, false},
		{`{job="audit"} | json | line_format "{\"u\":\"{{.user_username}}\"}" | json | u="alice" | verb="get"`, evGetSecret, true},
		{`{job="audit"} | json | line_format "{\"job\":\"x\"}" | json | job_extracted="x"`, evGetSecret, true},
		{`{job="audit"} | line_format "plain" | json | __error__="JSONParserErr"`, evGetSecret, true},
		{`{job="audit"} | json | line_format "{\"u\":\"{{.user_username}}\"}" | json v="u" | v="alice"`, evGetSecret, true},
		{`{job="audit"} | json | label_format who=user_username | who="alice" | user_username=""`, evGetSecret, true},
		{`{job="audit"} | json | label_format r="{{.verb}}/{{.objectRef_resource}}", v=verb | r="get/secrets" | v="get"`, evGetSecret, true},
		{`{job="audit"} | line_format "x{{__line__}}" |= "x{\"verb\""`, evGetSecret, true},
		{`{job="audit"} | json | line_format "{{ToUpper .verb}}-{{ .user_username | upper }}-{{ trunc 3 .objectRef_resource }}" |= "GET-ALICE-sec"`, evGetSecret, true},
		{`{job="audit"} | json | line_format "[{{.nope}}]" |= "[]"`, evGetSecret, true},
		{`{job="audit"} | json | line_format "{{range $k, $v := .}}{{$k}}={{$v}};{{end}}" |= "verb=get;" |= "job=audit;"`, evGetSecret, true},
		{`{job="audit"} | json | line_format "{{regexReplaceAll \"(\" .verb \"x\"}}" | __error__="TemplateFormatErr"`, evGetSecret, true},
		// ip(): an address, a range or a CIDR prefix, IPv4 or IPv6; a value
		// that is not an address (or no label) is outside every pattern.
		{`{job="audit"} | json ip="sourceIPs[0]" | ip = ip("10.0.0.0/8")`, evIPs, true},
		{`{job="audit"} | json ip="sourceIPs[0]" | ip != ip("10.0.0.0/8")`, evIPs, false},
		{`{job="audit"} | json ip="sourceIPs[0]" | ip = ip("10.20.4.1-10.20.4.17")`, evIPs, true},
		{`{job="audit"} | json ip="sourceIPs[0]" | ip = ip("10.20.4.18-10.20.4.200")`, evIPs, false},
		{`{job="audit"} | json ip="sourceIPs[0]" | ip = ip("10.20.4.17")`, evIPs, true},
		{`{job="audit"} | json ip="sourceIPs[0]" | ip == ip("192.168.0.0/16")`, evIPs, false},
		{`{job="audit"} | json ip="sourceIPs[1]" | ip = ip("2001:db8::/32")`, evIPs, true},
		{`{job="audit"} | json ip="sourceIPs[1]" | ip = ip("2001:db8::1-2001:db8::8")`, evIPs, true},
		// As in Loki (net/netip): an IPv4-mapped address is IPv6.
		{`{job="audit"} | json ip="sourceIPs[2]" | ip = ip("10.1.2.3")`, evIPs, false}, // ::ffff:10.1.2.3
		{`{job="audit"} | json ip="sourceIPs[2]" | ip = ip("::ffff:10.1.2.0/120")`, evIPs, true},
		// The value is scanned for addresses, as Loki does.
		{`{job="audit"} | json a="ips.hostport" | a = ip("10.0.0.1")`, evIPs, true},
		{`{job="audit"} | json a="ips.kv" | a = ip("10.0.0.0/8")`, evIPs, true},
		{`{job="audit"} | json a="ips.list" | a = ip("10.0.0.1")`, evIPs, true},
		{`{job="audit"} | json a="ips.zone" | a = ip("fe80::/10")`, evIPs, true},
		{`{job="audit"} | json a="ips.v6port" | a = ip("::1")`, evIPs, true},
		{`{job="audit"} | json a="ips.host" | a = ip("10.0.0.0/8")`, evIPs, true},
		{`{job="audit"} | json a="ips.none" | a = ip("0.0.0.0/0")`, evIPs, false},
		{`{job="audit"} | json | verb = ip("0.0.0.0/0")`, evIPs, false}, // not an address
		{`{job="audit"} | json | verb != ip("0.0.0.0/0")`, evIPs, true},
		{`{job="audit"} | json | nope = ip("0.0.0.0/0")`, evIPs, false},
		{`{job="audit"} | json | nope != ip("0.0.0.0/0")`, evIPs, true},
		{`{job="audit"} | json ip="sourceIPs[0]" | ip = ip("::/0") or ip = ip("10.20.0.0/16")`, evIPs, true},
		// Not JSON.
		{`{job="audit"} | json | __error__="JSONParserErr"`, `plain text`, true},
		{`{job="audit"} | json | __error__=""`, `plain text`, false},
		{`{job="audit"} | json | verb="get"`, `plain text`, true}, // Loki keeps it: only __error__ filters apply
	}
	for _, tt := range tests {
		t.Run(tt.query+" on "+tt.line[:min(20, len(tt.line))], func(t *testing.T) {
			q, err := ParseLog(tt.query)
			if err != nil {
				t.Fatal(err)
			}
			if got := q.Matches(entry(tt.line, auditLabels...)); got != tt.want {
				t.Errorf("Matches = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestProcess(t *testing.T) {
	q, err := ParseLog(`{job="audit"} | json | line_format "{{.user_username}} {{.verb}} {{.objectRef_resource}}" | label_format who=user_username | keep who`)
	if err != nil {
		t.Fatal(err)
	}
	line, ls, ok := q.Process(entry(evExec, "job", "audit"))
	if !ok || string(line) != "mallory create pods" || ls.String() != `{who="mallory"}` {
		t.Errorf("Process = %q, %s, %v", line, ls, ok)
	}
	q2, _ := ParseLog(`{job="audit"} | json`)
	line, _, _ = q2.Process(entry(evExec, "job", "audit"))
	if string(line) != evExec {
		t.Errorf("Process without line_format changed the line: %q", line)
	}
}

func TestLabels(t *testing.T) {
	q, err := ParseLog(`{job="audit"} | json | responseStatus_code > 0`)
	if err != nil {
		t.Fatal(err)
	}
	ls, ok := q.Labels(entry(evExec, "job", "audit"))
	if !ok {
		t.Fatal("no match")
	}
	want := `{job="audit", job_extracted="inner", objectRef_name="web-0", objectRef_namespace="dev", objectRef_resource="pods", objectRef_subresource="exec", responseStatus_code="101", user_username="mallory", verb="create"}`
	if ls.String() != want {
		t.Errorf("Labels =\n%s\nwant\n%s", ls, want)
	}
	ls, _ = q.Labels(entry(evNoStatus, "job", "audit"))
	if v, _ := ls.Get(ErrorLabel); v != ErrLabelFilter {
		t.Errorf("__error__ = %q in %s", v, ls)
	}
	q2, _ := ParseLog(`{job="audit"} | json | responseStatus_code > 0 | drop __error__, __error_details__`)
	ls, _ = q2.Labels(entry(evNoStatus, "job", "audit"))
	if _, ok := ls.Get(ErrorLabel); ok {
		t.Errorf("__error__ still set after drop: %s", ls)
	}
}

func TestRequiredLiterals(t *testing.T) {
	tests := []struct {
		query string
		want  []string
	}{
		{`{job="audit"}`, nil},
		{`{job="audit"} |= "secrets" |= "" != "x" |~ "y" |= "a" or "b"`, []string{"secrets"}},
		{`{job="audit"} | json | objectRef_resource="secrets" | objectRef_namespace="production"`, []string{`"secrets"`, `"production"`}},
		{`{job="audit"} | json | user_username="system:serviceaccount:kube-system:foo@x.io/a b"`, []string{`"system:serviceaccount:kube-system:foo@x.io/a b"`}},
		{`{job="audit"} | json | verb="get" and user_username="alice", objectRef_name="x"`, []string{`"get"`, `"alice"`, `"x"`}},
		{`{job="audit"} | json | verb="get" or user_username="alice"`, nil},
		{`{job="audit"} | json | (verb="get" or verb="list") and user_username="alice"`, []string{`"alice"`}},
		{`{job="audit"} | json | verb=~"get" | verb!="list"`, nil},
		{`{job="audit"} | json | responseStatus_code="403" | x="true" | y="1.5" | z="-2e3"`, nil},
		{`{job="audit"} | json | a="<b>" | b="é" | c="a\"b" | d="a\\b" | e="" | f="a&b"`, nil},
		{`{job="audit"} | verb="get" | json`, nil},                               // before | json: a stream label
		{`{job="audit"} | json | job="audit" | cluster="x" | filename="y"`, nil}, // stream labels
		{`{app="audit"} | json | job="x"`, nil},
		{`{job="audit"} | json | responseStatus_code >= 400 | verb="get"`, nil}, // after a numeric filter
		{`{job="audit"} | json | verb="get" | responseStatus_code >= 400`, []string{`"get"`}},
		{`{job="audit"} | json u="user.username" | u="alice"`, nil},
		{`{job="audit"} | json | job_extracted="x"`, nil},
		{`{job="audit"} | json | drop verb | verb="x"`, nil},
		{`{job="audit"} | json | __error__="x"`, nil},
		{`{job="audit"} |= "a" | json | verb="get" |= "a"`, []string{"a", `"get"`}},
		{`{job="audit"} |= "a" | json | line_format "x" |= "b" | verb="get"`, []string{"a"}},
		{`{job="audit"} | json | label_format v=verb | objectRef_resource="pods"`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			q, err := ParseLog(tt.query)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, l := range q.RequiredLiterals() {
				got = append(got, string(l))
			}
			if strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Errorf("RequiredLiterals = %q, want %q", got, tt.want)
			}
		})
	}
	q, _ := ParseLog(`{job="audit"} | json | filename="a" | verb="get"`)
	var got []string
	for _, l := range q.RequiredLiteralsFor(func(n string) bool { return n == "job" || n == "filename" }) {
		got = append(got, string(l))
	}
	if strings.Join(got, "|") != `"get"` {
		t.Errorf("RequiredLiteralsFor = %q", got)
	}
	q, _ = ParseLog(`{job="audit"} | json | cluster="prod" | verb="get"`)
	got = nil
	for _, l := range q.RequiredLiteralsFor(func(n string) bool { return false }) {
		got = append(got, string(l))
	}
	if strings.Join(got, "|") != `"get"` {
		t.Errorf("RequiredLiteralsFor must never trust cluster: %q", got)
	}
}

// lineSets are the audit lines the data-driven tests run over: the
// project's own fixtures (the bundled sample, the identities fixture, the
// rule pack's fixtures and scenarios, the plain JSON-lines shape), always;
// and the real audit files of ../shared/realdata (skipped when absent).
var lineSets = []struct {
	name  string
	lines func(t testing.TB) [][]byte
}{
	{"fixtures", fixtureLines},
	{"realdata", realLines},
}

// forEachLineSet runs check as a subtest per line set.
func forEachLineSet(t *testing.T, check func(t *testing.T, lines [][]byte)) {
	for _, s := range lineSets {
		t.Run(s.name, func(t *testing.T) { check(t, s.lines(t)) })
	}
}

// fixtureLines returns the lines of the project's own audit fixtures
// that are single JSON objects.
func fixtureLines(t testing.TB) [][]byte {
	root := testutil.RepoRoot()
	files := []string{
		filepath.Join(root, "testdata", "sample", "audit.log"),
		filepath.Join(root, "testdata", "identities", "identities.jsonl"),
		filepath.Join(root, "testdata", "shapes", "plain.jsonl"),
	}
	for _, dir := range []string{"fixtures", "scenarios"} {
		more, _ := filepath.Glob(filepath.Join(root, "internal", "policy", "rules", "testdata", dir, "*.jsonl"))
		if len(more) == 0 {
			t.Fatalf("no rule %s", dir)
		}
		files = append(files, more...)
	}
	return jsonLines(t, files)
}

// realLines returns the real audit lines that are single JSON objects.
func realLines(t testing.TB) [][]byte {
	return jsonLines(t, testutil.RealAuditFiles(t))
}

func jsonLines(t testing.TB, files []string) [][]byte {
	var out [][]byte
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(fh)
		sc.Buffer(nil, 64<<20)
		for sc.Scan() {
			line := bytes.TrimSpace(sc.Bytes())
			// Single JSON objects, as encoding/json (not the code under
			// test) sees them.
			if len(line) > 0 && line[0] == '{' && json.Valid(line) {
				out = append(out, append([]byte(nil), line...))
			}
		}
		fh.Close()
	}
	return out
}

// TestRequiredLiteralsSound checks on every event that every line a query
// matches contains the query's literals (the prefilter never drops a match).
func TestRequiredLiteralsSound(t *testing.T) {
	forEachLineSet(t, requiredLiteralsSound)
}

func requiredLiteralsSound(t *testing.T, lines [][]byte) {
	queries := []string{
		`{job="audit"} | json | objectRef_resource="secrets" | verb=~"get|list"`,
		`{job="audit"} | json | objectRef_resource="pods" | objectRef_subresource="exec"`,
		`{job="audit"} | json | objectRef_resource="serviceaccounts" | objectRef_subresource="token" | verb="create"`,
		`{job="audit"} | json | user_username="system:anonymous"`,
		`{job="audit"} | json | objectRef_namespace="default" | verb="list"`,
		`{job="audit"} | json | annotations_authorization_k8s_io_decision="allow"`,
		`{job="audit"} | json | level="Metadata", stage="ResponseComplete"`,
		`{job="audit"} | json | responseStatus_status="Failure" | responseStatus_reason="Forbidden"`,
		`{job="audit"} |= "kube-system" | json | verb="get"`,
	}
	for _, qs := range queries {
		q, err := ParseLog(qs)
		if err != nil {
			t.Fatal(err)
		}
		lits := q.RequiredLiterals()
		if len(lits) == 0 {
			t.Errorf("%s: no literals", qs)
		}
		matched := 0
		for _, line := range lines {
			if !q.Matches(entry(string(line), "job", "audit")) {
				continue
			}
			matched++
			for _, l := range lits {
				if !bytes.Contains(line, l) {
					t.Errorf("%s: matching line lacks literal %s: %.200s", qs, l, line)
				}
			}
		}
		if matched == 0 {
			t.Errorf("%s matched no event", qs)
		}
	}
}
