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
	// Alerts (tui-alerts).
	ActSilence
	ActShowSilenced
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
)

// Binding ties a key.Binding to an action in a scope.
type Binding struct {
	Scope  Scope
	Action Action
	Key    key.Binding
}

// Keymap is the one key table.
type Keymap struct {
	Bindings []Binding
}

func bind(scope Scope, act Action, help, desc string, keys ...string) Binding {
	return Binding{Scope: scope, Action: act, Key: key.NewBinding(key.WithKeys(keys...), key.WithHelp(help, desc))}
}

// DefaultKeymap returns the key table (k9s / less / vim habits).
func DefaultKeymap() *Keymap {
	return &Keymap{Bindings: []Binding{
		bind(ScopeGlobal, ActHelp, "?", "help: list every key", "?"),
		bind(ScopeGlobal, ActFilter, "/", "filter (LogQL; /! negates)", "/"),
		bind(ScopeGlobal, ActCommand, ":", "command (:user NAME, :since 1h, :q)", ":"),
		bind(ScopeGlobal, ActNextPane, "tab", "next pane", "tab"),
		bind(ScopeGlobal, ActPrevPane, "shift+tab", "previous pane", "shift+tab"),
		bind(ScopeGlobal, ActPane1, "1", "tail pane", "1"),
		bind(ScopeGlobal, ActPane2, "2", "timeline pane", "2"),
		bind(ScopeGlobal, ActPane3, "3", "alerts pane", "3"),
		bind(ScopeGlobal, ActPane4, "4", "stats pane", "4"),
		bind(ScopeGlobal, ActPane5, "5", "detail pane", "5"),
		bind(ScopeGlobal, ActUp, "k/↑", "up", "k", "up"),
		bind(ScopeGlobal, ActDown, "j/↓", "down", "j", "down"),
		bind(ScopeGlobal, ActTop, "g/home", "top", "g", "home"),
		bind(ScopeGlobal, ActBottom, "G/end", "bottom (and follow)", "G", "end"),
		bind(ScopeGlobal, ActPageUp, "pgup/ctrl+b", "page up", "pgup", "ctrl+b"),
		bind(ScopeGlobal, ActPageDown, "pgdn/ctrl+f", "page down", "pgdown", "ctrl+f"),
		bind(ScopeGlobal, ActOpen, "enter", "open / drill in", "enter"),
		bind(ScopeGlobal, ActBack, "esc", "back / close", "esc"),
		bind(ScopeGlobal, ActRejects, "R", "rejected lines and reasons", "R"),
		bind(ScopeGlobal, ActQuit, "q/ctrl+c", "quit", "q", "ctrl+c"),

		bind(ScopeTail, ActPause, "space", "pause / resume following", "space"),

		bind(ScopeDetail, ActCopy, "y", "copy raw line (OSC 52)", "y"),
		bind(ScopeDetail, ActFold, "z", "fold/unfold request & response objects", "z"),
		bind(ScopeDetail, ActNextStage, "s", "next stage of this auditID", "s"),

		bind(ScopeTimeline, ActFocusNext, "space", "switch list: users / events", "space"),
		bind(ScopeTimeline, ActPivotImp, "i", "pivot to impersonated user", "i"),
		bind(ScopeTimeline, ActPivotIP, "p", "pivot to source IP", "p"),
		bind(ScopeTimeline, ActPivotUser, "u", "pivot to the event's user", "u"),
		bind(ScopeTimeline, ActFilterTo, "f", "filter every pane to the subject's events", "f"),

		bind(ScopeAlerts, ActFilterTo, "f", "filter every pane to the selected group's or alert's events", "f"),
		// tui-alerts: silences.
		bind(ScopeAlerts, ActSilence, "s", "silence / unsilence the selected group (:silence NOTE)", "s"),
		bind(ScopeAlerts, ActShowSilenced, "S", "show / hide silenced groups (:silences lists them)", "S"),
	}}
}

// Lookup returns the action for a key string in scope: global bindings
// first, then the scope's own.
func (k *Keymap) Lookup(scope Scope, keyStr string) (Action, bool) {
	for _, s := range []Scope{ScopeGlobal, scope} {
		for _, b := range k.Bindings {
			if b.Scope != s || !b.Key.Enabled() {
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
	return []Scope{ScopeGlobal, ScopeTail, ScopeDetail, ScopeTimeline, ScopeAlerts, ScopeStats}
}
