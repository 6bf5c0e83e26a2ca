package data

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/audittui/audittui/internal/data/logql"
	"github.com/audittui/audittui/internal/testutil"
)

// dryRunEvent is an apiserver-shaped audit line: verb, subresource,
// requestURI, level and an optional requestObject (JSON).
func dryRunEvent(verb, sub, uri, level, body string) []byte {
	ref := map[string]string{"resource": "rolebindings", "namespace": "payments", "name": "payments-deployers", "apiGroup": "rbac.authorization.k8s.io", "apiVersion": "v1"}
	if sub != "" {
		ref["subresource"] = sub
	}
	e := map[string]any{
		"kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": level, "auditID": "6c1f1c52-61c6-4c1e-9e6f-8c0f3c2f0a11",
		"stage": "ResponseComplete", "requestURI": uri, "verb": verb,
		"user": map[string]any{"username": "dave@corp.example", "groups": []string{"system:authenticated"}}, "sourceIPs": []string{"10.20.4.40"},
		"userAgent": "kubectl/v1.31.0 (linux/amd64) kubernetes/9edcffc", "objectRef": ref,
		"responseStatus":           map[string]any{"metadata": map[string]any{}, "code": 200},
		"requestReceivedTimestamp": "2026-12-07T05:00:00.000000Z", "stageTimestamp": "2026-12-07T05:00:00.001000Z",
	}
	if level == "" {
		delete(e, "level")
	}
	if body != "" {
		e["requestObject"] = json.RawMessage(body)
	}
	// The apiserver's encoder writes & as \u0026, as encoding/json does.
	b, err := json.Marshal(e)
	if err != nil {
		panic(err)
	}
	return b
}

func decodeOne(t testing.TB, line []byte) Event {
	t.Helper()
	var dec Decoder
	evs, rej := dec.Decode(nil, line, Origin{Line: 1})
	if rej != nil || len(evs) != 1 {
		t.Fatalf("decode %s: %v, %d events", line, rej, len(evs))
	}
	return evs[0]
}

// The cases the package comment names, each with the answer the API
// server's handlers give (k8s.io/apiserver endpoints/handlers: create,
// update and patch read the query; delete reads the body when there is
// one; connect and TokenRequest ignore the option).
func TestDryRunCases(t *testing.T) {
	const del = `{"kind":"DeleteOptions","apiVersion":"meta.k8s.io/__internal","propagationPolicy":"Background"}`
	const delDry = `{"kind":"DeleteOptions","apiVersion":"meta.k8s.io/__internal","propagationPolicy":"Background","dryRun":["All"]}`
	crb := `{"kind":"ClusterRoleBinding","metadata":{"name":"ci-check"},"roleRef":{"kind":"ClusterRole","name":"cluster-admin"}}`
	for _, c := range []struct {
		what                    string
		verb, sub, uri, l, body string
		want                    bool
	}{
		{"kubectl create --dry-run=server", "create", "", "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings?dryRun=All&fieldManager=kubectl-create", "Request", crb, true},
		{"kubectl diff (server-side apply)", "patch", "", "/apis/apps/v1/namespaces/payments/deployments/web?dryRun=All&fieldManager=kubectl-client-side-apply&fieldValidation=Strict", "Metadata", "", true},
		{"dry-run scale", "patch", "scale", "/apis/apps/v1/namespaces/payments/deployments/payments-api/scale?dryRun=All&fieldManager=kubectl-scale", "Metadata", "", true},
		{"update", "update", "", "/api/v1/namespaces/x/configmaps/c?fieldManager=m&dryRun=All", "Metadata", "", true},
		{"a real create", "create", "", "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings?fieldManager=kubectl-create", "Request", crb, false},
		{"dryRun without a value (refused: 400)", "create", "", "/api/v1/namespaces/x/configmaps?dryRun", "Metadata", "", true},
		{"another value (refused: 400)", "create", "", "/api/v1/namespaces/x/configmaps?dryRun=Foo", "Metadata", "", true},
		{"a semicolon drops the pair", "create", "", "/api/v1/namespaces/x/configmaps?dryRun=All;x=1", "Metadata", "", false},
		{"a semicolon elsewhere", "create", "", "/api/v1/namespaces/x/configmaps?x=1;y=2&dryRun=All", "Metadata", "", true},
		{"a percent escape is not read", "create", "", "/api/v1/namespaces/x/configmaps?dryRun=Al%6C", "Metadata", "", false},
		{"an encoded key is not read", "create", "", "/api/v1/namespaces/x/configmaps?dry%52un=All", "Metadata", "", false},
		{"dryRun in a value", "create", "", "/api/v1/namespaces/x/configmaps?fieldManager=dryRun=All", "Metadata", "", false},
		{"dryRun in the path", "patch", "", "/api/v1/namespaces/x/configmaps/a&dryRun=All", "Metadata", "", false},
		{"another key", "create", "", "/api/v1/namespaces/x/configmaps?dryRunX=All", "Metadata", "", false},
		{"case matters", "create", "", "/api/v1/namespaces/x/configmaps?dryrun=All", "Metadata", "", false},
		{"exec runs whatever the query says", "create", "exec", "/api/v1/namespaces/kube-system/pods/p/exec?command=sh&dryRun=All", "Metadata", "", false},
		{"attach", "create", "attach", "/api/v1/namespaces/x/pods/p/attach?dryRun=All&stdin=true", "Metadata", "", false},
		{"proxy", "delete", "proxy", "/api/v1/nodes/n/proxy/x?dryRun=All", "Request", "", false},
		{"a TokenRequest issues the token", "create", "token", "/api/v1/namespaces/x/serviceaccounts/s/token?dryRun=All", "Metadata", "", false},
		{"a read", "get", "", "/api/v1/namespaces/x/secrets/s?dryRun=All", "Metadata", "", false},
		{"kubectl delete --dry-run=server (body)", "delete", "", "/apis/rbac.authorization.k8s.io/v1/namespaces/payments/rolebindings/payments-deployers", "Request", delDry, true},
		{"a body without dryRun: the query is not read", "delete", "", "/api/v1/namespaces/x/pods/p?dryRun=All", "Request", del, false},
		{"no body at Request level: the query is read", "delete", "", "/api/v1/namespaces/x/pods/p?dryRun=All", "RequestResponse", "", true},
		{"Metadata level: a body may have been sent", "delete", "", "/apis/rbac.authorization.k8s.io/v1/namespaces/payments/rolebindings/payments-deployers?dryRun=All", "Metadata", "", false},
		{"no level", "delete", "", "/api/v1/namespaces/x/pods/p?dryRun=All", "", "", false},
		{"deletecollection body", "deletecollection", "", "/api/v1/namespaces/x/pods?labelSelector=a%3Db", "Request", delDry, true},
		{"a real delete", "delete", "", "/api/v1/namespaces/x/pods/p", "Request", del, false},
		{"a create's body is the object: its dryRun is no option", "create", "", "/apis/example.com/v1/things", "Request", `{"kind":"Thing","dryRun":["All"]}`, false},
	} {
		line := dryRunEvent(c.verb, c.sub, c.uri, c.l, c.body)
		e := decodeOne(t, line)
		if e.DryRun != c.want {
			t.Errorf("%s: DryRun = %v, want %v (%s)", c.what, e.DryRun, c.want, line)
		}
		checkDryRunForms(t, c.what, &e)
	}
}

// checkDryRunForms compares the LogQL forms with the decoded flag, on the
// decoded event (audittui's evaluator, which answers `| json` fields from
// it) and on the bare line (as Loki reads it).
func checkDryRunForms(t *testing.T, what string, e *Event) {
	t.Helper()
	if e.Origin.Source == nil {
		c := *e
		c.Origin.Source = &SourceInfo{Name: "test", Labels: Labels{{"job", "audit"}}}
		e = &c
	}
	entries := []logql.Entry{e, &logql.JSONEntry{Time: e.Time, Line: e.EntryLine(), Labels: [][2]string{{"job", "audit"}}}}
	for k, q := range dryRunQueries(t) {
		for j, en := range entries {
			got := q.Matches(en)
			want := e.DryRun
			if k == 1 {
				want = !e.DryRun
			}
			if got != want {
				t.Errorf("%s: query %d on %s matches %v, DryRun is %v:\n%s\n%s", what, k, []string{"the event", "the line"}[j], got, e.DryRun, q, e.EntryLine())
			}
		}
	}
}

var dryRunQueryTexts = []string{
	`{job="audit"} | json | ` + DryRunStage() + ` | dryRun="true"`,
	`{job="audit"} | json ` + DryRunFilter(true),
	`{job="audit"} | json ` + DryRunFilter(false),
}

// dryRunQueries parses dryRunQueryTexts once: checkDryRunForms runs for
// each of TestDryRunFormsAgree's 18,144 events and each event of the real
// data, and parsing the three queries each time was most of the package's
// time under -race. A LogQuery keeps nothing between Matches calls.
func dryRunQueries(t testing.TB) []*logql.LogQuery {
	t.Helper()
	qs, err := parsedDryRunQueries()
	if err != nil {
		t.Fatal(err)
	}
	return qs
}

var parsedDryRunQueries = sync.OnceValues(func() ([]*logql.LogQuery, error) {
	var out []*logql.LogQuery
	for _, s := range dryRunQueryTexts {
		q, err := logql.ParseLog(s)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", s, err)
		}
		out = append(out, q)
	}
	return out, nil
})

// TestDryRunURIRegex: uriAsksDryRun is DryRunURIRegex, anchored as a
// LogQL label matcher, over generated request URIs.
func TestDryRunURIRegex(t *testing.T) {
	re := regexp.MustCompile("^(?:" + DryRunURIRegex + ")$")
	rng := rand.New(rand.NewPCG(5, 76))
	parts := []string{"dryRun", "dryRun=", "dryRun=All", "dryrun=All", "dryRunX", "xdryRun", "=", "&", "&&", ";", "%", "%41", "?", "a=b", "All", "#", "\n", "/", "fieldManager=kubectl", "dry", "Run"}
	n := 0
	for i := 0; i < 20000; i++ {
		var b strings.Builder
		b.WriteString("/api/v1/namespaces/x/pods")
		if rng.IntN(5) > 0 {
			b.WriteString("?")
		}
		for k := rng.IntN(7); k > 0; k-- {
			if rng.IntN(3) == 0 {
				b.WriteString("&dryRun")
			}
			b.WriteString(parts[rng.IntN(len(parts))])
		}
		uri := b.String()
		got, want := uriAsksDryRun(uri), re.MatchString(uri)
		if got != want {
			t.Fatalf("uriAsksDryRun(%q) = %v, the regex says %v", uri, got, want)
		}
		if got {
			n++
		}
	}
	if n < 1000 {
		t.Fatalf("only %d of the generated URIs ask for a dry run: the comparison proves little", n)
	}
}

// TestDryRunFormsAgree: the decoded flag, the derived label's stage and
// the rule pack's filters agree on every combination of verb, subresource,
// query, level and body.
func TestDryRunFormsAgree(t *testing.T) {
	verbs := []string{"create", "update", "patch", "delete", "deletecollection", "get", "list", "watch", ""}
	subs := []string{"", "scale", "status", "exec", "attach", "portforward", "proxy", "token", "eviction"}
	uris := []string{"/x/y", "/x/y?dryRun=All", "/x/y?a=1&dryRun=All&b=2", "/x/y?dryRun=All;a", "/x/y?dryRun", "/x/y?dryRun=%41ll", "/x/y&dryRun=All", "/x/y?a=dryRun"}
	levels := []string{"Metadata", "Request", "RequestResponse", ""}
	bodies := []string{"", `{"kind":"DeleteOptions","apiVersion":"meta.k8s.io/__internal"}`, `{"kind":"DeleteOptions","dryRun":["All"]}`, `{"kind":"DeleteOptions","dryRun":[]}`, `{"dryRun":["All"]}`, `{}`, `{"kind":"Scale","spec":{"replicas":0}}`}
	dry := 0
	for _, v := range verbs {
		for _, s := range subs {
			for _, u := range uris {
				for _, l := range levels {
					for _, b := range bodies {
						e := decodeOne(t, dryRunEvent(v, s, u, l, b))
						if e.DryRun {
							dry++
						}
						checkDryRunForms(t, fmt.Sprintf("%s %s %s %s %s", v, s, u, l, b), &e)
					}
				}
			}
		}
	}
	if dry < 100 {
		t.Fatalf("%d dry runs among the combinations: the comparison proves little", dry)
	}
}

// TestDryRunOnData: on the bundled sample, the rule fixtures and the real
// audit logs, the LogQL forms agree with the flag on every event; the
// review's reproduction is three dry runs; real data (no server-side dry
// run in it) has none.
func TestDryRunOnData(t *testing.T) {
	forEachSchemaSet(t, func(t *testing.T, files map[string][][]byte) {
		var dec Decoder
		var evs []Event
		n, dry := 0, 0
		for file, lines := range files {
			for i, line := range lines {
				evs, _ = dec.Decode(evs[:0], line, Origin{Line: int64(i + 1)})
				for k := range evs {
					n++
					if evs[k].DryRun {
						dry++
					}
					checkDryRunForms(t, fmt.Sprintf("%s:%d", file, i+1), &evs[k])
				}
			}
		}
		t.Logf("%d events, %d dry runs", n, dry)
		if n == 0 {
			t.Fatal("no events")
		}
		if strings.HasSuffix(t.Name(), "/realdata") && dry != 0 {
			t.Errorf("real data: %d dry runs; it has none (no requestURI with dryRun, no DeleteOptions body)", dry)
		}
	})
	b, err := os.ReadFile(filepath.Join(testutil.RepoRoot(), "testdata", "dryrun", "dryrun.log"))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for i, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		e := decodeOne(t, []byte(line))
		got = append(got, fmt.Sprintf("%d %s %s %v %v", i+1, e.Verb, e.Name, e.DryRun, DryRunUnproven(&e)))
	}
	want := []string{
		"1 create ci-check true false",
		"2 delete payments-deployers true false",
		"3 delete payments-deployers false true",
		"4 patch payments-api true false",
		"5 create ci-check false false",
		"6 patch payments-api false false",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("testdata/dryrun/dryrun.log (line verb name DryRun DryRunUnproven):\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// BenchmarkDryRunOf: what the decoder pays per event: a read, a write
// without the option, a dry run, a delete with a body.
func BenchmarkDryRunOf(b *testing.B) {
	for _, c := range []struct{ name, verb, uri, level, body string }{
		{"get", "get", "/api/v1/namespaces/x/pods/p", "Metadata", ""},
		{"patch", "patch", "/apis/apps/v1/namespaces/x/deployments/d?fieldManager=kubectl-client-side-apply", "Metadata", ""},
		{"dryrun", "patch", "/apis/apps/v1/namespaces/x/deployments/d?dryRun=All&fieldManager=kubectl-client-side-apply", "Metadata", ""},
		{"delete-body", "delete", "/api/v1/namespaces/x/pods/p", "Request", `{"kind":"DeleteOptions","apiVersion":"meta.k8s.io/__internal","propagationPolicy":"Background"}`},
	} {
		e := decodeOne(b, dryRunEvent(c.verb, "", c.uri, c.level, c.body))
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				_ = dryRunOf(&e)
			}
		})
	}
}

// TestREADMEDryRunStage: the README's example query is the stage the
// schema writes.
func TestREADMEDryRunStage(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(testutil.RepoRoot(), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	if want := `{job="audit"} | json | ` + DryRunStage() + ` | dryRun="true"`; !strings.Contains(string(b), want) {
		t.Errorf("README.md does not show the dryRun stage as the schema writes it:\n%s", want)
	}
}

func TestDerivedFieldHint(t *testing.T) {
	if h, ok := DerivedFieldHint("dryRun"); !ok || !strings.Contains(h, DryRunStage()) {
		t.Errorf("DerivedFieldHint(dryRun) = %q, %v", h, ok)
	}
	for _, n := range []string{"verb", "sourceIP", "requestObject_dryRun", "nope"} {
		if h, ok := DerivedFieldHint(n); ok {
			t.Errorf("DerivedFieldHint(%s) = %q", n, h)
		}
	}
}
