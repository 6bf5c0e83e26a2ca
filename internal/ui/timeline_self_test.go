package ui

import (
	"fmt"
	"strings"
	"testing"
)

// timelineEvent is an audit event line for the Timeline tests.
func timelineEvent(n int, user, imp, pod, verb, resource, ns, name string) string {
	u := fmt.Sprintf(`{"username":%q,"groups":["system:authenticated"]`, user)
	if pod != "" {
		u += fmt.Sprintf(`,"extra":{"authentication.kubernetes.io/pod-name":[%q]}`, pod)
	}
	u += "}"
	impJSON := ""
	if imp != "" {
		impJSON = fmt.Sprintf(`,"impersonatedUser":{"username":%q}`, imp)
	}
	return fmt.Sprintf(`{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"%08d-aaaa-bbbb-cccc-000000000000","stage":"ResponseComplete","requestURI":"/apis/rbac.authorization.k8s.io/v1/namespaces/%s/%s/%s","verb":%q,"user":%s%s,"sourceIPs":["10.0.0.5"],"objectRef":{"resource":%q,"namespace":%q,"name":%q,"apiVersion":"v1"},"requestReceivedTimestamp":"2026-11-20T09:00:%02d.000000Z","stageTimestamp":"2026-11-20T09:00:%02d.012000Z","responseStatus":{"metadata":{},"code":200}}`,
		n, ns, resource, name, verb, u, impJSON, resource, ns, name, n, n)
}

// TestTimelineRowsLeaveOutTheSubject: a user's Timeline names the user in
// its title, so its rows do not repeat it: USER is gone when the user
// acted as themself on every row, the object (which RoleBinding) getting
// the room, at 80 columns too; it shows only what differs when someone
// else acted as the user or the user as someone else, and a service
// account's rows keep the pod each token was issued to.
func TestTimelineRowsLeaveOutTheSubject(t *testing.T) {
	const binding = "oncall-admin-payments-binding"
	p := writeLines(t, "subject.jsonl", []string{
		timelineEvent(1, "alice@corp.example", "", "", "delete", "rolebindings", "production", binding),
		timelineEvent(2, "alice@corp.example", "", "", "get", "secrets", "production", "db-password"),
		timelineEvent(3, "bob@corp.example", "", "", "get", "secrets", "production", "db-password"),
		timelineEvent(4, "bob@corp.example", "carol@corp.example", "", "create", "rolebindings", "production", binding),
		timelineEvent(5, "mallory@corp.example", "bob@corp.example", "", "delete", "rolebindings", "staging", binding),
		timelineEvent(6, "system:serviceaccount:prod:web", "", "web-7d9c-x2x7p", "get", "secrets", "prod", "web-tls"),
		timelineEvent(7, "system:serviceaccount:prod:web", "", "web-7d9c-q8k2m", "get", "secrets", "prod", "web-tls"),
	})
	for _, sz := range sizes {
		a := newTestAppFile(t, p, sz.w, sz.h)
		timelineOf := func(user string) []string {
			send(t, a, ":")
			typeText(t, a, "user "+user)
			send(t, a, "enter")
			s := screen(a)
			checkScreen(t, s, sz.w, sz.h)
			var rows []string
			for _, l := range strings.Split(s, "\n") {
				if _, r, ok := strings.Cut(l, "│"); ok && (strings.HasPrefix(r, "TIME") || strings.HasPrefix(r, "09:00:")) {
					rows = append(rows, r)
				}
			}
			if len(rows) < 2 {
				t.Fatalf("%dx%d %s: no event rows:\n%s", sz.w, sz.h, user, s)
			}
			return rows
		}
		// alice acted as herself only: no USER column, the names whole.
		rows := timelineOf("alice@corp.example")
		if strings.Contains(rows[0], "USER") || strings.Contains(strings.Join(rows, "\n"), "alice") {
			t.Errorf("%dx%d alice: the rows repeat the subject:\n%s", sz.w, sz.h, strings.Join(rows, "\n"))
		}
		// (At 80 columns the users list leaves the rows 57 cells, LAT
		// among them: the name's start; at 120, all of it.)
		want := "rolebindings production/" + binding
		if sz.w < 100 {
			want = "rolebindings production/onc"
		}
		if !strings.Contains(strings.Join(rows, "\n"), want) {
			t.Errorf("%dx%d alice: the RoleBinding's name is cut:\n%s", sz.w, sz.h, strings.Join(rows, "\n"))
		}
		// bob: himself, as carol, and mallory as bob.
		rows = timelineOf("bob@corp.example")
		all := strings.Join(rows, "\n")
		// USER holds what differs (cut: an email keeps its start), the
		// object all it needs.
		wants := []string{"→ carol@", "mallory@cor… →", "rolebindings production/" + binding, "rolebindings staging/" + binding}
		if sz.w < 100 {
			wants = []string{"→ car", "mal… →", "rolebindings product", "rolebindings staging"}
		}
		for _, want := range wants {
			if !strings.Contains(all, want) {
				t.Errorf("%dx%d bob: %q missing:\n%s", sz.w, sz.h, want, all)
			}
		}
		if strings.Contains(all, "bob") {
			t.Errorf("%dx%d bob: the rows repeat the subject:\n%s", sz.w, sz.h, all)
		}
		// A service account: the pods stay, the account goes.
		rows = timelineOf("system:serviceaccount:prod:web")
		all = strings.Join(rows, "\n")
		wants = []string{"(pod web-7d9c-x2x7p)", "(pod web-7d9c-q8k2m)", "secrets prod/web-tls"}
		if sz.w < 100 {
			wants = []string{"(p…x7p)", "(p…k2m)", "secrets prod/web-tls"}
		}
		for _, want := range wants {
			if !strings.Contains(all, want) {
				t.Errorf("%dx%d sa: %q missing:\n%s", sz.w, sz.h, want, all)
			}
		}
		if strings.Contains(all, "sa:prod") {
			t.Errorf("%dx%d sa: the rows repeat the subject:\n%s", sz.w, sz.h, all)
		}
	}
}

// TestTimelineUserListWidth: the users list is as wide as its content
// needs (the counts as wide as the largest, the widest identity
// abbreviated), bounded: never narrower than its header, its identities
// at most a quarter of the screen and 4 cells (cut in the middle past
// that), so the timeline keeps the rest: at 80 and 120 columns the
// sample's list takes 27 and 37 cells (it took two fifths, 32 and 43);
// a list of short names takes its header's 15.
func TestTimelineUserListWidth(t *testing.T) {
	short := writeLines(t, "short.jsonl", []string{
		timelineEvent(1, "alice", "", "", "get", "pods", "payments", "api-0"),
		timelineEvent(2, "bob", "", "", "get", "pods", "payments", "api-1"),
	})
	for _, tc := range []struct {
		path string
		w, h int
		list int    // the list's width
		row  string // a user's row of the list
	}{
		{"testdata/events.jsonl", 80, 24, 27, " 6 sa:…eployment-controller"},
		{"testdata/events.jsonl", 120, 40, 37, " 6 sa:kube-sys…:deployment-controller"},
		{"testdata/identities.jsonl", 80, 24, 26, "3 node:ip-10-0-4-28       "},
		{short, 80, 24, 15, "1 alice        "},
		{short, 120, 40, 15, "1 bob          "},
	} {
		a := newTestAppFile(t, tc.path, tc.w, tc.h)
		send(t, a, "2")
		s := screen(a)
		checkScreen(t, s, tc.w, tc.h)
		found := false
		for _, l := range strings.Split(s, "\n")[1 : tc.h-2] {
			left, _, ok := strings.Cut(l, "│")
			if !ok || len([]rune(left)) != tc.list {
				t.Fatalf("%s %dx%d: the list is not %d cells wide: %q\n%s", tc.path, tc.w, tc.h, tc.list, l, s)
			}
			found = found || left == tc.row
		}
		if !found {
			t.Errorf("%s %dx%d: no row %q:\n%s", tc.path, tc.w, tc.h, tc.row, s)
		}
	}
}
