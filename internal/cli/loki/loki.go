// Package loki is `audittui loki labels|series|stats`: what a Loki server
// holds, asked with the same connection settings as loki:// sources.
package loki

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/audittui/audittui/internal/cli/cmdutil"
	"github.com/audittui/audittui/internal/data/source"
	lokiapi "github.com/audittui/audittui/internal/data/source/loki"
	"github.com/audittui/audittui/internal/termsafe"
)

// LokiOptions are the flags of `audittui loki ...`.
type LokiOptions struct {
	IO    *cmdutil.IOStreams
	Now   func() time.Time
	Loki  *source.Loki // --loki-* flags and LOKI_* settings
	Since time.Duration
	// Op is the subcommand (labels, series or stats), Args its arguments.
	Op   string
	Args []string
}

// NewCmdLoki builds `audittui loki` and its subcommands; runF, when not
// nil, runs instead of asking Loki (tests).
func NewCmdLoki(f *cmdutil.Factory, runF func(*LokiOptions) error) *cobra.Command {
	opts := &LokiOptions{IO: f.IOStreams, Now: f.Now}
	run := func(cmd *cobra.Command, args []string) error {
		opts.Op, opts.Args = cmd.Name(), args
		if runF != nil {
			return runF(opts)
		}
		return runLoki(cmd.Context(), opts)
	}
	cmd := &cobra.Command{
		Use:   "loki",
		Short: "Ask Loki what it holds: labels, label values, streams, index stats",
		Long: `Ask a Loki server (--loki-addr or LOKI_ADDR, with logcli's LOKI_*
settings) what it holds, as logcli labels / series / stats do. The answers
feed the filter bar's completion in the TUI; here they are printed one per
line.`,
		Example: `  audittui loki labels
  audittui loki labels user_username --since 24h
  audittui loki series '{job="audit"}'
  audittui loki stats '{job="audit"} | json | verb="delete"' --since 7d`,
	}
	pf := cmd.PersistentFlags()
	opts.Loki = source.NewLoki(pf, source.Options{Stderr: f.IOStreams.ErrOut,
		Getenv: func(name string) (string, bool) { return f.LookupEnv(name) }})
	pf.DurationVar(&opts.Since, "since", time.Hour, "time range to look at, ending now")

	cmd.AddCommand(&cobra.Command{
		Use:   "labels [NAME]",
		Short: "List label names, or the values of label NAME",
		Args:  cobra.MaximumNArgs(1),
		RunE:  run,
	}, &cobra.Command{
		Use:   "series SELECTOR...",
		Short: "List the streams (label sets) matching the selectors",
		Args:  cobra.MinimumNArgs(1),
		RunE:  run,
	}, &cobra.Command{
		Use:   "stats [QUERY]",
		Short: "Estimate what a query would scan (/loki/api/v1/index/stats)",
		Args:  cobra.MaximumNArgs(1),
		RunE:  run,
	})
	return cmd
}

func runLoki(ctx context.Context, o *LokiOptions) error {
	var stats string
	if o.Op == "stats" {
		// The query is checked before anything is sent.
		q := o.Loki.Selector()
		if len(o.Args) == 1 {
			q = o.Args[0]
		}
		sel, err := lokiapi.SelectorOf(q)
		if err != nil {
			return cmdutil.UsageError(err)
		}
		stats = sel
	}
	c, from, to, err := o.client()
	if err != nil {
		return err
	}
	var lines []string
	switch o.Op {
	case "labels":
		if len(o.Args) == 0 {
			lines, err = c.Labels(ctx, "", from, to)
		} else {
			lines, err = c.LabelValues(ctx, o.Args[0], "", from, to)
		}
	case "series":
		ser, serr := c.Series(ctx, o.Args, from, to)
		err = serr
		for _, ls := range ser {
			lines = append(lines, lokiapi.FormatLabels(ls))
		}
	case "stats":
		st, serr := c.Stats(ctx, stats, from, to)
		err = serr
		lines = []string{fmt.Sprintf("%s over the last %s: %s", stats, o.Since, st)}
	default:
		return fmt.Errorf("loki %s: no such subcommand", o.Op)
	}
	if err != nil {
		return err
	}
	return printLines(o.IO.Out, lines)
}

// client builds the client and the [from, to) window.
func (o *LokiOptions) client() (*lokiapi.Client, int64, int64, error) {
	addr := o.Loki.Addr()
	if addr == "" {
		return nil, 0, 0, cmdutil.UsageErrorf("no Loki address: set --loki-addr or LOKI_ADDR")
	}
	if o.Since <= 0 {
		return nil, 0, 0, cmdutil.UsageErrorf("--since must be positive")
	}
	c, err := o.Loki.Client(addr)
	if err != nil {
		return nil, 0, 0, cmdutil.UsageError(err)
	}
	to := o.Now().UnixNano()
	return c, to - int64(o.Since), to, nil
}

// printLines writes untrusted server strings one per line, sanitised.
func printLines(w io.Writer, lines []string) error {
	bw := bufio.NewWriter(w)
	for _, l := range lines {
		bw.WriteString(termsafe.String(l))
		bw.WriteByte('\n')
	}
	return bw.Flush()
}
