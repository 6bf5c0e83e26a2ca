package ui

import "testing"

func TestNoPaneBindingShadowsGlobal(t *testing.T) {
	km := DefaultKeymap()
	global := map[string]Action{}
	for _, b := range km.Scope(ScopeGlobal) {
		for _, k := range b.Key.Keys() {
			if _, dup := global[k]; dup {
				t.Errorf("global key %q bound twice", k)
			}
			global[k] = b.Action
		}
	}
	for _, s := range Scopes()[1:] {
		seen := map[string]bool{}
		for _, b := range km.Scope(s) {
			for _, k := range b.Key.Keys() {
				if _, ok := global[k]; ok && !b.Override {
					t.Errorf("%s binding %q shadows a global binding", s, k)
				}
				if _, ok := global[k]; !ok && b.Override {
					t.Errorf("%s binding %q is marked Override but overrides nothing", s, k)
				}
				if seen[k] {
					t.Errorf("%s key %q bound twice", s, k)
				}
				seen[k] = true
			}
		}
	}
}

func TestLookup(t *testing.T) {
	km := DefaultKeymap()
	tests := []struct {
		scope Scope
		key   string
		want  Action
		ok    bool
	}{
		{ScopeTail, "q", ActQuit, true},
		{ScopeTail, "space", ActPause, true},
		{ScopeTimeline, "space", ActFocusNext, true},
		{ScopeDetail, "y", ActCopy, true},
		{ScopeTail, "y", ActNone, false},
		{ScopeStats, "pgdown", ActPageDown, true},
		// Overrides win in their scope only.
		{ScopeDetail, "/", ActSearch, true},
		{ScopeTail, "/", ActFilter, true},
		{ScopeHelp, "q", ActBack, true},
		{ScopeTail, "q", ActQuit, true},
		{ScopeTimeline, "u", ActPivotUser, true},
		{ScopeTail, "u", ActUndo, true},
	}
	for _, tt := range tests {
		got, ok := km.Lookup(tt.scope, tt.key)
		if got != tt.want || ok != tt.ok {
			t.Errorf("Lookup(%s, %q) = %v,%v want %v,%v", tt.scope, tt.key, got, ok, tt.want, tt.ok)
		}
	}
	// Every binding has help text, so the help overlay lists every key.
	for _, b := range km.Bindings {
		if h := b.Key.Help(); h.Key == "" || h.Desc == "" {
			t.Errorf("binding %v in %s has no help", b.Key.Keys(), b.Scope)
		}
	}
}
