package cmdutil

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/data/logql"
	"github.com/audittui/audittui/internal/data/source/file"
	"github.com/audittui/audittui/internal/data/source/loki"
	s3src "github.com/audittui/audittui/internal/data/source/s3"
	"github.com/audittui/audittui/internal/plural"
	"github.com/audittui/audittui/internal/policy/rules"
	"github.com/audittui/audittui/internal/termsafe"
)

// A stream selector names the streams a query or rule reads; one that
// names a label or value no stream of the sources has ({job="kube-audit"}
// over files, which carry job="audit") matches nothing, silently, as in
// Loki. query, alerts, policy check and the TUI say so, with the labels
// the sources do carry and the flag that gives local files another.

// Streams is what a command knows of the stream labels of its sources
// (data.StreamLabeler), to judge selectors by.
type Streams struct {
	// Labels are the sources' stream labels; nil when a source cannot
	// say (no selector is judged then).
	Labels *data.StreamLabels
	// Local: some source is local files or S3 (--label relabels them);
	// LokiSelector: a Loki source read without a query of the command's
	// own reads the streams of this selector (--loki-selector).
	Local        bool
	LokiSelector string
}

// StreamLabels asks the sources which stream labels their streams carry,
// for a read with ro, and the values of the label names names (a Loki
// server is asked for those only: data.StreamLabeler). A source that
// cannot say, or fails to (a Loki server without the label API), leaves
// Labels nil.
func StreamLabels(ctx context.Context, srcs []data.Source, ro data.ReadOptions, names []string) Streams {
	var st Streams
	for _, s := range srcs {
		switch s := unwrapSource(s).(type) {
		case *file.Source, *s3src.Source:
			st.Local = true
		case *loki.Source:
			if ro.Query == nil {
				st.LokiSelector = loki.Selector(s.DefaultQuery())
			}
		}
	}
	if sl, ok := data.SourcesStreamLabels(ctx, srcs, ro, names); ok {
		st.Labels = sl
	}
	return st
}

// Miss reports whether sel selects no stream of the sources, in words
// that end with what would make them carry it: `{job="kube-audit"}
// selects no stream of the sources: their job is "audit"; --label
// job=kube-audit gives the files that label`. The text holds label
// values of the sources: untrusted.
func (st Streams) Miss(sel []*logql.Matcher) (string, bool) {
	if st.Labels == nil {
		return "", false
	}
	m, ok := st.Labels.Miss(sel)
	if !ok {
		return "", false
	}
	return m.String() + st.hint(m), true
}

// hint says how to give the sources the labels a missed selector asks
// for: --label NAME=VALUE for local files and objects (when each missed
// matcher asks for one value), and, for a Loki source read with
// --loki-selector, that only its streams are read. A label named as a
// field of the events (cluster, which EKS, GKE and AKS exports and
// shippers' records carry; verb) is filtered on after | json.
func (st Streams) hint(m *data.SelectorMiss) string {
	var hints []string
	for _, x := range m.Matchers {
		if len(st.Labels.Values(x.Name)) == 0 && data.KnownField(x.Name) {
			hints = append(hints, x.Name+" is a field of the events: | json | "+x.String()+" filters on it")
		}
	}
	if st.Local && !m.Typo {
		var flags []string
		for _, x := range m.Matchers {
			if x.Op != logql.MatchEqual || x.Value == "" || x.Name == "filename" {
				flags = nil
				break
			}
			flags = append(flags, "--label "+x.Name+"="+shellWord(x.Value))
		}
		switch len(flags) {
		case 0:
		case 1:
			hints = append(hints, flags[0]+" gives local files that label")
		default:
			hints = append(hints, strings.Join(flags, " ")+" gives local files those labels")
		}
	}
	if st.LokiSelector != "" {
		hints = append(hints, "Loki is read with --loki-selector "+st.LokiSelector)
	}
	if len(hints) == 0 {
		return ""
	}
	return "; " + strings.Join(hints, "; ")
}

// shellWord quotes v for a shell when it holds more than letters, digits
// and -_.:/@=+,.
func shellWord(v string) string {
	for _, c := range v {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("-_.:/@=+,", c)) {
			return "'" + strings.ReplaceAll(v, "'", `'\''`) + "'"
		}
	}
	return v
}

// RuleMiss is a rule with a stream selector that selects no stream of
// the sources: in its only log query, or in a leg of a binary operation
// between vectors.
type RuleMiss struct {
	Rule *rules.Rule
	Why  string // Streams.Miss of each leg that misses, each selector once
	// Never: the rule can never fire (logql.MetricQuery.NoResultWithout:
	// its only leg, a leg of a division or an and, ...); else only its
	// other legs can make it fire (a leg of an or).
	Never bool
}

// RuleMisses returns the rules of set with a stream selector that selects
// no stream of the sources, in file order: that of the rule's log query,
// or of any leg of a binary operation between vectors (each leg is judged,
// not the selector the legs share). A leg that answers on absence
// (absent_over_time) is not one: it answers all the more.
func (st Streams) RuleMisses(set *rules.Set) []RuleMiss {
	var out []RuleMiss
	for _, r := range set.Rules() {
		q := r.Query()
		if q == nil || q.LogQuery() == nil {
			continue
		}
		legs := q.LogQueries()
		none := make([]bool, len(legs))
		var whys []string
		for i, lq := range legs {
			w, ok := st.Miss(lq.Selector())
			if !ok {
				continue
			}
			none[i] = true
			if q.LegReturnsWithoutEntries(i) || slices.Contains(whys, w) {
				continue
			}
			whys = append(whys, w)
		}
		if len(whys) > 0 {
			out = append(out, RuleMiss{Rule: r, Why: strings.Join(whys, "; and "), Never: q.NoResultWithout(none)})
		}
	}
	return out
}

// RuleLabelNames returns the label names the selectors of the rules of
// set match, each once (for StreamLabels).
func RuleLabelNames(set *rules.Set) []string {
	var sels [][]*logql.Matcher
	for _, r := range set.Rules() {
		if q := r.Query(); q != nil && q.LogQuery() != nil {
			for _, lq := range q.LogQueries() {
				sels = append(sels, lq.Selector())
			}
		}
	}
	return data.SelectorNames(sels...)
}

// maxNamed is how many rules one warning names; the others are counted.
const maxNamed = 5

// SayRuleMisses writes one warning per rule file and explanation:
//
//	audittui: warning: team.yaml: 2 rules can never fire: ExecSeen (team.yaml:5), SecretRead (team.yaml:14): {job="kube-audit"} selects no stream of the sources: their job is "audit"; --label job=kube-audit gives local files that label
//
// naming at most five rules of a group and counting the rest. A rule that
// its other legs can still make fire (a leg of an or) "can fire only on
// its other legs".
func SayRuleMisses(w io.Writer, misses []RuleMiss) {
	type key struct {
		file, why string
		never     bool
	}
	groups := map[key][]*rules.Rule{}
	var order []key
	for _, m := range misses {
		k := key{m.Rule.File, m.Why, m.Never}
		if groups[k] == nil {
			order = append(order, k)
		}
		groups[k] = append(groups[k], m.Rule)
	}
	sort.SliceStable(order, func(i, j int) bool { return order[i].file < order[j].file })
	for _, k := range order {
		rs := groups[k]
		names := make([]string, 0, min(len(rs), maxNamed))
		for _, r := range rs[:min(len(rs), maxNamed)] {
			names = append(names, r.Alert+" ("+r.Where()+")")
		}
		list := strings.Join(names, ", ")
		if len(rs) > maxNamed {
			list += fmt.Sprintf(" and %d more", len(rs)-maxNamed)
		}
		what := "rule " + list + " " + MissVerdict(k.never, 1)
		if len(rs) > 1 {
			what = strconv.Itoa(len(rs)) + " rules " + MissVerdict(k.never, len(rs)) + ": " + list
		}
		fmt.Fprintf(w, "audittui: warning: %s: %s: %s\n", termsafe.String(k.file), termsafe.String(what), termsafe.String(k.why))
	}
}

// MissVerdict says what a selector that selects no stream does to n
// rules: they "can never fire", or, when other legs can still make them
// fire, they "can fire only on their other legs".
func MissVerdict(never bool, n int) string {
	switch {
	case never:
		return "can never fire"
	case n == 1:
		return "can fire only on its other legs"
	}
	return "can fire only on their other legs"
}

// ErrRulesSelectNothing is the error of `alerts --fail-on` when a rule
// selects no stream of the sources: the gate cannot pass on a rule that
// watches nothing.
var ErrRulesSelectNothing = errors.New("select no stream of the sources")

// RuleMissError is the exit error `alerts --fail-on` returns when rules
// select no stream (exit status 1, as for input it could not check).
func RuleMissError(misses []RuleMiss) error {
	return &ExitError{Code: ExitInputError, Err: ruleMissErr(len(misses))}
}

// ruleMissErr is ErrRulesSelectNothing said of n rules.
type ruleMissErr int

func (n ruleMissErr) Error() string {
	return plural.Count(int(n), "rule selects", "rules select") + " no stream of the sources (--fail-on does not pass on a rule that watches nothing: fix its selector or give the sources its labels with --label)"
}

func (ruleMissErr) Unwrap() error { return ErrRulesSelectNothing }

// unwrapSource returns the source a command's wrappers (warnings, window
// watch) wrap.
// FollowedFilesOnly reports whether every source is a local file, glob or
// directory (not stdin): followed, each says when it has read what it held
// (data.Batch.CaughtUp), so the rules can count that history in any order
// (rules.Options.Backlog).
func FollowedFilesOnly(srcs []data.Source) bool {
	for _, s := range srcs {
		f, ok := unwrapSource(s).(*file.Source)
		if !ok || f.String() == "-" {
			return false
		}
	}
	return len(srcs) > 0
}

func unwrapSource(s data.Source) data.Source {
	for {
		u, ok := s.(interface{ Unwrap() data.Source })
		if !ok {
			return s
		}
		s = u.Unwrap()
	}
}

// errNoLabels: the wrapped source cannot tell its stream labels.
var errNoLabels = errors.New("the source does not tell its stream labels")

// streamLabelsOf forwards data.StreamLabeler through a wrapper.
func streamLabelsOf(ctx context.Context, s data.Source, opts data.ReadOptions, names []string) (*data.StreamLabels, error) {
	if l, ok := s.(data.StreamLabeler); ok {
		return l.StreamLabels(ctx, opts, names)
	}
	return nil, errNoLabels
}
