package cmdutil

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// TestMessagesSayOneAndMany: the counts in what the commands say take the
// noun (and verb) their number takes: "1 input line rejected", "1 event
// without a timestamp ... was left out", "1 rule selects", never "(s)"
// (review M 14).
func TestMessagesSayOneAndMany(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{UndatedMessage(1, "a.log:3", "was left out", "were left out"), "1 event without a timestamp was left out (the first: a.log:3)"},
		{UndatedMessage(2, "", "was left out", "were left out"), "2 events without a timestamp were left out"},
		{OthersMessage(1, "matching event", "matching events", "printed"), "1 matching event has the auditID"},
		{OthersMessage(3, "matching event", "matching events", "printed"), "3 matching events have the auditID"},
		{RuleMissError(make([]RuleMiss, 1)).Error(), "1 rule selects no stream of the sources"},
		{RuleMissError(make([]RuleMiss, 2)).Error(), "2 rules select no stream of the sources"},
	} {
		if !strings.HasPrefix(c.got, c.want) || strings.Contains(c.got, "(s)") {
			t.Errorf("%q, want it to start %q", c.got, c.want)
		}
	}
	if !strings.Contains(OthersMessage(1, "matching event", "matching events", "printed"), ": not a duplicate, so both") {
		t.Error("OthersMessage(1): not 'not a duplicate'")
	}
	if !errors.Is(RuleMissError(nil), ErrRulesSelectNothing) {
		t.Error("RuleMissError no longer wraps ErrRulesSelectNothing")
	}
	var w bytes.Buffer
	r := NewRejectReporter(&w, true)
	r.AddUndated(1, "x.log:1")
	if err := r.Err(); err == nil || err.Error() != "1 event without a timestamp left out" {
		t.Errorf("quiet, one undated event: %v", err)
	}
}
