package history

import (
	"encoding/base64"
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/audittui/audittui/internal/data"
)

const fixture = "testdata/objects.jsonl"

// rowLine is a row in one line: time, verb/sub, code, outcome, identity, change.
func rowLine(r Row) string {
	v := r.Verb
	if r.Subresource != "" {
		v += "/" + r.Subresource
	}
	return formatTime(r.Time)[11:19] + " " + v + " " + itoa(r.Code) + " " + string(r.Outcome) + " | " + r.Identity.String() + " | " + r.Change
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func lines(h *History) []string {
	var out []string
	for _, r := range h.Rows {
		out = append(out, rowLine(r))
	}
	return out
}

func wantLines(t *testing.T, h *History, want []string) {
	t.Helper()
	got := lines(h)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("rows:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func mustContain(t *testing.T, what, s string, subs ...string) {
	t.Helper()
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			t.Errorf("%s lacks %q:\n%s", what, sub, s)
		}
	}
}

func hasNote(r Row, sub string) bool {
	for _, n := range r.Notes {
		if strings.Contains(n, sub) {
			return true
		}
	}
	return false
}

// TestConfigMapHistory: create, a patch taken as strategic merge, a JSON
// patch, a Metadata-only stretch, an impersonated update (two stages), a
// denied delete with a stolen token, and a delete through an EKS role
// delivered twice.
func TestConfigMapHistory(t *testing.T) {
	h := build(t, readFixture(t, fixture), "cm/payments-config", "payments", Options{})
	wantLines(t, h, []string{
		"09:00:00 create 201 ok | alice@corp.example | created",
		"09:05:00 patch 200 ok | alice@corp.example | patched",
		"09:10:00 patch 200 ok | system:serviceaccount:argocd:argocd-application-controller (pod argocd-application-controller-0) | patched",
		"09:15:00 update 200 ok | system:serviceaccount:argocd:argocd-application-controller (pod argocd-application-controller-0) | updated",
		"09:16:00 patch 200 ok | system:serviceaccount:argocd:argocd-application-controller (pod argocd-application-controller-0) | patched",
		"09:20:00 update 200 ok | admin@corp.example → carol@corp.example | updated",
		"09:25:00 delete 403 denied | system:serviceaccount:production:web-frontend (pod web-frontend-7d9c5b6f4-x2x7p) | denied",
		"09:30:00 delete 200 ok | kubernetes-admin (alice@corp.example) | deleted",
	})
	r := h.Rows
	if h.Kind != "ConfigMap" || !strings.Contains(h.Query, `objectRef_name="payments-config"`) {
		t.Errorf("kind %q, query %s", h.Kind, h.Query)
	}
	// The creation: everything added, bookkeeping left out.
	mustContain(t, "create diff", r[0].Diff, "--- /dev/null", "+  LOG_LEVEL: info", "+    checkout-v2=false")
	for _, bk := range []string{"managedFields", "resourceVersion", "creationTimestamp", "uid:"} {
		for _, row := range r {
			if strings.Contains(row.Diff, bk) {
				t.Errorf("%s diff shows bookkeeping %s:\n%s", row.Change, bk, row.Diff)
			}
		}
	}
	// The patch applied to the previous version.
	if r[1].PatchType != PatchStrategic || !hasNote(r[1], "the audit log does not record the patch type") {
		t.Errorf("patch type %q, notes %q", r[1].PatchType, r[1].Notes)
	}
	mustContain(t, "patch diff", r[1].Diff, "-  LOG_LEVEL: info\n+  LOG_LEVEL: debug\n")
	// The JSON patch: a replaced value and an added label with ~1 in its pointer.
	if r[2].PatchType != PatchJSON {
		t.Errorf("JSON patch taken as %q", r[2].PatchType)
	}
	mustContain(t, "JSON patch diff", r[2].Diff, "-    checkout-v2=false\n+    checkout-v2=true\n", "+    argocd.argoproj.io/instance: payments\n")
	// The Metadata stretch says so, and the next version spans it.
	for _, k := range []int{3, 4} {
		if r[k].Diff != "" || !hasNote(r[k], "Metadata level: no body recorded") {
			t.Errorf("row %d: diff %q notes %q", k, r[k].Diff, r[k].Notes)
		}
	}
	if !hasNote(r[5], "2 changes since the previous known version (2026-11-20T09:10:00.000Z) recorded no body") {
		t.Errorf("update after the stretch: notes %q", r[5].Notes)
	}
	mustContain(t, "update diff", r[5].Diff, "-  DB_HOST: db.payments.svc\n+  DB_HOST: db-replica.payments.svc\n", "\n-  LOG_LEVEL: debug\n", "\n+  LOG_LEVEL: warn\n", "\n-    refunds=true\n")
	// Two stages of one auditID, written complete-first, are one row.
	if strings.Join(r[5].Stages, ",") != "RequestReceived,ResponseComplete" || len(r[5].Where) != 2 {
		t.Errorf("stages %v where %v", r[5].Stages, r[5].Where)
	}
	if r[5].Identity.ImpersonatedUser != "carol@corp.example" || r[5].Identity.User != "admin@corp.example" {
		t.Errorf("impersonation: %+v", r[5].Identity)
	}
	// The denied attempt: marked, with the reason, the token's credential and pod.
	if !r[6].Denied() || r[6].Diff != "" || !hasNote(r[6], "cannot delete resource") {
		t.Errorf("denied row: %+v", r[6])
	}
	if id := r[6].Identity; id.CredentialID != "JTI=9c1f2a7e-64d0-4b8e-b1f4-0c7d9a3e5f11" || id.NodeName != "ip-10-0-1-219.eu-west-1.compute.internal" || r[6].SourceIP != "203.0.113.77" {
		t.Errorf("denied identity: %+v from %s", id, r[6].SourceIP)
	}
	// The delete: the person behind the role, the key to search CloudTrail
	// with, the last version removed; delivered twice, one row, one stage.
	if id := r[7].Identity; id.SessionName != "alice@corp.example" || id.AccessKeyID != "ASIAEXAMPLEKEY7Q2XRJ" || id.ARN == "" {
		t.Errorf("delete identity: %+v", id)
	}
	if len(r[7].Stages) != 1 || strings.Join(r[7].Where, " ") != "testdata/objects.jsonl:10 testdata/objects.jsonl:11" {
		t.Errorf("a line delivered twice: stages %v, cited %v", r[7].Stages, r[7].Where)
	}
	mustContain(t, "delete diff", r[7].Diff, "+++ /dev/null", "-  DB_HOST: db-replica.payments.svc")
	if r[7].Object != nil {
		t.Errorf("a deleted object has a version")
	}
}

// TestDeploymentHistory: status update, strategic merge patches (the
// container list merged by name, a $patch: delete), a denied patch, scale.
func TestDeploymentHistory(t *testing.T) {
	evs := readFixture(t, fixture)
	h := build(t, evs, "deployments.apps/web", "payments", Options{})
	wantLines(t, h, []string{
		"09:01:00 create 201 ok | alice@corp.example | created",
		"09:01:15 update/status 200 ok | system:serviceaccount:kube-system:deployment-controller | status updated",
		"09:06:40 patch 200 ok | alice@corp.example | patched",
		"09:07:00 patch 403 denied | system:serviceaccount:production:web-frontend (pod web-frontend-7d9c5b6f4-x2x7p) | denied",
		"09:07:30 patch 200 ok | alice@corp.example | patched",
		"09:08:20 update/scale 200 ok | alice@corp.example | scaled to 5",
	})
	r := h.Rows
	if r[1].Diff != "" || !hasNote(r[1], "--status shows status") {
		t.Errorf("status update without --status: diff %q notes %q", r[1].Diff, r[1].Notes)
	}
	// Strategic merge: the web container keeps its ports and env, only the
	// image changes (a merge patch would have replaced the list).
	if r[2].PatchType != PatchStrategic {
		t.Errorf("patch type %q", r[2].PatchType)
	}
	mustContain(t, "image diff", r[2].Diff, "-        image: registry.corp.example/web:1.4.0\n+        image: registry.corp.example/web:1.5.0\n")
	if strings.Contains(r[2].Diff, "-        - containerPort: 8080") || strings.Contains(r[2].Diff, "-      - image: registry.corp.example/exporter") {
		t.Errorf("the strategic merge dropped list entries:\n%s", r[2].Diff)
	}
	// The denied patch shows what it tried; the object did not change.
	if !r[3].Denied() || !strings.Contains(r[3].Patch, "web:backdoor") || r[3].Diff != "" {
		t.Errorf("denied patch: %+v", r[3])
	}
	mustContain(t, "directive diff", r[4].Diff, "-      - image: registry.corp.example/exporter:0.9")
	if !hasNote(r[4], "$ directives") {
		t.Errorf("directive notes %q", r[4].Notes)
	}
	mustContain(t, "scale diff", r[5].Diff, "-  replicas: 3\n+  replicas: 5\n")
	// The version after the last row is the object as it is.
	if img := str(r[5].Object, "spec", "replicas"); img != "" {
		t.Errorf("replicas is a number, got %q", img)
	}

	// --status shows the status update.
	hs := build(t, evs, "deploy/web", "payments", Options{Status: true})
	mustContain(t, "status diff", hs.Rows[1].Diff, "+  availableReplicas: 3", "+  readyReplicas: 3")
}

// TestCustomResourceMergePatch: a custom resource's patch is a JSON merge
// patch: a list is replaced, null removes a field.
func TestCustomResourceMergePatch(t *testing.T) {
	h := build(t, readFixture(t, fixture), "certificates.cert-manager.io/api-tls", "payments", Options{})
	if len(h.Rows) != 2 || h.Kind != "Certificate" {
		t.Fatalf("rows %v kind %q", lines(h), h.Kind)
	}
	p := h.Rows[1]
	if p.PatchType != PatchMerge || !hasNote(p, "JSON merge patch") {
		t.Errorf("patch type %q notes %q", p.PatchType, p.Notes)
	}
	mustContain(t, "merge diff", p.Diff, "-  - api-internal.corp.example\n-  duration: 2160h\n")
}

// TestSecretValuesNeverAppear: no value of the Secret, base64 or decoded,
// appears in any row (patch, diff, object, notes), including kubectl's
// last-applied annotation and a JSON patch; changed keys show changed
// hashes, unchanged ones the same hash.
func TestSecretValuesNeverAppear(t *testing.T) {
	h := build(t, readFixture(t, fixture), "secret/db-password", "payments", Options{Status: true})
	wantLines(t, h, []string{
		"09:02:00 create 201 ok | alice@corp.example | created",
		"09:11:40 patch 200 ok | alice@corp.example | patched",
		"09:13:20 patch 200 ok | system:serviceaccount:argocd:argocd-application-controller (pod argocd-application-controller-0) | patched",
	})
	all, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"hunter2-s3cr3t", "correct-horse-battery", "payments-rw"} {
		for _, form := range []string{secret, base64.StdEncoding.EncodeToString([]byte(secret))} {
			if strings.Contains(string(all), form) {
				t.Errorf("secret value %q appears in the history", form)
			}
		}
	}
	r := h.Rows
	oldPw, newPw := hashLine(t, r[1].Diff, "-  password: "), hashLine(t, r[1].Diff, "+  password: ")
	if oldPw == newPw || !strings.HasPrefix(oldPw, "<redacted sha256:") {
		t.Errorf("password change: %q -> %q", oldPw, newPw)
	}
	if strings.Contains(r[1].Diff, "username: <redacted") && strings.Contains(r[1].Diff, "-  username") {
		t.Errorf("unchanged username shows as changed:\n%s", r[1].Diff)
	}
	// The annotation's copy of the data is hashed the same way.
	mustContain(t, "annotation", r[1].Diff, `"password":"`+newPw+`"`)
	mustContain(t, "JSON patch", r[2].Patch, "value: <redacted sha256:")
	if hashLine(t, r[2].Diff, "-  username: ") == hashLine(t, r[2].Diff, "+  username: ") {
		t.Errorf("username change not shown:\n%s", r[2].Diff)
	}
}

func hashLine(t *testing.T, diff, prefix string) string {
	t.Helper()
	for _, l := range strings.Split(diff, "\n") {
		if strings.HasPrefix(l, prefix) {
			return strings.TrimPrefix(l, prefix)
		}
	}
	t.Fatalf("no line %q in:\n%s", prefix, diff)
	return ""
}

// TestOrderAndDuplicates: shuffled and duplicated input gives the same
// history.
func TestOrderAndDuplicates(t *testing.T) {
	evs := readFixture(t, fixture)
	render := func(evs []data.Event) string {
		var b strings.Builder
		for _, spec := range []string{"cm/payments-config", "deploy/web", "secret/db-password", "certificates.cert-manager.io/api-tls"} {
			h := build(t, evs, spec, "payments", Options{})
			j, err := json.Marshal(h)
			if err != nil {
				t.Fatal(err)
			}
			b.Write(j)
		}
		return b.String()
	}
	want := render(evs)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 20; i++ {
		sh := append([]data.Event(nil), evs...)
		sh = append(sh, evs[rng.IntN(len(evs))], evs[rng.IntN(len(evs))])
		rng.Shuffle(len(sh), func(a, b int) { sh[a], sh[b] = sh[b], sh[a] })
		// Citations name lines; a shuffle keeps each event's own line.
		if got := render(sh); got != want {
			t.Fatalf("permutation %d gives another history", i)
		}
	}
}

// TestReads: --reads adds the get of the Secret (the object's requests
// of any verb; only the collection's reads name theirs).
func TestReads(t *testing.T) {
	h := build(t, readFixture(t, fixture), "secrets/db-password", "payments", Options{Reads: true})
	if len(h.Rows) != 4 || h.Rows[3].Verb != "get" || strings.Contains(h.Query, `verb=~"create`) {
		t.Fatalf("rows %v query %s", lines(h), h.Query)
	}
}

// TestSecretStringDataIsData: the apiserver writes a Secret's stringData
// into data (base64) and never stores stringData, so a patch of
// stringData.password changes data.password: the diff says so (hashed),
// and no stringData block appears. The value never shows.
func TestSecretStringDataIsData(t *testing.T) {
	uri := "/api/v1/namespaces/a/secrets/s1"
	create := map[string]any{"apiVersion": "v1", "kind": "Secret", "metadata": map[string]any{"name": "s1", "namespace": "a"},
		"data": map[string]any{"password": base64.StdEncoding.EncodeToString([]byte("PLAINTEXT1")), "user": "YWRtaW4="}}
	evs := decodeLines(t, "sec.log",
		auditLine{ID: "c1", Verb: "create", User: "alice", URI: "/api/v1/namespaces/a/secrets", Resource: "secrets", Namespace: "a", Name: "s1", Code: 201, At: "09:00:00.000", Req: create}.JSON(),
		auditLine{ID: "p1", Verb: "patch", User: "bob", URI: uri, Resource: "secrets", Namespace: "a", Name: "s1", Code: 200, At: "09:05:00.000", Level: "Request",
			Req: map[string]any{"stringData": map[string]any{"password": "PLAINTEXT5"}}}.JSON(),
		auditLine{ID: "p2", Verb: "patch", User: "bob", URI: uri, Resource: "secrets", Namespace: "a", Name: "s1", Code: 200, At: "09:06:00.000", Level: "Request",
			Req: map[string]any{"stringData": map[string]any{"password": "PLAINTEXT5"}}}.JSON(),
	)
	h := build(t, evs, "secret/s1", "a", Options{})
	if len(h.Rows) != 3 {
		t.Fatalf("%d rows", len(h.Rows))
	}
	d := h.Rows[1].Diff
	oldPw, newPw := hashLine(t, d, "-  password: "), hashLine(t, d, "+  password: ")
	if oldPw == "" || oldPw == newPw || strings.Contains(d, "stringData") {
		t.Errorf("a stringData patch is not a change of data.password:\n%s", d)
	}
	if strings.Contains(h.Rows[2].Diff, "password") {
		t.Errorf("the same stringData again changed data.password:\n%s", h.Rows[2].Diff)
	}
	all, _ := json.Marshal(h)
	for _, v := range []string{"PLAINTEXT1", "PLAINTEXT5", base64.StdEncoding.EncodeToString([]byte("PLAINTEXT5"))} {
		if strings.Contains(string(all), v) {
			t.Errorf("secret value %q appears in the history", v)
		}
	}
}
