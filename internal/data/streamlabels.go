package data

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/audittui/audittui/internal/data/logql"
)

// A stream selector ({job="audit"}) is matched against the labels of the
// stream an event came from, not against the event: a rule or query
// whose selector names a label or value no stream of the sources carries
// ({job="kube-audit"}, {app="kube-apiserver"} over files labelled
// job="audit") matches nothing, silently, as it would in Loki. Sources
// that know their streams' labels before they are read say so
// (StreamLabeler), and commands say when a selector can select none of
// them (StreamLabels.Miss).

// DefaultJob is the job label of the audit events of file and S3 sources
// (`--label job=...` changes it), and the job the built-in rules and the
// filter shorthand select.
const DefaultJob = "audit"

// StreamLabeler is a source that can tell, before it is read, the stream
// labels of what a read with opts would yield: files and S3 objects from
// their flags, Loki from its label API.
type StreamLabeler interface {
	// StreamLabels returns the labels of the streams a read with opts
	// covers. names are the label names the caller will match (a source
	// that has to ask a server may fetch the values of only those; nil:
	// every name).
	StreamLabels(ctx context.Context, opts ReadOptions, names []string) (*StreamLabels, error)
}

// StreamLabels describes the stream labels of some sources' streams, by
// label name: the values streams carry, whether some stream lacks the
// label, or that any value may occur (open: an S3 object's filename is
// known only once its prefix is listed). The zero value holds no stream.
//
// A selector is judged name by name (Miss): it selects no stream when one
// of its matchers matches no value of its label. That is exact when at
// most one label varies from stream to stream (files: filename) and errs
// towards silence otherwise (a Loki server's streams): a selector whose
// matchers each match some stream but no stream all of them is not
// reported.
type StreamLabels struct {
	streams int
	order   []string
	byName  map[string]*labelValues
}

type labelValues struct {
	values map[string]bool
	// carried counts the streams (AddStream) that have the label: when
	// fewer than the streams (always, for values that came without their
	// streams: AddValues), some stream lacks it.
	carried int
	open    bool
}

func (s *StreamLabels) name(n string) *labelValues {
	if s.byName == nil {
		s.byName = map[string]*labelValues{}
	}
	lv := s.byName[n]
	if lv == nil {
		lv = &labelValues{values: map[string]bool{}}
		s.byName[n] = lv
		s.order = append(s.order, n)
	}
	return lv
}

// AddStream adds one stream with these labels (an empty value is no
// label, as in Loki).
func (s *StreamLabels) AddStream(ls Labels) {
	s.streams++
	for _, l := range ls {
		if l.Value == "" {
			continue
		}
		lv := s.name(l.Name)
		lv.values[l.Value] = true
		lv.carried++
	}
}

// AddValues adds the values of label name that some streams carry,
// without saying which (a Loki server's /label/NAME/values): some stream
// may lack the label. It counts as a stream when there are none yet.
func (s *StreamLabels) AddValues(name string, values []string) {
	s.streams = max(s.streams, 1)
	lv := s.name(name)
	for _, v := range values {
		if v != "" {
			lv.values[v] = true
		}
	}
}

// AddOpen says that streams carry label name with values not known
// before the read (any value may occur).
func (s *StreamLabels) AddOpen(name string) {
	s.streams = max(s.streams, 1)
	s.name(name).open = true
}

// Merge adds o's streams.
func (s *StreamLabels) Merge(o *StreamLabels) {
	if o == nil {
		return
	}
	s.streams += o.streams
	for _, n := range o.order {
		ov := o.byName[n]
		lv := s.name(n)
		for v := range ov.values {
			lv.values[v] = true
		}
		lv.carried += ov.carried
		lv.open = lv.open || ov.open
	}
}

// Streams is how many streams were added (0: nothing to judge a selector
// by).
func (s *StreamLabels) Streams() int {
	if s == nil {
		return 0
	}
	return s.streams
}

// Names returns the label names, in the order they were first added.
func (s *StreamLabels) Names() []string { return append([]string(nil), s.order...) }

// Values returns the values streams carry for name, sorted.
func (s *StreamLabels) Values(name string) []string {
	lv := s.byName[name]
	if lv == nil {
		return nil
	}
	out := make([]string, 0, len(lv.values))
	for v := range lv.values {
		out = append(out, v)
	}
	sort.Strings(out)
	return out
}

// canMatch reports whether some stream's value of m's label (or its lack)
// may satisfy m.
func (s *StreamLabels) canMatch(m *logql.Matcher) bool {
	lv := s.byName[m.Name]
	if lv == nil {
		return m.Matches("") // no stream has the label: matched as empty
	}
	if lv.open {
		return true
	}
	if lv.carried < s.streams && m.Matches("") {
		return true
	}
	for v := range lv.values {
		if m.Matches(v) {
			return true
		}
	}
	return false
}

// SelectorMiss says why a stream selector selects no stream of some
// sources.
type SelectorMiss struct {
	// Selector is the selector as LogQL writes it: {job="kube-audit"}.
	Selector string
	// Matchers are the selector's matchers that no stream satisfies.
	Matchers []*logql.Matcher
	// Why explains each of them with the labels the streams do carry,
	// and the name or value meant when one is close ("did you mean").
	Why string
	// Typo is set when Why names such a close name or value.
	Typo bool
}

// String reads `{job="kube-audit"} selects no stream of the sources: their
// job is "audit"`. It holds label values of the sources: untrusted text.
func (m *SelectorMiss) String() string {
	return m.Selector + " selects no stream of the sources: " + m.Why
}

// Miss reports whether the selector sel can select no stream s describes,
// and why. A selector is never a miss when s holds no stream.
func (s *StreamLabels) Miss(sel []*logql.Matcher) (*SelectorMiss, bool) {
	if s.Streams() == 0 || len(sel) == 0 {
		return nil, false
	}
	var failed []*logql.Matcher
	for _, m := range sel {
		if !s.canMatch(m) {
			failed = append(failed, m)
		}
	}
	if len(failed) == 0 {
		return nil, false
	}
	parts := make([]string, 0, len(failed))
	absent, typo := false, false
	for _, m := range failed {
		p, none, close := s.why(m)
		parts = append(parts, p)
		absent = absent || none
		typo = typo || close
	}
	why := strings.Join(parts, "; ")
	if absent {
		why += " (their labels: " + s.Summary() + ")"
	}
	return &SelectorMiss{Selector: SelectorString(sel), Matchers: failed, Why: why, Typo: typo}, true
}

// why explains one matcher that no stream satisfies; none is set when no
// stream has its label at all, typo when the text names a close name or
// value.
func (s *StreamLabels) why(m *logql.Matcher) (text string, none, typo bool) {
	lv := s.byName[m.Name]
	if lv == nil || len(lv.values) == 0 && !lv.open {
		text = "none has the label " + m.Name
		if n, ok := s.closestName(m.Name); ok {
			text += " (did you mean " + n + "?)"
			typo = true
		}
		return text, true, typo
	}
	vals := s.Values(m.Name)
	text = "their " + m.Name + " is " + valueList(vals)
	if m.Op == logql.MatchEqual {
		if v, ok := closestValue(m.Value, vals); ok {
			text += " (did you mean " + m.Name + "=" + strconv.Quote(v) + "?)"
			typo = true
		}
	}
	return text, false, typo
}

// closestName is the label name streams carry that name misspells, by
// the rule field names follow (ClosestField): the same letters in another
// case, or at most one edit per four characters (at most three).
func (s *StreamLabels) closestName(name string) (string, bool) {
	return closest(name, s.order)
}

func closestValue(v string, vals []string) (string, bool) { return closest(v, vals) }

func closest(x string, cands []string) (string, bool) {
	best, bestD := "", 1<<30
	limit := max(1, min(3, len(x)/4))
	for _, c := range cands {
		if strings.EqualFold(c, x) {
			return c, true
		}
		if d := EditDistance(x, c); d <= limit && d < bestD {
			best, bestD = c, d
		}
	}
	return best, best != ""
}

// valueList is "audit", "a" or "b", "a", "b" or "c", or one of N values
// ("a", "b", "c", ...).
func valueList(vals []string) string {
	q := make([]string, 0, min(len(vals), 3))
	for _, v := range vals[:min(len(vals), 3)] {
		q = append(q, strconv.Quote(v))
	}
	switch {
	case len(vals) == 1:
		return q[0]
	case len(vals) <= 3:
		return strings.Join(q[:len(q)-1], ", ") + " or " + q[len(q)-1]
	}
	return fmt.Sprintf("one of %d values (%s, ...)", len(vals), strings.Join(q, ", "))
}

// Summary lists the labels: job="audit", filename (3 values), cluster="prod",
// and for a label whose values are not known before the read, its name
// alone.
func (s *StreamLabels) Summary() string {
	if s == nil || len(s.order) == 0 {
		return "none"
	}
	parts := make([]string, 0, len(s.order))
	for _, n := range s.order {
		lv := s.byName[n]
		switch {
		case lv.open || len(lv.values) == 0:
			parts = append(parts, n)
		case len(lv.values) == 1:
			parts = append(parts, n+"="+strconv.Quote(s.Values(n)[0]))
		default:
			parts = append(parts, fmt.Sprintf("%s (%d values)", n, len(lv.values)))
		}
	}
	return strings.Join(parts, ", ")
}

// SelectorString writes matchers as a LogQL stream selector.
func SelectorString(sel []*logql.Matcher) string {
	var b strings.Builder
	b.WriteByte('{')
	for i, m := range sel {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(m.String())
	}
	b.WriteByte('}')
	return b.String()
}

// SelectorNames returns the label names the selectors match, each once.
func SelectorNames(sels ...[]*logql.Matcher) []string {
	var out []string
	seen := map[string]bool{}
	for _, sel := range sels {
		for _, m := range sel {
			if !seen[m.Name] {
				seen[m.Name] = true
				out = append(out, m.Name)
			}
		}
	}
	return out
}

// SourcesStreamLabels asks each source for its streams' labels (see
// StreamLabeler) and merges them. ok is false when one source cannot say
// (its streams may carry anything), or says it failed: no selector can
// then be judged.
func SourcesStreamLabels(ctx context.Context, srcs []Source, opts ReadOptions, names []string) (*StreamLabels, bool) {
	all := &StreamLabels{}
	for _, src := range srcs {
		l, ok := src.(StreamLabeler)
		if !ok {
			return nil, false
		}
		sl, err := l.StreamLabels(ctx, opts, names)
		if err != nil || sl == nil {
			return nil, false
		}
		all.Merge(sl)
	}
	return all, all.Streams() > 0
}

// ValidLabelName reports whether s is a Prometheus (and Loki) label name:
// [a-zA-Z_][a-zA-Z0-9_]*.
func ValidLabelName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9' {
			continue
		}
		return false
	}
	return true
}
