package ship

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/audittui/audittui/internal/cli/clitest"
	"github.com/audittui/audittui/internal/cli/cmdutil"
	"github.com/audittui/audittui/internal/ship/config"
)

func runCheckCmd(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	ios, out, errb := clitest.Streams("")
	mk := func(f *cmdutil.Factory) *cobra.Command { return NewCmdShip(f, nil) }
	code = clitest.Exec(context.Background(), ios, mk, append([]string{"--check-config"}, args...)...)
	return code, out.String(), errb.String()
}

// A valid config: exit 0, the effective config on stdout with every secret
// redacted, and it loads again.
func TestShipCheckConfigValid(t *testing.T) {
	dir := t.TempDir()
	pw := filepath.Join(dir, "loki-password")
	if err := os.WriteFile(pw, []byte("file-password-123\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "ship.yaml")
	if err := os.WriteFile(cfg, []byte(`
Path: /var/log/kubernetes/audit/audit.log
Cluster: ${CLUSTER_NAME}
Metrics_addr: ":2021"
Loki:
  URL: https://ops:url-password-456@loki.example:3100
  Username: audit
  Password_file: `+pw+`
S3:
  Bucket: audit-archive
  Endpoint: http://minio.storage:9000
`), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("CLUSTER_NAME", "prod-eu-1")
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLEKEYID0001")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "aws-secret-access-key-abc")
	code, out, errs := runCheckCmd(t, "--config", cfg, "--s3-region", "eu-west-1")
	if code != cmdutil.ExitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errs)
	}
	for _, secret := range []string{"file-password-123", "url-password-456", "AKIAEXAMPLEKEYID0001", "aws-secret-access-key-abc"} {
		if strings.Contains(out+errs, secret) {
			t.Errorf("secret %q printed:\n%s%s", secret, out, errs)
		}
	}
	for _, want := range []string{"URL: https://ops:xxxxx@loki.example:3100\n", "Cluster: prod-eu-1", "Region: eu-west-1",
		"Path_style: true", "Batch_size: 1M", "Store_dir: /var/lib/audittui-ship/s3-buffer",
		`#   Loki: basic auth, user "audit" (Username), password from ` + pw + ` (Password_file)`,
		"#   S3: static keys from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(errs, "OK") {
		t.Errorf("stderr: %q", errs)
	}
	// What was printed is a config: it loads and validates.
	c, err := config.Parse([]byte(out), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatalf("printed config does not load: %v", err)
	}
	c.ApplyDefaults()
	if err := c.Validate(); err != nil || c.S3.Region != "eu-west-1" || c.Loki.PasswordFile != pw {
		t.Errorf("printed config: %v %+v", err, c)
	}
}

// Everything that would stop ship is reported, each naming its option;
// exit 2.
func TestShipCheckConfigInvalid(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "ship.yaml")
	write := func(s string) {
		if err := os.WriteFile(cfg, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		name, yaml string
		want       []string
	}{
		{"validation", "Loki: {URL: 'ftp://loki'}\nMem_Buf_Limit: 1K\n", []string{"option Path: required", "option Loki.URL", "option Mem_Buf_Limit"}},
		{"unknown option", "Path: /a.log\nLoki: {URL: 'http://loki:3100', Pasword_file: /x}\n", []string{"unknown option", "Pasword_file"}},
		{"files", "Path: /a.log\nRedact_key_file: " + filepath.Join(dir, "nokey") + "\nLoki: {URL: 'http://loki:3100', Username: u, Password_file: " +
			filepath.Join(dir, "nopw") + ", CA_file: " + filepath.Join(dir, "noca") + "}\n",
			[]string{"option Redact_key_file", "nokey", "option Loki.Password_file", "nopw"}},
		{"tls file", "Path: /a.log\nLoki: {URL: 'https://loki:3100', CA_file: " + filepath.Join(dir, "noca") + "}\n", []string{"option Loki", "noca"}},
		{"key format env", "Path: /a.log\nS3: {Bucket: b}\n", []string{"option S3.S3_key_format", "CLUSTER_NAME"}},
		{"password in a rejected URL", "Path: /a.log\nLoki: {URL: 'https://u:url-pass-word@loki:3100/?q=1'}\n", []string{"u:xxxxx@loki"}},
		{"metrics addr", "Path: /a.log\nMetrics_addr: '2021'\nLoki: {URL: 'http://loki:3100'}\n", []string{"option Metrics_addr"}},
	}
	// The default S3_key_format names ${CLUSTER_NAME}; without Cluster it
	// must come from the environment.
	t.Setenv("CLUSTER_NAME", "")
	os.Unsetenv("CLUSTER_NAME")
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			write(c.yaml)
			code, out, errs := runCheckCmd(t, "--config", cfg)
			if code != cmdutil.ExitUsage {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, cmdutil.ExitUsage, out, errs)
			}
			if strings.Contains(out+errs, "url-pass-word") {
				t.Errorf("password printed:\n%s%s", out, errs)
			}
			for _, w := range c.want {
				if !strings.Contains(errs, w) {
					t.Errorf("stderr lacks %q:\n%s", w, errs)
				}
			}
		})
	}
}
