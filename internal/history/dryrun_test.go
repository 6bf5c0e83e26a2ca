package history

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/audittui/audittui/internal/testutil"
)

// TestDryRunsChangeNothing: a server-side dry run is a row that says what
// it would have done and "(dry run: not persisted)", with the diff it
// would have made; the versions, and whether the object exists, go on
// from the row before it: the real patch after a dry-run patch is diffed
// against the created version, a dry-run delete leaves the object present
// (a create after it is "created again"), a dry-run scale sets no
// replicas. A delete that asks for a dry run only in its URI at the
// Metadata level counts as the delete, with a note.
func TestDryRunsChangeNothing(t *testing.T) {
	cm := func(v string) map[string]any {
		return map[string]any{"kind": "ConfigMap", "apiVersion": "v1", "metadata": map[string]any{"name": "app", "namespace": "payments"}, "data": map[string]any{"mode": v}}
	}
	const uri = "/api/v1/namespaces/payments/configmaps"
	lines := []auditLine{
		{ID: "1", Verb: "create", User: "alice", URI: uri + "?fieldManager=kubectl-create", Code: 201, At: "09:00:00.000", Req: cm("a"), Resp: cm("a")},
		{ID: "2", Verb: "patch", User: "ci", URI: uri + "/app?dryRun=All&fieldManager=kubectl-client-side-apply", Code: 200, At: "09:01:00.000", Req: map[string]any{"data": map[string]any{"mode": "dry"}}, Resp: cm("dry")},
		{ID: "3", Verb: "patch", User: "alice", URI: uri + "/app", Code: 200, At: "09:02:00.000", Req: map[string]any{"data": map[string]any{"mode": "b"}}, Resp: cm("b")},
		{ID: "4", Verb: "delete", User: "ci", URI: uri + "/app", Code: 200, At: "09:03:00.000", Req: map[string]any{"kind": "DeleteOptions", "apiVersion": "meta.k8s.io/__internal", "dryRun": []string{"All"}}},
		{ID: "5", Verb: "update", User: "mallory", URI: uri + "/app?dryRun=All", Code: 403, At: "09:04:00.000", Req: cm("evil")},
		{ID: "6", Verb: "create", User: "bob", URI: uri, Code: 201, At: "09:05:00.000", Req: cm("c"), Resp: cm("c")},
		{ID: "7", Verb: "delete", User: "ci", URI: uri + "/app?dryRun=All", Code: 200, At: "09:06:00.000", Level: "Metadata"},
	}
	var text []string
	for _, l := range lines {
		l.Resource, l.Namespace, l.Name = "configmaps", "payments", "app"
		text = append(text, l.JSON())
	}
	h := build(t, decodeLines(t, "dry.log", text...), "cm/app", "payments", Options{})
	if len(h.Rows) != len(lines) {
		t.Fatalf("%d rows, want %d", len(h.Rows), len(lines))
	}
	want := []struct {
		change   string
		dry      bool
		unproven bool
	}{
		{"created", false, false},
		{"patched (dry run: not persisted)", true, false},
		{"patched", false, false},
		{"deleted (dry run: not persisted)", true, false},
		{"denied (dry run: not persisted)", true, false},
		{"created again", false, false},
		{"deleted", false, true},
	}
	for k, w := range want {
		r := &h.Rows[k]
		if r.Change != w.change || r.DryRun != w.dry || r.DryRunUnproven != w.unproven {
			t.Errorf("row %d (%s): change %q dryRun %v unproven %v; want %q %v %v\nnotes: %q", k+1, r.Verb, r.Change, r.DryRun, r.DryRunUnproven, w.change, w.dry, w.unproven, r.Notes)
		}
		if r.DryRun && r.Object != nil {
			t.Errorf("row %d: a dry run has a version: %v", k+1, r.Object)
		}
	}
	if d := h.Rows[1].Diff; !strings.Contains(d, "-  mode: a") || !strings.Contains(d, "+  mode: dry") {
		t.Errorf("the dry-run patch's diff is not what it would have changed:\n%s", d)
	}
	if d := h.Rows[2].Diff; !strings.Contains(d, "-  mode: a") || !strings.Contains(d, "+  mode: b") {
		t.Errorf("the patch after the dry run is not diffed against the created version:\n%s", d)
	}
	if !strings.Contains(strings.Join(h.Rows[5].Notes, "\n"), "no delete recorded since the patch") {
		t.Errorf("the create after the dry-run delete does not see the object present: %q", h.Rows[5].Notes)
	}
	if !strings.Contains(strings.Join(h.Rows[6].Notes, "\n"), "counted as a delete") {
		t.Errorf("the Metadata-level delete does not say why it counts: %q", h.Rows[6].Notes)
	}
}

// TestDryRunScaleSetsNoReplicas: on testdata/dryrun/dryrun.log (review I's
// reproduction), the dry-run scale to 0 is no version: the real scale
// after it is the first change of replicas.
func TestDryRunScaleSetsNoReplicas(t *testing.T) {
	evs := readFixture(t, filepath.Join(testutil.RepoRoot(), "testdata", "dryrun", "dryrun.log"))
	h := build(t, evs, "deploy/payments-api", "payments", Options{})
	var got []string
	for _, r := range h.Rows {
		got = append(got, r.Change)
	}
	if strings.Join(got, "; ") != "scaled to 0 (dry run: not persisted); scaled to 2" {
		t.Errorf("rows: %q", got)
	}
	h = build(t, evs, "rolebinding/payments-deployers", "payments", Options{})
	got = got[:0]
	for _, r := range h.Rows {
		got = append(got, r.Change)
	}
	if strings.Join(got, "; ") != "deleted (dry run: not persisted); deleted" || !h.Rows[1].DryRunUnproven {
		t.Errorf("rows: %q", got)
	}
}
