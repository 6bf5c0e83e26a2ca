package auditpolicy

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"

	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/testutil"
)

// allPolicies returns every real policy plus the seed's.
func allPolicies(t *testing.T) []string {
	t.Helper()
	files := testutil.RealPolicyFiles(t)
	return append(files, seedPolicy(t))
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
	var out []realLine
	for _, f := range testutil.RealAuditFiles(t) {
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
// encoding/json, independently of data.Event and Attributes: the reference
// the tests compare against.
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
	path := ev.RequestURI
	if i := bytes.IndexAny([]byte(path), "?#"); i >= 0 {
		path = path[:i]
	}
	if ev.ObjectRef == nil {
		return authorizer.AttributesRecord{User: u, Verb: ev.Verb, Path: path}
	}
	o := ev.ObjectRef
	group := o.APIGroup
	if group == "" {
		// "apps/v1" in apiVersion without apiGroup (semi-synthetic events).
		if i := bytes.LastIndexByte([]byte(o.APIVersion), '/'); i >= 0 {
			group = o.APIVersion[:i]
		}
	}
	return authorizer.AttributesRecord{User: u, Verb: ev.Verb, Namespace: o.Namespace, APIGroup: group,
		Resource: o.Resource, Subresource: o.Subresource, Name: o.Name, ResourceRequest: true, Path: path}
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
