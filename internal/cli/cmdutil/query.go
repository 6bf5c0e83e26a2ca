package cmdutil

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/data/logql"
)

// ParseQuery parses a LogQL query; a parse error is a usage error that
// shows the query's line with a caret under the column.
//
// A query that is not LogQL as it stands and does not start with a
// stream selector or a function (sum(, rate(, ...) is read as the TUI's
// filter line reads it (data.ExpandShorthand): objectRef_resource="x" |
// verb="delete" is {job="audit"} | json | objectRef_resource="x" |
// verb="delete", so what the filter line shows can be pasted here. Its
// errors point into the text typed and say how it was read.
func ParseQuery(q string) (logql.Expr, error) { return ParseQueryFor(q, data.DefaultJob) }

// ParseQueryFor is ParseQuery for sources whose audit events carry job
// (--label job=...): the shorthand selects it
// (data.ShorthandSelectorFor).
func ParseQueryFor(q, job string) (logql.Expr, error) {
	expr, err := logql.Parse(q)
	if err == nil {
		return expr, nil
	}
	if t := strings.TrimLeft(q, " \t\r\n"); t != "" && t[0] != '{' && !startsCall(t) {
		sel := data.ShorthandSelectorFor(job)
		full, shift := data.ExpandShorthandWith(sel, q)
		lq, serr := logql.ParseLog(full)
		if serr == nil {
			return lq, nil
		}
		how := fmt.Sprintf("(read as the TUI's filter line reads it: %s | ...; a query of your own starts with a stream selector such as %s)", sel, strings.TrimSuffix(sel, " | json"))
		var pe *logql.ParseError
		if errors.As(serr, &pe) && pe.Line == 1 && pe.Col > shift {
			return nil, UsageErrorf("query: line 1, col %d: %s %s\n  %s\n  %s^", pe.Col-shift, pe.Msg, how, queryLine(q, 1), strings.Repeat(" ", pe.Col-shift-1))
		}
		return nil, UsageErrorf("query: %v %s", serr, how)
	}
	var pe *logql.ParseError
	if errors.As(err, &pe) {
		return nil, UsageErrorf("query: %v\n  %s\n  %s^", pe, queryLine(q, pe.Line), strings.Repeat(" ", max(0, pe.Col-1)))
	}
	return nil, UsageErrorf("query: %w", err)
}

// startsCall reports whether t starts as a metric query does: a name and
// an opening parenthesis (sum(, count_over_time (, topk(), or an
// aggregation's grouping before it (sum by (verb) (, sum without(x)().
func startsCall(t string) bool {
	name := func(t string) int {
		i := 0
		for i < len(t) && (t[i] == '_' || t[i] >= 'a' && t[i] <= 'z' || t[i] >= 'A' && t[i] <= 'Z' || i > 0 && t[i] >= '0' && t[i] <= '9') {
			i++
		}
		return i
	}
	i := name(t)
	if i == 0 {
		return false
	}
	rest := strings.TrimLeft(t[i:], " \t\r\n")
	if j := name(rest); j > 0 && (rest[:j] == "by" || rest[:j] == "without") {
		rest = strings.TrimLeft(rest[j:], " \t\r\n")
	}
	return strings.HasPrefix(rest, "(")
}

func queryLine(q string, line int) string {
	ls := strings.Split(q, "\n")
	if line >= 1 && line <= len(ls) {
		return ls[line-1]
	}
	return q
}

// streamLabels are the stream labels the file and S3 sources give every
// event (a label filter may read them as well as the fields).
var streamLabels = map[string]bool{"job": true, "filename": true, "cluster": true}

// FieldWarnings says what the TUI's filter bar says of a name the query
// reads (a label filter, a line_format or label_format template, a by or
// without clause: logql's UnboundLabels) that is no field of an audit
// event (data.KnownField), a stream label, or bound by the query itself:
// when it misspells a field's name (data.FieldTypo, also under a family:
// annotations_authorization_k8s_io_decisio), a warning ("unknown field
// objectRef_resorce, did you mean objectRef_resource?"); else, when no
// field has it, events may still carry it (notes: "x is not a known
// field: only events that have it can match"). A misspelt field matches,
// renders and groups as an empty value, silently; Loki would answer the
// same, so the caller says it and runs the query. A name `| json` would
// give an array of the event (user_groups) is never bound either: the
// warning names the JSON expression that reads it (data.ArrayFieldHint).
// labels are more stream labels the sources give (--label NAME=...).
func FieldWarnings(expr logql.Expr, labels ...string) (warnings, notes []string) {
	var names []string
	switch q := expr.(type) {
	case *logql.LogQuery:
		names = q.UnboundLabels()
	case *logql.MetricQuery:
		names = q.UnboundLabels()
	}
	for _, name := range names {
		if streamLabels[name] || slices.Contains(labels, name) {
			continue
		}
		if hint, ok := data.ArrayFieldHint(name); ok {
			warnings = append(warnings, hint)
			continue
		}
		if hint, ok := data.DerivedFieldHint(name); ok {
			warnings = append(warnings, hint)
			continue
		}
		if sugg, ok := data.FieldTypo(name); ok {
			warnings = append(warnings, fmt.Sprintf("unknown field %s, did you mean %s? (no audit event has it: the query reads an empty value)", name, sugg))
			continue
		}
		if data.KnownField(name) {
			continue
		}
		notes = append(notes, fmt.Sprintf("%s is not a known field: only events that have it can match", name))
	}
	return warnings, notes
}
