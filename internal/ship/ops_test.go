package ship

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/audittui/audittui/internal/data/source"
	"github.com/audittui/audittui/internal/ship/config"
	"github.com/audittui/audittui/internal/ship/metrics"
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

// ship resolves Loki's settings with the CLI's rule: an option wins over
// the LOKI_* variable, which wins over the default; the URL schemes are
// the CLI's too.
func TestLokiClientConfigEnvironment(t *testing.T) {
	envs := map[string]string{"LOKI_ADDR": "lokis://env:443", "LOKI_TLS_SKIP_VERIFY": "true", "LOKI_CA_CERT_PATH": "/env/ca.pem",
		"LOKI_BEARER_TOKEN_FILE": "/env/token", "LOKI_BEARER_TOKEN": "tok"}
	getenv := func(k string) (string, bool) { v, ok := envs[k]; return v, ok }
	lc, err := LokiClientConfig(&config.Loki{}, getenv)
	if err != nil {
		t.Fatal(err)
	}
	if lc.Addr != "lokis://env:443" || !lc.InsecureSkipVerify || lc.CACertPath != "/env/ca.pem" || lc.BearerTokenFile != "/env/token" || lc.BearerToken != "" {
		t.Errorf("from the environment: %+v", lc)
	}
	no := false
	lc, _ = LokiClientConfig(&config.Loki{URL: "loki://cfg:3100", InsecureSkipVerify: &no, CAFile: "/cfg/ca.pem"}, getenv)
	if lc.Addr != "loki://cfg:3100" || lc.InsecureSkipVerify || lc.CACertPath != "/cfg/ca.pem" {
		t.Errorf("options over the environment: %+v", lc)
	}
	c, err := config.Parse([]byte("Path: /a\nLoki: {URL: 'lokis://loki.example:443', Insecure_skip_verify: false}\n"), getenv)
	if err != nil {
		t.Fatal(err)
	}
	c.ApplyDefaults()
	if err := c.Validate(); err != nil || c.Loki.InsecureSkipVerify == nil || *c.Loki.InsecureSkipVerify {
		t.Errorf("lokis:// URL, explicit Insecure_skip_verify: %v %+v", err, c.Loki)
	}
	// Without URL and LOKI_ADDR the sink cannot start, and says why.
	c, _ = config.Parse([]byte("Path: /a\nLoki: {Tenant_id: t}\n"), getenv)
	c.ApplyDefaults()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	delete(envs, "LOKI_ADDR")
	_, err = buildSinks(context.Background(), c, nil, nil, metrics.New(), slog.New(slog.DiscardHandler), getenv)
	if err == nil || !strings.Contains(err.Error(), "Loki.URL") || !strings.Contains(err.Error(), "LOKI_ADDR") {
		t.Errorf("no address: %v", err)
	}
}

func TestSinkFailureStopsShip(t *testing.T) {
	e := newEnv(t)
	e.w.write(5)
	c := e.config()
	// A dead-letter file that cannot be written: a permanent rejection
	// must stop ship (and say why) rather than drop the batch.
	c.Loki.DeadLetterFile = "/proc/self/cannot/dead.jsonl"
	c.Loki.MaxLineSize = 10 // every line is refused
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

// The CLI's flags and ship's options for the same settings, under the same
// environment, give the same client configuration.
func TestCLIAndShipResolveLokiAlike(t *testing.T) {
	envs := []map[string]string{
		{},
		{"LOKI_ADDR": "http://env:3100", "LOKI_ORG_ID": "e", "LOKI_USERNAME": "eu", "LOKI_PASSWORD": "pw", "LOKI_TLS_SKIP_VERIFY": "true",
			"LOKI_CA_CERT_PATH": "/e/ca", "LOKI_CLIENT_CERT_PATH": "/e/c", "LOKI_CLIENT_KEY_PATH": "/e/k"},
		{"LOKI_BEARER_TOKEN": "tok", "LOKI_BEARER_TOKEN_FILE": "/e/tok"},
		{"LOKI_BEARER_TOKEN": "tok"},
	}
	no := false
	settings := []struct {
		flags []string
		cfg   config.Loki
	}{
		{nil, config.Loki{}},
		{[]string{"--loki-addr", "lokis://flag", "--loki-org-id", "t", "--loki-username", "u", "--loki-tls-skip-verify=false",
			"--loki-ca-cert", "/f/ca", "--loki-cert", "/f/c", "--loki-key", "/f/k", "--loki-bearer-token-file", "/f/tok"},
			config.Loki{URL: "lokis://flag", TenantID: "t", Username: "u", InsecureSkipVerify: &no, CAFile: "/f/ca", CertFile: "/f/c",
				KeyFile: "/f/k", BearerTokenFile: "/f/tok"}},
	}
	for i, env := range envs {
		for j, st := range settings {
			getenv := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
			fs := pflag.NewFlagSet("x", pflag.ContinueOnError)
			k := source.NewLoki(fs, source.Options{Getenv: getenv})
			if err := fs.Parse(append(st.flags, "--loki-timeout", "7s")); err != nil {
				t.Fatal(err)
			}
			cli, err := k.Config(k.Addr())
			if err != nil {
				t.Fatal(err)
			}
			lc := st.cfg
			lc.Timeout = config.Duration(7 * time.Second)
			shp, err := LokiClientConfig(&lc, getenv)
			if err != nil {
				t.Fatal(err)
			}
			cli.UserAgent = "" // the CLI names itself; ship's client uses the default
			if fmt.Sprintf("%+v", cli) != fmt.Sprintf("%+v", shp) {
				t.Errorf("env %d, settings %d:\nCLI  %+v\nship %+v", i, j, cli, shp)
			}
		}
	}
}
