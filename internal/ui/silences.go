package ui

import (
	"fmt"
	"sort"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/audittui/audittui/internal/casefile"
	"github.com/audittui/audittui/internal/policy/rules"
	"github.com/audittui/audittui/internal/termsafe"
)

// Silence hides one alert group (a rule and its grouping labels) for this
// investigation, as an Alertmanager silence would, without touching any
// server. Silences are kept as a list; each one added or removed is a
// record of the case (casefile.KindSilence, KindUnsilence: who, when,
// the group and why), so a report shows what was silenced, and reopening
// the case restores them (App.Silences, App.SetSilences).
type Silence struct {
	// Key is the group's key (rules.AlertGroup.Key): the rule's file and
	// line, its name and the grouping labels.
	Key string `json:"key"`
	// Rule is the alert name, Where the rule's file:line (or Loki's
	// namespace for a ruler group), Labels the grouping labels.
	Rule   string            `json:"rule"`
	Where  string            `json:"where"`
	Labels map[string]string `json:"labels"`
	// At is when it was silenced; Note why (may be empty).
	At   time.Time `json:"at"`
	Note string    `json:"note,omitempty"`
}

// Silenced reports whether the group with this key is silenced.
func (p *AlertsPane) Silenced(key string) bool {
	for _, s := range p.silences {
		if s.Key == key {
			return true
		}
	}
	return false
}

// Silences returns the silences, oldest first.
func (p *AlertsPane) Silences() []Silence {
	out := make([]Silence, len(p.silences))
	copy(out, p.silences)
	return out
}

// SetSilences replaces the silences (a restored case).
func (p *AlertsPane) SetSilences(ss []Silence) {
	p.silences = append([]Silence(nil), ss...)
	sort.SliceStable(p.silences, func(i, j int) bool { return p.silences[i].At.Before(p.silences[j].At) })
	p.silCursor = 0
	p.dirty = true
}

// Silence adds a silence of group g (nothing when already silenced).
func (p *AlertsPane) Silence(g *rules.AlertGroup, note string) {
	if g == nil || p.Silenced(g.Key) {
		return
	}
	ls := make(map[string]string, len(g.Labels))
	for k, v := range g.Labels {
		ls[k] = v
	}
	where := ""
	if g.Rule != nil {
		where = g.Rule.Where()
	}
	p.silences = append(p.silences, Silence{Key: g.Key, Rule: g.Name, Where: where, Labels: ls, At: p.now().UTC(), Note: note})
	p.dirty = true
}

// Unsilence removes the silence of the group with this key.
func (p *AlertsPane) Unsilence(key string) bool {
	for i, s := range p.silences {
		if s.Key == key {
			p.silences = append(p.silences[:i], p.silences[i+1:]...)
			p.silCursor = max(0, min(p.silCursor, len(p.silences)-1))
			p.dirty = true
			return true
		}
	}
	return false
}

// silenceSelected silences (or, when already silenced, unsilences) the
// group under the cursor; on a rule, every group of the rule. It returns
// what it did, for the status bar.
func (p *AlertsPane) silenceSelected(note string) string {
	it, ok := p.selected()
	if !ok {
		return "nothing to silence here"
	}
	var gs []*rules.AlertGroup
	switch {
	case it.group != nil:
		gs = []*rules.AlertGroup{it.group}
	case it.rule != nil:
		gs = p.visibleGroups(it.rule)
	default:
		return "nothing to silence here"
	}
	if len(gs) == 1 && p.Silenced(gs[0].Key) {
		p.Unsilence(gs[0].Key)
		return "unsilenced " + termsafe.String(gs[0].Name)
	}
	n := 0
	for _, g := range gs {
		if !p.Silenced(g.Key) {
			p.Silence(g, note)
			n++
		}
	}
	p.build()
	p.cursor = max(0, min(p.cursor, len(p.items)-1))
	return fmt.Sprintf("silenced %s of %s (S shows, :silences lists)", plural(n, "group", "groups"), termsafe.String(gs[0].Name))
}

// SilenceSelected silences the selected group with a note (:silence).
func (p *AlertsPane) SilenceSelected(note string) string { return p.silenceSelected(note) }

// OpenSilences shows the list of silences (:silences).
func (p *AlertsPane) OpenSilences() {
	p.listing = true
	p.silCursor = max(0, min(p.silCursor, len(p.silences)-1))
}

// Listing reports whether the :silences list is open.
func (p *AlertsPane) Listing() bool { return p.listing }

func (p *AlertsPane) listAction(a Action) (tea.Cmd, bool) {
	switch a {
	case ActUp:
		p.silCursor--
	case ActDown:
		p.silCursor++
	case ActTop:
		p.silCursor = 0
	case ActBottom:
		p.silCursor = len(p.silences) - 1
	case ActOpen, ActSilence:
		if p.silCursor >= 0 && p.silCursor < len(p.silences) {
			p.Unsilence(p.silences[p.silCursor].Key)
		}
	case ActBack:
		p.listing = false
		p.dirty = true
	default:
		return nil, false
	}
	p.silCursor = max(0, min(p.silCursor, len(p.silences)-1))
	return nil, true
}

// listView renders the :silences list.
func (p *AlertsPane) listView() string {
	st := p.c.Styles
	lines := []string{st.Bold.Render("Silences") + st.Muted.Render(fmt.Sprintf("  %s · enter unsilences · esc closes",
		plural(len(p.silences), "silenced group", "silenced groups")))}
	if len(p.silences) == 0 {
		lines = append(lines, st.Muted.Render("nothing is silenced (s on a group in the Alerts pane silences it)"))
		return fill(lines, p.h)
	}
	for i, s := range p.silences {
		if len(lines) >= p.h {
			break
		}
		// The note (why) before the labels, which are long: label values
		// as the groups show them, by label name.
		names := make([]string, 0, len(s.Labels))
		for n := range s.Labels {
			names = append(names, n)
		}
		sort.Strings(names)
		vals := make([]string, len(names))
		for k, n := range names {
			vals[k] = ShortIdentity(termsafe.String(s.Labels[n]))
		}
		line := s.At.In(p.c.Loc).Format("01-02 15:04") + "  " + termsafe.String(s.Rule)
		if s.Note != "" {
			line += "  “" + termsafe.String(s.Note) + "”"
		}
		line = truncateANSI(line+"  "+strings.Join(vals, " · "), p.w)
		if i == p.silCursor {
			line = st.Selected.Render(pad(line, p.w))
		}
		lines = append(lines, line)
	}
	return fill(lines, p.h)
}

// UnsilenceSelected removes the silence of the selected group
// (:unsilence).
func (p *AlertsPane) UnsilenceSelected() string {
	it, ok := p.selected()
	if !ok || it.group == nil {
		if p.listing && p.silCursor < len(p.silences) {
			s := p.silences[p.silCursor]
			p.Unsilence(s.Key)
			return "unsilenced " + termsafe.String(s.Rule)
		}
		return "select a silenced group (S shows them) or use :silences"
	}
	if p.Unsilence(it.group.Key) {
		return "unsilenced " + termsafe.String(it.group.Name)
	}
	return "this group is not silenced"
}

// silenceKeys returns the silences by group key (what an action changed
// is the difference of two of these).
func (p *AlertsPane) silenceKeys() map[string]Silence {
	m := make(map[string]Silence, len(p.silences))
	for _, s := range p.silences {
		m[s.Key] = s
	}
	return m
}

// silenceCommand runs :silence NOTE, :unsilence and :silences.
func (a *App) silenceCommand(cmd command) tea.Cmd {
	if cmd.name == "silences" {
		a.setFocus(paneAlerts)
		a.alerts.OpenSilences()
		return nil
	}
	if a.focus != paneAlerts {
		a.setFocus(paneAlerts)
		return func() tea.Msg { return statusMsg("select a group, then :" + cmd.name) }
	}
	var msg string
	if cmd.name == "unsilence" {
		msg = a.alerts.UnsilenceSelected()
	} else {
		msg = a.alerts.SilenceSelected(cmd.arg)
	}
	return func() tea.Msg { return statusMsg(msg) }
}

// recordSilenceChanges records in the case the silences added and
// removed since before, besides cmd (the records carry no status: the
// pane's own message stays in the status bar).
func (a *App) recordSilenceChanges(before map[string]Silence, cmd tea.Cmd) tea.Cmd {
	var recs []casefile.Record
	after := a.alerts.silenceKeys()
	for _, s := range a.alerts.silences {
		if _, ok := before[s.Key]; !ok {
			recs = append(recs, casefile.Record{Kind: casefile.KindSilence, Silence: caseSilence(s)})
		}
	}
	for _, s := range sortedSilences(before) {
		if _, ok := after[s.Key]; !ok {
			if r, ok := a.unsilenceRecord(s.Key); ok {
				recs = append(recs, r)
			}
		}
	}
	if len(recs) == 0 {
		return cmd
	}
	return tea.Batch(cmd, a.record(recs, -1, "", ""))
}

func sortedSilences(m map[string]Silence) []Silence {
	out := make([]Silence, 0, len(m))
	for _, s := range m {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

// caseSilence is a pane silence as the case keeps it.
func caseSilence(s Silence) *casefile.Silence {
	ls := make(map[string]string, len(s.Labels))
	for k, v := range s.Labels {
		ls[k] = v
	}
	return &casefile.Silence{Group: s.Key, Rule: s.Rule, Labels: ls, Note: s.Note}
}

// unsilenceRecord is the record that removes the case's silences of a
// group (false: the case holds none).
func (a *App) unsilenceRecord(group string) (casefile.Record, bool) {
	var ids []string
	for _, r := range a.c.Marks.st.Silences {
		if r.Silence.Group == group {
			ids = append(ids, r.ID)
		}
	}
	if len(ids) == 0 {
		return casefile.Record{}, false
	}
	return casefile.Record{Kind: casefile.KindUnsilence, Refs: ids, Silence: &casefile.Silence{Group: group}}, true
}

// restoreSilences adds the case's active silences to the pane's (a case
// opened or reopened): the silences are the union of both.
func (a *App) restoreSilences(st *casefile.State) {
	ss := a.alerts.Silences()
	have := a.alerts.silenceKeys()
	for _, r := range st.Silences {
		if r.Silence == nil {
			continue
		}
		if _, ok := have[r.Silence.Group]; ok {
			continue
		}
		have[r.Silence.Group] = Silence{}
		ss = append(ss, Silence{Key: r.Silence.Group, Rule: r.Silence.Rule, Labels: r.Silence.Labels, At: r.Time.UTC(), Note: r.Silence.Note})
	}
	a.alerts.SetSilences(ss)
}

// Silences returns the alert groups silenced in this investigation.
func (a *App) Silences() []Silence { return a.alerts.Silences() }

// SetSilences replaces the silences (they are not recorded in the case:
// the keys and commands that silence record themselves).
func (a *App) SetSilences(ss []Silence) { a.alerts.SetSilences(ss) }
