package cli

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/data/source/loki"
)

func init() {
	sourceKinds = append(sourceKinds, func() sourceKind { return &lokiKind{} })
}

// lokiKind resolves loki://host:3100 and lokis://host (TLS) sources, and
// supplies Loki as the default source when --loki-addr or LOKI_ADDR is set
// (as logcli does). Connection settings follow logcli's environment
// variables; secrets (LOKI_PASSWORD, LOKI_BEARER_TOKEN) are read from the
// environment only, never from flags that show in ps.
type lokiKind struct {
	addr, orgID, username     string
	tokenFile                 string
	caCert, clientCert, key   string
	skipVerify                bool
	timeout                   time.Duration
	batch                     int
	parallelDuration          time.Duration
	parallelWorkers           int
	selector                  string
	since                     time.Duration
	skipVerifySet, timeoutSet bool
	getenv                    func(string) string // os.Getenv unless a test sets it
	fs                        *pflag.FlagSet
}

func (k *lokiKind) AddFlags(fs *pflag.FlagSet) {
	k.fs = fs
	fs.StringVar(&k.addr, "loki-addr", "", "Loki address, e.g. http://loki:3100 (default LOKI_ADDR); with no SOURCE, Loki is read")
	fs.StringVar(&k.orgID, "loki-org-id", "", "tenant sent as X-Scope-OrgID, a|b for several (default LOKI_ORG_ID)")
	fs.StringVar(&k.username, "loki-username", "", "basic-auth user (default LOKI_USERNAME; the password comes from LOKI_PASSWORD)")
	fs.StringVar(&k.tokenFile, "loki-bearer-token-file", "", "file holding a bearer token, re-read when it changes (default LOKI_BEARER_TOKEN_FILE; or set LOKI_BEARER_TOKEN)")
	fs.StringVar(&k.caCert, "loki-ca-cert", "", "CA certificate file to verify Loki's certificate (default LOKI_CA_CERT_PATH)")
	fs.StringVar(&k.clientCert, "loki-cert", "", "client certificate file for mutual TLS (default LOKI_CLIENT_CERT_PATH)")
	fs.StringVar(&k.key, "loki-key", "", "client key file for mutual TLS (default LOKI_CLIENT_KEY_PATH)")
	fs.BoolVar(&k.skipVerify, "loki-tls-skip-verify", false, "do not verify Loki's certificate (default LOKI_TLS_SKIP_VERIFY)")
	fs.DurationVar(&k.timeout, "loki-timeout", loki.DefaultTimeout, "timeout of one Loki HTTP request")
	fs.IntVar(&k.batch, "loki-batch", loki.DefaultBatchSize, "entries per query_range page (at most the server's max_entries_limit_per_query)")
	fs.DurationVar(&k.parallelDuration, "loki-parallel-duration", 0, "split the time range into sub-ranges of this length fetched in parallel (like logcli --parallel-duration); 0 = one range")
	fs.IntVar(&k.parallelWorkers, "loki-parallel-max-workers", 1, "sub-ranges fetched at once (like logcli --parallel-max-workers)")
	fs.StringVar(&k.selector, "loki-selector", loki.DefaultSelector, "LogQL selector read from Loki when the command has no query of its own (TUI, alerts)")
	fs.DurationVar(&k.since, "loki-since", time.Hour, "how far back to read from Loki when no --since/--from is given")
}

func (k *lokiKind) Match(arg string) bool {
	return strings.HasPrefix(arg, "loki://") || strings.HasPrefix(arg, "lokis://")
}

func (k *lokiKind) lookupEnv(name string) (string, bool) {
	if k.getenv != nil {
		v := k.getenv(name)
		return v, v != ""
	}
	return os.LookupEnv(name)
}

// pick returns the flag value, else the environment variable.
func (k *lokiKind) pick(flag, envName string) string {
	if flag != "" {
		return flag
	}
	v, _ := k.lookupEnv(envName)
	return v
}

func (k *lokiKind) changed(name string) bool {
	return k.fs != nil && k.fs.Changed(name)
}

// config builds the client settings for addr with loki.ConfigFrom (the
// rule ship uses too: a flag wins over the LOKI_* variable, which wins
// over the default).
func (k *lokiKind) config(addr string) (loki.Config, error) {
	st := loki.Settings{
		Addr: addr, OrgID: k.orgID, Username: k.username, BearerTokenFile: k.tokenFile,
		CACertPath: k.caCert, ClientCertPath: k.clientCert, ClientKeyPath: k.key,
		Timeout: k.timeout, UserAgent: "audittui",
	}
	if k.changed("loki-tls-skip-verify") {
		st.TLSSkipVerify = &k.skipVerify
	}
	cfg, err := loki.ConfigFrom(st, k.lookupEnv)
	if err != nil {
		return cfg, err
	}
	if k.batch <= 0 {
		return cfg, fmt.Errorf("--loki-batch must be positive")
	}
	if k.parallelWorkers <= 0 {
		return cfg, fmt.Errorf("--loki-parallel-max-workers must be positive")
	}
	return cfg, nil
}

// client builds a client for addr (a SOURCE argument or --loki-addr).
func (k *lokiKind) client(addr string) (*loki.Client, error) {
	cfg, err := k.config(addr)
	if err != nil {
		return nil, err
	}
	return loki.NewClient(cfg)
}

func (k *lokiKind) source(addr string) (data.Source, error) {
	c, err := k.client(addr)
	if err != nil {
		return nil, err
	}
	return loki.NewSource(c, loki.SourceOptions{
		DefaultQuery:       k.selector,
		Since:              k.since,
		BatchSize:          k.batch,
		ParallelDuration:   k.parallelDuration,
		ParallelMaxWorkers: k.parallelWorkers,
	}), nil
}

func (k *lokiKind) Open(ctx context.Context, arg string, common *SourceOptions) (data.Source, error) {
	return k.source(arg)
}

// defaultAddr is --loki-addr, else LOKI_ADDR.
func (k *lokiKind) defaultAddr() string { return k.pick(k.addr, "LOKI_ADDR") }

func (k *lokiKind) Default(ctx context.Context, common *SourceOptions) (data.Source, bool, error) {
	addr := k.defaultAddr()
	if addr == "" {
		return nil, false, nil
	}
	src, err := k.source(addr)
	if err != nil {
		return nil, false, &ExitError{Code: ExitUsage, Err: err}
	}
	return src, true, nil
}
