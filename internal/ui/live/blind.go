package live

import (
	"context"
	"fmt"
	"io"

	"github.com/audittui/audittui/internal/cli/cmdutil"
	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/plural"
	"github.com/audittui/audittui/internal/policy/rules"
	"github.com/audittui/audittui/internal/ui"
)

// BlindRules finds the rules of set with a selector that selects no
// stream of srcs over the read ro (cmdutil.RuleMisses), for the local
// TUI and `audittui serve` alike: each is said on log (the log file, the
// server's stderr) as `audittui alerts` says it, and returned as the
// Alerts pane's problems (Options.Blind: "can never fire: {job="x"}
// selects no stream of the sources: ...") with the status bar's notice
// that counts them ("" when there is none).
func BlindRules(ctx context.Context, srcs []data.Source, ro data.ReadOptions, set *rules.Set, log io.Writer) (blind []ui.RuleProblem, notice string) {
	if set == nil || len(set.Rules()) == 0 {
		return nil, ""
	}
	misses := cmdutil.StreamLabels(ctx, srcs, ro, cmdutil.RuleLabelNames(set)).RuleMisses(set)
	if len(misses) == 0 {
		return nil, ""
	}
	cmdutil.SayRuleMisses(log, misses)
	blind = make([]ui.RuleProblem, 0, len(misses))
	for _, m := range misses {
		blind = append(blind, ui.RuleProblem{Rule: m.Rule, Why: cmdutil.MissVerdict(m.Never, 1) + ": " + m.Why})
	}
	notice = fmt.Sprintf("warning: %s a selector that selects no stream of the sources (the Alerts pane names %s)",
		plural.Count(len(misses), "alert rule has", "alert rules have"), plural.Word(len(misses), "it", "them"))
	return blind, notice
}
