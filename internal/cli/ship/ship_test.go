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
