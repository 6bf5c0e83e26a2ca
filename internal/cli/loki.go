package cli

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/audittui/audittui/internal/data/source"
	"github.com/audittui/audittui/internal/data/source/loki"
	"github.com/audittui/audittui/internal/ui"
)

func init() { subcommands = append(subcommands, newLokiCmd) }

// LokiOptions are the flags of `audittui loki ...`.
type LokiOptions struct {
	Since time.Duration
	kind  *source.Loki
	now   func() time.Time
}

func newLokiCmd(s *IO) *cobra.Command {
	opts := &LokiOptions{}
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
	opts.kind = source.NewLoki(pf, source.Options{})
	pf.DurationVar(&opts.Since, "since", time.Hour, "time range to look at, ending now")

	cmd.AddCommand(&cobra.Command{
		Use:   "labels [NAME]",
		Short: "List label names, or the values of label NAME",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, from, to, err := opts.client()
			if err != nil {
				return err
			}
			var vals []string
			if len(args) == 0 {
				vals, err = c.Labels(cmd.Context(), "", from, to)
			} else {
				vals, err = c.LabelValues(cmd.Context(), args[0], "", from, to)
			}
			if err != nil {
				return err
			}
			return printLines(s.Out, vals)
		},
	})
	cmd.AddCommand(&cobra.Command{
		Use:   "series SELECTOR...",
		Short: "List the streams (label sets) matching the selectors",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, from, to, err := opts.client()
			if err != nil {
				return err
			}
			ser, err := c.Series(cmd.Context(), args, from, to)
			if err != nil {
				return err
			}
			lines := make([]string, len(ser))
			for i, ls := range ser {
				lines[i] = loki.FormatLabels(ls)
			}
			return printLines(s.Out, lines)
		},
	})
	cmd.AddCommand(&cobra.Command{
		Use:   "stats [QUERY]",
		Short: "Estimate what a query would scan (/loki/api/v1/index/stats)",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			q := opts.kind.Selector()
			if len(args) == 1 {
				q = args[0]
			}
			return runLokiStats(cmd.Context(), s.Out, opts, q)
		},
	})
	return cmd
}

// client builds the client and the [from, to) window.
func (o *LokiOptions) client() (*loki.Client, int64, int64, error) {
	addr := o.kind.Addr()
	if addr == "" {
		return nil, 0, 0, usageErr("no Loki address: set --loki-addr or LOKI_ADDR")
	}
	if o.Since <= 0 {
		return nil, 0, 0, usageErr("--since must be positive")
	}
	c, err := o.kind.Client(addr)
	if err != nil {
		return nil, 0, 0, &ExitError{Code: ExitUsage, Err: err}
	}
	now := time.Now
	if o.now != nil {
		now = o.now
	}
	to := now().UnixNano()
	return c, to - int64(o.Since), to, nil
}

func runLokiStats(ctx context.Context, out io.Writer, o *LokiOptions, query string) error {
	sel, err := loki.SelectorOf(query)
	if err != nil {
		return &ExitError{Code: ExitUsage, Err: err}
	}
	c, from, to, err := o.client()
	if err != nil {
		return err
	}
	st, err := c.Stats(ctx, sel, from, to)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(out, "%s over the last %s: %s\n", ui.Sanitize(sel), o.Since, st)
	return err
}

// printLines writes untrusted server strings one per line, sanitised.
func printLines(w io.Writer, lines []string) error {
	bw := bufio.NewWriter(w)
	for _, l := range lines {
		bw.WriteString(ui.Sanitize(l))
		bw.WriteByte('\n')
	}
	return bw.Flush()
}
