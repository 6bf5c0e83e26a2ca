package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/policy/rules"
)

func init() { subcommands = append(subcommands, newAlertsCmd) }

// AlertsOptions are `audittui alerts`' options.
type AlertsOptions struct {
	RuleFiles []string
	NoBuiltin bool
	Args      []string
	Since     time.Duration
	From, To  string
	Output    string
	FailOn    string
	Follow    bool
	Quiet     bool
}

func newAlertsCmd(s *IO) *cobra.Command {
	opts := &AlertsOptions{}
	var sources *sourceSet
	cmd := &cobra.Command{
		Use:   "alerts [flags] [SOURCE...]",
		Short: "Evaluate alert rules (Loki ruler format) over audit events",
		Long: `Evaluate alerting rules written in Loki's ruler format over audit events
from files, S3 or Loki, and print one line per alert instance.

The built-in detection pack (see 'audittui alerts export') is used unless
--no-builtin is given; --rules adds rule files (repeatable). Each group is
evaluated every 'interval' of event time, as Loki's ruler would have done
while the events arrived: 'for' holds an alert pending until it has lasted
that long. Several sources (one file per control-plane node, say) are merged
in time order first.

With --follow the sources are tailed and each alert is printed when it
starts firing and again when it resolves (jsonl: "state").

Exit status: 0 when no alert at or above --fail-on fired; 3 when one did;
1 when some input was rejected (and no alert decided otherwise); 2 on usage
errors or invalid rule files.`,
		Example: `  audittui alerts /var/log/kubernetes/audit/
  audittui alerts --rules team-rules.yaml --no-builtin -o jsonl audit.log
  audittui alerts --since 24h --fail-on critical s3://audit-archive/cluster-a/
  audittui alerts export > audittui-rules.yaml`,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Args = args
			return runAlerts(cmd.Context(), s, sources, opts)
		},
	}
	fs := cmd.Flags()
	fs.StringArrayVar(&opts.RuleFiles, "rules", nil, "rule file in Loki ruler format (repeatable)")
	fs.BoolVar(&opts.NoBuiltin, "no-builtin", false, "do not load the built-in detection pack")
	fs.DurationVar(&opts.Since, "since", 0, "only events newer than this duration before --to (or now), e.g. 24h")
	fs.StringVar(&opts.From, "from", "", "start of the window, inclusive (RFC 3339 or YYYY-MM-DD)")
	fs.StringVar(&opts.To, "to", "", "end of the window, exclusive (RFC 3339 or YYYY-MM-DD)")
	fs.StringVarP(&opts.Output, "output", "o", "table", "output format: table or jsonl")
	fs.StringVar(&opts.FailOn, "fail-on", "", "exit 3 when an alert of this severity or higher fired: info, warning or critical")
	fs.BoolVarP(&opts.Follow, "follow", "f", false, "keep reading growing sources and report alerts as they fire and resolve")
	fs.BoolVarP(&opts.Quiet, "quiet", "q", false, "do not print rejected input lines on stderr (the exit status still tells)")
	sources = newSourceSet(fs)
	cmd.AddCommand(newAlertsExportCmd(s))
	return cmd
}

func newAlertsExportCmd(s *IO) *cobra.Command {
	return &cobra.Command{
		Use:   "export",
		Short: "Write the built-in detection pack as a Loki ruler file",
		Long: `Write the built-in detection pack to standard output as a rule file that
Loki's ruler loads as it is (for example with lokitool rules sync, or by
placing it under the ruler's rules directory for a tenant).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			_, err := s.Out.Write(rules.BuiltinYAML())
			return err
		},
	}
}

// loadRuleSet loads the built-in pack (unless disabled) and rule files.
func loadRuleSet(files []string, noBuiltin bool, warn io.Writer) (*rules.Set, error) {
	set := &rules.Set{}
	if !noBuiltin {
		b, err := rules.Builtin()
		if err != nil {
			return nil, fmt.Errorf("built-in rules: %w", err)
		}
		set.Merge(b)
	}
	for _, f := range files {
		s, err := rules.LoadFile(f)
		if err != nil {
			return nil, &ExitError{Code: ExitUsage, Err: err}
		}
		for _, name := range set.Override(s) {
			fmt.Fprintf(warn, "audittui: %s: group %q replaces the group of that name loaded before\n", alertsCell(f), alertsCell(name))
		}
	}
	for _, w := range set.Warnings {
		fmt.Fprintln(warn, "audittui: warning:", alertsCell(w))
	}
	if len(set.Rules()) == 0 {
		return nil, usageErr("no rules to evaluate (--no-builtin without --rules)")
	}
	return set, nil
}

func runAlerts(ctx context.Context, s *IO, sources *sourceSet, opts *AlertsOptions) error {
	switch opts.Output {
	case "table", "jsonl":
	default:
		return usageErr("-o %q: want table or jsonl", opts.Output)
	}
	failRank := 0
	if opts.FailOn != "" && opts.FailOn != "none" {
		failRank = rules.SeverityRank(opts.FailOn)
		if failRank == 0 {
			return usageErr("--fail-on %q: want info, warning or critical", opts.FailOn)
		}
	}
	set, err := loadRuleSet(opts.RuleFiles, opts.NoBuiltin, s.Err)
	if err != nil {
		return err
	}
	from, to, err := alertsWindow(opts, time.Now)
	if err != nil {
		return err
	}
	srcs, err := alertsSources(ctx, s, sources, opts.Args)
	if err != nil {
		return err
	}
	rep := &alertsRejects{w: s.Err, quiet: opts.Quiet}
	out := bufio.NewWriterSize(s.Out, 64<<10)
	defer out.Flush()

	ro := data.ReadOptions{From: from, To: to, Follow: opts.Follow}
	st, err := data.OpenAll(ctx, srcs, ro)
	if err != nil {
		return err
	}
	defer st.Close()
	var undated atomic.Int64 // events the window left out for lack of a time
	st = data.CountUndated(st, &undated)

	logger := slog.New(slog.NewTextHandler(s.Err, &slog.HandlerOptions{Level: slog.LevelWarn}))
	eopts := rules.Options{From: from, To: to, OnRejects: rep.add, Logger: logger}
	worst := 0
	note := func(a *rules.Alert) {
		if r := rules.SeverityRank(a.Severity); r > worst {
			worst = r
		}
	}
	if opts.Follow {
		// Each transition is printed as it happens.
		eopts.OnChange = func(a *rules.Alert) {
			note(a)
			if opts.Output == "jsonl" {
				writeAlertJSON(out, a)
			} else {
				fmt.Fprintf(out, "%s  %-8s %-9s %s %s  %s\n", a.LastActive.UTC().Format(time.RFC3339), a.State, a.Severity,
					alertsCell(a.Name), alertsCell(exprLabels(a)), alertsCell(a.Annotations["summary"]))
			}
			out.Flush()
		}
		err := rules.Live(ctx, st, set, eopts)
		if err != nil && !errors.Is(err, context.Canceled) {
			return err
		}
	} else {
		res, err := rules.Replay(ctx, st, set, eopts)
		if err != nil {
			return err
		}
		for _, a := range res.Alerts {
			note(a)
		}
		if n := res.Untimed + undated.Load(); n > 0 {
			fmt.Fprintf(s.Err, "audittui: %d event(s) without a timestamp were not evaluated\n", n)
		}
		if res.Late > 0 {
			fmt.Fprintf(s.Err, "audittui: %d event(s) came out of time order, after the evaluation steps covering them had run, and counted only in later steps (give the files of several nodes together so they are merged, or sort the input)\n", res.Late)
		}
		if err := writeAlerts(out, opts.Output, res.Alerts); err != nil {
			return err
		}
	}
	if err := out.Flush(); err != nil {
		return err
	}
	if failRank > 0 && worst >= failRank {
		return &ExitError{Code: ExitAlerts}
	}
	return rep.finish()
}

// alertJSON is the jsonl shape of one alert instance.
type alertJSON struct {
	Alert       string            `json:"alert"`
	State       string            `json:"state"`
	Severity    string            `json:"severity"`
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	FirstActive string            `json:"firstActive"`
	FiredAt     string            `json:"firedAt"`
	LastActive  string            `json:"lastActive"`
	ResolvedAt  string            `json:"resolvedAt,omitempty"`
	Value       float64           `json:"value"`
	Events      int               `json:"events"`
	AuditIDs    []string          `json:"auditIDs"`
	Rule        string            `json:"rule"`
}

func fmtAlertTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

func writeAlertJSON(w io.Writer, a *rules.Alert) error {
	ids := a.AuditIDs
	if ids == nil {
		ids = []string{}
	}
	b, err := json.Marshal(alertJSON{
		Alert: a.Name, State: a.State.String(), Severity: a.Severity,
		Labels: a.Labels, Annotations: a.Annotations,
		FirstActive: fmtAlertTime(a.ActiveAt), FiredAt: fmtAlertTime(a.FiredAt),
		LastActive: fmtAlertTime(a.LastActive), ResolvedAt: fmtAlertTime(a.ResolvedAt),
		Value: a.Value, Events: a.Events, AuditIDs: ids, Rule: a.Rule.Where(),
	})
	if err != nil {
		return err
	}
	if _, err := w.Write(b); err != nil {
		return err
	}
	_, err = io.WriteString(w, "\n")
	return err
}

func writeAlerts(w io.Writer, format string, as []*rules.Alert) error {
	if format == "jsonl" {
		for _, a := range as {
			if err := writeAlertJSON(w, a); err != nil {
				return err
			}
		}
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "FIRST ACTIVE\tLAST ACTIVE\tSEVERITY\tALERT\tVALUE\tEVENTS\tLABELS\tSUMMARY")
	for _, a := range as {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\n",
			a.ActiveAt.UTC().Format("2006-01-02T15:04:05Z"), a.LastActive.UTC().Format("2006-01-02T15:04:05Z"),
			alertsCell(a.Severity), alertsCell(a.Name), fmtAlertValue(a.Value), a.Events, alertsCell(exprLabels(a)), alertsCell(a.Annotations["summary"]))
	}
	return tw.Flush()
}

// exprLabels renders the labels that tell instances of one rule apart: the
// expression's labels, without the rule's constant labels.
func exprLabels(a *rules.Alert) string {
	keys := make([]string, 0, len(a.Labels))
	for k := range a.Labels {
		if _, fromRule := a.Rule.Labels[k]; fromRule {
			continue
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, k+"="+a.Labels[k])
	}
	return strings.Join(parts, " ")
}

// alertsCell makes text from events and rule files safe for a terminal
// table cell: escape sequences and other control characters are shown,
// not interpreted (ui.Sanitize), and tabs and newlines become spaces.
func alertsCell(s string) string { return cell(s) }

// alertsWindow turns --since/--from/--to into [from, to) in Unix
// nanoseconds (0 = open), with query's semantics.
func alertsWindow(opts *AlertsOptions, now func() time.Time) (from, to int64, err error) {
	tf := TimeFlags{Since: opts.Since, From: opts.From, To: opts.To, now: now}
	return tf.Window()
}

// alertsSources resolves SOURCE arguments; without any, a kind's default
// (Loki via LOKI_ADDR), else stdin when it is not a terminal.
func alertsSources(ctx context.Context, s *IO, sources *sourceSet, args []string) ([]data.Source, error) {
	return sources.resolveOrStdin(ctx, args, s)
}

// alertsRejects prints rejected input lines on stderr and counts them.
type alertsRejects struct {
	mu    sync.Mutex
	w     io.Writer
	quiet bool
	n     int
}

func (r *alertsRejects) add(rejs []data.Reject) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, rj := range rejs {
		r.n++
		if !r.quiet {
			fmt.Fprintf(r.w, "audittui: skipped %s\n", alertsCell(rj.Error()))
		}
	}
}

// finish returns exit status 1 when input was rejected.
func (r *alertsRejects) finish() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.n == 0 {
		return nil
	}
	return &ExitError{Code: ExitInputError, Err: fmt.Errorf("%d input line(s) rejected (see above)", r.n)}
}

func fmtAlertValue(v float64) string {
	if v == float64(int64(v)) {
		return fmt.Sprintf("%d", int64(v))
	}
	return fmt.Sprintf("%.4g", v)
}
