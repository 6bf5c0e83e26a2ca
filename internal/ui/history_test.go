package ui

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/audittui/audittui/internal/policy/rules"
	"github.com/audittui/audittui/internal/termsafe/termsafetest"
	"github.com/audittui/audittui/internal/testutil"
)

// newAppOn builds a test app over a fixture.
func newAppOn(t *testing.T, path string, w, h int) *App {
	t.Helper()
	ix := loadIndex(t, path)
	a := New(context.Background(), ix, nil, Options{Title: "objects.jsonl", NoColor: true, Compile: CompileLogQL})
	a.Update(tea.WindowSizeMsg{Width: w, Height: h})
	return a
}

const objectsFixture = "../history/testdata/objects.jsonl"

// TestGoldenHistory: :history opens the pane over the ConfigMap's history;
// the update after the Metadata-only stretch shows the impersonation, the
// note that the diff spans two changes, and the diff.
func TestGoldenHistory(t *testing.T) {
	for _, sz := range sizes {
		a := newAppOn(t, objectsFixture, sz.w, sz.h)
		send(t, a, ":")
		typeText(t, a, "history -n payments cm/payments-config")
		send(t, a, "enter")
		if !a.histOpen || a.hist.hist == nil || len(a.hist.hist.Rows) != 8 {
			t.Fatalf(":history did not open the history (open %v)", a.histOpen)
		}
		send(t, a, "k", "k")
		s := screen(a)
		checkScreen(t, s, sz.w, sz.h)
		golden(t, fmt.Sprintf("history_cm_%dx%d.txt", sz.w, sz.h), s)
		for _, want := range []string{"payments/configmaps/payments-config (ConfigMap)", "carol@corp.example (impersonated by admin@corp.example)", "(no body)", "+++ configmaps/payments-config"} {
			if !strings.Contains(s, want) {
				t.Errorf("%dx%d: screen lacks %q:\n%s", sz.w, sz.h, want, s)
			}
		}
		if sz.h >= 40 && (!strings.Contains(s, "2 changes since the previous known version") || !strings.Contains(s, "+  DB_HOST: db-replica.payments.svc") ||
			!strings.Contains(s, "DENIED") || !strings.Contains(s, "admin@corp.example → carol@corp.example")) {
			t.Errorf("the spanning diff is not shown:\n%s", s)
		}
		// esc closes the pane; the tail is back.
		send(t, a, "esc")
		if a.histOpen || a.focus != paneTail {
			t.Fatalf("esc: open %v focus %d", a.histOpen, a.focus)
		}
	}
}

// TestGoldenHistorySecret: the Secret's history shows which keys changed
// by their hashes, never a value.
func TestGoldenHistorySecret(t *testing.T) {
	a := newAppOn(t, objectsFixture, 120, 40)
	send(t, a, ":")
	typeText(t, a, "history -n payments secret/db-password")
	send(t, a, "enter", "k")
	s := screen(a)
	checkScreen(t, s, 120, 40)
	golden(t, "history_secret_120x40.txt", s)
	if !strings.Contains(s, "+  password: <redacted sha256:") {
		t.Errorf("the password change is not shown:\n%s", s)
	}
	for _, v := range []string{"hunter2", "aHVudGVy", "Y29ycmVj", "correct-horse"} {
		if strings.Contains(s, v) {
			t.Errorf("secret value %q on screen", v)
		}
	}
}

// TestHistoryFromEvent: h on the tail's event opens its object's history;
// enter opens a request's event in Detail; f filters every pane with the
// object's LogQL, which the filter line shows.
func TestHistoryFromEvent(t *testing.T) {
	a := newAppOn(t, objectsFixture, 120, 40)
	// The tail's last row is the Certificate's patch.
	send(t, a, "h")
	if !a.histOpen || a.hist.hist == nil || a.hist.hist.Ref.Display() != "payments/certificates/api-tls" || len(a.hist.hist.Rows) != 2 {
		t.Fatalf("h: %+v", a.hist.hist)
	}
	if !strings.Contains(screen(a), "taken as a JSON merge patch") {
		t.Errorf("merge patch note missing:\n%s", screen(a))
	}
	send(t, a, "enter")
	if a.histOpen || a.focus != paneDetail || a.c.Snap.Str(ColName, a.detail.Row()) != "api-tls" {
		t.Fatalf("enter: open %v focus %d", a.histOpen, a.focus)
	}
	// h from Detail: the same object; f filters to it.
	send(t, a, "h", "f")
	if a.histOpen || a.focus != paneTail || a.c.Rows.Len() != 2 {
		t.Fatalf("f: open %v focus %d rows %d", a.histOpen, a.focus, a.c.Rows.Len())
	}
	if !strings.Contains(a.filter.Text, `objectRef_name="api-tls"`) || !strings.Contains(screen(a), `objectRef_resource="certificates"`) {
		t.Errorf("filter text %q", a.filter.Text)
	}
	// s toggles status in the diffs of the deployment.
	send(t, a, ":")
	typeText(t, a, "history -n payments deploy/web")
	send(t, a, "enter")
	send(t, a, "g", "j")
	if strings.Contains(screen(a), "+  readyReplicas: 3") {
		t.Fatal("status shown before s")
	}
	send(t, a, "s", "g", "j")
	if !strings.Contains(screen(a), "+  readyReplicas: 3") {
		t.Errorf("s did not show the status diff:\n%s", screen(a))
	}
	// An unknown resource without its namespace finds nothing, and says so.
	send(t, a, ":")
	typeText(t, a, "history -n kube-system clusterrole/x")
	send(t, a, "enter")
	if !strings.Contains(screen(a), "cluster-scoped") {
		t.Errorf("bad :history not reported:\n%s", screen(a))
	}
}

// TestHistoryConnectFromEvent: h on an exec that kubectl 1.30 and later
// logged as get (a WebSocket upgrade; here the falco traces' real exec
// with verb get) opens a history that lists it, with its command, among
// the pod's create-logged exec and attach, and selects it; the pod's log
// read is not listed.
func TestHistoryConnectFromEvent(t *testing.T) {
	content, err := os.ReadFile(filepath.Join(testutil.RealData(t), "audit", "falco-legacy-k8s-audit-traces.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	all := strings.Split(string(content), "\n")
	exec, attach := all[47], all[2]
	ws := strings.NewReplacer(`"verb":"create"`, `"verb":"get"`, `"auditID":"ca1ed9f4-`, `"auditID":"0000ws00-`,
		`command=bash`, `command=sh&command=-c&command=id`, `13:38:34.902914Z`, `13:39:00.000000Z`).Replace(exec)
	logRead := strings.NewReplacer(`"auditID":"ca1ed9f4-`, `"auditID":"0000log0-`, `"verb":"create"`, `"verb":"get"`,
		`"subresource":"exec"`, `"subresource":"log"`, `13:38:34.902914Z`, `13:50:00.000000Z`, `"code":101`, `"code":200`).Replace(exec)
	f := filepath.Join(t.TempDir(), "connect.jsonl")
	if err := os.WriteFile(f, []byte(strings.Join([]string{exec, ws, attach, logRead}, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	a := newAppOn(t, f, 120, 40)
	send(t, a, "/")
	typeText(t, a, `objectRef_subresource="exec" | verb="get"`)
	send(t, a, "enter")
	if a.c.Rows.Len() != 1 {
		t.Fatalf("filter: %d rows", a.c.Rows.Len())
	}
	send(t, a, "h")
	h := a.hist.hist
	if !a.histOpen || h == nil || len(h.Rows) != 3 {
		t.Fatalf("h: %+v\n%s", h, screen(a))
	}
	if r := h.Rows[a.hist.cursor]; r.Verb != "get" || r.Subresource != "exec" || r.Change != "exec: sh -c id" {
		t.Errorf("selected %+v, want the get/exec h was pressed on", r)
	}
	s := screen(a)
	for _, want := range []string{"3 requests", "get/exec", "exec: sh -c id", "create/exec", "exec: bash", "create/attach"} {
		if !strings.Contains(s, want) {
			t.Errorf("screen lacks %q:\n%s", want, s)
		}
	}
	if strings.Contains(s, "get/log") {
		t.Errorf("the log read is listed:\n%s", s)
	}
}

// TestHistoryDeleteCollection: the pane shows the deletecollections of
// the RoleBinding's collection and how many were left out; f filters to
// every event its query selects (those left out too), answered from the
// index columns.
func TestHistoryDeleteCollection(t *testing.T) {
	a := newAppOn(t, "../history/testdata/deletecollection.jsonl", 120, 40)
	send(t, a, ":")
	typeText(t, a, "history -n prod rolebinding/deployers")
	send(t, a, "enter")
	if !a.histOpen || a.hist.hist == nil || len(a.hist.hist.Rows) != 12 || len(a.hist.hist.LeftOut) != 2 {
		t.Fatalf(":history: %+v", a.hist.hist)
	}
	send(t, a, "g")
	s := screen(a)
	checkScreen(t, s, 120, 40)
	for _, want := range []string{"12 requests, 2 left out", "deleted (deletecollection)", "DENIED", "history note 2 deletecollection requests of the collection left out"} {
		if !strings.Contains(s, want) {
			t.Errorf("screen lacks %q:\n%s", want, s)
		}
	}
	send(t, a, "f")
	if a.c.Rows.Len() != 14 || a.filter.NeedsRaw() {
		t.Errorf("f: %d rows (want 14), re-reads events %v", a.c.Rows.Len(), a.filter.NeedsRaw())
	}
}

// TestGoldenHistoryVerbColumn: at 80x24 and 120x40 the list's verb
// column fits deletecollection whole (it was cut to deletecollec…), and
// the other columns keep their place: the code right-aligned under CODE,
// who and change after it.
func TestGoldenHistoryVerbColumn(t *testing.T) {
	for _, sz := range sizes {
		a := newAppOn(t, "../history/testdata/deletecollection.jsonl", sz.w, sz.h)
		send(t, a, ":")
		typeText(t, a, "history -n prod rolebinding/deployers")
		send(t, a, "enter", "g")
		s := screen(a)
		checkScreen(t, s, sz.w, sz.h)
		golden(t, fmt.Sprintf("history_deletecollection_%dx%d.txt", sz.w, sz.h), s)
		lines := strings.Split(s, "\n")
		head := -1
		for k, l := range lines {
			if strings.HasPrefix(l, "TIME ") {
				head = k
				break
			}
		}
		if head < 0 {
			t.Fatalf("%dx%d: no list:\n%s", sz.w, sz.h, s)
		}
		// (Columns counted in runes: the rows hold … and →.)
		code := strings.Index(lines[head], "CODE") + len("CODE")
		who := strings.Index(lines[head], "WHO")
		seen := 0
		for _, row := range lines[head+1:] {
			if strings.HasPrefix(row, "─") {
				break
			}
			l := []rune(row)
			if strings.Contains(row, "deletecollec") {
				seen++
				if !strings.Contains(row, " deletecollection ") {
					t.Errorf("%dx%d: verb cut: %q", sz.w, sz.h, row)
				}
			}
			if len(l) < who || l[code] != ' ' || l[code-1] == ' ' || l[who-1] != ' ' {
				t.Errorf("%dx%d: the row does not keep the columns of %q: %q", sz.w, sz.h, lines[head], row)
			}
		}
		if seen == 0 {
			t.Errorf("%dx%d: no deletecollection row:\n%s", sz.w, sz.h, s)
		}
	}
}

// TestHistoryHostileVerb: a request's verb and subresource are the
// event's text: an escape sequence or a bidi override in them is shown
// visibly in the list and in the request's detail, never written to the
// terminal.
func TestHistoryHostileVerb(t *testing.T) {
	ev := `{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"RequestResponse","auditID":"AID","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/p/configmaps/c","verb":"VERB","user":{"username":"u"},"objectRef":{"resource":"configmaps","namespace":"p","name":"c","apiVersion":"v1"SUB},"responseStatus":{"code":200},"requestObject":{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"c","namespace":"p"},"data":{"a":"b"}},"stageTimestamp":"2026-11-20T02:00:0TSZ"}`
	mk := func(id, verb, sub, ts string) string {
		return strings.NewReplacer("AID", id, "VERB", verb, "SUB", sub, "TS", ts).Replace(ev)
	}
	p := writeLines(t, "hostile.jsonl", []string{mk("1", "create", "", "1"), mk("2", "update", `,"subresource":"status\u001b[2J\u202e"`, "2")})
	for _, sz := range sizes {
		a := New(context.Background(), loadIndex(t, p), nil, Options{Compile: CompileLogQL})
		a.Update(tea.WindowSizeMsg{Width: sz.w, Height: sz.h})
		send(t, a, ":")
		typeText(t, a, "history -n p cm/c")
		send(t, a, "enter", "G")
		frame := sgr.ReplaceAllString(a.View().Content, "")
		if err := termsafetest.CheckLines(frame); err != nil {
			t.Fatalf("%dx%d: %v", sz.w, sz.h, err)
		}
		if !strings.Contains(frame, `update/status\x1b[2J<U+202E> 200`) {
			t.Errorf("%dx%d: the request's verb is not shown visibly:\n%s", sz.w, sz.h, frame)
		}
	}
}

// TestHistoryFromAlert: h on an alert lists the objects its events
// touched; enter opens one's history, esc goes back to the list.
func TestHistoryFromAlert(t *testing.T) {
	a := newAppOn(t, objectsFixture, 120, 40)
	var ids []string
	for i := 0; i < a.c.Snap.Len(); i++ {
		if a.c.Snap.Str(ColUser, i) == "system:serviceaccount:production:web-frontend" {
			raw, _ := a.c.Snap.Raw(i)
			ids = append(ids, auditIDOf(raw))
		}
	}
	set, err := rules.Parse("stolen.yaml", []byte(`groups:
- name: tokens
  rules:
  - alert: StolenToken
    expr: sum(count_over_time({job="audit"} | json [5m])) > 0
    labels: {severity: critical}
`))
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 20, 9, 30, 0, 0, time.UTC)
	a.alerts.SetState(AlertState{Rules: 1, Local: []*rules.Alert{{Rule: set.Rules()[0], Name: "StolenToken", Severity: "critical",
		State: rules.StateFiring, Labels: map[string]string{}, Value: 3, Events: 3, ActiveAt: at, LastActive: at, AuditIDs: ids}}})
	// The rule's line, then its one group: h on the group.
	send(t, a, "3", "down", "h")
	if !a.histOpen || len(a.hist.objects) != 3 {
		t.Fatalf("h on the alert: open %v, objects %+v", a.histOpen, a.hist.objects)
	}
	s := screen(a)
	checkScreen(t, s, 120, 40)
	golden(t, "history_alert_objects_120x40.txt", s)
	send(t, a, "enter")
	if a.hist.hist == nil || a.hist.objects != nil {
		t.Fatalf("enter did not open an object's history")
	}
	send(t, a, "esc")
	if !a.histOpen || len(a.hist.objects) != 3 {
		t.Fatalf("esc did not go back to the objects")
	}
	send(t, a, "esc")
	if a.histOpen {
		t.Fatal("esc did not close")
	}
}

// TestIdentityPivots: the Timeline pivots from a shared EKS account to the
// person behind it and from a service account to its token's credential
// id; the filters are LogQL answered from the columns.
func TestIdentityPivots(t *testing.T) {
	a := newAppOn(t, "../../testdata/identities/identities.jsonl", 120, 40)
	send(t, a, ":")
	typeText(t, a, "user kubernetes-admin")
	send(t, a, "enter")
	a.tl.Subject()
	if n := len(a.tl.events); n != 2 {
		t.Fatalf("kubernetes-admin has %d events", n)
	}
	s := screen(a)
	if !strings.Contains(s, "b person alice@corp.example") {
		t.Errorf("the person behind the role is not shown:\n%s", s)
	}
	// The cursor is on the newest event (bob's): b follows it.
	send(t, a, "b")
	if c, v := a.tl.Subject(); c != ColSession || v != "bob@corp.example" || len(a.tl.events) != 1 {
		t.Fatalf("b: %v %q (%d events)", c, v, len(a.tl.events))
	}
	send(t, a, "f")
	if want := `{job="audit"} | json | json userSessionName="user.extra.sessionName[0]" | userSessionName="bob@corp.example"`; a.filter.Text != want || a.c.Rows.Len() != 1 {
		t.Fatalf("person filter %q (%d rows)", a.filter.Text, a.c.Rows.Len())
	}
	if a.filter.NeedsRaw() {
		t.Error("the person filter re-reads events: it should be answered from the columns")
	}
	send(t, a, ":")
	typeText(t, a, "clear")
	send(t, a, "enter", ":")
	typeText(t, a, "user system:serviceaccount:production:web-frontend")
	send(t, a, "enter", "c")
	if c, v := a.tl.Subject(); c != ColCredential || v != "JTI=9c1f2a7e-64d0-4b8e-b1f4-0c7d9a3e5f11" {
		t.Fatalf("c: %v %q", c, v)
	}
	golden(t, "timeline_token_120x40.txt", screen(a))
	send(t, a, "f")
	if !strings.Contains(a.filter.Text, `json userCredentialId="user.extra[\"authentication.kubernetes.io/credential-id\"][0]" | userCredentialId="JTI=9c1f2a7e`) || a.c.Rows.Len() != 1 {
		t.Fatalf("token filter %q (%d rows)", a.filter.Text, a.c.Rows.Len())
	}
	// A pivot with nothing behind the account says so.
	send(t, a, ":")
	typeText(t, a, "user admin@corp.example")
	send(t, a, "enter")
	_, cmd := a.Update(keyMsg("c"))
	if msg, ok := cmd().(statusMsg); !ok || !strings.Contains(string(msg), "no token") {
		t.Errorf("c without a token: %v", msg)
	}
}

// TestDetailIdentity: Detail names the person, the key to search
// CloudTrail with, and the token's pod, node and id.
func TestDetailIdentity(t *testing.T) {
	a := newAppOn(t, "../../testdata/identities/identities.jsonl", 120, 40)
	send(t, a, "g", "enter")
	s := screen(a)
	for _, want := range []string{"user      kubernetes-admin", "person    alice@corp.example", "key id    ASIAEXAMPLEKEY7Q2XRJ", "aws arn   arn:aws:sts::111122223333:assumed-role/EKSClusterAdmin/alice@corp.example"} {
		if !strings.Contains(s, want) {
			t.Errorf("detail lacks %q:\n%s", want, s)
		}
	}
	send(t, a, "esc", "j", "j", "j", "enter")
	s = screen(a)
	for _, want := range []string{"token pod web-frontend-7d9c5b6f4-x2x7p", "node      ip-10-0-1-219.eu-west-1.compute.internal", "token id  JTI=9c1f2a7e-64d0-4b8e-b1f4-0c7d9a3e5f11"} {
		if !strings.Contains(s, want) {
			t.Errorf("detail lacks %q:\n%s", want, s)
		}
	}
	golden(t, "detail_token_120x40.txt", s)
}
