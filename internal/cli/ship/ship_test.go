package ship

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/audittui/audittui/internal/cli/clitest"
	"github.com/audittui/audittui/internal/cli/cmdutil"
	"github.com/audittui/audittui/internal/termsafe/termsafetest"
)

func parse(t *testing.T, args ...string) *ShipOptions {
	t.Helper()
	var got *ShipOptions
	code, _, errOut := clitest.Run(t, func(f *cmdutil.Factory) *cobra.Command {
		return NewCmdShip(f, func(o *ShipOptions) error { got = o; return nil })
	}, "", args...)
	if code != 0 || got == nil {
		t.Fatalf("ship %v: exit %d: %s", args, code, errOut)
	}
	return got
}

// Only the flags given override the config file.
func TestShipFlagsToOverrides(t *testing.T) {
	o := parse(t, "-c", "ship.yaml", "--path", "/var/log/audit.log", "--loki-url", "http://loki:3100", "--no-redact", "--dry-run")
	if o.ConfigFile != "ship.yaml" || !o.DryRun {
		t.Fatalf("options %+v", o)
	}
	ov := o.Overrides
	if ov.Path == nil || *ov.Path != "/var/log/audit.log" || ov.LokiURL == nil || *ov.LokiURL != "http://loki:3100" || ov.NoRedact == nil || !*ov.NoRedact {
		t.Fatalf("overrides %+v", ov)
	}
	if ov.Cluster != nil || ov.S3Bucket != nil || ov.S3Endpoint != nil || ov.StateDir != nil || ov.LogLevel != nil || ov.MetricsAddr != nil {
		t.Fatalf("flags not given override the config: %+v", ov)
	}
	if ov := parse(t).Overrides; ov.Path != nil || ov.NoRedact != nil || ov.LokiURL != nil {
		t.Fatalf("no flags, overrides %+v", ov)
	}
}

// ${ENV} in the config comes from the factory's environment; a flag wins
// over the file.
func TestShipConfigFileEnvAndFlags(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "ship.yaml")
	os.WriteFile(cfg, []byte("Path: /var/log/kubernetes/audit/audit.log\nCluster: ${CLUSTER_NAME}\nLoki:\n  URL: http://loki:3100\n"), 0o644)
	o := parse(t, "--config", cfg, "--path", "/tmp/audit.log")
	o.LookupEnv = func(n string) (string, bool) {
		if n == "CLUSTER_NAME" {
			return "prod-eu", true
		}
		return "", false
	}
	c, err := shipConfig(o)
	if err != nil {
		t.Fatal(err)
	}
	if c.Cluster != "prod-eu" || c.Path != "/tmp/audit.log" || c.Loki == nil || c.Loki.URL != "http://loki:3100" {
		t.Fatalf("config %+v", c)
	}
	// Without the variable the file does not load, and the error names it.
	o.LookupEnv = func(string) (string, bool) { return "", false }
	if _, err := shipConfig(o); err == nil || !strings.Contains(err.Error(), "CLUSTER_NAME") {
		t.Fatalf("err %v", err)
	}
}

func TestShipBadConfigIsAUsageError(t *testing.T) {
	code, _, errOut := clitest.Run(t, func(f *cmdutil.Factory) *cobra.Command { return NewCmdShip(f, nil) }, "", "--path", "/tmp/audit.log")
	if code != cmdutil.ExitUsage || !strings.Contains(errOut, "no sink configured") {
		t.Fatalf("exit %d: %s", code, errOut)
	}
}

// --dry-run prints events: on a terminal they are sanitised, to a pipe
// they are the JSON lines as they would be sent.
func TestShipDryRunOnATerminal(t *testing.T) {
	log := filepath.Join(t.TempDir(), "audit.log")
	line := `{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"a","stage":"ResponseComplete","verb":"get","user":{"username":"eve` + "\u202e\u0085" + `"},"stageTimestamp":"2026-02-10T10:00:00Z"}`
	os.WriteFile(log, []byte(line+"\n"), 0o644)
	for _, tty := range []bool{false, true} {
		ios, out, errOut := clitest.Streams("")
		ios.OutTTY = tty
		code := clitest.Exec(context.Background(), ios, func(f *cmdutil.Factory) *cobra.Command { return NewCmdShip(f, nil) },
			"--path", log, "--loki-url", "http://127.0.0.1:1", "--state-dir", t.TempDir(), "--dry-run")
		if code != 0 {
			t.Fatalf("tty=%v: exit %d: %s", tty, code, errOut)
		}
		var rec struct{ Line string }
		if !tty {
			if err := json.Unmarshal([]byte(out.String()), &rec); err != nil || !strings.Contains(rec.Line, "eve\u202e\u0085") {
				t.Fatalf("piped dry run %q (%v)", out.String(), err)
			}
			continue
		}
		if err := termsafetest.CheckLines(out.String()); err != nil || !strings.Contains(out.String(), "eve<U+202E><U+0085>") {
			t.Fatalf("terminal dry run %q (%v)", out.String(), err)
		}
	}
}

func shipCmd(f *cmdutil.Factory) *cobra.Command { return NewCmdShip(f, nil) }

// A newcomer's first try: --dry-run without any sink prints what each
// line would become.
func TestShipDryRunNeedsNoSink(t *testing.T) {
	log := filepath.Join(t.TempDir(), "audit.log")
	os.WriteFile(log, []byte(`{"kind":"Event","auditID":"a","verb":"get","stageTimestamp":"2026-02-10T10:00:00Z"}`+"\n"), 0o644)
	code, out, errOut := clitest.Run(t, shipCmd, "", "--path", log, "--dry-run")
	if code != 0 || !strings.Contains(out, `\"auditID\":\"a\"`) || strings.Contains(out, "loki_stream") {
		t.Fatalf("exit %d, out %q, err %q", code, out, errOut)
	}
}

// Bad options: exit 2, the option named, no password printed; the schemes
// the rest of audittui accepts are accepted; a port out of range is
// refused before anything starts.
func TestShipOptionErrors(t *testing.T) {
	log := filepath.Join(t.TempDir(), "audit.log")
	os.WriteFile(log, nil, 0o644)
	for _, tc := range []struct {
		url, want string
	}{
		{"lokis://user:PASSWORD@loki.example:99999", "port \"99999\" is not in 1-65535"},
		{"lokis://user:PASSWORD@loki.example:99x", "Loki.URL"},
		{"http://user:PASSWORD@loki.example:0", "port \"0\""},
		{"ftp://user:PASSWORD@loki.example", "Loki.URL"},
	} {
		code, _, errOut := clitest.Run(t, shipCmd, "", "--path", log, "--loki-url", tc.url, "--state-dir", t.TempDir())
		if code != cmdutil.ExitUsage || !strings.Contains(errOut, tc.want) || strings.Contains(errOut, "PASSWORD") {
			t.Errorf("%s: exit %d: %s", tc.url, code, errOut)
		}
	}
	for _, u := range []string{"lokis://user:PASSWORD@loki.example:3100", "loki://loki.example", "https://loki.example/loki/api/v1/push"} {
		code, _, errOut := clitest.Run(t, shipCmd, "", "--path", log, "--loki-url", u, "--state-dir", t.TempDir(), "--dry-run")
		if code != 0 {
			t.Errorf("%s refused: exit %d: %s", u, code, errOut)
		}
	}
	// The password given in the environment is never printed either.
	ios, _, errOut := clitest.Streams("")
	code := clitest.Exec(context.Background(), ios, func(f *cmdutil.Factory) *cobra.Command {
		f.LookupEnv = func(k string) (string, bool) {
			if k == "LOKI_PASSWORD" {
				return "s3cr3t-from-env", true
			}
			return "", false
		}
		return NewCmdShip(f, nil)
	}, "--path", log, "--loki-url", "http://u:s3cr3t-from-env@loki:70000", "--state-dir", t.TempDir())
	if code != cmdutil.ExitUsage || strings.Contains(errOut.String(), "s3cr3t") {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
}

// A failure after start exits 4 (not 2, which means bad flags or
// configuration), and the last line printed is the cause.
func TestShipRuntimeFailureExitCode(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "audit.log")
	os.WriteFile(log, []byte(`{"kind":"Event","auditID":"a","verb":"get"}`+"\n"), 0o644)
	cfg := filepath.Join(dir, "ship.yaml")
	// Every line is longer than Loki.Max_line_size, and the dead-letter
	// file cannot be written: ship cannot go on.
	os.WriteFile(cfg, []byte("Path: "+log+"\nState_dir: "+filepath.Join(dir, "state")+"\nLoki:\n  URL: http://127.0.0.1:1\n  Max_line_size: 10\n  Dead_letter_file: /proc/self/cannot/dead.jsonl\n"), 0o644)
	code, _, errOut := clitest.Run(t, shipCmd, "", "--config", cfg)
	lines := strings.Split(strings.TrimSpace(errOut), "\n")
	last := lines[len(lines)-1]
	if code != cmdutil.ExitRuntime || !strings.HasPrefix(last, "audittui: loki sink: dead-letter") || !strings.Contains(last, "/proc/self/cannot") {
		t.Fatalf("exit %d, last line %q", code, last)
	}
}

// --dry-run checks the sinks' options it uses: a bad S3 key format is a
// configuration error (exit 2, the option named), not a runtime failure.
func TestShipDryRunBadKeyFormatIsUsage(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "audit.log")
	os.WriteFile(log, []byte(`{"kind":"Event","auditID":"a","verb":"get"}`+"\n"), 0o644)
	cfg := filepath.Join(dir, "ship.yaml")
	os.WriteFile(cfg, []byte("Path: "+log+"\nS3:\n  Bucket: b\n  S3_key_format: /x/%Q/$UUID\n"), 0o644)
	code, out, errOut := clitest.Run(t, shipCmd, "", "--config", cfg, "--dry-run")
	if code != cmdutil.ExitUsage || !strings.Contains(errOut, "option S3.S3_key_format") || out != "" {
		t.Fatalf("exit %d, out %q, err %q", code, out, errOut)
	}
}
