package evidence

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/audittui/audittui/internal/cli/clitest"
	"github.com/audittui/audittui/internal/data/source/s3/s3test"
	"github.com/audittui/audittui/internal/evidence"
)

func TestS3ExportKeyLag(t *testing.T) { testExportKeyLag(t, false) }

func TestS3IntegrationExportKeyLag(t *testing.T) { testExportKeyLag(t, true) }

// An export with a window copies the objects uploaded after its end that
// may hold events of it (Fluent Bit keys carry the time its tail read the
// first record: an object keyed ten minutes after its events), up to
// --s3-key-lag, and says how many keys it left out by their time: the
// copy of the evidence is not silently short (review G finding 3).
func testExportKeyLag(t *testing.T, real bool) {
	w := clitest.NewS3World(t, real)
	var late bytes.Buffer
	for i := 0; i < 5; i++ {
		ts := w.Start.Add(11*time.Hour + 55*time.Minute + time.Duration(i)*time.Second).Format(time.RFC3339Nano)
		fmt.Fprintf(&late, `{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"late-%d","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/ns/secrets/s","verb":"delete","user":{"username":"mallory"},"objectRef":{"resource":"secrets","namespace":"ns","name":"s"},"responseStatus":{"code":200},"requestReceivedTimestamp":%q,"stageTimestamp":%q}`+"\n", i, ts, ts)
	}
	key := "audit-logs/c1/" + w.Start.Add(12*time.Hour+5*time.Minute).Format("2006/01/02/15/04/05") + "-LATE0001.json"
	s3test.Put(context.Background(), t, w.Client, w.Bucket, key, late.Bytes(), "")
	dir := filepath.Join(t.TempDir(), "case")
	code, _, errOut := exportCmd(t, "s3://"+w.Bucket+"/audit-logs/c1/", "--s3-endpoint", w.Endpoint,
		"--from", w.Start.Add(10*time.Hour).Format(time.RFC3339), "--to", w.Start.Add(12*time.Hour).Format(time.RFC3339),
		"--dir", dir, `{job="audit"} | json | user_username="mallory"`)
	if code != 0 {
		t.Fatalf("export: exit %d: %s", code, errOut)
	}
	man, err := os.ReadFile(filepath.Join(dir, evidence.ManifestSHA))
	if err != nil || !strings.Contains(string(man), "objects/"+w.Bucket+"/"+key) {
		t.Fatalf("the object keyed 5 minutes after the window is not in the export (%v):\n%s", err, man)
	}
	ev, err := os.ReadFile(filepath.Join(dir, evidence.EventsFile))
	if err != nil || strings.Count(string(ev), `"user":{"username":"mallory"}`) != 5 {
		t.Fatalf("events.jsonl lacks the late object's 5 events (%v):\n%s", err, ev)
	}
	if !strings.Contains(errOut, "keys listed were not read, by the time in their key") || !strings.Contains(errOut, "--s3-key-lag 15m") {
		t.Fatalf("export does not say which keys its window left out:\n%s", errOut)
	}
}
