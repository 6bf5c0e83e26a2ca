package shipfaults

import (
	"fmt"
	"os"
	"sort"
	"strings"
)

// Config is the ship.yaml a scenario runs with: the options of deploy/ship.yaml,
// with test-sized values. Empty strings leave ship's default.
type Config struct {
	Path               string
	StateDir           string
	Cluster            string
	MetricsAddr        string
	RefreshInterval    string
	MemBufLimit        string
	MaxLineSize        string
	CheckpointInterval string
	GracePeriod        string
	LogLevel           string

	LokiURL        string
	LokiBatchSize  string
	LokiBatchWait  string
	LokiTimeout    string
	LokiMinBackoff string
	LokiMaxBackoff string
	// LokiDeadLetterFile receives batches Loki refuses (4xx).
	LokiDeadLetterFile string
	// LokiStoreDir turns on the Loki sink's disk buffer (Loki.Store_dir);
	// LokiStoreLimit is its Store_dir_limit_size.
	LokiStoreDir   string
	LokiStoreLimit string

	S3Endpoint      string
	S3Bucket        string
	S3Prefix        string // key prefix, without slashes at either end
	S3Region        string
	S3TotalFileSize string
	S3UploadTimeout string
	S3StoreDir      string

	// Extra are further top-level options (name: value), for options an
	// issue asks for that ship may not know yet.
	Extra map[string]string
}

// YAML renders the config file.
func (c Config) YAML() string {
	var b strings.Builder
	opt := func(indent, k, v string) {
		if v != "" {
			fmt.Fprintf(&b, "%s%s: %s\n", indent, k, yamlScalar(v))
		}
	}
	opt("", "Path", c.Path)
	opt("", "Refresh_Interval", c.RefreshInterval)
	opt("", "Mem_Buf_Limit", c.MemBufLimit)
	opt("", "Max_line_size", c.MaxLineSize)
	opt("", "Cluster", c.Cluster)
	opt("", "State_dir", c.StateDir)
	opt("", "Checkpoint_interval", c.CheckpointInterval)
	opt("", "Metrics_addr", c.MetricsAddr)
	opt("", "Grace_period", c.GracePeriod)
	opt("", "Log_level", c.LogLevel)
	keys := make([]string, 0, len(c.Extra))
	for k := range c.Extra {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		opt("", k, c.Extra[k])
	}
	if c.LokiURL != "" {
		b.WriteString("Loki:\n")
		opt("  ", "URL", c.LokiURL)
		b.WriteString("  Label_keys: $verb,$objectRef['resource']\n")
		b.WriteString("  Structured_metadata_keys: $user['username'],$objectRef['namespace']\n")
		opt("  ", "Batch_size", c.LokiBatchSize)
		opt("  ", "Batch_wait", c.LokiBatchWait)
		opt("  ", "Timeout", c.LokiTimeout)
		opt("  ", "Min_backoff", c.LokiMinBackoff)
		opt("  ", "Max_backoff", c.LokiMaxBackoff)
		opt("  ", "Dead_letter_file", c.LokiDeadLetterFile)
		opt("  ", "Store_dir", c.LokiStoreDir)
		opt("  ", "Store_dir_limit_size", c.LokiStoreLimit)
	}
	if c.S3Bucket != "" {
		b.WriteString("S3:\n")
		opt("  ", "Bucket", c.S3Bucket)
		opt("  ", "Region", c.S3Region)
		opt("  ", "Endpoint", c.S3Endpoint)
		opt("  ", "S3_key_format", "/"+c.S3Prefix+"/%Y/%m/%d/%H/%M/%S-$UUID.json")
		opt("  ", "Total_file_size", c.S3TotalFileSize)
		opt("  ", "Upload_timeout", c.S3UploadTimeout)
		opt("  ", "Store_dir", c.S3StoreDir)
		b.WriteString("  Compression: gzip\n")
	}
	return b.String()
}

// yamlScalar quotes values YAML would otherwise read as something else.
func yamlScalar(v string) string {
	if strings.ContainsAny(v, ":#{}[],&*!|>'\"%@`") || strings.HasPrefix(v, "$") {
		return fmt.Sprintf("%q", v)
	}
	return v
}

// Write writes the config file.
func (c Config) Write(path string) error { return os.WriteFile(path, []byte(c.YAML()), 0o640) }
