// Package policy is `audittui policy lint` and `audittui policy check`:
// audit policy review and replay with the apiserver's own evaluator
// (internal/policy/auditpolicy does the work).
package policy

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/audittui/audittui/internal/cli/cmdutil"
	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/plural"
	"github.com/audittui/audittui/internal/policy/auditpolicy"
	"github.com/audittui/audittui/internal/policy/rules"
	"github.com/audittui/audittui/internal/termsafe"
)

// RuleFlags choose the alert rules whose events a policy must keep.
type RuleFlags struct {
	Files     []string
	NoBuiltin bool
}

func (f *RuleFlags) addFlags(fs *pflag.FlagSet) {
	fs.StringArrayVar(&f.Files, "rules", nil, "alert rule file (Loki ruler format) whose events the policy must keep; repeatable")
	fs.BoolVar(&f.NoBuiltin, "no-builtin", false, "do not use the built-in detection pack (only --rules files)")
}

// detections loads the rule set, the built-in rules selecting job (see
// cmdutil.LoadRulesFor), and turns it into detections.
func (f *RuleFlags) detections(warn io.Writer, job string) ([]auditpolicy.Detection, *rules.Set, error) {
	if f.NoBuiltin && len(f.Files) == 0 {
		return nil, nil, nil
	}
	set, err := cmdutil.LoadRulesFor(f.Files, f.NoBuiltin, job, warn)
	if err != nil {
		return nil, nil, err
	}
	return auditpolicy.DetectionsFromRules(set), set, nil
}

// NewCmdPolicy builds `audittui policy` and its subcommands.
func NewCmdPolicy(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "policy",
		Short: "Lint an audit policy, or replay events through one",
		Long: `Review Kubernetes audit policies with the apiserver's own code: policies are
loaded by k8s.io/apiserver's loader (strict decoding, then the lenient
fallback the apiserver uses, with a warning for each unknown field) and
requests are evaluated by its policy rule evaluator.`,
	}
	cmd.AddCommand(NewCmdLint(f, nil), NewCmdCheck(f, nil))
	return cmd
}

// LintOptions are `audittui policy lint`'s options.
type LintOptions struct {
	IO       *cmdutil.IOStreams
	Policies []string
	Output   string
	// FailOn is the lowest severity that makes the exit status 1: error,
	// warning, info, or none (findings never do).
	FailOn string
	Rules  RuleFlags
}

// NewCmdLint builds `audittui policy lint`; runF, when not nil, runs
// instead of the linter (tests).
func NewCmdLint(f *cmdutil.Factory, runF func(*LintOptions) error) *cobra.Command {
	opts := &LintOptions{IO: f.IOStreams}
	cmd := &cobra.Command{
		Use:   "lint [flags] POLICY...",
		Short: "Find dead rules, leaked secrets and blind spots in audit policies",
		Long: `Lint audit policy files. Each finding names the file, the line of the rule
(or field) and a fix:

  invalid             the apiserver refuses the policy
  unknown-field       a field the apiserver ignores (it falls back to lenient decoding)
  catch-all-not-last  a rule without selectors hides every rule after it
  shadowed            no request ever reaches the rule (earlier rules match them all)
  partly-shadowed     some verbs/resources the rule lists never reach it
  no-catch-all        requests that match no rule are not logged
  request-received    the RequestReceived stage is logged (every request twice)
  secret-bodies       secret values or tokens logged (Request/RequestResponse on
                      secrets, serviceaccounts/token, tokenreviews)
  subresource-trap    "pods" does not match "pods/exec" and other subresources
  list-watch-bodies   list/watch logged at RequestResponse (whole collections)
  wrong-group         a well-known resource listed under the core group
  blinds-detection    an alert rule whose events the policy drops or logs below
                      the level the rule needs (built-in pack and --rules files)

Each finding has a severity: error (the apiserver refuses the policy, secrets
in the log, an alert that can never fire, ...), warning, or info (notes such
as a rule shadowed at the same level, or the blind spots of alert rules over
every request). --fail-on sets the lowest severity that fails the run, as a CI
gate wants: warning by default, error to fail only on errors, info to fail on
any finding, none to only report.

Exit status: 0 when no finding is at or above --fail-on; 1 when one is; 2 on
usage errors (bad flags, a policy or rule file that cannot be read, a bad rule
file).`,
		Example: `  audittui policy lint /etc/kubernetes/audit-policy.yaml
  audittui policy lint --no-builtin --rules loki-audit-rules.yaml audit-policy.yaml
  audittui policy lint --fail-on error -o jsonl policies/*.yaml`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Policies = args
			if runF != nil {
				return runF(opts)
			}
			return runLint(opts)
		},
	}
	fs := cmd.Flags()
	cmdutil.StringEnumFlag(fs, &opts.Output, "output", "o", "text", []string{"text", "jsonl"}, "output format: text or jsonl")
	cmdutil.StringEnumFlag(fs, &opts.FailOn, "fail-on", "", auditpolicy.SevWarning,
		[]string{auditpolicy.SevError, auditpolicy.SevWarning, auditpolicy.SevInfo, failOnNone},
		"exit 1 when a finding of this severity or higher is found: error, warning, info, or none (never)")
	opts.Rules.addFlags(fs)
	return cmd
}

// failOnNone is --fail-on's "findings never fail the run".
const failOnNone = "none"

// fails reports whether a finding of severity sev fails a run with
// --fail-on failOn.
func fails(sev, failOn string) bool {
	rank := map[string]int{auditpolicy.SevInfo: 1, auditpolicy.SevWarning: 2, auditpolicy.SevError: 3}
	return failOn != failOnNone && rank[sev] >= rank[failOn]
}

func runLint(opts *LintOptions) error {
	// The rules are read against the policy, not against streams: their
	// selectors do not matter here.
	dets, _, err := opts.Rules.detections(opts.IO.ErrOut, "")
	if err != nil {
		return err
	}
	dataOut, done := opts.IO.DataOut()
	defer done()
	out := bufio.NewWriter(dataOut)
	enc := json.NewEncoder(out)
	total, failing := 0, 0
	count := map[string]int{}
	for _, path := range opts.Policies {
		var fs []auditpolicy.Finding
		p, err := auditpolicy.LoadFile(path)
		var le *auditpolicy.LoadError
		switch {
		case errors.As(err, &le):
			fs = auditpolicy.LintLoadError(le)
		case err != nil:
			out.Flush()
			return cmdutil.UsageError(err)
		default:
			fs = auditpolicy.Lint(p, auditpolicy.LintOptions{Detections: dets})
		}
		total += len(fs)
		for _, f := range fs {
			count[f.Severity]++
			if fails(f.Severity, opts.FailOn) {
				failing++
			}
			if opts.Output == "jsonl" {
				if err := enc.Encode(f); err != nil {
					return err
				}
				continue
			}
			loc := termsafe.String(f.File)
			if f.Line > 0 {
				loc += ":" + strconv.Itoa(f.Line)
			}
			fmt.Fprintf(out, "%s: %s: %s: %s\n    fix: %s\n", loc, f.Severity, f.Code, termsafe.String(f.Message), termsafe.String(f.Fix))
		}
	}
	if opts.Output == "text" {
		if total == 0 {
			fmt.Fprintf(out, "%s: no findings\n", plural.Count(len(opts.Policies), "policy", "policies"))
		} else {
			fmt.Fprintf(out, "%s (%d error, %d warning, %d info) in %s\n", plural.Count(total, "finding", "findings"),
				count[auditpolicy.SevError], count[auditpolicy.SevWarning], count[auditpolicy.SevInfo],
				plural.Count(len(opts.Policies), "policy", "policies"))
		}
	}
	if err := out.Flush(); err != nil {
		return err
	}
	if failing > 0 {
		return &cmdutil.ExitError{Code: cmdutil.ExitInputError}
	}
	return nil
}

// CheckOptions are `audittui policy check`'s options.
type CheckOptions struct {
	IO      *cmdutil.IOStreams
	Now     func() time.Time
	Sources *cmdutil.SourceSet

	Policy  string
	Against string
	Args    []string
	Output  string
	Rules   RuleFlags
	Window  cmdutil.WindowFlags
}

// NewCmdCheck builds `audittui policy check`; runF, when not nil,
// runs instead of the replay (tests).
func NewCmdCheck(f *cmdutil.Factory, runF func(*CheckOptions) error) *cobra.Command {
	opts := &CheckOptions{IO: f.IOStreams, Now: f.Now}
	cmd := &cobra.Command{
		Use:   "check --policy POLICY [flags] [SOURCE...]",
		Short: "Replay audit events through a policy: levels, bytes, lost alerts",
		Long: `Replay audit events through an audit policy, as the apiserver would have
logged them, and report per rule: events matched, bytes now and bytes under
the policy (an event captured at RequestResponse and kept at Metadata loses
its requestObject and responseObject), the estimated bytes per day (scaled by
the events' time span), and the alert rules that would lose events.

Events captured at a lower level than the policy asks for are counted as
"cannot upgrade": their bodies were never logged, so their size is a lower
bound. --against OLD compares with another policy: which events change
level, per (old rule, new rule).

-o jsonl prints one object per event ({"auditID", "level", "rule" (0-based
index, -1 when no rule matches), "captured", "bytes", "bytesAfter", ...}) and
a last line {"summary": {...}} with the totals.

SOURCE is a file, a glob, a directory, - for stdin, s3://bucket/prefix/ or
loki://host:3100, as for 'audittui query'.

Events without a timestamp count in the policy's rules but not in the alert
rules' MATCHED and LOST: the rules never evaluate them (stderr names the
first).

Exit status: 0 success; 1 when some input was rejected (each rejected line is
reported on stderr) or events without a timestamp were left out of the
window or of the alert rules; 2 on usage errors or a policy the apiserver
refuses.`,
		Example: `  audittui policy check --policy new-policy.yaml /var/log/kubernetes/audit/
  audittui policy check --policy new.yaml --against current.yaml audit.log
  audittui policy check --policy p.yaml -o jsonl audit.log | jq 'select(.auditID and .level != .captured)'`,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Args = args
			if runF != nil {
				return runF(opts)
			}
			return runCheck(cmd.Context(), opts)
		},
	}
	fs := cmd.Flags()
	opts.Window.AddFlags(fs)
	fs.StringVar(&opts.Policy, "policy", "", "audit policy file to replay events through (required)")
	fs.StringVar(&opts.Against, "against", "", "compare with this (older) policy")
	cmdutil.StringEnumFlag(fs, &opts.Output, "output", "o", "table", []string{"table", "jsonl"}, "output format: table or jsonl")
	opts.Rules.addFlags(fs)
	opts.Sources = f.Sources(fs)
	return cmd
}

func loadPolicy(flag, path string) (*auditpolicy.Policy, error) {
	p, err := auditpolicy.LoadFile(path)
	if err != nil {
		return nil, cmdutil.UsageError(fmt.Errorf("%s: %w", flag, err))
	}
	return p, nil
}

func runCheck(ctx context.Context, opts *CheckOptions) error {
	if opts.Policy == "" {
		return cmdutil.UsageErrorf("--policy is required")
	}
	p, err := loadPolicy("--policy", opts.Policy)
	if err != nil {
		return err
	}
	var old *auditpolicy.Policy
	if opts.Against != "" {
		if old, err = loadPolicy("--against", opts.Against); err != nil {
			return err
		}
	}
	dets, set, err := opts.Rules.detections(opts.IO.ErrOut, opts.Sources.Job())
	if err != nil {
		return err
	}
	srcs, err := opts.Sources.ResolveOrStdin(ctx, opts.Args)
	if err != nil {
		return err
	}
	from, to, err := opts.Window.Range(opts.Now)
	if err != nil {
		return err
	}
	if set != nil {
		// A rule whose selector no stream has matches no event here
		// (MATCHED 0, nothing lost): say so rather than let it read as
		// "this policy loses nothing of it".
		streams := cmdutil.StreamLabels(ctx, srcs, data.ReadOptions{From: from, To: to}, cmdutil.RuleLabelNames(set))
		cmdutil.SayRuleMisses(opts.IO.ErrOut, streams.RuleMisses(set))
	}
	stream, err := data.OpenAll(ctx, srcs, data.ReadOptions{From: from, To: to})
	if err != nil {
		return cmdutil.UsageError(err)
	}
	defer stream.Close()

	chk := auditpolicy.NewChecker(p, auditpolicy.CheckOptions{Against: old, Detections: dets})
	dataOut, done := opts.IO.DataOut()
	defer done()
	out := bufio.NewWriter(dataOut)
	enc := json.NewEncoder(out)
	rejects := cmdutil.NewRejectReporter(opts.IO.ErrOut, false)
	// An exact copy of a line read before (a log given twice, a
	// shipper's redelivery, a `jq .` export beside the log) is the same
	// request, logged once: counted once, as query and alerts count it.
	dups := data.NewDups(0)
	for {
		b, err := stream.Next(ctx)
		if b != nil {
			for i := range b.Events {
				if dups.Seen(&b.Events[i]) {
					continue
				}
				r := chk.Add(&b.Events[i])
				if opts.Output == "jsonl" {
					if err := enc.Encode(r); err != nil {
						return err
					}
				}
			}
			rejects.Add(b.Rejects)
			rejects.AddUndated(b.Undated, b.UndatedAt)
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			out.Flush()
			return err
		}
	}
	rejects.AddDuplicates(dups.Count(), "the lines read")
	rep := chk.Report()
	if rep.AlertsUndated > 0 {
		// Said as alerts says it. A window leaves every undated event
		// out before the checker sees it (counted above, in its own
		// words), so this is the only kind here.
		rejects.SayUndated(undatedOne, undatedMany, "not evaluated by the alert rules")
		rejects.AddUndated(int(rep.AlertsUndated), rep.AlertsUndatedAt)
	}
	if opts.Output == "jsonl" {
		if err := enc.Encode(struct {
			Summary *auditpolicy.Report `json:"summary"`
		}{rep}); err != nil {
			return err
		}
	} else {
		writeReport(out, rep, p, old)
	}
	if err := out.Flush(); err != nil {
		return err
	}
	return rejects.Err()
}

// undatedOne and undatedMany say what became of the events without a timestamp when no
// window left them out: the policy's rules count them, the alert rules
// (MATCHED, LOST) do not.
const (
	undatedOne  = "was not evaluated by the alert rules (not in MATCHED or LOST): no rule can place it in time"
	undatedMany = "were not evaluated by the alert rules (not in MATCHED or LOST): no rule can place them in time"
)

func writeReport(w io.Writer, r *auditpolicy.Report, p, old *auditpolicy.Policy) {
	fmt.Fprintf(w, "policy %s: %s", termsafe.String(r.Policy), plural.Count(int(r.Events), "event", "events"))
	if r.SpanSeconds > 0 {
		fmt.Fprintf(w, " over %s", fmtDuration(r.SpanSeconds))
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w)

	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "RULE\tLINE\tLEVEL\tEVENTS\tBYTES NOW\tBYTES AFTER\tCANNOT UPGRADE\tSTAGE OMITTED\t")
	for _, rs := range r.Rules {
		if rs.Rule < 0 && rs.Events == 0 {
			continue
		}
		rule, line := strconv.Itoa(rs.Rule), strconv.Itoa(rs.Line)
		if rs.Rule < 0 {
			rule, line = "none", "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\t%d\t%d\t\n", rule, line, rs.Level, rs.Events,
			fmtBytes(float64(rs.BytesNow)), fmtBytes(float64(rs.BytesAfter)), rs.CannotUpgrade, rs.StageOmitted)
	}
	fmt.Fprintf(tw, "total\t\t\t%d\t%s\t%s\t%d\t%d\t\n", r.Events, fmtBytes(float64(r.BytesNow)), fmtBytes(float64(r.BytesAfter)),
		r.CannotUpgrade, r.StageOmitted)
	tw.Flush()
	fmt.Fprintln(w)

	if r.SpanSeconds > 0 {
		fmt.Fprintf(w, "estimated per day: %s now, %s under the policy", fmtBytes(r.BytesPerDayNow), fmtBytes(r.BytesPerDayAfter))
		if old != nil {
			fmt.Fprintf(w, ", %s under %s", fmtBytes(r.BytesPerDayAgainst), termsafe.String(r.Against))
		}
		fmt.Fprintln(w)
	} else {
		fmt.Fprintln(w, "estimated per day: unknown (the events span no time)")
	}
	if r.CannotUpgrade > 0 {
		fmt.Fprintf(w, "cannot upgrade: %s captured at a lower level than the policy asks for; their bodies were never logged, so BYTES AFTER is a lower bound\n",
			plural.Count(int(r.CannotUpgrade), "event was", "events were"))
	}

	var losing []auditpolicy.DetectionStats
	for _, d := range r.Detections {
		if d.Lost > 0 {
			losing = append(losing, d)
		}
	}
	fmt.Fprintln(w)
	if len(losing) == 0 {
		fmt.Fprintf(w, "alert rules losing events: none (of %d rules)\n", len(r.Detections))
	} else {
		fmt.Fprintf(w, "alert rules losing events (%d of %d rules):\n", len(losing), len(r.Detections))
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  ALERT\tNEEDS\tMATCHED\tLOST")
		for _, d := range losing {
			fmt.Fprintf(tw, "  %s\t%s\t%d\t%d\n", termsafe.String(d.Name), d.NeedsLevel, d.Matched, d.Lost)
		}
		tw.Flush()
	}
	if r.AlertsUndated > 0 && len(r.Detections) > 0 {
		fmt.Fprintf(w, "left out of the alert rules: %s without a timestamp (no rule can place them in time)\n",
			plural.Count(int(r.AlertsUndated), "event", "events"))
	}

	if old != nil {
		fmt.Fprintln(w)
		changed := int64(0)
		for _, c := range r.Changes {
			changed += c.Events
		}
		fmt.Fprintf(w, "against %s (%s under it, %s under this policy): %s change level\n", termsafe.String(r.Against),
			fmtBytes(float64(r.BytesAgainst)), fmtBytes(float64(r.BytesAfter)), plural.Count(int(changed), "event", "events"))
		if len(r.Changes) > 0 {
			tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "  OLD RULE\tOLD LEVEL\tNEW RULE\tNEW LEVEL\tEVENTS")
			for _, c := range r.Changes {
				fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%d\n", ruleRef(old, c.OldRule), c.OldLevel, ruleRef(p, c.NewRule), c.NewLevel, c.Events)
			}
			tw.Flush()
		}
	}
}

func ruleRef(p *auditpolicy.Policy, i int) string {
	if i < 0 {
		return "none"
	}
	if l := p.RuleLine(i); l > 0 {
		return fmt.Sprintf("%d (line %d)", i, l)
	}
	return strconv.Itoa(i)
}

// fmtBytes renders a byte count with binary units.
func fmtBytes(b float64) string {
	const unit = 1024
	if b < unit {
		return fmt.Sprintf("%.0f B", b)
	}
	for i, u := range []string{"KiB", "MiB", "GiB", "TiB"} {
		b /= unit
		if b < unit || i == 3 {
			return fmt.Sprintf("%.1f %s", b, u)
		}
	}
	return ""
}

func fmtDuration(sec float64) string {
	d := time.Duration(sec * float64(time.Second))
	switch {
	case d >= 48*time.Hour:
		return fmt.Sprintf("%.1f days", d.Hours()/24)
	case d >= time.Hour:
		return fmt.Sprintf("%.1f hours", d.Hours())
	}
	return d.Round(time.Second).String()
}
