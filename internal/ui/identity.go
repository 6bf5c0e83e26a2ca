package ui

import (
	"net/netip"
	"strings"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/termsafe"
)

// Identities in lists. Two things make a user column readable: the short
// form of the account name (ShortIdentity: sa:NS:NAME, node:HOST) and the
// person behind the account where the event records one (data.Identity:
// the EKS session behind a shared role, the pod a service-account token
// was issued to, the user an impersonator acts as). A row shows
//
//	sa:production:web (pod web-5d9c-x2x7p)
//	kubernetes-admin (alice@corp.example)
//	admin@corp.example → carol@corp.example
//
// and when that is too wide, both parts are cut in the middle (the person
// keeps at least half the room: on a shared account it is what tells rows
// apart). Filters, pivots and the Detail pane use the full values.

// The people behind identities (data.Identity): the index keeps the EKS
// role's ARN and session name and the service-account token's pod and
// credential id as columns, so lists show who is behind an account and
// the Timeline pivots to them without reading events back.
var (
	ColARN        = mustCol("userArn")
	ColSession    = mustCol("userSessionName")
	ColPod        = mustCol("userPodName")
	ColCredential = mustCol("userCredentialId")
)

// identityOf is the identity of index row i as far as the columns know it
// (no access key id or node: those are in the event, see Detail).
func identityOf(s *Snapshot, i int) data.Identity {
	return data.Identity{
		User:             s.Str(ColUser, i),
		ImpersonatedUser: s.Str(ColImpUser, i),
		ARN:              s.Str(ColARN, i),
		SessionName:      s.Str(ColSession, i),
		PodName:          s.Str(ColPod, i),
		CredentialID:     s.Str(ColCredential, i),
	}
}

// identityParts splits an identity for display: the account in its short
// form ("→ the impersonated user" after it), and the person behind it
// ("" when the event says nothing beyond the account). Untrusted text.
func identityParts(id data.Identity) (account, person string) {
	return identityPartsOf(id, "")
}

// identityPartsOf is identityParts in a list of user self's events (a
// Timeline's): the account is left out where it is self, which the title
// already names, and only what differs is shown: "→ bob" when self acted
// as bob, "alice →" when alice acted as self, "" when self acted as self.
// The person behind the account stays (the pod or session tells self's
// uses apart). self "" is identityParts.
func identityPartsOf(id data.Identity, self string) (account, person string) {
	if p := id.Person(); p != "" && p != id.User {
		person = p
	}
	switch {
	case self == "" || id.User != self && id.ImpersonatedUser != self:
		account = ShortIdentity(id.User)
		if account == "" {
			account = noUserLabel
		}
		if id.ImpersonatedUser != "" {
			account += " → " + ShortIdentity(id.ImpersonatedUser)
		}
	case id.User == self && id.ImpersonatedUser != "" && id.ImpersonatedUser != self:
		account = "→ " + ShortIdentity(id.ImpersonatedUser)
	case id.User != self:
		account = ShortIdentity(id.User) + " →"
	}
	return account, person
}

// userText is the text UserCell shows when it has room.
func userText(id data.Identity) string { return userTextOf(id, "") }

// userTextOf is userText in a list of user self's events.
func userTextOf(id data.Identity, self string) string {
	account, person := identityPartsOf(id, self)
	switch {
	case person == "":
		return account
	case account == "":
		return "(" + person + ")"
	}
	return account + " (" + person + ")"
}

// UserCell renders an identity in exactly w cells, sanitised: the short
// account and "(person)" when both fit; else both are cut (the account in
// the middle, the person as personCut says), the person keeping up to half
// the room (all it needs when the account is short); on a very narrow
// column the account alone. A token's pod gives way to its account: the
// account whole and what room is left to the pod, or the account alone.
func UserCell(id data.Identity, w int, base, esc lipgloss.Style) string {
	return userCellOf(id, "", w, base, esc)
}

// userCellOf is UserCell in a list of user self's events
// (identityPartsOf).
func userCellOf(id data.Identity, self string, w int, base, esc lipgloss.Style) string {
	account, person := identityPartsOf(id, self)
	if account == noUserLabel && person == "" && w < len(noUserLabel) {
		// Narrow: "(unauth)", else "-" (never "(…ed)").
		account = "(unauth)"
		if w < len(account) {
			account = "-"
		}
	}
	if person == "" {
		if self != "" && SafeWidth(account) > w && w > 3 {
			// "→ NAME" or "NAME →": the arrow stays whole, the name is
			// cut as a person's (an email keeps its start).
			if name, ok := strings.CutPrefix(account, "→ "); ok {
				return padCell(base.Render("→ ")+personCut(name, w-2, base, esc), w, base)
			}
			if name, ok := strings.CutSuffix(account, " →"); ok {
				return padCell(personCut(name, w-2, base, esc)+base.Render(" →"), w, base)
			}
		}
		return padCell(SafeMiddle(account, w, base, esc), w, base)
	}
	if account == "" {
		out := ""
		if w >= 3 {
			out = base.Render("(") + personCut(person, w-2, base, esc) + base.Render(")")
		}
		return padCell(out, w, base)
	}
	aw, pw := SafeWidth(account), SafeWidth(person)
	var out string
	switch {
	case aw+pw+3 <= w:
		out = SafeMiddle(account, aw, base, esc) + base.Render(" (") + SafeMiddle(person, pw, base, esc) + base.Render(")")
	case w < 16:
		out = SafeMiddle(account, w, base, esc)
	case strings.HasPrefix(person, "pod ") && aw+3+minPodCells > w:
		// A token's pod is one replica of the account's workload: the
		// account says who; it keeps the room rather than sharing it
		// (sa:…manager (pod…z-x2d2p) named neither).
		out = SafeMiddle(account, w, base, esc)
	case strings.HasPrefix(person, "pod "):
		out = SafeMiddle(account, aw, base, esc) + base.Render(" (") + personCut(person, w-3-aw, base, esc) + base.Render(")")
	default:
		room := w - 3 // " (" and ")"
		pRoom := min(pw, max(room/2, room-aw))
		out = SafeMiddle(account, room-pRoom, base, esc) + base.Render(" (") + personCut(person, pRoom, base, esc) + base.Render(")")
	}
	return padCell(out, w, base)
}

// minPodCells is the least room worth giving a token's pod beside its
// account.
const minPodCells = 10

// personCut renders the person behind an account in at most w cells: a
// name with an '@' (an email, an EKS session) keeps its start, where the
// person is named; a pod keeps its start and its end (the replica).
func personCut(person string, w int, base, esc lipgloss.Style) string {
	if strings.Contains(person, "@") && !strings.HasPrefix(person, "pod ") {
		return SafeText(person, w, base, esc)
	}
	return SafeMiddle(person, w, base, esc)
}

// padCell pads rendered text to w cells.
func padCell(out string, w int, base lipgloss.Style) string {
	if used := ansi.StringWidth(out); used < w {
		out += base.Render(strings.Repeat(" ", w-used))
	}
	return out
}

// personPivot is the column and value of the person behind an event's
// account: the EKS session name, else the role ARN ("" when neither).
func personPivot(s *Snapshot, i int) (Col, string) {
	if v := s.Str(ColSession, i); v != "" {
		return ColSession, v
	}
	return ColARN, s.Str(ColARN, i)
}

// Account names (user names) are shown compactly in lists: the prefixes that
// every controller, node and service account shares are abbreviated, so
// the part where two identities differ stays on screen, and a name still
// too long is cut in the middle (its start says what kind of identity it
// is, its end which one). Filters, pivots and the Detail pane always use
// the full name: this is display only.
//
//	system:serviceaccount:kube-system:deployment-controller -> sa:kube-system:deployment-controller
//	system:node:ip-10-0-4-28.ec2.internal                   -> node:ip-10-0-4-28
//
// identityRules is the one table of abbreviations; work that recognises
// more identity kinds (cloud IAM principals and the like) adds rows here.
var identityRules = []identityRule{
	{prefix: "system:serviceaccount:", short: "sa:"},
	{prefix: "system:node:", short: "node:", rest: nodeHost},
}

// identityRule abbreviates names starting with prefix to short followed by
// rest(what follows the prefix) (the remainder unchanged when rest is nil).
type identityRule struct {
	prefix, short string
	rest          func(string) string
}

// ShortIdentity returns the compact display form of a user name (the
// name itself when no rule applies). The result is untrusted text like
// the name: sanitise it to draw (IdentityCell does).
func ShortIdentity(name string) string {
	for _, r := range identityRules {
		if rest, ok := strings.CutPrefix(name, r.prefix); ok && rest != "" {
			if r.rest != nil {
				rest = r.rest(rest)
			}
			return r.short + rest
		}
	}
	return name
}

// nodeHost shortens a node's host name to its first DNS label
// (ip-10-0-4-28.ec2.internal -> ip-10-0-4-28); an IP address is kept whole.
func nodeHost(h string) string {
	if _, err := netip.ParseAddr(h); err == nil {
		return h
	}
	if i := strings.IndexByte(h, '.'); i > 0 {
		return h[:i]
	}
	return h
}

// noUserLabel stands for the empty user name (an unauthenticated request,
// a 401) in every pane: Tail, Timeline (its list and title) and Stats
// (review I 9). f on it in the Timeline filters user_username="".
const noUserLabel = "(unauthenticated)"

// userLabel is name, or noUserLabel for the empty name.
func userLabel(name string) string {
	if name == "" {
		return noUserLabel
	}
	return name
}

// IdentityWidth is the display width of ShortIdentity(name), sanitised.
func IdentityWidth(name string) int { return SafeWidth(ShortIdentity(name)) }

// IdentityCell renders a user name in exactly w cells: abbreviated, then
// cut in the middle when still too long, escapes styled apart.
func IdentityCell(name string, w int, base, esc lipgloss.Style) string {
	return padCell(SafeMiddle(ShortIdentity(name), w, base, esc), w, base)
}

// SafeMiddle renders untrusted text sanitised, cut in the middle to at
// most w cells when longer.
func SafeMiddle(text string, w int, base, esc lipgloss.Style) string {
	return renderSegments(cutMiddle(termsafe.Segments(text), w), base, esc)
}

// cutMiddle cuts segs to at most w cells by replacing their middle with
// "…": about a third of the room for the start, the rest for the end
// (where names of one kind differ). Escape tokens are never split and
// never dropped (cutSegments).
func cutMiddle(segs []termsafe.Segment, w int) []termsafe.Segment {
	return cutSegments(segs, w, middleHead)
}

// middleHead is how much of a name's ordinary text (textTotal cells, of
// which room fit) a middle cut keeps from the start. Names made of
// ':'-separated parts (sa:NAMESPACE:NAME, node:HOST,
// system:kube-scheduler) keep their kind (the first part) and as much of
// the end as fits, the last part whole when it fits; other names keep a
// third of the room for the start.
func middleHead(room, total int, text string) int {
	if room <= 0 {
		return 0
	}
	head := max(1, room/3)
	if i := strings.IndexByte(text, ':'); i >= 0 {
		first := ansi.StringWidth(text[:i])
		last := ansi.StringWidth(text[:strings.LastIndexByte(text, ':')])
		if first+1 <= room/2 {
			head = first + 1
		}
		if total-last <= room-head {
			head = room - (total - last)
		}
	}
	return head
}

func segWidth(segs []termsafe.Segment) int {
	n := 0
	for _, sg := range segs {
		n += ansi.StringWidth(sg.Text)
	}
	return n
}

// colons returns the cell offsets of the first and the last ':' outside
// escape tokens (-1, -1: none).
func colons(segs []termsafe.Segment) (first, last int) {
	first, last = -1, -1
	off := 0
	for _, sg := range segs {
		if !sg.Escape {
			if i := strings.IndexByte(sg.Text, ':'); i >= 0 && first < 0 {
				first = off + ansi.StringWidth(sg.Text[:i])
			}
			if i := strings.LastIndexByte(sg.Text, ':'); i >= 0 {
				last = off + ansi.StringWidth(sg.Text[:i])
			}
		}
		off += ansi.StringWidth(sg.Text)
	}
	return first, last
}
