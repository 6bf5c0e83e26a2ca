package query

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/audittui/audittui/internal/cli/clitest"
	"github.com/audittui/audittui/internal/cli/cmdutil"
	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/data/source/loki"
	"github.com/audittui/audittui/internal/data/source/loki/lokitest"
	"github.com/audittui/audittui/internal/testutil"
)

// TestQueryWarnsOfSelectorNoStreamHas (review H11): a selector naming a
// label or value no stream of the files carries ({job="kube-audit"},
// {app="kube-apiserver"}: files carry job="audit" and filename) matches
// nothing, as in Loki; stderr says so with the labels they carry, the
// value meant when one is close, and the --label that gives the files
// the team's label. The exit status is unchanged.
func TestQueryWarnsOfSelectorNoStreamHas(t *testing.T) {
	// The warnings come from the selectors and the files' labels; the
	// sample's first 400 lines have 10 deletes to compare answers on.
	p := sampleHead(t, 400)
	for _, tc := range []struct {
		query, want string
		metric      bool
	}{
		{`{app="kube-apiserver"} | json`, `audittui: warning: {app="kube-apiserver"} selects no stream of the sources: none has the label app (their labels: job="audit", filename="` + p + `"); --label app=kube-apiserver gives local files that label` + "\n", false},
		{`{job="kube-audit"} | json | verb="delete"`, `audittui: warning: {job="kube-audit"} selects no stream of the sources: their job is "audit"; --label job=kube-audit gives local files that label` + "\n", false},
		{`{job="adit"} | json`, `audittui: warning: {job="adit"} selects no stream of the sources: their job is "audit" (did you mean job="audit"?)` + "\n", false},
		{`sum(count_over_time({job="kube-audit"} | json [1h]))`, `audittui: warning: {job="kube-audit"} selects no stream of the sources: their job is "audit"; --label job=kube-audit gives local files that label` + "\n", true},
	} {
		code, out, errOut := queryCLI(t, "-o", "raw", tc.query, p)
		if tc.metric {
			out = "" // an empty vector is printed as such
		}
		if code != cmdutil.ExitOK || out != "" || errOut != tc.want {
			t.Errorf("%s: exit %d, stdout %d bytes, stderr %q\nwant %q", tc.query, code, len(out), errOut, tc.want)
		}
	}

	// --label job=kube-audit: the team's selector selects what
	// {job="audit"} selects without it, and so does the shorthand.
	_, want, _ := queryCLI(t, "-o", "raw", `{job="audit"} | json | verb="delete"`, p)
	if want == "" {
		t.Fatal("the sample has no delete")
	}
	for _, q := range []string{`{job="kube-audit"} | json | verb="delete"`, `verb="delete"`} {
		code, out, errOut := queryCLI(t, "-o", "raw", "--label", "job=kube-audit", q, p)
		if code != cmdutil.ExitOK || out != want || errOut != "" {
			t.Errorf("--label job=kube-audit %s: exit %d, %d bytes (want %d), stderr %q", q, code, len(out), len(want), errOut)
		}
	}
	// ... and the default job then says what the files carry.
	if _, out, errOut := queryCLI(t, "-o", "raw", "--label", "job=kube-audit", `{job="audit"} | json`, p); out != "" || !strings.Contains(errOut, `their job is "kube-audit"`) {
		t.Errorf("{job=\"audit\"} with --label job=kube-audit: %d bytes, stderr %q", len(out), errOut)
	}
	// A label --label gives is a stream label to label filters, not an
	// unknown field.
	if _, out, errOut := queryCLI(t, "-o", "raw", "--label", "env=prod", `{job="audit", env="prod"} | json | env="prod" | verb="delete"`, p); out != want || errOut != "" {
		t.Errorf("--label env=prod: %d bytes, stderr %q", len(out), errOut)
	}
	// Selectors the files satisfy say nothing.
	for _, q := range []string{`{job="audit", filename=~".+"} | json | verb="delete"`, `{job=~"au.*", app!="x"} | json | verb="delete"`} {
		if _, out, errOut := queryCLI(t, "-o", "raw", q, p); out != want || errOut != "" {
			t.Errorf("%s: %d bytes, stderr %q", q, len(out), errOut)
		}
	}
}

// TestQueryLabelOnRealLogs: on each real log, a team's {job="kube-audit"}
// query is warned about without --label and answers with it exactly as
// {job="audit"} does without.
func TestQueryLabelOnRealLogs(t *testing.T) {
	for _, f := range testutil.RealAuditFiles(t) {
		_, want, wantErr := queryCLI(t, "-o", "raw", `{job="audit"} | json`, f)
		if want == "" {
			t.Fatalf("%s: no event", f)
		}
		if _, out, errOut := queryCLI(t, "-o", "raw", `{job="kube-audit"} | json`, f); out != "" || !strings.Contains(errOut, `their job is "audit"; --label job=kube-audit`) {
			t.Errorf("%s: %d bytes, stderr %q", f, len(out), errOut)
		}
		if _, out, errOut := queryCLI(t, "-o", "raw", "--label", "job=kube-audit", `{job="kube-audit"} | json`, f); out != want || errOut != wantErr {
			t.Errorf("%s with --label: %d bytes (want %d), stderr %q", f, len(out), len(want), errOut)
		}
	}
}

// TestQuerySelectorOnLoki: over Loki the labels come from the server (its
// label API, over the window), not from what files carry: a job the
// server has is not warned about, one it lacks is, with the jobs it has.
func TestQuerySelectorOnLoki(t *testing.T) {
	s := lokitest.New(lokitest.Options{})
	defer s.Close()
	clitest.SeedLoki(s) // {job="audit", cluster="prod"}
	now := time.Now().UnixNano()
	s.Push("", loki.PushRequest{Streams: []loki.PushStream{{
		Labels:  data.Labels{{Name: "job", Value: "kube-audit"}, {Name: "cluster", Value: "staging"}},
		Entries: []loki.PushEntry{{Time: now - 1e9, Line: []byte(`{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"k1","stage":"ResponseComplete","verb":"get","stageTimestamp":"2026-11-25T10:00:00Z"}`)}},
	}}})
	arg := strings.Replace(s.URL, "http://", "loki://", 1)

	if code, out, errOut := queryCLI(t, "-o", "raw", `{job="kube-audit"} | json`, arg); code != cmdutil.ExitOK || !strings.Contains(out, `"k1"`) || strings.Contains(errOut, "selects no stream") {
		t.Errorf("a job the server has: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	_, out, errOut := queryCLI(t, "-o", "raw", `{job="kube-adit", cluster="production"} | json`, arg)
	want := `audittui: warning: {job="kube-adit", cluster="production"} selects no stream of the sources: their job is "audit" or "kube-audit" (did you mean job="kube-audit"?); their cluster is "prod" or "staging"` + "\n"
	if out != "" || !strings.Contains(errOut, want) {
		t.Errorf("stdout %q, stderr %q\nwant %q", out, errOut, want)
	}
	asked := false
	for _, r := range s.Requests() {
		asked = asked || r.Path == "/loki/api/v1/label/job/values"
	}
	if !asked {
		t.Error("the server was not asked for its jobs")
	}
}

// TestQuerySelectorOnManagedExports: GKE and AKS exports name their
// cluster in each record (the cluster field), not in a stream label: a
// selector on cluster selects no stream of the file, and the warning says
// the field is filtered on after | json (or --cluster labels the file).
func TestQuerySelectorOnManagedExports(t *testing.T) {
	for _, tc := range []struct{ file, cluster string }{
		{"gke-gcloud.json", "gke-demo"},
		{"aks-pt1h.json", "AKS-DEMO"},
	} {
		p := filepath.Join(testutil.RepoRoot(), "testdata", "shapes", tc.file)
		_, want, _ := queryCLI(t, "-o", "raw", "-q", `{job="audit"} | json | cluster="`+tc.cluster+`"`, p)
		if want == "" {
			t.Fatalf("%s: no event of cluster %s", tc.file, tc.cluster)
		}
		_, out, errOut := queryCLI(t, "-o", "raw", "-q", `{job="audit", cluster="`+tc.cluster+`"} | json`, p)
		hint := `none has the label cluster (their labels: job="audit", filename="` + p + `"); cluster is a field of the events: | json | cluster="` + tc.cluster + `" filters on it; --label cluster=` + tc.cluster + ` gives local files that label`
		if out != "" || !strings.Contains(errOut, hint) {
			t.Errorf("%s: %d bytes, stderr %q\nwant %q", tc.file, len(out), errOut, hint)
		}
		if _, out, errOut := queryCLI(t, "-o", "raw", "-q", "--cluster", tc.cluster, `{job="audit", cluster="`+tc.cluster+`"} | json`, p); out != want || strings.Contains(errOut, "selects no stream") {
			t.Errorf("%s --cluster: %d bytes (want %d), stderr %q", tc.file, len(out), len(want), errOut)
		}
	}
}

// TestQueryWarnsOfLegSelectorNoStreamHas (review M7): a selector that
// selects no stream in a leg of a binary operation between vectors went
// unsaid (the read's selector keeps only what the legs share), and the
// query answered (no data). Each leg is judged now, whichever side it is
// on; a selector missed by two legs is said once; a query whose legs all
// select streams says nothing.
func TestQueryWarnsOfLegSelectorNoStreamHas(t *testing.T) {
	p := sampleHead(t, 400) // the warnings come from the selectors and the files' labels
	const good, bad = `sum(count_over_time({job="audit"}[2h]))`, `sum(count_over_time({job="nope"}[2h]))`
	nope := `audittui: warning: {job="nope"} selects no stream of the sources: their job is "audit"; --label job=nope gives local files that label` + "\n"
	app := `audittui: warning: {app="x"} selects no stream of the sources: none has the label app (their labels: job="audit", filename="` + p + `"); --label app=x gives local files that label` + "\n"
	for _, tc := range []struct{ query, want string }{
		{good + " / " + bad, nope},
		{bad + " / " + good, nope},
		{good + " or " + bad, nope},
		{bad + " / " + bad, nope},
		{bad + ` / sum(count_over_time({app="x"}[2h]))`, nope + app},
		{good + " / " + good, ""},
	} {
		code, _, errOut := queryCLI(t, "-o", "table", tc.query, p)
		if code != cmdutil.ExitOK || errOut != tc.want {
			t.Errorf("%s: exit %d, stderr %q\nwant %q", tc.query, code, errOut, tc.want)
		}
	}
}
