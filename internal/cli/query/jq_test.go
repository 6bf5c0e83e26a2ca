package query

import (
	"bytes"
	"fmt"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/audittui/audittui/internal/testutil"
)

// jqCases pairs LogQL filter queries with an equivalent jq condition on the
// decoded event $e. The jq side reads raw lines (-R) and prints the matching
// lines unchanged (-r), so both sides can be compared byte for byte.
var jqCases = []struct{ logql, jq string }{
	// The seed's investigation queries (and the alert filters).
	{`{job="audit"} | json | user_username="suspicious-user"`, `$e.user.username == "suspicious-user"`},
	{`{job="audit"} | json | objectRef_resource="secrets" | objectRef_namespace="production"`, `$e.objectRef.resource == "secrets" and $e.objectRef.namespace == "production"`},
	{`{job="audit"} | json | responseStatus_code >= 401 | responseStatus_code < 500`, `($e.responseStatus.code // null) as $c | $c != null and $c >= 401 and $c < 500`},
	{`{job="audit"} | json | objectRef_resource="pods" | verb="delete"`, `$e.objectRef.resource == "pods" and $e.verb == "delete"`},
	{`{job="audit"} | json | objectRef_resource="secrets" | verb=~"get|list"`, `$e.objectRef.resource == "secrets" and ($e.verb == "get" or $e.verb == "list")`},
	{`{job="audit"} | json | objectRef_resource=~"roles|rolebindings|clusterroles|clusterrolebindings" | verb=~"create|update|patch|delete"`, `($e.objectRef.resource // "" | test("^(roles|rolebindings|clusterroles|clusterrolebindings)$")) and ($e.verb // "" | test("^(create|update|patch|delete)$"))`},
	{`{job="audit"} | json | objectRef_resource="pods" | objectRef_subresource="exec"`, `$e.objectRef.resource == "pods" and $e.objectRef.subresource == "exec"`},
	{`{job="audit"} | json | objectRef_resource="serviceaccounts" | objectRef_subresource="token" | verb="create"`, `$e.objectRef.resource == "serviceaccounts" and $e.objectRef.subresource == "token" and $e.verb == "create"`},
	// Our own.
	{`{job="audit"} |= "kube-system"`, `contains("kube-system")`},
	{`{job="audit"} != "system:node"`, `contains("system:node") | not`},
	{`{job="audit"} |~ "exec|attach"`, `test("exec|attach")`},
	{`{job="audit"} !~ "watch|list"`, `test("watch|list") | not`},
	{`{job="audit"} | json | verb!="get"`, `$e.verb != "get"`},
	{`{job="audit"} | json | objectRef_namespace=~"kube-.*"`, `$e.objectRef.namespace // "" | test("^(kube-.*)$")`},
	{`{job="audit"} | json | user_username=~"system:serviceaccount:.*", verb="create"`, `($e.user.username // "" | test("^(system:serviceaccount:.*)$")) and $e.verb == "create"`},
	{`{job="audit"} | json | responseStatus_code == 403 or responseStatus_code == 401`, `$e.responseStatus.code == 403 or $e.responseStatus.code == 401`},
	{`{job="audit"} | json | annotations_authorization_k8s_io_decision="forbid"`, `$e.annotations["authorization.k8s.io/decision"] == "forbid"`},
	{`{job="audit"} | json | impersonatedUser_username!=""`, `($e.impersonatedUser.username // "") != ""`},
	{`{job="audit"} | json | level="RequestResponse"`, `$e.level == "RequestResponse"`},
	{`{job="audit"} | json | user_username="system:anonymous" | responseStatus_code >= 400`, `$e.user.username == "system:anonymous" and ($e.responseStatus.code // 0) >= 400`},
	{`{job="audit"} | json | verb="create" and (objectRef_resource="pods" or objectRef_resource="deployments")`, `$e.verb == "create" and ($e.objectRef.resource == "pods" or $e.objectRef.resource == "deployments")`},
	{`{job="audit"} | json priv="requestObject.spec.containers[0].securityContext.privileged" | priv="true"`, `$e.requestObject.spec.containers[0].securityContext.privileged == true`},
	{`{job="audit"} | json | userAgent=~"kubectl.*" | objectRef_resource!="pods"`, `($e.userAgent // "" | test("^(kubectl.*)$")) and $e.objectRef.resource != "pods"`},
	{`{job="audit", filename=~".*"} | json | stage="ResponseComplete" | responseStatus_code > 299`, `($e.responseStatus.code // null) as $c | $e.stage == "ResponseComplete" and $c != null and $c > 299`},
	{`{job="nope"}`, `false`},
	// Every comparison operator on its own, with its boundary value, so
	// that one behaving like another changes the lines selected.
	{`{job="audit"} | json | responseStatus_code > 403`, `($e.responseStatus.code // null) as $c | $c != null and $c > 403`},
	{`{job="audit"} | json | responseStatus_code >= 403`, `($e.responseStatus.code // null) as $c | $c != null and $c >= 403`},
	{`{job="audit"} | json | responseStatus_code < 201`, `($e.responseStatus.code // null) as $c | $c != null and $c < 201`},
	{`{job="audit"} | json | responseStatus_code <= 201`, `($e.responseStatus.code // null) as $c | $c != null and $c <= 201`},
	{`{job="audit"} | json | responseStatus_code != 200`, `($e.responseStatus.code // null) as $c | $c != null and $c != 200`},
	{`{job="audit"} | json | verb!~"get|list|watch"`, `$e.verb // "" | test("^(get|list|watch)$") | not`},
	{`{job="audit"} | json | objectRef_namespace!=""`, `($e.objectRef.namespace // "") != ""`},
}

// runJQ runs jq once over file for every case: for each, the lines it
// selects (jq's output for `(fromjson?) as $e | select(COND)` alone, in
// order). One run per file instead of one per case: the file is parsed
// once (the 33 runs per file were about 18 s of CPU of the test's 34).
func runJQ(t *testing.T, cases []string, file string) [][]byte {
	t.Helper()
	var prog strings.Builder
	prog.WriteString(`. as $l | (fromjson?) as $e | (`)
	for i, c := range cases {
		if i > 0 {
			prog.WriteString(", ")
		}
		fmt.Fprintf(&prog, `(select(%s) | "%d\t" + $l)`, c, i)
	}
	prog.WriteString(")")
	cmd := exec.Command("jq", "-R", "-r", prog.String(), file)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("jq over %s: %v\n%s", file, err, stderr.Bytes())
	}
	res := make([][]byte, len(cases))
	for _, l := range bytes.SplitAfter(out, []byte("\n")) {
		i, line, ok := bytes.Cut(l, []byte("\t"))
		if !ok {
			if len(l) > 0 {
				t.Fatalf("jq printed %q", l)
			}
			continue
		}
		k, err := strconv.Atoi(string(i))
		if err != nil || k >= len(cases) {
			t.Fatalf("jq printed %q", l)
		}
		res[k] = append(res[k], line...)
	}
	return res
}

func TestQueryMatchesJQ(t *testing.T) {
	testutil.Tool(t, "jq", "jq")
	t.Run("fixtures", func(t *testing.T) {
		root := testutil.RepoRoot()
		queryMatchesJQ(t, []string{
			filepath.Join(root, "testdata", "sample", "audit.log"),
			filepath.Join(root, "testdata", "identities", "identities.jsonl"),
		})
	})
	t.Run("realdata", func(t *testing.T) { queryMatchesJQ(t, testutil.RealAuditFiles(t)) })
}

func queryMatchesJQ(t *testing.T, files []string) {
	var conds []string
	for _, c := range jqCases {
		conds = append(conds, c.jq)
	}
	for _, f := range files {
		nonEmpty := 0
		byJQ := runJQ(t, conds, f)
		for k, c := range jqCases {
			want := byJQ[k]
			code, got, stderr := queryCLI(t, "-o", "raw", "--limit", "0", c.logql, f)
			if code != 0 {
				t.Errorf("%s: %s: exit %d: %s", filepath.Base(f), c.logql, code, stderr)
				continue
			}
			if got != string(want) {
				t.Errorf("%s: %s\n got %d lines, jq %d lines", filepath.Base(f), c.logql, strings.Count(got, "\n"), bytes.Count(want, []byte{'\n'}))
			}
			if len(want) > 0 {
				nonEmpty++
			}
		}
		if nonEmpty < 3 {
			t.Errorf("%s: only %d queries matched anything: the comparison proves little", filepath.Base(f), nonEmpty)
		}
	}
}
