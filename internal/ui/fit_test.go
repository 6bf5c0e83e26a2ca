package ui

import (
	"strings"
	"testing"
)

// TestFilteredColumnsFitTheMatches: once a filter narrows the rows, USER
// is only as wide as their identities need and the object gets the rest:
// on the sample (whose long service-account names widen USER), the
// deleted RoleBindings' names show whole at 100 columns, and the columns
// do not move while scrolling.
func TestFilteredColumnsFitTheMatches(t *testing.T) {
	a := newTestAppFile(t, "../../testdata/sample/audit.log", 100, 30)
	send(t, a, "/")
	typeText(t, a, `verb="delete" objectRef_resource="rolebindings"`)
	send(t, a, "enter")
	s := screen(a)
	for _, name := range []string{"production/oncall-debug", "kube-system/oncall-debug"} {
		if !strings.Contains(s, name) {
			t.Fatalf("%s is cut:\n%s", name, s)
		}
	}
	head := strings.Split(s, "\n")[1]
	send(t, a, "k", "k")
	if got := strings.Split(screen(a), "\n")[1]; got != head {
		t.Fatalf("the header moved while scrolling:\n%s\n%s", head, got)
	}
	send(t, a, "esc")
	if s := screen(a); strings.Split(s, "\n")[1] == head {
		t.Fatalf("without the filter the columns still fit the filtered rows:\n%s", s)
	}
}

// TestTimelineColumnsFollowTheSubject: the Timeline's event list fits USER
// to its subject's identities, measured again for each subject (the list
// is rebuilt in place): a short name after a long one gets the object its
// room back, and a long one after a short one is not cut to the short
// one's width.
func TestTimelineColumnsFollowTheSubject(t *testing.T) {
	a := newTestAppFile(t, "../../testdata/sample/audit.log", 120, 40)
	s := a.c.Snap
	long, short := -1, -1
	for i := range s.Len() {
		w := SafeWidth(userText(identityOf(s, i)))
		if long < 0 && w >= 30 {
			long = i
		}
		if short < 0 && w <= 16 && w > 0 {
			short = i
		}
	}
	if long < 0 || short < 0 {
		t.Fatal("no long and short identities in the sample")
	}
	evLong, evShort := []int{long}, []int{short}
	lw := a.c.rowLayoutOf(120, evLong, "").user
	sw := a.c.rowLayoutOf(120, evShort, "").user
	// The same backing array, another subject.
	reused := evLong[:1]
	reused[0] = short
	if got := a.c.rowLayoutOf(120, reused, "").user; got != sw || lw <= sw {
		t.Fatalf("USER widths: long subject %d, short %d, short in the long one's list %d", lw, sw, got)
	}
}

// TestObjectNeedLeavesRoomToUser: when the objects to show are short
// (paths such as /readyz), USER gets the room they leave; when they are
// long, the object keeps its share.
func TestObjectNeedLeavesRoomToUser(t *testing.T) {
	tf := newTimeFormat(0, 0, nil)
	base := newRowLayoutFit(46, 30, 0, tf)
	short := newRowLayoutFit(46, 30, 7, tf)
	long := newRowLayoutFit(46, 30, 60, tf)
	if short.user <= base.user || short.object < len("OBJECT") || long.user != base.user {
		t.Fatalf("USER/object: unknown objects %d/%d, short %d/%d, long %d/%d", base.user, base.object, short.user, short.object, long.user, long.object)
	}
	for _, l := range []rowLayout{base, short, long} {
		seps := 3 // between TIME, USER, VERB and the object
		for _, c := range []int{l.code, l.lat} {
			if c > 0 {
				seps++
			}
		}
		if l.time+l.user+l.verb+l.object+l.code+l.lat+seps > 46 {
			t.Fatalf("wider than the screen: %+v", l)
		}
	}
}
