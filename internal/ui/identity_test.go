package ui

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/audittui/audittui/internal/data"
)

func TestShortIdentity(t *testing.T) {
	tests := []struct{ in, want string }{
		{"system:serviceaccount:kube-system:deployment-controller", "sa:kube-system:deployment-controller"},
		{"system:serviceaccount:monitoring:prometheus-k8s", "sa:monitoring:prometheus-k8s"},
		{"system:node:ip-10-0-4-28.ec2.internal", "node:ip-10-0-4-28"},
		{"system:node:gke-prod-default-pool-1a2b3c4d-x7k2.c.proj.internal", "node:gke-prod-default-pool-1a2b3c4d-x7k2"},
		{"system:node:10.0.9.12", "node:10.0.9.12"}, // an address stays whole
		{"system:node:fd00::12", "node:fd00::12"},
		{"system:node:", "system:node:"}, // nothing after the prefix: unchanged
		{"system:anonymous", "system:anonymous"},
		{"system:kube-controller-manager", "system:kube-controller-manager"},
		{"alice@corp.example", "alice@corp.example"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := ShortIdentity(tt.in); got != tt.want {
			t.Errorf("ShortIdentity(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestIdentityCellCutsInTheMiddle(t *testing.T) {
	plain := lipgloss.NewStyle()
	tests := []struct {
		name string
		w    int
		want string
	}{
		{"system:serviceaccount:kube-system:deployment-controller", 40, "sa:kube-system:deployment-controller    "},
		// The kind (first ':' part) stays, and the last part whole when
		// it fits beside it, else as much of the end as fits.
		{"system:serviceaccount:kube-system:deployment-controller", 30, "sa:kube…:deployment-controller"},
		{"system:serviceaccount:kube-system:deployment-controller", 25, "sa:…deployment-controller"},
		{"system:serviceaccount:kube-system:deployment-controller", 16, "sa:…t-controller"},
		{"system:node:ip-10-0-1-219.ec2.internal", 18, "node:ip-10-0-1-219"},
		{"system:node:ip-10-0-1-219.ec2.internal", 17, "node:…-10-0-1-219"},
		{"system:kube-scheduler", 17, "system:…scheduler"},
		// Other names: a third of the room for the start, the rest for
		// the end.
		{"carol.longname@corp.example.com", 16, "carol…xample.com"},
		// An escape token is never split nor dropped: ordinary text
		// goes first; a token that would take over half the cell is
		// the one-cell glyph (review I 2).
		{"mallory\u202egnp.exe.and.more", 14, "mall…¤and.more"},
		{"mallory\u202egnp.exe.and.more", 30, "mallory<U+202E>…p.exe.and.more"},
		{"ali\u200bce@corp.example", 25, "ali<U+200B>ce…orp.example"},
		{"ali\u200bce@corp.example", 18, "ali<U+200B>…xample"},
		{"ali\u200bce@corp.example", 14, "ali¤c….example"},
		{"a\u200bb", 1, "¤"},
		{"abc", 1, "…"},
	}
	for _, tt := range tests {
		got := IdentityCell(tt.name, tt.w, plain, plain)
		if got != tt.want {
			t.Errorf("IdentityCell(%q, %d) = %q, want %q", tt.name, tt.w, got, tt.want)
		}
		if w := ansi.StringWidth(got); w != tt.w {
			t.Errorf("IdentityCell(%q, %d) is %d cells", tt.name, tt.w, w)
		}
	}
	// Every width of a hostile name: never wider, never a split token.
	name := "system:serviceaccount:ns\x1b[2J:na\u202eme\x07-x"
	for w := 1; w < 50; w++ {
		got := IdentityCell(name, w, plain, plain)
		if ansi.StringWidth(got) != w {
			t.Fatalf("width %d: %q is %d cells", w, got, ansi.StringWidth(got))
		}
		for _, bad := range []string{"\x1b", "\u202e", "\x07"} {
			if strings.Contains(got, bad) {
				t.Fatalf("width %d: raw %q in %q", w, bad, got)
			}
		}
		if !wholeTokens.MatchString(got) {
			t.Fatalf("width %d: a token is split in %q", w, got)
		}
	}
}

// wholeTokens matches text whose escape tokens are all whole.
var wholeTokens = regexp.MustCompile(`^([^\\<]|\\x[0-9a-f]{2}|<U\+[0-9A-F]{4,}>)*$`)

// TestIdentitiesReadable: at 80x24 and 120x40, service accounts and
// nodes are told apart on Tail and Timeline (golden), and USER gets its
// width before the object column.
func TestGoldenIdentities(t *testing.T) {
	for _, sz := range sizes {
		a := newTestAppFile(t, "testdata/identities.jsonl", sz.w, sz.h)
		s := screen(a)
		checkScreen(t, s, sz.w, sz.h)
		golden(t, fmt.Sprintf("identities_tail_%dx%d.txt", sz.w, sz.h), s)
		for _, want := range []string{"deployment-controller", "replicaset-controller", "node:ip-10-0-4-28", "node:10.0.9.12", "/healthz", "/metrics", "/livez"} {
			if !strings.Contains(s, want) {
				t.Errorf("%dx%d tail does not show %q:\n%s", sz.w, sz.h, want, s)
			}
		}
		// The Timeline, on the busiest node, then on a service account.
		send(t, a, "tab") // the list's first user (2: the Tail event's)
		s = screen(a)
		checkScreen(t, s, sz.w, sz.h)
		golden(t, fmt.Sprintf("identities_timeline_node_%dx%d.txt", sz.w, sz.h), s)
		if _, v := a.tl.Subject(); v != "system:node:ip-10-0-4-28.ec2.internal" {
			t.Fatalf("timeline subject %q", v)
		}
		send(t, a, "j", "j")
		s = screen(a)
		checkScreen(t, s, sz.w, sz.h)
		golden(t, fmt.Sprintf("identities_timeline_sa_%dx%d.txt", sz.w, sz.h), s)
		if _, v := a.tl.Subject(); !strings.HasPrefix(v, "system:serviceaccount:") {
			t.Fatalf("timeline subject %q", v)
		}
		// Filters and pivots use the full name.
		f, ok := a.tl.SubjectFilter()
		if !ok || !strings.Contains(f.Text, `"system:serviceaccount:kube-system:`) {
			t.Fatalf("subject filter %+v", f)
		}
	}
}

// TestNarrowScreens: at 60x20 every pane fits and the column headers stay
// readable (no column title collapses to "…").
func TestNarrowScreens(t *testing.T) {
	for _, fixture := range []string{"testdata/events.jsonl", "testdata/identities.jsonl"} {
		a := newTestAppFile(t, fixture, 60, 20)
		for _, pane := range []string{"1", "2", "3", "4"} {
			send(t, a, pane)
			s := screen(a)
			checkScreen(t, s, 60, 20)
			for _, l := range strings.Split(s, "\n") {
				if k := strings.LastIndex(l, "│"); k >= 0 {
					l = l[k:] // the Timeline's event list
				}
				if strings.Contains(l, "TIME ") && strings.Contains(l, "…") {
					t.Errorf("%s pane %s: header cut: %q", fixture, pane, l)
				}
			}
		}
		send(t, a, "1")
		if s := screen(a); !strings.Contains(s, "TIME") || !strings.Contains(s, "USER") || !strings.Contains(s, "VERB") {
			t.Errorf("tail header at 60x20:\n%s", s)
		}
	}
}

func TestRowLayoutGivesUserWidthFirst(t *testing.T) {
	tf := newTimeFormat(0, 0, nil)
	for _, w := range []int{40, 60, 80, 120, 200} {
		for _, need := range []int{5, 20, 36, 60} {
			l := newRowLayout(w, need, tf)
			total := l.time + 1 + l.user + 1 + l.verb + 1 + l.object
			if l.code > 0 {
				total += 1 + l.code
			}
			if l.lat > 0 {
				total += 1 + l.lat
			}
			if total != w && w >= 60 {
				t.Errorf("w=%d need=%d: columns add up to %d: %+v", w, need, total, l)
			}
			if w >= 120 && l.user < min(need, maxUserNeed) {
				t.Errorf("w=%d need=%d: USER %d cells while the object has %d", w, need, l.user, l.object)
			}
		}
	}
	if l := newRowLayout(200, 36, tf); l.user != 36 {
		t.Errorf("at 200 columns USER is %d cells, want the 36 it needs", l.user)
	}
}

// TestUserCell: rows show the account in its short form and the person
// behind it; when both do not fit, each is cut in the middle, the person
// keeping up to half the room; on a very narrow column the account alone.
func TestUserCell(t *testing.T) {
	plain := lipgloss.NewStyle()
	sa := data.Identity{User: "system:serviceaccount:production:web-frontend", PodName: "web-frontend-7d9c5b6f4-x2x7p"}
	eks := data.Identity{User: "kubernetes-admin", SessionName: "alice@corp.example", ARN: "arn:aws:sts::111122223333:assumed-role/EKSClusterAdmin/alice@corp.example"}
	imp := data.Identity{User: "admin@corp.example", ImpersonatedUser: "system:serviceaccount:payments:deployer"}
	tests := []struct {
		id   data.Identity
		w    int
		want string
	}{
		{sa, 62, "sa:production:web-frontend (pod web-frontend-7d9c5b6f4-x2x7p)"},
		{sa, 60, "sa:production:web-frontend (pod web-fr…tend-7d9c5b6f4-x2x7p)"},
		// A token's pod gives way to its account: the account whole, the
		// rest to the pod, or the account alone.
		{sa, 40, "sa:production:web-frontend (pod…4-x2x7p)"},
		{sa, 30, "sa:production:web-frontend"},
		{sa, 25, "sa:producti…:web-frontend"},
		{sa, 15, "sa:…eb-frontend"},
		{eks, 40, "kubernetes-admin (alice@corp.example)   "},
		// An email keeps its start: the person's name.
		{eks, 30, "kube…tes-admin (alice@corp.e…)"},
		{imp, 40, "admin@corp.example → sa:paymen…:deployer"},
		// The empty user (a 401): one label everywhere (review I 9).
		{data.Identity{}, 5, "-    "},
		{data.Identity{}, 10, "(unauth)  "},
		{data.Identity{}, 20, "(unauthenticated)   "},
		// The person is the account: shown once.
		{data.Identity{User: "alice", SessionName: "alice"}, 10, "alice     "},
	}
	for _, tt := range tests {
		got := UserCell(tt.id, tt.w, plain, plain)
		if ansi.StringWidth(got) != tt.w {
			t.Errorf("UserCell(%+v, %d) = %q is %d cells", tt.id, tt.w, got, ansi.StringWidth(got))
		}
		if strings.TrimRight(got, " ") != strings.TrimRight(tt.want, " ") {
			t.Errorf("UserCell(%+v, %d) = %q, want %q", tt.id, tt.w, got, tt.want)
		}
	}
	// Every width of a hostile identity: never wider, never raw.
	bad := data.Identity{User: "system:serviceaccount:ns\x1b[2J:na\u202eme", PodName: "p\x07od-\x1b]0;x", ImpersonatedUser: "e\u202evil"}
	for w := 1; w < 70; w++ {
		got := UserCell(bad, w, plain, plain)
		if ansi.StringWidth(got) != w {
			t.Fatalf("width %d: %q is %d cells", w, got, ansi.StringWidth(got))
		}
		for _, raw := range []string{"\x1b", "\u202e", "\x07"} {
			if strings.Contains(got, raw) {
				t.Fatalf("width %d: raw %q in %q", w, raw, got)
			}
		}
	}
}

// TestGoldenPeopleBehindIdentities: at 80x24 and 120x40 the Tail shows
// each account in its short form with the person behind it (an EKS
// role's session, a service-account token's pod when room is left, an
// impersonated user).
func TestGoldenPeopleBehindIdentities(t *testing.T) {
	for _, sz := range sizes {
		a := newAppOn(t, "../../testdata/identities/identities.jsonl", sz.w, sz.h)
		s := screen(a)
		checkScreen(t, s, sz.w, sz.h)
		golden(t, fmt.Sprintf("identities_people_tail_%dx%d.txt", sz.w, sz.h), s)
		// A token's pod gives way to its account: the account whole, and
		// the pod when room is left.
		want := []string{"kubernetes-admin (alice@corp.example)", "kubernetes-admin (bob@corp.example)", "sa:production:web-frontend (pod we", "admin@corp.example → carol@corp.example"}
		if sz.w < 100 {
			want = []string{"(alice@corp", "(bob@corp", "sa:producti…:web-frontend", "admin@co"}
		}
		for _, want := range want {
			if !strings.Contains(s, want) {
				t.Errorf("%dx%d: the Tail does not show %q:\n%s", sz.w, sz.h, want, s)
			}
		}
		if strings.Contains(s, "system:serviceaccount:") {
			t.Errorf("%dx%d: a service account in its long form:\n%s", sz.w, sz.h, s)
		}
	}
}
