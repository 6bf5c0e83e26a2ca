package ui

import (
	"charm.land/bubbles/v2/key"
)

// Action is what a key does. One table (Keymap.Bindings) maps keys to
// actions per scope; it drives both dispatch and the help overlay.
type Action int

// Actions.
const (
	ActNone Action = iota
	ActQuit
	ActHelp
	ActFilter
	ActCommand
	ActNextPane
	ActPrevPane
	ActPane1
	ActPane2
	ActPane3
	ActPane4
	ActPane5
	ActBack
	ActUp
	ActDown
	ActTop
	ActBottom
	ActPageUp
	ActPageDown
	ActOpen
	ActRejects
	// Tail.
	ActPause
	// Detail.
	ActCopy
	ActCopyCite
	ActFold
	ActFoldAll
	ActNextStage
	// Timeline.
	ActPivotImp
	ActPivotIP
	ActPivotUser
	ActFocusNext
	// Timeline and Alerts.
	ActFilterTo
	// The case (bookmarks.go) and the Timeline's brush (brush.go).
	ActMark
	ActMarks
	ActPrevMark
	ActNextMark
	ActBrushLeft
	ActBrushRight
	ActBrushMark
	ActZoomIn
	ActZoomOut
	// History (history.go).
	ActHistory
	ActHistStatus
	// Timeline: the people behind identities.
	ActPivotCred
	ActPivotPerson
	// Tail, Alerts, Stats, Detail: undo the last filter change (the
	// Timeline's u is a pivot: there, :undo; hints say which, undoHint).
	ActUndo
	// Detail and help: search inside; next and previous match.
	ActSearch
	ActSearchNext
	ActSearchPrev
	// Detail: wrap long values, or scroll sideways.
	ActWrap
	ActLeft
	ActRight
	// Alerts: silences (silences.go).
	ActSilence
	ActShowSilenced
	ActShowAllGroups
	ActEventUser
	// Detail: the record that carried the event, or the event.
	ActCarrier
	// Mouse capture on/off (off: the terminal selects text).
	ActMouse
)

// Scope says where a binding applies.
type Scope string

// Scopes: global bindings apply everywhere and are matched first.
const (
	ScopeGlobal   Scope = "global"
	ScopeTail     Scope = "tail"
	ScopeDetail   Scope = "detail"
	ScopeTimeline Scope = "timeline"
	ScopeAlerts   Scope = "alerts"
	ScopeStats    Scope = "stats"
	ScopeHistory  Scope = "history"
	// ScopeHelp applies while the help overlay is open.
	ScopeHelp Scope = "help"
)

// Binding ties a key.Binding to an action in a scope. An Override binding
// takes its key from the global set in its scope (`/` searches inside
// Detail and help instead of filtering, as in less); every other pane
// binding uses keys no global binding has (TestNoPaneBindingShadowsGlobal).
type Binding struct {
	Scope    Scope
	Action   Action
	Key      key.Binding
	Override bool
}

// Keymap is the one key table.
type Keymap struct {
	Bindings []Binding
}

func bind(scope Scope, act Action, help, desc string, keys ...string) Binding {
	return Binding{Scope: scope, Action: act, Key: key.NewBinding(key.WithKeys(keys...), key.WithHelp(help, desc))}
}

// override is bind for a key that replaces a global one in its scope.
func override(scope Scope, act Action, help, desc string, keys ...string) Binding {
	b := bind(scope, act, help, desc, keys...)
	b.Override = true
	return b
}

// DefaultKeymap returns the key table (k9s / less / vim habits).
func DefaultKeymap() *Keymap {
	return &Keymap{Bindings: []Binding{
		bind(ScopeGlobal, ActHelp, "?", "help: list every key", "?"),
		bind(ScopeGlobal, ActFilter, "/", "filter every pane (LogQL, or words to search; /! negates)", "/"),
		bind(ScopeGlobal, ActCommand, ":", "command (see commands below)", ":"),
		bind(ScopeGlobal, ActNextPane, "tab", "next pane", "tab"),
		bind(ScopeGlobal, ActPrevPane, "shift+tab", "previous pane", "shift+tab"),
		bind(ScopeGlobal, ActPane1, "1", "tail pane", "1"),
		bind(ScopeGlobal, ActPane2, "2", "timeline pane (from the Tail: the selected event's user, as U; tab: as left)", "2"),
		bind(ScopeGlobal, ActPane3, "3", "alerts pane", "3"),
		bind(ScopeGlobal, ActPane4, "4", "stats pane", "4"),
		bind(ScopeGlobal, ActPane5, "5", "detail pane", "5"),
		bind(ScopeGlobal, ActUp, "k/↑", "up", "k", "up"),
		bind(ScopeGlobal, ActDown, "j/↓", "down", "j", "down"),
		bind(ScopeGlobal, ActTop, "g/home", "top", "g", "home"),
		bind(ScopeGlobal, ActBottom, "G/end", "bottom (and follow)", "G", "end"),
		bind(ScopeGlobal, ActPageUp, "pgup/ctrl+b", "page up", "pgup", "ctrl+b"),
		bind(ScopeGlobal, ActPageDown, "pgdn/ctrl+f", "page down", "pgdown", "ctrl+f"),
		bind(ScopeGlobal, ActOpen, "enter", "open the event; on Alerts, Timeline and Stats rows: drill in", "enter"),
		bind(ScopeGlobal, ActBack, "esc", "back / close; on a list: clear the filter (:undo brings it back); then, in a Timeline opened from the Tail, back to it", "esc"),
		bind(ScopeGlobal, ActRejects, "R", "rejected lines (FILE:LINE first, reasons grouped; scrolls, / searches), duplicates, undated events", "R"),
		bind(ScopeGlobal, ActMark, "m", "bookmark the selected event (again: remove)", "m"),
		bind(ScopeGlobal, ActMarks, "'", "list bookmarks (enter opens)", "'"),
		bind(ScopeGlobal, ActPrevMark, "[", "previous bookmarked event", "["),
		bind(ScopeGlobal, ActNextMark, "]", "next bookmarked event", "]"),
		bind(ScopeGlobal, ActHistory, "h", "history of the event's object (on an alert: the objects it touched)", "h"),
		bind(ScopeGlobal, ActMouse, "F2", "mouse on/off (off: drag selects text to copy, the wheel scrolls the terminal; as lnav)", "f2"),
		bind(ScopeGlobal, ActQuit, "q/ctrl+c", "quit", "q", "ctrl+c"),

		bind(ScopeTail, ActPause, "space", "pause / resume following", "space"),
		bind(ScopeTail, ActEventUser, "U", "the selected event's user in the Timeline (what else did they do)", "U"),
		bind(ScopeTail, ActUndo, "u", "undo the last filter change (esc clears the filter)", "u"),

		override(ScopeDetail, ActSearch, "/", "search in this event (enter keeps it, esc drops it)", "/"),
		bind(ScopeDetail, ActSearchNext, "n", "next match", "n"),
		bind(ScopeDetail, ActSearchPrev, "N", "previous match", "N"),
		bind(ScopeDetail, ActWrap, "w", "wrap long values / one line each, scrolled sideways", "w"),
		bind(ScopeDetail, ActLeft, "←", "scroll left (when not wrapping; h is history)", "left"),
		bind(ScopeDetail, ActRight, "→", "scroll right (when not wrapping)", "right"),
		bind(ScopeDetail, ActEventUser, "U", "the event's user in the Timeline (what else did they do)", "U"),
		bind(ScopeDetail, ActCopy, "y", "copy the raw line (sent to the terminal clipboard, OSC 52: needs terminal support; in tmux set-clipboard on)", "y"),
		bind(ScopeDetail, ActCopyCite, "Y", "copy the citation: who verb what code time · FILE:LINE sha256 auditID (OSC 52)", "Y"),
		bind(ScopeDetail, ActFold, "z", "fold/unfold request & response objects", "z"),
		bind(ScopeDetail, ActNextStage, "s", "next stage of this auditID", "s"),
		bind(ScopeDetail, ActCarrier, "c", "carrier record: the record the event came in (CloudWatch, AKS, GKE, shipper) as JSON; again: the event", "c"),
		bind(ScopeDetail, ActUndo, "u", "undo the last filter change", "u"),

		bind(ScopeTimeline, ActFocusNext, "space", "switch list: users / events", "space"),
		bind(ScopeTimeline, ActPivotImp, "i", "pivot to impersonated user", "i"),
		bind(ScopeTimeline, ActPivotIP, "p", "pivot to source IP", "p"),
		bind(ScopeTimeline, ActPivotUser, "u", "pivot to the event's user (not undo here: :undo is)", "u"),
		bind(ScopeTimeline, ActPivotCred, "c", "pivot to the token's credential id", "c"),
		bind(ScopeTimeline, ActPivotPerson, "b", "pivot to the person behind the role (EKS session)", "b"),
		bind(ScopeTimeline, ActFilterTo, "f", "filter every pane to the subject's events", "f"),
		bind(ScopeTimeline, ActBrushLeft, "←/<", "histogram: cursor left (brush)", "left", "<"),
		bind(ScopeTimeline, ActBrushRight, "→/>", "histogram: cursor right (brush)", "right", ">"),
		bind(ScopeTimeline, ActBrushMark, "v", "histogram: start/drop a time selection", "v"),
		bind(ScopeTimeline, ActZoomIn, "+", "zoom the window in to the selection", "+", "="),
		bind(ScopeTimeline, ActZoomOut, "-", "zoom the window back out", "-"),

		bind(ScopeAlerts, ActFilterTo, "f", "filter every pane to the alert's events (of the group or instance, over its window)", "f"),
		bind(ScopeAlerts, ActSilence, "s", "silence / unsilence the selected group (:silence NOTE adds why; kept in the case)", "s"),
		bind(ScopeAlerts, ActShowSilenced, "S", "show / hide silenced groups (:silences lists them)", "S"),
		bind(ScopeAlerts, ActShowAllGroups, "A", "list every group / only those with events under the filter and window", "A"),
		bind(ScopeAlerts, ActUndo, "u", "undo the last filter change", "u"),

		bind(ScopeStats, ActUndo, "u", "undo the last filter change", "u"),

		bind(ScopeHistory, ActFilterTo, "f", "filter every pane to the object's events", "f"),
		bind(ScopeHistory, ActHistStatus, "s", "show / hide status in the diffs", "s"),

		override(ScopeHelp, ActSearch, "/", "search the help (esc clears the search)", "/"),
		override(ScopeHelp, ActBack, "esc/q/?", "close the help", "esc", "q", "?"),
	}}
}

// Lookup returns the action for a key string in scope: the scope's
// overrides first, then global bindings, then the scope's own.
func (k *Keymap) Lookup(scope Scope, keyStr string) (Action, bool) {
	for pass, s := range []Scope{scope, ScopeGlobal, scope} {
		for _, b := range k.Bindings {
			if b.Scope != s || !b.Key.Enabled() || (pass == 0) != b.Override {
				continue
			}
			for _, kk := range b.Key.Keys() {
				if kk == keyStr {
					return b.Action, true
				}
			}
		}
	}
	return ActNone, false
}

// KeysFor returns the keys that do act in scope (as Lookup resolves
// them: a key another binding takes first is left out), in table order.
func (k *Keymap) KeysFor(scope Scope, act Action) []string {
	var out []string
	for _, b := range k.Bindings {
		if b.Action != act || (b.Scope != scope && b.Scope != ScopeGlobal) {
			continue
		}
		for _, kk := range b.Key.Keys() {
			if got, ok := k.Lookup(scope, kk); ok && got == act {
				out = append(out, kk)
			}
		}
	}
	return out
}

// Scope returns the bindings of one scope, in table order.
func (k *Keymap) Scope(s Scope) []Binding {
	var out []Binding
	for _, b := range k.Bindings {
		if b.Scope == s {
			out = append(out, b)
		}
	}
	return out
}

// Scopes lists the scopes in help order.
func Scopes() []Scope {
	return []Scope{ScopeGlobal, ScopeTail, ScopeDetail, ScopeTimeline, ScopeAlerts, ScopeStats, ScopeHistory, ScopeHelp}
}
