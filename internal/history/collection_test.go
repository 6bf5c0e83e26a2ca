package history

import (
	"encoding/json"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"github.com/audittui/audittui/internal/data"
)

const (
	rbacGroup = "rbac.authorization.k8s.io"
	rbColl    = "/apis/rbac.authorization.k8s.io/v1/namespaces/prod/rolebindings"
)

func roleBinding(name string, labels map[string]string) map[string]any {
	return map[string]any{"kind": "RoleBinding", "apiVersion": "rbac.authorization.k8s.io/v1",
		"metadata": map[string]any{"name": name, "namespace": "prod", "labels": labels},
		"roleRef":  map[string]any{"apiGroup": rbacGroup, "kind": "ClusterRole", "name": "edit"},
		"subjects": []any{map[string]any{"kind": "User", "name": "dev@corp.example"}}}
}

func rbList(names ...string) map[string]any {
	items := []any{}
	for _, n := range names {
		items = append(items, roleBinding(n, map[string]string{"app": "x"}))
	}
	return map[string]any{"kind": "RoleBindingList", "apiVersion": "rbac.authorization.k8s.io/v1", "metadata": map[string]any{}, "items": items}
}

// rbCreate is alice's create of RoleBinding prod/deployers (labels app=x).
func rbCreate(id, at string) string {
	return auditLine{ID: id, Verb: "create", User: "alice", URI: rbColl, Resource: "rolebindings", Group: rbacGroup, Namespace: "prod",
		Name: "deployers", Code: 201, At: at, Resp: roleBinding("deployers", map[string]string{"app": "x"})}.JSON()
}

// rbDeleteCollection is mallory's DELETE on prod's rolebindings with the
// URI query query ("" or "?labelSelector=...").
func rbDeleteCollection(id, at string, code int, query, level string, resp any) string {
	return auditLine{ID: id, Verb: "deletecollection", User: "mallory", URI: rbColl + query, Resource: "rolebindings", Group: rbacGroup,
		Namespace: "prod", Code: code, At: at, Level: level, Resp: resp}.JSON()
}

// collectionLines is RoleBinding prod/deployers's life among
// deletecollection requests of its collection, and requests of other
// collections that are not part of it.
func collectionLines() []string {
	ls := []string{
		rbCreate("c1", "01:00:00"),
		rbDeleteCollection("d1", "02:00:00", 200, "", "Metadata", nil), // every RoleBinding in prod
		rbCreate("c2", "03:00:00"),
		rbDeleteCollection("d2", "04:00:00", 403, "", "Metadata", nil),                                                        // denied
		rbDeleteCollection("d3", "04:10:00", 200, "?labelSelector=app%3Dx", "Request", nil),                                   // may have
		rbCreate("c3", "05:00:00"),                                                                                            // not "created again"
		rbDeleteCollection("d4", "06:00:00", 200, "?fieldSelector=metadata.name%3Dother", "Metadata", nil),                    // left out
		rbDeleteCollection("d5", "06:10:00", 200, "?labelSelector=app%3Dx", "RequestResponse", rbList("other")),               // left out
		rbDeleteCollection("d6", "07:00:00", 200, "?labelSelector=team%3Dy", "RequestResponse", rbList("other", "deployers")), // listed
		rbDeleteCollection("d7", "07:30:00", 200, "", "Metadata", nil),                                                        // already deleted
		rbCreate("c4", "08:00:00"),
		rbDeleteCollection("d8", "08:30:00", 500, "", "Metadata", nil), // failed part-way?
		rbCreate("c5", "09:00:00"),
		rbDeleteCollection("d9", "10:00:00", 200, "?fieldSelector=metadata.name%3Ddeployers", "Metadata", nil),
		// Not its collection: another namespace, another resource, and a
		// request that names an object.
		auditLine{ID: "o1", Verb: "deletecollection", User: "mallory", URI: "/apis/rbac.authorization.k8s.io/v1/namespaces/staging/rolebindings",
			Resource: "rolebindings", Group: rbacGroup, Namespace: "staging", Code: 200, At: "02:30:00", Level: "Metadata"}.JSON(),
		auditLine{ID: "o2", Verb: "deletecollection", User: "mallory", URI: "/apis/rbac.authorization.k8s.io/v1/namespaces/prod/roles",
			Resource: "roles", Group: rbacGroup, Namespace: "prod", Code: 200, At: "02:30:00", Level: "Metadata"}.JSON(),
		auditLine{ID: "o3", Verb: "delete", User: "mallory", URI: rbColl + "/other", Resource: "rolebindings", Group: rbacGroup,
			Namespace: "prod", Name: "other", Code: 200, At: "02:40:00", Level: "Metadata"}.JSON(),
		// A cluster-scoped object and its collection.
		auditLine{ID: "k1", Verb: "create", User: "alice", URI: "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", Resource: "clusterrolebindings",
			Group: rbacGroup, Name: "ci-bot-debug", Code: 201, At: "01:30:00", Level: "Metadata"}.JSON(),
		auditLine{ID: "k2", Verb: "deletecollection", User: "mallory", URI: "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", Resource: "clusterrolebindings",
			Group: rbacGroup, Code: 200, At: "02:15:00", Level: "Metadata"}.JSON(),
	}
	for k, l := range ls {
		ls[k] = kindFirst(l)
	}
	return ls
}

// kindFirst moves "kind":"Event" to the front, where the apiserver writes
// it (a literal prefilter skips only such lines: see data.Prefilter).
func kindFirst(l string) string {
	return `{"kind":"Event",` + strings.Replace(l[1:], `"kind":"Event",`, "", 1)
}

// TestDeleteCollection: a deletecollection of the object's collection is
// a row that says what it did to the object: deleted (no selector, a
// fieldSelector naming it, a response listing it), may have deleted it (a
// labelSelector, no response body), nothing to delete (the log says it
// was deleted before), denied, failed; one whose event shows it did not
// touch the object (a fieldSelector naming another, a response listing
// others) is left out, and a note says so. A create after a
// deletecollection that deleted it, or may have, is no re-creation.
func TestDeleteCollection(t *testing.T) {
	evs := decodeLines(t, "prod.jsonl", collectionLines()...)
	h := build(t, evs, "rolebinding/deployers", "prod", Options{})
	wantLines(t, h, []string{
		"01:00:00 create 201 ok | alice | created",
		"02:00:00 deletecollection 200 ok | mallory | deleted (deletecollection)",
		"03:00:00 create 201 ok | alice | created",
		"04:00:00 deletecollection 403 denied | mallory | denied",
		"04:10:00 deletecollection 200 ok | mallory | may have deleted it (deletecollection with labelSelector app=x; no response body recorded)",
		"05:00:00 create 201 ok | alice | created",
		"07:00:00 deletecollection 200 ok | mallory | deleted (deletecollection with labelSelector team=y)",
		"07:30:00 deletecollection 200 ok | mallory | nothing to delete (deletecollection; already deleted)",
		"08:00:00 create 201 ok | alice | created",
		"08:30:00 deletecollection 500 failed | mallory | failed (500)",
		"09:00:00 create 201 ok | alice | created",
		"10:00:00 deletecollection 200 ok | mallory | deleted (deletecollection with fieldSelector metadata.name=deployers)",
	})
	r := h.Rows
	for _, k := range []int{2, 5, 8, 10} {
		if hasNote(r[k], "created again") {
			t.Errorf("row %d %s: %q", k, rowLine(r[k]), r[k].Notes)
		}
	}
	if !hasNote(r[1], "a deletecollection of every rolebindings in namespace prod") || !hasNote(r[1], "nothing in the request excludes it, and no response body recorded") {
		t.Errorf("deleted: notes %q", r[1].Notes)
	}
	mustContain(t, "deletecollection diff", r[1].Diff, "+++ /dev/null", "-  name: deployers")
	if r[1].Object != nil {
		t.Error("a deleted object has a version")
	}
	if !r[3].Denied() {
		t.Errorf("denied: %+v", r[3])
	}
	if !hasNote(r[4], "the rolebindings in namespace prod that match labelSelector app=x") ||
		!hasNote(r[4], "the labels of its last known version (2026-11-20T03:00:00.000Z) match the labelSelector") ||
		!hasNote(r[4], "the labelSelector may exclude it") {
		t.Errorf("may have: notes %q", r[4].Notes)
	}
	if !hasNote(r[6], "the response lists it among the 2 objects the request deleted") {
		t.Errorf("listed: notes %q", r[6].Notes)
	}
	if !hasNote(r[7], "the log records its deletecollection at 2026-11-20T07:00:00.000Z, prod.jsonl:9, and no create since") {
		t.Errorf("already deleted: notes %q", r[7].Notes)
	}
	if !hasNote(r[9], "fails part-way") {
		t.Errorf("failed: notes %q", r[9].Notes)
	}
	// Left out: a fieldSelector naming another object, a response listing
	// only another; the note cites both.
	if len(h.LeftOut) != 2 || h.LeftOut[0].Where[0] != "prod.jsonl:7" || h.LeftOut[1].Where[0] != "prod.jsonl:8" {
		t.Fatalf("left out: %+v", h.LeftOut)
	}
	if want := `did not touch it (fieldSelector metadata.name=other excludes it: its metadata.name is "deployers")`; h.LeftOut[0].Change != want {
		t.Errorf("left out change %q, want %q", h.LeftOut[0].Change, want)
	}
	if len(h.Notes) != 1 || !strings.HasPrefix(h.Notes[0], "2 deletecollection requests of the collection left out, their events show they did not touch the object: prod.jsonl:7 (") ||
		!strings.Contains(h.Notes[0], "; prod.jsonl:8 (its response lists the 1 object it deleted, not this one)") {
		t.Errorf("notes %q", h.Notes)
	}
}

// TestDeleteCollectionOrder: the history with deletecollections is the
// same for shuffled and duplicated input.
func TestDeleteCollectionOrder(t *testing.T) {
	evs := decodeLines(t, "prod.jsonl", collectionLines()...)
	render := func(evs []data.Event) string {
		j, err := json.Marshal(build(t, evs, "rolebinding/deployers", "prod", Options{}))
		if err != nil {
			t.Fatal(err)
		}
		return string(j)
	}
	want := render(evs)
	rng := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 20; i++ {
		sh := append([]data.Event(nil), evs...)
		sh = append(sh, evs[rng.IntN(len(evs))], evs[rng.IntN(len(evs))])
		rng.Shuffle(len(sh), func(a, b int) { sh[a], sh[b] = sh[b], sh[a] })
		if got := render(sh); got != want {
			t.Fatalf("permutation %d gives another history", i)
		}
	}
}

// TestDeleteCollectionUnknown: a deletecollection without its response
// stage, or with a limit, may have deleted the object; a create after it
// is no re-creation. With nothing before it, a deletecollection without
// selector says the object was deleted if it existed, and after one that
// may have deleted it, unless that one did.
func TestDeleteCollectionUnknown(t *testing.T) {
	h := build(t, decodeLines(t, "u.jsonl",
		rbDeleteCollection("d0", "00:30:00", 200, "", "Metadata", nil),
		rbCreate("c1", "01:00:00"),
		auditLine{ID: "d1", Stage: "RequestReceived", Verb: "deletecollection", User: "mallory", URI: rbColl, Resource: "rolebindings",
			Group: rbacGroup, Namespace: "prod", At: "02:00:00", Level: "Metadata"}.JSON(),
		rbCreate("c2", "03:00:00"),
		rbDeleteCollection("d2", "04:00:00", 200, "?limit=5", "Metadata", nil),
		rbDeleteCollection("d3", "04:30:00", 200, "", "Metadata", nil),
		rbCreate("c3", "05:00:00"),
	), "rolebinding/deployers", "prod", Options{})
	wantLines(t, h, []string{
		"00:30:00 deletecollection 200 ok | mallory | deleted (deletecollection)",
		"01:00:00 create 201 ok | alice | created",
		"02:00:00 deletecollection 0 unknown | mallory | deletecollection (outcome not recorded)",
		"03:00:00 create 201 ok | alice | created",
		"04:00:00 deletecollection 200 ok | mallory | may have deleted it (deletecollection with limit=5; no response body recorded)",
		"04:30:00 deletecollection 200 ok | mallory | deleted (deletecollection)",
		"05:00:00 create 201 ok | alice | created",
	})
	if !hasNote(h.Rows[0], "no earlier request of it is in the input: it was deleted if it existed then") {
		t.Errorf("notes %q", h.Rows[0].Notes)
	}
	if !hasNote(h.Rows[4], "with limit=5 it deletes one page of the collection") {
		t.Errorf("notes %q", h.Rows[4].Notes)
	}
	if !hasNote(h.Rows[5], "unless the deletecollection at 2026-11-20T04:00:00.000Z, u.jsonl:5, deleted it already") {
		t.Errorf("notes %q", h.Rows[5].Notes)
	}
}

// TestDeleteCollectionClusterScoped: a cluster-scoped object's collection
// is the cluster-scoped one; a namespaced deletecollection of the same
// resource, or of another resource, is not part of its history.
func TestDeleteCollectionClusterScoped(t *testing.T) {
	crb := func(id, verb, ns, res, at string) string {
		uri, name := "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", "ci-bot-debug"
		if verb == "deletecollection" {
			name = ""
		}
		return auditLine{ID: id, Verb: verb, User: "mallory", URI: uri, Resource: res, Group: rbacGroup, Namespace: ns, Name: name,
			Code: 201, At: at, Level: "Metadata"}.JSON()
	}
	evs := decodeLines(t, "crb.jsonl",
		crb("c1", "create", "", "clusterrolebindings", "01:00:00"),
		crb("d1", "deletecollection", "", "clusterrolebindings", "02:00:00"),
		crb("x1", "deletecollection", "default", "clusterrolebindings", "02:10:00"),
		crb("x2", "deletecollection", "", "clusterroles", "02:20:00"),
		crb("c2", "create", "", "clusterrolebindings", "03:00:00"),
	)
	h := build(t, evs, "clusterrolebinding/ci-bot-debug", "", Options{})
	wantLines(t, h, []string{
		"01:00:00 create 201 ok | mallory | created",
		"02:00:00 deletecollection 201 ok | mallory | deleted (deletecollection)",
		"03:00:00 create 201 ok | mallory | created",
	})
	if !hasNote(h.Rows[1], "a deletecollection of every clusterrolebindings") {
		t.Errorf("notes %q", h.Rows[1].Notes)
	}
}

// TestRefQueryMatchesDeleteCollection: the object's query selects exactly
// the events Matches keeps, deletecollections included, for namespaced,
// cluster-scoped and Namespace objects, with and without reads and a
// given group.
func TestRefQueryMatchesDeleteCollection(t *testing.T) {
	lines := collectionLines()
	for _, l := range []auditLine{
		{ID: "n1", Verb: "deletecollection", URI: "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", Resource: "clusterrolebindings", Group: rbacGroup},
		{ID: "n2", Verb: "deletecollection", URI: "/apis/other.example/v1/namespaces/prod/rolebindings", Resource: "rolebindings", Group: "other.example", Namespace: "prod"},
		{ID: "n3", Verb: "deletecollection", URI: "/api/v1/namespaces", Resource: "namespaces"},
		{ID: "n4", Verb: "deletecollection", URI: "/api/v1/namespaces/prod/namespaces", Resource: "namespaces", Namespace: "prod"},
		{ID: "n5", Verb: "get", URI: "/api/v1/namespaces/prod", Resource: "namespaces", Namespace: "prod", Name: "prod"},
		{ID: "n6", Verb: "list", URI: rbColl, Resource: "rolebindings", Group: rbacGroup, Namespace: "prod"},
		{ID: "n7", Verb: "get", URI: rbColl + "/deployers", Resource: "rolebindings", Group: rbacGroup, Namespace: "prod", Name: "deployers"},
		{ID: "n8", Verb: "deletecollection", URI: rbColl, Resource: "rolebindings", Group: rbacGroup, Namespace: "prod", Name: "deployers"},
	} {
		l.User, l.Code, l.At, l.Level = "u", 200, "11:00:00", "Metadata"
		lines = append(lines, l.JSON())
	}
	evs := decodeLines(t, "q.jsonl", lines...)
	for _, tt := range []struct {
		spec, ns string
		want     [2]int // events selected without and with reads
	}{
		// With reads, n6 too: a list of the collection.
		{"rolebinding/deployers", "prod", [2]int{15, 18}},
		{"rolebindings.rbac.authorization.k8s.io/deployers", "prod", [2]int{14, 17}},
		{"rolebindings.other.example/deployers", "prod", [2]int{1, 1}},
		{"rolebinding/deployers", "staging", [2]int{1, 1}},
		{"clusterrolebinding/ci-bot-debug", "", [2]int{3, 3}},
		{"ns/prod", "", [2]int{1, 2}},
	} {
		ref, err := ParseRef(tt.spec, tt.ns)
		if err != nil {
			t.Fatal(err)
		}
		for i, reads := range []bool{false, true} {
			q := mustParse(t, ref.Query(reads))
			n := 0
			for k := range evs {
				got, want := q.Matches(&evs[k]), ref.Matches(&evs[k], reads)
				if got != want {
					t.Errorf("%s -n %s (reads %v): event %s: query %v, Matches %v", tt.spec, tt.ns, reads, evs[k].Where(), got, want)
				}
				if want {
					n++
				}
			}
			if n != tt.want[i] {
				t.Errorf("%s -n %s (reads %v): %d events selected, want %d", tt.spec, tt.ns, reads, n, tt.want[i])
			}
			if pf := data.PrefilterFor(q); pf == nil || len(pf.All) == 0 {
				t.Errorf("%s: no literal prefilter", tt.spec)
			}
		}
	}
}

// collectionFixture holds collectionLines for the command's tests
// (internal/cli/history) and for trying by hand.
const collectionFixture = "testdata/deletecollection.jsonl"

func TestDeleteCollectionFixture(t *testing.T) {
	want := strings.Join(collectionLines(), "\n") + "\n"
	if os.Getenv("AUDITTUI_WRITE_FIXTURE") != "" {
		if err := os.WriteFile(collectionFixture, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(collectionFixture)
	if err != nil || string(got) != want {
		t.Fatalf("%s is not collectionLines (AUDITTUI_WRITE_FIXTURE=1 rewrites it): %v", collectionFixture, err)
	}
}

// TestDeleteCollectionSecretList: a Secret's deletecollection response
// lists the Secrets with their values; none appears in the history.
func TestDeleteCollectionSecretList(t *testing.T) {
	list := map[string]any{"kind": "SecretList", "apiVersion": "v1", "items": []any{
		map[string]any{"kind": "Secret", "metadata": map[string]any{"name": "db-password", "namespace": "payments"}, "data": map[string]any{"password": "c2VjcmV0LXZhbHVlLTE="}},
		map[string]any{"kind": "Secret", "metadata": map[string]any{"name": "other", "namespace": "payments"}, "data": map[string]any{"token": "c2VjcmV0LXZhbHVlLTI="}},
	}}
	line := auditLine{ID: "s1", Verb: "deletecollection", User: "mallory", URI: "/api/v1/namespaces/payments/secrets", Resource: "secrets",
		Namespace: "payments", Code: 200, At: "10:00:00", Resp: list}.JSON()
	evs := append(readFixture(t, fixture), decodeLines(t, "s.jsonl", line)...)
	for _, spec := range []string{"secret/db-password", "secret/gone"} {
		h := build(t, evs, spec, "payments", Options{Status: true})
		all, err := json.Marshal(h)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range []string{"c2VjcmV0LXZhbHVl", "secret-value"} {
			if strings.Contains(string(all), v) {
				t.Errorf("%s: a listed Secret's value appears", spec)
			}
		}
		if spec == "secret/db-password" && (len(h.Rows) == 0 || h.Rows[len(h.Rows)-1].Change != "deleted (deletecollection)") {
			t.Errorf("rows %q", lines(h))
		}
		if spec == "secret/gone" && (len(h.Rows) != 0 || len(h.LeftOut) != 1) {
			t.Errorf("secret/gone: rows %q, left out %d", lines(h), len(h.LeftOut))
		}
	}
}
