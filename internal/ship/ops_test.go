package ship

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/audittui/audittui/internal/ship/config"
)

func TestMetricsHealthAndReadiness(t *testing.T) {
	e := newEnv(t)
	e.w.write(20)
	c := e.config()
	c.MetricsAddr = "127.0.0.1:0"
	bound := make(chan string, 1)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Run(ctx, Options{Config: c, MetricsBound: func(a string) { bound <- a }}) }()
	addr := <-bound
	get := func(p string) (int, string) {
		resp, err := http.Get("http://" + addr + p)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	waitUntil(t, "readyz", func() bool { code, _ := get("/readyz"); return code == 200 })
	if code, _ := get("/healthz"); code != 200 {
		t.Errorf("healthz %d", code)
	}
	e.delivered()
	waitUntil(t, "metrics", func() bool {
		_, body := get("/metrics")
		return strings.Contains(body, "audittui_ship_lines_read_total 20") &&
			strings.Contains(body, `audittui_ship_sink_sent_lines_total{sink="loki"} 20`) &&
			strings.Contains(body, `audittui_ship_sink_sent_lines_total{sink="s3"} 20`) &&
			strings.Contains(body, `audittui_ship_buffer_limit_bytes{buffer="memory"}`) &&
			strings.Contains(body, `audittui_ship_redacted_values_total`) &&
			!strings.Contains(body, "audittui_ship_checkpoint_age_seconds -1")
	})
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestLokiClientConfigSecrets(t *testing.T) {
	dir := t.TempDir()
	pw := filepath.Join(dir, "pw")
	os.WriteFile(pw, []byte("s3cret\n"), 0o600)
	envs := map[string]string{"LOKI_ORG_ID": "tenant-a", "LOKI_USERNAME": "u", "LOKI_PASSWORD": "from-env", "LOKI_BEARER_TOKEN": "tok"}
	getenv := func(k string) (string, bool) { v, ok := envs[k]; return v, ok }
	lc, err := LokiClientConfig(&config.Loki{URL: "http://l:3100", PasswordFile: pw}, getenv)
	if err != nil {
		t.Fatal(err)
	}
	if lc.TenantID != "tenant-a" || lc.Username != "u" || lc.Password != "s3cret" || lc.BearerToken != "tok" {
		t.Errorf("config %+v", lc)
	}
	lc, _ = LokiClientConfig(&config.Loki{URL: "http://l:3100", TenantID: "t", BearerTokenFile: "/run/token"}, getenv)
	if lc.TenantID != "t" || lc.Password != "from-env" || lc.BearerTokenFile != "/run/token" || lc.BearerToken != "" {
		t.Errorf("config %+v", lc)
	}
	if _, err := LokiClientConfig(&config.Loki{PasswordFile: filepath.Join(dir, "nope")}, getenv); err == nil ||
		!strings.Contains(err.Error(), "Password_file") {
		t.Errorf("missing password file: %v", err)
	}
}

func TestSinkFailureStopsShip(t *testing.T) {
	e := newEnv(t)
	e.w.write(5)
	c := e.config()
	// A dead-letter file that cannot be written: a permanent rejection
	// must stop ship (and say why) rather than drop the batch.
	c.Loki.DeadLetterFile = "/proc/self/cannot/dead.jsonl"
	e.loki.FailPushes(1, 400, "bad request")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	err := Run(ctx, Options{Config: c})
	if err == nil || !strings.Contains(err.Error(), "dead-letter") {
		t.Fatalf("err = %v", err)
	}
	if p := e.readCheckpoint(); p.Offset != 0 {
		t.Fatalf("checkpoint moved to %d past an undelivered batch", p.Offset)
	}
}
