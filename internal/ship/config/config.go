// Package config reads audittui ship's configuration: a YAML file whose
// option names follow the Fluent Bit settings users already run (Path,
// Refresh_Interval, Mem_Buf_Limit, Labels, Label_keys, RemoveKeys,
// S3_key_format, Total_file_size, Upload_timeout, Store_dir), with ${ENV}
// substitution. Keys match case-insensitively; unknown keys are errors.
package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/data/source/loki"
)

// Config is the whole ship configuration.
type Config struct {
	// Path is the audit log the apiserver writes (--audit-log-path).
	Path string `json:"Path"`
	// Refresh_Interval is how often the file is polled when no filesystem
	// notification arrives (the polling fallback).
	RefreshInterval Duration `json:"Refresh_Interval"`
	// Mem_Buf_Limit bounds the bytes read but not yet acknowledged by every
	// sink. When reached, reading stops until sinks catch up (the audit
	// file is the buffer). ship sets the Go memory limit to this + 16 MiB.
	MemBufLimit Size `json:"Mem_Buf_Limit"`
	// Max_line_size: a longer line is not shipped; it is written whole to
	// State_dir/overlong-lines.jsonl (see Overlong_lines_limit_size) and
	// counted (audittui_ship_lines_too_long_total). Shorter lines are
	// shipped whole: one longer than 1 MiB is spooled to State_dir/spool as
	// it is read and processed with a single copy in memory, accounted in
	// Mem_Buf_Limit, so it may not be larger than that. Default 16M (or
	// Mem_Buf_Limit when smaller).
	MaxLineSize Size `json:"Max_line_size"`
	// Overlong_lines_limit_size caps the overflow file of lines longer
	// than Max_line_size: a line that would not fit is not written, and is
	// counted (audittui_ship_overlong_dropped_lines_total and _bytes_total).
	// Move the file away to make room: ship starts a new one. Default 256M.
	OverlongLimit Size `json:"Overlong_lines_limit_size"`
	// Rotated_path: glob patterns (a list, or comma-separated) naming
	// rotated copies of Path beyond the names ship knows: the apiserver's
	// (audit-<time>.log[.gz]) and logrotate's (audit.log.1,
	// audit.log.2.gz, audit.log-20260101[.gz]). Relative patterns are
	// relative to Path's directory.
	RotatedPath StringList `json:"Rotated_path"`
	// Cluster is added to every event as "cluster" and used as the cluster
	// label.
	Cluster string `json:"Cluster"`
	// Add: extra top-level keys added to every event when absent
	// (Fluent Bit's modify filter). Default source=k8s-audit.
	Add LabelMap `json:"Add"`
	// RemoveKeys: dotted paths removed from events; "*" matches any key or
	// array element. Replaces the default list when set.
	RemoveKeys *StringList `json:"RemoveKeys"`
	// Redact replaces Secret data/stringData values with a hash (default true).
	Redact *bool `json:"Redact"`
	// Redact_key_file: optional file with a key for HMAC-SHA256 redaction
	// hashes (without it a plain SHA-256 is used).
	RedactKeyFile string `json:"Redact_key_file"`
	// State_dir holds the checkpoint file.
	StateDir string `json:"State_dir"`
	// Checkpoint_interval: how often the checkpoint is made durable
	// (fsync). Progress is written to it after every acknowledged batch,
	// so a crash of ship (kill -9, OOM) re-sends at most one batch per
	// sink; a crash of the machine may re-send up to this much more.
	CheckpointInterval Duration `json:"Checkpoint_interval"`
	// Ready_ack_timeout: /readyz fails when a sink holding lines has
	// acknowledged none for this long (S3: also when a chunk has waited
	// this long for a successful upload), or when the checkpoint cannot
	// be written. Default 2m.
	ReadyAckTimeout Duration `json:"Ready_ack_timeout"`
	// Metrics_addr serves /metrics, /healthz and /readyz ("" = off).
	MetricsAddr string `json:"Metrics_addr"`
	// Grace_period bounds the flush on SIGTERM.
	GracePeriod Duration `json:"Grace_period"`
	// Log_level: debug, info, warn, error.
	LogLevel string `json:"Log_level"`

	Loki *Loki `json:"Loki"`
	S3   *S3   `json:"S3"`
}

// Loki configures the Loki sink.
type Loki struct {
	// URL is Loki's base URL (http://loki:3100; loki:// and lokis:// as
	// for the CLI) or a full push URL. Default LOKI_ADDR.
	URL string `json:"URL"`
	// Labels are static stream labels; job=audit and cluster are added
	// unless set here.
	Labels LabelMap `json:"Labels"`
	// Label_keys become stream labels from event fields, written as
	// $verb, $user['username'] or user.username.
	LabelKeys StringList `json:"Label_keys"`
	// Structured_metadata_keys are sent as structured metadata instead of
	// labels (for high-cardinality fields).
	StructuredMetadataKeys StringList `json:"Structured_metadata_keys"`
	// Tenant_id, Username, CA_file, Cert_file, Key_file and
	// Insecure_skip_verify default to LOKI_ORG_ID, LOKI_USERNAME,
	// LOKI_CA_CERT_PATH, LOKI_CLIENT_CERT_PATH, LOKI_CLIENT_KEY_PATH and
	// LOKI_TLS_SKIP_VERIFY (the CLI's rule: an option set here wins over
	// the variable, see loki.ConfigFrom).
	TenantID string `json:"Tenant_id"`
	Username string `json:"Username"`
	// Password_file / Bearer_token_file hold secrets; LOKI_PASSWORD and
	// LOKI_BEARER_TOKEN_FILE or LOKI_BEARER_TOKEN are used when the files
	// are not set.
	PasswordFile       string `json:"Password_file"`
	BearerTokenFile    string `json:"Bearer_token_file"`
	CAFile             string `json:"CA_file"`
	CertFile           string `json:"Cert_file"`
	KeyFile            string `json:"Key_file"`
	InsecureSkipVerify *bool  `json:"Insecure_skip_verify"`
	// Batch_size / Batch_wait: a push is sent when either is reached.
	BatchSize Size     `json:"Batch_size"`
	BatchWait Duration `json:"Batch_wait"`
	// Timeout per push request.
	Timeout Duration `json:"Timeout"`
	// Min_backoff / Max_backoff bound the retry delays.
	MinBackoff Duration `json:"Min_backoff"`
	MaxBackoff Duration `json:"Max_backoff"`
	// Dead_letter_file receives the lines Loki refuses permanently (4xx
	// other than 429), and the ones longer than Max_line_size, one JSON
	// line per push with the reason.
	DeadLetterFile string `json:"Dead_letter_file"`
	// Dead_letter_limit_size caps the dead-letter file: a refusal that
	// finds it at the cap is not written (counted and logged).
	DeadLetterLimit Size `json:"Dead_letter_limit_size"`
	// Max_line_size: lines longer than this are not pushed (Loki would
	// answer 400) but written to Dead_letter_file; set it to the
	// server's limits_config.max_line_size. Default 256KB (Loki's
	// default); at most Mem_Buf_Limit/4.
	MaxLineSize Size `json:"Max_line_size"`
	// Store_dir, when set, is a disk buffer for the Loki sink (opt-in, as
	// Fluent Bit's filesystem storage): lines are acknowledged once
	// fsynced there and pushed from it, so a Loki outage does not hold
	// reading (and S3) until Store_dir_limit_size is reached.
	StoreDir string `json:"Store_dir,omitempty"`
	// Store_dir_limit_size caps that buffer (default 1G); when full, the
	// Loki sink acknowledges nothing and reading stops.
	StoreDirLimitSize Size `json:"Store_dir_limit_size,omitempty"`
}

// S3 configures the S3 sink.
type S3 struct {
	Bucket   string `json:"Bucket"`
	Region   string `json:"Region"`
	Endpoint string `json:"Endpoint"`
	// Path_style addressing (default true when Endpoint is set).
	PathStyle *bool `json:"Path_style"`
	// S3_key_format: strftime, $UUID, ${ENV}.
	KeyFormat string `json:"S3_key_format"`
	// Total_file_size: a chunk is uploaded when it reaches this size.
	TotalFileSize Size `json:"Total_file_size"`
	// Upload_timeout: a chunk is uploaded when it is this old.
	UploadTimeout Duration `json:"Upload_timeout"`
	// Store_dir is the disk buffer for chunks.
	StoreDir string `json:"Store_dir"`
	// Store_dir_limit_size caps the disk buffer; when full, reading stops.
	StoreDirLimitSize Size `json:"Store_dir_limit_size"`
	// Compression: "gzip" or "none".
	Compression string `json:"Compression"`
	// Upload_chunk_size: part size for multipart uploads; chunks larger than
	// this use multipart, smaller ones PutObject.
	UploadChunkSize Size `json:"Upload_chunk_size"`
	// Retry_limit: attempts of one S3 request inside the AWS SDK (its
	// standard retryer, backoff capped by Max_backoff) before the upload
	// counts as failed; failed uploads are retried after Min_backoff,
	// doubling up to Max_backoff, and never abandoned. Default 3.
	RetryLimit int `json:"Retry_limit"`
	// Min_backoff / Max_backoff bound the wait between upload attempts:
	// after an outage, a chunk is uploaded at most Max_backoff (plus the
	// SDK's retries) after S3 is back. Defaults 500ms and 10s.
	MinBackoff Duration `json:"Min_backoff"`
	MaxBackoff Duration `json:"Max_backoff"`
}

// Defaults.
const (
	DefaultRefreshInterval    = 5 * time.Second
	DefaultMemBufLimit        = 16 << 20
	DefaultMaxLineSize        = 16 << 20
	DefaultOverlongLimit      = 256 << 20
	DefaultDeadLetterLimit    = 256 << 20
	DefaultReadyAckTimeout    = 2 * time.Minute
	DefaultLokiMaxLineSize    = 256 << 10
	DefaultS3RetryLimit       = 3
	DefaultS3MinBackoff       = 500 * time.Millisecond
	DefaultS3MaxBackoff       = 10 * time.Second
	DefaultCheckpointInterval = time.Second
	DefaultGracePeriod        = 20 * time.Second
	DefaultLokiBatchSize      = 1 << 20
	DefaultLokiBatchWait      = time.Second
	DefaultLokiTimeout        = 10 * time.Second
	DefaultMinBackoff         = 500 * time.Millisecond
	DefaultMaxBackoff         = 5 * time.Minute
	DefaultS3KeyFormat        = "/audit-logs/${CLUSTER_NAME}/%Y/%m/%d/%H/%M/%S-$UUID.json"
	DefaultTotalFileSize      = 50 << 20
	DefaultUploadTimeout      = time.Minute
	DefaultStoreDirLimit      = 1 << 30
	DefaultUploadChunkSize    = 8 << 20
	DefaultStateDir           = "/var/lib/audittui-ship"
)

// DefaultRemoveKeys removes managedFields inside request and response
// objects (single objects and list items).
var defaultRemoveKeys = []string{
	"requestObject.metadata.managedFields",
	"responseObject.metadata.managedFields",
	"requestObject.items.*.metadata.managedFields",
	"responseObject.items.*.metadata.managedFields",
}

// DefaultRemoveKeys returns the default RemoveKeys list.
func DefaultRemoveKeys() []string { return append([]string(nil), defaultRemoveKeys...) }

// Load reads a YAML config file, substituting ${ENV} with getenv.
func Load(path string, getenv func(string) (string, bool)) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	c, err := Parse(b, getenv)
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	return c, nil
}

var envRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)(:-([^}]*))?\}`)

// Substitute replaces ${NAME} and ${NAME:-default} with values from getenv.
// An unset variable without a default is an error naming it and its line.
func Substitute(b []byte, getenv func(string) (string, bool)) ([]byte, error) {
	var errs []error
	lines := bytes.Split(b, []byte("\n"))
	for i, ln := range lines {
		if bytes.HasPrefix(bytes.TrimSpace(ln), []byte("#")) {
			continue
		}
		lines[i] = envRef.ReplaceAllFunc(ln, func(m []byte) []byte {
			sub := envRef.FindSubmatch(m)
			name := string(sub[1])
			if v, ok := getenv(name); ok {
				return []byte(v)
			}
			if len(sub[2]) > 0 {
				return sub[3]
			}
			errs = append(errs, fmt.Errorf("line %d: environment variable %s is not set", i+1, name))
			return m
		})
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return bytes.Join(lines, []byte("\n")), nil
}

// Parse parses YAML config text.
func Parse(b []byte, getenv func(string) (string, bool)) (*Config, error) {
	if getenv == nil {
		getenv = os.LookupEnv
	}
	b, err := Substitute(b, getenv)
	if err != nil {
		return nil, err
	}
	js, err := yaml.YAMLToJSON(b)
	if err != nil {
		return nil, fmt.Errorf("yaml: %w", err)
	}
	c := &Config{}
	if len(bytes.TrimSpace(js)) == 0 || string(bytes.TrimSpace(js)) == "null" {
		return c, nil
	}
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.DisallowUnknownFields()
	if err := dec.Decode(c); err != nil {
		return nil, cleanJSONErr(err)
	}
	return c, nil
}

// cleanJSONErr turns encoding/json's messages into ones that name the key.
func cleanJSONErr(err error) error {
	msg := err.Error()
	if k, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
		return fmt.Errorf("unknown option %s", k)
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Errorf("option %s: expected %s, got %s", te.Field, te.Type, te.Value)
	}
	if strings.HasPrefix(msg, "json: cannot unmarshal") {
		return fmt.Errorf("%s", strings.TrimPrefix(msg, "json: "))
	}
	return errors.New(strings.TrimPrefix(msg, "json: "))
}

// ApplyDefaults fills unset options.
func (c *Config) ApplyDefaults() {
	if c.RefreshInterval == 0 {
		c.RefreshInterval = Duration(DefaultRefreshInterval)
	}
	if c.MemBufLimit == 0 {
		c.MemBufLimit = DefaultMemBufLimit
	}
	if c.MaxLineSize == 0 {
		c.MaxLineSize = min(DefaultMaxLineSize, c.MemBufLimit)
	}
	if c.OverlongLimit == 0 {
		c.OverlongLimit = DefaultOverlongLimit
	}
	if c.ReadyAckTimeout == 0 {
		c.ReadyAckTimeout = Duration(DefaultReadyAckTimeout)
	}
	if c.CheckpointInterval == 0 {
		c.CheckpointInterval = Duration(DefaultCheckpointInterval)
	}
	if c.GracePeriod == 0 {
		c.GracePeriod = Duration(DefaultGracePeriod)
	}
	if c.StateDir == "" {
		c.StateDir = DefaultStateDir
	}
	if c.Redact == nil {
		t := true
		c.Redact = &t
	}
	if c.RemoveKeys == nil {
		l := StringList(DefaultRemoveKeys())
		c.RemoveKeys = &l
	}
	if c.Add == nil {
		c.Add = LabelMap{{"source", "k8s-audit"}}
	}
	if c.LogLevel == "" {
		c.LogLevel = "info"
	}
	if l := c.Loki; l != nil {
		if l.BatchSize == 0 {
			l.BatchSize = DefaultLokiBatchSize
		}
		if l.BatchWait == 0 {
			l.BatchWait = Duration(DefaultLokiBatchWait)
		}
		if l.Timeout == 0 {
			l.Timeout = Duration(DefaultLokiTimeout)
		}
		if l.MinBackoff == 0 {
			l.MinBackoff = Duration(DefaultMinBackoff)
		}
		if l.MaxBackoff == 0 {
			l.MaxBackoff = Duration(DefaultMaxBackoff)
		}
		if l.DeadLetterFile == "" {
			l.DeadLetterFile = c.StateDir + "/loki-dead-letter.jsonl"
		}
		if l.DeadLetterLimit == 0 {
			l.DeadLetterLimit = DefaultDeadLetterLimit
		}
		if l.MaxLineSize == 0 {
			l.MaxLineSize = min(DefaultLokiMaxLineSize, c.MemBufLimit/4)
		}
		if l.StoreDir != "" && l.StoreDirLimitSize == 0 {
			l.StoreDirLimitSize = DefaultStoreDirLimit
		}
	}
	if s := c.S3; s != nil {
		if s.KeyFormat == "" {
			s.KeyFormat = DefaultS3KeyFormat
			if c.Cluster != "" {
				// The seed's format names the cluster through ${CLUSTER_NAME};
				// with --cluster the variable need not be set.
				s.KeyFormat = strings.ReplaceAll(s.KeyFormat, "${CLUSTER_NAME}", c.Cluster)
			}
		}
		if s.TotalFileSize == 0 {
			s.TotalFileSize = DefaultTotalFileSize
		}
		if s.UploadTimeout == 0 {
			s.UploadTimeout = Duration(DefaultUploadTimeout)
		}
		if s.StoreDir == "" {
			s.StoreDir = c.StateDir + "/s3-buffer"
		}
		if s.StoreDirLimitSize == 0 {
			s.StoreDirLimitSize = DefaultStoreDirLimit
		}
		if s.Compression == "" {
			s.Compression = "gzip"
		}
		if s.UploadChunkSize == 0 {
			s.UploadChunkSize = DefaultUploadChunkSize
		}
		if s.RetryLimit == 0 {
			s.RetryLimit = DefaultS3RetryLimit
		}
		if s.MinBackoff == 0 {
			s.MinBackoff = Duration(DefaultS3MinBackoff)
		}
		if s.MaxBackoff == 0 {
			s.MaxBackoff = Duration(DefaultS3MaxBackoff)
		}
		if s.PathStyle == nil {
			ps := s.Endpoint != ""
			s.PathStyle = &ps
		}
	}
}

// Validate checks the options; errors name the option and never quote a
// password (URLs are redacted).
func (c *Config) Validate() error { return c.validate(true) }

// ValidateDryRun checks the options as Validate does, except that no sink
// is needed (--dry-run sends nothing).
func (c *Config) ValidateDryRun() error { return c.validate(false) }

func (c *Config) validate(needSink bool) error {
	var errs []error
	bad := func(key, format string, a ...any) {
		errs = append(errs, fmt.Errorf("option %s: %s", key, fmt.Sprintf(format, a...)))
	}
	if c.Path == "" {
		bad("Path", "required (the apiserver's --audit-log-path)")
	} else if strings.HasSuffix(c.Path, ".gz") {
		bad("Path", "%q is compressed; point Path at the live audit log", c.Path)
	}
	if needSink && c.Loki == nil && c.S3 == nil {
		errs = append(errs, errors.New("no sink configured: set Loki.URL (--loki-url) and/or S3.Bucket (--s3-bucket)"))
	}
	if c.MemBufLimit < 64<<10 {
		bad("Mem_Buf_Limit", "%d bytes is too small (minimum 64K)", c.MemBufLimit)
	}
	if c.MaxLineSize > c.MemBufLimit {
		bad("Max_line_size", "%d bytes is more than Mem_Buf_Limit (%d): a line is processed in memory once, within that budget", c.MaxLineSize, c.MemBufLimit)
	}
	if c.MaxLineSize < 1<<10 && c.MaxLineSize != 0 {
		bad("Max_line_size", "%d bytes is too small (minimum 1K)", c.MaxLineSize)
	}
	for _, p := range c.RotatedPath {
		if _, err := filepath.Match(p, ""); err != nil {
			bad("Rotated_path", "%q: %v", p, err)
		}
	}
	if c.MetricsAddr != "" {
		if _, port, err := net.SplitHostPort(c.MetricsAddr); err != nil {
			bad("Metrics_addr", "%q: %v (use :2021 or 127.0.0.1:2021)", c.MetricsAddr, err)
		} else if err := checkPort(port, true); err != nil {
			bad("Metrics_addr", "%q: %v", c.MetricsAddr, err)
		}
	}
	switch strings.ToLower(c.LogLevel) {
	case "debug", "info", "warn", "warning", "error":
	default:
		bad("Log_level", "%q is not one of debug, info, warn, error", c.LogLevel)
	}
	if c.RemoveKeys != nil {
		for _, k := range *c.RemoveKeys {
			if strings.Contains(k, "..") || strings.HasPrefix(k, ".") || strings.HasSuffix(k, ".") {
				bad("RemoveKeys", "invalid path %q", k)
			}
		}
	}
	for _, a := range c.Add {
		if a.Name == "" {
			bad("Add", "empty key name")
		}
	}
	if l := c.Loki; l != nil {
		// Without URL, LOKI_ADDR is used (checked when the sink starts).
		if l.URL != "" {
			if err := loki.CheckAddr(l.URL); err != nil {
				bad("Loki.URL", "%s", RedactText(err.Error(), nil))
			} else if err := checkURLPort(l.URL); err != nil {
				bad("Loki.URL", "%q: %v", RedactURL(l.URL), err)
			}
		}
		if l.MaxLineSize > c.MemBufLimit/4 {
			bad("Loki.Max_line_size", "%d bytes is more than Mem_Buf_Limit/4 (%d)", l.MaxLineSize, c.MemBufLimit/4)
		}
		for _, lb := range l.Labels {
			if !data.ValidLabelName(lb.Name) {
				bad("Loki.Labels", "invalid label name %q", lb.Name)
			}
		}
		for _, k := range append(append([]string(nil), l.LabelKeys...), l.StructuredMetadataKeys...) {
			if _, _, err := ParseFieldKey(k); err != nil {
				bad("Loki.Label_keys", "%v", err)
			}
		}
		if (l.CertFile == "") != (l.KeyFile == "") {
			bad("Loki.Cert_file", "Cert_file and Key_file must be set together")
		}
		if l.MinBackoff > l.MaxBackoff {
			bad("Loki.Min_backoff", "greater than Max_backoff")
		}
		switch {
		case l.StoreDir == "" && l.StoreDirLimitSize != 0:
			bad("Loki.Store_dir_limit_size", "set without Loki.Store_dir (the Loki disk buffer is off)")
		case l.StoreDir != "" && l.StoreDirLimitSize < l.BatchSize:
			bad("Loki.Store_dir_limit_size", "%d bytes is smaller than Loki.Batch_size (%d)", l.StoreDirLimitSize, l.BatchSize)
		}
		if l.StoreDir != "" && c.S3 != nil && filepath.Clean(l.StoreDir) == filepath.Clean(c.S3.StoreDir) {
			bad("Loki.Store_dir", "%q is also S3.Store_dir: give each sink its own directory", l.StoreDir)
		}
		if l.StoreDir != "" && filepath.Clean(l.StoreDir) == filepath.Clean(c.StateDir) {
			bad("Loki.Store_dir", "%q is State_dir: use a directory of its own (e.g. State_dir/loki-buffer)", l.StoreDir)
		}
	}
	if s := c.S3; s != nil {
		if s.Bucket == "" {
			bad("S3.Bucket", "required when S3 is configured")
		}
		if s.Endpoint != "" {
			if u, err := url.Parse(s.Endpoint); err != nil || u.Scheme == "" || u.Host == "" {
				bad("S3.Endpoint", "%q is not a URL", RedactText(s.Endpoint, nil))
			} else if err := checkURLPort(s.Endpoint); err != nil {
				bad("S3.Endpoint", "%q: %v", RedactURL(s.Endpoint), err)
			}
		}
		if s.RetryLimit < 1 {
			bad("S3.Retry_limit", "%d: at least 1 attempt", s.RetryLimit)
		}
		if s.MinBackoff > s.MaxBackoff {
			bad("S3.Min_backoff", "greater than Max_backoff")
		}
		switch s.Compression {
		case "gzip", "none":
		default:
			bad("S3.Compression", "%q is not gzip or none", s.Compression)
		}
		if s.UploadChunkSize < 5<<20 {
			bad("S3.Upload_chunk_size", "minimum is 5M (S3 multipart part size)")
		}
		if s.StoreDirLimitSize < s.TotalFileSize {
			bad("S3.Store_dir_limit_size", "smaller than Total_file_size")
		}
		if !strings.Contains(s.KeyFormat, "$UUID") && !strings.Contains(s.KeyFormat, "$INDEX") {
			bad("S3.S3_key_format", "%q has no $UUID: chunks would overwrite each other", s.KeyFormat)
		}
	}
	return errors.Join(errs...)
}

// checkURLPort rejects a URL whose port is not 1..65535 (it would be
// retried forever instead of failing at start).
func checkURLPort(raw string) error {
	if !strings.Contains(raw, "://") {
		raw = "http://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil {
		return err
	}
	if p := u.Port(); p != "" {
		return checkPort(p, false)
	}
	return nil
}

func checkPort(p string, zeroOK bool) error {
	n, err := strconv.Atoi(p)
	if err != nil || n < 0 || n > 65535 || (n == 0 && !zeroOK) {
		return fmt.Errorf("port %q is not in 1-65535", p)
	}
	return nil
}

// ParseFieldKey parses a label key in Fluent Bit record-accessor form
// ($verb, $user['username']) or dotted form (user.username) into the JSON
// path and the label name Loki's "| json" would give it (user_username).
func ParseFieldKey(k string) (path []string, label string, err error) {
	s := strings.TrimSpace(k)
	if s == "" {
		return nil, "", fmt.Errorf("empty label key")
	}
	if strings.HasPrefix(s, "$") {
		s = s[1:]
		i := strings.IndexByte(s, '[')
		if i < 0 {
			path = []string{s}
		} else {
			path = []string{s[:i]}
			rest := s[i:]
			for rest != "" {
				if !strings.HasPrefix(rest, "[") {
					return nil, "", fmt.Errorf("label key %q: expected [ at %q", k, rest)
				}
				end := strings.IndexByte(rest, ']')
				if end < 0 {
					return nil, "", fmt.Errorf("label key %q: missing ]", k)
				}
				seg := strings.Trim(rest[1:end], `'"`)
				path = append(path, seg)
				rest = rest[end+1:]
			}
		}
	} else {
		path = strings.Split(s, ".")
	}
	for _, p := range path {
		if p == "" {
			return nil, "", fmt.Errorf("label key %q has an empty segment", k)
		}
	}
	label = strings.Join(path, "_")
	var b strings.Builder
	for i, r := range label {
		if r == '_' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (i > 0 && r >= '0' && r <= '9') {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return path, b.String(), nil
}
