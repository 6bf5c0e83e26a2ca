package loki

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func lookup(env map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := env[k]; return v, ok }
}

func TestConfigFromEnvironment(t *testing.T) {
	env := map[string]string{
		EnvAddr: "http://env:3100", EnvOrgID: "a|b", EnvUsername: "alice", EnvPassword: "pw",
		EnvCACertPath: "/env/ca.pem", EnvClientCertPath: "/env/cert.pem", EnvClientKeyPath: "/env/key.pem",
		EnvTLSSkipVerify: "true",
	}
	cfg, err := ConfigFrom(Settings{Timeout: time.Second, UserAgent: "ua"}, lookup(env))
	if err != nil {
		t.Fatal(err)
	}
	want := Config{Addr: "http://env:3100", TenantID: "a|b", Username: "alice", Password: "pw",
		CACertPath: "/env/ca.pem", ClientCertPath: "/env/cert.pem", ClientKeyPath: "/env/key.pem", InsecureSkipVerify: true,
		Timeout: time.Second, UserAgent: "ua"}
	if cfg.Addr != want.Addr || cfg.TenantID != want.TenantID || cfg.Username != want.Username || cfg.Password != want.Password ||
		cfg.CACertPath != want.CACertPath || cfg.ClientCertPath != want.ClientCertPath || cfg.ClientKeyPath != want.ClientKeyPath ||
		cfg.InsecureSkipVerify != want.InsecureSkipVerify || cfg.Timeout != want.Timeout || cfg.UserAgent != want.UserAgent ||
		cfg.BearerToken != "" || cfg.BearerTokenFile != "" {
		t.Errorf("config = %+v", cfg)
	}
}

// Every setting follows the same rule: explicit > LOKI_* > default.
func TestConfigFromPrecedence(t *testing.T) {
	dir := t.TempDir()
	pwFile := filepath.Join(dir, "pw")
	os.WriteFile(pwFile, []byte("from-file\r\n"), 0o600)
	no, yes := false, true
	tests := []struct {
		name     string
		settings Settings
		env      map[string]string
		get      func(Config) any
		want     any
	}{
		{"addr explicit", Settings{Addr: "lokis://flag"}, map[string]string{EnvAddr: "http://env"}, func(c Config) any { return c.Addr }, "lokis://flag"},
		{"addr env", Settings{}, map[string]string{EnvAddr: "http://env"}, func(c Config) any { return c.Addr }, "http://env"},
		{"addr empty env is unset", Settings{}, map[string]string{EnvAddr: ""}, func(c Config) any { return c.Addr }, ""},
		{"tenant explicit", Settings{OrgID: "t"}, map[string]string{EnvOrgID: "e"}, func(c Config) any { return c.TenantID }, "t"},
		{"tenant env", Settings{}, map[string]string{EnvOrgID: "e"}, func(c Config) any { return c.TenantID }, "e"},
		{"user explicit", Settings{Username: "u"}, map[string]string{EnvUsername: "e"}, func(c Config) any { return c.Username }, "u"},
		{"password file", Settings{PasswordFile: pwFile}, map[string]string{EnvPassword: "e"}, func(c Config) any { return c.Password }, "from-file"},
		{"password env", Settings{}, map[string]string{EnvPassword: "e"}, func(c Config) any { return c.Password }, "e"},
		{"token file explicit over env token", Settings{BearerTokenFile: "/f"}, map[string]string{EnvBearerToken: "tok"},
			func(c Config) any { return c.BearerTokenFile + "|" + c.BearerToken }, "/f|"},
		{"token file explicit over env file", Settings{BearerTokenFile: "/f"}, map[string]string{EnvBearerTokenFile: "/e"},
			func(c Config) any { return c.BearerTokenFile + "|" + c.BearerToken }, "/f|"},
		{"env token file over env token", Settings{}, map[string]string{EnvBearerTokenFile: "/e", EnvBearerToken: "tok"},
			func(c Config) any { return c.BearerTokenFile + "|" + c.BearerToken }, "/e|"},
		{"env token", Settings{}, map[string]string{EnvBearerToken: "tok"},
			func(c Config) any { return c.BearerTokenFile + "|" + c.BearerToken }, "|tok"},
		{"ca explicit", Settings{CACertPath: "/x"}, map[string]string{EnvCACertPath: "/e"}, func(c Config) any { return c.CACertPath }, "/x"},
		{"cert explicit", Settings{ClientCertPath: "/x"}, map[string]string{EnvClientCertPath: "/e"}, func(c Config) any { return c.ClientCertPath }, "/x"},
		{"key explicit", Settings{ClientKeyPath: "/x"}, map[string]string{EnvClientKeyPath: "/e"}, func(c Config) any { return c.ClientKeyPath }, "/x"},
		{"skip verify explicit false", Settings{TLSSkipVerify: &no}, map[string]string{EnvTLSSkipVerify: "true"}, func(c Config) any { return c.InsecureSkipVerify }, false},
		{"skip verify explicit true", Settings{TLSSkipVerify: &yes}, map[string]string{EnvTLSSkipVerify: "false"}, func(c Config) any { return c.InsecureSkipVerify }, true},
		{"skip verify env", Settings{}, map[string]string{EnvTLSSkipVerify: "1"}, func(c Config) any { return c.InsecureSkipVerify }, true},
		{"skip verify default", Settings{}, nil, func(c Config) any { return c.InsecureSkipVerify }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := ConfigFrom(tt.settings, lookup(tt.env))
			if err != nil {
				t.Fatal(err)
			}
			if got := tt.get(cfg); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestConfigFromErrors(t *testing.T) {
	if _, err := ConfigFrom(Settings{}, lookup(map[string]string{EnvTLSSkipVerify: "maybe"})); err == nil ||
		!strings.Contains(err.Error(), "LOKI_TLS_SKIP_VERIFY") {
		t.Errorf("bad LOKI_TLS_SKIP_VERIFY: %v", err)
	}
	if _, err := ConfigFrom(Settings{PasswordFile: filepath.Join(t.TempDir(), "nope")}, lookup(nil)); err == nil ||
		!strings.Contains(err.Error(), "password file") {
		t.Errorf("missing password file: %v", err)
	}
	// Conflicts across layers are the client's to report, naming them.
	cfg, err := ConfigFrom(Settings{Addr: "h", Username: "u"}, lookup(map[string]string{EnvBearerToken: "tok"}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewClient(cfg); err == nil || !strings.Contains(err.Error(), "basic auth and bearer token") {
		t.Errorf("conflict: %v", err)
	}
	// No address anywhere.
	cfg, _ = ConfigFrom(Settings{}, lookup(nil))
	if _, err := NewClient(cfg); err == nil || !strings.Contains(err.Error(), "LOKI_ADDR") {
		t.Errorf("no address: %v", err)
	}
}

func TestCheckAddrSchemes(t *testing.T) {
	for _, ok := range []string{"http://h:3100", "https://h", "loki://h:3100", "lokis://h", "h:3100", "http://vl:9428/insert/loki/api/v1/push"} {
		if err := CheckAddr(ok); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "ftp://h", "https://", "s3://b/"} {
		if CheckAddr(bad) == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
