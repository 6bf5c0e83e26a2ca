package e2e

import (
	"bytes"
	"fmt"
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
