package source

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/data/source/loki"
)

// Loki resolves loki://host:3100, lokis://host (TLS) and http(s):// sources,
// and supplies Loki as the default source when --loki-addr or LOKI_ADDR
// is set (as logcli does). Connection settings are resolved by
// loki.ConfigFrom, the rule ship uses too: a flag wins over logcli's
// LOKI_* variable, which wins over the default. Secrets (LOKI_PASSWORD,
// LOKI_BEARER_TOKEN) come from the environment or a file, never from
// flags that show in ps.
type Loki struct {
	opts                    *Options
	fs                      *pflag.FlagSet
	addr, orgID, username   string
	tokenFile               string
	caCert, clientCert, key string
	skipVerify              bool
	timeout                 time.Duration
	batch                   int
	parallelDuration        time.Duration
	parallelWorkers         int
	selector                string
	since                   time.Duration
	lag                     time.Duration
	// job, when set (by the Set), is the job --label gives: the default
	// selector reads it unless --loki-selector is given.
	job func() string
}

// NewLoki binds the Loki flags alone to fs (for commands that talk to Loki
// without reading sources, such as `audittui loki`).
func NewLoki(fs *pflag.FlagSet, opts Options) *Loki { return newLoki(fs, &opts) }

func newLoki(fs *pflag.FlagSet, opts *Options) *Loki {
	k := &Loki{opts: opts, fs: fs}
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
	fs.DurationVar(&k.lag, "loki-lag", loki.DefaultLag, "a window is on the events' own time: Loki entries stamped up to this long after (or before) their event are fetched around it (shippers stamp entries when they read the line)")
	return k
}

// match: Loki's own schemes, and http(s):// URLs (a SOURCE that is a URL
// is a server, never a local file).
func (k *Loki) match(arg string) bool {
	for _, p := range []string{"loki://", "lokis://", "http://", "https://"} {
		if strings.HasPrefix(arg, p) {
			return true
		}
	}
	return false
}

// Addr is the address to use without a SOURCE argument: --loki-addr, else
// LOKI_ADDR ("" when neither is set).
func (k *Loki) Addr() string {
	if k.addr != "" {
		return k.addr
	}
	v, _ := k.opts.getenv(loki.EnvAddr)
	return v
}

// Selector is --loki-selector; when it is not given and --label sets a
// job, {job="that job"}.
func (k *Loki) Selector() string {
	if k.job != nil && (k.fs == nil || !k.fs.Changed("loki-selector")) {
		if j := k.job(); j != data.DefaultJob {
			return "{job=" + strconv.Quote(j) + "}"
		}
	}
	return k.selector
}

// Config resolves the client settings for addr (a SOURCE argument or Addr).
func (k *Loki) Config(addr string) (loki.Config, error) {
	st := loki.Settings{
		Addr: addr, OrgID: k.orgID, Username: k.username, BearerTokenFile: k.tokenFile,
		CACertPath: k.caCert, ClientCertPath: k.clientCert, ClientKeyPath: k.key,
		Timeout: k.timeout, UserAgent: "audittui",
	}
	if k.fs != nil && k.fs.Changed("loki-tls-skip-verify") {
		st.TLSSkipVerify = &k.skipVerify
	}
	cfg, err := loki.ConfigFrom(st, k.opts.getenv)
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

// Client builds a client for addr.
func (k *Loki) Client(addr string) (*loki.Client, error) {
	cfg, err := k.Config(addr)
	if err != nil {
		return nil, err
	}
	return loki.NewClient(cfg)
}

// Source builds the source reading from addr.
func (k *Loki) Source(addr string) (*loki.Source, error) {
	c, err := k.Client(addr)
	if err != nil {
		return nil, err
	}
	if k.lag < 0 {
		return nil, fmt.Errorf("--loki-lag %s: want a positive duration, or 0 for no margin", k.lag)
	}
	lag := k.lag
	if lag == 0 {
		lag = -1 // no margin (SourceOptions' 0 is the default)
	}
	return loki.NewSource(c, loki.SourceOptions{
		DefaultQuery:       k.Selector(),
		Since:              k.since,
		Lag:                lag,
		BatchSize:          k.batch,
		ParallelDuration:   k.parallelDuration,
		ParallelMaxWorkers: k.parallelWorkers,
	})
}

func (k *Loki) open(_ context.Context, arg string) (data.Source, error) { return k.Source(arg) }

func (k *Loki) defaultSource(context.Context) (data.Source, bool, error) {
	addr := k.Addr()
	if addr == "" {
		return nil, false, nil
	}
	src, err := k.Source(addr)
	if err != nil {
		return nil, false, err
	}
	return src, true, nil
}
