package config

import (
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestParseFluentBitStyle(t *testing.T) {
	src := `
Path: /var/log/kubernetes/audit/audit.log
Refresh_Interval: 5
Mem_Buf_Limit: 50MB
Cluster: ${CLUSTER_NAME}
RemoveKeys: annotations, requestObject.metadata.managedFields
Loki:
  URL: http://loki.logging.svc.cluster.local:3100
  Labels: job=audit, cluster=${CLUSTER_NAME}
  Label_keys: $verb,$user['username'],$objectRef['resource'],$objectRef['namespace']
S3:
  Bucket: kubernetes-audit-logs
  Region: us-east-1
  S3_key_format: /audit-logs/${CLUSTER_NAME}/%Y/%m/%d/%H/%M/%S-$UUID.json
  Total_file_size: 50M
  Upload_timeout: 1m
  store_dir: /var/log/fluent-bit-buffer
`
	c, err := Parse([]byte(src), env(map[string]string{"CLUSTER_NAME": "prod-eu"}))
	if err != nil {
		t.Fatal(err)
	}
	c.ApplyDefaults()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.RefreshInterval.D() != 5*time.Second || c.MemBufLimit != 50<<20 || c.Cluster != "prod-eu" {
		t.Errorf("got refresh %v membuf %d cluster %q", c.RefreshInterval.D(), c.MemBufLimit, c.Cluster)
	}
	if got := []string(*c.RemoveKeys); len(got) != 2 || got[0] != "annotations" {
		t.Errorf("RemoveKeys = %q", got)
	}
	if len(c.Loki.Labels) != 2 || c.Loki.Labels[1] != (Label{"cluster", "prod-eu"}) {
		t.Errorf("Labels = %v", c.Loki.Labels)
	}
	if len(c.Loki.LabelKeys) != 4 || c.Loki.LabelKeys[1] != "$user['username']" {
		t.Errorf("Label_keys = %q", c.Loki.LabelKeys)
	}
	if c.S3.TotalFileSize != 50<<20 || c.S3.UploadTimeout.D() != time.Minute || c.S3.StoreDir != "/var/log/fluent-bit-buffer" {
		t.Errorf("S3 = %+v", c.S3)
	}
	if c.S3.KeyFormat != "/audit-logs/prod-eu/%Y/%m/%d/%H/%M/%S-$UUID.json" {
		t.Errorf("key format %q", c.S3.KeyFormat)
	}
	if *c.S3.PathStyle {
		t.Errorf("path style without endpoint")
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct{ name, src, want string }{
		{"unknown top", "Path: /a\nBogus: 1\n", `unknown option "Bogus"`},
		{"unknown nested", "Path: /a\nLoki:\n  URL: http://x\n  Lables: a=b\n", `unknown option "Lables"`},
		{"bad size", "Path: /a\nMem_Buf_Limit: 5Q\n", `invalid size unit`},
		{"bad duration", "Path: /a\nRefresh_Interval: soon\n", `invalid duration`},
		{"unset env", "Path: /a\nCluster: ${NOPE}\n", `line 2: environment variable NOPE is not set`},
		{"type", "Path: [1]\n", `Path`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.src), env(nil))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	tests := []struct{ name, src, want string }{
		{"no path", "Loki: {URL: 'http://x'}", "option Path: required"},
		{"no sink", "Path: /a", "no sink configured"},
		{"bad url", "Path: /a\nLoki: {URL: 'ftp://loki:3100'}", "option Loki.URL"},
		{"url without host", "Path: /a\nLoki: {URL: 'https://'}", "option Loki.URL"},
		{"bad label", "Path: /a\nLoki: {URL: 'http://x', Labels: '9x=1'}", "option Loki.Labels"},
		{"gz path", "Path: /a.gz\nLoki: {URL: 'http://x'}", "compressed"},
		{"no bucket", "Path: /a\nS3: {Region: x}", "option S3.Bucket"},
		{"compression", "Path: /a\nS3: {Bucket: b, Compression: zip}", "option S3.Compression"},
		{"no uuid", "Path: /a\nS3: {Bucket: b, S3_key_format: /x/%Y}", "option S3.S3_key_format"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse([]byte(tt.src), env(nil))
			if err != nil {
				t.Fatal(err)
			}
			c.ApplyDefaults()
			err = c.Validate()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestSubstituteDefault(t *testing.T) {
	out, err := Substitute([]byte("a: ${X:-dflt}\n# ${IGNORED}\nb: ${Y}"), env(map[string]string{"Y": "y"}))
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != "a: dflt\n# ${IGNORED}\nb: y" {
		t.Errorf("got %q", out)
	}
}

func TestParseFieldKey(t *testing.T) {
	tests := []struct {
		in, label string
		path      []string
	}{
		{"$verb", "verb", []string{"verb"}},
		{"$user['username']", "user_username", []string{"user", "username"}},
		{`$objectRef["namespace"]`, "objectRef_namespace", []string{"objectRef", "namespace"}},
		{"responseStatus.code", "responseStatus_code", []string{"responseStatus", "code"}},
	}
	for _, tt := range tests {
		p, l, err := ParseFieldKey(tt.in)
		if err != nil || l != tt.label || strings.Join(p, "/") != strings.Join(tt.path, "/") {
			t.Errorf("%s: got %v %q %v", tt.in, p, l, err)
		}
	}
	for _, bad := range []string{"", "$user['x'", "a..b"} {
		if _, _, err := ParseFieldKey(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestSizes(t *testing.T) {
	for in, want := range map[string]Size{"1M": 1 << 20, "1MiB": 1 << 20, "512k": 512 << 10, "100": 100, "1.5G": 3 << 29} {
		got, err := ParseSize(in)
		if err != nil || got != want {
			t.Errorf("%s: %d %v", in, got, err)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("Path: /a\nLoki: {URL: 'http://x', Labels: 'a=b'}\n"))
	f.Add([]byte("Mem_Buf_Limit: 5M\nRemoveKeys: [a, b]\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := Parse(b, env(map[string]string{}))
		if err != nil {
			return
		}
		c.ApplyDefaults()
		_ = c.Validate()
	})
}

func TestOverrides(t *testing.T) {
	c, err := Parse([]byte("Path: /a\nLoki: {URL: 'http://x:3100'}\nRedact: true\n"), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	p, u, b, ep, yes := "/b", "http://loki:3100", "bucket", "http://127.0.0.1:7070", true
	c.Apply(Overrides{Path: &p, LokiURL: &u, S3Bucket: &b, S3Endpoint: &ep, NoRedact: &yes})
	c.ApplyDefaults()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.Path != "/b" || c.Loki.URL != u || c.S3.Bucket != b || c.S3.Endpoint != ep || *c.Redact || !*c.S3.PathStyle {
		t.Errorf("config after overrides: %+v %+v", c, c.S3)
	}
	// Flags alone make a complete config.
	var c2 Config
	c2.Apply(Overrides{Path: &p, S3Bucket: &b})
	c2.ApplyDefaults()
	if err := c2.Validate(); err != nil || c2.Loki != nil || c2.S3.StoreDir != DefaultStateDir+"/s3-buffer" {
		t.Errorf("flags only: %v %+v", err, c2.S3)
	}
}

func TestDefaultKeyFormatUsesCluster(t *testing.T) {
	c := &Config{Path: "/a", Cluster: "c9", S3: &S3{Bucket: "b"}}
	c.ApplyDefaults()
	if c.S3.KeyFormat != "/audit-logs/c9/%Y/%m/%d/%H/%M/%S-$UUID.json" {
		t.Errorf("key format %q", c.S3.KeyFormat)
	}
}

func TestValidateIssue12Options(t *testing.T) {
	tests := []struct{ name, src, want string }{
		{"loki port", "Path: /a\nLoki: {URL: 'http://u:pw@loki:65536'}", `option Loki.URL: "http://u:xxxxx@loki:65536": port "65536" is not in 1-65535`},
		{"lokis port", "Path: /a\nLoki: {URL: 'lokis://loki:0'}", `port "0"`},
		{"s3 port", "Path: /a\nS3: {Bucket: b, Endpoint: 'http://127.0.0.1:123456'}", "option S3.Endpoint"},
		{"metrics port", "Path: /a\nMetrics_addr: ':99999'\nS3: {Bucket: b}", "option Metrics_addr"},
		{"line over budget", "Path: /a\nMem_Buf_Limit: 8M\nMax_line_size: 16M\nS3: {Bucket: b}", "option Max_line_size"},
		{"loki line over budget", "Path: /a\nMem_Buf_Limit: 4M\nLoki: {URL: 'http://x', Max_line_size: 2M}", "option Loki.Max_line_size"},
		{"pattern", "Path: /a\nRotated_path: 'audit.log.[x'\nS3: {Bucket: b}", "option Rotated_path"},
		{"s3 backoff", "Path: /a\nS3: {Bucket: b, Min_backoff: 1m, Max_backoff: 1s}", "option S3.Min_backoff"},
		{"unparsable url keeps no password", "Path: /a\nLoki: {URL: 'lokis://u:PASSWORD@loki:9x'}", "option Loki.URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse([]byte(tt.src), env(nil))
			if err != nil {
				t.Fatal(err)
			}
			c.ApplyDefaults()
			err = c.Validate()
			if err == nil || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "PASSWORD") || strings.Contains(err.Error(), ":pw@") {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
	// Accepted: every scheme the CLI accepts; dry runs need no sink.
	for _, u := range []string{"lokis://loki:3100", "loki://loki", "https://loki/loki/api/v1/push", "loki:3100"} {
		c, _ := Parse([]byte("Path: /a\nLoki: {URL: '"+u+"'}"), env(nil))
		c.ApplyDefaults()
		if err := c.Validate(); err != nil {
			t.Errorf("%s: %v", u, err)
		}
	}
	c, _ := Parse([]byte("Path: /a"), env(nil))
	c.ApplyDefaults()
	if err := c.ValidateDryRun(); err != nil {
		t.Errorf("dry run: %v", err)
	}
}

func TestIssue12Defaults(t *testing.T) {
	c, _ := Parse([]byte("Path: /a\nMem_Buf_Limit: 8M\nLoki: {URL: 'http://x'}\nS3: {Bucket: b}"), env(nil))
	c.ApplyDefaults()
	if c.MaxLineSize != 8<<20 || c.OverlongLimit != 256<<20 || c.ReadyAckTimeout.D() != 2*time.Minute || c.Loki.MaxLineSize != 256<<10 ||
		c.S3.RetryLimit != 3 || c.S3.MinBackoff.D() != 500*time.Millisecond || c.S3.MaxBackoff.D() != 10*time.Second {
		t.Fatalf("defaults: %+v %+v %+v", c, c.Loki, c.S3)
	}
	c, err := Parse([]byte("Path: /a\nReady_ack_timeout: 3s\nRotated_path: a.old, b.*\nOverlong_lines_limit_size: 1G\nS3: {Bucket: b, Retry_limit: 7, Min_backoff: 100ms, Max_backoff: 2s}"), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.ReadyAckTimeout.D() != 3*time.Second || len(c.RotatedPath) != 2 || c.OverlongLimit != 1<<30 || c.S3.RetryLimit != 7 || c.S3.MaxBackoff.D() != 2*time.Second {
		t.Fatalf("parsed %+v %+v", c, c.S3)
	}
}

func TestRedactURLThatDoesNotParse(t *testing.T) {
	for in, want := range map[string]string{
		"lokis://u:PASSWORD@loki:9x":  "lokis://u:xxxxx@loki:9x",
		"http://u:p@ss@host:99999/x":  "http://u:xxxxx@ss@host:99999/x",
		"lokis://loki:9x":             "lokis://loki:9x",
		"https://user:pw@loki:3100/a": "https://user:xxxxx@loki:3100/a",
	} {
		if got := RedactURL(in); strings.Contains(got, "PASSWORD") || strings.Contains(got, ":pw@") || !strings.HasPrefix(got, want[:12]) {
			t.Errorf("RedactURL(%q) = %q", in, got)
		}
	}
}

// Loki.Store_dir is opt-in; its limit defaults to 1G with it, and the
// errors name the option.
func TestLokiStoreDirOptions(t *testing.T) {
	tests := []struct{ name, src, want string }{
		{"limit without dir", "Path: /a\nLoki: {URL: 'http://x', Store_dir_limit_size: 1G}", "option Loki.Store_dir_limit_size: set without Loki.Store_dir"},
		{"limit below a push", "Path: /a\nLoki: {URL: 'http://x', Store_dir: /b, Store_dir_limit_size: 512K, Batch_size: 1M}", "option Loki.Store_dir_limit_size: 524288 bytes is smaller than Loki.Batch_size"},
		{"shared with S3", "Path: /a\nLoki: {URL: 'http://x', Store_dir: /s/buf/}\nS3: {Bucket: b, Store_dir: /s/buf}", `option Loki.Store_dir: "/s/buf/" is also S3.Store_dir`},
		{"state dir", "Path: /a\nState_dir: /st\nLoki: {URL: 'http://x', Store_dir: /st}", `option Loki.Store_dir: "/st" is State_dir`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse([]byte(tt.src), env(nil))
			if err != nil {
				t.Fatal(err)
			}
			c.ApplyDefaults()
			err = c.Validate()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
	c, _ := Parse([]byte("Path: /a\nLoki: {URL: 'http://x'}"), env(nil))
	c.ApplyDefaults()
	if c.Loki.StoreDir != "" || c.Loki.StoreDirLimitSize != 0 {
		t.Errorf("Loki.Store_dir is on by default: %q %d", c.Loki.StoreDir, c.Loki.StoreDirLimitSize)
	}
	c, _ = Parse([]byte("Path: /a\nLoki: {URL: 'http://x', Store_dir: /b}"), env(nil))
	c.ApplyDefaults()
	if err := c.Validate(); err != nil || c.Loki.StoreDirLimitSize != 1<<30 {
		t.Errorf("Store_dir alone: limit %d, err %v", c.Loki.StoreDirLimitSize, err)
	}
}
