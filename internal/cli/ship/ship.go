// Package ship is `audittui ship`: the flags and config file of the
// node-side shipper (internal/ship does the work).
package ship

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/audittui/audittui/internal/cli/cmdutil"
	shipper "github.com/audittui/audittui/internal/ship"
	"github.com/audittui/audittui/internal/ship/config"
)

// ShipOptions are the flags of `audittui ship`.
type ShipOptions struct {
	IO        *cmdutil.IOStreams
	LookupEnv func(string) (string, bool)

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
	CheckConfig bool
	// Overrides are the flags given on the command line, which win over
	// the config file.
	Overrides config.Overrides
}

// NewCmdShip builds `audittui ship`; runF, when not nil, runs instead of
// the shipper (tests).
func NewCmdShip(f *cmdutil.Factory, runF func(*ShipOptions) error) *cobra.Command {
	o := &ShipOptions{IO: f.IOStreams, LookupEnv: f.LookupEnv}
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
Loki.Store_dir (off by default) gives the Loki sink a disk buffer, as S3's
Store_dir: lines are acknowledged once fsynced there, so a Loki outage does
not stop S3 archiving until Loki.Store_dir_limit_size is reached.
Loki credentials come from files named in the config or from LOKI_USERNAME,
LOKI_PASSWORD, LOKI_BEARER_TOKEN(_FILE) and LOKI_ORG_ID; S3 uses the AWS
credential chain.

--dry-run needs no sink: it prints what each line would become.

Exit status: 0 after SIGTERM/SIGINT once delivered lines are checkpointed;
2 for bad flags or configuration (nothing started); 4 when ship started and
then could not go on (a sink refused for good, the disk is full): the last
line printed is the cause.`,
		Example: `  audittui ship --config /etc/audittui/ship.yaml
  audittui ship --path /var/log/kubernetes/audit/audit.log --loki-url http://loki:3100 --cluster prod
  audittui ship --config ship.yaml --dry-run | head
  audittui ship --config ship.yaml --check-config`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.Overrides = shipOverrides(o, cmd.Flags())
			if runF != nil {
				return runF(o)
			}
			return runShip(cmd.Context(), o)
		},
	}
	fs := cmd.Flags()
	fs.StringVarP(&o.ConfigFile, "config", "c", "", "YAML config file (Fluent Bit style option names, ${ENV} substituted)")
	fs.StringVar(&o.Path, "path", "", "audit log to tail (the apiserver's --audit-log-path)")
	fs.StringVar(&o.LokiURL, "loki-url", "", "Loki base URL (http://loki:3100) or full push URL")
	fs.StringVar(&o.S3Bucket, "s3-bucket", "", "S3 bucket to archive to")
	fs.StringVar(&o.S3Endpoint, "s3-endpoint", "", "S3-compatible endpoint URL (path-style addressing)")
	fs.StringVar(&o.S3Region, "s3-region", "", "S3 region")
	fs.StringVar(&o.StoreDir, "store-dir", "", "S3 disk buffer directory (Store_dir)")
	fs.StringVar(&o.Cluster, "cluster", "", "cluster name: added to events and as the Loki cluster label")
	fs.StringVar(&o.StateDir, "state-dir", "", "directory for the checkpoint and dead-letter files (default "+config.DefaultStateDir+")")
	fs.StringVar(&o.MetricsAddr, "metrics-addr", "", "listen address for /metrics, /healthz, /readyz (e.g. :2021)")
	fs.StringVar(&o.LogLevel, "log-level", "", "debug, info, warn or error")
	fs.BoolVar(&o.DryRun, "dry-run", false, "read the file once and print what would be sent (as JSON lines), send nothing")
	fs.BoolVar(&o.NoRedact, "no-redact", false, "do not replace Secret data/stringData values with hashes")
	fs.BoolVar(&o.CheckConfig, "check-config", false, "validate the config and print it with defaults applied and secrets redacted, then exit (0 valid, 2 not)")
	return cmd
}

// shipOverrides returns the flags given in fs as config overrides.
func shipOverrides(o *ShipOptions, fs *pflag.FlagSet) config.Overrides {
	str := func(name string, v *string) *string {
		if fs.Changed(name) {
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
	if fs.Changed("no-redact") {
		ov.NoRedact = &o.NoRedact
	}
	return ov
}

// shipConfig loads the config file (if any) and applies the flags.
func shipConfig(o *ShipOptions) (*config.Config, error) {
	c := &config.Config{}
	if o.ConfigFile != "" {
		var err error
		c, err = config.Load(o.ConfigFile, o.LookupEnv)
		if err != nil {
			return nil, err
		}
	}
	c.Apply(o.Overrides)
	c.ApplyDefaults()
	validate := c.Validate
	if o.DryRun {
		validate = c.ValidateDryRun
	}
	if err := validate(); err != nil {
		if o.ConfigFile != "" {
			return nil, fmt.Errorf("config %s: %w", o.ConfigFile, err)
		}
		return nil, err
	}
	return c, nil
}

// redacted returns err's message with URL passwords and the secrets of the
// environment (LOKI_PASSWORD, tokens, AWS keys) replaced: errors quote
// options and servers' answers.
func redacted(o *ShipOptions, err error) error {
	return errors.New(config.RedactText(err.Error(), shipper.EnvSecrets(o.LookupEnv)))
}

func runShip(ctx context.Context, o *ShipOptions) error {
	if o.CheckConfig {
		return runCheck(o)
	}
	c, err := shipConfig(o)
	if err != nil {
		return cmdutil.UsageError(redacted(o, err))
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
	lg := slog.New(slog.NewJSONHandler(o.IO.ErrOut, &slog.HandlerOptions{Level: level, ReplaceAttr: shipper.LogAttr}))
	out, done := o.IO.DataOut() // --dry-run prints events
	defer done()
	err = shipper.Run(ctx, shipper.Options{Config: c, DryRun: o.DryRun, Out: out, Logger: lg, Getenv: o.LookupEnv})
	var ce *shipper.ConfigError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ce):
		return cmdutil.UsageError(redacted(o, err))
	default:
		return cmdutil.RuntimeError(redacted(o, err))
	}
}
