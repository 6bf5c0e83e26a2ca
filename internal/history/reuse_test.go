package history

import (
	"encoding/json"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/audittui/audittui/internal/data"
)

// rbLines: alice creates a RoleBinding (two stages of one request), then
// mallory deletes it sending alice's auditID (the client chooses the
// Audit-ID header), then a third request repeats mallory's fields with
// another ResponseComplete.
func rbLines() []string {
	rb := map[string]any{"kind": "RoleBinding", "apiVersion": "rbac.authorization.k8s.io/v1",
		"metadata": map[string]any{"name": "oncall-debug", "namespace": "kube-system"},
		"roleRef":  map[string]any{"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
		"subjects": []any{map[string]any{"kind": "User", "name": "alice"}}}
	const id = "5f1e0c2a-0000-4000-8000-00000000aaaa"
	create := auditLine{ID: id, Verb: "create", User: "alice", URI: "/apis/rbac.authorization.k8s.io/v1/namespaces/kube-system/rolebindings",
		Resource: "rolebindings", Group: "rbac.authorization.k8s.io", Namespace: "kube-system", Name: "oncall-debug", Received: "02:00:00.100", At: "02:00:00.200", Req: rb, Resp: rb, Code: 201}
	received := create
	received.Stage, received.Code, received.Resp, received.At = "RequestReceived", 0, nil, received.Received
	del := auditLine{ID: id, Verb: "delete", User: "mallory", URI: "/apis/rbac.authorization.k8s.io/v1/namespaces/kube-system/rolebindings/oncall-debug",
		Resource: "rolebindings", Group: "rbac.authorization.k8s.io", Namespace: "kube-system", Name: "oncall-debug", At: "02:10:00", Level: "Metadata", Code: 200}
	again := del
	again.At, again.Code = "02:10:05", 404
	return []string{create.JSON(), received.JSON(), del.JSON(), again.JSON()}
}

// TestAuditIDReuse: stages that share an auditID but not a request are
// separate rows, each saying so; the stages of one request stay one row.
// alice's create keeps its body and its diff.
func TestAuditIDReuse(t *testing.T) {
	evs := decodeLines(t, "reuse.jsonl", rbLines()...)
	h := build(t, evs, "rolebinding/oncall-debug", "kube-system", Options{})
	wantLines(t, h, []string{
		"02:00:00 create 201 ok | alice | created",
		"02:10:00 delete 200 ok | mallory | deleted",
		"02:10:05 delete 404 failed | mallory | failed (404)",
	})
	r := h.Rows
	if strings.Join(r[0].Where, " ") != "reuse.jsonl:2 reuse.jsonl:1" || strings.Join(r[0].Stages, ",") != "RequestReceived,ResponseComplete" {
		t.Errorf("alice's create: stages %v at %v", r[0].Stages, r[0].Where)
	}
	mustContain(t, "create diff", r[0].Diff, "--- /dev/null", "+  name: cluster-admin")
	mustContain(t, "delete diff", r[1].Diff, "+++ /dev/null", "-  name: cluster-admin")
	for k, want := range []string{
		`auditID reused by a different request: reuse.jsonl:3 (user "mallory", verb "delete", another request URI, received at 2026-11-20T02:10:00.000Z); reuse.jsonl:4 (`,
		`auditID reused by a different request: reuse.jsonl:2 (user "alice", verb "create", another request URI, received at 2026-11-20T02:00:00.100Z); reuse.jsonl:4 (received at 2026-11-20T02:10:05.000Z)`,
		`reuse.jsonl:3 (received at 2026-11-20T02:10:00.000Z)`,
	} {
		if r[k].AuditIDShared != 2 || !hasNote(r[k], want) {
			t.Errorf("row %d: shared %d, notes %q; want a note with %q", k, r[k].AuditIDShared, r[k].Notes, want)
		}
	}
	if len(r[1].Where) != 1 || len(r[2].Where) != 1 {
		t.Errorf("mallory's rows cite %v and %v", r[1].Where, r[2].Where)
	}

	// The same rows in any order, with lines delivered twice.
	want, _ := json.Marshal(h)
	rng := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 20; i++ {
		sh := append(slices.Clone(evs), evs[rng.IntN(len(evs))])
		rng.Shuffle(len(sh), func(a, b int) { sh[a], sh[b] = sh[b], sh[a] })
		if got, _ := json.Marshal(build(t, sh, "rolebinding/oncall-debug", "kube-system", Options{})); string(got) != string(want) {
			t.Fatalf("permutation %d gives another history:\n%s", i, strings.Join(lines(build(t, sh, "rolebinding/oncall-debug", "kube-system", Options{})), "\n"))
		}
	}
}

// TestAuditIDReuseOneStageEach: two ResponseComplete lines that agree on
// every request field are still two requests (a request has one).
func TestAuditIDReuseOneStageEach(t *testing.T) {
	l := auditLine{ID: "x", Verb: "update", User: "bob", URI: "/api/v1/namespaces/p/configmaps/c", Resource: "configmaps", Namespace: "p", Name: "c", At: "03:00:00", Code: 200,
		Req: map[string]any{"kind": "ConfigMap", "apiVersion": "v1", "metadata": map[string]any{"name": "c"}, "data": map[string]any{"k": "1"}}}
	m := l
	m.Req = map[string]any{"kind": "ConfigMap", "apiVersion": "v1", "metadata": map[string]any{"name": "c"}, "data": map[string]any{"k": "2"}}
	h := build(t, decodeLines(t, "same.jsonl", l.JSON(), m.JSON()), "cm/c", "p", Options{})
	if len(h.Rows) != 2 || !hasNote(h.Rows[0], "the same request fields, a stage recorded twice") || h.Rows[1].AuditIDShared != 1 {
		t.Fatalf("rows %q notes %q", lines(h), h.Rows[0].Notes)
	}
	// Many: each row names three others and counts the rest.
	var many []string
	for i := range 6 {
		l.Req = map[string]any{"kind": "ConfigMap", "apiVersion": "v1", "metadata": map[string]any{"name": "c"}, "data": map[string]any{"k": itoa(i)}}
		many = append(many, l.JSON())
	}
	h = build(t, decodeLines(t, "many.jsonl", many...), "cm/c", "p", Options{})
	for _, r := range h.Rows {
		if r.AuditIDShared != 5 || !hasNote(r, "a stage recorded twice); 2 more; kept apart") || strings.Count(strings.Join(r.Notes, ""), "many.jsonl:") != 3 {
			t.Errorf("%d rows; notes %q", len(h.Rows), r.Notes)
		}
	}
}

// TestAuditIDReuseRealData: falco's traces hold two creates of ns/foo
// with one auditID, by system:anonymous (line 1) and some-user (line 51).
func TestAuditIDReuseRealData(t *testing.T) {
	h := build(t, realFalco(t), "ns/foo", "", Options{})
	var users []string
	for _, r := range h.Rows {
		if r.AuditID == "841d3e6d-90d2-43df-8da4-684738bee3d5" {
			if len(r.Where) != 1 || r.AuditIDShared != 1 || !hasNote(r, "auditID reused by a different request") || r.Verb != "create" || r.Code != 201 {
				t.Errorf("row %s: where %v, notes %q", rowLine(r), r.Where, r.Notes)
			}
			users = append(users, r.Identity.User)
		}
	}
	slices.Sort(users)
	if strings.Join(users, ",") != "some-user,system:anonymous" {
		t.Fatalf("the auditID's requests are by %q:\n%s", users, strings.Join(lines(h), "\n"))
	}
}

// TestSameRequest: what one request's stages share.
func TestSameRequest(t *testing.T) {
	base := data.Event{Verb: "update", User: "a", RequestURI: "/u", Resource: "configmaps", Namespace: "p", Name: "c", Received: 1}
	if !sameRequest(&base, &base) {
		t.Fatal("an event is not its own request")
	}
	for name, f := range map[string]func(*data.Event){
		"user": func(e *data.Event) { e.User = "b" }, "impersonated": func(e *data.Event) { e.ImpUser = "b" },
		"verb": func(e *data.Event) { e.Verb = "patch" }, "uri": func(e *data.Event) { e.RequestURI = "/v" },
		"namespace": func(e *data.Event) { e.Namespace = "q" }, "subresource": func(e *data.Event) { e.Subresource = "status" },
		"group": func(e *data.Event) { e.APIGroup = "x" }, "version": func(e *data.Event) { e.ObjAPIVer = "v2" },
		"received": func(e *data.Event) { e.Received = 2 }, "no received": func(e *data.Event) { e.Received = 0 },
	} {
		o := base
		f(&o)
		if sameRequest(&base, &o) {
			t.Errorf("another %s is the same request", name)
		}
	}
}

// TestAuditIDReuseStagesPaired: two requests under one auditID, each
// recorded at two stages: each row holds its own request's two lines, for
// several auditIDs (the stages are placed in the order of their hashes,
// which an auditID changes).
func TestAuditIDReuseStagesPaired(t *testing.T) {
	for _, id := range []string{"a", "b", "c", "d", "e", "f", "g", "h"} {
		create := auditLine{ID: id, Verb: "create", User: "alice", URI: "/api/v1/namespaces/p/configmaps", Resource: "configmaps", Namespace: "p", Name: "c",
			Received: "02:00:00", At: "02:00:01", Code: 201, Level: "Metadata"}
		del := auditLine{ID: id, Verb: "delete", User: "mallory", URI: "/api/v1/namespaces/p/configmaps/c", Resource: "configmaps", Namespace: "p", Name: "c",
			Received: "02:05:00", At: "02:05:01", Code: 200, Level: "Metadata"}
		var ls []string
		for _, l := range []auditLine{create, del} {
			rr := l
			rr.Stage, rr.Code, rr.At = "RequestReceived", 0, rr.Received
			ls = append(ls, rr.JSON(), l.JSON())
		}
		h := build(t, decodeLines(t, id+".jsonl", ls...), "cm/c", "p", Options{})
		if len(h.Rows) != 2 ||
			rowLine(h.Rows[0]) != "02:00:01 create 201 ok | alice | created" || strings.Join(h.Rows[0].Where, " ") != id+".jsonl:1 "+id+".jsonl:2" ||
			rowLine(h.Rows[1]) != "02:05:01 delete 200 ok | mallory | deleted" || strings.Join(h.Rows[1].Where, " ") != id+".jsonl:3 "+id+".jsonl:4" {
			for _, r := range h.Rows {
				t.Errorf("auditID %s: %s at %v", id, rowLine(r), r.Where)
			}
		}
	}
}
