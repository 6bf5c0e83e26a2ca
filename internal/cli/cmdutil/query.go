package cmdutil

import (
	"errors"
	"fmt"
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
func ParseQuery(q string) (logql.Expr, error) {
	expr, err := logql.Parse(q)
	if err == nil {
		return expr, nil
	}
	if t := strings.TrimLeft(q, " \t\r\n"); t != "" && t[0] != '{' && !startsCall(t) {
		full, shift := data.ExpandShorthand(q)
		lq, serr := logql.ParseLog(full)
		if serr == nil {
			return lq, nil
		}
		how := fmt.Sprintf("(read as the TUI's filter line reads it: %s | ...; a query of your own starts with a stream selector such as {job=\"audit\"})", data.ShorthandSelector)
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
// an opening parenthesis (sum(, count_over_time (, topk().
func startsCall(t string) bool {
	i := 0
	for i < len(t) && (t[i] == '_' || t[i] >= 'a' && t[i] <= 'z' || t[i] >= 'A' && t[i] <= 'Z' || i > 0 && t[i] >= '0' && t[i] <= '9') {
		i++
	}
	if i == 0 {
		return false
	}
	return strings.HasPrefix(strings.TrimLeft(t[i:], " \t\r\n"), "(")
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

// FieldWarnings says what the TUI's filter bar says of a label filter on
// a name that is no field of an audit event (data.KnownField), a stream
// label, or bound by the query itself: when a field's name is close, it
// was misspelt (warnings: "unknown field objectRef_resorce, did you mean
// objectRef_resource?"); when it is what `| json` would call an array of
// the event (user_groups), no event has it either, and the warning names
// the JSON expression that reads the array (data.ArrayFieldHint); else
// events may still carry it (notes: "x is not a known field: only events
// that have it can match"). A misspelt
// field matches nothing, silently; Loki would answer the same, so the
// caller says it and runs the query.
func FieldWarnings(expr logql.Expr) (warnings, notes []string) {
	var lq *logql.LogQuery
	switch q := expr.(type) {
	case *logql.LogQuery:
		lq = q
	case *logql.MetricQuery:
		lq = q.LogQuery()
	}
	if lq == nil {
		return nil, nil
	}
	for _, name := range lq.UnboundLabels() {
		if data.KnownField(name) || streamLabels[name] {
			continue
		}
		if hint, ok := data.ArrayFieldHint(name); ok {
			warnings = append(warnings, hint)
			continue
		}
		if sugg, ok := data.ClosestField(name); ok {
			warnings = append(warnings, fmt.Sprintf("unknown field %s, did you mean %s? (no audit event has it: the filter compares an empty value)", name, sugg))
			continue
		}
		notes = append(notes, fmt.Sprintf("%s is not a known field: only events that have it can match", name))
	}
	return warnings, notes
}
