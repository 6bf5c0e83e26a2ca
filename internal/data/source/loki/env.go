package loki

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// The logcli environment variables a Config is resolved from.
const (
	EnvAddr            = "LOKI_ADDR"
	EnvOrgID           = "LOKI_ORG_ID"
	EnvUsername        = "LOKI_USERNAME"
	EnvPassword        = "LOKI_PASSWORD"
	EnvBearerToken     = "LOKI_BEARER_TOKEN"
	EnvBearerTokenFile = "LOKI_BEARER_TOKEN_FILE"
	EnvCACertPath      = "LOKI_CA_CERT_PATH"
	EnvClientCertPath  = "LOKI_CLIENT_CERT_PATH"
	EnvClientKeyPath   = "LOKI_CLIENT_KEY_PATH"
	EnvTLSSkipVerify   = "LOKI_TLS_SKIP_VERIFY"
)

// Settings are connection settings given explicitly: by command-line flags
// (--loki-addr, --loki-org-id, ...; a loki:// SOURCE argument is an
// explicit address) or by ship's configuration file (Loki.URL,
// Loki.Tenant_id, ...). An empty field, or a nil TLSSkipVerify, is not set.
//
// Secrets are never settings of their own: a password or bearer token
// comes from a file named here or from the environment, so that it does
// not show in ps or in a config file.
type Settings struct {
	Addr     string
	OrgID    string
	Username string
	// PasswordFile holds the basic-auth password (trailing newline
	// dropped); it is read by ConfigFrom.
	PasswordFile string
	// BearerTokenFile holds a bearer token; the client re-reads it when
	// it changes.
	BearerTokenFile string
	CACertPath      string
	ClientCertPath  string
	ClientKeyPath   string
	TLSSkipVerify   *bool
	// Timeout, Retry and UserAgent are passed on as they are (see Config).
	Timeout   time.Duration
	Retry     Backoff
	UserAgent string
}

// ConfigFrom resolves the client configuration from explicit settings and
// logcli's environment variables, read with getenv (nil: the process
// environment). The CLI and ship both resolve it here, with one rule for
// every setting:
//
//	explicit setting  >  LOKI_* environment variable  >  default
//
// per setting: address (LOKI_ADDR; no default, an address is required),
// tenant (LOKI_ORG_ID), user (LOKI_USERNAME), password (PasswordFile, else
// LOKI_PASSWORD), bearer token (BearerTokenFile, else
// LOKI_BEARER_TOKEN_FILE, else LOKI_BEARER_TOKEN: a file named anywhere
// wins over a token in the environment), CA certificate
// (LOKI_CA_CERT_PATH), client certificate and key (LOKI_CLIENT_CERT_PATH,
// LOKI_CLIENT_KEY_PATH) and certificate verification (LOKI_TLS_SKIP_VERIFY,
// default verify). An empty variable counts as unset. The address may be
// http(s)://, loki:// (http), lokis:// (https) or a bare host:port (http),
// with an optional path prefix or a full push URL.
//
// Conflicts that remain (basic auth and a bearer token both set, a client
// certificate without its key) are reported by NewClient.
func ConfigFrom(s Settings, getenv func(string) (string, bool)) (Config, error) {
	if getenv == nil {
		getenv = os.LookupEnv
	}
	env := func(name string) string {
		v, _ := getenv(name)
		return v
	}
	pick := func(explicit, name string) string {
		if explicit != "" {
			return explicit
		}
		return env(name)
	}
	cfg := Config{
		Addr:           pick(s.Addr, EnvAddr),
		TenantID:       pick(s.OrgID, EnvOrgID),
		Username:       pick(s.Username, EnvUsername),
		CACertPath:     pick(s.CACertPath, EnvCACertPath),
		ClientCertPath: pick(s.ClientCertPath, EnvClientCertPath),
		ClientKeyPath:  pick(s.ClientKeyPath, EnvClientKeyPath),
		Timeout:        s.Timeout,
		Retry:          s.Retry,
		UserAgent:      s.UserAgent,
	}
	if s.PasswordFile != "" {
		b, err := os.ReadFile(s.PasswordFile)
		if err != nil {
			return cfg, fmt.Errorf("password file: %w", err)
		}
		cfg.Password = strings.TrimRight(string(b), "\r\n")
	} else {
		cfg.Password = env(EnvPassword)
	}
	if cfg.BearerTokenFile = pick(s.BearerTokenFile, EnvBearerTokenFile); cfg.BearerTokenFile == "" {
		cfg.BearerToken = env(EnvBearerToken)
	}
	switch {
	case s.TLSSkipVerify != nil:
		cfg.InsecureSkipVerify = *s.TLSSkipVerify
	case env(EnvTLSSkipVerify) != "":
		v := env(EnvTLSSkipVerify)
		b, err := strconv.ParseBool(v)
		if err != nil {
			return cfg, fmt.Errorf("%s=%q: not a boolean", EnvTLSSkipVerify, v)
		}
		cfg.InsecureSkipVerify = b
	}
	return cfg, nil
}

// CheckAddr reports whether addr is an address NewClient accepts, with the
// same error it would give.
func CheckAddr(addr string) error {
	_, _, err := parseAddr(addr)
	return err
}
