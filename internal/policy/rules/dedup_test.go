package rules

import (
	"slices"
	"testing"
	"time"

	"github.com/audittui/audittui/internal/data"
)

// TestSameLineInTwoStreams: a line is a duplicate only within its stream
// (Loki stores an exact duplicate once per stream). The same bytes read
// from two files are two observations: a rule by filename counts one in
// each file's series, and the duplicate filter drops only the line sent
// twice in the same file.
func TestSameLineInTwoStreams(t *testing.T) {
	set := parseSet(t, `groups:
  - name: g
    rules:
      - alert: PerFile
        expr: sum by (filename) (count_over_time({job="audit"} | json | objectRef_subresource="exec" [5m])) > 0
`)
	line := auditLine("x-1", "ResponseComplete", "eve", "exec", t10.Add(3*time.Second))
	a := decodeLines(t, "node-a.log", []byte(line+"\n"+line+"\n"), nil) // sent twice: a duplicate
	b := decodeLines(t, "node-b.log", []byte(line+"\n"), nil)
	res := replayEvents(t, set, slices.Concat(a, b))
	got := map[string]int{}
	for _, al := range res.Alerts {
		got[al.Labels["filename"]] += al.Events
	}
	if len(res.Alerts) != 2 || got["node-a.log"] != 1 || got["node-b.log"] != 1 {
		t.Fatalf("alerts %d, events per file %v; want one alert per file, each counting its line once", len(res.Alerts), got)
	}
	if res.Duplicates != 1 {
		t.Fatalf("%d duplicates, want 1 (the line node-a.log has twice)", res.Duplicates)
	}
	var evs []data.Event
	evs = append(evs, b...)
	evs = append(evs, a...)
	if d1, d2 := alertsDigest(res.Alerts), alertsDigest(replayEvents(t, set, evs).Alerts); d1 != d2 {
		t.Fatalf("order changed the alerts:\n%s\n---\n%s", d1, d2)
	}
}
