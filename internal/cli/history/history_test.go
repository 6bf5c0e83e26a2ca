package history

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/audittui/audittui/internal/cli/clitest"
	"github.com/audittui/audittui/internal/cli/cmdutil"
	"github.com/audittui/audittui/internal/cli/query"
	"github.com/audittui/audittui/internal/termsafe/termsafetest"
	"github.com/audittui/audittui/internal/testutil"
)

var fixture = filepath.Join(testutil.RepoRoot(), "internal", "history", "testdata", "objects.jsonl")

func run(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	return clitest.Run(t, func(f *cmdutil.Factory) *cobra.Command { return NewCmdHistory(f, nil) }, stdin, args...)
}

func TestHistoryFlagsToOptions(t *testing.T) {
	var got *HistoryOptions
	code, _, errOut := clitest.Run(t, func(f *cmdutil.Factory) *cobra.Command {
		return NewCmdHistory(f, func(o *HistoryOptions) error { got = o; return nil })
	}, "", "-n", "payments", "-o", "diff", "--status", "--reads", "--since", "2h", "-q", "rolebinding/x", "a.log", "s3://b/p/")
	if code != 0 || got.Object != "rolebinding/x" || got.Namespace != "payments" || got.Output != "diff" || !got.Status || !got.Reads || !got.Quiet ||
		strings.Join(got.Args, ",") != "a.log,s3://b/p/" || got.Window.Since.Hours() != 2 {
		t.Fatalf("exit %d (%s), options %+v", code, errOut, got)
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"-o", "yaml", "cm/x", "a.log"}, "want table, jsonl or diff"},
		{[]string{"configmap", "a.log"}, "want RESOURCE[.GROUP]/NAME"},
		{[]string{"-n", "kube-system", "clusterrolebinding/x", "a.log"}, "cluster-scoped"},
	} {
		if code, _, errOut := run(t, "", tt.args...); code != cmdutil.ExitUsage || !strings.Contains(errOut, tt.want) {
			t.Errorf("%v: exit %d, stderr %q", tt.args, code, errOut)
		}
	}
}

func TestHistoryTable(t *testing.T) {
	code, out, errOut := run(t, "", "-n", "payments", "configmap/payments-config", fixture)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	// Each request is a line holding these cells.
	for _, cells := range [][]string{
		{"09:00:00", "create", "201", "alice@corp.example", "created"},
		{"09:15:00", "update", "argocd-application-controller-0", "updated (no body recorded)"},
		{"09:20:00", "update", "admin@corp.example → carol@corp.example", "updated"},
		{"09:25:00", "delete", "403", "system:serviceaccount:production:web-frontend (pod web-frontend-7d9c5b6f4-x2x7p)", "203.0.113.77", "DENIED"},
		{"09:30:00", "delete", "200", "kubernetes-admin (alice@corp.example)", "198.51.100.14", "deleted"},
	} {
		found := false
		for _, l := range strings.Split(out, "\n") {
			all := true
			for _, c := range cells {
				all = all && strings.Contains(l, c)
			}
			found = found || all
		}
		if !found {
			t.Errorf("no line with %q:\n%s", cells, out)
		}
	}
	if n := strings.Count(out, "\n"); n != 10 { // header, column titles, 8 requests
		t.Errorf("%d lines:\n%s", n, out)
	}
}

// The header's query, run by `audittui query`, selects exactly the lines
// the history cites (each once).
func TestHistoryQueryAgreesWithQuery(t *testing.T) {
	for _, obj := range []string{"cm/payments-config", "deployments.apps/web", "secret/db-password"} {
		queryAgrees(t, fixture, "-n", "payments", obj)
	}
}

// A Namespace's requests are logged with its own name as namespace, but
// its create without one: the query selects both, as the history does.
func TestHistoryNamespaceQueryAgreesWithQuery(t *testing.T) {
	ev := func(verb, uri, ns, res string) string {
		ref := `"resource":"` + res + `","name":"foo"`
		if ns != "" {
			ref += `,"namespace":"` + ns + `"`
		}
		return `{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"` + verb + uri + `","stage":"ResponseComplete","verb":"` + verb +
			`","requestURI":"` + uri + `","user":{"username":"u"},"objectRef":{` + ref + `},"responseStatus":{"code":200},"stageTimestamp":"2026-11-20T02:00:00Z"}`
	}
	syn := filepath.Join(t.TempDir(), "ns.jsonl")
	if err := os.WriteFile(syn, []byte(strings.Join([]string{
		ev("create", "/api/v1/namespaces", "", "namespaces"),
		ev("patch", "/api/v1/namespaces/foo", "foo", "namespaces"),
		ev("get", "/api/v1/namespaces/foo", "foo", "namespaces"),
		ev("update", "/api/v1/namespaces/foo/finalize", "foo", "namespaces"),
		ev("delete", "/api/v1/namespaces/foo", "foo", "namespaces"),
		ev("delete", "/api/v1/namespaces/foo/configmaps/foo", "foo", "configmaps"),
		ev("delete", "/api/v1/namespaces/bar/namespaces/foo", "bar", "namespaces"),
	}, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if n := queryAgrees(t, syn, "ns/foo"); n != 4 {
		t.Errorf("synthetic ns/foo: %d lines cited, want 4", n)
	}
	if n := queryAgrees(t, syn, "--reads", "namespace/foo"); n != 5 {
		t.Errorf("synthetic ns/foo --reads: %d lines cited, want 5", n)
	}
	f := filepath.Join(testutil.RealData(t), "audit", "falco-legacy-k8s-audit-traces.jsonl")
	if n := queryAgrees(t, f, "ns/foo"); n != 4 { // lines 1, 44, 49, 51
		t.Errorf("ns/foo: %d lines cited, want 4", n)
	}
	if n := queryAgrees(t, f, "--reads", "ns/foo"); n != 4 {
		t.Errorf("ns/foo --reads: %d lines cited, want 4", n)
	}
}

// queryAgrees runs history with args and file, and query with the query
// its header prints; it fails the test unless both select the same lines,
// and returns how many.
func queryAgrees(t *testing.T, file string, args ...string) int {
	t.Helper()
	content, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(content), "\n")
	code, out, errOut := run(t, "", append(append([]string{"-o", "jsonl"}, args...), file)...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var cited []string
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var r struct{ Where []string }
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatal(err)
		}
		cited = append(cited, r.Where...)
	}
	_, tbl, _ := run(t, "", append(args, file)...)
	q := strings.TrimSpace(tbl[strings.Index(tbl, "events: ")+len("events: ") : strings.Index(tbl, "\n")])
	code, qout, qerr := clitest.Run(t, func(f *cmdutil.Factory) *cobra.Command { return query.NewCmdQuery(f, nil) }, "", "-o", "raw", q, file)
	if code != 0 {
		t.Fatalf("query %s: exit %d: %s", q, code, qerr)
	}
	selected := strings.Split(strings.TrimSpace(qout), "\n")
	for k, c := range cited {
		n, err := strconv.Atoi(c[strings.LastIndexByte(c, ':')+1:])
		if err != nil {
			t.Fatal(err)
		}
		cited[k] = lines[n-1]
	}
	// The history cites every copy of a line delivered twice; query
	// prints it once (as Loki stores it).
	slices.Sort(cited)
	cited = slices.Compact(cited)
	slices.Sort(selected)
	if len(cited) == 0 || !slices.Equal(cited, selected) {
		t.Errorf("%s: history cites %d lines, query %s selects %d other lines", args, len(cited), q, len(selected))
	}
	return len(cited)
}

// The falco traces: ns/foo's delete is listed; the two creates that share
// an auditID are two rows, marked; clusterrole/some-reader's creates
// without a delete between them are marked created again.
func TestHistoryRealFalco(t *testing.T) {
	f := filepath.Join(testutil.RealData(t), "audit", "falco-legacy-k8s-audit-traces.jsonl")
	code, out, errOut := run(t, "", "ns/foo", f)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	rows := strings.Split(strings.TrimSpace(out), "\n")[2:]
	want := [][]string{
		{"2018-10-25T13:58:49.736141Z", "create", "201", "(auditID reused)"},
		{"2018-10-25T13:58:49.736141Z", "create", "201", "created again (auditID reused)"},
		{"2018-10-26T13:00:25.246927Z", "delete", "200", "minikube-user", "deleted"},
		{"2018-10-26T13:52:41.558192Z", "create", "201", "minikube-user", "created"},
	}
	if len(rows) != len(want) {
		t.Fatalf("ns/foo:\n%s", out)
	}
	for k, cells := range want {
		for _, c := range cells {
			if !strings.Contains(rows[k], c) {
				t.Errorf("ns/foo row %d lacks %q:\n%s", k, c, out)
			}
		}
	}
	if !strings.Contains(out, "  some-user  ") || !strings.Contains(out, "  system:anonymous  ") {
		t.Errorf("ns/foo: both creators should show:\n%s", out)
	}
	_, out, _ = run(t, "", "-o", "jsonl", "ns/foo", f)
	if n := strings.Count(out, `"auditIDSharedWith":1`); n != 2 {
		t.Errorf("-o jsonl: %d rows share the auditID, want 2:\n%s", n, out)
	}
	_, out, _ = run(t, "", "clusterrole/some-reader", f)
	if n := strings.Count(out, "created again"); n != 3 {
		t.Errorf("clusterrole/some-reader: %d re-creations, want 3:\n%s", n, out)
	}
	_, out, _ = run(t, "", "-o", "diff", "clusterrole/some-reader", f)
	mustContain(t, out, "#   note: created again: no delete recorded since the create at 2018-10-26T14:32:32.182Z, "+f+":7 (gap in the log?)",
		"--- clusterroles/some-reader 2018-10-26T14:32:32.182Z\n+++ clusterroles/some-reader 2018-10-26T14:35:50.627Z\n")
}

func mustContain(t *testing.T, s string, subs ...string) {
	t.Helper()
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			t.Errorf("output lacks %q:\n%s", sub, s)
		}
	}
}

// Secret values never appear, in any format; on a terminal every line is
// sanitised.
func TestHistorySecretAndTerminal(t *testing.T) {
	for _, o := range Formats() {
		code, out, errOut := run(t, "", "-n", "payments", "-o", o, "--status", "secret/db-password", fixture)
		if code != 0 {
			t.Fatalf("-o %s: exit %d: %s", o, code, errOut)
		}
		for _, v := range []string{"aHVudGVyMi1zM2NyM3Q=", "hunter2", "Y29ycmVjdC1ob3JzZS1iYXR0ZXJ5", "cGF5bWVudHMtcnc="} {
			if strings.Contains(out, v) {
				t.Errorf("-o %s shows the secret value %q", o, v)
			}
		}
		if o == "diff" && !strings.Contains(out, "+  password: <redacted sha256:") {
			t.Errorf("-o diff does not show the changed key:\n%s", out)
		}
	}
	ios, out, _ := clitest.Streams("")
	ios.OutTTY = true
	hostile := `{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Request","auditID":"h1","stage":"ResponseComplete","verb":"update","user":{"username":"eve\u001b[2J"},"objectRef":{"resource":"configmaps","namespace":"default","name":"c"},"responseStatus":{"code":200},"requestObject":{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"c"},"data":{"k":"\u001b]0;pwned\u0007\u202e"}},"stageTimestamp":"2026-11-20T02:00:00Z"}`
	for _, o := range Formats() {
		ios.In = strings.NewReader(hostile + "\n")
		if code := clitest.Exec(t.Context(), ios, func(f *cmdutil.Factory) *cobra.Command { return NewCmdHistory(f, nil) }, "-o", o, "cm/c"); code != 0 {
			t.Fatalf("-o %s: exit %d", o, code)
		}
		if err := termsafetest.CheckLines(out.String()); err != nil {
			t.Errorf("-o %s on a terminal: %v", o, err)
		}
	}
}

func TestHistoryRejectsAndEmpty(t *testing.T) {
	code, _, errOut := run(t, "{\"bad\n", "cm/x")
	if code != cmdutil.ExitInputError || !strings.Contains(errOut, "skipped -:1") || !strings.Contains(errOut, "no request touched default/configmaps/x") {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	_, _, errOut = run(t, "", "widgets/w", fixture)
	if !strings.Contains(errOut, "give -n NAMESPACE") {
		t.Errorf("unknown resource without -n: %q", errOut)
	}
}

var collectionFixture = filepath.Join(testutil.RepoRoot(), "internal", "history", "testdata", "deletecollection.jsonl")

// TestHistoryDeleteCollection: deletecollections of the RoleBinding's
// collection are rows that say what they did to it (deleted, may have,
// DENIED), a create after one is no re-creation, and those whose events
// show they did not touch it are left out with a note that cites them
// (-o jsonl prints them marked leftOut). The cluster-scoped
// ClusterRoleBinding's history holds the cluster-scoped deletecollection.
func TestHistoryDeleteCollection(t *testing.T) {
	code, out, errOut := run(t, "", "-n", "prod", "rolebinding/deployers", collectionFixture)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3+12 || !strings.HasPrefix(lines[1], "# note: 2 deletecollection requests of the collection left out, their events show they did not touch the object: "+collectionFixture+":7 (") {
		t.Fatalf("table:\n%s", out)
	}
	for _, cells := range [][]string{
		{"02:00:00", "deletecollection", "200", "mallory", "deleted (deletecollection)"},
		{"04:00:00", "deletecollection", "403", "mallory", "DENIED"},
		{"04:10:00", "deletecollection", "200", "may have deleted it (deletecollection with labelSelector app=x; no response body recorded)"},
		{"07:00:00", "deletecollection", "200", "deleted (deletecollection with labelSelector team=y)"},
		{"05:00:00", "create", "201", "alice", "created"},
	} {
		found := false
		for _, l := range lines {
			all := true
			for _, c := range cells {
				all = all && strings.Contains(l, c)
			}
			found = found || all
		}
		if !found {
			t.Errorf("no line with %q:\n%s", cells, out)
		}
	}
	if strings.Contains(out, "created again") {
		t.Errorf("a create after a deletecollection is taken for a re-creation:\n%s", out)
	}
	_, out, _ = run(t, "", "-n", "prod", "-o", "jsonl", "rolebinding/deployers", collectionFixture)
	if n := strings.Count(out, `"leftOut":true`); n != 2 || strings.Count(out, "\n") != 14 {
		t.Errorf("-o jsonl: %d left out:\n%s", n, out)
	}
	_, out, _ = run(t, "", "-n", "prod", "-o", "diff", "rolebinding/deployers", collectionFixture)
	mustContain(t, out, "# left out: 2026-11-20T06:00:00.000000Z deletecollection 200 by mallory at "+collectionFixture+":7: did not touch it (fieldSelector metadata.name=other excludes it",
		"#   note: a deletecollection of every rolebindings in namespace prod\n", "+++ /dev/null\n")
	_, out, _ = run(t, "", "clusterrolebinding/ci-bot-debug", collectionFixture)
	if rows := strings.Split(strings.TrimSpace(out), "\n")[2:]; len(rows) != 2 || !strings.Contains(rows[1], "deleted (deletecollection)") {
		t.Errorf("clusterrolebinding:\n%s", out)
	}
}

// The header's query selects the deletecollections the history shows and
// those it leaves out, and nothing else.
func TestHistoryDeleteCollectionQueryAgrees(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want int
	}{
		{[]string{"-n", "prod", "rolebinding/deployers"}, 14},
		{[]string{"-n", "prod", "--reads", "rolebindings.rbac.authorization.k8s.io/deployers"}, 14},
		{[]string{"-n", "staging", "rolebinding/deployers"}, 1},
		{[]string{"clusterrolebinding/ci-bot-debug"}, 2},
	} {
		if n := queryAgrees(t, collectionFixture, tt.args...); n != tt.want {
			t.Errorf("%v: %d lines cited, want %d", tt.args, n, tt.want)
		}
	}
}

// The falco traces' exec and attach of a pod (logged as create, kubectl's
// SPDY) and the same exec as kubectl 1.30 and later logs it (verb get, a
// WebSocket upgrade): history lists all three without --reads, with the
// commands, and its query selects the same lines.
func TestHistoryConnectRequests(t *testing.T) {
	content, err := os.ReadFile(filepath.Join(testutil.RealData(t), "audit", "falco-legacy-k8s-audit-traces.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	all := strings.Split(string(content), "\n")
	exec, attach := all[47], all[2]
	ws := strings.NewReplacer(`"verb":"create"`, `"verb":"get"`, `"auditID":"ca1ed9f4-`, `"auditID":"0000ws00-`,
		`command=bash`, `command=sh&command=-c&command=id`, `13:38:34.902914Z`, `13:39:00.000000Z`).Replace(exec)
	f := filepath.Join(t.TempDir(), "connect.jsonl")
	if err := os.WriteFile(f, []byte(exec+"\n"+ws+"\n"+attach+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	const pod = "pod/nginx-deployment-7998647bdf-phvq7"
	code, out, errOut := run(t, "", pod, f)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	rows := strings.Split(strings.TrimSpace(out), "\n")
	want := [][]string{
		{"2018-10-26T13:38:34.902914Z", "create/exec", "101", "minikube-user", "exec: bash"},
		{"2018-10-26T13:39:00.000000Z", "get/exec", "101", "minikube-user", "exec: sh -c id"},
		{"2018-10-26T13:42:46.808261Z", "create/attach", "101", "minikube-user", "attach"},
	}
	if !strings.Contains(rows[0], "3 requests") || len(rows) != 2+len(want) {
		t.Fatalf("history %s:\n%s", pod, out)
	}
	for k, cells := range want {
		for _, c := range cells {
			if !strings.Contains(rows[2+k], c) {
				t.Errorf("row %d lacks %q:\n%s", k, c, out)
			}
		}
	}
	if n := queryAgrees(t, f, pod); n != 3 {
		t.Errorf("%d lines cited, want 3", n)
	}
	if n := queryAgrees(t, f, "--reads", pod); n != 3 {
		t.Errorf("--reads: %d lines cited, want 3", n)
	}
}

// TestHistoryEmptyWindowSaysWindow: with a window that holds none of the
// object's requests, history says none touched it in the window, not in
// the input (review F: it said "in the input" after the notice that every
// event was before the window).
func TestHistoryEmptyWindowSaysWindow(t *testing.T) {
	_, _, errOut := run(t, "", "--from", "2030-01-01", "-n", "payments", "configmap/payments-config", fixture)
	if !strings.Contains(errOut, "in the window") || strings.Contains(errOut, "in the input") {
		t.Errorf("stderr:\n%s", errOut)
	}
	_, _, errOut = run(t, "", "-n", "payments", "configmap/never-there", fixture)
	if !strings.Contains(errOut, "in the input") {
		t.Errorf("no window: stderr:\n%s", errOut)
	}
}

// TestHistoryForwardedAddresses: a request that came through a proxy shows
// its first address (sourceIP, X-Forwarded-For's: the client's to set)
// "via" the others, the last the connection's; jsonl lists them all.
func TestHistoryForwardedAddresses(t *testing.T) {
	ev := func(id, verb, ips, at string) string {
		return `{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"` + id + `","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/payments/configmaps/x","verb":"` + verb + `","user":{"username":"bob"},"sourceIPs":` + ips + `,"userAgent":"kubectl/v1.31.0","objectRef":{"resource":"configmaps","namespace":"payments","name":"x","apiVersion":"v1"},"responseStatus":{"code":200},"stageTimestamp":"` + at + `"}`
	}
	in := ev("h-1", "patch", `["198.51.100.23","10.0.0.5"]`, "2026-11-20T02:00:00Z") + "\n" + ev("h-2", "delete", `["10.0.0.9"]`, "2026-11-20T02:05:00Z") + "\n"
	code, out, errOut := run(t, in, "-n", "payments", "configmap/x", "-")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	mustContain(t, out, "198.51.100.23 via 10.0.0.5", "10.0.0.9")
	_, out, _ = run(t, in, "-o", "diff", "-n", "payments", "configmap/x", "-")
	mustContain(t, out, "by bob from 198.51.100.23 via 10.0.0.5", "by bob from 10.0.0.9\n")
	_, out, _ = run(t, in, "-o", "jsonl", "-n", "payments", "configmap/x", "-")
	mustContain(t, out, `"sourceIP":"198.51.100.23","sourceIPs":["198.51.100.23","10.0.0.5"]`)
	if strings.Count(out, `"sourceIPs"`) != 1 {
		t.Errorf("sourceIPs listed for a request with one address:\n%s", out)
	}
}

// TestHistoryDryRuns: on review I's reproduction (testdata/dryrun), the
// table marks the dry runs "(dry run: not persisted)" and the
// Metadata-level delete that only asks for one in its URI as counted;
// -o jsonl carries dryRun on every row (and dryRunUnproven where it
// applies).
func TestHistoryDryRuns(t *testing.T) {
	f := filepath.Join(testutil.RepoRoot(), "testdata", "dryrun", "dryrun.log")
	code, out, errOut := run(t, "", "-n", "payments", "rolebinding/payments-deployers", f)
	if code != 0 || !strings.Contains(out, "deleted (dry run: not persisted)\n") ||
		!strings.Contains(out, "deleted (asks for a dry run: not provable at this level, see -o diff)\n") {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	_, out, _ = run(t, "", "-o", "jsonl", "-n", "payments", "deploy/payments-api", f)
	var rows []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("%v: %s", err, l)
		}
		rows = append(rows, m)
	}
	if len(rows) != 2 || rows[0]["dryRun"] != true || rows[1]["dryRun"] != false ||
		rows[0]["change"] != "scaled to 0 (dry run: not persisted)" || rows[0]["version"] != nil {
		t.Errorf("-o jsonl:\n%s", out)
	}
	_, out, _ = run(t, "", "-o", "jsonl", "-n", "payments", "rolebinding/payments-deployers", f)
	if strings.Count(out, `"dryRunUnproven":true`) != 1 {
		t.Errorf("-o jsonl: dryRunUnproven not on the Metadata-level delete:\n%s", out)
	}
}

// --reads lists the reads of the collection that could have returned the
// object (review L-rest 2): on every real file concatenated, the
// attacker's get of production/secrets/db-credentials, but also the list
// and watch of the secrets in production and the two cluster-wide lists
// of secrets, each marked as a read of the collection. A list whose
// fieldSelector names another object, or of another namespace, is not
// one; metadata.name=the object is.
func TestHistoryReadsCollection(t *testing.T) {
	var all []byte
	for _, f := range testutil.RealAuditFiles(t) {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, b...)
	}
	cat := filepath.Join(t.TempDir(), "all.jsonl")
	if err := os.WriteFile(cat, all, 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{"--reads", "-n", "production", "secrets/db-credentials"}
	code, out, errOut := run(t, "", append(args, cat)...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	rows := strings.Split(strings.TrimSpace(out), "\n")[2:]
	if len(rows) != 5 {
		t.Fatalf("want the get and 4 reads of the collection:\n%s", out)
	}
	if n := strings.Count(out, "list of the collection"); n != 3 {
		t.Errorf("%d lists of the collection, want 3:\n%s", n, out)
	}
	if n := strings.Count(out, "watch of the collection"); n != 1 {
		t.Errorf("%d watches of the collection, want 1:\n%s", n, out)
	}
	if n := queryAgrees(t, cat, args...); n != 5 {
		t.Errorf("%d lines cited, want 5", n)
	}
	_, out, _ = run(t, "", "-o", "diff", "--reads", "-n", "production", "secrets/db-credentials", cat)
	mustContain(t, out, "a list of every secrets in every namespace", "a list of every secrets in namespace production", "limit=500")
	// Without --reads: none of them.
	_, out, _ = run(t, "", "-n", "production", "secrets/db-credentials", cat)
	if strings.Contains(out, "of the collection") {
		t.Errorf("without --reads:\n%s", out)
	}

	ev := func(id, verb, ns, uri string) string {
		ref := `"resource":"secrets"`
		if ns != "" {
			ref += `,"namespace":"` + ns + `"`
		}
		return `{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"` + id + `","stage":"ResponseComplete","verb":"` + verb +
			`","requestURI":"` + uri + `","user":{"username":"u"},"objectRef":{` + ref + `},"responseStatus":{"code":200},"stageTimestamp":"2026-11-20T02:00:0` + id + `Z"}`
	}
	syn := filepath.Join(t.TempDir(), "lists.jsonl")
	if err := os.WriteFile(syn, []byte(strings.Join([]string{
		ev("1", "list", "prod", "/api/v1/namespaces/prod/secrets?fieldSelector=metadata.name%3Ddb"),
		ev("2", "list", "prod", "/api/v1/namespaces/prod/secrets?fieldSelector=metadata.name%3Dother"),
		ev("3", "watch", "", "/api/v1/secrets?fieldSelector=metadata.namespace%3Dstaging&watch=true"),
		ev("4", "list", "staging", "/api/v1/namespaces/staging/secrets"),
		ev("5", "list", "prod", "/api/v1/namespaces/prod/secrets?labelSelector=app%3Dx"),
		ev("6", "get", "prod", "/api/v1/namespaces/prod/secrets"),
	}, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = run(t, "", "--reads", "-n", "prod", "secret/db", syn)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	rows = strings.Split(strings.TrimSpace(out), "\n")
	var kept []string
	for _, r := range rows {
		if !strings.HasPrefix(r, "#") && strings.Contains(r, "of the collection") {
			kept = append(kept, r)
		}
	}
	if len(kept) != 2 || !strings.Contains(kept[0], "02:00:01") || !strings.Contains(kept[1], "02:00:05") || !strings.Contains(kept[1], "may not have returned it") {
		t.Errorf("want the lists 1 (metadata.name=db) and 5 (labelSelector: may):\n%s", out)
	}
	mustContain(t, out, "2 list or watch requests of the collection left out")
	queryAgrees(t, syn, "--reads", "-n", "prod", "secret/db")
}

// TestHistoryNamesTheObjectInAnotherNamespace: an empty history of
// rolebinding/payments-deployers (the default namespace's, as kubectl's)
// says where events name it, with the command that lists it (as the
// TUI's :history does); a name no event has says nothing more, and stdin
// (which cannot be read again) is not read twice.
func TestHistoryNamesTheObjectInAnotherNamespace(t *testing.T) {
	sample := filepath.Join(testutil.RepoRoot(), "testdata", "sample", "audit.log")
	code, _, errOut := run(t, "", "rolebinding/payments-deployers", sample)
	if code != 0 || !strings.Contains(errOut, "no request touched default/rolebindings/payments-deployers") ||
		!strings.Contains(errOut, "named in namespace payments by 2 events: audittui history -n payments rolebindings/payments-deployers") {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	// The command named lists carol's delete.
	code, out, _ := run(t, "", "-n", "payments", "rolebindings/payments-deployers", sample)
	if code != 0 || !strings.Contains(out, "carol@corp.example") || !strings.Contains(out, "delete") {
		t.Errorf("the command named: exit %d, %q", code, out)
	}
	_, _, errOut = run(t, "", "rolebinding/nothing-of-that-name", sample)
	if strings.Contains(errOut, "named in namespace") {
		t.Errorf("a name no event has: %q", errOut)
	}
	b, err := os.ReadFile(sample)
	if err != nil {
		t.Fatal(err)
	}
	_, _, errOut = run(t, string(b), "rolebinding/payments-deployers", "-")
	if !strings.Contains(errOut, "no request touched") || strings.Contains(errOut, "named in namespace") {
		t.Errorf("stdin: %q", errOut)
	}
}
