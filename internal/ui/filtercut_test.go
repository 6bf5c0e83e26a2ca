package ui

import (
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestFilterAfterCopytruncate (review M 1): the TUI follows audit.log;
// logrotate's copytruncate copies it to audit.log.1 and cuts it in place,
// and the API server writes on. A `/` filter on what the index does not
// hold (a word, an auditID, requestURI) reads the events read before the
// cut where Detail reads them (the copy): the counts are those over every
// event. They were read at the old offsets in the cut file: 173 of 233
// for kube-scheduler, 0 for an auditID, or a bare EOF. With no copy left,
// the status says how many events could not be searched.
func TestFilterAfterCopytruncate(t *testing.T) {
	sample, err := os.ReadFile("../../testdata/sample/audit.log")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(sample), "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	// The truth, from the lines themselves.
	var ev struct {
		AuditID    string `json:"auditID"`
		RequestURI string `json:"requestURI"`
	}
	if err := json.Unmarshal([]byte(lines[499]), &ev); err != nil {
		t.Fatal(err)
	}
	leases := regexp.MustCompile(`^.*leases.*$`)
	count := func(ls []string, match func(string) bool) int {
		n := 0
		for _, l := range ls {
			if match(l) {
				n++
			}
		}
		return n
	}
	type filter struct {
		text  string
		match func(string) bool
	}
	filters := []filter{
		{"kube-scheduler", func(l string) bool { return strings.Contains(l, "kube-scheduler") }},
		{`auditID="` + ev.AuditID + `"`, func(l string) bool {
			var e struct {
				AuditID string `json:"auditID"`
			}
			json.Unmarshal([]byte(l), &e)
			return e.AuditID == ev.AuditID
		}},
		{`requestURI=~".*leases.*"`, func(l string) bool {
			var e struct {
				RequestURI string `json:"requestURI"`
			}
			json.Unmarshal([]byte(l), &e)
			return leases.MatchString(e.RequestURI)
		}},
	}
	for _, tc := range []struct {
		name     string
		cut      int  // lines read before the cut
		keepCopy bool // audit.log.1 holds them
	}{
		{"copy kept, new file longer", 1000, true},
		{"copy kept, new file shorter than the old offsets", 2000, true},
		{"copy gone", 1000, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Chdir(t.TempDir())
			before := strings.Join(lines[:tc.cut], "")
			if err := os.WriteFile("audit.log", []byte(before), 0o644); err != nil {
				t.Fatal(err)
			}
			a, wait := followApp(t, "audit.log")
			a.Update(windowSize(220, 12))
			wait("loaded " + thousands(int64(tc.cut)) + " ")
			if tc.keepCopy {
				if err := os.WriteFile("audit.log.1", []byte(before), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if err := os.Truncate("audit.log", 0); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile("audit.log", []byte(strings.Join(lines[tc.cut:], "")), 0o644); err != nil {
				t.Fatal(err)
			}
			wait("loaded " + thousands(int64(len(lines))) + " ")
			// The tracker looks for moved files every half second.
			first := 0 // audit.log:1, read before the cut
			deadline := time.Now().Add(10 * time.Second)
			for time.Now().Before(deadline) {
				now, gone := a.c.Snap.sources[a.c.Snap.src.at(first)].info.Moved.Now()
				if (tc.keepCopy && now == "audit.log.1") || (!tc.keepCopy && gone) {
					break
				}
				time.Sleep(20 * time.Millisecond)
			}
			for _, f := range filters {
				send(t, a, "/")
				typeText(t, a, f.text)
				send(t, a, "enter")
				if a.running {
					t.Fatalf("%s: still filtering", f.text)
				}
				s := screen(a)
				if strings.Contains(s, "filter:") {
					t.Errorf("%s: %s", f.text, s)
				}
				want := count(lines, f.match)
				gone := 0
				if !tc.keepCopy {
					want = count(lines[tc.cut:], f.match)
					gone = count(lines[:tc.cut], func(string) bool { return true })
				}
				if got := a.c.Rows.Len(); got != want {
					t.Errorf("%s: matching %d, want %d", f.text, got, want)
				}
				if a.filterGone != gone {
					t.Errorf("%s: %d not searched, want %d", f.text, a.filterGone, gone)
				}
				note := thousands(int64(gone)) + " events' bytes are gone after the truncation: not searched"
				if (gone > 0) != strings.Contains(s, note) {
					t.Errorf("%s: status (%d gone):\n%s", f.text, gone, s)
				}
			}
		})
	}
}
