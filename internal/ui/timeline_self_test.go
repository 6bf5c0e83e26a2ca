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
		// (At 80 columns the users list leaves the rows 47 cells: the
		// name's start; at 120, all of it.)
		want := "rolebindings production/" + binding
		if sz.w < 100 {
			want = "rolebindings production/onca"
		}
		if !strings.Contains(strings.Join(rows, "\n"), want) {
			t.Errorf("%dx%d alice: the RoleBinding's name is cut:\n%s", sz.w, sz.h, strings.Join(rows, "\n"))
		}
		// bob: himself, as carol, and mallory as bob.
		rows = timelineOf("bob@corp.example")
		all := strings.Join(rows, "\n")
		// USER holds what differs (cut: an email keeps its start), the
		// object all it needs.
		wants := []string{"→ carol@", "mallor… →", "rolebindings production/" + binding, "rolebindings staging/" + binding}
		if sz.w < 100 {
			wants = []string{"→ car", "mal… →", "rolebindings productio", "rolebindings staging/o"}
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
			wants = []string{"(po…2x7p)", "(po…8k2m)", "secrets prod/web-tls"}
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
