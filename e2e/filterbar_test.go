package e2e

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

// TestSearchSeveralWords: words typed after / are each searched, all of
// them required (the on-call question "who exec'd in kube-system" typed
// as it is said); the filter line shows the LogQL they became; a quoted
// phrase is one search.
func TestSearchSeveralWords(t *testing.T) {
	lines, _ := sampleLines(t)
	both := 0
	for _, l := range lines {
		if bytes.Contains(l, []byte("kube-system")) && bytes.Contains(l, []byte("exec")) {
			both++
		}
	}
	if both == 0 {
		t.Fatal("no sample line has both kube-system and exec")
	}
	s := startSample(t, 80, 24)
	s.keys("/")
	s.waitGone("filter bar opens", "no filter ·")
	s.text("kube-system exec")
	s.waitFor("hint", `enter: search the events' text for "kube-system" and "exec"`)
	s.keys("Enter")
	s.waitFor("both words", fmt.Sprintf("matching %s", thousands(both)), `filter |= "kube-system" |= "exec"`)
	s.keys("/", "C-u")
	s.text(`"kube-system exec"`)
	s.keys("Enter")
	s.waitFor("phrase", "matching 0 ", `filter |= "kube-system exec"`)
	s.keys("q")
	s.waitFor("quit", "audittui-exit=0")
}

// TestFilterBarReplacesTheFilter: / with a filter in use opens with it
// selected, so what is typed replaces it (it was appended, and failed to
// parse); after an error ctrl+u clears the whole line, as k9s users expect.
func TestFilterBarReplacesTheFilter(t *testing.T) {
	s := startSample(t, 80, 24)
	s.keys("/")
	s.waitGone("filter bar opens", "no filter ·")
	s.text("coredns")
	s.keys("Enter")
	s.waitFor("word search", `filter |= "coredns"`)
	s.keys("/")
	s.waitFor("reopened, selected", `/|= "coredns"`, "typing replaces the filter")
	s.text(`objectRef_resorce="secrets"`)
	s.keys("Enter")
	scr := s.waitFor("did you mean", "did you mean objectRef_resource?", `/objectRef_resorce="secrets"`)
	if strings.Contains(scr, `coredns"objectRef`) {
		t.Fatalf("typed text was appended to the old filter:\n%s", scr)
	}
	s.keys("C-u")
	s.waitGone("ctrl+u clears the line", "objectRef_resorce")
	s.text(`verb="delete"`)
	s.keys("Enter")
	s.waitFor("new filter", `filter verb="delete"`)
	s.keys("q")
	s.waitFor("quit", "audittui-exit=0")
}

// TestTabCompletion: tab completes a command, then :user's name, as k9s's
// prompt does (the rest shown greyed first); in the filter bar, a label
// name inside the stream selector and its value, then a field name.
func TestTabCompletion(t *testing.T) {
	const user = "suspicious-user"
	_, users := sampleLines(t)
	if users[user] == 0 {
		t.Fatalf("the sample has no %s", user)
	}
	s := startSample(t, 120, 40)
	s.keys(":")
	s.waitGone("command line opens", "no filter ·")
	s.text("us")
	s.waitFor("ghost", ":user", "tab: user")
	s.keys("Tab")
	s.text("suspic")
	s.keys("Tab")
	s.waitFor("user completed", ":"+"user "+user)
	s.keys("Enter")
	s.waitFor("timeline", "USERS BY EVENTS", fmt.Sprintf("user %s  %d events", user, users[user]))
	s.keys("/")
	s.waitFor("filter bar opens", "/")
	s.text("{jo")
	s.keys("Tab")
	s.text(`="`)
	s.keys("Tab")
	s.text("} | json | objectRef_resou")
	s.keys("Tab")
	s.text(`="secrets"`)
	s.waitFor("completed", `/{job="audit"} | json | objectRef_resource="secrets"`)
	s.keys("Enter")
	s.waitFor("filtered", `filter {job="audit"} | json | objectRef_resource="secrets"`)
	s.keys("q")
	s.waitFor("quit", "audittui-exit=0")
}
