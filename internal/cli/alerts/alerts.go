// Package alerts is `audittui alerts`: Loki ruler files evaluated over
// audit events (internal/policy/rules does the work), and `alerts export`,
// the built-in pack as a ruler file.
package alerts

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/audittui/audittui/internal/cli/cmdutil"
	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/plural"
	"github.com/audittui/audittui/internal/policy/rules"
	"github.com/audittui/audittui/internal/termsafe"
)

// AlertsOptions are `audittui alerts`' options.
type AlertsOptions struct {
	IO      *cmdutil.IOStreams
	Logger  *slog.Logger
	Now     func() time.Time
	Sources *cmdutil.SourceSet

	RuleFiles []string
	NoBuiltin bool
	Args      []string
	Window    cmdutil.WindowFlags
	Output    string
	FailOn    string
	Follow    bool
	Quiet     bool
}

// NewCmdAlerts builds `audittui alerts` (and `alerts export`); runF, when
// not nil, runs instead of the evaluation (tests).
func NewCmdAlerts(f *cmdutil.Factory, runF func(*AlertsOptions) error) *cobra.Command {
	opts := &AlertsOptions{IO: f.IOStreams, Logger: f.Logger, Now: f.Now}
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

With a window (--since, --from, --to) the alerts are those Loki's ruler
raises at the window's steps: events before --from are read as far back as
the rules look (each rule's range and 'for'), and instances that ended
before the window are left out.

With --follow the sources are tailed and each alert is printed when it
starts firing and again when it resolves (jsonl: "state"); when it stops
(interrupted, or the input ended) stderr names the rules whose evaluation
failed, as without --follow.

When no alert fired, the table is not printed (stderr says so unless -q,
and says when the window held no event: that is no all-clear), so that a
cron job mails only when there is something to read.

An absent_over_time rule is judged where events show time passing: from
the first event read on, up to the newest. With a window it is judged as
Loki's range query from --from judges it, each step's (t-range, t] window
on its own, from where the read begins (--from less the rules' look-back),
not from the first event read: a silence that began before and spans
--from fires. An instance of it already active at the first step judged
began before what was read: FIRST ACTIVE (and FIRED AT) show --from, the
window asked for. When --from is before the first event read, stderr says
so (with --follow, as soon as what the files held is read): over an input
that does not reach back that far, that silence is no evidence either way. A read that holds no event judges no absence: with
--fail-on it exits 1 (below), as an empty log does.

A rule whose stream selector (or that of a leg of a binary operation)
names a label or value no stream of the sources carries
({job="kube-audit"} over files, which carry job="audit", filename and the
--cluster) can never fire: stderr names it, with its file:line and the
labels the sources have. --label job=kube-audit gives
local files and S3 objects the job a team's ruler files select (the
built-in rules then select it too).

Exit status: 0 when no alert at or above --fail-on fired; 3 when one did;
1 when some input was rejected or events without a timestamp could not be
evaluated, or, with --fail-on, when a rule selects no stream of the
sources or failed to evaluate, or no event at all fell in the window (a log that stopped is not
"all clear"), and no alert decided otherwise; 2 on usage errors or invalid
rule files.`,
		Example: `  audittui alerts /var/log/kubernetes/audit/
  audittui alerts --rules team-rules.yaml --no-builtin -o jsonl audit.log
  audittui alerts --rules loki-ruler-rules.yaml --label job=kube-audit audit.log
  audittui alerts --since 24h --fail-on critical s3://audit-archive/cluster-a/
  audittui alerts export > audittui-rules.yaml`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Args = args
			if runF != nil {
				return runF(opts)
			}
			return runAlerts(cmd.Context(), opts)
		},
	}
	fs := cmd.Flags()
	fs.StringArrayVar(&opts.RuleFiles, "rules", nil, "rule file in Loki ruler format, or a file of lists: overriding the built-in lists (repeatable)")
	fs.BoolVar(&opts.NoBuiltin, "no-builtin", false, "do not load the built-in detection pack")
	opts.Window.AddFlags(fs)
	cmdutil.StringEnumFlag(fs, &opts.Output, "output", "o", "table", []string{"table", "jsonl"}, "output format: table or jsonl")
	fs.StringVar(&opts.FailOn, "fail-on", "", "exit 3 when an alert of this severity or higher fired: info, warning or critical")
	fs.BoolVarP(&opts.Follow, "follow", "f", false, "keep reading growing sources and report alerts as they fire and resolve")
	fs.BoolVarP(&opts.Quiet, "quiet", "q", false, "do not list rejected lines or print notices on stderr (the exit status still tells, and one line says why it is 1)")
	opts.Sources = f.Sources(fs)
	cmd.AddCommand(newCmdExport(f))
	return cmd
}

// newCmdExport builds `audittui alerts export`.
func newCmdExport(f *cmdutil.Factory) *cobra.Command {
	out := f.IOStreams.Out
	var files []string
	var job string
	cmd := &cobra.Command{
		Use:   "export",
		Short: "Write the built-in detection pack as a Loki ruler file",
		Long: `Write the built-in detection pack to standard output as a rule file that
Loki's ruler loads as it is (for example with lokitool rules sync, or by
placing it under the ruler's rules directory for a tenant). The pack's lists
(cluster addresses, known controllers, ...) are expanded into plain LogQL;
--rules applies the lists: of your files first (their groups are not
written). --job sets the job the rules select, for a Loki that stores
audit events under another one ({job="kube-audit"}).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			set := &rules.Set{}
			for _, name := range files {
				fs, err := rules.LoadFile(name)
				if err != nil {
					return cmdutil.UsageError(err)
				}
				set.Merge(fs)
			}
			b, err := rules.BuiltinYAMLFor(set.Lists(), job)
			if err != nil {
				return cmdutil.UsageError(err)
			}
			_, err = out.Write(b)
			return err
		},
	}
	cmd.Flags().StringArrayVar(&files, "rules", nil, "rule file whose lists: override the built-in lists (repeatable)")
	cmd.Flags().StringVar(&job, "job", data.DefaultJob, "job label the exported rules select ({job=\"audit\"}); the job your Loki stores audit events under")
	return cmd
}

func runAlerts(ctx context.Context, opts *AlertsOptions) error {
	failRank := 0
	if opts.FailOn != "" && opts.FailOn != "none" {
		failRank = rules.SeverityRank(opts.FailOn)
		if failRank == 0 {
			return cmdutil.UsageErrorf("--fail-on %q: want info, warning or critical", opts.FailOn)
		}
	}
	set, err := cmdutil.LoadRulesFor(opts.RuleFiles, opts.NoBuiltin, opts.Sources.Job(), opts.IO.ErrOut)
	if err != nil {
		return err
	}
	opts.Sources.Quiet = opts.Quiet
	from, to, srcs, err := opts.Sources.Window(ctx, &opts.Window, opts.Now, opts.Args)
	if err != nil {
		return err
	}
	// Rules whose selector no stream of the sources has (over what the
	// read below covers) can never fire: said first, per rule file; with
	// --fail-on they fail the gate.
	lro := data.ReadOptions{From: from, To: to, Follow: opts.Follow}
	if from != 0 {
		lro.From = from - int64(set.LookBack())
	}
	misses := cmdutil.StreamLabels(ctx, srcs, lro, cmdutil.RuleLabelNames(set)).RuleMisses(set)
	cmdutil.SayRuleMisses(opts.IO.ErrOut, misses)
	rep := cmdutil.NewRejectReporter(opts.IO.ErrOut, opts.Quiet)
	// Events without a time are reported as query's are (the first's
	// file:line, exit status 1), in words that say why.
	rep.SayUndated("was not evaluated: no rule can place it in time", "were not evaluated: no rule can place them in time", "not evaluated")
	dataOut, done := opts.IO.DataOut()
	defer done()
	out := bufio.NewWriterSize(dataOut, 64<<10)
	defer out.Flush()

	// The rules release each batch once evaluated (OnRejects copies
	// what it reports): the readers reuse the memory.
	ro := data.ReadOptions{From: from, To: to, Follow: opts.Follow, Recycle: true}
	if from != 0 {
		// The window's first steps count what came before it (each
		// rule's range and `for`), as Loki's ruler would have.
		ro.From, ro.TallyFrom = from-int64(set.LookBack()), from
	}
	eopts := rules.Options{From: from, To: to, OnRejects: rep.Add, Logger: opts.Logger}
	var replay *rules.Replayer
	if !opts.Follow {
		// The reader's decoding goroutines work out which rules each
		// event may feed (Replayer.Prepare).
		var err error
		if replay, err = rules.NewReplayer(set, eopts); err != nil {
			return err
		}
		ro.Prepare = replay.Prepare
	}
	st, err := data.OpenAll(ctx, srcs, ro)
	if err != nil {
		return err
	}
	defer st.Close()
	// Events without a time: left out by the window, or not evaluated
	// (a rule's steps need a time).
	var undated data.Undated
	st = data.CountUndated(st, &undated)
	// Events in the window asked for (not the look-back before it): a
	// gate must not pass on a log that stopped.
	inWin := &windowCount{Stream: st, from: from}
	st = inWin

	worst, failed := 0, 0
	note := func(a *rules.Alert) {
		if r := rules.SeverityRank(a.Severity); r > worst {
			worst = r
		}
	}
	if opts.Follow {
		// Said as soon as the history is read, not at the end: a
		// follow may run for days.
		inWin.caughtUp = func() {
			if msg := absentBeforeEvidence(set, from, inWin.first); msg != "" && !opts.Quiet {
				fmt.Fprintf(opts.IO.ErrOut, "audittui: %s\n", termsafe.String(msg))
			}
		}
		// What the files hold when opened is history, in whatever order
		// it was written (files concatenated, traces, nodes appended):
		// counted as `alerts` without --follow counts it, then live.
		eopts.Backlog = cmdutil.FollowedFilesOnly(srcs)
		// Each transition is printed as it happens.
		eopts.OnChange = func(a *rules.Alert) {
			note(a)
			if opts.Output == "jsonl" {
				writeAlertJSON(out, a)
			} else {
				fmt.Fprintf(out, "%s  %-8s %-9s %s %s  %s\n", a.LastActive.UTC().Format(time.RFC3339), a.State, a.Severity,
					termsafe.String(a.Name), termsafe.String(exprLabels(a)), termsafe.String(a.Annotations["summary"]))
			}
			out.Flush()
		}
		ev, err := rules.NewEvaluator(set, eopts)
		if err != nil {
			return err
		}
		err = ev.Live(ctx, st)
		if err != nil && !errors.Is(err, context.Canceled) {
			return err
		}
		// Stopped (SIGINT) or the input ended: the rules whose
		// evaluation failed are said as a replay says them.
		failed = sayFailures(opts.IO.ErrOut, ev.Failures())
	} else {
		res, err := replay.Run(ctx, st)
		if err != nil {
			return err
		}
		for _, a := range res.Alerts {
			note(a)
		}
		failed = sayFailures(opts.IO.ErrOut, res.Failures)
		// Said at the end with the other notices (-q quiets them).
		if res.Late > 0 {
			rep.AddNote(fmt.Sprintf("%s further out of time order than the evaluation's memory budget allows and counted only in later steps (give the files of several nodes together so they are merged, or sort the input)", plural.Count(res.Late, "event came", "events came")))
		}
		rep.AddDuplicates(res.Duplicates, "the lines that feed a rule")
		if res.Others > 0 {
			rep.AddNote(cmdutil.OthersMessage(res.Others, "event that feeds a rule", "events that feed a rule", "evaluated"))
		}
		if msg := absentBeforeEvidence(set, from, inWin.first); msg != "" {
			rep.AddNote(msg)
		}
		if len(res.Alerts) == 0 && opts.Output != "jsonl" {
			// No table to print: a header alone would mail every cron run.
			switch {
			case opts.Quiet:
			case inWin.n == 0:
				// Not "all clear": nothing was there to check (and an
				// absence is judged only where events show time passing).
				what := "the input holds no dated event"
				if from != 0 {
					what = "the window holds no event"
				}
				rep.AddNote(fmt.Sprintf("no alert fired, but %s: no evidence either way (%s; has the audit log stopped?)", what, plural.Count(len(set.Rules()), "rule", "rules")))
			default:
				rep.AddNote(fmt.Sprintf("no alert fired (%s, %s evaluated)", plural.Count(len(set.Rules()), "rule", "rules"), plural.Count(res.Events, "event", "events")))
			}
		} else if err := writeAlerts(out, opts.Output, res.Alerts); err != nil {
			return err
		}
	}
	if err := out.Flush(); err != nil {
		return err
	}
	// Events without a time, replayed or followed: a gate (--fail-on)
	// must not pass on input it could not check.
	n, at := undated.Count()
	rep.AddUndated(int(n), at)
	// Err says what was left out, even when an alert decides the status.
	inputErr := rep.Err()
	if failRank > 0 && worst >= failRank {
		return &cmdutil.ExitError{Code: cmdutil.ExitAlerts}
	}
	if inputErr == nil && failRank > 0 && failed > 0 {
		return &cmdutil.ExitError{Code: cmdutil.ExitInputError,
			Err: fmt.Errorf("%s to evaluate (see above): --fail-on does not pass on a rule that could not be evaluated", plural.Count(failed, "rule failed", "rules failed"))}
	}
	if inputErr == nil && failRank > 0 && len(misses) > 0 {
		return cmdutil.RuleMissError(misses)
	}
	if inputErr == nil && failRank > 0 && !opts.Follow && inWin.n == 0 {
		// "No alert" over no event is not "all clear": an audit log
		// that stopped (T1562.008) looks like that.
		return &cmdutil.ExitError{Code: cmdutil.ExitInputError,
			Err: errors.New("no event to evaluate in the window (--fail-on does not pass on no input: has the audit log stopped?)")}
	}
	return inputErr
}

// sayFailures writes a warning per rule whose evaluation failed and
// returns how many: as Loki's ruler, those steps raised nothing, so "no
// alert" from them is not "all clear".
func sayFailures(w io.Writer, fs []rules.Failure) int {
	for _, f := range fs {
		fmt.Fprintf(w, "audittui: warning: rule %s (%s) %s\n",
			termsafe.String(f.Rule.Alert), termsafe.String(f.Rule.Where()), termsafe.String(f.Why()))
	}
	return len(fs)
}

// windowCount counts the events a stream holds at or after from: those of
// the window asked for, not of the rules' look-back before it; first is
// the time of the earliest dated event read (look-back included; 0: none).
type windowCount struct {
	data.Stream
	from  int64
	n     int64
	first int64
	// caughtUp, if set, is called once: when what the files held is read
	// (the first batch marked CaughtUp) or the input ends.
	caughtUp func()
}

func (c *windowCount) Next(ctx context.Context) (*data.Batch, error) {
	b, err := c.Stream.Next(ctx)
	if c.caughtUp != nil && (err != nil || b != nil && b.CaughtUp) {
		// Counted below first: a CaughtUp batch may hold events.
		defer func(f func()) { f() }(c.caughtUp)
		c.caughtUp = nil
	}
	if b != nil {
		for i := range b.Events {
			t := b.Events[i].Time
			if t == 0 {
				continue
			}
			if c.first == 0 || t < c.first {
				c.first = t
			}
			if t >= c.from {
				c.n++
			}
		}
	}
	return b, err
}

// absentBeforeEvidence says, for a window (--from) that starts before the
// first event read, that the rules answering on absence judged the time
// between as silence, as Loki's ruler would: over an input that does not
// reach back that far, that is no evidence either way ("" when there is
// nothing to say: no such rule, no event read, or one at or before from).
func absentBeforeEvidence(set *rules.Set, from, first int64) string {
	if from == 0 || first == 0 || first <= from {
		return ""
	}
	n := 0
	for _, r := range set.Rules() {
		if q := r.Query(); q != nil && q.ReturnsWithoutEntries() {
			n++
		}
	}
	if n == 0 {
		return ""
	}
	return fmt.Sprintf("--from %s is before the first event read (%s): %s judged the time between as silence, as Loki's ruler would "+
		"(an instance active then shows FIRST ACTIVE --from); if the input does not reach back to --from, that is no evidence either way",
		time.Unix(0, from).UTC().Format(time.RFC3339), time.Unix(0, first).UTC().Format(time.RFC3339),
		plural.Count(n, "absent_over_time rule", "absent_over_time rules"))
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
	// Failed: of the events, those whose request failed (status code
	// 400 or more): all of them, and the alert is about attempts only.
	Failed int `json:"failed"`
	// AuditIDs are the auditIDs of the sampled events, each once (the
	// stages of one request are events of one auditID).
	AuditIDs []string `json:"auditIDs"`
	// AuditIDsOmitted: events counted beyond the samples (their
	// auditIDs are not listed, or are among those listed).
	AuditIDsOmitted int    `json:"auditIDsOmitted,omitempty"`
	Rule            string `json:"rule"`
}

func fmtAlertTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

func writeAlertJSON(w io.Writer, a *rules.Alert) error {
	ids, seen := []string{}, map[string]bool{}
	for _, id := range a.AuditIDs {
		if !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	b, err := json.Marshal(alertJSON{
		Alert: a.Name, State: a.State.String(), Severity: a.Severity,
		Labels: a.Labels, Annotations: a.Annotations,
		FirstActive: fmtAlertTime(a.ActiveAt), FiredAt: fmtAlertTime(a.FiredAt),
		LastActive: fmtAlertTime(a.LastActive), ResolvedAt: fmtAlertTime(a.ResolvedAt),
		Value: a.Value, Events: a.Events, Failed: a.Failed, AuditIDs: ids, AuditIDsOmitted: max(0, a.Events-len(a.AuditIDs)), Rule: a.Rule.Where(),
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
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n",
			a.ActiveAt.UTC().Format("2006-01-02T15:04:05Z"), a.LastActive.UTC().Format("2006-01-02T15:04:05Z"),
			termsafe.String(a.Severity), termsafe.String(a.Name), fmtAlertValue(a.Value), fmtEvents(a.Events, a.Failed), termsafe.String(exprLabels(a)), termsafe.String(a.Annotations["summary"]))
	}
	return tw.Flush()
}

// fmtEvents renders an alert's event count with how many of them failed:
// "3", "3 (1 failed)", "3 (all failed)".
func fmtEvents(events, failed int) string {
	if note := rules.FailedNote(events, failed); note != "" {
		return strconv.Itoa(events) + " (" + note + ")"
	}
	return strconv.Itoa(events)
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

func fmtAlertValue(v float64) string {
	if v == float64(int64(v)) {
		return fmt.Sprintf("%d", int64(v))
	}
	return fmt.Sprintf("%.4g", v)
}
