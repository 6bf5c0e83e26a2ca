package history

import (
	"strings"
	"testing"
)

func clusterRole(verbs ...string) map[string]any {
	return map[string]any{"kind": "ClusterRole", "apiVersion": "rbac.authorization.k8s.io/v1", "metadata": map[string]any{"name": "reader"},
		"rules": []any{map[string]any{"apiGroups": []string{""}, "resources": []string{"pods"}, "verbs": verbs}}}
}

func crLine(id, verb, at string, code int, body any) string {
	uri := "/apis/rbac.authorization.k8s.io/v1/clusterroles"
	if verb != "create" {
		uri += "/reader"
	}
	return auditLine{ID: id, Verb: verb, User: "alice", URI: uri, Resource: "clusterroles", Group: "rbac.authorization.k8s.io", Name: "reader",
		Code: code, At: at, Resp: body}.JSON()
}

// TestCreatedAgain: a successful create of an object the log says exists
// (no delete since the last create or change) says a delete is missing
// and diffs against the version before it; a create refused with 409 is
// no re-creation; a create after a delete, or after a deletion that
// finalizers held up, is a plain creation.
func TestCreatedAgain(t *testing.T) {
	gone := clusterRole("get")
	gone["metadata"] = map[string]any{"name": "reader", "deletionTimestamp": "2026-11-20T05:00:00Z", "finalizers": []string{"example.com/hold"}}
	evs := decodeLines(t, "cr.jsonl",
		crLine("c1", "create", "01:00:00", 201, clusterRole("get")),
		crLine("c2", "create", "01:10:00", 409, nil), // AlreadyExists
		crLine("c3", "create", "01:20:00", 201, clusterRole("get", "list", "delete")),
		crLine("c4", "delete", "02:00:00", 200, nil),
		crLine("c5", "create", "03:00:00", 201, clusterRole("get")),
		crLine("c6", "patch", "04:00:00", 200, clusterRole("get", "list")),
		crLine("c7", "create", "04:30:00", 201, clusterRole("*")),
		crLine("c8", "delete", "05:00:00", 200, gone),
		crLine("c9", "update", "05:01:00", 200, nil), // the finalizer removed: the object goes
		crLine("c10", "create", "06:00:00", 201, clusterRole("get")),
	)
	h := build(t, evs, "clusterrole/reader", "", Options{})
	wantLines(t, h, []string{
		"01:00:00 create 201 ok | alice | created",
		"01:10:00 create 409 failed | alice | failed (409)",
		"01:20:00 create 201 ok | alice | created again",
		"02:00:00 delete 200 ok | alice | deleted",
		"03:00:00 create 201 ok | alice | created",
		"04:00:00 patch 200 ok | alice | patched",
		"04:30:00 create 201 ok | alice | created again",
		"05:00:00 delete 200 ok | alice | deletion started (finalizers pending)",
		"05:01:00 update 200 ok | alice | updated",
		"06:00:00 create 201 ok | alice | created",
	})
	r := h.Rows
	if hasNote(r[1], "created again") {
		t.Errorf("the 409 is taken for a re-creation: %q", r[1].Notes)
	}
	if !hasNote(r[2], "created again: no delete recorded since the create at 2026-11-20T01:00:00.000Z, cr.jsonl:1 (gap in the log?)") {
		t.Errorf("re-creation notes %q", r[2].Notes)
	}
	mustContain(t, "re-creation diff", r[2].Diff, "--- clusterroles/reader 2026-11-20T01:00:00.000Z", "   - get\n+  - list\n+  - delete\n")
	if !hasNote(r[6], "created again: no delete recorded since the patch at 2026-11-20T04:00:00.000Z, cr.jsonl:6 (gap in the log?)") {
		t.Errorf("re-creation after a patch: notes %q", r[6].Notes)
	}
	mustContain(t, "re-creation diff", r[6].Diff, "-  - get\n-  - list\n+  - '*'\n")
	for _, k := range []int{0, 4, 9} {
		if hasNote(r[k], "created again") || !strings.HasPrefix(r[k].Diff, "--- /dev/null") {
			t.Errorf("row %d %s: notes %q diff\n%s", k, rowLine(r[k]), r[k].Notes, r[k].Diff)
		}
	}
}

// TestCreatedAgainRealData: falco's traces create clusterrole/some-reader
// at 14:21:53, 14:24:52, 14:32:32 and 14:35:50 with no delete between;
// each later create changes the rules.
func TestCreatedAgainRealData(t *testing.T) {
	h := build(t, realFalco(t), "clusterrole/some-reader", "", Options{})
	wantLines(t, h, []string{
		"13:25:18 create 201 ok | minikube-user | created",
		"13:25:37 delete 200 ok | minikube-user | deleted",
		"14:21:53 create 201 ok | minikube-user | created",
		"14:24:52 create 201 ok | minikube-user | created again",
		"14:32:32 create 201 ok | minikube-user | created again",
		"14:35:50 create 201 ok | minikube-user | created again",
	})
	r := h.Rows
	if !hasNote(r[3], "no delete recorded since the create at 2018-10-26T14:21:53.889Z, ") || !hasNote(r[3], "falco-legacy-k8s-audit-traces.jsonl:5 (gap in the log?)") {
		t.Errorf("notes %q", r[3].Notes)
	}
	mustContain(t, "14:35:50", r[5].Diff, "-  - pods\n+  - pods/exec\n")
}

// TestCreatedAgainUndated: undated requests have no order, so two
// successful creates among them are not called a re-creation; the note
// says what is known.
func TestCreatedAgainUndated(t *testing.T) {
	var ls []string
	for _, id := range []string{"u1", "u2"} {
		l := crLine(id, "create", "01:00:00", 201, clusterRole("get"))
		l = strings.ReplaceAll(strings.ReplaceAll(l, `"stageTimestamp":"2026-11-20T01:00:00Z",`, ""), `"requestReceivedTimestamp":"2026-11-20T01:00:00Z",`, "")
		ls = append(ls, l)
	}
	h := build(t, decodeLines(t, "undated.jsonl", ls...), "clusterrole/reader", "", Options{})
	if len(h.Rows) != 2 || h.Rows[0].Time != 0 || h.Rows[1].Change != "created" ||
		!hasNote(h.Rows[1], "the log also records the object present (the create at undated.jsonl:") || !hasNote(h.Rows[1], "undated requests have no known order") {
		t.Fatalf("rows %q, notes %q", lines(h), h.Rows[len(h.Rows)-1].Notes)
	}
}
