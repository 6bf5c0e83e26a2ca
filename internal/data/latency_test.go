package data

import (
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/audittui/audittui/internal/testutil"
)

// TestLatencyNeedsBothTimestamps (review L 5): an event's latency is
// stageTimestamp minus requestReceivedTimestamp. Panther's EKS-shaped
// fixture abcde12345 has a requestReceivedTimestamp and no
// stageTimestamp: its time is the received time, and its latency is
// unknown (-1, shown "-"), not 0. Over every real event, Latency is
// known exactly when both fields are there, and is their difference.
func TestLatencyNeedsBothTimestamps(t *testing.T) {
	seen := false
	for _, f := range testutil.RealAuditFiles(t) {
		for _, ev := range decodeFile(t, f) {
			var fields struct {
				Stage    string `json:"stageTimestamp"`
				Received string `json:"requestReceivedTimestamp"`
			}
			if err := json.Unmarshal(ev.Raw, &fields); err != nil {
				t.Fatalf("%s:%d: %v", filepath.Base(f), ev.Origin.Line, err)
			}
			lat := ev.Latency()
			if fields.Stage == "" || fields.Received == "" {
				if lat != -1 {
					t.Errorf("%s:%d (stageTimestamp %q, requestReceivedTimestamp %q): latency %v, want unknown (-1)",
						filepath.Base(f), ev.Origin.Line, fields.Stage, fields.Received, lat)
				}
				if ev.AuditID == "abcde12345" {
					seen = true
				}
				continue
			}
			st, err1 := time.Parse(time.RFC3339Nano, fields.Stage)
			rt, err2 := time.Parse(time.RFC3339Nano, fields.Received)
			if err1 != nil || err2 != nil {
				t.Fatalf("%s:%d: %v %v", filepath.Base(f), ev.Origin.Line, err1, err2)
			}
			if want := st.Sub(rt); lat != want {
				t.Errorf("%s:%d: latency %v, want %v", filepath.Base(f), ev.Origin.Line, lat, want)
			}
		}
	}
	if !seen {
		t.Error("the Panther fixture abcde12345 (received time, no stage time) was not read")
	}
}
