package e2e

import (
	"path/filepath"
	"testing"

	"github.com/audittui/audittui/internal/testutil"
)

// TestInvestigateGKEExport opens what `gcloud logging read --format=json`
// prints (a pretty array of Cloud Logging entries) in the TUI: the audit
// entries load as events, filters use the Kubernetes field names, the
// detail shows the audit event mapped from the entry (its summary filled
// in) and names the LogEntry that carried it, and the two entries that
// are not Kubernetes audit events are listed with their reasons.
func TestInvestigateGKEExport(t *testing.T) {
	tmux := requireTmux(t)
	bin := buildBinary(t)
	file := filepath.Join(testutil.RepoRoot(), "testdata", "shapes", "gke-gcloud.json")
	s := startSession(t, tmux, 120, 40, bin+" "+file)
	s.waitFor("open the export", "loaded 7", "1 Tail")

	s.keys("/")
	s.waitGone("filter bar opens", "no filter ·")
	s.text(`user_username="alice@example.com" | objectRef_resource="pods"`)
	s.keys("Enter")
	s.waitFor("filtered", "matching 2", "alice@example.com")

	s.keys("Enter")
	s.waitFor("detail of the event the LogEntry carries", `"kind": "Event"`, "carrier   Cloud Logging LogEntry (GKE)", "status    ", "5 Detail")
	s.keys("Escape")
	s.waitFor("back to the tail", "RESOURCE NS/NAME")

	s.keys("R")
	s.waitFor("rejects", "container.googleapis.com", "textPayload")
	s.keys("Escape")
	s.waitFor("back to the tail", "RESOURCE NS/NAME")

	s.keys("q")
	s.waitFor("quit", "audittui-exit=0")
}
