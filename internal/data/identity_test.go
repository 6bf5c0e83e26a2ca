package data

import (
	"bufio"
	"os"
	"path/filepath"
	"testing"

	"github.com/audittui/audittui/internal/testutil"
)

// decodeFile decodes every line of a fixture; rejects fail the test
// unless skipRejects.
func decodeFile(t *testing.T, path string, skipRejects ...bool) []Event {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var dec Decoder
	var out []Event
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for n := int64(1); sc.Scan(); n++ {
		evs, rej := dec.Decode(nil, sc.Bytes(), Origin{Line: n})
		if rej != nil && len(skipRejects) == 0 {
			t.Fatalf("%s:%d: %s", path, n, rej.Reason)
		}
		for k := range evs {
			out = append(out, evs[k].Clone())
		}
	}
	return out
}

// TestIdentityOf reads the people behind the identities of the fixture:
// EKS roles (two persons behind one account), an IAM user, a stolen
// service-account token, impersonation.
func TestIdentityOf(t *testing.T) {
	evs := decodeFile(t, filepath.Join(testutil.RepoRoot(), "testdata", "identities", "identities.jsonl"))
	want := []struct {
		id     Identity
		person string
		line   string
	}{
		{Identity{User: "kubernetes-admin", ARN: "arn:aws:sts::111122223333:assumed-role/EKSClusterAdmin/alice@corp.example",
			SessionName: "alice@corp.example", AccessKeyID: "ASIAEXAMPLEKEY7Q2XRJ"}, "alice@corp.example", "kubernetes-admin (alice@corp.example)"},
		{Identity{User: "kubernetes-admin", ARN: "arn:aws:sts::111122223333:assumed-role/EKSClusterAdmin/bob@corp.example",
			SessionName: "bob@corp.example", AccessKeyID: "ASIAEXAMPLEKEY9B4MZT"}, "bob@corp.example", "kubernetes-admin (bob@corp.example)"},
		{Identity{User: "dave", ARN: "arn:aws:iam::111122223333:user/ops/dave", AccessKeyID: "AKIAEXAMPLEKEY3LW8PD"}, "dave", "dave"},
		{Identity{User: "system:serviceaccount:production:web-frontend", PodName: "web-frontend-7d9c5b6f4-x2x7p",
			NodeName: "ip-10-0-1-219.eu-west-1.compute.internal", CredentialID: "JTI=9c1f2a7e-64d0-4b8e-b1f4-0c7d9a3e5f11"},
			"pod web-frontend-7d9c5b6f4-x2x7p", "system:serviceaccount:production:web-frontend (pod web-frontend-7d9c5b6f4-x2x7p)"},
		{Identity{User: "admin@corp.example", ImpersonatedUser: "carol@corp.example"}, "", "admin@corp.example → carol@corp.example"},
	}
	if len(evs) != len(want) {
		t.Fatalf("%d events, want %d", len(evs), len(want))
	}
	for k, w := range want {
		got := IdentityOf(&evs[k])
		if got != w.id {
			t.Errorf("event %d: IdentityOf = %+v\nwant %+v", k+1, got, w.id)
		}
		if p := got.Person(); p != w.person {
			t.Errorf("event %d: Person = %q, want %q", k+1, p, w.person)
		}
		if s := got.String(); s != w.line {
			t.Errorf("event %d: String = %q, want %q", k+1, s, w.line)
		}
	}
	// Details name the key to search CloudTrail with and the credential.
	d := IdentityOf(&evs[0]).Details()
	if !hasDetail(d, "key id", "ASIAEXAMPLEKEY7Q2XRJ") || !hasDetail(d, "person", "alice@corp.example") {
		t.Errorf("EKS details: %+v", d)
	}
	d = IdentityOf(&evs[3]).Details()
	if !hasDetail(d, "token id", "JTI=9c1f2a7e-64d0-4b8e-b1f4-0c7d9a3e5f11") || !hasDetail(d, "node", "ip-10-0-1-219.eu-west-1.compute.internal") {
		t.Errorf("token details: %+v", d)
	}
	for _, x := range d {
		if len(x.Label) > 9 {
			t.Errorf("label %q is longer than 9", x.Label)
		}
	}
	d = IdentityOf(&evs[4]).Details()
	if !hasDetail(d, "as", "carol@corp.example (impersonated by admin@corp.example)") {
		t.Errorf("impersonation details: %+v", d)
	}
}

func hasDetail(ds []IdentityDetail, label, value string) bool {
	for _, d := range ds {
		if d.Label == label && d.Value == value {
			return true
		}
	}
	return false
}

// TestIdentityGKEPrincipal: a Cloud Logging entry's principal email is
// kept as such (and is the user name).
func TestIdentityGKEPrincipal(t *testing.T) {
	evs := decodeFile(t, filepath.Join(testutil.RepoRoot(), "testdata", "shapes", "gke-sink.jsonl"), true)
	n := 0
	for k := range evs {
		id := IdentityOf(&evs[k])
		if id.Principal == "" {
			continue
		}
		n++
		if id.Principal != id.User || !hasDetail(id.Details(), "principal", id.User) {
			t.Errorf("GKE event %d: %+v", k, id)
		}
	}
	if n == 0 {
		t.Fatal("no GKE event has a principal")
	}
}

func TestARNPerson(t *testing.T) {
	for arn, want := range map[string]string{
		"arn:aws:sts::111122223333:assumed-role/Admin/alice":         "alice",
		"arn:aws:sts::111122223333:assumed-role/path/Admin/i-0abc12": "i-0abc12",
		"arn:aws:iam::111122223333:user/ops/dave":                    "dave",
		"arn:aws:iam::111122223333:role/Admin":                       "arn:aws:iam::111122223333:role/Admin",
		"not-an-arn":                                                 "not-an-arn",
		"arn:aws:sts::1:assumed-role/Admin/":                         "arn:aws:sts::1:assumed-role/Admin/",
	} {
		if got := ARNPerson(arn); got != want {
			t.Errorf("ARNPerson(%q) = %q, want %q", arn, got, want)
		}
	}
}
