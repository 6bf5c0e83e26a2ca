package history

import (
	"strings"
	"testing"
)

// namespaceLines are the requests of a Namespace's life as the apiserver
// logs them: the create (POST to the collection) has no namespace, every
// request to /api/v1/namespaces/foo[/...] has namespace foo, the
// Namespace's own name. Around them: objects inside the namespace, and a
// namespace named like another.
func namespaceLines() []string {
	ns := func(labels map[string]any) map[string]any {
		m := map[string]any{"name": "foo"}
		if labels != nil {
			m["labels"] = labels
		}
		return map[string]any{"kind": "Namespace", "apiVersion": "v1", "metadata": m, "spec": map[string]any{"finalizers": []string{"kubernetes"}}}
	}
	return []string{
		auditLine{ID: "n1", Verb: "create", User: "alice", URI: "/api/v1/namespaces", Resource: "namespaces", Name: "foo", Code: 201, At: "10:00:00", Resp: ns(nil)}.JSON(),
		auditLine{ID: "n2", Verb: "get", User: "alice", URI: "/api/v1/namespaces/foo", Resource: "namespaces", Namespace: "foo", Name: "foo", Code: 200, At: "10:01:00"}.JSON(),
		auditLine{ID: "n3", Verb: "patch", User: "mallory", URI: "/api/v1/namespaces/foo", Resource: "namespaces", Namespace: "foo", Name: "foo", Code: 200, At: "10:02:00",
			Req:  map[string]any{"metadata": map[string]any{"labels": map[string]any{"pod-security.kubernetes.io/enforce": "privileged"}}},
			Resp: ns(map[string]any{"pod-security.kubernetes.io/enforce": "privileged"})}.JSON(),
		auditLine{ID: "n4", Verb: "delete", User: "alice", URI: "/api/v1/namespaces/foo", Resource: "namespaces", Namespace: "foo", Name: "foo", Code: 200, At: "10:03:00"}.JSON(),
		auditLine{ID: "n5", Verb: "update", User: "system:serviceaccount:kube-system:namespace-controller", URI: "/api/v1/namespaces/foo/finalize", Resource: "namespaces", Namespace: "foo", Name: "foo", Sub: "finalize", Code: 200, At: "10:04:00"}.JSON(),
		// Not the Namespace foo: a ConfigMap foo inside it, a list of
		// namespaces, another Namespace.
		auditLine{ID: "o1", Verb: "update", User: "alice", URI: "/api/v1/namespaces/foo/configmaps/foo", Resource: "configmaps", Namespace: "foo", Name: "foo", Code: 200, At: "10:01:30"}.JSON(),
		auditLine{ID: "o2", Verb: "delete", User: "alice", URI: "/api/v1/namespaces/bar", Resource: "namespaces", Namespace: "bar", Name: "bar", Code: 200, At: "10:01:40"}.JSON(),
		// The apiserver 404s a cluster-scoped resource under a namespace
		// path, and logs it with that namespace: not Namespace foo's own.
		auditLine{ID: "o3", Verb: "delete", User: "alice", URI: "/api/v1/namespaces/bar/namespaces/foo", Resource: "namespaces", Namespace: "bar", Name: "foo", Code: 404, At: "10:01:50"}.JSON(),
	}
}

// TestNamespaceOwnRequests: a Namespace's history holds its create and
// every request to /api/v1/namespaces/NAME[/...] (logged with namespace
// NAME), and its query selects exactly the same events.
func TestNamespaceOwnRequests(t *testing.T) {
	evs := decodeLines(t, "ns.jsonl", namespaceLines()...)
	h := build(t, evs, "ns/foo", "", Options{})
	wantLines(t, h, []string{
		"10:00:00 create 201 ok | alice | created",
		"10:02:00 patch 200 ok | mallory | patched",
		"10:03:00 delete 200 ok | alice | deleted",
		"10:04:00 update/finalize 200 ok | system:serviceaccount:kube-system:namespace-controller | update finalize",
	})
	mustContain(t, "label patch", h.Rows[1].Diff, "+    pod-security.kubernetes.io/enforce: privileged")
	for _, reads := range []bool{false, true} {
		ref, _ := ParseRef("namespace/foo", "")
		q := mustParse(t, ref.Query(reads))
		n := 0
		for k := range evs {
			got, want := q.Matches(&evs[k]), ref.Matches(&evs[k], reads)
			if got != want {
				t.Errorf("reads %v: %s: query %v, Matches %v", reads, evs[k].Where(), got, want)
			}
			if want {
				n++
			}
		}
		if want := map[bool]int{false: 4, true: 5}[reads]; n != want {
			t.Errorf("reads %v: %d events selected, want %d", reads, n, want)
		}
	}
	hr := build(t, evs, "namespaces/foo", "", Options{Reads: true})
	if len(hr.Rows) != 5 || hr.Rows[1].Verb != "get" {
		t.Errorf("with reads: %q", lines(hr))
	}
	// Only the core Namespace: another kind stays cluster-scoped as it was.
	cr, _ := ParseRef("clusterrole/foo", "")
	if q := cr.Query(false); strings.Contains(q, `objectRef_namespace="foo"`) {
		t.Errorf("clusterrole query %s", q)
	}
}

// TestNamespaceRealData: the falco traces delete ns/foo (line 44, logged
// with namespace foo) between its creates.
func TestNamespaceRealData(t *testing.T) {
	h := build(t, realFalco(t), "ns/foo", "", Options{})
	var del []Row
	for _, r := range h.Rows {
		if r.Verb == "delete" {
			del = append(del, r)
		}
	}
	if len(del) != 1 || del[0].Code != 200 || del[0].Identity.User != "minikube-user" ||
		len(del[0].Where) != 1 || !strings.HasSuffix(del[0].Where[0], "falco-legacy-k8s-audit-traces.jsonl:44") {
		t.Fatalf("ns/foo rows:\n%s", strings.Join(lines(h), "\n"))
	}
	if last := h.Rows[len(h.Rows)-1]; last.Change != "created" || !strings.HasPrefix(formatTime(last.Time), "2018-10-26T13:52:41") {
		t.Errorf("after the delete: %s", rowLine(last))
	}
}
