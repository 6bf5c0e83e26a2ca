package ship

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/audittui/audittui/internal/testutil"
)

// newRealEnv points the sinks at the real servers `make test` starts:
// VictoriaLogs (Loki push API) and versitygw (S3), each behind a proxy
// that can take it down.
func newRealEnv(t *testing.T) *env {
	t.Helper()
	vl := testutil.Env(t, "AUDITTUI_VLOGS_URL", "VictoriaLogs")
	s3ep := testutil.Env(t, "AUDITTUI_S3_ENDPOINT", "versitygw")
	key, secret := os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY")
	e := newEnv(t) // sets test credentials for the in-process fake
	run := fmt.Sprintf("ship-%d", time.Now().UnixNano())
	e.cluster = run
	e.lokiProxyTo = func(down *atomic.Bool) string {
		return e.proxy(vl, down, nil, &e.lokiHold) + "/insert/loki/api/v1/push"
	}
	e.lokiU = e.lokiProxyTo(&e.lokiDown)
	e.s3URL = e.proxy(s3ep, &e.s3Down, nil, nil)
	e.bucket, e.prefix = "audittui-ship-test", "audit-logs/"+run
	e.awsEnv = []string{"AWS_ACCESS_KEY_ID=" + key, "AWS_SECRET_ACCESS_KEY=" + secret, "AWS_REGION=us-east-1", "AWS_EC2_METADATA_DISABLED=true"}
	e.setAWSEnv()
	client := s3Client(s3ep, key, secret)
	createBucket(t, client, e.bucket)
	e.s3Got = func() []string { return s3IDs(t, client, e.bucket, e.prefix+"/") }
	e.lokiGot = func() []string { return vlogsIDs(t, vl, run) }
	return e
}

// vlogsIDs asks VictoriaLogs (LogsQL) for every entry of the run's cluster
// stream and returns the auditIDs in their messages.
func vlogsIDs(t testing.TB, base, cluster string) []string {
	t.Helper()
	q := url.Values{"query": {fmt.Sprintf(`_stream:{cluster=%q}`, cluster)}}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+"/select/logsql/query", nil)
	req.URL.RawQuery = q.Encode()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("query VictoriaLogs: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("query VictoriaLogs: %s", resp.Status)
	}
	var out []string
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var row struct {
			Msg string `json:"_msg"`
		}
		if err := json.Unmarshal(sc.Bytes(), &row); err != nil {
			t.Fatalf("VictoriaLogs row %q: %v", sc.Text(), err)
		}
		out = append(out, ids(row.Msg)...)
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("read VictoriaLogs answer: %v", err)
	}
	return out
}

// TestRealServersMatrix runs the rotation matrix against VictoriaLogs and
// versitygw: rotate-create, compressed backups, copytruncate, a restart
// while both sinks are down (with rotation while stopped), then kill -9
// under load. Each phase ends with every auditID delivered.
func TestRealServersMatrix(t *testing.T) {
	e := newRealEnv(t)
	e.graceD = "500ms"
	e.w.write(200)
	e.start()
	e.readAll()
	t.Log("rotate-create")
	for i := 0; i < 3; i++ {
		e.w.write(300)
		e.w.rotate(false)
	}
	e.w.write(100)
	e.delivered()
	t.Log("rotate with compressed backups")
	for i := 0; i < 2; i++ {
		e.w.write(300)
		e.readAll()
		e.w.rotate(true)
	}
	e.delivered()
	t.Log("copytruncate")
	e.w.write(200)
	e.readAll()
	e.w.copytruncate()
	e.w.write(100)
	e.delivered()
	t.Log("restart while the sinks are down")
	e.setDown(true)
	e.w.write(300)
	e.readAll()
	time.Sleep(100 * time.Millisecond)
	e.shutdownGrace()
	e.w.write(100)
	e.w.rotate(true)
	e.w.write(100)
	e.setDown(false)
	e.start()
	e.delivered()
	e.shutdown()
	e.check()

	t.Log("kill -9 under load")
	kill9(t, e)
}

// TestRealServersLokiStore: with Loki.Store_dir, VictoriaLogs down does not
// stop versitygw from receiving every line; VictoriaLogs gets every line
// from the store once it is back.
func TestRealServersLokiStore(t *testing.T) {
	e := newRealEnv(t)
	e.lokiStore = true
	e.lokiDown.Store(true)
	e.w.write(3000)
	e.startSmall()
	written := e.w.written()
	deadline := time.Now().Add(2 * time.Minute)
	for uniq(written, e.s3Got()) < len(written) {
		if time.Now().After(deadline) {
			t.Fatalf("versitygw has %d of %d lines after 2 min with VictoriaLogs down and Loki.Store_dir set", uniq(written, e.s3Got()), len(written))
		}
		time.Sleep(200 * time.Millisecond)
	}
	if n := len(e.lokiGot()); n != 0 {
		t.Fatalf("VictoriaLogs has %d lines while down", n)
	}
	e.lokiDown.Store(false)
	e.delivered()
	e.shutdown()
	e.check()
}
