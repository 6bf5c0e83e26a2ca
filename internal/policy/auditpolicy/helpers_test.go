package auditpolicy

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	"k8s.io/apiserver/pkg/endpoints/request"

	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/testutil"
)

// dataSet is the policies and events a property is checked over.
type dataSet struct {
	policies func(t *testing.T) []string
	lines    func(t *testing.T) []realLine
}

// dataSets: "fixtures" is the project's own (the seed policy, the policies
// under testdata, the bundled sample, the identities fixture and the rule
// pack's fixtures and scenarios), always there; "realdata" is every real
// policy and event of ../shared/realdata (skipped when absent, required
// when AUDITTUI_REALDATA is set).
var dataSets = []struct {
	name string
	set  dataSet
}{
	{"fixtures", dataSet{fixturePolicies, fixtureLines}},
	{"realdata", dataSet{func(t *testing.T) []string { return testutil.RealPolicyFiles(t) }, realLines}},
}

// forEachDataSet runs check as a subtest per data set.
func forEachDataSet(t *testing.T, check func(t *testing.T, ds dataSet)) {
	for _, d := range dataSets {
		t.Run(d.name, func(t *testing.T) { check(t, d.set) })
	}
}

// fixturePolicies returns the seed's policy and every policy under testdata.
func fixturePolicies(t *testing.T) []string {
	t.Helper()
	own, _ := filepath.Glob(filepath.Join("testdata", "*.yaml"))
	if len(own) < 3 {
		t.Fatalf("policies under testdata: %v", own)
	}
	return append([]string{seedPolicy(t)}, own...)
}

// fixtureLines returns every event of the project's own audit fixtures.
func fixtureLines(t *testing.T) []realLine {
	t.Helper()
	root := testutil.RepoRoot()
	files := []string{
		filepath.Join(root, "testdata", "sample", "audit.log"),
		filepath.Join(root, "testdata", "identities", "identities.jsonl"),
	}
	for _, dir := range []string{"fixtures", "scenarios"} {
		more, _ := filepath.Glob(filepath.Join(root, "internal", "policy", "rules", "testdata", dir, "*.jsonl"))
		if len(more) == 0 {
			t.Fatalf("no rule %s", dir)
		}
		files = append(files, more...)
	}
	return linesOf(t, files)
}

func seedPolicy(t *testing.T) string {
	t.Helper()
	return filepath.Join(testutil.SeedDir(t), "audit-policy.yaml")
}

// realLine is one line of a real audit file.
type realLine struct {
	where string
	raw   []byte
}

func realLines(t *testing.T) []realLine {
	t.Helper()
	return linesOf(t, testutil.RealAuditFiles(t))
}

func linesOf(t *testing.T, files []string) []realLine {
	t.Helper()
	var out []realLine
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(bytes.NewReader(b))
		sc.Buffer(nil, 1<<24)
		n := 0
		for sc.Scan() {
			n++
			if len(bytes.TrimSpace(sc.Bytes())) == 0 {
				continue
			}
			out = append(out, realLine{where: filepath.Base(f) + ":" + strconv.Itoa(n), raw: append([]byte(nil), sc.Bytes()...)})
		}
	}
	return out
}

// decodeEvent decodes a line with the project's decoder.
func decodeEvent(t *testing.T, l realLine) data.Event {
	t.Helper()
	var d data.Decoder
	src := &data.SourceInfo{Name: l.where, Labels: data.Labels{{Name: "job", Value: "audit"}}}
	evs, rej := d.Decode(nil, l.raw, data.Origin{Source: src, Line: 1})
	if rej != nil {
		t.Fatalf("%s: decoder rejected a real event: %s", l.where, rej.Reason)
	}
	if len(evs) != 1 {
		t.Fatalf("%s: %d events", l.where, len(evs))
	}
	return evs[0].Clone()
}

// jsonAttrs builds authorizer attributes from a raw audit line with
// encoding/json and k8s.io/apiserver's own RequestInfoFactory,
// independently of data.Event and Attributes: the reference the tests
// compare against. The attributes are those the apiserver evaluated the
// policy with: parsed from the requestURI (with the logged verb) when it is
// a request for objectRef's group, resource and subresource; else objectRef
// as logged. A create without subresource has no name.
func jsonAttrs(t *testing.T, l realLine) authorizer.Attributes {
	t.Helper()
	var ev struct {
		Verb       string `json:"verb"`
		RequestURI string `json:"requestURI"`
		User       struct {
			Username string   `json:"username"`
			UID      string   `json:"uid"`
			Groups   []string `json:"groups"`
		} `json:"user"`
		ObjectRef *struct {
			Resource    string `json:"resource"`
			Subresource string `json:"subresource"`
			Namespace   string `json:"namespace"`
			Name        string `json:"name"`
			APIGroup    string `json:"apiGroup"`
			APIVersion  string `json:"apiVersion"`
		} `json:"objectRef"`
	}
	if err := json.Unmarshal(l.raw, &ev); err != nil {
		t.Fatalf("%s: %v", l.where, err)
	}
	u := &user.DefaultInfo{Name: ev.User.Username, UID: ev.User.UID, Groups: ev.User.Groups}
	ri := apiserverRequestInfo(ev.Verb, ev.RequestURI)
	path := ev.RequestURI
	if ri != nil {
		path = ri.Path
	} else if i := strings.IndexAny(path, "?#"); i >= 0 {
		path = path[:i]
	}
	if ev.ObjectRef == nil || ev.ObjectRef.Resource == "" && ev.ObjectRef.Subresource == "" && ev.ObjectRef.APIGroup == "" &&
		ev.ObjectRef.Namespace == "" && ev.ObjectRef.Name == "" && ev.ObjectRef.APIVersion == "" {
		return authorizer.AttributesRecord{User: u, Verb: ev.Verb, Path: path}
	}
	o := ev.ObjectRef
	group, version := o.APIGroup, o.APIVersion
	// "apps/v1" in apiVersion without apiGroup (semi-synthetic events).
	if i := strings.LastIndexByte(version, '/'); i >= 0 {
		if group == "" {
			group = version[:i]
		}
		version = version[i+1:]
	}
	a := authorizer.AttributesRecord{User: u, Verb: ev.Verb, Namespace: o.Namespace, APIGroup: group, APIVersion: version,
		Resource: o.Resource, Subresource: o.Subresource, Name: o.Name, ResourceRequest: true, Path: path}
	if ri != nil && ri.IsResourceRequest && ri.APIGroup == group && ri.Resource == o.Resource && ri.Subresource == o.Subresource {
		a.Namespace, a.Name, a.APIVersion = ri.Namespace, ri.Name, ri.APIVersion
	}
	if ev.Verb == "create" && a.Subresource == "" {
		a.Name = ""
	}
	return a
}

// apiserverRequestInfo is the RequestInfo k8s.io/apiserver parses from a
// request for uri with the HTTP method of a logged verb; nil without a
// URI, or when the apiserver would refuse the request before auditing it.
func apiserverRequestInfo(verb, uri string) *request.RequestInfo {
	if uri == "" {
		return nil
	}
	u, err := url.ParseRequestURI(uri)
	if err != nil {
		return nil
	}
	method := strings.ToUpper(verb)
	switch verb {
	case "create":
		method = http.MethodPost
	case "get", "list", "watch":
		method = http.MethodGet
	case "update":
		method = http.MethodPut
	case "patch":
		method = http.MethodPatch
	case "delete", "deletecollection":
		method = http.MethodDelete
	}
	ri, err := apiserverFactory.NewRequestInfo(&http.Request{Method: method, URL: u})
	if err != nil {
		return nil
	}
	return ri
}

// apiserverFactory is the kube-apiserver's RequestInfoFactory
// (pkg/controlplane/apiserver: APIPrefixes api and apis, groupless api).
var apiserverFactory = &request.RequestInfoFactory{
	APIPrefixes:          sets.NewString("api", "apis"),
	GrouplessAPIPrefixes: sets.NewString("api"),
}

func mustLoad(t *testing.T, path string) *Policy {
	t.Helper()
	p, err := LoadFile(path)
	if err != nil {
		t.Fatalf("load %s: %v", path, err)
	}
	return p
}

func findingsWith(fs []Finding, code string) []Finding {
	var out []Finding
	for _, f := range fs {
		if f.Code == code {
			out = append(out, f)
		}
	}
	return out
}
