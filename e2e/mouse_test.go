package e2e

import (
	"os/exec"
	"strings"
	"testing"
)

// mouseFlags is what tmux knows of the pane's mouse reporting (any,
// button-event tracking), as "any,button" with 0 or 1 each.
func (s *session) mouseFlags() string {
	out, err := exec.Command(s.tmux, "-S", s.sock, "display-message", "-p", "-t", s.name, "#{mouse_any_flag},#{mouse_button_flag}").Output()
	if err != nil {
		s.t.Fatalf("tmux display-message: %v", err)
	}
	return strings.TrimSpace(string(out))
}

// waitMouse polls the pane's mouse flags until they are want.
func (s *session) waitMouse(what, want string) {
	s.t.Helper()
	for range 200 {
		if s.mouseFlags() == want {
			return
		}
		s.waitFor(what, "") // a capture, as a short pause
	}
	s.t.Fatalf("%s: mouse flags %s, want %s", what, s.mouseFlags(), want)
}

// TestMouseToggle: F2 turns the TUI's mouse reporting off (the terminal
// selects text again, to copy a name) and on; the status bar says off.
func TestMouseToggle(t *testing.T) {
	s := startSample(t, 120, 40)
	s.waitMouse("mouse on at start", "1,1")
	s.keys("F2")
	s.waitFor("status", "mouse off: drag selects text to copy")
	s.waitMouse("F2: mouse off", "0,0")
	s.keys("j")
	s.waitFor("the state stays shown", "mouse off (F2)")
	s.keys("F2")
	s.waitFor("status", "mouse on: the wheel scrolls")
	s.waitMouse("F2 again: mouse on", "1,1")
	s.keys("q")
	s.waitFor("quit", "audittui-exit=0")
}
