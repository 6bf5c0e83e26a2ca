package cli

import (
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/audittui/audittui/internal/ship"
	"github.com/audittui/audittui/internal/ship/config"
)

func init() { subcommands = append(subcommands, newShipCmd) }

// ShipOptions are the flags of `audittui ship`.
type ShipOptions struct {
	ConfigFile  string
	Path        string
	LokiURL     string
	S3Bucket    string
	S3Endpoint  string
	S3Region    string
	StoreDir    string
	Cluster     string
	StateDir    string
	MetricsAddr string
	LogLevel    string
	DryRun      bool
	NoRedact    bool
}

func newShipCmd(s *IO) *cobra.Command {
	return NewShipCmd(s, runShip)
}

// NewShipCmd builds the command; runF runs it (tests pass their own).
func NewShipCmd(s *IO, runF func(cmd *cobra.Command, s *IO, o *ShipOptions) error) *cobra.Command {
	o := &ShipOptions{}
	cmd := &cobra.Command{
		Use:   "ship [--config ship.yaml] [flags]",
		Short: "Tail the apiserver audit log and ship it to Loki and S3 (at least once)",
		Long: `ship runs on control-plane nodes (as a DaemonSet, see deploy/) and replaces
the Fluent Bit tail -> Loki + S3 pipeline. It follows the audit log through
rotation, and moves its checkpoint only when every sink has acknowledged the
lines before it, so a crash or restart never loses an event.

The YAML config uses Fluent Bit's option names (Path, Refresh_Interval,
Mem_Buf_Limit, Labels, Label_keys, RemoveKeys, S3_key_format, Total_file_size,
Upload_timeout, Store_dir) with ${ENV} substitution; flags override it.
Loki settings follow the CLI's rule: an option in the config (or a flag) wins
over logcli's LOKI_* variable (LOKI_ADDR, LOKI_ORG_ID, LOKI_USERNAME,
LOKI_PASSWORD, LOKI_BEARER_TOKEN(_FILE), LOKI_CA_CERT_PATH, ...); secrets come
from files or the environment only. S3 uses the AWS credential chain.`,
		Example: `  audittui ship --config /etc/audittui/ship.yaml
  audittui ship --path /var/log/kubernetes/audit/audit.log --loki-url http://loki:3100 --cluster prod
  audittui ship --config ship.yaml --dry-run | head`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runF(cmd, s, o) },
	}
	f := cmd.Flags()
	f.StringVarP(&o.ConfigFile, "config", "c", "", "YAML config file (Fluent Bit style option names, ${ENV} substituted)")
	f.StringVar(&o.Path, "path", "", "audit log to tail (the apiserver's --audit-log-path)")
	f.StringVar(&o.LokiURL, "loki-url", "", "Loki base URL (http://loki:3100, loki://, lokis://) or full push URL (default LOKI_ADDR)")
	f.StringVar(&o.S3Bucket, "s3-bucket", "", "S3 bucket to archive to")
	f.StringVar(&o.S3Endpoint, "s3-endpoint", "", "S3-compatible endpoint URL (path-style addressing)")
	f.StringVar(&o.S3Region, "s3-region", "", "S3 region")
	f.StringVar(&o.StoreDir, "store-dir", "", "S3 disk buffer directory (Store_dir)")
	f.StringVar(&o.Cluster, "cluster", "", "cluster name: added to events and as the Loki cluster label")
	f.StringVar(&o.StateDir, "state-dir", "", "directory for the checkpoint and dead-letter files (default "+config.DefaultStateDir+")")
	f.StringVar(&o.MetricsAddr, "metrics-addr", "", "listen address for /metrics, /healthz, /readyz (e.g. :2021)")
	f.StringVar(&o.LogLevel, "log-level", "", "debug, info, warn or error")
	f.BoolVar(&o.DryRun, "dry-run", false, "read the file once and print what would be sent (as JSON lines), send nothing")
	f.BoolVar(&o.NoRedact, "no-redact", false, "do not replace Secret data/stringData values with hashes")
	return cmd
}

// shipConfig loads the config file (if any) and applies the flags.
func shipConfig(o *ShipOptions, cmd *cobra.Command) (*config.Config, error) {
	c := &config.Config{}
	if o.ConfigFile != "" {
		var err error
		c, err = config.Load(o.ConfigFile, os.LookupEnv)
		if err != nil {
			return nil, err
		}
	}
	str := func(name string, v *string) *string {
		if cmd.Flags().Changed(name) {
			return v
		}
		return nil
	}
	ov := config.Overrides{
		Path: str("path", &o.Path), Cluster: str("cluster", &o.Cluster), StateDir: str("state-dir", &o.StateDir),
		MetricsAddr: str("metrics-addr", &o.MetricsAddr), LogLevel: str("log-level", &o.LogLevel),
		LokiURL: str("loki-url", &o.LokiURL), S3Bucket: str("s3-bucket", &o.S3Bucket),
		S3Endpoint: str("s3-endpoint", &o.S3Endpoint), S3Region: str("s3-region", &o.S3Region),
		StoreDir: str("store-dir", &o.StoreDir),
	}
	if cmd.Flags().Changed("no-redact") {
		ov.NoRedact = &o.NoRedact
	}
	c.Apply(ov)
	c.ApplyDefaults()
	if err := c.Validate(); err != nil {
		if o.ConfigFile != "" {
			return nil, fmt.Errorf("config %s: %w", o.ConfigFile, err)
		}
		return nil, err
	}
	return c, nil
}

func runShip(cmd *cobra.Command, s *IO, o *ShipOptions) error {
	c, err := shipConfig(o, cmd)
	if err != nil {
		return &ExitError{Code: ExitUsage, Err: err}
	}
	var level slog.Level
	switch strings.ToLower(c.LogLevel) {
	case "debug":
		level = slog.LevelDebug
	case "warn", "warning":
		level = slog.LevelWarn
	case "error":
		level = slog.LevelError
	default:
		level = slog.LevelInfo
	}
	lg := slog.New(slog.NewJSONHandler(s.Err, &slog.HandlerOptions{Level: level}))
	return ship.Run(cmd.Context(), ship.Options{Config: c, DryRun: o.DryRun, Out: s.Out, Logger: lg})
}
