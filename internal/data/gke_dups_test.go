package data

import (
	"bytes"
	"os"
	"slices"
	"testing"
)

// TestDupsGKEExports: the same Cloud Logging entries exported twice, by a
// Cloud Storage sink (compact, the API's key order) and by `gcloud
// logging read --format=json` (a pretty array, keys sorted), are the same
// events: an investigator who reads both (the bucket, and what gcloud
// returned for the window) counts each once, in any order, and a copy's
// line read back from its file (RawDupLine, as the TUI does) is the
// line it was compared by. gcloud always sorts the keys, so the key
// order of a GKE entry says nothing about the entry; an entry edited in
// one export is still another event (evidence-review: 7 entries counted
// 14 times, "7 matching events have the auditID, stage and time of
// another but other bytes").
func TestDupsGKEExports(t *testing.T) {
	sinkIn, _ := os.ReadFile(shapePath("gke-sink.jsonl"))
	gcloudIn, _ := os.ReadFile(shapePath("gke-gcloud.json"))
	sink, _ := readBytes(t, sinkIn, 0)
	gcloud, _ := readBytes(t, gcloudIn, 0)
	if len(sink) != 7 || len(gcloud) != 7 {
		t.Fatalf("%d sink events, %d gcloud events", len(sink), len(gcloud))
	}
	for _, evs := range [][]Event{sink, gcloud} {
		for i := range evs {
			if e := &evs[i]; e.Carrier != CarrierLogEntry || string(RawDupLine(e.Raw)) != string(DupLine(e)) {
				t.Fatalf("%s: RawDupLine of its bytes is not its DupLine", e.Origin.Cite())
			}
		}
	}
	for name, evs := range map[string][]Event{
		"sink, gcloud": append(slices.Clone(sink), gcloud...),
		"gcloud, sink": append(slices.Clone(gcloud), sink...),
	} {
		d := NewDups(0)
		kept := 0
		for i := range evs {
			if !d.Seen(&evs[i]) {
				kept++
			}
		}
		if kept != 7 || d.Count() != 7 || d.Others() != 0 {
			t.Errorf("%s: %d kept, %d copies, %d others; want 7, 7, 0", name, kept, d.Count(), d.Others())
		}
	}
	// An entry edited in one export (a value in a body) is another event.
	for i := range sink {
		if !bytes.Contains(sink[i].Raw, []byte(`"request":{`)) {
			continue
		}
		e := sink[i].Clone()
		e.Raw = bytes.Replace(e.Raw, []byte(`"request":{`), []byte(`"request":{"edited":true,`), 1)
		d := NewDups(0)
		d.Seen(&sink[i])
		if d.Seen(&e) || d.Others() != 1 {
			t.Errorf("%s: an edited entry is a copy", e.Origin.Cite())
		}
	}
}
