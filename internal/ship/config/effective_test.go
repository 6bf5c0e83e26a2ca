package config

import (
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/audittui/audittui/internal/testutil"
)

// The effective config of the deploy sample loads again into the same
// config (defaults included), options in the Config type's order.
func TestEffectiveRoundTrip(t *testing.T) {
	c, err := Load(filepath.Join(testutil.RepoRoot(), "deploy", "ship.yaml"), env(map[string]string{"CLUSTER_NAME": "prod-eu-1", "NODE_NAME": "cp-node-1"}))
	if err != nil {
		t.Fatal(err)
	}
	c.ApplyDefaults()
	out, err := c.Effective(nil)
	if err != nil {
		t.Fatal(err)
	}
	back, err := Parse(out, env(nil))
	if err != nil {
		t.Fatalf("effective config does not load: %v\n%s", err, out)
	}
	// YAML maps reach the decoder with sorted keys (sigs.k8s.io/yaml), so
	// label order is compared as a set.
	for _, cc := range []*Config{c, back} {
		sort.Slice(cc.Loki.Labels, func(i, j int) bool { return cc.Loki.Labels[i].Name < cc.Loki.Labels[j].Name })
	}
	if !reflect.DeepEqual(back, c) {
		t.Errorf("round trip differs:\n got %+v\nwant %+v\n%s", back, c, out)
	}
	text := string(out)
	for _, want := range []string{"  Labels:\n    job: audit\n    cluster: prod-eu-1\n", "Path: /var/log/kubernetes/audit/audit.log\n", "Refresh_Interval: 5s\n", "Mem_Buf_Limit: 16M\n",
		"Max_backoff: 30s\n", "Store_dir_limit_size: 1G\n", "Redact: true\n"} {
		if !strings.Contains(text, want) {
			t.Errorf("effective config lacks %q:\n%s", want, text)
		}
	}
	if strings.Index(text, "Path:") > strings.Index(text, "Refresh_Interval:") || strings.Index(text, "Loki:") > strings.Index(text, "S3:") {
		t.Errorf("options out of order:\n%s", text)
	}
}

// Passwords in URLs, secret query parameters and known secret values never
// appear in the printed config.
func TestEffectiveRedacts(t *testing.T) {
	c, err := Parse([]byte(`
Path: /var/log/audit.log
Cluster: ${CLUSTER}
Loki:
  URL: https://audit:hunter2-loki@loki.example:3100/loki/api/v1/push?api_key=k3y-in-url&tenant=ops
  Labels: job=audit, team=${TEAM_TOKEN}
S3:
  Bucket: b
  Endpoint: https://minio:s3-pass-word@minio.local:9000
`), env(map[string]string{"CLUSTER": "prod", "TEAM_TOKEN": "tok-123456"}))
	if err != nil {
		t.Fatal(err)
	}
	c.ApplyDefaults()
	out, err := c.Effective([]string{"tok-123456", "ab"})
	if err != nil {
		t.Fatal(err)
	}
	text := string(out)
	for _, secret := range []string{"hunter2-loki", "k3y-in-url", "s3-pass-word", "tok-123456"} {
		if strings.Contains(text, secret) {
			t.Errorf("secret %q printed:\n%s", secret, text)
		}
	}
	for _, want := range []string{"https://audit:xxxxx@loki.example:3100/loki/api/v1/push?api_key=xxxxx&tenant=ops",
		"https://minio:xxxxx@minio.local:9000", "team: xxxxx", "Cluster: prod"} {
		if !strings.Contains(text, want) {
			t.Errorf("lacks %q:\n%s", want, text)
		}
	}
	// The config itself is untouched.
	if !strings.Contains(c.Loki.URL, "hunter2-loki") {
		t.Error("Effective changed the config")
	}
	if got := RedactURL("not a url"); got != "not a url" {
		t.Errorf("RedactURL(not a url) = %q", got)
	}
}

func TestSizeDurationText(t *testing.T) {
	for _, c := range []struct {
		v    any
		want string
	}{
		{Size(16 << 20), `"16M"`}, {Size(1 << 30), `"1G"`}, {Size(64 << 10), `"64K"`}, {Size(1000), `1000`}, {Size(0), `0`},
		{Duration(5e9), `"5s"`}, {Duration(60e9), `"1m"`}, {Duration(90e9), `"1m30s"`}, {Duration(3600e9), `"1h"`}, {Duration(5e8), `"500ms"`},
	} {
		var b []byte
		var err error
		switch v := c.v.(type) {
		case Size:
			b, err = v.MarshalJSON()
		case Duration:
			b, err = v.MarshalJSON()
		}
		if err != nil || string(b) != c.want {
			t.Errorf("%v: %s %v, want %s", c.v, b, err, c.want)
		}
	}
}

func TestRedactText(t *testing.T) {
	msg := `option Loki.URL: "ftp://u:pa55word@loki:3100/x?api_key=abc" is not an http(s) URL; token sekrit-token`
	got := RedactText(msg, []string{"sekrit-token"})
	want := `option Loki.URL: "ftp://u:xxxxx@loki:3100/x?api_key=xxxxx" is not an http(s) URL; token xxxxx`
	if got != want {
		t.Errorf("RedactText:\n got %s\nwant %s", got, want)
	}
}
