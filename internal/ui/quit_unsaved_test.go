package ui

import (
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
)

// TestQuitKeepsUnsavedBookmarksOneKeyLonger: bookmarks and notes made
// before a case is open live only in memory; q (or ctrl+c, or :q) lost
// them without a word. The first quit says what is not saved and how to
// keep it, a second one in a row quits; another key in between, and the
// next quit asks again. Nothing unsaved, a case open, or :q!, and quit is
// at once, and so where writing files is off (no case can keep them).
func TestQuitKeepsUnsavedBookmarksOneKeyLonger(t *testing.T) {
	t.Run("nothing to lose", func(t *testing.T) {
		a := newWorkbenchApp(t, 120, 40, Options{})
		send(t, a, "q")
		if !a.quitting {
			t.Fatal("q did not quit with nothing unsaved")
		}
	})
	t.Run("writing files is off", func(t *testing.T) {
		// audittui serve without a place to write: no case can keep
		// them, so nothing to offer; q quits.
		a := newTestApp(t, 120, 40)
		send(t, a, "m", "q")
		if !a.quitting {
			t.Fatalf("q did not quit where no case can be written:\n%s", screen(a))
		}
	})
	t.Run("a bookmark and a note", func(t *testing.T) {
		a := newWorkbenchApp(t, 120, 40, Options{})
		send(t, a, "m", ":")
		typeText(t, a, "note who ran this?")
		send(t, a, "enter", "q")
		s := screen(a)
		if a.quitting {
			t.Fatalf("q quit with a bookmark and a note in no case:\n%s", s)
		}
		for _, want := range []string{"q again quits", "1 bookmark", "1 note", ":case DIR"} {
			if !strings.Contains(s, want) {
				t.Errorf("the status does not say %q:\n%s", want, s)
			}
		}
		send(t, a, "j", "q")
		if a.quitting {
			t.Fatal("q quit after another key came between the two")
		}
		send(t, a, "q")
		if !a.quitting {
			t.Fatalf("q twice in a row did not quit:\n%s", screen(a))
		}
	})
	t.Run("ctrl+c twice", func(t *testing.T) {
		a := newWorkbenchApp(t, 80, 24, Options{})
		send(t, a, "m")
		ctrlC := tea.KeyPressMsg{Code: 'c', Mod: tea.ModCtrl}
		_, cmd := a.Update(ctrlC)
		runCmd(t, a, cmd)
		if s := screen(a); a.quitting || !strings.Contains(s, "again quits") {
			t.Fatalf("ctrl+c quit with a bookmark in no case (or said nothing):\n%s", s)
		}
		_, cmd = a.Update(ctrlC)
		runCmd(t, a, cmd)
		if !a.quitting {
			t.Fatal("ctrl+c twice did not quit")
		}
	})
	t.Run(":q! quits at once", func(t *testing.T) {
		a := newWorkbenchApp(t, 120, 40, Options{})
		send(t, a, "m", ":")
		typeText(t, a, "q!")
		send(t, a, "enter")
		if !a.quitting {
			t.Fatalf(":q! did not quit:\n%s", screen(a))
		}
	})
	t.Run("a case open", func(t *testing.T) {
		a := newWorkbenchApp(t, 120, 40, Options{})
		send(t, a, ":")
		typeText(t, a, "case "+t.TempDir())
		send(t, a, "enter", "m", "q")
		if !a.quitting {
			t.Fatalf("q did not quit with the bookmark in a case:\n%s", screen(a))
		}
	})
}
