package sourcearg

import (
	"testing"

	"github.com/spf13/pflag"

	"github.com/audittui/audittui/internal/data/loki"
)

func lokiKindWith(t *testing.T, env map[string]string, args ...string) *Loki {
	t.Helper()
	k := &Loki{lookupEnv: mapEnv(env)}
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	k.AddFlags(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return k
}

func TestLokiConfigFromLogcliEnvironment(t *testing.T) {
	env := map[string]string{
		"LOKI_ADDR":              "http://env:3100",
		"LOKI_ORG_ID":            "a|b",
		"LOKI_USERNAME":          "alice",
		"LOKI_PASSWORD":          "pw",
		"LOKI_BEARER_TOKEN_FILE": "/env/token",
		"LOKI_CA_CERT_PATH":      "/env/ca.pem",
		"LOKI_CLIENT_CERT_PATH":  "/env/cert.pem",
		"LOKI_CLIENT_KEY_PATH":   "/env/key.pem",
		"LOKI_TLS_SKIP_VERIFY":   "true",
	}
	k := lokiKindWith(t, env)
	if k.Addr() != "http://env:3100" {
		t.Errorf("addr = %q", k.Addr())
	}
	cfg, err := k.config(k.Addr())
	if err != nil {
		t.Fatal(err)
	}
	want := loki.Config{Addr: "http://env:3100", TenantID: "a|b", Username: "alice", Password: "pw", BearerTokenFile: "/env/token",
		CACertPath: "/env/ca.pem", ClientCertPath: "/env/cert.pem", ClientKeyPath: "/env/key.pem", InsecureSkipVerify: true,
		Timeout: loki.DefaultTimeout, UserAgent: "audittui"}
	if cfg.Addr != want.Addr || cfg.TenantID != want.TenantID || cfg.Username != want.Username || cfg.Password != want.Password ||
		cfg.BearerTokenFile != want.BearerTokenFile || cfg.CACertPath != want.CACertPath || cfg.ClientCertPath != want.ClientCertPath ||
		cfg.ClientKeyPath != want.ClientKeyPath || cfg.InsecureSkipVerify != want.InsecureSkipVerify || cfg.Timeout != want.Timeout {
		t.Errorf("config = %+v", cfg)
	}

	// Flags win over the environment.
	k = lokiKindWith(t, env, "--loki-addr", "https://flag", "--loki-org-id", "t1", "--loki-tls-skip-verify=false", "--loki-ca-cert", "/flag/ca.pem")
	cfg, _ = k.config(k.Addr())
	if cfg.Addr != "https://flag" || cfg.TenantID != "t1" || cfg.InsecureSkipVerify || cfg.CACertPath != "/flag/ca.pem" {
		t.Errorf("flags: %+v", cfg)
	}

	if _, err := lokiKindWith(t, map[string]string{"LOKI_TLS_SKIP_VERIFY": "maybe"}).config("h"); err == nil {
		t.Error("bad LOKI_TLS_SKIP_VERIFY accepted")
	}
	if _, err := lokiKindWith(t, nil, "--loki-batch", "0").config("h"); err == nil {
		t.Error("--loki-batch 0 accepted")
	}
}

func TestLokiKindMatch(t *testing.T) {
	k := &Loki{}
	for arg, want := range map[string]bool{"loki://h:3100": true, "lokis://h": true, "audit.log": false, "s3://b/": false, "./loki://x": false} {
		if k.Match(arg) != want {
			t.Errorf("Match(%q) = %v", arg, !want)
		}
	}
}

func mapEnv(env map[string]string) func(string) (string, bool) {
	return func(n string) (string, bool) { v, ok := env[n]; return v, ok }
}
