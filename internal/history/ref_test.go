package history

import (
	"testing"

	"github.com/audittui/audittui/internal/data"
)

func TestParseRef(t *testing.T) {
	for _, tt := range []struct {
		spec, ns string
		want     Ref
	}{
		{"rolebinding/payments-deployers", "payments", Ref{Resource: "rolebindings", Group: "rbac.authorization.k8s.io", Namespace: "payments", Name: "payments-deployers", Kind: "RoleBinding"}},
		{"rolebindings.rbac.authorization.k8s.io/x", "p", Ref{Resource: "rolebindings", Group: "rbac.authorization.k8s.io", GroupGiven: true, Namespace: "p", Name: "x", Kind: "RoleBinding"}},
		{"cm/app", "", Ref{Resource: "configmaps", Namespace: "default", Name: "app", Kind: "ConfigMap"}},
		{"ConfigMap/app", "ns1", Ref{Resource: "configmaps", Namespace: "ns1", Name: "app", Kind: "ConfigMap"}},
		{"deploy/web", "p", Ref{Resource: "deployments", Group: "apps", Namespace: "p", Name: "web", Kind: "Deployment"}},
		{"deployments.v1.apps/web", "p", Ref{Resource: "deployments", Group: "apps", GroupGiven: true, Namespace: "p", Name: "web", Kind: "Deployment"}},
		{"secret/db", "p", Ref{Resource: "secrets", Namespace: "p", Name: "db", Kind: "Secret"}},
		{"secrets/db", "p", Ref{Resource: "secrets", Namespace: "p", Name: "db", Kind: "Secret"}},
		{"clusterrolebinding/ci-bot-debug", "", Ref{Resource: "clusterrolebindings", Group: "rbac.authorization.k8s.io", Name: "ci-bot-debug", Kind: "ClusterRoleBinding"}},
		{"pods.v1/p1", "ns", Ref{Resource: "pods", GroupGiven: true, Namespace: "ns", Name: "p1", Kind: "Pod"}},
		{"certificates.cert-manager.io/api-tls", "payments", Ref{Resource: "certificates", Group: "cert-manager.io", GroupGiven: true, Namespace: "payments", Name: "api-tls"}},
		{"widgets/w1", "", Ref{Resource: "widgets", Name: "w1"}},
	} {
		got, err := ParseRef(tt.spec, tt.ns)
		if err != nil || got != tt.want {
			t.Errorf("ParseRef(%q, %q) = %+v, %v; want %+v", tt.spec, tt.ns, got, err, tt.want)
		}
	}
	for _, bad := range []struct{ spec, ns string }{
		{"configmap", ""}, {"/x", ""}, {"cm/", ""}, {"cm/a/b", ""}, {".apps/x", ""},
		{"clusterrole/admin", "kube-system"}, {"ns/a b", ""},
	} {
		if _, err := ParseRef(bad.spec, bad.ns); err == nil {
			t.Errorf("ParseRef(%q, %q) succeeded", bad.spec, bad.ns)
		}
	}
}

func TestRefQueryMatchesSelection(t *testing.T) {
	evs := readFixture(t, fixture)
	for _, reads := range []bool{false, true} {
		for _, spec := range []string{"cm/payments-config", "deployments.apps/web", "secret/db-password"} {
			ref, _ := ParseRef(spec, "payments")
			q := mustParse(t, ref.Query(reads))
			for k := range evs {
				if got, want := q.Matches(&evs[k]), ref.Matches(&evs[k], reads); got != want {
					t.Errorf("%s (reads %v): event %s: query %v, Matches %v", spec, reads, evs[k].Where(), got, want)
				}
			}
		}
	}
}

// A cluster-scoped object's query selects no namespaced event of the
// same name, as Matches.
func TestRefQueryClusterScoped(t *testing.T) {
	ref, _ := ParseRef("clusterrolebinding/x", "")
	q := mustParse(t, ref.Query(false))
	info := &data.SourceInfo{Name: "t", Labels: data.Labels{{Name: "job", Value: "audit"}}}
	for _, tt := range []struct {
		line string
		want bool
	}{
		{`{"kind":"Event","verb":"delete","objectRef":{"resource":"clusterrolebindings","name":"x","apiGroup":"rbac.authorization.k8s.io"},"stageTimestamp":"2026-11-20T02:00:00Z"}`, true},
		{`{"kind":"Event","verb":"delete","objectRef":{"resource":"clusterrolebindings","namespace":"ns","name":"x"},"stageTimestamp":"2026-11-20T02:00:00Z"}`, false},
	} {
		var dec data.Decoder
		evs, rej := dec.Decode(nil, []byte(tt.line), data.Origin{Source: info})
		if rej != nil {
			t.Fatal(rej.Reason)
		}
		if got, m := q.Matches(&evs[0]), ref.Matches(&evs[0], false); got != tt.want || m != tt.want {
			t.Errorf("%s: query %v, Matches %v, want %v", tt.line, got, m, tt.want)
		}
	}
	if pf := data.PrefilterFor(q); pf == nil || len(pf.All) == 0 {
		t.Error("no literal prefilter for the object's query")
	}
}

func TestRefOf(t *testing.T) {
	e := &data.Event{Resource: "rolebindings", APIGroup: "rbac.authorization.k8s.io", Namespace: "payments", Name: "x"}
	r, ok := RefOf(e)
	if !ok || r.Kind != "RoleBinding" || r.GroupGiven || r.Display() != "payments/rolebindings/x" {
		t.Errorf("RefOf = %+v %v (%s)", r, ok, r.Display())
	}
	// A Namespace's own request carries its name as namespace: the object
	// is the cluster-scoped Namespace, as ParseRef("ns/foo") names it.
	r, ok = RefOf(&data.Event{Resource: "namespaces", Namespace: "foo", Name: "foo"})
	if want, _ := ParseRef("ns/foo", ""); !ok || r != want || r.Display() != "namespaces/foo" {
		t.Errorf("RefOf(Namespace's own request) = %+v %v; want %+v", r, ok, want)
	}
	if _, ok := RefOf(&data.Event{Resource: "pods", Namespace: "p"}); ok {
		t.Error("a list names no object")
	}
}
